"""The checkable rules of docs/style.md, on every post a subscriber can receive.

Each rule is a function returning the offending excerpts of one rendered text; the tests run them
over every daily digest (and its "more" part) and every story-so-far of the shipped story, in
both languages, and check on small counter-examples that each rule does catch what it forbids.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterator

import pytest

from bot.discord.embeds import DESCRIPTION_MAX, render_document
from bot.slack.blocks import render_document as slack_render
from digests.compose import MAX_ITEMS, compose_digest, compose_story_so_far
from digests.documents import Document
from digests.render import render_text
from digests.story import LANGS, default_story

STORY = default_story()

Rule = Callable[[str], list[str]]


def _around(text: str, start: int, end: int) -> str:
    return text[max(0, start - 25) : end + 25].replace("\n", " ")


def _find(pattern: str, flags: int = 0) -> Rule:
    compiled = re.compile(pattern, flags)

    def rule(text: str) -> list[str]:
        return [_around(text, m.start(), m.end()) for m in compiled.finditer(text)]

    return rule


# --------------------------------------------------------------------------- both languages

no_straight_quotes = _find(r"['\"]")  # apostrophe ’, quotation marks per language
no_truncation = _find(r"…|\.\.\.")
no_editor_memo = _find(
    r"non daté dans l|not dated in the article|le récit (conserve|reprend)|the story keeps"
    r"|formulation de l.article|article.s wording",
    re.IGNORECASE,
)


def one_note_heading(text: str) -> list[str]:
    found = re.findall(r"^Notes?\u00a0?:", text, re.MULTILINE)
    return found if len(found) > 1 else []


def no_repeated_lines(text: str) -> list[str]:
    lines = [line for line in text.split("\n") if len(line) > 30]
    return sorted({line for line in lines if lines.count(line) > 1})


# --------------------------------------------------------------------------- French

fr_no_english_quotes = _find(r"[“”‘]")
fr_guillemets_spaced = _find(r"«(?!\u00a0)|(?<!\u00a0)»")
fr_one_approximate_form = _find(
    r"depuis environ|environ le \d|aux alentours|autour du \d|\bvers\s+le\s+\d+\s+\w+\s+environ"
)
fr_date_order = _find(
    r"\b(janvier|février|mars|avril|mai|juin|juillet|août|septembre|octobre|novembre|décembre)"
    r" \d{1,2}\b"
)


def balanced(opening: str, closing: str) -> Rule:
    def rule(text: str) -> list[str]:
        depth, bad = 0, []
        for index, char in enumerate(text):
            if char == opening:
                depth += 1
            elif char == closing:
                depth -= 1
                if depth < 0:
                    bad.append(_around(text, index, index))
                    depth = 0
            elif char == "\n" and depth:
                bad.append(_around(text, index, index))
                depth = 0
        if depth:
            bad.append(_around(text, len(text), len(text)))
        return bad

    return rule


# --------------------------------------------------------------------------- English

UK_SPELLINGS = (
    r"\w*(centre|theatre|metre)s?\b|\w*(colour|favour|honour|labour|rumour|behaviour|humour)\w*"
    r"|\w*(realis|recognis|organis|apologis|criticis|prioritis|summaris|characteris|authoris"
    r"|capitalis|stabilis|mobilis|emphasis)(e|ed|es|ing|ation)\b|\banalys(e|ed|es|ing)\b"
    r"|\w*travell\w*|\w*cancell\w*|\bprogramme\b|\bdefence\b|\boffence\b"
)
en_us_spelling = _find(rf"\b(?:{UK_SPELLINGS})", re.IGNORECASE)
en_no_french_quotes = _find(r"[«»]|‘")
en_month_form = _find(
    r"\b(Jan|Feb|Aug|Sep|Sept|Oct|Nov|Dec)(?!\.)\b\s*\d"  # abbreviated months take a period
    r"|\b\d{1,2} (January|February|March|April|May|June|July|August|September|October"
    r"|November|December)\b"  # month before day
)
en_one_approximate_form = _find(r"\b(about|circa|approximately|roughly|c\.) (Nov|Dec|\d)")

RULES: dict[str, list[tuple[str, Rule]]] = {
    "both": [
        ("straight quote or apostrophe", no_straight_quotes),
        ("truncation mark", no_truncation),
        ("memo to an editor", no_editor_memo),
        ("more than one notes heading", one_note_heading),
        ("repeated line", no_repeated_lines),
    ],
    "fr": [
        ("English quotation marks in French", fr_no_english_quotes),
        ("guillemets without non-breaking space", fr_guillemets_spaced),
        ("unbalanced guillemets", balanced("«", "»")),
        ("approximate date not in the house form", fr_one_approximate_form),
        ("month before day", fr_date_order),
    ],
    "en": [
        ("UK spelling", en_us_spelling),
        ("French or single quotation marks in English", en_no_french_quotes),
        ("unbalanced quotation marks", balanced("“", "”")),
        ("date form", en_month_form),
        ("approximate date not in the house form", en_one_approximate_form),
    ],
}


def problems(text: str, lang: str) -> list[str]:
    return [
        f"{name}: …{excerpt}…"
        for name, rule in RULES["both"] + RULES[lang]
        for excerpt in rule(text)
    ]


def documents() -> Iterator[tuple[str, Document]]:
    for day in STORY.days:
        for lang in LANGS:
            digest = compose_digest(STORY, day, lang)
            assert digest is not None
            yield f"digest {day} {lang}", digest
            assert digest.more is not None
            yield f"digest {day} {lang} (more)", digest.more
            yield f"so far {day} {lang}", compose_story_so_far(STORY, day, lang)


POSTS = list(documents())


@pytest.mark.parametrize(("name", "document"), POSTS, ids=[name for name, _ in POSTS])
def test_every_post_follows_the_style_guide(name: str, document: Document) -> None:
    found = problems(render_text(document), document.lang)
    assert not found, f"{name}:\n" + "\n".join(found)


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("day", STORY.days, ids=str)
def test_a_daily_post_fits_one_message_on_each_platform(day: dt.date, lang: str) -> None:
    digest = compose_digest(STORY, day, lang)  # type: ignore[arg-type]
    assert digest is not None
    news = sum(len(section.items) for section in digest.sections[:3])
    assert news <= 1 + MAX_ITEMS
    [message] = render_document(digest)  # one Discord message...
    assert len(message) == 1  # ...of one embed
    assert len(message[0].description or "") <= DESCRIPTION_MAX
    assert len(slack_render(digest)) == 1  # one Slack message, no "continued" part


def test_no_approximate_date_is_repeated_within_an_item() -> None:
    for lang, marker in (("fr", "vers le"), ("en", "around")):
        for day in STORY.days:
            digest = compose_digest(STORY, day, lang)  # type: ignore[arg-type]
            assert digest is not None
            for _, item in digest.iter_items():
                assert item.plain.count(marker) <= 1, item.plain


@pytest.mark.parametrize(
    ("lang", "text", "rule"),
    [
        ("fr", "L'entreprise", "straight quote or apostrophe"),
        ("en", 'He said "no"', "straight quote or apostrophe"),
        ("fr", "17 nov. : OpenAI licencie…", "truncation mark"),
        ("en", "(around Nov. 20 — not dated in the article)", "memo to an editor"),
        ("fr", "Le récit conserve la formulation de l’article.", "memo to an editor"),
        ("fr", "Note\u00a0: a\nNote\u00a0: b", "more than one notes heading"),
        ("fr", "il dit “bonjour”", "English quotation marks in French"),
        ("fr", "il dit « bonjour »", "guillemets without non-breaking space"),
        ("fr", "il dit «\u00a0bonjour", "unbalanced guillemets"),
        ("fr", "PDG depuis environ le 20 novembre", "approximate date not in the house form"),
        ("fr", "le novembre 17", "month before day"),
        ("en", "Speculation centres on Murati", "UK spelling"),
        ("en", "According to rumours", "UK spelling"),
        ("en", "He realised it", "UK spelling"),
        ("en", "The board organised talks", "UK spelling"),
        ("en", "he said « no »", "French or single quotation marks in English"),
        ("en", "he said “no", "unbalanced quotation marks"),
        ("en", "on Nov 17", "date form"),
        ("en", "on 17 November", "date form"),
        ("en", "about Nov. 20", "approximate date not in the house form"),
    ],
)
def test_each_rule_catches_what_it_forbids(lang: str, text: str, rule: str) -> None:
    assert any(problem.startswith(rule + ":") for problem in problems(text, lang)), rule


@pytest.mark.parametrize(
    ("lang", "text"),
    [
        ("fr", "Le conseil d’administration dit avoir perdu confiance «\u00a0dans Sam\u00a0»."),
        (
            "fr",
            "PDG par intérim depuis le 20 nov. environ ; jusque vers le 20 nov. (vers le 20 nov.)",
        ),
        ("en", "The board said it had lost “confidence.” Around Nov. 20, it emerged (May 5)."),
        ("en", "Microsoft advised the organizer; he rose, was wise and precise; an analysis."),
    ],
)
def test_the_house_forms_pass(lang: str, text: str) -> None:
    assert problems(text, lang) == []
