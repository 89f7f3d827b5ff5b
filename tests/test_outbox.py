"""The outbox layer: chunked ticks, the continuous worker the tick wakes, batched outcomes,
the pace of deliveries in flight, and the one "story day of a subscription"."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections import Counter

import pytest
from sqlalchemy import func, select

from bot.delivery import DeliveryWorker, target_in_flight
from bot.outbox import Outbox, clamp_day, story_day, subscription_day
from bot.publishing import PublisherRegistry
from bot.schedule import Runner, tick
from bot.settings import DeliverySettings
from bot.store import Delivery
from digests.story import StoryLibrary, default_story
from tests.ledger import LedgerPublisher, add_subscriptions

LIB = StoryLibrary([default_story()])
START = dt.datetime(2023, 11, 17, 0, 0, tzinfo=dt.UTC)
DUE = dt.datetime(2023, 11, 17, 7, 0, tzinfo=dt.UTC)  # 08:00 in Paris


def _count(store, **where: object) -> int:
    query = select(func.count()).select_from(Delivery)
    for name, value in where.items():
        query = query.where(getattr(Delivery, name) == value)
    with store.session() as session:
        return int(session.scalar(query) or 0)


async def test_a_due_set_larger_than_one_chunk_posts_everything_exactly_once(store, tmp_path):
    # 230 subscriptions due at the same minute (one schedule group, cut across chunks), plus
    # 20 in another zone due at the same instant, and 15 in both languages.
    add_subscriptions(store, 230, now=START)
    add_subscriptions(store, 20, now=START, timezone="Europe/Berlin", channel_prefix="b")
    add_subscriptions(store, 15, now=START, lang="both", channel_prefix="x")
    chunks: list[int] = []
    result = Outbox(store).enqueue_due_sync(
        LIB, DUE, chunk_size=40, on_chunk=lambda r: chunks.append(r.enqueued)
    )
    assert result.due == 265 and result.enqueued == 280
    assert result.chunks == len(chunks) >= 7  # committed one by one, the worker told each time
    assert sum(chunks) == 280
    assert tick(store, LIB, DUE, batch_size=40).due == 0  # all advanced
    ledger = LedgerPublisher(tmp_path / "ledger.sqlite3")
    registry = PublisherRegistry()
    registry.register(ledger)
    worker = DeliveryWorker(store, LIB, registry, no_news_line=True, clock=lambda: DUE)
    worked = await worker.run_until_idle(DUE)
    assert worked.sent == 280
    assert ledger.count("posts") == ledger.count("calls") == 280
    channels = Counter((row[3], row[4]) for row in ledger.posts())
    assert len(channels) == 280 and set(channels.values()) == {1}
    assert _count(store, status="sent") == 280


async def test_the_tick_wakes_the_continuous_worker_at_once(store, tmp_path):
    add_subscriptions(store, 30, now=START)
    ledger = LedgerPublisher(tmp_path / "ledger.sqlite3")
    registry = PublisherRegistry()
    registry.register(ledger)
    worker = DeliveryWorker(
        store,
        LIB,
        registry,
        # it would only look by itself once a minute: the posts below come from the wake-up
        settings=DeliverySettings(poll_seconds=60),
        no_news_line=True,
        clock=lambda: DUE,
    )
    runner = Runner(store, LIB, worker, clock=lambda: DUE, chunk_size=7)
    serving = asyncio.create_task(worker.serve())
    try:
        await asyncio.sleep(0)  # the worker found nothing and waits
        assert ledger.count("posts") == 0
        started = time.monotonic()
        result = await runner.tick()
        assert result.enqueued == 30 and result.chunks == 5
        while worker.stats.sent < 30 and time.monotonic() - started < 30:
            await asyncio.sleep(0.01)  # waiting for the posts to be recorded, not for a schedule
        assert worker.stats.sent == 30
        assert ledger.count("posts") == ledger.count("calls") == 30
    finally:
        serving.cancel()
        await asyncio.gather(serving, return_exceptions=True)
    assert _count(store, status="sent") == 30


async def test_outcomes_are_recorded_only_by_the_claim_holder(store):
    add_subscriptions(store, 3, now=START)
    tick(store, LIB, DUE)
    outbox = Outbox(store)
    claimed = await outbox.claim(
        worker_id="a", platforms=["discord"], now=DUE, lease_seconds=300, limit=10
    )
    assert len(claimed) == 3
    from bot.outbox import Outcome

    done = await outbox.record(
        [
            Outcome(claimed[0].id, "sent", message_ids=("m1",)),
            Outcome(claimed[1].id, "retry", error="503", retry_at=DUE + dt.timedelta(minutes=1)),
            Outcome(
                claimed[2].id, "failed", error="x", pause_subscription=claimed[2].subscription_id
            ),
        ],
        worker_id="a",
        now=DUE,
    )
    assert done == [True, True, True]
    again = await outbox.record([Outcome(claimed[0].id, "failed")], worker_id="b", now=DUE)
    assert again == [False]
    assert _count(store, status="sent") == 1 and _count(store, status="pending") == 1
    paused = await outbox.get(claimed[2].subscription_id)
    assert paused is not None and not paused.active and paused.paused_reason == "x"


def test_in_flight_follows_the_rate_and_the_round_trip():
    assert target_in_flight(48, 0.06, 0.0, 64) < target_in_flight(48, 0.15, 0.0, 64)
    assert target_in_flight(48, 0.15, 0.0, 64) >= 48 * 0.15  # enough to reach the rate
    assert target_in_flight(48, 2.0, 0.0, 64) == 64  # bounded
    assert target_in_flight(None, None, 0.0, 4) == 4  # no pace known: the bound


@pytest.mark.parametrize(
    ("mode", "tz", "start", "now", "expected"),
    [
        ("live", "Europe/Paris", None, "2023-11-17T23:30:00+00:00", "2023-11-18"),
        ("live", "America/New_York", None, "2023-11-18T03:00:00+00:00", "2023-11-17"),
        ("replay", "Europe/Paris", "2026-12-01", "2026-12-03T09:00:00+00:00", "2023-11-19"),
    ],
)
def test_the_story_day_of_a_subscription(mode, tz, start, now, expected):
    story = default_story()
    start_date = dt.date.fromisoformat(start) if start else None
    moment = dt.datetime.fromisoformat(now)
    day = story_day(story, moment, mode=mode, timezone=tz, start_date=start_date)
    assert day == dt.date.fromisoformat(expected)


async def test_adapters_and_admin_share_the_story_day(store):
    from bot.admin import Actor, AdminService, SubscriptionSpec

    now = dt.datetime(2026, 12, 3, 9, 0, tzinfo=dt.UTC)
    admin = AdminService(store, LIB, clock=lambda: now)
    info, _ = await admin.subscribe(
        SubscriptionSpec(
            platform="console",
            workspace_id="",
            channel_id="c",
            lang="en",
            mode="replay",
            start_date=dt.date(2026, 12, 3),
        ),
        Actor(via="cli", lang="en"),
    )
    story = default_story()
    assert subscription_day(info, story, now) == story.first_day
    assert clamp_day(story, dt.date(2000, 1, 1)) == story.first_day
    [document] = await admin.preview(info.id)
    assert document.date == story.first_day.isoformat()
