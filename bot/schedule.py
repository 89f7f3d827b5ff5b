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
from typing import TYPE_CHECKING, Any, Protocol
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger  # type: ignore[import-untyped]
from sqlalchemy import Connection
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from bot.store import PENDING, SKIPPED, Store
from bot.store.health import OutageLog, is_outage
from digests.errors import DepecheError
from digests.story import Story, StoryLibrary

if TYPE_CHECKING:
    from apscheduler.schedulers.asyncio import AsyncIOScheduler  # type: ignore[import-untyped]

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
    assert isinstance(fire, dt.datetime)
    return fire.astimezone(dt.UTC)


def _unambiguous(local: dt.datetime) -> bool:
    """The wall time exists once: not in a DST gap, not in a repeated hour."""
    back = local.astimezone(dt.UTC).astimezone(local.tzinfo)
    return back.replace(tzinfo=None) == local.replace(tzinfo=None) and (
        local.replace(fold=1).utcoffset() == local.replace(fold=0).utcoffset()
    )


_ONE_DAY = dt.timedelta(days=1)


@lru_cache(maxsize=65536)
def _steady_offset(tz: str, day: dt.date) -> dt.timedelta | None:
    """The UTC offset of ``tz`` from ``day`` 00:00 to ``day + 2`` 00:00 (local) when it does
    not change in between, else None. Sampled every 3 hours (offset changes are months apart;
    a change and its reversal within 3 hours does not exist), both folds at the start."""
    zone = zone_of(tz)
    start = dt.datetime.combine(day, dt.time(0, 0), tzinfo=zone)
    offset = start.utcoffset()
    if offset is None or start.replace(fold=1).utcoffset() != offset:
        return None
    start_utc = start.astimezone(dt.UTC)
    for hours in range(3, 49, 3):
        moment = (start_utc + dt.timedelta(hours=hours)).astimezone(zone)
        if moment.utcoffset() != offset:
            return None
    return offset


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
    offset = _steady_offset(tz, day)
    if offset is not None:  # no change of UTC offset today or tomorrow: plain arithmetic
        fire = dt.datetime.combine(day, dt.time(hour, minute), tzinfo=dt.UTC) - offset
        if fire <= after:
            fire += _ONE_DAY
        return fire
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
# The conflict target: the partial unique index of scheduled posts (uq_deliveries_scheduled);
# `kind` takes its default, 'scheduled'.
_OUTBOX_CONFLICT = "(subscription_id, digest_date, lang) WHERE kind = 'scheduled'"
_TICK_LOCK = 724_002  # PostgreSQL advisory lock id: one tick at a time across instances
_SQLITE_TICK_CACHE_KB = 65_536  # SQLite page cache during a tick (a ceiling, filled on demand)
_SQLITE_CACHE_KB = 2_000  # SQLite's default, restored after the tick
# A subscription's language -> the languages of its posts.
_LANG_ROWS = (("fr", "fr"), ("en", "en"), ("both", "fr"), ("both", "en"))


def _raw(dialect: str, value: Any) -> Any:
    """Driver-level values (the tick bypasses SQLAlchemy's per-row type processing: 100,000
    rows at once must stay cheap). SQLite: the text SQLAlchemy itself stores."""
    if dialect != "sqlite":
        return value
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).replace(tzinfo=None).isoformat(" ", "microseconds")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bool):
        return int(value)
    return value


def _from_raw_datetime(value: Any) -> dt.datetime:
    if isinstance(value, str):  # SQLite
        return dt.datetime.fromisoformat(value).replace(tzinfo=dt.UTC)
    assert isinstance(value, dt.datetime)
    return value.astimezone(dt.UTC)


def _from_raw_date(value: Any) -> dt.date | None:
    if isinstance(value, str):  # SQLite
        return dt.date.fromisoformat(value)
    return value  # type: ignore[no-any-return]


