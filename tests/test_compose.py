"""The digest engine on the default story: what a reader gets on each day."""

from __future__ import annotations

import datetime as dt
import doctest

import pytest

import digests.compose
import digests.formatting
from digests.compose import compose_digest, compose_story_so_far
from digests.formatting import format_day, format_number, format_story_date, format_usd
from digests.render import render_markdown, render_text
from digests.story import StoryDate, default_story

STORY = default_story()
NOV = dt.date(2023, 11, 17)


@pytest.mark.parametrize("module", [digests.formatting, digests.compose])
def test_doctests(module: object) -> None:
    result = doctest.testmod(module)  # type: ignore[arg-type]
    assert result.attempted > 0 and result.failed == 0


def test_header_uses_babel_full_date_and_day_number() -> None:
    fr = compose_digest(STORY, NOV, "fr")
    en = compose_digest(STORY, NOV + dt.timedelta(days=1), "en")
    assert fr is not None and en is not None
    assert fr.subtitle == "Jour 1 — vendredi 17 novembre 2023"
    assert en.subtitle == "Day 2 — Saturday, November 18, 2023"
    assert fr.title == "Crise chez OpenAI"


def test_day_without_events_has_no_digest() -> None:
    assert compose_digest(STORY, dt.date(2023, 11, 16), "fr") is None
    assert compose_digest(STORY, dt.date(2023, 12, 25), "en") is None


def test_approximate_events_say_so_once_per_item_in_a_compact_form() -> None:
    document = compose_digest(STORY, dt.date(2023, 11, 20), "fr")
    assert document is not None
    for _, item in document.iter_items():
        assert item.plain.count("vers le") <= 1, item.plain
    text = render_text(document)
    assert "(vers le 20 nov.)" in text
    assert "non daté" not in text  # how the source dates it is said once, in the footer
    assert "approximatives" in (document.footer or "")
    en = render_text(compose_digest(STORY, dt.date(2023, 11, 20), "en"))  # type: ignore[arg-type]
    assert "(around Nov. 20)" in en and "not dated in the article" not in en
    assert compose_digest(STORY, dt.date(2023, 11, 21), "en") is None  # not repeated later


def test_a_daily_digest_is_a_lead_and_at_most_six_items_the_rest_behind_more() -> None:
    for day in STORY.days:
        for lang in ("fr", "en"):
            document = compose_digest(STORY, day, lang)  # type: ignore[arg-type]
            assert document is not None
            lead, *rest = document.sections
            assert lead.heading == "" and len(lead.items) == 1
            news = [
                item
                for section in rest
                if section.heading not in ("Previously", "Précédemment")
                for item in section.items
            ]
            assert len(news) <= digests.compose.MAX_ITEMS
            assert document.more is not None and document.more.more is None
            assert document.more.date == document.date
    day4 = compose_digest(STORY, dt.date(2023, 11, 20), "en")
    assert day4 is not None and day4.more is not None
    headings = [section.heading for section in day4.more.sections]
    assert headings == ["Analysis", "Who’s who"]


def test_one_statement_makes_one_item() -> None:
    day3 = compose_digest(STORY, dt.date(2023, 11, 19), "en")
    assert day3 is not None
    texts = [item.plain for _, item in day3.iter_items()]
    # The four events drawn from Sutskever's post are one item, the lead.
    assert sum("Sutskever" in text and "post" in text for text in texts) == 1
    assert "deeply disappointed" in texts[0] and "goal was not to destroy OpenAI" in texts[0]
    groups = digests.compose.group_statements(STORY.events_on(dt.date(2023, 11, 19)))
    assert [len(group) for group in groups] == [4, 1]


def test_whos_who_gives_roles_as_of_the_day() -> None:
    day1 = compose_digest(STORY, NOV, "en")
    assert day1 is not None and day1.more is not None
    who = render_text(day1.more)
    assert (
        "Mira Murati — chief operating officer of OpenAI until Nov. 17 and interim CEO of OpenAI since Nov. 17"
        in who
    )
    day4 = compose_digest(STORY, dt.date(2023, 11, 20), "fr")
    assert day4 is not None and day4.more is not None
    who = render_text(day4.more)
    assert (
        "Emmett Shear — PDG de Twitch et PDG par intérim d’OpenAI depuis le 20 nov. environ" in who
    )
    assert "Greg Brockman — président d’OpenAI jusqu’au 18 nov." in who


