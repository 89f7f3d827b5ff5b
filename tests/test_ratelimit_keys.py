"""A key's spacing (one message per second in a Slack channel) counts from when a request really
goes, not from when its key slot was reserved before a long wait for the global slot: a thread
reply sent right after its post must still keep the channel's distance."""

from __future__ import annotations

import asyncio

from bot.ratelimit import RateLimiter


class VirtualClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += max(0.0, seconds)


def test_a_key_is_spaced_from_the_moment_its_request_goes() -> None:
    clock = VirtualClock()
    limiter = RateLimiter(
        global_rate=10.0, kinds={"channel": (0.5, 1)}, clock=clock, sleep=clock.sleep
    )

    async def scenario() -> list[float]:
        for index in range(30):  # other channels take the global slots of the next 3 s
            await limiter.acquire(f"channel:other{index}")
        sent = []
        for _ in range(2):  # a post, then its thread reply, in the same channel
            await limiter.acquire("channel:news")
            sent.append(clock.now)
        return sent

    post, reply = asyncio.run(scenario())
    assert post >= 2.9  # it waited for the global slots
    assert reply - post >= 2.0  # the channel's 0.5/s counted from the post, not its reservation