class _TickSQL:
    """The tick's statements for one dialect (plain SQL: they run once per chunk)."""

    def __init__(self, dialect: str) -> None:
        self.dialect = dialect
        self.sqlite = dialect == "sqlite"
        mark = "?" if self.sqlite else "%s"
        active = "s.active = 1" if self.sqlite else "s.active IS TRUE"
        due = f"{active} AND s.next_run_at <= {mark}"
        # SQLite: the chunk's bound is implied by the plans (made in this same serialised
        # transaction); leaving it out lets the planner look subscriptions up by equality on
        # (active, next_run_at) for each plan, instead of a range scan per plan.
        matched = active if self.sqlite else due
        group_columns = "s.story_slug, s.post_time, s.timezone, s.mode, s.start_date, s.next_run_at"
        # The `batch_size`-th due next_run_at: the chunk takes every subscription up to it.
        self.boundary = (
            f"SELECT s.next_run_at FROM subscriptions s WHERE {due} "
            f"ORDER BY s.next_run_at LIMIT 1 OFFSET {mark}"
        )
        self.groups = (
            f"SELECT {group_columns}, count(*), "
            "sum(CASE WHEN s.lang = 'both' THEN 2 ELSE 1 END) "
            f"FROM subscriptions s WHERE {due} GROUP BY {group_columns}"
        )
        start = (
            "coalesce(s.start_date, '')"
            if self.sqlite
            else "coalesce(s.start_date, DATE '0001-01-01')"
        )
        self.match = (
            "s.next_run_at = p.next_run_at AND s.timezone = p.timezone "
            "AND s.post_time = p.post_time AND s.story_slug = p.story_slug AND s.mode = p.mode "
            f"AND {start} = p.start_key AND {matched}"
        )
        langs = " UNION ALL ".join(
            f"SELECT '{a}' AS sub_lang, '{b}' AS lang" for a, b in _LANG_ROWS
        )
        self.langs = f"({langs}) l"
        columns = ", ".join(_OUTBOX_COLUMNS)
        values = (
            "{sub}.id, {sub}.platform, t.digest_date, t.story_date, l.lang, t.scheduled_for, "
            f"t.status, t.late, 0, t.last_error, {mark}, {mark}"
        )
        if self.sqlite:
            # Serialised writers (BEGIN IMMEDIATE): enqueue, then advance the same rows.
            self.enqueue = (
                f"INSERT INTO deliveries ({columns}) "
                f"SELECT {values.format(sub='s')} "
                "FROM subscriptions s CROSS JOIN temp.tick_plan p "
                f"CROSS JOIN temp.tick_slot t CROSS JOIN {self.langs} "
                f"WHERE {self.match} AND s.next_run_at <= ? "
                "AND t.plan_id = p.plan_id AND l.sub_lang = s.lang "
                "ORDER BY s.id "
                f"ON CONFLICT {_OUTBOX_CONFLICT} DO NOTHING"
            )
            self.advance = (
                "UPDATE subscriptions AS s SET next_run_at = p.new_next_run_at "
                f"FROM temp.tick_plan p WHERE {self.match} AND s.next_run_at <= ?"
            )  # (the range: scan the due rows only, and find each one's plan by its key)
        else:
            # One statement: exactly the subscriptions advanced are enqueued.
            self.enqueue = (
                "WITH advanced AS ("
                "UPDATE subscriptions AS s SET next_run_at = p.new_next_run_at "
                f"FROM tick_plan p WHERE {self.match} "
                "RETURNING s.id, s.platform, s.lang, p.plan_id) "
                f"INSERT INTO deliveries ({columns}) "
                f"SELECT {values.format(sub='a')} "
                "FROM advanced a JOIN tick_slot t ON t.plan_id = a.plan_id "
                f"JOIN {self.langs} ON l.sub_lang = a.lang "
                f"ON CONFLICT {_OUTBOX_CONFLICT} DO NOTHING"
            )
            self.advance = ""

    @classmethod
    @lru_cache(maxsize=4)
    def of(cls, dialect: str) -> _TickSQL:
        return cls(dialect)

    def start_key(self, start: Any) -> Any:
        if start is not None:
            return start
        return "" if self.sqlite else dt.date(1, 1, 1)

    def lock(self, connection: Connection) -> None:
        if not self.sqlite:
            connection.exec_driver_sql("SELECT pg_advisory_xact_lock(%s)", (_TICK_LOCK,))
            return
        # A catch-up touches tens of MB of pages (subscriptions, the outbox and their
        # indexes): with SQLite's default 2 MB cache, dirty pages spill to the WAL mid-
        # transaction and are read back. A larger page cache for the tick only (see `release`).
        connection.exec_driver_sql(f"PRAGMA cache_size = -{_SQLITE_TICK_CACHE_KB}")

    def release(self, connection: Connection) -> None:
        """Give the tick's page cache back (the connection returns to the pool)."""
        if self.sqlite:
            connection.exec_driver_sql(f"PRAGMA cache_size = -{_SQLITE_CACHE_KB}")

    def upload(
        self,
        connection: Connection,
        plans: list[tuple[Any, ...]],
        slots: list[tuple[Any, ...]],
    ) -> None:
        plan_columns = (
            "plan_id, story_slug, post_time, timezone, mode, start_key, next_run_at, "
            "new_next_run_at"
        )
        slot_columns = "plan_id, digest_date, story_date, scheduled_for, status, late, last_error"
        if self.sqlite:
            for statement in (
                "CREATE TEMP TABLE IF NOT EXISTS tick_plan (plan_id INTEGER PRIMARY KEY, "
                "story_slug VARCHAR, post_time VARCHAR, timezone VARCHAR, mode VARCHAR, "
                "start_key VARCHAR, next_run_at DATETIME, new_next_run_at DATETIME)",
                "CREATE TEMP TABLE IF NOT EXISTS tick_slot (plan_id INTEGER, digest_date DATE, "
                "story_date DATE, scheduled_for DATETIME, status VARCHAR, late BOOLEAN, "
                "last_error TEXT)",
                "CREATE INDEX IF NOT EXISTS temp.tick_plan_key "
                "ON tick_plan (next_run_at, timezone, post_time)",
                "CREATE INDEX IF NOT EXISTS temp.tick_slot_plan ON tick_slot (plan_id)",
                "DELETE FROM temp.tick_plan",
                "DELETE FROM temp.tick_slot",
            ):
                connection.exec_driver_sql(statement)
            connection.exec_driver_sql(
                f"INSERT INTO temp.tick_plan VALUES ({', '.join('?' * 8)})", plans
            )
            if slots:
                connection.exec_driver_sql(
                    f"INSERT INTO temp.tick_slot VALUES ({', '.join('?' * 7)})", slots
                )
            return
        connection.exec_driver_sql(
            "CREATE TEMP TABLE tick_plan (plan_id integer, story_slug text, post_time text, "
            "timezone text, mode text, start_key date, next_run_at timestamptz, "
            "new_next_run_at timestamptz) ON COMMIT DROP"
        )
        connection.exec_driver_sql(
            "CREATE TEMP TABLE tick_slot (plan_id integer, digest_date date, story_date date, "
            "scheduled_for timestamptz, status text, late boolean, last_error text) "
            "ON COMMIT DROP"
        )
        cursor = connection.connection.cursor()
        try:
            for table, columns, rows in (
                ("tick_plan", plan_columns, plans),
                ("tick_slot", slot_columns, slots),
            ):
                with cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
        finally:
            cursor.close()
        connection.exec_driver_sql("ANALYZE tick_plan")
        connection.exec_driver_sql("ANALYZE tick_slot")

    def apply(self, connection: Connection, *, limit: Any, now: Any) -> None:
        if self.sqlite:
            connection.exec_driver_sql(self.enqueue, (now, now, limit))
            connection.exec_driver_sql(self.advance, (limit,))
        else:
            connection.exec_driver_sql(self.enqueue, (limit, now, now))


