"""Slack fan-out, end to end: the real ``depeche run`` process, installed in many workspaces,
against the fake Slack in another process with a network round trip and Slack's limits.

What it does:

1. starts the fake Slack (`bench/fake_slack.py`) as a process: ``--workspaces`` teams with
   their own bot tokens; ``chat.postMessage`` limited to ``--workspace-rate`` per second per
   workspace (burst ``--workspace-burst``) and one per second per channel; ``--rtt`` seconds on
   every Web API call;
2. stores one installation per workspace the way "Add to Slack" does (`bot.slack.install`,
   tokens encrypted with DEPECHE_TOKEN_KEY) and ``--channels`` subscriptions spread evenly over
   the workspaces (replays starting today, French and English alternately), all due at the same
   minute M, the next minute boundary at least ``--lead`` seconds away, in a fresh SQLite file;
3. starts ``python -m bot run`` (Slack only, HTTP mode, OAuth settings) and waits;
4. stops when the outbox has nothing left to do, then asks the fake what it saw.

Printed: wall = from M (the scheduled minute) to the last post the fake accepted; bound = what
the per-workspace limits allow: the busiest workspace's posts beyond its burst ÷ its rate;
wall/bound (target <= 1.10); the first post's latency after M; lost and duplicated digests (at
the fake: channels with fewer or more messages than a digest has); 429s.

    .venv/bin/python bench/bench_slack_fanout.py --channels 2000 --workspaces 10
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import datetime as dt
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.bench_fanout import FakeProcess, outbox_state  # noqa: E402
from bench.digest_parts import slack_messages_per_digest  # noqa: E402
from bot.store import Store, Subscription  # noqa: E402

CLIENT_ID, CLIENT_SECRET, SIGNING_SECRET = "1111.2222", "bench-client-secret", "bench-signing"


def fake_slack(args: argparse.Namespace) -> FakeProcess:
    """The fake Slack (`bench/fake_slack.py`) with the benchmark's round trip and limits."""
    return FakeProcess(
        "bench.fake_slack", "--rtt", str(args.rtt), "--workspaces", str(args.workspaces),
        "--workspace-rate", str(args.workspace_rate),
        "--workspace-burst", str(args.workspace_burst),
        name="fake Slack",
    )  # fmt: skip


def install(url: str, tokens: dict[str, str], key: str) -> None:
    """One installation per workspace, stored as the OAuth flow stores it."""
    from slack_sdk.oauth.installation_store.models.installation import Installation

    from bot.slack.install import DEFAULT_SCOPES, EncryptedInstallationStore, TokenCipher

    store = Store.open(url)
    try:
        installations = EncryptedInstallationStore(
            store.engine, client_id=CLIENT_ID, cipher=TokenCipher(key)
        )
        for team_id, token in tokens.items():
            installation = Installation(
                app_id="A0BENCH",
                enterprise_id=None,
                team_id=team_id,
                bot_token=token,
                bot_id=f"B{team_id[1:]}BOT",
                bot_user_id=f"U{team_id[1:]}BOT",
                bot_scopes=list(DEFAULT_SCOPES),
                user_id="U0INSTALLER",
                installed_at=time.time(),
            )
            asyncio.run(installations.async_save(installation))
    finally:
        store.dispose()


def channel_of(team_id: str, index: int) -> str:
    return f"C{team_id[1:]}{index:05d}"


