"""A test "platform" with its own ledger, and worker processes for the crash/multi-instance tests.

`LedgerPublisher` posts into a separate SQLite file, the receiving end: ``calls`` records every
publish request; ``posts`` holds one row per message actually created, deduplicated by nonce
the way Discord's ``enforce_nonce`` does. Tests check exactly-once *there*, not only in our
own outbox.

Run as a process: ``python -m tests.ledger worker|instance --db URL --ledger PATH ...``.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import random
import sqlite3
from pathlib import Path

from bot.publishing import Delivery, PermanentPublishError, PublishResult, TransientPublishError

SCHEMA = """
CREATE TABLE IF NOT EXISTS calls (id INTEGER PRIMARY KEY, nonce TEXT, delivery_id INTEGER, pid INTEGER);
CREATE TABLE IF NOT EXISTS posts (
    nonce TEXT PRIMARY KEY, delivery_id INTEGER, subscription_id INTEGER, channel TEXT, lang TEXT,
    digest_date TEXT, story_date TEXT, late INTEGER, title TEXT, pid INTEGER
);
CREATE TABLE IF NOT EXISTS notices (subscription_id INTEGER, reason TEXT);
"""


class LedgerPublisher:
    def __init__(
        self,
        path: str | Path,
        platform: str = "discord",
        *,
        delay: tuple[float, float] = (0.0, 0.0),
        transient: dict[str, int] | None = None,
        permanent: set[str] | None = None,
    ) -> None:
        self.platform = platform
        self.path = str(path)
        self.delay = delay
        self.transient = dict(transient or {})  # channel -> number of 503s to answer first
        self.permanent = set(permanent or ())  # channels where posting is forbidden
        self.db = sqlite3.connect(self.path, timeout=60, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA busy_timeout=60000")
        self.db.executescript(SCHEMA)

    def close(self) -> None:
        self.db.close()

    async def publish(self, delivery: Delivery) -> PublishResult:
        if self.delay[1]:
            await asyncio.sleep(random.uniform(*self.delay))
        nonce = delivery.idempotency_key
        self.db.execute(
            "INSERT INTO calls (nonce, delivery_id, pid) VALUES (?, ?, ?)",
            (nonce, delivery.id, os.getpid()),
        )
        if delivery.channel_id in self.permanent:
            raise PermanentPublishError("Missing Access (50001)", code="50001")
        if self.transient.get(delivery.channel_id, 0) > 0:
            self.transient[delivery.channel_id] -= 1
            raise TransientPublishError("503 Service Unavailable", retry_after=None)
        self.db.execute(
            "INSERT OR IGNORE INTO posts VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                nonce,
                delivery.id,
                delivery.subscription_id,
                delivery.channel_id,
                delivery.lang,
                delivery.digest_date.isoformat(),
                (delivery.story_date or delivery.digest_date).isoformat(),
                int(delivery.late),
                delivery.document.title,
                os.getpid(),
            ),
        )
        return PublishResult((f"m-{nonce}",))

    async def find_published(self, delivery: Delivery) -> PublishResult | None:
        row = self.db.execute(
            "SELECT nonce FROM posts WHERE nonce = ?", (delivery.idempotency_key,)
        ).fetchone()
        return PublishResult((f"m-{row[0]}",), recovered=True) if row else None

    async def notify_admins(self, delivery: Delivery, reason: str) -> None:
        self.db.execute("INSERT INTO notices VALUES (?, ?)", (delivery.subscription_id, reason))

    # -- checks
    def posts(self) -> list[tuple[object, ...]]:
        return self.db.execute("SELECT * FROM posts ORDER BY delivery_id").fetchall()

    def count(self, table: str) -> int:
        return int(self.db.execute(f"SELECT count(*) FROM {table}").fetchone()[0])


def library():  # type: ignore[no-untyped-def]
    from digests.story import StoryLibrary, default_story

    return StoryLibrary([default_story()])


async def _worker(args: argparse.Namespace) -> None:
    """Deliver until nothing is left (killed with SIGKILL by the crash test meanwhile)."""
    from bot.delivery import DeliveryWorker
    from bot.publishing import PublisherRegistry
    from bot.settings import DeliverySettings
    from bot.store import Store

    store = Store.open(args.db, upgrade=False)
    registry = PublisherRegistry()
    registry.register(LedgerPublisher(args.ledger, delay=(args.min_delay, args.max_delay)))
    now = dt.datetime.fromisoformat(args.now)
    worker = DeliveryWorker(
        store,
        library(),
        registry,
        settings=DeliverySettings(
            lease_seconds=0, concurrency=args.concurrency, batch_size=args.batch
        ),
        no_news_line=True,
        clock=lambda: now,
    )
    print("ready", flush=True)
    await worker.run_until_idle(now)


async def _instance(args: argparse.Namespace) -> None:
    """One bot instance: tick + deliver until the outbox has nothing left to do."""
    from sqlalchemy import func, select

    from bot.delivery import DeliveryWorker
    from bot.publishing import PublisherRegistry
    from bot.schedule import Runner
    from bot.settings import DeliverySettings
    from bot.store import PENDING, SENDING, Delivery, Store

    store = Store.open(args.db, upgrade=False)
    registry = PublisherRegistry()
    registry.register(LedgerPublisher(args.ledger))
    now = dt.datetime.fromisoformat(args.now)
    lib = library()
    worker = DeliveryWorker(
        store,
        lib,
        registry,
        settings=DeliverySettings(batch_size=args.batch),
        no_news_line=True,
        clock=lambda: now,
    )
    runner = Runner(store, lib, worker, no_news_line=True, clock=lambda: now)
    print("ready", flush=True)
    for _ in range(10_000):
        await runner.step(now)
        with store.session() as session:
            left = session.scalar(
                select(func.count())
                .select_from(Delivery)
                .where(Delivery.status.in_([PENDING, SENDING]))
            )
            total = session.scalar(select(func.count()).select_from(Delivery))
        if not left and total >= args.expect:
            break
        await asyncio.sleep(0.01)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("role", choices=("worker", "instance"))
    parser.add_argument("--db", required=True)
    parser.add_argument("--ledger", required=True)
    parser.add_argument("--now", required=True)
    parser.add_argument("--min-delay", type=float, default=0.0)
    parser.add_argument("--max-delay", type=float, default=0.0)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--batch", type=int, default=50)
    parser.add_argument("--expect", type=int, default=0)
    args = parser.parse_args()
    asyncio.run(_worker(args) if args.role == "worker" else _instance(args))


if __name__ == "__main__":
    main()


def add_subscriptions(store, count: int = 1, *, now: dt.datetime, **fields: object) -> list[int]:  # type: ignore[no-untyped-def]
    """Insert ``count`` subscriptions directly (channels c0, c1, ...), next run computed."""
    from bot.schedule import first_run
    from bot.store import Subscription

    base: dict[str, object] = {
        "story_slug": "openai-crisis-2023",
        "platform": "discord",
        "workspace_id": "g",
        "lang": "fr",
        "post_time": "08:00",
        "timezone": "Europe/Paris",
        "mode": "live",
        "start_date": None,
        "active": True,
        "managed_by": "chat",
        "admin_lang": "en",
        "created_at": now,
        "updated_at": now,
    }
    base.update(fields)
    rows = []
    for index in range(count):
        row = dict(base, channel_id=f"{fields.get('channel_prefix', 'c')}{index}")
        row.pop("channel_prefix", None)
        if "next_run_at" not in fields:
            row["next_run_at"] = first_run(
                post_time=str(row["post_time"]),
                tz=str(row["timezone"]),
                mode=str(row["mode"]),
                start_date=row["start_date"],
                now=now,  # type: ignore[arg-type]
                days=int(row.get("days", 127)),  # type: ignore[call-overload]
            )
        rows.append(row)
    with store.session() as session, session.begin():
        result = session.execute(
            Subscription.__table__.insert().returning(Subscription.__table__.c.id), rows
        )
        return [r[0] for r in result]
