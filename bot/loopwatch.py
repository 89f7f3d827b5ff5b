"""A watch on the event loop: how late a short timer fires is how long the loop was blocked.

`depeche run` keeps one running: a stall longer than ``warn_ms`` (``DEPECHE_LOOP_STALL_MS``)
is logged with its wall-clock time, and the longest one is logged at shutdown. Nothing that
the loop runs (gateway heartbeats, interaction answers, deliveries) can be faster than the
longest stall.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time

_log = logging.getLogger(__name__)


class LoopWatch:
    def __init__(self, *, interval: float = 0.01, warn_ms: float = 100.0) -> None:
        self.interval = interval
        self.warn_ms = warn_ms
        self.longest_ms = 0.0
        self.samples = 0
        self._task: asyncio.Task[None] | None = None

    def start(self) -> LoopWatch:
        self._task = asyncio.create_task(self._watch(), name="loop-watch")
        return self

    async def _watch(self) -> None:
        while True:
            started, cpu = time.perf_counter(), time.thread_time()
            await asyncio.sleep(self.interval)
            late_ms = (time.perf_counter() - started - self.interval) * 1000
            self.samples += 1
            self.longest_ms = max(self.longest_ms, late_ms)
            if late_ms >= self.warn_ms:
                # The loop thread's own CPU time meanwhile: near the stall when our code kept
                # the loop busy; near zero when the thread waited (the OS, the GIL held by
                # another thread).
                _log.warning(
                    "event loop stalled %.1f ms (loop thread on CPU %.1f ms) at %s",
                    late_ms,
                    (time.thread_time() - cpu) * 1000,
                    dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds"),
                )

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        _log.info(
            "event loop: longest stall %.1f ms over %d samples", self.longest_ms, self.samples
        )
