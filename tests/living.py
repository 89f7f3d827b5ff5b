"""Helpers for the living-story tests: a whole instance (store, live stories, worker, runner,
admin service) on a controlled clock, and revisions of the minimal story to publish."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.admin import CLI, SubscriptionSpec
from bot.outbox import SubscriptionInfo
from bot.platforms import PlatformContext, build_context
from bot.settings import Settings, WebSettings
from bot.store import Store
from bot.stories import StoryRevisions

MINIMAL = (Path(__file__).parent / "stories" / "minimal.yaml").read_text(encoding="utf-8")
SLUG = "minimal-example"
PARIS = ZoneInfo("Europe/Paris")
DAY1, DAY2 = dt.date(2024, 3, 1), dt.date(2024, 3, 2)
POSTED = dt.datetime(2024, 3, 1, 8, 0, tzinfo=PARIS)  # day 1's digest goes out
CORRECTED = dt.datetime(2024, 3, 1, 14, 5, tzinfo=PARIS)  # a revision changes day 1

RETURNS = (
    "  - id: ada-returns\n    date: 2024-03-01\n"
    '    headline: {fr: "Ada revient", en: "Ada returns"}\n'
    '    text: {fr: "Ada revient chez Acme.", en: "Ada is back at Acme."}\n'
    '    people: [ada]\n    quote: "Ada revient."\n{breaking}faq:'
)


def edited(old: str, new: str, document: str = MINIMAL) -> str:
    assert old in document
    return document.replace(old, new, 1)


def with_return(*, breaking: bool = False, document: str = MINIMAL) -> str:
    """The story with a new event on day 1 ("Ada returns"), breaking news or not."""
    flag = "    breaking: true\n" if breaking else ""
    return document.replace("faq:", RETURNS.replace("{breaking}", flag), 1)


class Clock:
    def __init__(self, now: dt.datetime) -> None:
        self.now = now.astimezone(dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.now

    def set(self, moment: dt.datetime) -> dt.datetime:
        self.now = moment.astimezone(dt.UTC)
        return self.now


def instance(
    store: Store, tmp_path: Path, clock: Clock, *, public_url: str = ""
) -> PlatformContext:
    """One instance: the minimal story imported as revision 1 (the first call), served live."""
    stories = tmp_path / "stories"
    stories.mkdir(exist_ok=True)
    (stories / "minimal.yaml").write_text(MINIMAL, encoding="utf-8")
    settings = Settings(stories_dir=stories, web=WebSettings(public_url=public_url))
    return build_context(settings, store=store, clock=clock)


def publish(store: Store, document: str, when: dt.datetime) -> int:
    """Publish a revision (as `depeche story publish` does) at ``when``; -> its number."""
    revisions = StoryRevisions(store, clock=lambda: when.astimezone(dt.UTC))
    return revisions.publish(document, author="editor", origin="cli").info.revision


async def subscribe(
    context: PlatformContext,
    platform: str,
    workspace: str,
    channel: str,
    *,
    lang: str = "fr",
    mode: str = "live",
    corrections: str | None = None,
    breaking: bool | None = None,
    start: dt.date | None = None,
    post_time: str = "08:00",
    timezone: str = "Europe/Paris",
    thread: str = "none",
) -> SubscriptionInfo:
    info, _created = await context.admin.subscribe(
        SubscriptionSpec(
            platform=platform,
            workspace_id=workspace,
            channel_id=channel,
            lang=lang,
            post_time=post_time,
            timezone=timezone,
            mode=mode,
            start_date=start,
            story_slug=SLUG,
            corrections=corrections,
            breaking=breaking,
            thread=thread,
        ),
        CLI,
    )
    return info
