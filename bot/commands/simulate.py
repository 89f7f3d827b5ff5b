"""`depeche simulate`: the real scheduler and delivery path, in accelerated virtual time.

    depeche simulate [--from 2023-11-17 --days 4] [--lang fr|en|both] [--time 08:00] [--tz Europe/Paris]

Without ``--from`` and ``--days`` it covers the whole story, from its first day to its last.

A temporary SQLite database holds one live console subscription; a virtual clock advances from
midnight (local) of ``--from`` one tick at a time (``--step`` minutes of virtual time) and each
tick runs the same `tick` + delivery worker as `depeche run`. Days of the story are printed as
they would have been posted.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import logging
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from bot.commands.common import load_library, load_settings, parse_date

if TYPE_CHECKING:
    from rich.console import Console


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser(
        "simulate", help="replay the daily posts of past days in seconds (console)"
    )
    parser.add_argument(
        "--from",
        dest="start",
        type=parse_date,
        help="first day, YYYY-MM-DD (default: the story's first day)",
    )
    parser.add_argument(
        "--days", type=int, help="number of days (default: up to the story's last day)"
    )
    parser.add_argument("--lang", choices=("fr", "en", "both"), default="both")
    parser.add_argument("--time", default="08:00", help="local post time (default 08:00)")
    parser.add_argument(
        "--tz", default="Europe/Paris", help="IANA time zone (default Europe/Paris)"
    )
    parser.add_argument("--story", metavar="SLUG", help="story (default: the shipped story)")
    parser.add_argument(
        "--step", type=int, default=15, help="virtual minutes per tick (default 15)"
    )
    parser.set_defaults(handler=_handler)


def _handler(args: argparse.Namespace) -> int:
    from bot.admin import check_time, check_timezone
    from bot.commands.common import BadArgument

    if args.days is not None and not 1 <= args.days <= 3660:
        raise BadArgument("--days must be between 1 and 3660")
    if not 1 <= args.step <= 1440:
        raise BadArgument("--step must be between 1 and 1440 minutes")
    tz = check_timezone(args.tz)
    post_time = check_time(args.time)
    with _quiet(not getattr(args, "verbose", False)):
        return asyncio.run(
            simulate(
                args.start,
                args.days,
                lang=args.lang,
                post_time=post_time,
                tz=tz,
                story=args.story,
                step=args.step,
            )
        )


@contextlib.contextmanager
def _quiet(enabled: bool) -> Iterator[None]:
    """INFO lines (the subscription created, each delivery) would interleave with the progress
    bar and the digests: only warnings and errors while simulating (``-v`` shows everything)."""
    if not enabled:
        yield
        return
    loggers = [logging.getLogger(name) for name in ("bot", "apscheduler", "depeche")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)


def plural(count: int, word: str) -> str:
    """``1 day``, ``5 days``, ``0 posts``."""
    return f"{count} {word}{'' if count == 1 else 's'}"


async def simulate(
    start: dt.date | None,
    days: int | None,
    *,
    lang: str,
    post_time: str,
    tz: str,
    story: str | None = None,
    step: int = 15,
    console: Console | None = None,
) -> int:
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn

    from bot.admin import Actor, SubscriptionSpec
    from bot.console import ConsolePublisher
    from bot.platforms import build_context
    from bot.store import Store

    console = console or Console(highlight=False)
    settings = load_settings()
    library = load_library(settings)
    for problem in library.problems:
        logging.getLogger("depeche.simulate").warning("story file ignored: %s", problem)
    chosen = library.get(story)
    start = chosen.first_day if start is None else start
    if days is None:
        days = max(1, (chosen.last_day - start).days + 1)
    zone = ZoneInfo(tz)
    clock_now = [dt.datetime.combine(start, dt.time(0, 0), tzinfo=zone).astimezone(dt.UTC)]
    with tempfile.TemporaryDirectory(prefix="depeche-simulate-") as directory:
        store = Store.open(f"sqlite:///{Path(directory) / 'simulate.sqlite3'}")
        try:
            context = build_context(
                settings, store=store, library=library, clock=lambda: clock_now[0]
            )
            context.publishers.register(ConsolePublisher(store, console=console))
            await context.admin.subscribe(
                SubscriptionSpec(
                    platform="console",
                    workspace_id="",
                    channel_id="simulation",
                    lang=lang,
                    post_time=post_time,
                    timezone=tz,
                    mode="live",
                    story_slug=story,
                ),
                Actor(via="cli", where="simulate", lang="en"),
            )
            end = dt.datetime.combine(
                start + dt.timedelta(days=days), dt.time(0, 0), tzinfo=zone
            ).astimezone(dt.UTC)
            ticks = int((end - clock_now[0]) / dt.timedelta(minutes=step))
            posted = 0
            with Progress(
                TextColumn("[cyan]{task.description}"),
                BarColumn(),
                TextColumn("{task.fields[posted]} posts"),
                console=console,
                transient=True,
            ) as progress:
                task = progress.add_task("virtual time", total=ticks, posted=0)
                for _ in range(ticks):
                    clock_now[0] += dt.timedelta(minutes=step)
                    _planned, worked = await context.runner.step(clock_now[0])
                    posted += worked.sent + worked.recovered
                    local = clock_now[0].astimezone(zone)
                    progress.update(
                        task,
                        advance=1,
                        posted=posted,
                        description=local.strftime("%Y-%m-%d %H:%M %Z"),
                    )
            console.print(
                f"[bold]Simulated {plural(days, 'day')} from {start.isoformat()} at {post_time} "
                f"{tz}: {plural(posted, 'post')}.[/bold]"
                + ("" if posted else " (no story events on those days)")
            )
        finally:
            store.dispose()
    return 0