def seed(url: str, teams: list[str], count: int, minute: dt.datetime) -> list[str]:
    """``count`` subscriptions over ``teams``, due at ``minute``; their channel ids."""
    store = Store.open(url, upgrade=False)
    now = dt.datetime.now(dt.UTC)
    rows = []
    for index in range(count):
        team = teams[index % len(teams)]
        rows.append(
            {
                "story_slug": "openai-crisis-2023",
                "platform": "slack",
                "workspace_id": team,
                "channel_id": channel_of(team, index),
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
        )
    try:
        with store.session() as session, session.begin():
            session.execute(Subscription.__table__.insert(), rows)
    finally:
        store.dispose()
    return [row["channel_id"] for row in rows]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def run(args: argparse.Namespace) -> int:
    tmp = Path(tempfile.mkdtemp(prefix="bench-slack-"))
    url = f"sqlite:///{tmp / 'bench.sqlite3'}"
    fake = fake_slack(args)
    tokens: dict[str, str] = fake.info["tokens"]
    key = base64.urlsafe_b64encode(os.urandom(32)).decode()
    install(url, tokens, key)
    now = dt.datetime.now(dt.UTC)
    minute = (now + dt.timedelta(seconds=args.lead)).replace(second=0, microsecond=0)
    minute += dt.timedelta(minutes=1)
    channels = seed(url, sorted(tokens), args.channels, minute)
    log_path = tmp / "bot.log"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DISCORD_", "DEPECHE_"))},
        "SLACK_CLIENT_ID": CLIENT_ID,
        "SLACK_CLIENT_SECRET": CLIENT_SECRET,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_MODE": "http",
        "SLACK_PORT": str(free_port()),
        "SLACK_API_URL": fake.info["api_url"],
        "DEPECHE_TOKEN_KEY": key,
        "DEPECHE_SLACK_WORKSPACE_RATE": str(args.workspace_rate),
        "DEPECHE_WEB": "0",
        "DATABASE_URL": url,
        "DEPECHE_SUBSCRIPTIONS_FILE": str(tmp / "none.toml"),
        "DEPECHE_STORIES_DIR": str(tmp / "no-stories"),
        "PYTHONPATH": str(ROOT),
    }  # fmt: skip
    with log_path.open("wb") as log:
        bot = subprocess.Popen(
            [sys.executable, "-m", "bot", "run"], cwd=tmp, env=env, stdout=log, stderr=log
        )
    store = Store.open(url, upgrade=False)
    per_workspace = max(
        sum(1 for i in range(args.channels) if i % args.workspaces == w)
        for w in range(args.workspaces)
    )
    try:
        wait = minute.timestamp() - time.time()
        print(
            f"scheduled minute {minute:%H:%M:%S} UTC, in {wait:.1f} s; {args.channels} channels "
            f"over {args.workspaces} workspaces"
        )
        time.sleep(max(0.0, wait + 1.0))
        if bot.poll() is not None:
            raise SystemExit("the bot exited:\n" + log_path.read_text()[-3000:])
        deadline = time.time() + per_workspace / args.workspace_rate * 4 + 120
        total = left = 0
        while time.time() < deadline:
            total, left = outbox_state(store)
            if total >= args.channels and left == 0:
                break
            time.sleep(0.5)
        stats = fake.ask("stats")
    finally:
        bot.send_signal(signal.SIGTERM)
        try:
            bot.wait(30)
        except subprocess.TimeoutExpired:
            bot.kill()
        store.dispose()
        fake.close()
    accepted = sorted(stats["accepted"])
    if not accepted:
        print(log_path.read_text(errors="replace")[-3000:])
        raise SystemExit("no message was posted")
    per_channel: dict[str, int] = stats["per_channel"]
    counts = [per_channel.get(channel, 0) for channel in channels]
    # Messages of one digest (the post and its "more" replies in its thread), counted from the
    # document each language posts: never assumed, nor guessed from what the fake received.
    expected = [
        slack_messages_per_digest("en" if index % 2 else "fr") for index in range(len(channels))
    ]
    parts = "/".join(f"{slack_messages_per_digest(lang)} {lang}" for lang in ("fr", "en"))
    lost = sum(1 for count, want in zip(counts, expected, strict=True) if count < want)
    duplicated = sum(1 for count, want in zip(counts, expected, strict=True) if count > want)
    busiest = max(stats["posts_by_team"].values())
    bound = max(0.0, busiest - args.workspace_burst) / args.workspace_rate
    wall = accepted[-1] - minute.timestamp()
    print(
        f"deliveries {args.channels} (outbox {total}, {left} left), messages {len(accepted)} "
        f"({parts} per digest), rtt {args.rtt * 1000:.0f} ms, limits {args.workspace_rate:g} "
        f"msg/s per workspace (burst {args.workspace_burst:g}), 1 msg/s per channel"
    )
    print(f"wall (scheduled minute -> last accepted post): {wall:.2f} s")
    print(
        f"bound (busiest workspace: {busiest} messages, beyond the burst, at "
        f"{args.workspace_rate:g}/s): {bound:.2f} s"
    )
    print(f"wall / bound: {wall / bound:.3f}   (target <= 1.10)")
    print(f"first post after the minute: {accepted[0] - minute.timestamp():.2f} s")
    print(f"lost: {lost}, duplicated: {duplicated}")
    too_many = stats["too_many"]
    print(
        f"429s: {too_many} of {stats['post_requests']} chat.postMessage requests "
        f"({100 * too_many / max(1, stats['post_requests']):.2f} %)"
    )
    print(f"load average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    return 0 if lost == 0 and duplicated == 0 else 1


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--channels", type=int, default=2000)
    parser.add_argument("--workspaces", type=int, default=10)
    parser.add_argument("--rtt", type=float, default=0.06, help="round trip, seconds")
    parser.add_argument("--workspace-rate", type=float, default=10.0, help="msg/s per workspace")
    # Slack documents chat.postMessage as "1 per second per channel, short bursts allowed"
    # and no number per workspace; the fake holds each workspace to the bot's own pace
    # (DEPECHE_SLACK_WORKSPACE_RATE) with a short burst of 5.
    parser.add_argument("--workspace-burst", type=float, default=5.0)
    parser.add_argument("--lead", type=float, default=20.0, help="seconds to start the bot")
    return run(parser.parse_args())


if __name__ == "__main__":
    raise SystemExit(main())
