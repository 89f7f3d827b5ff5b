"""Discord benchmarks against the fake Discord (loopback), with the real discord.py client.

1. Interaction latency: INTERACTION_CREATE sent by the fake -> callback received by the fake,
   p50/p99 over N slash commands (/who, /timeline, /faq, /digest preview in fr and en).
   Target: p99 <= 50 ms.
2. Fan-out of N digests to N channels through the fake's Discord-like limits (50 req/s global,
   5 per 5 s per channel): our publisher, N publishes in flight through a semaphore of the
   delivery worker's default concurrency (8), exactly how `DeliveryWorker.run_once` calls it.
   Reported: wall / (N / 50 s) (target <= 1.10) and 429s (target < 1 %).
   Baseline in the same run: discord.py's naive ``for channel in channels: await
   channel.send(...)`` on ``--naive-channels`` channels (fewer, extrapolated linearly to N).

    python bench/bench_discord.py                    # 1000 commands, 2000 channels, naive on 300
    python bench/bench_discord.py --quick            # 200 commands, 300 channels, naive on 100
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import discord  # noqa: E402

from bot.discord.embeds import render_document  # noqa: E402
from bot.discord.publisher import DiscordPublisher  # noqa: E402
from bot.publishing import Delivery, TransientPublishError  # noqa: E402
from bot.ratelimit import discord_limiter  # noqa: E402
from bot.settings import DeliverySettings  # noqa: E402
from digests.compose import compose_digest  # noqa: E402
from digests.story import default_story  # noqa: E402
from tests.discord_env import discord_env  # noqa: E402
from tests.fakes.discord_server import (  # noqa: E402
    FakeDiscord,
    discord_pointed_at,
    running_client,
)

COMMANDS = [
    ("who", {"question": "Qui a licencié Sam Altman ?"}, "fr"),
    ("who", {"question": "Who is Mira Murati?"}, "en-US"),
    ("timeline", {"date": "2023-11-18"}, "fr"),
    ("faq", {}, "en-US"),
    ("digest preview", {"date": "2023-11-19"}, "fr"),
]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


async def interaction_latency(n: int) -> list[float]:
    with tempfile.TemporaryDirectory() as tmp:
        async with discord_env(Path(tmp)) as env:
            fake = env.fake
            for name, options, locale in COMMANDS:  # warm-up, not measured
                await (await fake.dispatch_command(name, options, locale=locale)).wait_callback()
            latencies = []
            for i in range(n):
                name, options, locale = COMMANDS[i % len(COMMANDS)]
                interaction = await fake.dispatch_command(name, options, locale=locale)
                callback = await interaction.wait_callback()
                latencies.append((callback.at - interaction.created_at) * 1000)
            return latencies


def fan_out_fake(n: int) -> tuple[FakeDiscord, list[int]]:
    fake = FakeDiscord()
    guild = fake.add_guild(name="fan-out", channels=[{"name": f"c{i}"} for i in range(n)])
    return fake, [int(c["id"]) for c in guild["channels"]]


async def ours(n: int) -> tuple[float, int, int]:
    fake, channels = fan_out_fake(n)
    await fake.start()
    story = default_story()
    document = compose_digest(story, story.first_day, "fr")
    assert document is not None
    publisher = DiscordPublisher(token=fake.token, api_url=fake.api_url, limiter=discord_limiter())
    semaphore = asyncio.Semaphore(DeliverySettings().concurrency)

    async def one(i: int, channel: int) -> None:
        delivery = Delivery(
            id=i + 1,
            subscription_id=i + 1,
            platform="discord",
            workspace_id="",
            channel_id=str(channel),
            lang="fr",
            story_slug=story.slug,
            digest_date=story.first_day,
            document=document,
        )
        async with semaphore:
            # As the delivery worker does: a transient error (a 429 that slipped through) is
            # retried after the time the platform asked for; it still counts in the 429s.
            for _attempt in range(5):
                try:
                    await publisher.publish(delivery)
                    return
                except TransientPublishError as error:
                    await asyncio.sleep(error.retry_after or 1.0)
            raise RuntimeError(f"delivery {delivery.id} failed 5 times")

    try:
        start = time.monotonic()
        await asyncio.gather(*(one(i, c) for i, c in enumerate(channels)))
        wall = time.monotonic() - start
        posted = sum(len(fake.messages(c)) for c in channels)
        return wall, fake.count_429, posted
    finally:
        await publisher.close()
        await fake.close()


async def naive(n: int) -> tuple[float, int, int]:
    fake, channels = fan_out_fake(n)
    await fake.start()
    story = default_story()
    document = compose_digest(story, story.first_day, "fr")
    assert document is not None
    (embeds,) = render_document(document)
    try:
        with discord_pointed_at(fake):
            client = discord.Client(intents=discord.Intents.default())
            async with running_client(client, fake, timeout=30):
                targets = [client.get_channel(c) for c in channels]
                start = time.monotonic()
                for channel in targets:
                    await channel.send(embeds=embeds)  # type: ignore[union-attr]
                wall = time.monotonic() - start
        posted = sum(len(fake.messages(c)) for c in channels)
        return wall, fake.count_429, posted
    finally:
        await fake.close()


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--commands", type=int, default=1000)
    parser.add_argument("--channels", type=int, default=2000)
    parser.add_argument("--naive-channels", type=int, default=300)
    parser.add_argument(
        "--quick", action="store_true", help="200 commands, 300 channels, naive on 100"
    )
    args = parser.parse_args()
    if args.quick:
        args.commands, args.channels, args.naive_channels = 200, 300, 100
    logging.basicConfig(level=logging.WARNING)
    for name in ("discord", "bot", "alembic"):
        logging.getLogger(name).setLevel(logging.ERROR)

    latencies = await interaction_latency(args.commands)
    p50, p99 = percentile(latencies, 50), percentile(latencies, 99)
    print(
        f"interaction latency over {len(latencies)} commands: p50 {p50:.1f} ms, p99 {p99:.1f} ms, "
        f"mean {statistics.mean(latencies):.1f} ms (target p99 <= 50 ms: {'OK' if p99 <= 50 else 'MISSED'})"
    )

    bound = args.channels / 50
    wall, hits, posted = await ours(args.channels)
    ratio = wall / bound
    print(
        f"fan-out, ours: {args.channels} digests to {args.channels} channels in {wall:.1f} s; bound "
        f"{bound:.1f} s; wall/bound {ratio:.3f} (target <= 1.10: {'OK' if ratio <= 1.10 else 'MISSED'}); "
        f"429s {hits} ({hits / args.channels:.2%}; target < 1%); posted {posted}"
    )

    n_naive = args.naive_channels
    naive_wall, naive_hits, naive_posted = await naive(n_naive)
    scale = args.channels / n_naive
    print(
        f"fan-out, naive discord.py loop: {n_naive} channels in {naive_wall:.1f} s, 429s {naive_hits} "
        f"({naive_hits / n_naive:.1%}), posted {naive_posted}; extrapolated to {args.channels}: "
        f"{naive_wall * scale:.1f} s, wall/bound {naive_wall * scale / bound:.3f}, ~{round(naive_hits * scale)} 429s"
    )
    print(
        f"ratios: naive wall / ours {naive_wall * scale / wall:.2f}; naive 429s / ours "
        f"{(naive_hits * scale) / max(hits, 1):.0f}x{' (ours: 0)' if hits == 0 else ''}"
    )
    ok = p99 <= 50 and ratio <= 1.10 and hits < 0.01 * args.channels and posted == args.channels
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
