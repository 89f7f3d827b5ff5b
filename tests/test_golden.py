"""Golden outputs: every day of the default story, in both languages, as a reader sees them.

Regenerate after a deliberate change with ``DEPECHE_UPDATE_GOLDEN=1 pytest tests/test_golden.py``,
then read the diff as a French and an English reader would before committing it.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest

from digests.compose import compose_digest, compose_faq, compose_story_so_far, compose_timeline
from digests.render import render_markdown, render_text
from digests.rollup import compose_compact, compose_week
from digests.story import LANGS, default_story

GOLDEN = Path(__file__).parent / "golden"
STORY = default_story()
UPDATE = os.environ.get("DEPECHE_UPDATE_GOLDEN") == "1"


def check(name: str, actual: str) -> None:
    path = GOLDEN / name
    if UPDATE:
        path.write_text(actual, encoding="utf-8")
    assert path.is_file(), f"missing golden file {path} (run with DEPECHE_UPDATE_GOLDEN=1)"
    assert actual == path.read_text(encoding="utf-8")


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("day", STORY.days, ids=str)
def test_daily_digest(day, lang) -> None:  # type: ignore[no-untyped-def]
    document = compose_digest(STORY, day, lang)
    assert document is not None and document.more is not None
    check(f"digest-{day}-{lang}.txt", render_text(document))
    check(f"digest-{day}-{lang}-more.txt", render_text(document.more))  # the thread reply


@pytest.mark.parametrize("lang", LANGS)
def test_story_so_far_markdown(lang) -> None:  # type: ignore[no-untyped-def]
    check(
        f"so-far-{STORY.last_day}-{lang}.md",
        render_markdown(compose_story_so_far(STORY, STORY.last_day, lang)),
    )


@pytest.mark.parametrize("lang", LANGS)
def test_timeline_and_faq(lang) -> None:  # type: ignore[no-untyped-def]
    check(f"timeline-{lang}.txt", render_text(compose_timeline(STORY, lang)))
    check(f"faq-{lang}.txt", render_text(compose_faq(STORY, lang)))


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("day", STORY.days, ids=str)
def test_compact_digest(day, lang) -> None:  # type: ignore[no-untyped-def]
    url = f"https://depeche.example/{lang}/{STORY.slug}/{day}/" if day == STORY.last_day else None
    document = compose_compact(STORY, day, lang, url=url)
    assert document is not None and document.more is None
    check(f"compact-{day}-{lang}.txt", render_text(document))


WEEKLY_DAYS = (STORY.days[2], STORY.last_day + dt.timedelta(days=3))


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("day", WEEKLY_DAYS, ids=str)
def test_weekly_roll_up(day, lang) -> None:  # type: ignore[no-untyped-def]
    document = compose_week(STORY, day, lang)
    assert document is not None and document.more is None
    check(f"weekly-{day}-{lang}.txt", render_text(document))


def test_every_golden_file_is_used() -> None:
    expected = {f"digest-{day}-{lang}.txt" for day in STORY.days for lang in LANGS}
    expected |= {f"digest-{day}-{lang}-more.txt" for day in STORY.days for lang in LANGS}
    expected |= {f"so-far-{STORY.last_day}-{lang}.md" for lang in LANGS}
    expected |= {f"compact-{day}-{lang}.txt" for day in STORY.days for lang in LANGS}
    expected |= {f"weekly-{day}-{lang}.txt" for day in WEEKLY_DAYS for lang in LANGS}
    expected |= {f"{kind}-{lang}.txt" for kind in ("timeline", "faq") for lang in LANGS}
    assert {path.name for path in GOLDEN.iterdir()} == expected
