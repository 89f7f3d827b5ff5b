"""The fake Discord (tests/fakes/discord_server.py) as a process of its own, for end-to-end
benchmarks: the bot under test runs in other processes and talks to it over loopback.

    python bench/fake_discord_process.py --channels 10000 --latency 0.06 --state /tmp/fake.json

It listens on an ephemeral port, with Discord's limits (50 requests/s per bot, 5 messages per
5 s per channel) and ``--latency`` seconds per REST round trip. It writes ``--state`` (JSON)
once at start — URLs, token, guild and channel ids — then rewrites it every ``--every`` seconds
with the messages it accepted (count, wall-clock time of the first and last) and its 429s.
SIGTERM/SIGINT: a last, full write — messages per channel, requests per second of wall-clock
time (globally limited requests only), the most requests in any sliding second — then exit.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.fakes.discord_server import FakeDiscord  # noqa: E402

GUILD_SIZE = 250  # channels per guild (Discord allows 500)


def snapshot(
    fake: FakeDiscord, channels: list[int], base: dict[str, Any], *, full: bool
) -> dict[str, Any]:
    """What the fake saw; ``full`` adds the per-channel and per-second detail (at the end: it
    costs the fake's event loop some milliseconds, which would delay answers mid-run)."""
    posts = [
        r.at
        for r in fake.requests
        if r.method == "POST" and r.status == 200 and r.path.endswith("/messages")
    ]
    data = {
        **base,
        "final": full,
        # messages created: a POST repeating a nonce (enforce_nonce) answers the first message
        "messages": sum(len(fake.messages(c)) for c in channels),
        "post_answers": len(posts),
        "count_429": fake.count_429,
        "identifies": len(fake.identifies),
        "first_post_at": min(posts, default=None),
        "last_post_at": max(posts, default=None),
        "written_at": time.time(),
    }
    if full:
        counts = fake.per_second()
        data.update(
            per_channel={str(c): len(fake.messages(c)) for c in channels},
            requests=len(fake.limited_requests()),
            per_second={str(k): v for k, v in sorted(counts.items())},
            max_per_second=max(counts.values(), default=0),
            max_in_sliding_second=fake.max_in_window(1.0),
        )
    return data


def write(path: Path, data: dict[str, Any]) -> None:
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(data))
    os.replace(temporary, path)


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--channels", type=int, default=1000)
    parser.add_argument("--latency", type=float, default=0.06, help="seconds per round trip")
    parser.add_argument("--state", type=Path, required=True)
    parser.add_argument("--every", type=float, default=1.0)
    args = parser.parse_args()

    # Wall-clock times (not monotonic): the benchmark compares them with the scheduled minute.
    fake = FakeDiscord(latency=args.latency, clock=time.time)
    channels: list[int] = []
    guilds: list[dict[str, Any]] = []
    for first in range(0, args.channels, GUILD_SIZE):
        size = min(GUILD_SIZE, args.channels - first)
        guild = fake.add_guild(
            name=f"bench-{first // GUILD_SIZE}",
            channels=[{"name": f"c{first + i}"} for i in range(size)],
        )
        ids = [int(c["id"]) for c in guild["channels"]]
        channels += ids
        guilds.append({"id": str(guild["id"]), "channels": [str(i) for i in ids]})
    await fake.start()
    base = {
        "pid": os.getpid(),
        "api_url": fake.api_url,
        "ws_url": fake.ws_url,
        "token": fake.token,
        "latency": args.latency,
        "guilds": guilds,
    }
    write(args.state, snapshot(fake, channels, base, full=False))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    try:
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), args.every)
            write(args.state, snapshot(fake, channels, base, full=False))
        write(args.state, snapshot(fake, channels, base, full=True))
    finally:
        await fake.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