def test_previously_is_one_sentence_per_earlier_day_written_in_the_story() -> None:
    document = compose_digest(STORY, dt.date(2023, 11, 19), "fr")
    assert document is not None
    [previously] = [s for s in document.sections if s.heading == "Précédemment"]
    assert [item.label for item in previously.items] == ["17 nov.", "18 nov."]
    recap = STORY.recap_of(dt.date(2023, 11, 17))
    assert recap is not None
    assert previously.items[0].plain.endswith(recap.fr.replace(" :", "\u00a0:"))
    assert all("…" not in item.plain for item in previously.items)
    assert compose_digest(STORY, NOV, "en").sections[-1].heading != "Previously"  # type: ignore[union-attr]


def test_story_so_far_has_background_with_babel_amounts_and_scenarios() -> None:
    fr = render_text(compose_story_so_far(STORY, STORY.last_day, "fr"))
    en = render_text(compose_story_so_far(STORY, STORY.last_day, "en"))
    assert "90 milliards de dollars" in fr
    assert "$90 billion" in en
    assert "Les scénarios possibles" in fr and "What could happen next" in en
    assert "OpenAI 2.0" in en
    early = render_text(compose_story_so_far(STORY, NOV, "en"))
    assert "Brockman quits" not in early  # nothing from the future
    assert "What could happen next" not in early


def test_amounts_and_numbers_follow_the_locale() -> None:
    assert format_usd(90e9, "fr") == "90 milliards de dollars"
    assert format_usd(1.5e9, "fr") == "1,5 milliard de dollars"
    assert format_usd(90e9, "en") == "$90 billion"
    assert format_number(1234567, "fr") == "1\u202f234\u202f567"
    assert format_number(1234567, "en") == "1,234,567"


def test_story_dates_as_users_read_them() -> None:
    weekend = StoryDate.model_validate(
        {"from": "2023-11-18", "to": "2023-11-19", "precision": "weekend"}
    )
    assert format_story_date(weekend, "fr") == "le week-end des 18 et 19 novembre 2023"
    assert format_story_date(weekend, "en") == "the weekend of November 18–19, 2023"
    around = StoryDate.model_validate(
        {"from": "2023-11-20", "to": "2023-11-21", "precision": "approximate"}
    )
    assert format_story_date(around, "fr") == "vers le 20 novembre 2023"
    assert format_day(NOV, "en") == "Friday, November 17, 2023"


def test_markdown_escapes_story_text() -> None:
    from digests.documents import Document, Item, Section, Span

    document = Document(
        kind="digest",
        lang="en",
        title="T",
        sections=(Section("S", (Item((Span("a *b* _c_ [x](y)"),)),)),),
    )
    assert "a \\*b\\* \\_c\\_ \\[x\\](y)" in render_markdown(document)


def test_story_so_far_never_reveals_later_days() -> None:
    day1 = render_text(compose_story_so_far(STORY, NOV, "en"))
    assert "In short" not in day1  # the summary is written from the story's end
    assert "GPT-5" in day1  # the valuation background is known from the start...
    assert "point the finger at" not in day1  # ...the article's analysis only from its date
    # Notes about later days wait for them (Brockman's resignation is Day 2).
    assert "Greg Brockman’s resignation" not in day1
    assert "Greg Brockman’s resignation" in render_text(
        compose_story_so_far(STORY, STORY.last_day, "en")
    )
    assert "rival" not in day1  # a note about the article's last part waits for its day
    assert "What could happen next" not in day1
    before = render_text(compose_story_so_far(STORY, NOV - dt.timedelta(days=1), "fr"))
    assert "L’histoire commence le 17 novembre 2023." in before
    assert "Chronologie\nL’histoire commence" in before and "•" not in before


def test_daily_digest_carries_the_analysis_on_its_day() -> None:
    day4 = compose_digest(STORY, dt.date(2023, 11, 20), "fr")
    assert day4 is not None
    assert "Décryptage" in [section.heading for section in day4.sections]
    text = render_text(day4)
    for substance in ("complètement décapitée", "OpenAI 2.0", "réintégrés", "GPT-5"):
        assert substance in text, substance
    day3 = render_text(compose_digest(STORY, dt.date(2023, 11, 19), "en"))  # type: ignore[arg-type]
    assert "urged caution while Altman wanted to make AI accessible to all" in day3
    day1 = render_text(compose_digest(STORY, NOV, "en"))  # type: ignore[arg-type]
    assert "$90 billion" in day1 and "ChatGPT and the future GPT-5" in day1
    day1 = compose_digest(STORY, NOV, "fr")
    assert day1 is not None and "Décryptage" not in [section.heading for section in day1.sections]


def test_french_documents_use_unbreakable_spaces() -> None:
    text = render_text(compose_digest(STORY, dt.date(2023, 11, 20), "fr"))  # type: ignore[arg-type]
    assert "95\u202f% des salariés" in text
    assert " :" not in text and "« " not in text and " »" not in text and " ;" not in text
