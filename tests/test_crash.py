"""Delivery workers killed with SIGKILL at random points, restarted each time: every delivery
is posted exactly once, checked at the receiving end (the ledger publisher's own database)."""

from __future__ import annotations

import datetime as dt
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
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
# `make test` kills 8 times per database; `make soak` (also run by .ci/run) 40 times.
TRIALS = int(os.environ.get("DEPECHE_CRASH_TRIALS", "8"))


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


def _calls(ledger: Path) -> int:
    """Publish attempts the receiving end has recorded so far (0 before its first post)."""
    if not ledger.exists():
        return 0
    with closing(sqlite3.connect(ledger, timeout=30)) as db:
        try:
            return int(db.execute("SELECT count(*) FROM calls").fetchone()[0])
        except sqlite3.OperationalError:  # the worker has not created its tables yet
            return 0


def _wait_for_calls(ledger: Path, process: subprocess.Popen[str], *, at_least: int) -> None:
    """Until the receiving end has seen `at_least` attempts, or the worker has finished."""
    deadline = time.monotonic() + 120  # a hang guard, not a measurement
    while _calls(ledger) < at_least and process.poll() is None:
        assert time.monotonic() < deadline, "the worker made no progress in 120 s"
        time.sleep(0.005)


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
        # A random point of the fan-out, chosen by events (posts attempted at the receiving end),
        # not by elapsed time: on a loaded machine a timed kill may land before the first post.
        _wait_for_calls(ledger_path, process, at_least=_calls(ledger_path) + rng.randint(1, 12))
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
