"""Several `depeche run` processes sharing one bot token and one PostgreSQL database, end to end.

What runs (each in its own process):
- a throwaway PostgreSQL server with its DEFAULT durability (fsync, synchronous_commit on);
- the fake Discord (bench/fake_discord_process.py) with Discord's limits (50 requests/s per
  bot, 5 messages per 5 s per channel) and ``--latency`` seconds per round trip;
- ``--instances`` real `depeche run` processes (DISCORD_TOKEN, DISCORD_API_URL and
  DISCORD_GATEWAY_URL pointed at the fake, DATABASE_URL at the server).

Once every instance is connected to the gateway, ``--channels`` subscriptions (one per channel,
in French, replay of the default story from today) are created due at the next minute. Timed
from that scheduled minute to the last message the fake accepted:

- wall / bound, where bound = messages / 50 s (Discord's global limit): target <= 1.15;
- the most requests the fake saw in one second of wall-clock time, and in any sliding second:
  target <= 50 (the instances share one budget, bot/budget.py);
- lost (a channel with fewer messages than the digest has parts) and duplicated (more): 0.

``--kill`` SIGKILLs one instance once ``--kill-at`` of the messages are out: its claims go back
to the others (bot/instances.py) and the figures above must still hold (0 lost, 0 duplicated).

    python bench/bench_instances.py                       # 10,000 channels, 3 instances
    python bench/bench_instances.py --kill                # the same, one instance SIGKILLed
    python bench/bench_instances.py --channels 1000       # a quicker run
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select  # noqa: E402

from bench.digest_parts import discord_messages_per_digest  # noqa: E402
from bot.store import Delivery as DeliveryRow  # noqa: E402
from bot.store import Store, Subscription  # noqa: E402
from digests.story import default_story  # noqa: E402
from tests.pg import PostgresServer  # noqa: E402

DISCORD_RATE = 50.0  # Discord's global limit, requests per second per bot


def read_state(path: Path) -> dict[str, Any]:
    for _ in range(50):
        try:
            return dict(json.loads(path.read_text()))
        except (FileNotFoundError, json.JSONDecodeError):
            time.sleep(0.1)
    raise RuntimeError(f"no state in {path}")


def wait_for(path: Path, test: Any, timeout: float, what: str) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        if path.exists():
            state = read_state(path)
            if test(state):
                return state
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {what}")
        time.sleep(0.25)


def parts_per_digest(day: dt.date) -> int:
    """How many messages the day-1 French digest takes on Discord (its "more" part included)."""
    return discord_messages_per_digest("fr", day)


def subscribe(store: Store, guilds: list[dict[str, Any]], minute: dt.datetime) -> int:
    """One subscription per channel, due at ``minute`` (UTC): replay of the story from today."""
    slug = default_story().slug
    now = dt.datetime.now(dt.UTC)
    rows = [
        {
            "story_slug": slug,
            "platform": "discord",
            "workspace_id": guild["id"],
            "channel_id": channel,
            "lang": "fr",
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
        for guild in guilds
        for channel in guild["channels"]
    ]
    with store.session() as session, session.begin():
        session.execute(Subscription.__table__.insert(), rows)
    return len(rows)


def handed_back(tmp: Path, instances: int) -> float | None:
    """When (epoch seconds) a live instance logged handing the dead one's claims back."""
    for index in range(instances):
        for line in (tmp / f"instance-{index}.log").read_text(errors="replace").splitlines():
            if "stopped beating" in line:
                stamp = dt.datetime.strptime(line[:23], "%Y-%m-%d %H:%M:%S,%f")
                return stamp.timestamp()  # logging writes local time
    return None


