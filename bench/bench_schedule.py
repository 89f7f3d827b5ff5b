"""Tick planning with 100,000 subscriptions spread over time zones and post times.

For SQLite and PostgreSQL (a throwaway server, as in the tests), prints:
- the time of a steady-state tick (every 30 s of a day: ~35 due subscriptions each), median
  and worst over ``--ticks`` consecutive ticks;
- the time of a catch-up tick where *every* subscription is due at once (after a day down);
- the time of the day's peak when everybody posts at 08:00 local (30 zones due at once);
and the ratios to the 1 s target, plus the peak RSS of the process (target 300 MB).

    .venv/bin/python bench/bench_schedule.py [--subscriptions 100000] [--ticks 120] [--backend sqlite|postgresql|both]
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.schedule import first_run, tick
from bot.store import Store, Subscription
from digests.story import StoryLibrary, default_story

ZONES = [
    "Europe/Paris",
    "Europe/London",
    "Europe/Berlin",
    "Europe/Madrid",
    "Europe/Moscow",
    "Africa/Cairo",
    "Africa/Lagos",
    "Asia/Kolkata",
    "Asia/Tokyo",
    "Asia/Shanghai",
    "Asia/Singapore",
    "Asia/Dubai",
    "Australia/Sydney",
    "Australia/Perth",
    "Pacific/Auckland",
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Los_Angeles",
    "America/Sao_Paulo",
    "America/Mexico_City",
    "America/Toronto",
    "America/Montreal",
    "America/Halifax",
    "America/St_Johns",
    "Asia/Kathmandu",
    "Asia/Tehran",
    "Pacific/Honolulu",
    "Atlantic/Reykjavik",
    "UTC",
]
TARGET_SECONDS = 1.0
TARGET_RSS_MB = 300


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def populate(store: Store, count: int, now: dt.datetime, fixed_time: str | None = None) -> None:
    rng = random.Random(7)
    rows = []
    for index in range(count):
        tz = rng.choice(ZONES)
        post_time = fixed_time or f"{rng.randrange(24):02d}:{rng.randrange(60):02d}"
        rows.append(
            {
                "story_slug": "openai-crisis-2023",
                "platform": rng.choice(("discord", "slack")),
                "workspace_id": f"w{index // 50}",
                "channel_id": f"c{index}",
                "lang": rng.choice(("fr", "en", "both")),
                "post_time": post_time,
                "timezone": tz,
                "mode": "live",
                "start_date": None,
                "active": True,
                "managed_by": "chat",
                "admin_lang": "en",
                "created_at": now,
                "updated_at": now,
                "next_run_at": first_run(
                    post_time=post_time, tz=tz, mode="live", start_date=None, now=now
                ),
            }
        )
        if len(rows) == 10_000:
            with store.session() as session, session.begin():
                session.execute(Subscription.__table__.insert(), rows)
            rows = []
    if rows:
        with store.session() as session, session.begin():
            session.execute(Subscription.__table__.insert(), rows)


def bench(url: str, label: str, count: int, ticks: int) -> None:
    library = StoryLibrary([default_story()])
    start = dt.datetime(2024, 3, 1, 0, 0, tzinfo=dt.UTC)
    store = Store.open(url)
    began = time.perf_counter()
    populate(store, count, start)
    print(f"{label}: {count} subscriptions inserted in {time.perf_counter() - began:.1f} s")

    # Steady state: one tick every 30 s from 12:00 UTC.
    now = start + dt.timedelta(hours=12)
    tick(store, library, now, no_news_line=True)  # catch up the first 12 h (not measured)
    durations, due = [], []
    for _ in range(ticks):
        now += dt.timedelta(seconds=30)
        t0 = time.perf_counter()
        result = tick(store, library, now, no_news_line=True)
        durations.append(time.perf_counter() - t0)
        due.append(result.due)
    median, worst = statistics.median(durations), max(durations)
    print(
        f"{label}: steady tick (30 s apart, {statistics.mean(due):.0f} due on average): "
        f"median {median * 1000:.1f} ms, worst {worst * 1000:.1f} ms -> worst/target {worst / TARGET_SECONDS:.3f}"
    )

    # Catch-up: everybody due at once (the next day's slot of all 100,000, after a day down).
    now = start + dt.timedelta(days=1, hours=12)
    t0 = time.perf_counter()
    result = tick(store, library, now, no_news_line=True)
    full = time.perf_counter() - t0
    print(
        f"{label}: catch-up tick with all due: {result.due} subscriptions, {result.enqueued + result.skipped} outbox rows "
        f"in {full:.2f} s -> {full / TARGET_SECONDS:.2f} x the 1 s target"
    )
    store.dispose()


def bench_peak(url: str, label: str, count: int) -> None:
    """Everybody at 08:00 local (30 zones): the day's peak, every zone's 08:00 due at once."""
    library = StoryLibrary([default_story()])
    start = dt.datetime(2024, 3, 1, 0, 0, tzinfo=dt.UTC)
    store = Store.open(url)
    populate(store, count, start, fixed_time="08:00")
    now = start + dt.timedelta(hours=23)  # 08:00 has passed in every zone but not twice
    t0 = time.perf_counter()
    result = tick(store, library, now, no_news_line=True, grace=dt.timedelta(hours=24))
    full = time.perf_counter() - t0
    print(
        f"{label}: peak tick, all at 08:00 local in {len(ZONES)} zones: {result.due} due, "
        f"{result.enqueued + result.skipped} outbox rows in {full:.2f} s -> {full / TARGET_SECONDS:.2f} x the 1 s target"
    )
    store.dispose()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--subscriptions", type=int, default=100_000)
    parser.add_argument("--ticks", type=int, default=120)
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    args = parser.parse_args()
    if args.backend in ("sqlite", "both"):
        with tempfile.TemporaryDirectory() as directory:
            bench(f"sqlite:///{directory}/bench.sqlite3", "sqlite", args.subscriptions, args.ticks)
            bench_peak(f"sqlite:///{directory}/peak.sqlite3", "sqlite", args.subscriptions)
    if args.backend in ("postgresql", "both"):
        from tests.pg import PostgresServer

        server = PostgresServer()
        try:
            server.start()
            bench(server.create_database(), "postgresql", args.subscriptions, args.ticks)
            bench_peak(server.create_database(), "postgresql", args.subscriptions)
        finally:
            server.stop()
    rss = peak_rss_mb()
    print(f"peak RSS {rss:.0f} MB -> {rss / TARGET_RSS_MB:.2f} x the {TARGET_RSS_MB} MB target")


if __name__ == "__main__":
    main()
