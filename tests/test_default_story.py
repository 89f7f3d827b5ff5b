"""The shipped default story (the OpenAI crisis of November 2023) says what the article says."""

from __future__ import annotations

import datetime as dt
import os
import re
import unicodedata
from pathlib import Path

import pytest
from pydantic import BaseModel

from digests.story import (
    DEFAULT_STORY_SLUG,
    Person,
    Story,
    Text,
    default_story,
    default_story_path,
    load_story,
)
from tests.conftest import SOURCE_ARTICLE_VARIABLE

TESTS = Path(__file__).parent
ARTICLE = TESTS / "data" / "article-fr.txt"


def day(n: int) -> dt.date:
    return dt.date(2023, 11, n)


_QUOTE_CHARS = str.maketrans({"’": "'", "‘": "'", "“": '"', "”": '"', "«": '"', "»": '"'})


def normalise(text: str) -> str:
    text = unicodedata.normalize("NFC", text).translate(_QUOTE_CHARS)
    return re.sub(r"\s+", " ", text).strip()


@pytest.fixture(scope="module")
def story() -> Story:
    # Loading validates the schema and every cross-reference (people, organisations, sources).
    return load_story(default_story_path())


@pytest.fixture(scope="module")
def article() -> str:
    assert ARTICLE.is_file(), f"the source article copy is missing: {ARTICLE}"
    return normalise(ARTICLE.read_text(encoding="utf-8"))


def person(story: Story, person_id: str) -> Person:
    return story.person_by_id[person_id]


def role_keys_on(
    story: Story, person_id: str, organisation: str, when: dt.date
) -> set[tuple[str, bool]]:
    return {
        (role.key, role.interim)
        for role in person(story, person_id).roles_on(when)
        if role.organisation == organisation
    }


def ceos_of(story: Story, organisation: str, when: dt.date) -> set[str]:
    return {
        p.id
        for p in story.people
        for role in p.roles_on(when)
        if role.key == "ceo" and role.organisation == organisation
    }


def event(story: Story, event_id: str):
    matches = [e for e in story.events if e.id == event_id]
    assert len(matches) == 1, event_id
    return matches[0]


def test_default_story_is_the_shipped_file(story: Story) -> None:
    assert story.slug == DEFAULT_STORY_SLUG == "openai-crisis-2023"
    assert default_story().slug == story.slug
    assert story.meta.source_language == "fr"
    assert [s.id for s in story.meta.sources] == ["article"]


@pytest.mark.source_article
def test_article_copy_matches_the_source_article() -> None:
    """tests/data holds a copy of the article; the original's location is an explicit input.

    `.ci/run` passes it in DEPECHE_SOURCE_ARTICLE; without it this test is deselected and the
    test summary says so once (see tests/conftest.py).
    """
    source = Path(os.environ[SOURCE_ARTICLE_VARIABLE])
    assert source.is_file(), f"{SOURCE_ARTICLE_VARIABLE}={source}: no such file"
    assert ARTICLE.read_bytes() == source.read_bytes()


def test_at_least_four_story_days(story: Story) -> None:
    assert len(story.days) >= 4
    assert set(story.days) >= {day(17), day(18), day(19), day(20)}
    assert story.first_day == day(17)


def test_firing_on_friday_17_november_by_the_board(story: Story) -> None:
    fired = event(story, "altman-fired")
    assert fired.date.is_exact and fired.date.first == day(17)
    assert day(17).weekday() == 4  # Friday, as the article says
    facts = [f for f in fired.facts if f.predicate == "fired"]
    assert [(f.subject, f.by, f.role) for f in facts] == [("sam-altman", "openai-board", "ceo")]


def test_altman_is_ceo_until_the_firing(story: Story) -> None:
    assert ceos_of(story, "openai", day(16)) == {"sam-altman"}
    assert ("ceo", False) not in role_keys_on(story, "sam-altman", "openai", day(18))
    assert "sam-altman" not in ceos_of(story, "openai", day(18))


def test_murati_is_interim_ceo_after_the_firing(story: Story) -> None:
    assert ("ceo", True) in role_keys_on(story, "mira-murati", "openai", day(18))
    assert ceos_of(story, "openai", day(18)) == {"mira-murati"}
    # Her title is the article's, with a note saying so.
    coo = next(r for r in person(story, "mira-murati").roles if r.key == "coo")
    assert "Chief Operating Officer" in coo.title.fr
    assert coo.note is not None and "Chief Operating Officer" in coo.note.fr


