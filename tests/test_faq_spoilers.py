"""The FAQ is written from the story's end: before the last day it says when it will be shown
instead of giving the ending away (replays and chat commands pass the channel's story day)."""

from __future__ import annotations

from digests.compose import compose_faq
from digests.render import render_text
from digests.story import default_story

STORY = default_story()


def test_the_whole_faq_from_the_last_day_on() -> None:
    whole = render_text(compose_faq(STORY, "en"))
    assert render_text(compose_faq(STORY, "en", as_of=STORY.last_day)) == whole
    assert all(entry.question("en") in whole for entry in STORY.faq)


def test_before_the_last_day_no_answer_is_shown_in_either_language() -> None:
    for lang, wait in (
        ("en", "shown once the story reaches its last day, November 20, 2023"),
        ("fr", "une fois l’histoire arrivée à son dernier jour, le 20 novembre 2023"),
    ):
        text = render_text(compose_faq(STORY, lang, as_of=STORY.first_day))
        assert wait in text
        assert not any(entry.answer(lang) in text for entry in STORY.faq)
        assert not any(entry.question(lang) in text for entry in STORY.faq)
