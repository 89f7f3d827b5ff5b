"""Proactive rate limiting: wait *before* a request instead of collecting 429s.

Each bucket is a GCRA (generic cell rate algorithm, an exact token bucket): ``rate`` requests per
second with bursts of ``burst``. A `RateLimiter` combines one global bucket (Discord: 50 req/s
per bot) and one bucket per key (a channel, a workspace...): `acquire` reserves a time slot in
*both* at once and sleeps until it, so concurrent senders are spread evenly and fan-out runs
close to the limit. Reservations are made without awaiting, so they are atomic within an event
loop. Clock and sleep are injectable (tests run in virtual time).

Usage by a publisher::

    limiter = discord_limiter(settings)            # or RateLimiter(global_rate=48, ...)
    await limiter.acquire(f"channel:{channel_id}")  # Slack: acquire("workspace:T1", "channel:C1")
    ... send ...
    # on a 429 anyway:
    limiter.penalize(f"channel:{channel_id}", retry_after, is_global=False)
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.budget import SharedBudget
    from bot.store import Store


@dataclass
class TokenBucket:
    rate: float  # tokens per second
    burst: int = 1
    tat: float = 0.0  # theoretical arrival time of the next conforming request

    @property
    def interval(self) -> float:
        return 1.0 / self.rate

    def earliest(self, now: float) -> float:
        """Earliest time a request may go, given the burst tolerance."""
        return max(now, self.tat - (self.burst - 1) * self.interval)

    def reserve(self, at: float) -> None:
        self.tat = max(self.tat, at) + self.interval

    def block_until(self, until: float) -> None:
        """After a 429: nothing before ``until``, then start again from an empty burst."""
        self.tat = max(self.tat, until + (self.burst - 1) * self.interval)


@dataclass
class RateLimiter:
    """A global bucket plus one bucket per key. Keys may be typed, ``"kind:id"``; ``kinds`` maps
    a kind to its own ``(rate, burst)`` (other keys use ``per_key_rate``/``per_key_burst``).

    With ``shared`` (a `bot.budget.SharedBudget`), the global step takes a slot of the budget
    that every instance of the bot shares through the database instead of the local bucket."""

    global_rate: float | None = None
    global_burst: int = 1
    per_key_rate: float | None = None
    per_key_burst: int = 1
    kinds: dict[str, tuple[float, int]] = field(default_factory=dict)
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], Awaitable[object]] = asyncio.sleep
    max_keys: int = 100_000
    shared: SharedBudget | None = None
    # Kinds of key whose buckets every instance shares (Slack: "workspace"): kind -> a factory
    # of the `SharedBudget` of one key. Such keys skip their local bucket.
    shared_kinds: dict[str, Callable[[str], SharedBudget]] = field(default_factory=dict)
    _shared_keys: dict[str, SharedBudget] = field(init=False, default_factory=dict)
    _global: TokenBucket | None = field(init=False, default=None)
    _keys: dict[str, TokenBucket] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        if self.global_rate:
            self._global = TokenBucket(self.global_rate, self.global_burst)

    def _bucket(self, key: str | None) -> TokenBucket | None:
        if key is None:
            return None
        bucket = self._keys.get(key)
        if bucket is None:
            kind = key.split(":", 1)[0] if ":" in key else ""
            rate, burst = self.kinds.get(kind, (self.per_key_rate or 0.0, self.per_key_burst))
            if not rate:
                return None
            if len(self._keys) >= self.max_keys:
                self._forget_idle()
            bucket = self._keys[key] = TokenBucket(rate, burst)
        return bucket

    def _forget_idle(self) -> None:
        now = self.clock()
        for key in [key for key, bucket in self._keys.items() if bucket.tat < now]:
            del self._keys[key]

    def reserve(self, *keys: str | None, use_global: bool = True) -> float:
        """Reserve the next slot allowed by the global bucket (unless ``use_global`` is false)
        and every key's bucket at once; return how long to wait for it (seconds)."""
        now = self.clock()
        buckets = [self._global if use_global else None, *(self._bucket(key) for key in keys)]
        active = [bucket for bucket in buckets if bucket is not None]
        at = max((bucket.earliest(now) for bucket in active), default=now)
        for bucket in active:
            bucket.reserve(at)
        return at - now

    async def acquire(self, *keys: str | None) -> float:
        """Wait until a request for ``keys`` is allowed; return the time waited.

        Keys first, then the global bucket: a request held back by its channel does not hold
        a global slot meanwhile, so other channels' requests go ahead (no head-of-line block).
        """
        waited = 0.0
        shared = [self._shared_key(key) for key in keys]
        local = [key for key, budget in zip(keys, shared, strict=True) if budget is None]
        if any(key is not None for key in local):
            waited = self.reserve(*local, use_global=False)
            if waited > 0:
                await self.sleep(waited)
        for budget in shared:
            if budget is not None:
                waited += await budget.acquire()
        if self.shared is not None:
            waited += await self.shared.acquire()
        elif self._global is not None:
            delay = self.reserve()
            if delay > 0:
                await self.sleep(delay)
            waited += delay
        # The keys' slots were reserved before the wait for the global (or shared) slot, which
        # may have been long in a fan-out: count the request from when it really goes, or the
        # key's next request (a thread reply right after its post) would follow it too closely.
        granted = self.clock()
        for key in local:
            bucket = self._bucket(key)
            if bucket is not None:
                bucket.tat = max(bucket.tat, granted + bucket.interval)
        return waited

    def _shared_key(self, key: str | None) -> SharedBudget | None:
        if key is None or not self.shared_kinds:
            return None
        kind = key.split(":", 1)[0]
        factory = self.shared_kinds.get(kind)
        if factory is None:
            return None
        budget = self._shared_keys.get(key)
        if budget is None:
            if len(self._shared_keys) >= self.max_keys:
                self._shared_keys.clear()
            budget = self._shared_keys[key] = factory(key)
        return budget

    def penalize(self, key: str | None, retry_after: float, *, is_global: bool = False) -> None:
        """The platform said 429 anyway: hold the key's bucket (or all requests) for ``retry_after``."""
        until = self.clock() + retry_after
        if is_global and self.shared is not None:
            self.shared.hold(retry_after)
        if is_global and self._global is not None:
            self._global.block_until(until)
        budget = self._shared_key(key)
        if budget is not None:
            budget.hold(retry_after)
        bucket = self._bucket(key)
        if bucket is not None:
            bucket.block_until(until)


