"""Fan-out, end to end: the real ``depeche run`` process against the fake Discord in another
process, with a network round trip and Discord's limits.

What it does:

1. starts the fake Discord (`bench/fake_discord.py`) as a process: 50 requests/s per bot
   token, 5 messages / 5 s per channel, ``--rtt`` seconds added to every REST request;
2. seeds ``--channels`` subscriptions (replays starting today: story day 1, which has
   events) all due at the same minute M, the next minute boundary at least ``--lead`` seconds
   away, in a fresh database (SQLite file, or ``--pg URL``);
3. starts ``python -m bot run`` (Discord only) pointed at the fake, and waits;
4. from M + 1 s, sends ``/who`` interactions at ``--who-rate`` per second while the fan-out runs;
5. stops when the outbox has nothing left to do, then asks the fake what it saw.

Printed: wall = from M (the scheduled minute, not the tick) to the last message post the fake
accepted; bound = messages / 50 s (Discord's global limit); wall/bound; the first post's
latency after M; lost and duplicated deliveries (at the fake: channels with fewer or more
messages than a digest has, counted from the document: the post and its "more" follow-ups); the share of 429s; the most requests the fake saw in one second;
``/who`` latency (INTERACTION_CREATE to callback, measured in the fake: p50/p99); the longest
event-loop stall the bot logged during the fan-out (its `bot.loopwatch` warnings).

    .venv/bin/python bench/bench_fanout.py --channels 2000 --rtt 0.06
    .venv/bin/python bench/bench_fanout.py --channels 10000 --rtt 0.15
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.digest_parts import discord_messages_per_digest  # noqa: E402
from bench.fake_discord import CHANNELS_PER_GUILD, FIRST_CHANNEL, FIRST_GUILD  # noqa: E402
from bot.store import PENDING, SENDING, Delivery, Store, Subscription  # noqa: E402

GLOBAL_LIMIT = 50  # Discord: requests per second per bot


class FakeProcess:
    """A fake platform (``python -m <module> <args>``) in a process of its own: its first JSON
    line says where it listens; then one command per line on stdin, one JSON answer each."""

    def __init__(self, module: str, *args: str, name: str) -> None:
        self.name = name
        self.process = subprocess.Popen(
            [sys.executable, "-m", module, *args],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.info = self.ask(None)

    def ask(self, command: str | None) -> dict[str, Any]:
        assert self.process.stdin is not None and self.process.stdout is not None
        if command is not None:
            self.process.stdin.write(command + "\n")
            self.process.stdin.flush()
        line = self.process.stdout.readline()
        if not line:
            raise SystemExit(f"the {self.name} process died")
        return dict(json.loads(line))

    def close(self) -> None:
        with contextlib.suppress(BrokenPipeError, SystemExit, json.JSONDecodeError):
            self.ask("quit")
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()


class Fake(FakeProcess):
    """The fake Discord (`bench/fake_discord.py`) with ``rtt`` and ``channels``."""

    def __init__(self, rtt: float, channels: int) -> None:
        super().__init__(
            "bench.fake_discord", "--rtt", str(rtt), "--channels", str(channels),
            name="fake Discord",
        )  # fmt: skip


def seed(url: str, count: int, minute: dt.datetime) -> None:
    """``count`` subscriptions due at ``minute`` (replays of the shipped story from that day)."""
    store = Store.open(url)
    now = dt.datetime.now(dt.UTC)
    rows = [
        {
            "story_slug": "openai-crisis-2023",
            "platform": "discord",
            "workspace_id": str(FIRST_GUILD + index // CHANNELS_PER_GUILD),
            "channel_id": str(FIRST_CHANNEL + index),
            "lang": "en" if index % 2 else "fr",
            "post_time": minute.strftime("%H:%M"),
            "timezone": "UTC",
            "mode": "replay",
            "start_date": minute.date(),
            "active": True,
            "managed_by": "chat",
            "admin_lang": "en",
            "next_run_at": minute,
            "created_at": now,
            "updated_at": now,
        }
        for index in range(count)
    ]
    try:
        with store.session() as session, session.begin():
            for start in range(0, len(rows), 5000):
                session.execute(Subscription.__table__.insert(), rows[start : start + 5000])
    finally:
        store.dispose()


def outbox_state(store: Store) -> tuple[int, int]:
    from sqlalchemy import func, select

    with store.session() as session:
        total = session.scalar(select(func.count()).select_from(Delivery)) or 0
        left = (
            session.scalar(
                select(func.count())
                .select_from(Delivery)
                .where(Delivery.status.in_([PENDING, SENDING]))
            )
            or 0
        )
    return int(total), int(left)


def stalls(log: str, start: float, end: float) -> tuple[float, float, float]:
    """The longest event-loop stall the bot logged between ``start`` and ``end`` (wall), the
    loop thread's CPU time during it, and the longest CPU time of the loop thread during any
    logged stall (the part our own code kept the loop busy; the rest is waiting for the CPU)."""
    longest = (0.0, 0.0)
    busiest = 0.0
    pattern = r"event loop stalled ([\d.]+) ms \(loop thread on CPU ([\d.]+) ms\) at (\S+)"
    for match in re.finditer(pattern, log):
        when = dt.datetime.fromisoformat(match.group(3)).timestamp()
        if start <= when <= end:
            stall, cpu = float(match.group(1)), float(match.group(2))
            longest = max(longest, (stall, cpu))
            busiest = max(busiest, cpu)
    return longest[0], longest[1], busiest


def percentile(values: list[float], share: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def run(args: argparse.Namespace) -> int:
    tmp = Path(tempfile.mkdtemp(prefix="bench-fanout-"))
    url = args.pg or f"sqlite:///{tmp / 'bench.sqlite3'}"
    fake = Fake(args.rtt, args.channels)
    now = dt.datetime.now(dt.UTC)
    minute = (now + dt.timedelta(seconds=args.lead)).replace(second=0, microsecond=0)
    minute += dt.timedelta(minutes=1)
    seed(url, args.channels, minute)
    log_path = tmp / "bot.log"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DISCORD_", "DEPECHE_"))},
        "DISCORD_TOKEN": fake.info["token"],
        "DISCORD_API_URL": fake.info["api_url"],
        "DISCORD_GATEWAY_URL": fake.info["ws_url"],
        "DATABASE_URL": url,
        "DEPECHE_SUBSCRIPTIONS_FILE": str(tmp / "none.toml"),
        "DEPECHE_STORIES_DIR": str(tmp / "no-stories"),
        "DEPECHE_LOOP_STALL_MS": "5",
        "PYTHONPATH": str(ROOT),
    }  # fmt: skip
    with log_path.open("wb") as log:
        bot = subprocess.Popen(
            [sys.executable, "-m", "bot", "run"], cwd=tmp, env=env, stdout=log, stderr=log
        )
    store = Store.open(url, upgrade=False)
    expected_fanout = args.channels / GLOBAL_LIMIT
    try:
        wait = minute.timestamp() - time.time()
        print(f"scheduled minute {minute:%H:%M:%S} UTC, in {wait:.1f} s; {args.channels} channels")
        if wait < 3:
            print("warning: the bot had less than 3 s to start; raise --lead")
        time.sleep(max(0.0, wait + 1.0))
        if bot.poll() is not None:
            raise SystemExit("the bot exited:\n" + log_path.read_text()[-3000:])
        fake.ask(f"who {args.who_rate} {expected_fanout * 1.2:.1f}")
        deadline = time.time() + expected_fanout * 4 + 120
        total = left = 0
        while time.time() < deadline:
            total, left = outbox_state(store)
            if total >= args.channels and left == 0:
                break
            time.sleep(0.5)
        ended = time.time()
        stats = fake.ask("stats")
    finally:
        bot.send_signal(signal.SIGTERM)
        try:
            bot.wait(30)
        except subprocess.TimeoutExpired:
            bot.kill()
        store.dispose()
        fake.close()
    log = log_path.read_text(errors="replace")
    accepted = sorted(stats["accepted"])
    if not accepted:
        print(log[-3000:])
        raise SystemExit("no message was posted")
    by_count = {int(k): v for k, v in stats["channels_by_message_count"].items()}
    # Messages of one digest (the post and its "more" follow-ups), from the document each
    # language posts: never assumed to be one, nor guessed from what the fake received.
    per_lang = {lang: discord_messages_per_digest(lang, minute.date()) for lang in ("fr", "en")}
    fewest, most = min(per_lang.values()), max(per_lang.values())
    parts = "/".join(f"{per_lang[lang]} {lang}" for lang in ("fr", "en"))
    posted_channels = sum(by_count.values())
    lost = args.channels - posted_channels + sum(v for k, v in by_count.items() if k < fewest)
    duplicated = sum(v for k, v in by_count.items() if k > most)
    wall = accepted[-1] - minute.timestamp()
    bound = len(accepted) / GLOBAL_LIMIT
    who = stats["who"]
    print(
        f"deliveries {args.channels} (outbox {total}, {left} left), messages {len(accepted)} "
        f"({parts} per digest), rtt {args.rtt * 1000:.0f} ms, database {url.split(':')[0]}"
    )
    print(f"wall (scheduled minute -> last accepted post): {wall:.2f} s")
    print(f"bound (messages / {GLOBAL_LIMIT} per s): {bound:.2f} s")
    print(f"wall / bound: {wall / bound:.3f}   (target <= 1.10)")
    print(f"first post after the minute: {accepted[0] - minute.timestamp():.2f} s   (target <= 2)")
    print(f"lost: {lost}, duplicated: {duplicated}")
    too_many = stats["too_many"]
    print(
        f"429s: {too_many} of {stats['requests']} requests "
        f"({100 * too_many / max(1, stats['requests']):.2f} %, target < 0.5 %); "
        f"most requests in one second: {stats['max_per_second']}"
    )
    if who:
        print(
            f"/who during the fan-out: {len(who)} interactions, p50 "
            f"{statistics.median(who) * 1000:.1f} ms, p99 {percentile(who, 0.99) * 1000:.1f} ms "
            f"measured in the fake, which delays the callback by half its {args.rtt * 1000:.0f} ms "
            "round trip (the gateway event is not delayed)"
        )
        net = [max(0.0, value - args.rtt / 2) for value in who]
        print(
            f"/who, the bot's own time (the fake's figure less the {args.rtt * 500:.0f} ms one-way "
            f"network delay it adds): p50 {statistics.median(net) * 1000:.1f} ms, "
            f"p99 {percentile(net, 0.99) * 1000:.1f} ms (target p99 <= 50 ms)"
        )
    stall, cpu, busiest = stalls(log, minute.timestamp(), ended)
    print(
        f"longest event-loop stall during the fan-out: {stall:.1f} ms, the loop thread on CPU "
        f"{cpu:.1f} ms of it; most CPU the loop thread used during any stall: {busiest:.1f} ms "
        "(stalls >= 5 ms are logged; target <= 20)"
    )
    print(f"load average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    return 0 if lost == 0 and duplicated == 0 else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--channels", type=int, default=2000)
    parser.add_argument("--rtt", type=float, default=0.06, help="round trip, seconds")
    parser.add_argument("--lead", type=float, default=20.0, help="seconds to start the bot")
    parser.add_argument("--who-rate", type=float, default=5.0, help="/who per second")
    parser.add_argument("--pg", help="a PostgreSQL URL (an empty database) instead of SQLite")
    return run(parser.parse_args())


if __name__ == "__main__":
    raise SystemExit(main())
