"""Corrections, end to end: the real ``depeche run`` process against the fake Discord in another
process (``bench/fake_discord.py``: Discord's limits, ``--rtt`` per REST round trip), with
``--channels`` digests already posted, then ``depeche story publish`` of a revision that
changes that day.

What it does:

1. starts the fake Discord and ``python -m bot run`` (Discord only, on a fresh SQLite file or
   ``--pg URL``), with ``--channels`` subscriptions (replays starting today: story day 1) due at
   the next minute at least ``--lead`` seconds away, and waits until every digest is posted;
2. publishes, with ``python -m bot story publish`` (another process, as an editor would), a
   revision of the shipped story that corrects the headline of story day 1's first event;
3. waits until the outbox has every correction done, then asks the fake what it saw.

Printed: the clock starts when ``story publish`` is launched; the time to the first and to the
last edit the fake accepted; the bound (edits / 50 per s, Discord's global limit) and
(last - publish) / bound; the same from the first edit (without the wait for the next tick,
``DEPECHE_TICK_SECONDS``, ``--tick``); lost corrections (channels whose post does not show the
line) and duplicated ones (a line shown twice, or a message edited more than once).

    .venv/bin/python bench/bench_corrections.py --channels 2000 --rtt 0.06
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.bench_fanout import GLOBAL_LIMIT, Fake, outbox_state, seed  # noqa: E402
from bot.store import CORRECTION, PENDING, SENDING, Delivery, Store  # noqa: E402

SHIPPED = ROOT / "digests" / "stories" / "openai-crisis-2023.yaml"
CORRECTIONS = (
    ('fr: "OpenAI licencie son PDG, Sam Altman"', 'fr: "OpenAI licencie son PDG et cofondateur, Sam Altman"'),
    ('en: "OpenAI fires CEO Sam Altman"', 'en: "OpenAI fires its CEO and co-founder, Sam Altman"'),
)  # fmt: skip
MARKS = "Updated |Mis à jour le "


def corrections_left(store: Store) -> tuple[int, int]:
    from sqlalchemy import func, select

    with store.session() as session:
        total = session.scalar(
            select(func.count()).select_from(Delivery).where(Delivery.kind == CORRECTION)
        )
        left = session.scalar(
            select(func.count())
            .select_from(Delivery)
            .where(Delivery.kind == CORRECTION, Delivery.status.in_([PENDING, SENDING]))
        )
    return int(total or 0), int(left or 0)


def revision_file(tmp: Path) -> Path:
    document = SHIPPED.read_text(encoding="utf-8")
    for old, new in CORRECTIONS:
        assert document.count(old) == 1, old
        document = document.replace(old, new)
    path = tmp / "openai-crisis-2023.yaml"
    path.write_text(document, encoding="utf-8")
    return path


def run(args: argparse.Namespace) -> int:
    tmp = Path(tempfile.mkdtemp(prefix="bench-corrections-"))
    url = args.pg or f"sqlite:///{tmp / 'bench.sqlite3'}"
    fake = Fake(args.rtt, args.channels)
    now = dt.datetime.now(dt.UTC)
    minute = (now + dt.timedelta(seconds=args.lead)).replace(second=0, microsecond=0)
    minute += dt.timedelta(minutes=1)
    seed(url, args.channels, minute)
    settings = tmp / "settings.toml"
    settings.write_text("", encoding="utf-8")
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DISCORD_", "DEPECHE_"))},
        "DISCORD_TOKEN": fake.info["token"],
        "DISCORD_API_URL": fake.info["api_url"],
        "DISCORD_GATEWAY_URL": fake.info["ws_url"],
        "DATABASE_URL": url,
        "DEPECHE_CONFIG": str(settings),
        "DEPECHE_SUBSCRIPTIONS_FILE": str(tmp / "none.toml"),
        "DEPECHE_STORIES_DIR": str(tmp / "no-stories"),
        "DEPECHE_TICK_SECONDS": str(args.tick),
        "PYTHONPATH": str(ROOT),
    }  # fmt: skip
    log_path = tmp / "bot.log"
    with log_path.open("wb") as log:
        bot = subprocess.Popen(
            [sys.executable, "-m", "bot", "run"], cwd=tmp, env=env, stdout=log, stderr=log
        )
    store = Store.open(url, upgrade=False)
    publish_started = published = 0.0
    total = left = 0
    try:
        print(f"{args.channels} channels; digests due at {minute:%H:%M:%S} UTC")
        deadline = minute.timestamp() + args.channels / GLOBAL_LIMIT * 4 + 120
        while time.time() < deadline:
            posted, open_posts = outbox_state(store)
            if posted >= args.channels and open_posts == 0:
                break
            if bot.poll() is not None:
                raise SystemExit("the bot exited:\n" + log_path.read_text()[-3000:])
            time.sleep(0.5)
        else:
            raise SystemExit("the digests were not all posted in time")
        print(f"{posted} digests posted; publishing a revision that corrects story day 1")
        revision = revision_file(tmp)
        publish_started = time.time()
        result = subprocess.run(
            [sys.executable, "-m", "bot", "story", "publish", str(revision), "--comment", "bench"],
            cwd=tmp, env=env, capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
        published = time.time()
        if result.returncode != 0:
            raise SystemExit("story publish failed: " + result.stderr)
        deadline = published + args.channels / GLOBAL_LIMIT * 6 + 120
        while time.time() < deadline:
            total, left = corrections_left(store)
            if total >= args.channels and left == 0:
                break
            time.sleep(0.5)
        stats = fake.ask(f"edits {MARKS}")
    finally:
        bot.send_signal(signal.SIGTERM)
        try:
            bot.wait(30)
        except subprocess.TimeoutExpired:
            bot.kill()
        store.dispose()
        fake.close()
    edited = sorted(stats["edited"])
    if not edited:
        print(log_path.read_text(errors="replace")[-3000:])
        raise SystemExit("no message was edited")
    shown = {int(k): v for k, v in stats["channels_by_mark_count"].items()}
    lost = shown.get(0, 0) + max(0, args.channels - sum(shown.values()))
    duplicated = sum(v for k, v in shown.items() if k > 1) + sum(
        v for k, v in stats["edits_by_count"].items() if int(k) > 1
    )
    bound = len(edited) / GLOBAL_LIMIT
    first, last = edited[0] - publish_started, edited[-1] - publish_started
    print(
        f"corrections {total} ({left} left), message edits accepted {len(edited)}, rtt "
        f"{args.rtt * 1000:.0f} ms, tick {args.tick} s, database {url.split(':')[0]}"
    )
    print(f"story publish (the CLI process): {published - publish_started:.2f} s")
    print(f"publish -> first corrected post: {first:.2f} s")
    print(f"publish -> last corrected post: {last:.2f} s")
    print(f"bound (edits / {GLOBAL_LIMIT} per s): {bound:.2f} s")
    print(f"(publish -> last) / bound: {last / bound:.3f}")
    print(
        f"(first -> last edit) / bound: {(edited[-1] - edited[0]) / bound:.3f}   "
        "(without the wait for the next tick)"
    )
    print(f"lost: {lost}, duplicated: {duplicated}")
    print(f"429s: {stats['too_many']}; most requests in one second: {stats['max_per_second']}")
    print(f"load average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    return 0 if lost == 0 and duplicated == 0 else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--channels", type=int, default=2000)
    parser.add_argument("--rtt", type=float, default=0.06, help="round trip, seconds")
    parser.add_argument("--lead", type=float, default=20.0, help="seconds to start the bot")
    parser.add_argument("--tick", type=float, default=30.0, help="DEPECHE_TICK_SECONDS")
    parser.add_argument("--pg", help="a PostgreSQL URL (an empty database) instead of SQLite")
    return run(parser.parse_args())


if __name__ == "__main__":
    raise SystemExit(main())
