"""One rate budget per bot, shared by every instance that uses the same database and token.

Discord's global limit (50 requests/s) is per bot, not per process: three `depeche run`
processes sharing a token must share it. The budget is a GCRA token bucket *in the database*
(table ``rate_budgets``): one row per bot and limit holds the theoretical arrival time (TAT)
of the next request. An instance reserves a **run of consecutive slots** in one statement::

    tat = max(tat, now) + count / rate    -- returns the new tat; slots start at tat - span

and spends them locally, one request per slot (`SharedBudget.acquire`). Runs reserved by
different instances never overlap, so together they never go past ``rate``, whatever the
number of instances. Why this rather than heartbeats with 1/n shares each (see
docs/delivery.md): no instance ever holds a share it does not use (an idle instance reserves
nothing), a new or dead instance changes nothing to anyone's rate, and a 429 from the platform
holds every instance at once (`SharedBudget.hold`). The cost is one database round trip per run
of slots, not per request: a run covers the requests waiting at that moment, at most
``chunk_seconds`` of the rate (default 0.25 s, 12 requests at 48/s), and an instance reserves
its next run only when what it holds ends within ``horizon`` seconds, so a killed instance
wastes at most ``horizon + chunk_seconds`` of the budget.

Slots are wall-clock times (epoch seconds): instances on several hosts need synchronised
clocks (NTP), which the default margin (48 of Discord's 50 requests/s) covers. A slot missed by
more than ``late`` seconds (a stalled event loop) is dropped rather than spent late — also when
the stall comes while waiting for the slot — so a stall never turns into a burst.

The bot is named by a hash of its token (`bot_key`), never the token itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, cast

from sqlalchemy import Table, func
from sqlalchemy.dialects import postgresql, sqlite

from bot.store import RateBudget, Store

_log = logging.getLogger(__name__)

KEY_MAX = 80  # rate_budgets.key
RETRY_SECONDS = 1.0  # after a failed reservation (database unreachable)


def bot_key(platform: str, token: str, limit: str = "global") -> str:
    """``discord:3fa9c2...:global``: the budget's row key. A hash of the token, never the token."""
    digest = hashlib.sha256(token.encode()).hexdigest()[:24]
    key = f"{platform}:{digest}:{limit}"
    if len(key) > KEY_MAX:  # a long workspace id: hash the limit's name too
        key = f"{platform}:{digest}:h{hashlib.sha256(limit.encode()).hexdigest()[:32]}"
    return key


def _upsert(store: Store, tat: float, new_tat: Callable[[Any], Any]) -> Any:
    """``INSERT ... ON CONFLICT (key) DO UPDATE SET tat = new_tat(greatest)``, per dialect."""
    table = cast(Table, RateBudget.__table__)
    if store.dialect == "postgresql":
        pg = postgresql.insert(table).values(tat=tat)
        return pg.on_conflict_do_update(
            index_elements=[table.c.key], set_={"tat": new_tat(func.greatest)}
        )
    lite = sqlite.insert(table).values(tat=tat)
    return lite.on_conflict_do_update(index_elements=[table.c.key], set_={"tat": new_tat(func.max)})


def reserve_slots(store: Store, key: str, count: int, interval: float, now: float) -> float:
    """Reserve ``count`` consecutive slots ``interval`` seconds apart, not before ``now``;
    return the first slot's time. One atomic statement (the row lock serialises instances)."""
    span = count * interval
    column = RateBudget.__table__.c.tat
    statement = (
        _upsert(store, now + span, lambda greatest: greatest(column, now) + span)
        .values(key=key)
        .returning(column)
    )
    with store.engine.begin() as connection:
        tat = float(connection.execute(statement).scalar_one())
    return tat - span


def hold_until(store: Store, key: str, until: float) -> None:
    """No slot before ``until`` for anyone (after a global 429)."""
    column = RateBudget.__table__.c.tat
    statement = _upsert(store, until, lambda greatest: greatest(column, until)).values(key=key)
    with store.engine.begin() as connection:
        connection.execute(statement)


Reserve = Callable[[int, float, float], Awaitable[float]]  # (count, interval, now) -> first slot


