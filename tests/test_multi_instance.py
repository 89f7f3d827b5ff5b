"""Three bot processes ticking and delivering concurrently on one PostgreSQL database with
1,000 due subscriptions: exactly 1,000 posts at the receiving end, and no duplicate attempt."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.store import Delivery, Store
from tests.ledger import LedgerPublisher, add_subscriptions

ROOT = Path(__file__).resolve().parent.parent
START = dt.datetime(2023, 11, 17, 0, 0, tzinfo=dt.UTC)
DUE = dt.datetime(2023, 11, 17, 7, 0, tzinfo=dt.UTC)


@pytest.mark.postgres
def test_three_instances_post_each_due_digest_exactly_once(pg_server, tmp_path):
    url = pg_server.create_database()
    store = Store.open(url)
    try:
        add_subscriptions(store, 1000, now=START, lang="fr")
        ledger_path = tmp_path / "platform.sqlite3"
        LedgerPublisher(ledger_path).close()  # create the schema once
        processes = [
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "tests.ledger",
                    "instance",
                    "--db",
                    url,
                    "--ledger",
                    str(ledger_path),
                    "--now",
                    DUE.isoformat(),
                    "--batch",
                    "25",
                    "--expect",
                    "1000",
                ],
                cwd=ROOT,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(3)
        ]
        for process in processes:
            _out, err = process.communicate(timeout=180)
            assert process.returncode == 0, err
        ledger = LedgerPublisher(ledger_path)
        assert ledger.count("posts") == 1000
        assert ledger.count("calls") == 1000  # nobody even tried twice
        channels = Counter(row[3] for row in ledger.posts())
        assert len(channels) == 1000 and set(channels.values()) == {1}
        pids = Counter(row[9] for row in ledger.posts())
        with store.session() as session:
            statuses = Counter(session.scalars(select(Delivery.status)))
        assert statuses == {"sent": 1000}
        print(f"posts per process: {sorted(pids.values())}")
        assert len(pids) >= 2  # the work really was shared
    finally:
        store.dispose()
