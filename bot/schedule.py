"""Daily schedules: each subscription's next post time, and the tick that fills the outbox.

The database, not APScheduler, decides who delivers what: APScheduler (3.11, its own job store
cannot be shared between processes) only wakes every instance up periodically. Each wake-up
runs `tick`, which turns *due* subscriptions into rows of the deliveries outbox, unique on
(subscription, digest date, language): a second instance or a restart enqueuing the same post
is a no-op (``INSERT ... ON CONFLICT DO NOTHING``).

``next_run_at`` is computed with APScheduler's `CronTrigger` in the subscription's time zone
(DST-correct: a post at 08:00 stays at 08:00 local across the changes) and stored in UTC.

Catch-up after downtime: a slot missed by less than the grace period is enqueued and marked
``late``; an older one is recorded ``skipped`` (shown by ``status``). Never both, never twice.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from bot.store import PENDING, SKIPPED, Store, Subscription
from digests.errors import DepecheError
from digests.story import Story, StoryLibrary

if TYPE_CHECKING:
    from apscheduler.schedulers.asyncio import AsyncIOScheduler

    from bot.delivery import DeliveryWorker, WorkResult

_log = logging.getLogger(__name__)

TICK_JOB_ID = "depeche-tick"
TIME_RE = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")
MAX_CATCH_UP_SLOTS = 400  # beyond this many missed days, jump ahead (recording the last ones)
LATE_AFTER = dt.timedelta(minutes=10)  # a post enqueued more than this after its slot is "late"


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def parse_post_time(text: str) -> tuple[int, int]:
    """``"08:00"`` -> ``(8, 0)``; raises ValueError for anything else."""
    match = TIME_RE.match(text.strip())
    if not match:
        raise ValueError(f"not a time of day (HH:MM): {text!r}")
    return int(match.group(1)), int(match.group(2))


def format_post_time(text: str) -> str:
    hour, minute = parse_post_time(text)
    return f"{hour:02d}:{minute:02d}"


@lru_cache(maxsize=1024)
def zone_of(tz: str) -> ZoneInfo:
    """ZoneInfo objects, kept (ZoneInfo's own cache drops unreferenced zones and re-reads them)."""
    return ZoneInfo(tz)


@lru_cache(maxsize=4096)
def _trigger(hour: int, minute: int, tz: str) -> CronTrigger:
    return CronTrigger(hour=hour, minute=minute, second=0, timezone=zone_of(tz))


@lru_cache(maxsize=4096)
def _hour_minute(post_time: str) -> tuple[int, int]:
    return parse_post_time(post_time)


def cron_next_fire(post_time: str, tz: str, after: dt.datetime) -> dt.datetime:
    """First post time strictly after ``after``, by APScheduler's `CronTrigger` (the reference)."""
    hour, minute = _hour_minute(post_time)
    fire = _trigger(hour, minute, tz).get_next_fire_time(None, after + dt.timedelta(microseconds=1))
    assert fire is not None
    return fire.astimezone(dt.UTC)


def _unambiguous(local: dt.datetime) -> bool:
    """The wall time exists once: not in a DST gap, not in a repeated hour."""
    back = local.astimezone(dt.UTC).astimezone(local.tzinfo)
    return back.replace(tzinfo=None) == local.replace(tzinfo=None) and (
        local.replace(fold=1).utcoffset() == local.replace(fold=0).utcoffset()
    )


def next_fire(post_time: str, tz: str, after: dt.datetime) -> dt.datetime:
    """First post time strictly after ``after`` (aware), in UTC.

    The common case (the wall time exists exactly once on the candidate day) is computed
    directly: it is also several times cheaper for a catch-up tick of 100,000 subscriptions,
    and correct where APScheduler 3.11.3 is not (from 01:00 CET on 2024-03-31 its CronTrigger
    for 00:00 Europe/Paris answers 2 April, skipping 1 April). A wall time that does not exist
    (spring gap) or exists twice (autumn) goes to `CronTrigger`: a post in the gap is moved
    after it, and a repeated time posts once, at its first occurrence.
    """
    hour, minute = _hour_minute(post_time)
    zone = zone_of(tz)
    day = after.astimezone(zone).date()
    for candidate_day in (day, day + dt.timedelta(days=1)):
        local = dt.datetime.combine(candidate_day, dt.time(hour, minute), tzinfo=zone)
        if not _unambiguous(local):
            break
        if local > after:
            return local.astimezone(dt.UTC)
    fire = cron_next_fire(post_time, tz, after)
    # A repeated wall time (the autumn change) fires twice with CronTrigger: one post per local
    # day is what subscribers asked for, so the second occurrence is skipped.
    local_after = after.astimezone(zone)
    if fire.astimezone(zone).date() == local_after.date() and (
        local_after.hour,
        local_after.minute,
    ) >= (hour, minute):
        fire = cron_next_fire(
            post_time, tz, dt.datetime.combine(day, dt.time(23, 59, 59), tzinfo=zone)
        )
    return fire


def first_run(
    *, post_time: str, tz: str, mode: str, start_date: dt.date | None, now: dt.datetime
) -> dt.datetime:
    """Next run of a new (or rescheduled, or resumed) subscription.

    Live: the next post time after ``now``. Replay: the post time on ``start_date`` (story day
    1); when that is already past (start today, later than the post time), the tick posts it
    late within the grace period, or records it skipped.
    """
    if mode == "replay" and start_date is not None:
        zone = zone_of(tz)
        midnight = dt.datetime.combine(start_date, dt.time(0, 0), tzinfo=zone)
        return next_fire(post_time, tz, midnight - dt.timedelta(microseconds=1))
    return next_fire(post_time, tz, now - dt.timedelta(microseconds=1))


def story_date_for(
    mode: str, local_day: dt.date, start_date: dt.date | None, story: Story
) -> dt.date:
    """The story day a post on ``local_day`` covers: live = the same date; replay = story day
    N on ``start_date + N - 1`` (calendar days from the story's first day)."""
    if mode == "replay" and start_date is not None:
        return story.first_day + (local_day - start_date)
    return local_day


def langs_of(lang: str) -> tuple[str, ...]:
    return ("fr", "en") if lang == "both" else (lang,)


@dataclass
class TickResult:
    due: int = 0
    enqueued: int = 0
    late: int = 0
    skipped: int = 0
    finished: int = 0  # replays that reached the story's end

    def __iadd__(self, other: TickResult) -> TickResult:
        for name in ("due", "enqueued", "late", "skipped", "finished"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        return self


def _insert(dialect: str) -> Callable[..., Any]:
    return pg_insert if dialect == "postgresql" else sqlite_insert


_OUTBOX_COLUMNS = (
    "subscription_id", "platform", "digest_date", "story_date", "lang", "scheduled_for",
    "status", "late", "attempts", "last_error", "next_attempt_at", "created_at",
)  # fmt: skip


def _raw(dialect: str, value: Any) -> Any:
    """Driver-level values (the tick bypasses SQLAlchemy's per-row type processing: 100,000
    rows at once must stay cheap). SQLite: the text SQLAlchemy itself stores."""
    if dialect != "sqlite":
        return value
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bool):
        return int(value)
    return value


def tick(
    store: Store,
    library: StoryLibrary,
    now: dt.datetime,
    *,
    grace: dt.timedelta = dt.timedelta(hours=6),
    no_news_line: bool = False,
    batch_size: int = 5000,
) -> TickResult:
    """Turn every subscription due at ``now`` into outbox rows and advance its ``next_run_at``.

    Safe to run concurrently from several processes: PostgreSQL hands each due subscription to
    one of them (``FOR UPDATE SKIP LOCKED``), SQLite serialises writers (``BEGIN IMMEDIATE``),
    and the outbox's unique key makes any double enqueue a no-op anyway
    (``INSERT ... ON CONFLICT DO NOTHING``, the same SQL on both).
    """
    total = TickResult()
    table = Subscription.__table__
    dialect = store.dialect
    mark = "?" if dialect == "sqlite" else "%s"
    insert_sql = (
        f"INSERT INTO deliveries ({', '.join(_OUTBOX_COLUMNS)}) "
        f"VALUES ({', '.join([mark] * len(_OUTBOX_COLUMNS))}) "
        "ON CONFLICT (subscription_id, digest_date, lang) DO NOTHING"
    )
    update_sql = f"UPDATE subscriptions SET next_run_at = {mark} WHERE id = {mark}"
    plans: dict[tuple[Any, ...], _Plan] = {}  # subscriptions with the same schedule share a plan
    while True:
        result = TickResult()
        with store.session() as session, session.begin():
            query = (
                select(
                    table.c.id,
                    table.c.story_slug,
                    table.c.platform,
                    table.c.lang,
                    table.c.post_time,
                    table.c.timezone,
                    table.c.mode,
                    table.c.start_date,
                    table.c.next_run_at,
                )
                .where(table.c.active.is_(True), table.c.next_run_at <= now)
                .order_by(table.c.next_run_at)
                .limit(batch_size)
            )
            if dialect == "postgresql":
                query = query.with_for_update(skip_locked=True)
            rows = session.execute(query).all()
            if not rows:
                break
            outbox: list[tuple[Any, ...]] = []
            advances: list[tuple[Any, Any]] = []
            for row in rows:
                key = (
                    row.story_slug,
                    row.lang,
                    row.post_time,
                    row.timezone,
                    row.mode,
                    row.start_date,
                    row.next_run_at,
                )
                plan = plans.get(key)
                if plan is None:
                    plan = plans[key] = _plan(row, library, now, grace, no_news_line, dialect)
                result.due += 1
                result += plan.counts
                outbox.extend((row.id, row.platform, *template) for template in plan.templates)
                advances.append((_raw(dialect, plan.next_run), row.id))
            connection = session.connection()
            if outbox:
                connection.exec_driver_sql(insert_sql, outbox)
            connection.exec_driver_sql(update_sql, advances)
        total += result
        if len(rows) < batch_size:
            break
    if total.due:
        _log.info(
            "tick: %d due, %d enqueued (%d late), %d skipped",
            total.due,
            total.enqueued,
            total.late,
            total.skipped,
        )
    return total


@dataclass
class _Plan:
    templates: list[tuple[Any, ...]]  # outbox rows, less subscription_id and platform
    next_run: dt.datetime | None
    counts: TickResult


def _plan(
    row: Any,
    library: StoryLibrary,
    now: dt.datetime,
    grace: dt.timedelta,
    no_news_line: bool,
    dialect: str,
) -> _Plan:
    result = TickResult()
    templates: list[tuple[Any, ...]] = []
    try:
        story: Story | None = library.get(row.story_slug)
    except DepecheError:
        story = None  # the worker fails it permanently and pauses the subscription, visibly
    zone = zone_of(row.timezone)
    slot: dt.datetime = row.next_run_at
    slots = 0
    raw_now = _raw(dialect, now)
    while slot <= now:
        slots += 1
        if slots > MAX_CATCH_UP_SLOTS:  # down for more than a year: jump near `now`
            slot = next_fire(row.post_time, row.timezone, now - grace - dt.timedelta(days=2))
            slots = 0
            continue
        local_day = slot.astimezone(zone).date()
        story_day = (
            story_date_for(row.mode, local_day, row.start_date, story) if story else local_day
        )
        if story is not None and row.mode == "replay" and story_day > story.last_day:
            result.finished += 1
            return _Plan(templates, None, result)  # the replay is over; nothing more to post
        has_news = story is None or bool(story.events_on(story_day))
        if has_news or no_news_line:
            missed_by = now - slot
            skipped = missed_by > grace
            late = not skipped and missed_by > LATE_AFTER
            error = (
                f"missed by {_hours(missed_by)} (grace {_hours(grace)}): not posted"
                if skipped
                else None
            )
            for lang in langs_of(row.lang):
                templates.append(
                    (
                        _raw(dialect, local_day),
                        _raw(dialect, story_day),
                        lang,
                        _raw(dialect, slot),
                        SKIPPED if skipped else PENDING,
                        _raw(dialect, late),
                        0,
                        error,
                        raw_now,
                        raw_now,
                    )
                )
                if skipped:
                    result.skipped += 1
                else:
                    result.enqueued += 1
                    result.late += late
        slot = next_fire(row.post_time, row.timezone, slot)
    return _Plan(templates, slot, result)


def _hours(delta: dt.timedelta) -> str:
    hours = delta.total_seconds() / 3600
    return f"{hours:.1f} h"


# --------------------------------------------------------------------------- the runner


@dataclass
class Runner:
    """One instance's loop: tick, then deliver what is due. Driven by APScheduler in `run`,
    or called directly (``await runner.step(now)``) by `simulate` and the tests."""

    store: Store
    library: StoryLibrary
    worker: DeliveryWorker
    grace: dt.timedelta = dt.timedelta(hours=6)
    no_news_line: bool = False
    clock: Callable[[], dt.datetime] = utcnow
    instance_id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])

    async def step(self, now: dt.datetime | None = None) -> tuple[TickResult, WorkResult]:
        now = now or self.clock()
        # In a thread: a big catch-up tick must not stall the platforms' gateways (heartbeats).
        planned = await asyncio.to_thread(
            tick, self.store, self.library, now, grace=self.grace, no_news_line=self.no_news_line
        )
        worked = await self.worker.run_until_idle(now)
        return planned, worked

    async def _job(self) -> None:
        try:
            await self.step()
        except Exception:  # keep the scheduler alive; the next tick retries
            _log.exception("tick failed")

    def start(self, tick_seconds: float) -> AsyncIOScheduler:
        """Start an `AsyncIOScheduler` (in the running loop) ticking every ``tick_seconds``."""
        from apscheduler.schedulers.asyncio import AsyncIOScheduler
        from apscheduler.triggers.interval import IntervalTrigger

        scheduler = AsyncIOScheduler(timezone=dt.UTC)
        scheduler.add_job(
            self._job,
            IntervalTrigger(seconds=tick_seconds, timezone=dt.UTC),
            id=TICK_JOB_ID,
            replace_existing=True,
            coalesce=True,
            max_instances=1,
            misfire_grace_time=max(1, int(tick_seconds)),
            next_run_time=dt.datetime.now(dt.UTC),
        )
        scheduler.start()
        return scheduler