@dataclass
class SharedBudget:
    """``rate`` requests per second for every instance together (see the module docstring).

    ``await budget.acquire()`` waits for this instance's next slot of the shared budget.
    ``clock`` (epoch seconds) and ``sleep`` are injectable; so is ``reserve`` (tests)."""

    store: Store | None
    key: str
    rate: float
    chunk_seconds: float = 0.25
    horizon: float = 0.5
    late: float = 0.025
    clock: Callable[[], float] = time.time
    sleep: Callable[[float], Awaitable[object]] = asyncio.sleep
    reserve: Reserve | None = None
    reservations: int = field(init=False, default=0)  # database round trips so far
    granted: int = field(init=False, default=0)  # requests let through so far
    dropped: int = field(init=False, default=0)  # slots missed by more than `late`
    _slots: deque[float] = field(init=False, default_factory=deque)
    _waiters: deque[asyncio.Future[float]] = field(init=False, default_factory=deque)
    _end: float = field(init=False, default=0.0)  # end of the last run reserved
    _held: float = field(init=False, default=0.0)  # no slot before this (a 429)
    _rtt: float = field(init=False, default=0.0)  # smoothed reservation round trip
    _task: asyncio.Task[None] | None = field(init=False, default=None)
    _background: set[asyncio.Task[None]] = field(init=False, default_factory=set)

    def __post_init__(self) -> None:
        if self.rate <= 0:
            raise ValueError("rate must be positive")
        if self.reserve is None:
            if self.store is None:
                raise ValueError("a SharedBudget needs a store or a reserve function")
            self.reserve = self._reserve_in_db

    @property
    def interval(self) -> float:
        return 1.0 / self.rate

    @property
    def chunk(self) -> int:
        return max(1, int(self.rate * self.chunk_seconds))

    def __repr__(self) -> str:
        return f"<SharedBudget {self.key} {self.rate}/s>"

    async def _reserve_in_db(self, count: int, interval: float, now: float) -> float:
        assert self.store is not None
        return await asyncio.to_thread(reserve_slots, self.store, self.key, count, interval, now)

    async def acquire(self) -> float:
        """Wait for this instance's next slot; return the time waited (seconds)."""
        waited = 0.0
        while True:
            if self._slots:
                slot = self._slots.popleft()
            else:
                future: asyncio.Future[float] = asyncio.get_running_loop().create_future()
                self._waiters.append(future)
                self._ensure_reserving()
                slot = await future
            now = self.clock()
            if slot < now - self.late or slot < self._held:
                self.dropped += 1
                continue
            if slot > now:
                await self.sleep(slot - now)
                waited += slot - now
                if self.clock() > slot + self.late:  # the event loop stalled past our slot:
                    self.dropped += 1  # going now would bunch with the slots after it
                    continue
            self.granted += 1
            return waited

    def hold(self, seconds: float) -> None:
        """The platform said 429 (global): no slot for anyone, in any instance, for ``seconds``."""
        until = self.clock() + seconds
        self._held = max(self._held, until)
        if self.store is None:
            return
        task = asyncio.get_running_loop().create_task(self._hold_in_db(until))
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _hold_in_db(self, until: float) -> None:
        assert self.store is not None
        try:
            await asyncio.to_thread(hold_until, self.store, self.key, until)
        except Exception as error:
            _log.warning("could not share a rate-limit hold: %s", type(error).__name__)

    def _ensure_reserving(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._reserving())

    async def _reserving(self) -> None:
        """Reserve runs of slots while acquirers wait; hand them out in arrival order."""
        assert self.reserve is not None
        while True:
            while self._waiters and self._waiters[0].done():  # cancelled acquirers
                self._waiters.popleft()
            if not self._waiters:
                return
            now = self.clock()
            ahead = self._end - now
            if ahead > self.horizon:  # what we hold lasts: do not take the others' future
                await self.sleep(ahead - self.horizon)
                continue
            waiting = sum(1 for future in self._waiters if not future.done())
            count = min(waiting, self.chunk)
            not_before = max(now + self._rtt, self._held)
            started = time.monotonic()
            try:
                first = await self.reserve(count, self.interval, not_before)
            except Exception as error:
                _log.warning("rate budget %s: reservation failed (%s), retrying", self.key, error)
                await self.sleep(RETRY_SECONDS)
                continue
            rtt = time.monotonic() - started
            self._rtt = rtt if not self.reservations else 0.8 * self._rtt + 0.2 * rtt
            self.reservations += 1
            self._end = first + count * self.interval
            for index in range(count):
                self._slots.append(first + index * self.interval)
            while self._slots and self._waiters:
                waiter = self._waiters.popleft()
                if not waiter.done():
                    waiter.set_result(self._slots.popleft())

    async def close(self) -> None:
        for task in [self._task, *self._background]:
            if task is not None and not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        for waiter in self._waiters:
            waiter.cancel()
        self._waiters.clear()
