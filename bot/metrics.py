"""The process's Prometheus metrics that the engine and the adapters record (the web side
serves them on ``/metrics``, with its own, in `bot.web.metrics`).

Recording is a counter increment or a histogram observation: cheap, in memory, never I/O. Only
what cannot be read back from the database is here (429s seen, durations); the outbox's counts
are read from the outbox when ``/metrics`` is asked.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Awaitable, Callable
from typing import ParamSpec, TypeVar

from prometheus_client import CollectorRegistry, Counter, Histogram

_Params = ParamSpec("_Params")

REGISTRY = CollectorRegistry(auto_describe=True)

RATELIMITED = Counter(
    "depeche_ratelimited",
    "429 answers seen from a platform, by platform and scope (global, route, channel)",
    ["platform", "scope"],
    registry=REGISTRY,
)
TICK_SECONDS = Histogram(
    "depeche_tick_seconds",
    "Time of one scheduler tick (story refresh and enqueuing what is due)",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
    registry=REGISTRY,
)
DIGEST_RENDER_SECONDS = Histogram(
    "depeche_digest_render_seconds",
    "Time to compose one post document (once per story day, language, cadence and format)",
    ["cadence"],
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5),
    registry=REGISTRY,
)
INTERACTION_SECONDS = Histogram(
    "depeche_interaction_seconds",
    "Time from a command's arrival to its answer, by platform",
    ["platform"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 10.0),
    registry=REGISTRY,
)


_Result = TypeVar("_Result")


def timed(
    histogram: Histogram,
) -> Callable[[Callable[_Params, Awaitable[_Result]]], Callable[_Params, Awaitable[_Result]]]:
    """Observe each call's duration (a coroutine function) in ``histogram``."""

    def decorate(
        function: Callable[_Params, Awaitable[_Result]],
    ) -> Callable[_Params, Awaitable[_Result]]:
        @functools.wraps(function)
        async def wrapper(*args: _Params.args, **kwargs: _Params.kwargs) -> _Result:
            started = time.perf_counter()
            try:
                return await function(*args, **kwargs)
            finally:
                histogram.observe(time.perf_counter() - started)

        return wrapper

    return decorate
