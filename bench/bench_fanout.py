"""Fan-out of 2,000 deliveries through a simulated platform enforcing 50 requests/s.

The simulated platform answers 429 (with ``retry_after``) to any request that would make more
than 50 requests in the last second (a sliding window, stricter than a bucket that resets each
second), and takes ``--rtt`` seconds per request. Three runs, same platform:

- ours: the real outbox + `DeliveryWorker` (SQLite) with a publisher using the proactive
  `bot.ratelimit` limiter (Discord settings: 48 req/s global);
- naive sequential: ``for d in deliveries: await post(d)`` (on ``--naive`` deliveries,
  extrapolated to 2,000: running all would take 2000 x RTT);
- naive concurrent: ``asyncio.gather`` of every post, retrying after ``retry_after`` on 429.

Prints wall / (2000 / 50 s) (target <= 1.10) and the share of 429s (target < 1 %).

    .venv/bin/python bench/bench_fanout.py [--deliveries 2000] [--rtt 0.06] [--naive 300]
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import datetime as dt
import logging
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.delivery import DeliveryWorker
from bot.publishing import Delivery, PublisherRegistry, PublishResult, TransientPublishError
from bot.ratelimit import RateLimiter, discord_limiter
from bot.schedule import tick
from bot.settings import DeliverySettings, RateLimitSettings
from bot.store import Store, Subscription
from digests.story import StoryLibrary, default_story

LIMIT = 50


class Platform:
    """50 requests in any 1 s window, else 429; every request takes ``rtt`` seconds."""

    def __init__(self, rtt: float) -> None:
        self.rtt = rtt
        self.window: collections.deque[float] = collections.deque()
        self.requests = 0
        self.too_many = 0
        self.posted: set[str] = set()

    async def post(self, nonce: str) -> str:
        now = time.monotonic()
        self.requests += 1
        while self.window and self.window[0] <= now - 1.0:
            self.window.popleft()
        if len(self.window) >= LIMIT:
            self.too_many += 1
            await asyncio.sleep(self.rtt)
            raise TransientPublishError(
                "429 Too Many Requests", retry_after=self.window[0] + 1.0 - now
            )
        self.window.append(now)
        await asyncio.sleep(self.rtt)
        self.posted.add(nonce)
        return f"m-{nonce}"


class LimitedPublisher:
    platform = "discord"

    def __init__(self, platform: Platform, limiter: RateLimiter) -> None:
        self.site = platform
        self.limiter = limiter

    async def publish(self, delivery: Delivery) -> PublishResult:
        await self.limiter.acquire(f"channel:{delivery.channel_id}")
        try:
            return PublishResult((await self.site.post(delivery.idempotency_key),))
        except TransientPublishError as error:
            self.limiter.penalize(None, error.retry_after or 1.0, is_global=True)
            raise

    async def find_published(self, delivery: Delivery) -> PublishResult | None:
        key = delivery.idempotency_key
        return PublishResult((f"m-{key}",), recovered=True) if key in self.site.posted else None

    async def notify_admins(self, delivery: Delivery, reason: str) -> None:
        pass


async def ours(count: int, rtt: float) -> tuple[float, Platform]:
    library = StoryLibrary([default_story()])
    start = dt.datetime(2023, 11, 17, 0, 0, tzinfo=dt.UTC)
    due = dt.datetime(2023, 11, 17, 7, 0, tzinfo=dt.UTC)
    with tempfile.TemporaryDirectory() as directory:
        store = Store.open(f"sqlite:///{directory}/fanout.sqlite3")
        with store.session() as session, session.begin():
            session.execute(
                Subscription.__table__.insert(),
                [
                    {
                        "story_slug": library.default_slug,
                        "platform": "discord",
                        "workspace_id": f"g{i // 10}",
                        "channel_id": f"c{i}",
                        "lang": "fr",
                        "post_time": "08:00",
                        "timezone": "Europe/Paris",
                        "mode": "live",
                        "active": True,
                        "managed_by": "chat",
                        "admin_lang": "en",
                        "created_at": start,
                        "updated_at": start,
                        "next_run_at": due,
                    }
                    for i in range(count)
                ],
            )
        assert tick(store, library, due).enqueued == count
        platform = Platform(rtt)
        registry = PublisherRegistry()
        registry.register(LimitedPublisher(platform, discord_limiter(RateLimitSettings())))
        worker = DeliveryWorker(
            store, library, registry, settings=DeliverySettings(concurrency=8, batch_size=200)
        )
        began = time.monotonic()
        while len(platform.posted) < count:
            await worker.run_until_idle()  # real clock: retries come due by themselves
            if len(platform.posted) < count:
                await asyncio.sleep(0.05)
        wall = time.monotonic() - began
        store.dispose()
    return wall, platform


async def naive_sequential(count: int, rtt: float) -> tuple[float, Platform]:
    platform = Platform(rtt)
    began = time.monotonic()
    for i in range(count):
        while True:
            try:
                await platform.post(f"n{i}")
                break
            except TransientPublishError as error:
                await asyncio.sleep(error.retry_after or 1.0)
    return time.monotonic() - began, platform


async def naive_concurrent(count: int, rtt: float) -> tuple[float, Platform]:
    platform = Platform(rtt)

    async def send(i: int) -> None:
        while True:
            try:
                await platform.post(f"g{i}")
                return
            except TransientPublishError as error:
                await asyncio.sleep(error.retry_after or 1.0)

    began = time.monotonic()
    await asyncio.gather(*(send(i) for i in range(count)))
    return time.monotonic() - began, platform


def report(
    label: str, wall: float, platform: Platform, count: int, bound: float, note: str = ""
) -> None:
    share = platform.too_many / platform.requests * 100 if platform.requests else 0.0
    print(
        f"{label:<18} wall {wall:7.1f} s  wall/bound {wall / bound:5.2f}  requests {platform.requests:5d}  "
        f"429s {platform.too_many:5d} ({share:.2f} %){note}"
    )


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--deliveries", type=int, default=2000)
    parser.add_argument("--rtt", type=float, default=0.06)
    parser.add_argument(
        "--naive", type=int, default=300, help="deliveries for the sequential loop (extrapolated)"
    )
    args = parser.parse_args()
    logging.disable(logging.INFO)
    count, bound = args.deliveries, args.deliveries / LIMIT
    print(
        f"{count} deliveries, platform limit {LIMIT} req/s (bound {bound:.0f} s), round trip {args.rtt * 1000:.0f} ms"
    )
    wall, platform = await ours(count, args.rtt)
    assert len(platform.posted) == count
    report("ours (outbox)", wall, platform, count, bound)
    wall_n, platform_n = await naive_sequential(args.naive, args.rtt)
    projected = wall_n * count / args.naive
    report(
        "naive sequential",
        projected,
        platform_n,
        count,
        bound,
        f"  (measured {args.naive}: {wall_n:.1f} s)",
    )
    wall_c, platform_c = await naive_concurrent(count, args.rtt)
    report("naive gather", wall_c, platform_c, count, bound)
    print(f"ours vs naive sequential: {projected / wall:.2f}x faster")


if __name__ == "__main__":
    asyncio.run(main())
