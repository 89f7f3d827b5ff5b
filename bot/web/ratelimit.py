"""A small sliding-window limiter for sign-ins and forms, per client address."""

from __future__ import annotations

import time
from collections import deque


class RateLimiter:
    """At most ``limit`` events per ``window`` seconds per key (a client address)."""

    def __init__(self, limit: int, window: float) -> None:
        self.limit = limit
        self.window = window
        self._events: dict[str, deque[float]] = {}

    def allow(self, key: str, now: float | None = None) -> bool:
        now = time.monotonic() if now is None else now
        events = self._events.setdefault(key, deque())
        while events and events[0] <= now - self.window:
            events.popleft()
        if len(events) >= self.limit:
            return False
        events.append(now)
        if len(self._events) > 10_000:  # forget idle clients
            for stale in [k for k, v in self._events.items() if not v]:
                del self._events[stale]
        return True