def test_shear_takes_over_in_an_approximate_window(story: Story) -> None:
    appointed = event(story, "shear-interim")
    assert appointed.date.precision == "approximate"
    assert appointed.date.label is not None
    assert appointed.date.first == day(20)
    assert any(
        f.predicate == "appointed" and f.subject == "emmett-shear" and f.role == "ceo"
        for f in appointed.facts
    )
    shear_role = next(r for r in person(story, "emmett-shear").roles if r.organisation == "openai")
    assert (
        shear_role.interim
        and shear_role.since is not None
        and shear_role.since.precision == "approximate"
    )
    assert ceos_of(story, "openai", day(21)) == {"emmett-shear"}


def test_brockman_resigns_the_next_day(story: Story) -> None:
    resignations = [
        e
        for e in story.events
        if any(f.predicate == "resigned" and f.subject == "greg-brockman" for f in e.facts)
    ]
    assert len(resignations) == 1
    assert resignations[0].date.is_exact and resignations[0].date.first == day(18)
    assert role_keys_on(story, "greg-brockman", "openai", day(17)) == {("president", False)}
    assert role_keys_on(story, "greg-brockman", "openai", day(18)) == set()


def test_weekend_of_talks_and_sutskever_post(story: Story) -> None:
    talks = event(story, "board-seeks-altman-return")
    assert talks.date.precision == "weekend"
    assert (talks.date.first, talks.date.last) == (day(18), day(19))
    tweet = event(story, "sutskever-disappointed")
    assert tweet.date.is_exact and tweet.date.first == day(19)
    assert tweet.note is not None


def test_altman_will_lead_microsofts_ai_division(story: Story) -> None:
    move = event(story, "altman-to-microsoft")
    assert move.date.precision == "approximate"
    assert any(
        (f.predicate, f.subject, f.object, f.role)
        == ("will_lead", "sam-altman", "microsoft", "head-of-ai-division")
        for f in move.facts
    )
    role = next(r for r in person(story, "sam-altman").roles if r.key == "head-of-ai-division")
    assert role.planned and role.organisation == "microsoft"


def test_sutskever_was_recruited_by_altman(story: Story) -> None:
    sutskever = person(story, "ilya-sutskever")
    assert ("recruited_by", "sam-altman") in {(r.type, r.person) for r in sutskever.relations}
    assert {r.key for r in sutskever.roles} >= {"chief-scientist", "board-member"}


def test_faq_has_the_articles_five_entries(story: Story, article: str) -> None:
    assert len(story.faq) == 5
    for entry in story.faq:
        assert normalise(entry.question.fr) in article
        assert normalise(entry.answer.fr) in article


def test_two_scenarios(story: Story) -> None:
    assert {s.id for s in story.scenarios} == {"scenario-reinstatement", "scenario-collapse"}


def test_context_has_the_90_billion_valuation(story: Story) -> None:
    amounts = {c.id: c.amount_usd for c in story.context if c.amount_usd is not None}
    assert amounts == {"valuation-90-billion": 90_000_000_000}


def test_every_event_quote_comes_from_the_article(story: Story, article: str) -> None:
    missing = [
        (e.id, q) for e in story.events for q in e.source_sentences if normalise(q) not in article
    ]
    assert not missing, f"event quotes not found in the article: {missing}"
    missing = [
        (c.id, q) for c in story.context for q in c.source_sentences if normalise(q) not in article
    ]
    assert not missing, f"context quotes not found in the article: {missing}"
    assert sum(len(e.more_quotes) for e in story.events) >= 10  # items carry several sentences
    missing = [q.id for q in story.quotes if q.original and normalise(q.original) not in article]
    assert not missing, f"quote originals not found in the article: {missing}"


def test_events_have_sources_and_one_line_headlines(story: Story) -> None:
    for e in story.events:
        assert e.source == "article", e.id
        for lang in ("fr", "en"):
            assert "\n" not in e.headline(lang) and len(e.headline(lang)) <= 90, e.id


def _texts(value: object):
    if isinstance(value, Text):
        yield value
    elif isinstance(value, tuple | list):
        for item in value:
            yield from _texts(item)
    elif isinstance(value, BaseModel):
        for name in type(value).model_fields:
            yield from _texts(getattr(value, name))


def test_every_text_is_bilingual(story: Story) -> None:
    sections = (
        story.meta,
        story.people,
        story.organisations,
        story.events,
        story.quotes,
        story.faq,
        story.scenarios,
        story.context,
    )
    texts = list(_texts(sections))
    assert len(texts) > 100
    for text in texts:
        assert text.fr.strip() and text.en.strip()
        assert text.fr != text.en or len(text.fr) < 20, text.fr  # translated, not copied


def test_no_note_brings_facts_from_outside_the_article() -> None:
    """Every fact comes from the article: a note may say how the article puts something, never
    what "other reports" say (the shipped story once carried four such notes)."""
    text = default_story_path().read_text(encoding="utf-8").casefold()
    outside = (
        "other reports",
        "other accounts",
        "comptes rendus",
        "selon d’autres",
        "selon d'autres",
    )
    assert [phrase for phrase in outside if phrase in text] == []