def discord_limiter(settings: object | None = None, **kwargs: object) -> RateLimiter:
    """Discord: one global bucket per bot, one per channel (message creation).
    ``await limiter.acquire(f"channel:{channel_id}")``."""
    from bot.settings import RateLimitSettings

    limits = getattr(settings, "ratelimit", settings) or RateLimitSettings()
    assert isinstance(limits, RateLimitSettings)
    return RateLimiter(
        global_rate=limits.discord_global_per_second,
        global_burst=limits.discord_global_burst,
        kinds={"channel": (limits.discord_channel_per_second, limits.discord_channel_burst)},
        **kwargs,  # type: ignore[arg-type]
    )


def slack_limiter(
    settings: object | None = None, *, shared_by: tuple[Store, str] | None = None, **kwargs: object
) -> RateLimiter:
    """Slack: about 1 message/s per channel plus a workspace-wide bucket.
    ``await limiter.acquire(f"workspace:{team_id}", f"channel:{channel_id}")``.

    ``shared_by`` = (store, bot token): each workspace's bucket is shared by every instance
    using that database and token (`bot.budget`, keyed by a hash of the token)."""
    from bot.settings import RateLimitSettings

    limits = getattr(settings, "ratelimit", settings) or RateLimitSettings()
    assert isinstance(limits, RateLimitSettings)
    if shared_by is not None:
        from bot.budget import SharedBudget, bot_key

        store, token = shared_by
        rate = limits.slack_workspace_per_second

        def workspace_budget(key: str) -> SharedBudget:
            return SharedBudget(store, bot_key("slack", token, key), rate)

        kwargs["shared_kinds"] = {"workspace": workspace_budget}
    return RateLimiter(
        kinds={
            "workspace": (limits.slack_workspace_per_second, limits.slack_workspace_burst),
            "channel": (limits.slack_channel_per_second, limits.slack_channel_burst),
        },
        **kwargs,  # type: ignore[arg-type]
    )