def start_instance(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "bot", "run", "--no-console-subscription"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def run(args: argparse.Namespace) -> int:
    server = PostgresServer(durable=True)
    server.start()
    processes: list[subprocess.Popen[bytes]] = []
    fake: subprocess.Popen[bytes] | None = None
    tmp = Path(tempfile.mkdtemp(prefix="depeche-bench-"))
    store: Store | None = None
    try:
        url = server.create_database()
        store = Store.open(url)  # migrated once here; the instances find it up to date
        state_path = tmp / "fake.json"
        fake = subprocess.Popen(
            [
                sys.executable,
                str(ROOT / "bench" / "fake_discord_process.py"),
                "--channels",
                str(args.channels),
                "--latency",
                str(args.latency),
                "--state",
                str(state_path),
            ],
            cwd=ROOT,
        )
        state = wait_for(state_path, lambda s: True, 120, "the fake Discord")
        env = {
            **os.environ,
            "DATABASE_URL": url,
            "DISCORD_TOKEN": state["token"],
            "DISCORD_API_URL": state["api_url"],
            "DISCORD_GATEWAY_URL": state["ws_url"],
            "DEPECHE_CONFIG": str(tmp / "settings.toml"),
        }
        env.pop("SLACK_BOT_TOKEN", None)
        (tmp / "settings.toml").write_text("")  # built-in defaults, whatever the checkout has
        for index in range(args.instances):
            processes.append(start_instance(env, tmp / f"instance-{index}.log"))
        wait_for(
            state_path,
            lambda s: s["identifies"] >= args.instances,
            300,
            "every instance on the gateway",
        )
        now = dt.datetime.now(dt.UTC)
        minute = (now + dt.timedelta(seconds=args.lead + 60)).replace(second=0, microsecond=0)
        count = subscribe(store, state["guilds"], minute)
        parts = parts_per_digest(minute.date())
        expected = count * parts
        print(
            f"{args.instances} instances, {count} channels x {parts} message(s), "
            f"{args.latency * 1000:.0f} ms round trips, PostgreSQL with default durability; "
            f"due at {minute:%H:%M:%S} UTC"
        )
        bound = expected / DISCORD_RATE
        deadline = minute.timestamp() + bound * 4 + 180
        killed: int | None = None
        killed_at = 0.0
        while True:
            state = read_state(state_path)
            if args.kill and killed is None and state["messages"] >= args.kill_at * expected:
                victim = processes[0]
                victim.send_signal(signal.SIGKILL)
                victim.wait()
                killed = victim.pid
                killed_at = time.time()
                print(
                    f"SIGKILLed instance pid {killed} at {state['messages']} messages, "
                    f"{killed_at - minute.timestamp():.1f} s after the minute"
                )
            if state["messages"] >= expected:
                break
            if time.time() > deadline:
                print(f"timed out: {state['messages']} of {expected} messages")
                break
            time.sleep(0.5)
        time.sleep(2.0)  # anything still in flight (a duplicate would show now)
        for process in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        fake.send_signal(signal.SIGTERM)
        fake.wait(60)
        state = wait_for(state_path, lambda s: s.get("final"), 60, "the fake's last state")
        with store.session() as session:
            statuses = Counter(
                dict(
                    session.execute(
                        select(DeliveryRow.status, func.count()).group_by(DeliveryRow.status)
                    ).all()
                )
            )
            by_worker = sorted(
                n
                for (n,) in session.execute(
                    select(func.count())
                    .select_from(DeliveryRow)
                    .where(DeliveryRow.status == "sent")
                    .group_by(DeliveryRow.claimed_by)
                ).all()
            )
        per_channel = state["per_channel"]
        lost = sum(1 for n in per_channel.values() if n < parts)
        duplicated = sum(1 for n in per_channel.values() if n > parts)
        wall = (state["last_post_at"] or math.inf) - minute.timestamp()
        first = (state["first_post_at"] or math.inf) - minute.timestamp()
        print(
            f"messages created: {state['messages']} of {expected} "
            f"({state['post_answers']} POSTs answered 200: a repeated nonce gets the first message)"
        )
        print(f"first post {first:.2f} s after the minute")
        print(
            f"wall {wall:.1f} s, bound {bound:.1f} s ({expected} / 50/s): "
            f"wall/bound = {wall / bound:.3f} (target <= 1.15)"
        )
        print(
            f"most requests in one second: {state['max_per_second']} (wall-clock seconds), "
            f"{state['max_in_sliding_second']} (any sliding second); target <= 50"
        )
        print(f"429s: {state['count_429']} of {state['requests']} requests")
        print(f"lost: {lost}, duplicated: {duplicated} (channels); outbox: {dict(statuses)}")
        print(f"sent per worker: {by_worker}")
        if killed is not None:
            released = handed_back(tmp, args.instances)
            if released is None:
                print("the killed instance's claims were not handed back (none held?)")
            else:
                print(
                    f"the killed instance's claims handed back {released - killed_at:.1f} s "
                    "after the kill (target <= 30 s)"
                )
        ok = lost == 0 and duplicated == 0 and state["messages"] == expected
        return 0 if ok else 1
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
            process.wait()
        if fake is not None and fake.poll() is None:
            fake.kill()
            fake.wait()
        if store is not None:
            store.dispose()
        server.stop()
        if os.environ.get("DEPECHE_BENCH_KEEP"):
            print(f"logs kept in {tmp}")
        else:
            import shutil

            shutil.rmtree(tmp, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--channels", type=int, default=10_000)
    parser.add_argument("--instances", type=int, default=3)
    parser.add_argument("--latency", type=float, default=0.06, help="seconds per round trip")
    parser.add_argument("--kill", action="store_true", help="SIGKILL one instance mid-way")
    parser.add_argument("--kill-at", type=float, default=0.4, help="fraction of messages out")
    parser.add_argument(
        "--lead", type=float, default=5.0, help="at least this many seconds before the minute"
    )
    return run(parser.parse_args())


if __name__ == "__main__":
    raise SystemExit(main())
