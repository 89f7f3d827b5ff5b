"""Delivery workers killed with SIGKILL at random points, restarted each time: every delivery
is posted exactly once, checked at the receiving end (the ledger publisher's own database)."""

from __future__ import annotations

import datetime as dt
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import func, select

from bot.schedule import tick
from bot.store import Delivery
from digests.story import StoryLibrary, default_story
from tests.ledger import LedgerPublisher, add_subscriptions

ROOT = Path(__file__).resolve().parent.parent
LIB = StoryLibrary([default_story()])
START = dt.datetime(2023, 11, 17, 0, 0, tzinfo=dt.UTC)
DUE = dt.datetime(2023, 11, 17, 7, 0, tzinfo=dt.UTC)
TRIALS = 20


def _worker(db_url: str, ledger: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.ledger",
            "worker",
            "--db",
            db_url,
            "--ledger",
            str(ledger),
            "--now",
            DUE.isoformat(),
            "--min-delay",
            "0.001",
            "--max-delay",
            "0.004",
            "--concurrency",
            "4",
            "--batch",
            "8",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _open(store) -> int:
    with store.session() as session:
        return session.scalar(
            select(func.count())
            .select_from(Delivery)
            .where(Delivery.status.in_(["pending", "sending"]))
        )


def test_sigkill_during_fan_out_never_loses_nor_duplicates(store, db_url, tmp_path):
    rng = random.Random(int(os.environ.get("DEPECHE_CRASH_SEED", "4")))
    ledger_path = tmp_path / "platform.sqlite3"
    add_subscriptions(store, 120, now=START, lang="both")  # 240 deliveries
    assert tick(store, LIB, DUE).enqueued == 240
    kills = batches = 0
    killed_mid_flight = 0
    while kills < TRIALS:
        if _open(store) == 0:  # everything went out before the 20 kills: fan out another day
            batches += 1
            add_subscriptions(store, 60, now=START, lang="both", channel_prefix=f"b{batches}-")
            assert tick(store, LIB, DUE).enqueued == 120
        process = _worker(db_url, ledger_path)
        assert process.stdout.readline().strip() == "ready", process.stderr.read()
        time.sleep(
            rng.uniform(0.0, 0.25)
        )  # a random point of the fan-out (not waiting for a schedule)
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
            killed_mid_flight += 1
        process.wait()
        process.stdout.close()
        process.stderr.close()
        kills += 1
    # a last worker, left to finish
    process = _worker(db_url, ledger_path)
    _out, err = process.communicate(timeout=120)
    assert process.returncode == 0, err
    assert _open(store) == 0
    ledger = LedgerPublisher(ledger_path)
    with store.session() as session:
        rows = session.execute(select(Delivery.id, Delivery.status, Delivery.message_ids)).all()
        reclaimed = session.scalar(
            select(func.count()).select_from(Delivery).where(Delivery.attempts > 1)
        )
    total = 240 + 120 * batches
    assert len(rows) == total >= 200
    assert {status for _, status, _ in rows} == {"sent"}
    posts = ledger.posts()
    assert len(posts) == total  # exactly once at the receiving end
    assert sorted(p[1] for p in posts) == sorted(r[0] for r in rows)
    assert all(ids == [f"m-dpc{delivery_id}"] for delivery_id, _, ids in rows)
    assert killed_mid_flight >= TRIALS // 2
    assert reclaimed > 0  # some kills left deliveries in `sending`: they were reconciled
    assert ledger.count("calls") - len(posts) <= kills  # at most one unrecorded attempt per kill
