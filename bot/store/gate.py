"""Who writes next to SQLite, within one process: the delivery worker before the tick's chunks.

SQLite has one writer at a time. When 100,000 subscriptions are due at once, the tick commits
its chunks back to back; the worker's claim (the first posts of the minute) waits for the lock
in SQLite's busy handler, which sleeps 1, 2, 5 ... 100 ms between attempts and so loses nearly
every race against a thread that begins its next chunk right after committing the last one:
nothing would be posted before the whole due set is enqueued. The gate makes the hand-over
explicit in the process: a *priority* writer (the worker's claim and outcome records) announces
itself and takes the gate; a *bulk* writer (a tick chunk) waits while any priority writer is
announced. The worker therefore waits for at most one chunk (tens of milliseconds).

PostgreSQL needs none of this (row locks: the tick's inserts and the worker's updates do not
conflict), so the gate is a no-op there. Other processes still meet SQLite's busy timeout, as
before: the gate orders this process's writers, it is not a lock across processes.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator

# How long a bulk writer sleeps between two looks at the priority writers announced.
BULK_POLL_SECONDS = 0.001


class WriteGate:
    """Priority and bulk writers of one process (see the module docstring)."""

    def __init__(self, enabled: bool = True) -> None:
        self.enabled = enabled
        self.priority_entries = 0  # priority writers announced so far (for tests and metrics)
        self._lock = threading.Lock()
        self._count_lock = threading.Lock()
        self._priority_active = 0  # announced and not finished: bulk writers wait for them

    @contextlib.contextmanager
    def priority(self) -> Iterator[None]:
        """A short write that must not wait behind bulk work (the worker's claims, records)."""
        if not self.enabled:
            yield
            return
        with self._count_lock:
            self._priority_active += 1
            self.priority_entries += 1
        try:
            with self._lock:
                yield
        finally:
            with self._count_lock:
                self._priority_active -= 1

    @contextlib.contextmanager
    def bulk(self) -> Iterator[None]:
        """One unit of bulk work (a tick chunk), after every announced priority writer."""
        if not self.enabled:
            yield
            return
        while True:
            while self._priority_active:
                time.sleep(BULK_POLL_SECONDS)
            self._lock.acquire()
            if not self._priority_active:
                break
            self._lock.release()  # a priority writer came in between: it goes first
        try:
            yield
        finally:
            self._lock.release()