def tick(
    store: Store,
    library: StoryLibrary,
    now: dt.datetime,
    *,
    grace: dt.timedelta = dt.timedelta(hours=6),
    no_news_line: bool = False,
    batch_size: int = 100_000,
) -> TickResult:
    """Turn every subscription due at ``now`` into outbox rows and advance its ``next_run_at``.

    The work is done per *schedule*, not per subscription: due subscriptions are grouped in SQL
    by what decides their posts (story, post time, time zone, mode, replay start, next run);
    each group's slots (late/skipped, story day) and next run are planned once in Python and
    uploaded to a temporary table; the outbox rows and the new ``next_run_at`` then come from
    two set-based statements joining that table to ``subscriptions``. No subscription row
    travels through Python, so a catch-up of 100,000 subscriptions stays well under a second.
    Groups are handled in chunks of about ``batch_size`` subscriptions (by ``next_run_at``, so
    a group never straddles two chunks), one transaction each: fewer, larger transactions are
    cheaper (SQLite writes each touched page to the WAL once per commit), and no row of the
    chunk is held in Python, only its groups.

    Safe to run concurrently from several processes: ticks are serialised (SQLite:
    ``BEGIN IMMEDIATE``; PostgreSQL: a transaction-level advisory lock), the statements only
    touch subscriptions still matching their planned schedule (a subscription changed or
    advanced meanwhile is left alone), and the outbox's unique key makes any double enqueue a
    no-op anyway (``INSERT ... ON CONFLICT DO NOTHING``).
    """
    sql = _TickSQL.of(store.dialect)
    raw_now = _raw(store.dialect, now)
    plans: dict[tuple[Any, ...], _Plan] = {}
    total = TickResult()
    context = _PlanContext(sql.dialect, library, now, grace, no_news_line)
    with store.engine.connect() as connection:
        try:
            while True:
                with connection.begin():
                    result, done = _tick_chunk(connection, sql, context, plans, raw_now, batch_size)
                total += result
                if done:
                    break
        finally:
            sql.release(connection)
    if total.due:
        _log.info(
            "tick: %d due, %d enqueued (%d late), %d skipped",
            total.due,
            total.enqueued,
            total.late,
            total.skipped,
        )
    return total


