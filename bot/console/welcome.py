"""What `depeche run` says on the console before the first digest (no platform token set).

The first run creates a console subscription and its first post is printed at once. A second
run finds that subscription and nothing is due: without a word it would look broken, so this says
in plain words what happens, when the next post comes (Babel-formatted), how to see the whole
story now (`depeche simulate`) and how to start over (which command, which file).
"""

from __future__ import annotations

import datetime as dt
import shutil
import sys
from pathlib import Path
from typing import TYPE_CHECKING, TextIO
from zoneinfo import ZoneInfo

from babel.dates import format_time

from bot.admin import Actor, SubscriptionInfo, SubscriptionSpec, describe
from bot.schedule import story_date_for
from digests.formatting import format_day, format_long

if TYPE_CHECKING:
    from sqlalchemy.engine import URL

    from bot.platforms import PlatformContext
    from bot.settings import Settings
    from digests.story import Story


def local_timezone(settings: Settings) -> str:
    """``schedule.default_timezone``, else the system's zone, else UTC."""
    if settings.schedule.default_timezone:
        return settings.schedule.default_timezone
    try:
        from tzlocal import get_localzone_name

        name = get_localzone_name()
        ZoneInfo(name)
        return name
    except Exception:
        return "UTC"


async def ensure_console_subscription(context: PlatformContext) -> SubscriptionInfo | None:
    """Create the demo console subscription if there is no subscription at all: a replay of
    the default story starting today at the current minute, so day 1 is printed at once."""
    if await context.admin.list():
        return None
    tz = local_timezone(context.settings)
    now_local = context.runner.clock().astimezone(ZoneInfo(tz))
    info, _ = await context.admin.subscribe(
        SubscriptionSpec(
            platform="console",
            workspace_id="",
            channel_id="console",
            lang="both",
            post_time=now_local.strftime("%H:%M"),
            timezone=tz,
            mode="replay",
            start_date=now_local.date(),
        ),
        Actor(user_id="depeche run", via="cli", where="console", lang="en"),
    )
    return info


def program() -> str:
    """How the user should type `depeche` again: ``depeche`` when it is on PATH,
    ``.venv/bin/depeche`` after ``make run``, ``python -m bot`` for the module."""
    argv0 = sys.argv[0] if sys.argv and sys.argv[0] else "depeche"
    path = Path(argv0)
    if path.name == "__main__.py":
        return "python -m bot"
    if path.name != "depeche":
        return "depeche"
    found = shutil.which("depeche")
    if found and Path(found).resolve() == path.resolve():
        return "depeche"
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return argv0


def database_file(url: URL) -> Path | None:
    """The SQLite file behind ``url``, or None for a server database (or SQLite in memory)."""
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    return Path(url.database).resolve()


def simulate_command(story: Story, default_slug: str | None) -> str:
    """`depeche simulate` prints a whole story, first day to last, by default."""
    command = f"{program()} simulate"
    return command if story.slug == default_slug else f"{command} --story {story.slug}"


def when(moment: dt.datetime, timezone: str) -> str:
    """'Sunday, November 29, 2026 at 8:25 AM (Europe/Paris)', through Babel."""
    return (
        f"{format_day(moment.date(), 'en')} at {format_time(moment, 'short', locale='en_US')} "
        f"({timezone})"
    )


def next_post(
    info: SubscriptionInfo, story: Story | None, now: dt.datetime, *, once: bool = False
) -> str:
    """One sentence: when this subscription posts next, and what."""
    if not info.active:
        reason = f" ({info.paused_reason})" if info.paused_reason else ""
        return (
            f"It is paused{reason}: nothing is printed until "
            f"`{program()} subscriptions resume --id {info.id}`."
        )
    local = info.next_run_local
    if local is None or info.next_run_at is None:
        return "It has nothing left to post (the replay reached the end of the story)."
    what = "Its next post"
    if story is not None and info.mode == "replay":
        day = story_date_for(info.mode, local.date(), info.start_date, story)
        if day > story.last_day:
            return "It has nothing left to post (the replay reached the end of the story)."
        number = (day - story.first_day).days + 1
        what = f"Its next post, day {number} of the story ({format_long(day, 'en')}),"
    if info.next_run_at <= now:
        return f"{what} is due now: it is printed in a moment."
    wait = "" if once else " Leave this running, or stop it with Ctrl-C."
    return f"{what} comes on {when(local, info.timezone)}; nothing is printed until then.{wait}"


async def welcome(
    context: PlatformContext, *, create: bool, once: bool = False, out: TextIO | None = None
) -> SubscriptionInfo | None:
    """Say that the bot runs on the console; create the demo subscription on a fresh machine
    (``create``) or explain the ones found. Returns the subscription created, if any."""
    out = out or sys.stdout
    url = context.store.engine.url
    database = database_file(url)
    shown = str(database) if database else url.render_as_string(hide_password=True)
    print(
        "No Discord or Slack token is configured (DISCORD_TOKEN, SLACK_BOT_TOKEN): running on the\n"
        f"console. Digests are printed here when they are due. Database: {shown}",
        file=out,
    )
    library = context.library
    created = await ensure_console_subscription(context) if create else None
    if created is not None:
        print(
            "Created a console subscription (replay of the story, day 1 now, then daily):\n"
            f"  {describe(created)}",
            file=out,
        )
        story = _story(context, created.story_slug)
        if story is not None:
            print(
                f"To see the whole story in seconds: {simulate_command(story, library.default_slug)}",
                file=out,
            )
        print(file=out, flush=True)
        return created
    existing = await context.admin.list(platform="console")
    if not existing:
        print(file=out, flush=True)
        return None
    now = context.runner.clock()
    one = len(existing) == 1
    print(
        ("The console subscription" if one else "The console subscriptions")
        + " made by an earlier run "
        + ("is" if one else "are")
        + " still in the database, so nothing new is printed right now:",
        file=out,
    )
    for info in existing:
        story = _story(context, info.story_slug)
        print(f"  {describe(info)}", file=out)
        print(f"  {next_post(info, story, now, once=once)}", file=out)
    stories = {info.story_slug for info in existing}
    for slug in sorted(stories):
        story = _story(context, slug)
        if story is not None:
            print(
                f"To see the whole story now: {simulate_command(story, library.default_slug)}",
                file=out,
            )
    removes = "; ".join(f"{program()} subscriptions remove --id {info.id}" for info in existing)
    print(f"To start over from day 1: {removes}; then {program()} run", file=out)
    if database is not None:
        print(
            f"  (or remove the whole database, every subscription with it: rm {database})", file=out
        )
    print(file=out, flush=True)
    return None


def _story(context: PlatformContext, slug: str) -> Story | None:
    try:
        return context.library.get(slug)
    except Exception:  # a story file removed since: the line above still says which slug
        return None
