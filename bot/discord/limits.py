"""discord.py's own REST requests through our limiter: one budget knows every request the bot
makes.

The publisher paces its posts with `bot.ratelimit.RateLimiter` (whose global step is the
budget every instance shares, `bot.budget`). discord.py makes requests of its own — login,
command sync, channel and guild lookups, and its retries — through its `HTTPClient`, whose
aiohttp session accepts a `aiohttp.TraceConfig` (``Client(http_trace=...)``). `request_trace`
returns one whose ``on_request_start`` awaits a slot of the same global budget before each
request under the API base goes out (interaction callbacks and webhooks are exempt from the
bot's global limit: they pass), and whose ``on_request_end`` turns a global 429 into a hold
for every instance. discord.py keeps its own per-route buckets; the gateway websocket is not
a REST request and is not counted.
"""

from __future__ import annotations

import logging
from types import SimpleNamespace
from typing import Any

import aiohttp
import yarl

from bot.metrics import RATELIMITED
from bot.ratelimit import RateLimiter

_log = logging.getLogger(__name__)

EXEMPT = ("/interactions/", "/webhooks/")  # not bound by the bot's global limit


def limited_path(url: yarl.URL, base: yarl.URL) -> str | None:
    """The path of ``url`` under the API ``base`` when the global limit applies, else None."""
    if (url.scheme, url.host, url.port) != (base.scheme, base.host, base.port):
        return None
    prefix = base.path.rstrip("/")
    if not url.path.startswith(prefix + "/"):
        return None
    path = url.path[len(prefix) :]
    if path.startswith(EXEMPT):
        return None
    return path


def request_trace(limiter: RateLimiter, api_url: str) -> aiohttp.TraceConfig:
    """A trace config for discord.py's HTTP client: every globally limited request waits for a
    slot of ``limiter``'s global budget; a global 429 holds that budget."""
    base = yarl.URL(api_url.rstrip("/"))
    trace = aiohttp.TraceConfig()

    async def on_start(
        _session: aiohttp.ClientSession,
        _context: SimpleNamespace,
        params: aiohttp.TraceRequestStartParams,
    ) -> None:
        if limited_path(params.url, base) is not None:
            await limiter.acquire()

    async def on_end(
        _session: aiohttp.ClientSession,
        _context: SimpleNamespace,
        params: aiohttp.TraceRequestEndParams,
    ) -> None:
        response = params.response
        if response.status != 429 or limited_path(params.url, base) is None:
            return
        headers: Any = response.headers
        is_global = (
            headers.get("X-RateLimit-Global") == "true"
            or headers.get("X-RateLimit-Scope") == "global"
        )
        RATELIMITED.labels("discord", "global" if is_global else "route").inc()
        if not is_global:
            return  # a route bucket: discord.py's own buckets wait for it
        try:
            retry_after = float(headers.get("Retry-After") or 1.0)
        except ValueError:
            retry_after = 1.0
        _log.warning(
            "global rate limit hit by discord.py: every instance holds %.1f s", retry_after
        )
        limiter.penalize(None, retry_after, is_global=True)

    trace.on_request_start.append(on_start)
    trace.on_request_end.append(on_end)
    return trace
