"""Daily schedules: pure time maths (each subscription's next post time, DST, the story day
of a post), and the `Runner` that fires the tick on minute boundaries.

The database, not APScheduler, decides who delivers what: APScheduler (3.11, its own job store
cannot be shared between processes) only wakes every instance up on minute boundaries. Each
wake-up runs the tick (`bot.outbox.tick`), which turns *due* subscriptions into rows of the
deliveries outbox in small committed chunks and wakes the delivery worker after each one. The
worker (`bot.delivery`) runs continuously beside it: a long fan-out never delays a tick.

``next_run_at`` is computed with APScheduler's `CronTrigger` in the subscription's time zone
(DST-correct: a post at 08:00 stays at 08:00 local across the changes) and stored in UTC.

Catch-up after downtime: see `bot.outbox.tick`.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import re
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Protocol
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger  # type: ignore[import-untyped]

from bot.metrics import TICK_SECONDS, timed
from bot.store.health import OutageLog, is_outage
from digests.story import Story, StoryLibrary
from digests.weekdays import ALL_DAYS

if TYPE_CHECKING:
    from apscheduler.schedulers.asyncio import AsyncIOScheduler  # type: ignore[import-untyped]

    from bot.delivery import DeliveryWorker, WorkResult
    from bot.outbox import TickResult
    from bot.store import Store

_log = logging.getLogger(__name__)

TICK_JOB_ID = "depeche-tick"
TIME_RE = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


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


def next_fire_on(post_time: str, tz: str, after: dt.datetime, days: int = ALL_DAYS) -> dt.datetime:
    """`next_fire` on the days of the week of ``days`` only (a mask, Monday = bit 0, see
    `digests.weekdays`): the first post time strictly after ``after`` whose *local* date falls
    on one of them. The DST rules are `next_fire`'s: each candidate day is one of its answers.

    >>> paris = zone_of("Europe/Paris")
    >>> friday = dt.datetime(2024, 3, 29, 9, 0, tzinfo=paris)  # after Friday's 08:00
    >>> next_fire_on("08:00", "Europe/Paris", friday, 0b0011111).astimezone(paris).isoformat()
    '2024-04-01T08:00:00+02:00'
    """
    fire = next_fire(post_time, tz, after)
    if days & ALL_DAYS == ALL_DAYS:
        return fire
    if not days & ALL_DAYS:
        raise ValueError("a schedule needs at least one day of the week")
    zone = zone_of(tz)
    for _ in range(8):  # at most a week ahead (and one more for a repeated wall time)
        if days >> fire.astimezone(zone).weekday() & 1:
            return fire
        fire = next_fire(post_time, tz, fire)
    raise AssertionError("no day of the week matched in eight posts")  # pragma: no cover


def first_run(
    *,
    post_time: str,
    tz: str,
    mode: str,
    start_date: dt.date | None,
    now: dt.datetime,
    days: int = ALL_DAYS,
) -> dt.datetime:
    """Next run of a new (or rescheduled, or resumed) subscription, on one of its ``days``.

    Live: the next post time after ``now``. Replay: the post time on ``start_date`` (story day
    1), or on the first chosen day from it; when that is already past (start today, later than
    the post time), the tick posts it late within the grace period, or records it skipped.
    """
    if mode == "replay" and start_date is not None:
        zone = zone_of(tz)
        midnight = dt.datetime.combine(start_date, dt.time(0, 0), tzinfo=zone)
        return next_fire_on(post_time, tz, midnight - dt.timedelta(microseconds=1), days)
    return next_fire_on(post_time, tz, now - dt.timedelta(microseconds=1), days)


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


def tick(
    store: Store,
    library: StoryLibrary,
    now: dt.datetime,
    *,
    grace: dt.timedelta = dt.timedelta(hours=6),
    no_news_line: bool = False,
    batch_size: int | None = None,
) -> TickResult:
    """One tick, blocking (tests, tools): `bot.outbox.Outbox.enqueue_due_sync`."""
    from bot.outbox import CHUNK_SIZE, Outbox

    return Outbox(store).enqueue_due_sync(
        library,
        now,
        grace=grace,
        no_news_line=no_news_line,
        chunk_size=batch_size or CHUNK_SIZE,
    )


# --------------------------------------------------------------------------- the runner


class StoryRefresher(Protocol):
    served: dict[str, int]  # slug -> the revision served

    def refresh(self) -> list[tuple[str, int]]: ...


class UpdateScanner(Protocol):
    """Enqueues corrections and breaking alerts (`bot.outbox.corrections.UpdatesOutbox`)."""

    async def scan(
        self, served: dict[str, int], new: Sequence[tuple[str, int, int | None]], now: dt.datetime
    ) -> Any: ...


def _minute_floor(moment: dt.datetime) -> dt.datetime:
    return moment.replace(second=0, microsecond=0)


@dataclass
class Runner:
    """One instance's scheduling: the tick on minute boundaries (APScheduler), beside the
    delivery worker's continuous loop, which each committed chunk of the tick wakes at once.
    ``await runner.step(now)`` (tick, then deliver until idle) drives it by hand for
    `simulate`, ``run --once`` and the tests."""

    store: Store
    library: StoryLibrary
    worker: DeliveryWorker
    grace: dt.timedelta = dt.timedelta(hours=6)
    no_news_line: bool = False
    clock: Callable[[], dt.datetime] = utcnow
    instance_id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    # Serves newly published story revisions before each tick (bot.stories.LiveStories).
    stories: StoryRefresher | None = None
    # Corrections of posts already out and breaking alerts, after each refresh.
    updates: UpdateScanner | None = None
    _busy: bool = field(default=False, init=False, repr=False)
    # (slug, revision newly served, revision served before): breaking alerts still to enqueue
    _new_revisions: list[tuple[str, int, int | None]] = field(
        default_factory=list, init=False, repr=False
    )
    _outage: OutageLog = field(default_factory=OutageLog, init=False, repr=False)
    chunk_size: int | None = None
    _scheduler: Any = field(default=None, init=False, repr=False)
    _tasks: list[asyncio.Task[None]] = field(default_factory=list, init=False, repr=False)

    @timed(TICK_SECONDS)
    async def tick(self, now: dt.datetime | None = None) -> TickResult:
        """Enqueue what is due at ``now`` (in a thread: a big catch-up must not stall the
        platforms' gateways); the worker is woken after each committed chunk."""
        from bot.outbox import CHUNK_SIZE

        now = now or self.clock()
        if self.stories is not None:
            try:
                before = dict(self.stories.served)
                self._new_revisions += [
                    (slug, number, before.get(slug))
                    for slug, number in await asyncio.to_thread(self.stories.refresh)
                ]
            except Exception as error:  # the database is down: serve what we have, tick anyway
                if is_outage(error):
                    _log.debug("could not check for new story revisions: database unreachable")
                else:
                    _log.exception("could not check for new story revisions")
            if self.updates is not None:
                await self._scan_updates(now)
        return await self.worker.outbox.enqueue_due(
            self.library,
            now or self.clock(),
            grace=self.grace,
            no_news_line=self.no_news_line,
            chunk_size=self.chunk_size or CHUNK_SIZE,
            on_chunk=lambda _result: self.worker.wake(),
        )

    async def _scan_updates(self, now: dt.datetime) -> None:
        """Corrections and breaking alerts of the revisions served (the breaking scan of a new
        revision is kept until it succeeds once on this instance)."""
        assert self.stories is not None and self.updates is not None
        new = list(dict.fromkeys(self._new_revisions))
        try:
            result = await self.updates.scan(dict(self.stories.served), new, now)
        except Exception as error:
            if is_outage(error):
                _log.debug("could not look for corrections: database unreachable")
            else:
                _log.exception("could not look for corrections and breaking alerts")
            return
        self._new_revisions = []
        if getattr(result, "corrections", 0) or getattr(result, "alerts", 0):
            self.worker.wake()

    async def step(self, now: dt.datetime | None = None) -> tuple[TickResult, WorkResult]:
        now = now or self.clock()
        planned = await self.tick(now)
        worked = await self.worker.run_until_idle(now)
        return planned, worked

    async def _job(self) -> None:
        if self._busy:  # the previous tick still runs (a big catch-up, a slow database)
            _log.debug("tick skipped: the previous one is still running")
            return
        self._busy = True
        try:
            await self.tick()
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

    def start(self, tick_seconds: float, *, deliver: bool = True) -> AsyncIOScheduler:
        """Start an `AsyncIOScheduler` (in the running loop) ticking every ``tick_seconds`` from
        a minute boundary (a divisor of 60 ticks on every minute boundary, where posts are
        due), one tick at once (a catch-up after downtime), and the worker's loop."""
        from apscheduler.schedulers.asyncio import AsyncIOScheduler
        from apscheduler.triggers.interval import IntervalTrigger  # type: ignore[import-untyped]

        now = dt.datetime.now(dt.UTC)
        scheduler = AsyncIOScheduler(timezone=dt.UTC)
        # No `next_run_time` override: the trigger's own times stay aligned on `start_date`
        # (after a run at another time, IntervalTrigger counts from that run instead).
        scheduler.add_job(
            self._job,
            IntervalTrigger(seconds=tick_seconds, start_date=_minute_floor(now), timezone=dt.UTC),
            id=TICK_JOB_ID,
            replace_existing=True,
            coalesce=True,
            max_instances=2,  # a tick that finds the previous one running skips quietly
            misfire_grace_time=max(1, int(tick_seconds)),
        )
        scheduler.start()
        self._scheduler = scheduler
        self._tasks.append(asyncio.create_task(self._job(), name="catch-up-tick"))
        if deliver:
            self._tasks.append(asyncio.create_task(self.worker.serve(), name="delivery-worker"))
        return scheduler

    async def stop(self) -> None:
        """Stop ticking and delivering (a delivery cut short is reconciled at next start)."""
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=False)
            self._scheduler = None
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
