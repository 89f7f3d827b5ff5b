"""Who-is-who pipeline (issue 13): language of the CLI answer, no knowledge from the future."""

from __future__ import annotations

import io
import json

import pytest

from bot.cli import main
from digests.story import default_story
from digests.whois import WhoIndex, index_for, question_language


@pytest.fixture(scope="module")
def index() -> WhoIndex:
    return index_for(default_story())


@pytest.mark.parametrize(
    ("question", "lang"),
    [
        ("Qui a licencié Sam Altman ?", "fr"),
        ("qui est nadella", "fr"),
        ("Parle-moi de Mira Murati", "fr"),
        ("Greg Brockman a-t-il démissionné ?", "fr"),
        ("who is nadella", "en"),
        ("Tell me about Mira Murati", "en"),
        ("Who resigned on November 18?", "en"),
        ("Sam Altman", None),
        ("", None),
    ],
)
def test_question_language(question: str, lang: str | None) -> None:
    assert question_language(question) == lang


def test_cli_answers_in_the_language_of_each_question_without_lang(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        "sys.stdin", io.StringIO("Qui a licencié Sam Altman ?\nWho fired Sam Altman?\nSam Altman\n")
    )
    assert main(["who", "--json"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["lang"] for r in rows] == ["fr", "en", "en"]
    assert rows[0]["text"].startswith("conseil d'administration d'OpenAI")
    assert main(["who", "Qui est Mira Murati ?"]) == 0
    assert "Fonctions" in capsys.readouterr().out
    assert main(["who", "Qui est Mira Murati ?", "--lang", "en"]) == 0  # --lang wins
    assert "Roles" in capsys.readouterr().out


def test_an_answer_as_of_a_date_knows_nothing_later(index: WhoIndex) -> None:
    before = index.answer("Who was Sam Altman on 16 November 2023?", "en")
    assert before.found and before.matches[0].id == "sam-altman"
    assert "Microsoft" not in before.text and "fired" not in before.text.lower()
    assert "CEO of OpenAI" in before.text
    fr = index.answer("Qui était le PDG d'OpenAI le 16 novembre 2023 ?", "fr")
    assert fr.matches[0].id == "sam-altman" and "Microsoft" not in fr.text
    # Without a date the whole story is known.
    assert "Microsoft" in index.answer("Who is Sam Altman?", "en").text
    # A post nobody held yet, or a nomination not yet announced, is not news from the future.
    assert not index.answer("Who was the interim CEO of OpenAI on November 16?", "en").found
    planned = index.answer("Qui dirigeait la division IA de Microsoft le 18 novembre ?", "fr")
    assert not planned.found and "Altman" not in planned.text
    # A channel reliving the story (a platform passes its story day as `today`) is blind too.
    relived = index.answer("Who is Greg Brockman?", "en", today=default_story().first_day)
    assert "resign" not in relived.text.lower()
