"""The correction line of an edited digest: what changed that day, and when, in both languages."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from digests.corrections import correction_line, day_changes, updated_at
from digests.story import parse_story
from digests.story_diff import diff_stories

MINIMAL = (Path(__file__).parent / "stories" / "minimal.yaml").read_text(encoding="utf-8")
PARIS = ZoneInfo("Europe/Paris")
NY = ZoneInfo("America/New_York")
WHEN = dt.datetime(2023, 11, 20, 13, 5, tzinfo=dt.UTC)  # 14:05 in Paris, 08:05 in New York

EXTRA = (
    "  - id: ada-returns\n    date: 2024-03-01\n"
    '    headline: {fr: "Ada revient", en: "Ada returns"}\n'
    '    text: {fr: "Ada revient.", en: "Ada is back."}\n'
    '    people: [ada]\n    quote: "Ada revient."\nfaq:'
)


def test_updated_at_in_the_readers_zone_and_language():
    assert updated_at(WHEN.astimezone(PARIS), "fr") == "Mis à jour le 20 novembre à 14 h 05"
    assert updated_at(WHEN.astimezone(PARIS), "en") == "Updated November 20 at 2:05 PM"
    assert updated_at(WHEN.astimezone(NY), "en") == "Updated November 20 at 8:05 AM"
    with pytest.raises(ValueError, match="timezone-aware"):
        updated_at(dt.datetime(2023, 11, 20, 14, 5), "fr")


def test_the_line_says_what_changed_that_day():
    before = parse_story(MINIMAL)
    after = parse_story(
        MINIMAL.replace("Ada leaves Acme", "Ada quits Acme").replace("faq:", EXTRA, 1)
    )
    diff = diff_stories(before, after)
    day = dt.date(2024, 3, 1)
    changes = day_changes(diff, day)
    assert [c.event_id for c in changes] == ["ada-leaves", "ada-returns"]
    assert day_changes(diff, dt.date(2024, 3, 2)) == ()
    assert correction_line(changes, WHEN.astimezone(PARIS), "fr") == (
        "Mis à jour le 20 novembre à 14 h 05\u00a0: corrigé «\u00a0Ada quitte Acme\u00a0»\u202f; "
        "ajouté «\u00a0Ada revient\u00a0»."
    )
    assert correction_line(changes, WHEN.astimezone(PARIS), "en") == (
        "Updated November 20 at 2:05 PM: corrected “Ada quits Acme”; added “Ada returns”."
    )
