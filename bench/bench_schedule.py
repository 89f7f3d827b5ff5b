"""The tick at scale, on SQLite and on a PostgreSQL server with default durability.

Two parts, said plainly:

``--part burst`` (end to end): the real ``depeche run`` process against the fake Discord in
another process (`bench/fake_discord.py`, 60 ms round trip, Discord's limits), and
``--subscriptions`` (default 100,000) subscriptions
- **at once**: all due at the same minute M (the next minute boundary at least ``--lead`` s
  away); timed from M: the first post the fake accepted, and the moment the outbox holds every
  due post (polled in the database every 50 ms, so up to 50 ms late);
- **catch-up**: the bot was down for a day: every subscription missed yesterday's post (beyond
  the grace period: recorded skipped) and today's, 1 h ago (posted late); timed from the moment
  the bot logs that its scheduler started (its first tick runs then): first post, outbox filled.
Then the bot is stopped (the fan-out itself is `bench_fanout.py`'s subject).

``--part steady`` (in-process, a unit measurement): ``--subscriptions`` (default 1,000,000)
spread over 30 time zones and every minute of the day, the bot's own tick function called every
30 s of simulated time in this process, no platform: median and worst tick, peak RSS of this
process.

PostgreSQL: a throwaway server started here with PostgreSQL's default durability (fsync,
synchronous_commit and full_page_writes on; checked with SHOW and printed).

    .venv/bin/python bench/bench_schedule.py --part burst --subscriptions 100000 --backend both
    .venv/bin/python bench/bench_schedule.py --part steady --subscriptions 1000000 --backend sqlite
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import re
import resource
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.bench_fanout import Fake, outbox_state  # noqa: E402
from bench.fake_discord import CHANNELS_PER_GUILD, FIRST_CHANNEL, FIRST_GUILD  # noqa: E402
from bot.schedule import first_run, tick  # noqa: E402
from bot.store import Store, Subscription  # noqa: E402
from digests.story import StoryLibrary, default_story  # noqa: E402

FIRST_POST_TARGET = 2.0
FILLED_TARGET = 10.0
STEADY_TARGET = 1.0
RSS_TARGET_MB = 500
ZONES = [
    "Europe/Paris", "Europe/London", "Europe/Berlin", "Europe/Madrid", "Europe/Moscow",
    "Africa/Cairo", "Africa/Lagos", "Asia/Kolkata", "Asia/Tokyo", "Asia/Shanghai",
    "Asia/Singapore", "Asia/Dubai", "Australia/Sydney", "Australia/Perth", "Pacific/Auckland",
    "America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles",
    "America/Sao_Paulo", "America/Mexico_City", "America/Toronto", "America/Montreal",
    "America/Halifax", "America/St_Johns", "Asia/Kathmandu", "Asia/Tehran", "Pacific/Honolulu",
    "Atlantic/Reykjavik", "UTC",
]  # fmt: skip


# --------------------------------------------------------------------------- databases


@contextmanager
def durable_postgres() -> Iterator[str]:
    """A throwaway PostgreSQL server with the default durability settings; yields a URL."""
    from tests.pg import USER, PostgresServer

    server = PostgresServer()
    if server.bindir is None:
        raise SystemExit("PostgreSQL server programs (initdb, pg_ctl) not found")
    if server.as_postgres:
        import shutil

        shutil.chown(server.root, "postgres", "postgres")
    result = server._run(
        str(server.bindir / "initdb"), "-D", str(server.data), "-U", USER,
        "--auth=trust", "-E", "UTF8",
    )  # fmt: skip
    if result.returncode:
        raise SystemExit(f"initdb failed: {result.stderr}")
    options = (
        f"-p {server.port} -k {server.root} -c listen_addresses=127.0.0.1 -c max_connections=100"
    )
    result = server._run(
        str(server.bindir / "pg_ctl"), "-D", str(server.data), "-o", options,
        "-l", str(server.root / "log"), "-w", "-t", "60", "start",
    )  # fmt: skip
    if result.returncode:
        raise SystemExit(f"pg_ctl start failed: {result.stderr}")
    try:
        import psycopg

        with psycopg.connect(
            f"host=127.0.0.1 port={server.port} user={USER} dbname=postgres", autocommit=True
        ) as connection:
            shown = {
                name: connection.execute(f"SHOW {name}").fetchone()[0]  # type: ignore[index]
                for name in ("fsync", "synchronous_commit", "full_page_writes")
            }
        print(f"postgresql durability: {shown}")
        yield server.create_database()
    finally:
        server.stop()


@contextmanager
def database(backend: str) -> Iterator[str]:
    if backend == "postgresql":
        with durable_postgres() as url:
            yield url
    else:
        with tempfile.TemporaryDirectory() as directory:
            yield f"sqlite:///{directory}/bench.sqlite3"


def insert(store: Store, rows: list[dict[str, object]]) -> None:
    with store.session() as session, session.begin():
        for start in range(0, len(rows), 10_000):
            session.execute(Subscription.__table__.insert(), rows[start : start + 10_000])


def burst_rows(count: int, minute: dt.datetime, next_run: dt.datetime) -> list[dict[str, object]]:
    """``count`` live subscriptions posting at ``minute`` (UTC), next run ``next_run``."""
    now = dt.datetime.now(dt.UTC)
    return [
        {
            "story_slug": "openai-crisis-2023",
            "platform": "discord",
            "workspace_id": str(FIRST_GUILD + index // CHANNELS_PER_GUILD),
            "channel_id": str(FIRST_CHANNEL + index),
            "lang": "en" if index % 2 else "fr",
            "post_time": minute.strftime("%H:%M"),
            "timezone": "UTC",
            "mode": "live",
            "start_date": None,
            "active": True,
            "managed_by": "chat",
            "admin_lang": "en",
            "next_run_at": next_run,
            "created_at": now,
            "updated_at": now,
        }
        for index in range(count)
    ]


# --------------------------------------------------------------------------- end to end


def start_bot(fake: Fake, url: str, tmp: Path) -> tuple[subprocess.Popen[bytes], Path]:
    log_path = tmp / f"bot-{time.monotonic_ns()}.log"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DISCORD_", "DEPECHE_"))},
        "DISCORD_TOKEN": fake.info["token"],
        "DISCORD_API_URL": fake.info["api_url"],
        "DISCORD_GATEWAY_URL": fake.info["ws_url"],
        "DATABASE_URL": url,
        # live mode on today's date: the story has no events, the "no news" line is posted
        "DEPECHE_NO_NEWS_LINE": "1",
        "DEPECHE_SUBSCRIPTIONS_FILE": str(tmp / "none.toml"),
        "DEPECHE_STORIES_DIR": str(tmp / "no-stories"),
        "PYTHONPATH": str(ROOT),
    }  # fmt: skip
    with log_path.open("wb") as log:
        bot = subprocess.Popen(
            [sys.executable, "-m", "bot", "run"], cwd=tmp, env=env, stdout=log, stderr=log
        )
    return bot, log_path


def stop(bot: subprocess.Popen[bytes]) -> None:
    bot.send_signal(signal.SIGTERM)
    try:
        bot.wait(30)
    except subprocess.TimeoutExpired:
        bot.kill()
        bot.wait()


def watch(
    store: Store, fake: Fake, expected: int, origin: float, limit: float
) -> tuple[float, float]:
    """-> (first post, outbox filled) in seconds after ``origin`` (nan if not within limit)."""
    filled = first = float("nan")
    deadline = time.time() + limit
    while time.time() < deadline and (filled != filled or first != first):
        if filled != filled and outbox_state(store)[0] >= expected:
            filled = time.time() - origin
        if first != first:
            when = fake.ask("first")["first"]
            if when is not None:
                first = when - origin
        time.sleep(0.05)
    return first, filled


def scheduler_started(log_path: Path, timeout: float = 120) -> float:
    deadline = time.time() + timeout
    while time.time() < deadline:
        match = re.search(r"scheduler started: .*\((\S+)\)", log_path.read_text(errors="replace"))
        if match:
            return dt.datetime.fromisoformat(match.group(1)).timestamp()
        time.sleep(0.05)
    raise SystemExit("the bot did not start:\n" + log_path.read_text()[-3000:])


def burst(backend: str, count: int, lead: float) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="bench-tick-"))
    fake = Fake(0.06, 0)
    fake.ask(f"channels {count}")
    try:
        # all due at once, at the next minute boundary
        with database(backend) as url:
            minute = (dt.datetime.now(dt.UTC) + dt.timedelta(seconds=lead)).replace(
                second=0, microsecond=0
            ) + dt.timedelta(minutes=1)
            store = Store.open(url)
            insert(store, burst_rows(count, minute, minute))
            bot, log_path = start_bot(fake, url, tmp)
            try:
                wait = minute.timestamp() - time.time()
                print(
                    f"{backend}: {count} due at {minute:%H:%M} UTC (bot started {wait:.0f} s before)"
                )
                time.sleep(max(0.0, wait - 0.5))
                first, filled = watch(store, fake, count, minute.timestamp(), 120)
            finally:
                stop(bot)
                store.dispose()
            report(backend, "all due at once", count, first, filled, log_path)
        # catch-up after a day down
        with database(backend) as url:
            now = dt.datetime.now(dt.UTC)
            slot = (now - dt.timedelta(hours=1)).replace(second=0, microsecond=0)
            store = Store.open(url)
            insert(store, burst_rows(count, slot, slot - dt.timedelta(days=1)))
            before = fake.ask("first")["first"]
            bot, log_path = start_bot(fake, url, tmp)
            try:
                origin = scheduler_started(log_path)
                first, filled = watch_after(store, fake, 2 * count, origin, before)
            finally:
                stop(bot)
                store.dispose()
            report(backend, "catch-up after a day down", count, first, filled, log_path)
    finally:
        fake.close()


def watch_after(
    store: Store, fake: Fake, expected: int, origin: float, before: float | None
) -> tuple[float, float]:
    """As `watch`, for a fake that already accepted posts before (``before``: its first)."""
    filled = first = float("nan")
    deadline = time.time() + 180
    while time.time() < deadline and (filled != filled or first != first):
        if filled != filled and outbox_state(store)[0] >= expected:
            filled = time.time() - origin
        if first != first:
            stats = fake.ask("stats")
            later = [t for t in stats["accepted"] if t >= origin]
            if later:
                first = min(later) - origin
        time.sleep(0.05)
    return first, filled


def report(backend: str, what: str, count: int, first: float, filled: float, log: Path) -> None:
    ticks = re.findall(r"tick: .*", log.read_text(errors="replace"))
    print(
        f"{backend}, {what}, {count} subscriptions: first post {first:.2f} s "
        f"(/{FIRST_POST_TARGET:.0f} s target = {first / FIRST_POST_TARGET:.2f}), outbox filled "
        f"{filled:.2f} s (/{FILLED_TARGET:.0f} s target = {filled / FILLED_TARGET:.2f}); "
        f"bot: {ticks[-1] if ticks else 'no tick logged'}"
    )


# --------------------------------------------------------------------------- steady


def populate(url: str, count: int) -> None:
    """``count`` subscriptions over 30 zones and every minute of the day (run in a child
    process, so that the ticking process's peak RSS is the tick's own)."""
    start = dt.datetime(2024, 3, 1, 0, 0, tzinfo=dt.UTC)
    rng = random.Random(7)
    store = Store.open(url)
    for first in range(0, count, 50_000):
        rows: list[dict[str, object]] = []
        for index in range(first, min(count, first + 50_000)):
            tz = rng.choice(ZONES)
            post_time = f"{rng.randrange(24):02d}:{rng.randrange(60):02d}"
            rows.append(
                {
                    "story_slug": "openai-crisis-2023",
                    "platform": "discord",
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
                    "created_at": start,
                    "updated_at": start,
                    "next_run_at": first_run(
                        post_time=post_time, tz=tz, mode="live", start_date=None, now=start
                    ),
                }
            )
        insert(store, rows)
    store.dispose()


def steady(backend: str, count: int, ticks: int) -> None:
    library = StoryLibrary([default_story()])
    start = dt.datetime(2024, 3, 1, 0, 0, tzinfo=dt.UTC)
    with database(backend) as url:
        Store.open(url).dispose()  # the schema
        began = time.perf_counter()
        subprocess.run(
            [sys.executable, __file__, "--part", "populate", "--url", url,
             "--subscriptions", str(count)],
            check=True,
        )  # fmt: skip
        print(f"{backend}: {count} subscriptions inserted in {time.perf_counter() - began:.0f} s")
        store = Store.open(url)
        now = start + dt.timedelta(hours=12)
        tick(store, library, now, no_news_line=True)  # the first 12 h (not measured)
        durations, due = [], []
        for _ in range(ticks):
            now += dt.timedelta(seconds=30)
            t0 = time.perf_counter()
            result = tick(store, library, now, no_news_line=True)
            durations.append(time.perf_counter() - t0)
            due.append(result.due)
        store.dispose()
    worst = max(durations)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"{backend} (in-process tick, no platform): steady tick every 30 s, "
        f"{statistics.mean(due):.0f} due on average: median {statistics.median(durations) * 1000:.0f} ms, "
        f"worst {worst * 1000:.0f} ms -> worst/target {worst / STEADY_TARGET:.2f}; "
        f"peak RSS of the ticking process {rss:.0f} MB -> {rss / RSS_TARGET_MB:.2f} x {RSS_TARGET_MB} MB"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--part", choices=("burst", "steady", "populate"), default="burst")
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--subscriptions", type=int)
    parser.add_argument("--ticks", type=int, default=20)
    parser.add_argument("--lead", type=float, default=20.0)
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    args = parser.parse_args()
    if args.part == "populate":
        populate(args.url, args.subscriptions)
        return
    backends = ("sqlite", "postgresql") if args.backend == "both" else (args.backend,)
    for backend in backends:
        if args.part == "burst":
            burst(backend, args.subscriptions or 100_000, args.lead)
        else:
            steady(backend, args.subscriptions or 1_000_000, args.ticks)


if __name__ == "__main__":
    main()
