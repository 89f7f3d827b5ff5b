"""The fake Slack (tests/fakes/slack_server.py) as a process of its own, with a network round
trip, for the end-to-end Slack benchmark (`bench/bench_slack_fanout.py`).

    python -m bench.fake_slack --rtt 0.06 --workspaces 10 --workspace-rate 10 --workspace-burst 5

It creates ``--workspaces`` teams (ids ``T0BENCH000``...), each with its own bot token, and
applies Slack's limits for ``chat.postMessage``: ``--workspace-rate`` per workspace (burst
``--workspace-burst``) and one message per second per channel. Every Web API call waits half the
round trip before the fake handles it and half after. It prints one JSON line (its URL and the
teams' tokens), then answers commands read from stdin, one JSON line each:

- ``stats``: accepted posts (wall-clock times), messages per channel counts, 429s, calls;
- ``quit``: stop.
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

from aiohttp import web

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.fakes.slack_server import ApiCall, FakeSlack  # noqa: E402

FIRST_TEAM = "T0BENCH"


def team_id(index: int) -> str:
    return f"{FIRST_TEAM}{index:03d}"


class SlowFakeSlack(FakeSlack):
    """The fake with a network round trip, recording when each message post was accepted."""

    def __init__(self, *, rtt: float, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.rtt = rtt
        self.accepted: list[float] = []  # wall-clock time of each accepted chat.postMessage
        self.posts_by_team: collections.Counter[str] = collections.Counter()

    async def _handle_api(self, request: web.Request) -> web.StreamResponse:
        await asyncio.sleep(self.rtt / 2)
        response = await super()._handle_api(request)
        await asyncio.sleep(self.rtt / 2)
        return response

    def _json(self, call: ApiCall, data: dict[str, Any], **kwargs: Any) -> web.Response:
        if call.method == "chat.postMessage" and data.get("ok"):
            self.accepted.append(time.time())
            self.posts_by_team[call.team_id or ""] += 1
        return super()._json(call, data, **kwargs)

    def stats(self) -> dict[str, Any]:
        per_channel: collections.Counter[str] = collections.Counter()
        for call in self.calls:
            if call.method == "chat.postMessage" and call.response and call.response.get("ok"):
                per_channel[str(call.params.get("channel"))] += 1
        return {
            "accepted": self.accepted,
            "per_channel": dict(per_channel),
            "posts_by_team": dict(self.posts_by_team),
            "too_many": self.ratelimited_count,
            "post_requests": sum(1 for c in self.calls if c.method == "chat.postMessage"),
            "calls": len(self.calls),
        }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rtt", type=float, default=0.06)
    parser.add_argument("--workspaces", type=int, default=10)
    parser.add_argument("--workspace-rate", type=float, default=10.0)
    parser.add_argument("--workspace-burst", type=float, default=5.0)
    args = parser.parse_args()
    fake = SlowFakeSlack(
        rtt=args.rtt,
        channel_rate=1.0,
        workspace_rate=args.workspace_rate,
        workspace_burst=args.workspace_burst,
    )
    tokens = {}
    for index in range(args.workspaces):
        team = fake.add_team(team_id(index))
        tokens[team.id] = team.bot_token
    await fake.start()
    print(json.dumps({"api_url": fake.api_url, "tokens": tokens}), flush=True)
    loop = asyncio.get_running_loop()
    try:
        while True:
            line = await loop.run_in_executor(None, sys.stdin.readline)
            words = line.split()
            if not words or words[0] == "quit":
                break
            if words[0] == "stats":
                print(json.dumps(fake.stats()), flush=True)
    finally:
        await fake.close()


if __name__ == "__main__":
    asyncio.run(main())