def _tick_chunk(
    connection: Connection,
    sql: _TickSQL,
    context: _PlanContext,
    plans: dict[tuple[Any, ...], _Plan],
    raw_now: Any,
    batch_size: int,
) -> tuple[TickResult, bool]:
    """One chunk of a tick, in the caller's transaction: -> (what it did, whether it was the
    last chunk)."""
    result = TickResult()
    sql.lock(connection)
    bound = connection.exec_driver_sql(sql.boundary, (raw_now, max(batch_size, 1) - 1))
    limit = bound.scalar()
    if limit is None:
        limit = raw_now
    groups = connection.exec_driver_sql(sql.groups, (limit,)).all()
    if not groups:
        return result, True
    plan_rows: list[tuple[Any, ...]] = []
    slot_rows: list[tuple[Any, ...]] = []
    for plan_id, (slug, post_time, tz, mode, start, next_run, count, lang_rows) in enumerate(
        groups
    ):
        key = (slug, post_time, tz, mode, start, next_run)
        plan = plans.get(key)
        if plan is None:
            plan = plans[key] = _plan(context, slug, post_time, tz, mode, start, next_run)
        result.due += count
        result.enqueued += plan.enqueued * lang_rows
        result.late += plan.late * lang_rows
        result.skipped += plan.skipped * lang_rows
        result.finished += count if plan.finished else 0
        plan_rows.append(
            (plan_id, slug, post_time, tz, mode, sql.start_key(start), next_run, plan.next_run)
        )
        slot_rows.extend((plan_id, *slot) for slot in plan.slots)
    sql.upload(connection, plan_rows, slot_rows)
    sql.apply(connection, limit=limit, now=raw_now)
    return result, limit == raw_now


@dataclass
class _Plan:
    """What a tick does to every subscription of one schedule group (per language row)."""

    slots: list[tuple[Any, ...]]  # digest_date, story_date, scheduled_for, status, late, error
    next_run: Any  # raw new next_run_at (None: a finished replay)
    enqueued: int = 0
    late: int = 0
    skipped: int = 0
    finished: bool = False


class _PlanContext:
    """What every plan of one tick shares, with the tick's caches: a catch-up plans tens of
    thousands of groups (one per post time and zone) over a handful of days and stories."""

    def __init__(
        self,
        dialect: str,
        library: StoryLibrary,
        now: dt.datetime,
        grace: dt.timedelta,
        no_news_line: bool,
    ) -> None:
        self.dialect = dialect
        self.library = library
        self.now = now
        self.grace = grace
        self.no_news_line = no_news_line
        self.skip_error = f"(grace {_hours(grace)}): not posted"
        self._stories: dict[str, Story | None] = {}
        self._news: dict[tuple[str, dt.date], bool] = {}
        self._raw_dates: dict[dt.date, Any] = {}
        self.raw_true = _raw(dialect, True)
        self.raw_false = _raw(dialect, False)

    def story(self, slug: str) -> Story | None:
        try:
            return self._stories[slug]
        except KeyError:
            pass
        try:
            story: Story | None = self.library.get(slug)
        except DepecheError:
            story = None  # the worker fails it permanently and pauses the subscription, visibly
        self._stories[slug] = story
        return story

    def has_news(self, slug: str, story: Story, day: dt.date) -> bool:
        key = (slug, day)
        news = self._news.get(key)
        if news is None:
            news = self._news[key] = bool(story.events_on(day))
        return news

    def raw_date(self, day: dt.date) -> Any:
        raw = self._raw_dates.get(day)
        if raw is None:
            raw = self._raw_dates[day] = _raw(self.dialect, day)
        return raw


