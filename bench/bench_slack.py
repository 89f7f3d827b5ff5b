"""Slack benchmarks against the fake Slack (loopback, one process).

1. Slash command latency through the HTTP endpoint (Bolt, signature check, ack): p50/p99 over
   N signed ``/who`` requests, against the 50 ms target and against ``/healthz`` (a bare aiohttp
   handler on the same server) as a floor.
2. Fan-out (a unit measurement, not the product's speed: the publisher runs inside this
   process, without the outbox, the worker or the database; `bench_slack_fanout.py` measures the
   real `depeche run` process end to end): D digests to D channels spread over W workspaces through the fake's limits (per
   channel 1 msg/s, per workspace R msg/s with a burst of B): wall time against the bound the
   limits impose, max over workspaces of (n_w - B) / R, and the number of 429s (target < 1 %).
   Baseline in the same run: a naive ``asyncio.gather`` of plain ``chat.postMessage`` calls.

    .venv/bin/python bench/bench_slack.py [--requests 1000] [--digests 2000] [--workspaces 10]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import statistics
import sys
import time
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.admin import AdminService  # noqa: E402
from bot.publishing import Delivery, PublisherRegistry  # noqa: E402
from bot.ratelimit import slack_limiter  # noqa: E402
from bot.settings import RateLimitSettings, SlackSettings  # noqa: E402
from bot.slack.app import SlackBot  # noqa: E402
from bot.slack.clients import SlackClients  # noqa: E402
from bot.slack.publisher import SlackPublisher  # noqa: E402
from bot.store import Store  # noqa: E402
from digests.compose import compose_digest  # noqa: E402
from digests.story import StoryLibrary, default_story  # noqa: E402
from tests.fakes.slack_fixtures import serve_web_app  # noqa: E402
from tests.fakes.slack_server import (  # noqa: E402
    DEFAULT_APP_TOKEN,
    DEFAULT_BOT_TOKEN,
    DEFAULT_SIGNING_SECRET,
    FakeSlack,
)

TARGET_P99_MS = 50.0


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


async def bench_latency(requests: int, tmp: Path) -> None:
    async with FakeSlack(channel_rate=None) as fake:
        store = Store.open(f"sqlite:///{tmp / 'bench.sqlite3'}")
        library = StoryLibrary.load(None)
        admin = AdminService(store, library, publishers=PublisherRegistry())
        bot = SlackBot(
            settings=SlackSettings(
                bot_token=DEFAULT_BOT_TOKEN,  # type: ignore[arg-type]
                app_token=DEFAULT_APP_TOKEN,  # type: ignore[arg-type]
                signing_secret=DEFAULT_SIGNING_SECRET,  # type: ignore[arg-type]
                api_url=fake.api_url,
            ),
            admin=admin,
            library=library,
            store=store,
        )
        questions = [
            "qui est Mira Murati ?",
            "who is Sam Altman?",
            "Satya Nadella",
            "qui dirige OpenAI",
        ]
        async with serve_web_app(bot.web_app()) as base, aiohttp.ClientSession() as http:
            url = base + "/slack/events"

            async def timed_post(i: int) -> float:
                signed = fake.signed_slash_command(
                    DEFAULT_SIGNING_SECRET, "/who", questions[i % len(questions)]
                )
                started = time.perf_counter()
                async with http.post(url, data=signed.body, headers=signed.headers) as res:
                    await res.read()
                    assert res.status == 200, res.status
                return (time.perf_counter() - started) * 1000

            async def timed_health() -> float:
                started = time.perf_counter()
                async with http.get(base + "/healthz") as res:
                    await res.read()
                return (time.perf_counter() - started) * 1000

            for i in range(20):  # warm-up: auth.test, users.info cache, Babel locales, who index
                await timed_post(i)
            for _ in range(20):
                await fake.next_response(timeout=10)
            latencies = []
            for i in range(requests):
                latencies.append(await timed_post(i))
            for _ in range(requests):  # every command was answered through its response_url
                await fake.next_response(timeout=30)
            floor = [await timed_health() for _ in range(requests)]
        await bot.clients.close()
        store.dispose()
    p50, p99 = statistics.median(latencies), percentile(latencies, 99)
    f50, f99 = statistics.median(floor), percentile(floor, 99)
    print(f"== slash command latency, HTTP mode, {requests} signed /who requests (ack time)")
    print(f"   Bolt endpoint: p50 {p50:.2f} ms, p99 {p99:.2f} ms, max {max(latencies):.2f} ms")
    print(f"   /healthz floor: p50 {f50:.2f} ms, p99 {f99:.2f} ms")
    print(
        f"   p99 / target ({TARGET_P99_MS:.0f} ms) = {p99 / TARGET_P99_MS:.3f}   p99 / floor p99 = {p99 / f99:.1f}"
    )


async def bench_fan_out(digests: int, workspaces: int, rate: float, burst: int) -> None:
    story = default_story()
    documents = {lang: compose_digest(story, dt.date(2023, 11, 17), lang) for lang in ("fr", "en")}
    async with FakeSlack(
        channel_rate=1.0, workspace_rate=rate, workspace_burst=float(burst)
    ) as fake:
        tokens = {}
        for w in range(workspaces):
            team = fake.add_team(f"T0BENCH{w:03d}")
            tokens[team.id] = team.bot_token
        teams = list(tokens)
        targets = [(teams[i % workspaces], f"C0B{i:06d}") for i in range(digests)]
        per_workspace = {team: sum(1 for t, _ in targets if t == team) for team in teams}
        bound = max(max(0, n - burst) / rate for n in per_workspace.values())

        # Baseline: a naive gather of plain chat.postMessage calls (no limiter, no retry).
        naive_clients = SlackClients(DEFAULT_BOT_TOKEN, api_url=fake.api_url, tokens=tokens)
        started = time.perf_counter()
        results = await asyncio.gather(
            *(
                naive_clients.for_team(team).chat_postMessage(channel=f"N{channel}", text="naive")
                for team, channel in targets
            ),
            return_exceptions=True,
        )
        naive_wall = time.perf_counter() - started
        naive_lost = sum(1 for r in results if isinstance(r, Exception))
        naive_429 = fake.ratelimited_count
        await naive_clients.close()

        # Our publisher: proactive limiter per workspace and per channel, 429 handling.
        await asyncio.sleep(burst / rate + 1.0)  # let the fake's workspace buckets refill
        fake.ratelimited_count = 0
        before = len(fake.all_messages)
        clients = SlackClients(DEFAULT_BOT_TOKEN, api_url=fake.api_url, tokens=tokens)
        limits = RateLimitSettings(slack_workspace_per_second=rate, slack_channel_per_second=1.0)
        publisher = SlackPublisher(clients, limiter=slack_limiter(limits))
        deliveries = [
            Delivery(
                id=i + 1,
                subscription_id=i + 1,
                platform="slack",
                workspace_id=team,
                channel_id=channel,
                lang="fr" if i % 2 else "en",
                story_slug=story.slug,
                digest_date=dt.date.today(),
                document=documents["fr" if i % 2 else "en"],  # type: ignore[arg-type]
                story_date=story.first_day,
            )
            for i, (team, channel) in enumerate(targets)
        ]
        started = time.perf_counter()
        outcomes = await asyncio.gather(
            *(publisher.publish(d) for d in deliveries), return_exceptions=True
        )
        wall = time.perf_counter() - started
        failed = sum(1 for o in outcomes if isinstance(o, Exception))
        posted = len(fake.all_messages) - before
        requests = len(fake.calls_to("chat.postMessage")) - len(targets)
        ours_429 = fake.ratelimited_count
        await clients.close()
    print(
        f"== fan-out: {digests} digests to {digests} channels over {workspaces} workspaces "
        f"(fake limits: 1 msg/s per channel, {rate:g} msg/s per workspace, burst {burst})"
    )
    print(f"   bound imposed by the limits: {bound:.2f} s")
    print(
        f"   Dépêche publisher: wall {wall:.2f} s, wall/bound = {wall / bound:.3f}, posted {posted}/{digests}, "
        f"failed {failed}, 429s {ours_429} = {100 * ours_429 / max(1, requests):.2f} % of {requests} requests"
    )
    print(
        f"   naive gather (baseline): wall {naive_wall:.2f} s, {naive_429} 429s "
        f"({100 * naive_429 / digests:.1f} %), {naive_lost} of {digests} posts lost"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--digests", type=int, default=2000)
    parser.add_argument("--workspaces", type=int, default=10)
    parser.add_argument("--workspace-rate", type=float, default=20.0)
    parser.add_argument("--workspace-burst", type=int, default=5)
    args = parser.parse_args()
    import logging
    import tempfile

    logging.basicConfig(level=logging.WARNING)
    with tempfile.TemporaryDirectory() as tmp:
        asyncio.run(bench_latency(args.requests, Path(tmp)))
    asyncio.run(
        bench_fan_out(args.digests, args.workspaces, args.workspace_rate, args.workspace_burst)
    )


if __name__ == "__main__":
    main()
