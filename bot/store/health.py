"""Database outages, told once: one warning when the database goes away, one line when it is
back, instead of a traceback on every tick; and the start-up wait for a database that is not
up yet (a container started a moment before its database)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from bot.store.engine import DatabaseUnreachable, Store, _reason

_log = logging.getLogger("depeche.database")

BACKOFF_FIRST_SECONDS = 1.0
BACKOFF_MAX_SECONDS = 30.0


def is_outage(error: BaseException) -> bool:
    """Whether ``error`` means "the database cannot be reached" (not a bug in a query)."""
    if isinstance(error, DatabaseUnreachable | OperationalError | InterfaceError):
        return True
    return isinstance(error, DBAPIError) and bool(error.connection_invalidated)


class OutageLog:
    """Remembers whether the database is down, so that each outage is logged twice in all."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.down_since: float | None = None

    def down(self, error: BaseException) -> None:
        if self.down_since is None:
            self.down_since = self.clock()
            _log.warning(
                "database unreachable (%s): ticks are skipped until it is back", _reason(error)
            )

    def up(self) -> None:
        if self.down_since is not None:
            _log.warning("database is back after %.0f s", self.clock() - self.down_since)
            self.down_since = None


async def open_waiting(
    url: str,
    *,
    wait_seconds: float,
    setting: str = "DATABASE_URL",
    sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> Store:
    """`Store.open`, retried with exponential backoff while the database server cannot be
    reached, one log line per failed attempt with the reason; after ``wait_seconds`` the last
    `DatabaseUnreachable` is raised (one line naming the setting). A malformed URL, a bad
    password or any other error is raised at once."""
    deadline = clock() + wait_seconds
    delay = BACKOFF_FIRST_SECONDS
    attempt = 0
    while True:
        attempt += 1
        try:
            return await asyncio.to_thread(Store.open, url, setting=setting)
        except DatabaseUnreachable as error:
            left = deadline - clock()
            if left <= 0 or "authentication failed" in str(error):
                if attempt == 1:
                    raise
                raise DatabaseUnreachable(
                    f"{error}; gave up after {attempt} attempts "
                    f"(DEPECHE_DATABASE_WAIT_SECONDS={wait_seconds:g})"
                ) from None
            pause = min(delay, left)
            _log.warning("%s; attempt %d, next in %.0f s", error, attempt, pause)
            await sleep(pause)
            delay = min(delay * 2, BACKOFF_MAX_SECONDS)