def _plan(
    context: _PlanContext,
    story_slug: str,
    post_time: str,
    tz: str,
    mode: str,
    raw_start: Any,
    raw_next_run: Any,
) -> _Plan:
    plan = _Plan([], None)
    story = context.story(story_slug)
    now, grace, dialect = context.now, context.grace, context.dialect
    start_date = _from_raw_date(raw_start)
    zone = zone_of(tz)
    slot = _from_raw_datetime(raw_next_run)
    slots = 0
    while slot <= now:
        slots += 1
        if slots > MAX_CATCH_UP_SLOTS:  # down for more than a year: jump near `now`
            slot = next_fire(post_time, tz, now - grace - dt.timedelta(days=2))
            slots = 0
            continue
        local_day = slot.astimezone(zone).date()
        story_day = story_date_for(mode, local_day, start_date, story) if story else local_day
        if story is not None and mode == "replay" and story_day > story.last_day:
            plan.finished = True
            return plan  # the replay is over; nothing more to post (next_run_at -> NULL)
        has_news = story is None or context.has_news(story_slug, story, story_day)
        if has_news or context.no_news_line:
            missed_by = now - slot
            skipped = missed_by > grace
            late = not skipped and missed_by > LATE_AFTER
            error = f"missed by {_hours(missed_by)} {context.skip_error}" if skipped else None
            plan.slots.append(
                (
                    context.raw_date(local_day),
                    context.raw_date(story_day),
                    _raw(dialect, slot),
                    SKIPPED if skipped else PENDING,
                    context.raw_true if late else context.raw_false,
                    error,
                )
            )
            if skipped:
                plan.skipped += 1
            else:
                plan.enqueued += 1
                plan.late += late
        slot = next_fire(post_time, tz, slot)
    plan.next_run = _raw(dialect, slot)
    return plan


def _hours(delta: dt.timedelta) -> str:
    hours = delta.total_seconds() / 3600
    return f"{hours:.1f} h"


# --------------------------------------------------------------------------- the runner


class StoryRefresher(Protocol):
    def refresh(self) -> object: ...


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
    # Serves newly published story revisions before each tick (bot.stories.LiveStories).
    stories: StoryRefresher | None = None
    _busy: bool = field(default=False, init=False, repr=False)
    _outage: OutageLog = field(default_factory=OutageLog, init=False, repr=False)

    async def step(self, now: dt.datetime | None = None) -> tuple[TickResult, WorkResult]:
        now = now or self.clock()
        if self.stories is not None:
            try:
                await asyncio.to_thread(self.stories.refresh)
            except Exception as error:  # the database is down: serve what we have; the tick
                # below reports the outage once (no traceback per tick)
                _log.debug("could not check for new story revisions: %s", error)
        # In a thread: a big catch-up tick must not stall the platforms' gateways (heartbeats).
        planned = await asyncio.to_thread(
            tick, self.store, self.library, now, grace=self.grace, no_news_line=self.no_news_line
        )
        worked = await self.worker.run_until_idle(now)
        return planned, worked

    async def _job(self) -> None:
        if self._busy:  # the previous tick still runs (a big catch-up, a slow database)
            _log.debug("tick skipped: the previous one is still running")
            return
        self._busy = True
        try:
            await self.step()
            self._outage.up()
        except asyncio.CancelledError:  # shutdown while a tick runs: it is retried at next start
            _log.debug("tick cancelled by shutdown")
        except Exception as error:  # keep the scheduler alive; the next tick retries
            if is_outage(error):
                self._outage.down(error)  # one warning per outage, not a traceback per tick
            else:
                _log.exception("tick failed")
        finally:
            self._busy = False

    def start(self, tick_seconds: float) -> AsyncIOScheduler:
        """Start an `AsyncIOScheduler` (in the running loop) ticking every ``tick_seconds``."""
        from apscheduler.schedulers.asyncio import AsyncIOScheduler
        from apscheduler.triggers.interval import IntervalTrigger  # type: ignore[import-untyped]

        scheduler = AsyncIOScheduler(timezone=dt.UTC)
        scheduler.add_job(
            self._job,
            IntervalTrigger(seconds=tick_seconds, timezone=dt.UTC),
            id=TICK_JOB_ID,
            replace_existing=True,
            coalesce=True,
            max_instances=2,  # a tick that finds the previous one running skips quietly
            misfire_grace_time=max(1, int(tick_seconds)),
            next_run_time=dt.datetime.now(dt.UTC),
        )
        scheduler.start()
        return scheduler
