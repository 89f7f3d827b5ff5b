"""The project's fake Discord (tests/fakes/discord_server.py) as a process of its own, for the
end-to-end benchmarks: Discord's limits (50 requests/s per bot token, 5 messages / 5 s per
channel), a round trip added to every REST request (half before the fake answers, half after),
and guilds holding the benchmark's channels.

    python -m bench.fake_discord --rtt 0.06 --channels 2000

Prints one JSON line (``api_url``, ``ws_url``, ``token``, ``channels``) when it listens, then
reads commands on stdin, one per line, and answers each with one JSON line:

- ``who RATE SECONDS``: send ``/who`` interactions at RATE per second for SECONDS (in the
  background) and keep the time from each INTERACTION_CREATE to its callback;
- ``channels N``: add N more channels now, known to REST only (no GUILD_CREATE: the bot
  does not load them into its cache, as with a guild on another shard);
- ``first``: the wall-clock time of the first accepted message post (null if none);
- ``edits MARK``: the message edits it accepted (wall-clock times, edits per message) and, per
  channel, how many times its first message shows MARK (alternatives separated by ``|``);
- ``stats``: what the fake saw (accepted message posts with their wall-clock times, 429s,
  requests per second, messages per channel, /who latencies);
- ``quit``.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from aiohttp import web

from tests.fakes.discord_server import (
    GENERAL_CHANNEL_ID,
    GUILD_ID,
    MEMBER_USER_ID,
    FakeDiscord,
    add_default_guild,
)

FIRST_GUILD = 800_000_000_000_000_000
FIRST_CHANNEL = 810_000_000_000_000_000
CHANNELS_PER_GUILD = 500


def guild_of(channel_id: int) -> int:
    return FIRST_GUILD + (channel_id - FIRST_CHANNEL) // CHANNELS_PER_GUILD


class SlowFakeDiscord(FakeDiscord):
    """The fake with a network round trip, recording when each message post was accepted."""

    def __init__(self, *, rtt: float, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.rtt = rtt
        self.accepted: list[float] = []  # wall-clock time of each accepted message post
        self.per_second: collections.Counter[int] = collections.Counter()  # limited requests
        self.who: list[float] = []  # seconds from INTERACTION_CREATE to the callback
        self.edited: list[float] = []  # wall-clock time of each accepted message edit
        self.edits_per_message: collections.Counter[str] = collections.Counter()

    async def _rest_handler(self, request: web.Request) -> web.StreamResponse:
        await asyncio.sleep(self.rtt / 2)
        arrived = time.time()
        response = await super()._rest_handler(request)
        if not request.path.startswith(("/api/v10/interactions/", "/api/v10/webhooks/")):
            self.per_second[int(arrived)] += 1
        if (
            request.method == "POST"
            and request.path.endswith("/messages")
            and response.status == 200
        ):
            self.accepted.append(time.time())
        if request.method == "PATCH" and "/channels/" in request.path and response.status == 200:
            self.edited.append(time.time())
            self.edits_per_message[request.path] += 1
        await asyncio.sleep(self.rtt / 2)
        return response

    async def who_load(self, rate: float, seconds: float) -> None:
        async def one() -> None:
            started = time.perf_counter()
            interaction = await self.dispatch_command(
                "who",
                {"question": "Who is Sam Altman?"},
                locale="en-US",
                user_id=MEMBER_USER_ID,
                guild_id=GUILD_ID,
                channel_id=GENERAL_CHANNEL_ID,
            )
            await interaction.wait_callback(timeout=10)
            self.who.append(time.perf_counter() - started)

        tasks = []
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            tasks.append(asyncio.create_task(one()))
            await asyncio.sleep(1 / rate)
        await asyncio.gather(*tasks, return_exceptions=True)

    def edit_stats(self, mark: str) -> dict[str, Any]:
        """Accepted edits (wall-clock times), how many times each message was edited, and per
        benchmark channel how many times its first message shows ``mark`` (the correction line;
        alternatives separated by ``|``)."""
        shown: collections.Counter[int] = collections.Counter()
        for channel_id, messages in self._messages.items():
            if channel_id >= FIRST_CHANNEL and messages:
                text = "\n".join(str(e.get("description") or "") for e in messages[0]["embeds"])
                shown[sum(text.count(one) for one in mark.split("|"))] += 1
        return {
            "edited": self.edited,
            "edits_by_count": dict(collections.Counter(self.edits_per_message.values())),
            "channels_by_mark_count": dict(shown),
            "too_many": self.count_429,
            "max_per_second": max(self.per_second.values(), default=0),
        }

    def stats(self) -> dict[str, Any]:
        per_channel: collections.Counter[int] = collections.Counter()
        for channel_id, messages in self._messages.items():
            if channel_id >= FIRST_CHANNEL:
                per_channel[len(messages)] += 1
        limited = [
            r for r in self.requests if not r.path.startswith(("/interactions/", "/webhooks/"))
        ]
        return {
            "accepted": self.accepted,
            "requests": len(limited),
            "too_many": self.count_429,
            "max_per_second": max(self.per_second.values(), default=0),
            "channels_by_message_count": dict(per_channel),
            "who": self.who,
        }


def add_channels(fake: FakeDiscord, first: int, count: int) -> None:
    """Channels ``first .. first + count - 1`` of the benchmark, 500 per guild."""
    ids = [FIRST_CHANNEL + index for index in range(first, first + count)]
    while ids:
        guild = guild_of(ids[0])
        chunk = [cid for cid in ids[:CHANNELS_PER_GUILD] if guild_of(cid) == guild]
        ids = ids[len(chunk) :]
        fake.add_guild(
            guild,
            name=f"bench {guild - FIRST_GUILD}",
            channels=[{"id": cid, "name": f"c{cid - FIRST_CHANNEL}"} for cid in chunk],
        )


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rtt", type=float, default=0.06)
    parser.add_argument("--channels", type=int, default=2000)
    args = parser.parse_args()
    fake = SlowFakeDiscord(rtt=args.rtt, clock=time.monotonic, interaction_response_deadline=3.0)
    add_default_guild(fake)
    add_channels(fake, 0, args.channels)
    await fake.start()
    print(
        json.dumps(
            {
                "api_url": fake.api_url,
                "ws_url": fake.ws_url,
                "token": fake.token,
                "first_channel": FIRST_CHANNEL,
                "channels_per_guild": CHANNELS_PER_GUILD,
            }
        ),
        flush=True,
    )
    loop = asyncio.get_running_loop()
    background: set[asyncio.Task[None]] = set()
    try:
        while True:
            line = await loop.run_in_executor(None, sys.stdin.readline)
            words = line.split()
            if not words or words[0] == "quit":
                break
            if words[0] == "who":
                task = asyncio.create_task(fake.who_load(float(words[1]), float(words[2])))
                background.add(task)
                print(json.dumps({"ok": True}), flush=True)
            elif words[0] == "channels":
                have = sum(1 for cid in fake.channels if cid >= FIRST_CHANNEL)
                add_channels(fake, have, int(words[1]))
                print(json.dumps({"ok": True}), flush=True)
            elif words[0] == "first":
                print(json.dumps({"first": min(fake.accepted, default=None)}), flush=True)
            elif words[0] == "stats":
                print(json.dumps(fake.stats()), flush=True)
            elif words[0] == "edits":  # "edits MARK": corrections seen, MARK in the first embed
                print(json.dumps(fake.edit_stats(" ".join(words[1:]))), flush=True)
    finally:
        for task in background:
            task.cancel()
        await fake.close()


if __name__ == "__main__":
    asyncio.run(main())
