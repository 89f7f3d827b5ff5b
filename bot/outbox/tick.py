"""The tick's half of the outbox: turn due subscriptions into ``deliveries`` rows, in chunks.

Each wake-up of the scheduler runs `enqueue_due`, which turns *due* subscriptions into outbox
rows, unique on (subscription, digest date, language): a second instance or a restart enqueuing
the same post is a no-op (``INSERT ... ON CONFLICT DO NOTHING``).

The work is done per *schedule*, not per subscription: due subscriptions of a chunk are grouped
in SQL by what decides their posts (story, post time, time zone, mode, replay start, next run);
each group's slots (late/skipped, story day) and next run are planned once in Python (`_plan`,
pure time maths from `bot.schedule`) and uploaded to a temporary table; the outbox rows and the
new ``next_run_at`` then come from set-based statements joining that table to
``subscriptions``. No subscription row travels through Python.

Chunks: the due set is cut by the key ``(next_run_at, id)`` into chunks of about ``chunk_size``
subscriptions, **one transaction each**, so that 100,000 subscriptions due at the same minute
never hold the tick's lock (or a writer's lock on SQLite) for long, and the worker can start
posting as soon as the first chunk commits (``on_chunk`` is called after each commit). A
schedule group may span two chunks: its plan is computed once and reused.

Catch-up after downtime: a slot missed by less than the grace period is enqueued and marked
``late``; an older one is recorded ``skipped`` (shown by ``status``). Never both, never twice.

Safe to run concurrently from several processes: chunks are serialised (SQLite: ``BEGIN
IMMEDIATE``; PostgreSQL: a transaction-level advisory lock), the statements only touch
subscriptions still matching their planned schedule, and the outbox's unique key makes any
double enqueue a no-op anyway.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection

from bot.schedule import next_fire_on, story_date_for, zone_of
from bot.store import PENDING, SKIPPED, Store
from digests.errors import DepecheError
from digests.story import Story, StoryLibrary

_log = logging.getLogger(__name__)

MAX_CATCH_UP_SLOTS = 400  # beyond this many missed days, jump ahead (recording the last ones)
LATE_AFTER = dt.timedelta(minutes=10)  # a post enqueued more than this after its slot is "late"
CHUNK_SIZE = 2_000  # subscriptions per tick transaction (tens of milliseconds each)
WEEKLY = "weekly"  # the cadence of a roll-up of the week (subscriptions.cadence)
WEEK_DAYS = 7  # story days in a weekly roll-up, ending on the post's story day


@dataclass
class TickResult:
    due: int = 0
    enqueued: int = 0
    late: int = 0
    skipped: int = 0
    finished: int = 0  # replays that reached the story's end
    chunks: int = 0  # transactions committed

    def __iadd__(self, other: TickResult) -> TickResult:
        for name in ("due", "enqueued", "late", "skipped", "finished", "chunks"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        return self


_OUTBOX_COLUMNS = (
    "subscription_id", "platform", "digest_date", "story_date", "lang", "scheduled_for",
    "status", "late", "attempts", "last_error", "next_attempt_at", "created_at",
)  # fmt: skip
# The conflict target: the partial unique index of scheduled posts (uq_deliveries_scheduled);
# `kind` takes its default, 'scheduled'.
_OUTBOX_CONFLICT = "(subscription_id, digest_date, lang) WHERE kind = 'scheduled'"
_TICK_LOCK = 724_002  # PostgreSQL advisory lock id: one tick chunk at a time across instances
_SQLITE_TICK_CACHE_KB = 65_536  # SQLite page cache during a tick (a ceiling, filled on demand)
_SQLITE_CACHE_KB = 2_000  # SQLite's default, restored after the tick
_LAST_ID = 2**62  # the key of "every due subscription" (the last chunk)
# A subscription's language -> the languages of its posts.
_LANG_ROWS = (("fr", "fr"), ("en", "en"), ("both", "fr"), ("both", "en"))


def raw_value(dialect: str, value: Any) -> Any:
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
    assert value is None or isinstance(value, dt.date)
    return value


class _TickSQL:
    """The tick's statements for one dialect (plain SQL with named parameters: they run once
    per chunk). Parameters: ``now``, and the chunk's last key ``last_run``/``last_id``."""

    def __init__(self, dialect: str) -> None:
        self.dialect = dialect
        self.sqlite = dialect == "sqlite"

        def p(name: str) -> str:
            return f":{name}" if self.sqlite else f"%({name})s"

        active = "s.active = 1" if self.sqlite else "s.active IS TRUE"
        due = f"{active} AND s.next_run_at <= {p('now')}"
        in_chunk = (
            f"(s.next_run_at < {p('last_run')} "
            f"OR (s.next_run_at = {p('last_run')} AND s.id <= {p('last_id')}))"
        )
        group_columns = (
            "s.story_slug, s.post_time, s.timezone, s.mode, s.start_date, s.next_run_at, "
            "s.days, s.cadence"
        )
        # The chunk's last key: the `chunk_size`-th due subscription by (next_run_at, id).
        self.boundary = (
            f"SELECT s.next_run_at, s.id FROM subscriptions s WHERE {due} "
            f"ORDER BY s.next_run_at, s.id LIMIT 1 OFFSET {p('offset')}"
        )
        self.groups = (
            f"SELECT {group_columns}, count(*), "
            "sum(CASE WHEN s.lang = 'both' THEN 2 ELSE 1 END) "
            f"FROM subscriptions s WHERE {due} AND {in_chunk} GROUP BY {group_columns}"
        )
        start = (
            "coalesce(s.start_date, '')"
            if self.sqlite
            else "coalesce(s.start_date, DATE '0001-01-01')"
        )
        self.match = (
            "s.next_run_at = p.next_run_at AND s.timezone = p.timezone "
            "AND s.post_time = p.post_time AND s.story_slug = p.story_slug AND s.mode = p.mode "
            "AND s.days = p.days AND s.cadence = p.cadence "
            f"AND {start} = p.start_key AND {due} AND {in_chunk}"
        )
        langs = " UNION ALL ".join(
            f"SELECT '{a}' AS sub_lang, '{b}' AS lang" for a, b in _LANG_ROWS
        )
        self.langs = f"({langs}) l"
        columns = ", ".join(_OUTBOX_COLUMNS)
        values = (
            "{sub}.id, {sub}.platform, t.digest_date, t.story_date, l.lang, t.scheduled_for, "
            f"t.status, t.late, 0, t.last_error, {p('now')}, {p('now')}"
        )
        if self.sqlite:
            # Serialised writers (BEGIN IMMEDIATE): enqueue, then advance the same rows.
            self.enqueue = (
                f"INSERT INTO deliveries ({columns}) "
                f"SELECT {values.format(sub='s')} "
                "FROM subscriptions s CROSS JOIN temp.tick_plan p "
                f"CROSS JOIN temp.tick_slot t CROSS JOIN {self.langs} "
                f"WHERE {self.match} "
                "AND t.plan_id = p.plan_id AND l.sub_lang = s.lang "
                "ORDER BY s.id "
                f"ON CONFLICT {_OUTBOX_CONFLICT} DO NOTHING"
            )
            self.advance = (
                "UPDATE subscriptions AS s SET next_run_at = p.new_next_run_at "
                f"FROM temp.tick_plan p WHERE {self.match}"
            )
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

    @staticmethod
    @lru_cache(maxsize=4)
    def of(dialect: str) -> _TickSQL:
        return _TickSQL(dialect)

    def start_key(self, start: Any) -> Any:
        if start is not None:
            return start
        return "" if self.sqlite else dt.date(1, 1, 1)

    def lock(self, connection: Connection) -> None:
        if not self.sqlite:
            connection.exec_driver_sql("SELECT pg_advisory_xact_lock(%s)", (_TICK_LOCK,))
            return
        # A chunk touches many pages (subscriptions, the outbox and their indexes): with
        # SQLite's default 2 MB cache, dirty pages spill to the WAL mid-transaction and are
        # read back. A larger page cache for the tick only (see `release`).
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
            "new_next_run_at, days, cadence"
        )
        slot_columns = "plan_id, digest_date, story_date, scheduled_for, status, late, last_error"
        if self.sqlite:
            for statement in (
                "CREATE TEMP TABLE IF NOT EXISTS tick_plan (plan_id INTEGER PRIMARY KEY, "
                "story_slug VARCHAR, post_time VARCHAR, timezone VARCHAR, mode VARCHAR, "
                "start_key VARCHAR, next_run_at DATETIME, new_next_run_at DATETIME, "
                "days INTEGER, cadence VARCHAR)",
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
                f"INSERT INTO temp.tick_plan VALUES ({', '.join('?' * 10)})", plans
            )
            if slots:
                connection.exec_driver_sql(
                    f"INSERT INTO temp.tick_slot VALUES ({', '.join('?' * 7)})", slots
                )
            return
        connection.exec_driver_sql(
            "CREATE TEMP TABLE tick_plan (plan_id integer, story_slug text, post_time text, "
            "timezone text, mode text, start_key date, next_run_at timestamptz, "
            "new_next_run_at timestamptz, days integer, cadence text) ON COMMIT DROP"
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

    def apply(self, connection: Connection, params: dict[str, Any]) -> None:
        connection.exec_driver_sql(self.enqueue, params)
        if self.advance:
            connection.exec_driver_sql(self.advance, params)


def enqueue_due(
    store: Store,
    library: StoryLibrary,
    now: dt.datetime,
    *,
    grace: dt.timedelta = dt.timedelta(hours=6),
    no_news_line: bool = False,
    chunk_size: int = CHUNK_SIZE,
    on_chunk: Callable[[TickResult], None] | None = None,
) -> TickResult:
    """Turn every subscription due at ``now`` into outbox rows and advance its ``next_run_at``,
    one committed transaction per chunk of about ``chunk_size`` subscriptions; ``on_chunk`` is
    called after each commit that enqueued something (the worker's wake-up)."""
    sql = _TickSQL.of(store.dialect)
    raw_now = raw_value(store.dialect, now)
    plans: dict[tuple[Any, ...], _Plan] = {}
    total = TickResult()
    context = _PlanContext(sql.dialect, library, now, grace, no_news_line)
    previous: tuple[Any, Any] | None = None
    with store.engine.connect() as connection:
        try:
            while True:
                with store.gate.bulk(), connection.begin():  # the worker's writes go first
                    result, last = _chunk(connection, sql, context, plans, raw_now, chunk_size)
                total += result
                if result.enqueued and on_chunk is not None:
                    on_chunk(result)
                if last is None or last == previous:  # done (or no progress: leave the rest)
                    break
                previous = last
        finally:
            sql.release(connection)
    if total.due:
        _log.info(
            "tick: %d due, %d enqueued (%d late), %d skipped, %d transaction(s)",
            total.due,
            total.enqueued,
            total.late,
            total.skipped,
            total.chunks,
        )
    return total


def _chunk(
    connection: Connection,
    sql: _TickSQL,
    context: _PlanContext,
    plans: dict[tuple[Any, ...], _Plan],
    raw_now: Any,
    chunk_size: int,
) -> tuple[TickResult, tuple[Any, Any] | None]:
    """One chunk of a tick, in the caller's transaction: -> (what it did, the chunk's last key,
    or None when it was the last chunk)."""
    result = TickResult()
    sql.lock(connection)
    bound = connection.exec_driver_sql(
        sql.boundary, {"now": raw_now, "offset": max(chunk_size, 1) - 1}
    ).first()
    last: tuple[Any, Any] | None = (bound[0], bound[1]) if bound is not None else None
    params = {
        "now": raw_now,
        "last_run": last[0] if last else raw_now,
        "last_id": last[1] if last else _LAST_ID,
    }
    groups = connection.exec_driver_sql(sql.groups, params).all()
    if not groups:
        return result, None
    plan_rows: list[tuple[Any, ...]] = []
    slot_rows: list[tuple[Any, ...]] = []
    for plan_id, row in enumerate(groups):
        slug, post_time, tz, mode, start, next_run, days, cadence, count, lang_rows = row
        key = (slug, post_time, tz, mode, start, next_run, days, cadence)
        plan = plans.get(key)
        if plan is None:
            schedule = _Schedule(slug, post_time, tz, mode, start, days, cadence)
            plan = plans[key] = _plan(context, schedule, next_run)
        result.due += count
        result.enqueued += plan.enqueued * lang_rows
        result.late += plan.late * lang_rows
        result.skipped += plan.skipped * lang_rows
        result.finished += count if plan.finished else 0
        plan_rows.append(
            (
                plan_id,
                slug,
                post_time,
                tz,
                mode,
                sql.start_key(start),
                next_run,
                plan.next_run,
                days,
                cadence,
            )
        )
        slot_rows.extend((plan_id, *slot) for slot in plan.slots)
    sql.upload(connection, plan_rows, slot_rows)
    sql.apply(connection, params)
    result.chunks = 1
    return result, last


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
        self._news: dict[tuple[str, dt.date, str], bool] = {}
        self._raw_dates: dict[dt.date, Any] = {}
        self.raw_true = raw_value(dialect, True)
        self.raw_false = raw_value(dialect, False)

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

    def has_news(self, slug: str, story: Story, day: dt.date, cadence: str = "daily") -> bool:
        """Whether the post of ``day`` has news: the day's events, or (weekly) those of the
        seven story days ending on ``day``."""
        key = (slug, day, cadence)
        news = self._news.get(key)
        if news is None:
            days = WEEK_DAYS if cadence == WEEKLY else 1
            news = self._news[key] = any(
                story.events_on(day - dt.timedelta(days=back)) for back in range(days)
            )
        return news

    def raw_date(self, day: dt.date) -> Any:
        raw = self._raw_dates.get(day)
        if raw is None:
            raw = self._raw_dates[day] = raw_value(self.dialect, day)
        return raw


@dataclass(frozen=True)
class _Schedule:
    """What decides the posts of a schedule group (as read from the database)."""

    story_slug: str
    post_time: str
    tz: str
    mode: str
    raw_start: Any
    days: int
    cadence: str


def _plan(context: _PlanContext, schedule: _Schedule, raw_next_run: Any) -> _Plan:
    plan = _Plan([], None)
    story_slug, post_time, tz, mode = (
        schedule.story_slug,
        schedule.post_time,
        schedule.tz,
        schedule.mode,
    )
    raw_start, days = schedule.raw_start, schedule.days
    story = context.story(story_slug)
    # A weekly replay posts until its roll-up no longer covers the story's last day.
    tail = dt.timedelta(days=WEEK_DAYS - 1 if schedule.cadence == WEEKLY else 0)
    now, grace, dialect = context.now, context.grace, context.dialect
    start_date = _from_raw_date(raw_start)
    zone = zone_of(tz)
    slot = _from_raw_datetime(raw_next_run)
    slots = 0
    while slot <= now:
        slots += 1
        if slots > MAX_CATCH_UP_SLOTS:  # down for more than a year: jump near `now`
            slot = next_fire_on(post_time, tz, now - grace - dt.timedelta(days=2), days)
            slots = 0
            continue
        local_day = slot.astimezone(zone).date()
        story_day = story_date_for(mode, local_day, start_date, story) if story else local_day
        if story is not None and mode == "replay" and story_day > story.last_day + tail:
            plan.finished = True
            return plan  # the replay is over; nothing more to post (next_run_at -> NULL)
        has_news = story is None or context.has_news(story_slug, story, story_day, schedule.cadence)
        if has_news or context.no_news_line:
            missed_by = now - slot
            skipped = missed_by > grace
            late = not skipped and missed_by > LATE_AFTER
            error = f"missed by {_hours(missed_by)} {context.skip_error}" if skipped else None
            plan.slots.append(
                (
                    context.raw_date(local_day),
                    context.raw_date(story_day),
                    raw_value(dialect, slot),
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
        slot = next_fire_on(post_time, tz, slot, days)
    plan.next_run = raw_value(dialect, slot)
    return plan


def _hours(delta: dt.timedelta) -> str:
    hours = delta.total_seconds() / 3600
    return f"{hours:.1f} h"
