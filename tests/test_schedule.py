from __future__ import annotations

import asyncio
import datetime as dt
import logging
import random
from collections import Counter
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update

from bot.delivery import DeliveryWorker
from bot.publishing import PublisherRegistry
from bot.schedule import (
    TICK_JOB_ID,
    Runner,
    cron_next_fire,
    first_run,
    next_fire,
    parse_post_time,
    tick,
)
from bot.store import Delivery, Subscription
from digests.story import StoryLibrary, default_story
from tests.ledger import LedgerPublisher, add_subscriptions

UTC = dt.UTC
LIB = StoryLibrary([default_story()])
GRACE = dt.timedelta(hours=6)


def at(text: str, tz: str = "UTC") -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(tz)).astimezone(UTC)


def rows(store):
    with store.session() as session:
        return session.scalars(
            select(Delivery).order_by(Delivery.scheduled_for, Delivery.lang)
        ).all()


# ---------------------------------------------------------------- pure time computations


def test_next_fire_keeps_local_time_across_dst():
    before = next_fire("08:00", "Europe/Paris", at("2024-03-30 09:00", "Europe/Paris"))
    after = next_fire("08:00", "Europe/Paris", before)
    assert (
        before
        == at("2024-03-31 08:00", "Europe/Paris")
        == dt.datetime(2024, 3, 31, 6, 0, tzinfo=UTC)
    )
    assert after == dt.datetime(2024, 4, 1, 6, 0, tzinfo=UTC)
    # strictly after
    assert next_fire("08:00", "Europe/Paris", after) == dt.datetime(2024, 4, 2, 6, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "tz",
    [
        "Europe/Paris",
        "America/New_York",
        "Australia/Sydney",
        "Asia/Kolkata",
        "America/St_Johns",
        "Australia/Lord_Howe",
        "Pacific/Apia",
    ],
)
def test_next_fire_posts_once_per_local_day_at_the_wall_time_over_a_year(tz):
    """Oracle: the wall time on each local day (first occurrence when repeated); a time that
    does not exist that day (spring gap) is posted later that same day."""
    zone = ZoneInfo(tz)
    rng = random.Random(tz)
    times = ["00:00", "00:30", "01:30", "02:00", "02:30", "03:00", "08:00", "23:59"] + [
        f"{rng.randrange(24):02d}:{rng.randrange(60):02d}" for _ in range(4)
    ]
    for post_time in times:
        hour, minute = parse_post_time(post_time)
        fire = dt.datetime(2024, 1, 1, tzinfo=zone).astimezone(UTC) - dt.timedelta(microseconds=1)
        days = []
        for _ in range(366):
            fire = next_fire(post_time, tz, fire)
            local = fire.astimezone(zone)
            days.append(local.date())
            wall = dt.datetime.combine(local.date(), dt.time(hour, minute), tzinfo=zone)
            exists = wall.astimezone(UTC).astimezone(zone).replace(tzinfo=None) == wall.replace(
                tzinfo=None
            )
            if exists:
                assert fire == wall.astimezone(UTC), (post_time, local)
            else:
                assert local > wall.replace(fold=0)
        assert days == [dt.date(2024, 1, 1) + dt.timedelta(days=n) for n in range(366)], post_time


def test_cron_trigger_is_the_reference_away_from_dst_changes():
    for tz in ("Europe/Paris", "America/New_York", "Asia/Kolkata"):
        after = dt.datetime(2024, 6, 1, 12, 0, tzinfo=UTC)
        for post_time in ("00:00", "08:00", "17:45"):
            for _ in range(30):
                fast = next_fire(post_time, tz, after)
                assert fast == cron_next_fire(post_time, tz, after)
                after = fast


def test_parse_post_time():
    assert parse_post_time("8:05") == (8, 5)
    for bad in ("24:00", "08:60", "8h", "", "08:00:00"):
        with pytest.raises(ValueError):
            parse_post_time(bad)


def test_first_run_live_and_replay():
    now = at("2026-12-01 09:00", "Europe/Paris")
    assert first_run(
        post_time="08:00", tz="Europe/Paris", mode="live", start_date=None, now=now
    ) == at("2026-12-02 08:00", "Europe/Paris")
    replay = first_run(
        post_time="08:00",
        tz="Europe/Paris",
        mode="replay",
        start_date=dt.date(2026, 12, 5),
        now=now,
    )
    assert replay == at("2026-12-05 08:00", "Europe/Paris")


# ---------------------------------------------------------------- the tick


@pytest.mark.parametrize(
    "tz", ["Europe/Paris", "America/New_York", "Australia/Sydney", "Asia/Kolkata"]
)
def test_dst_year_exactly_one_post_per_local_day_at_0800(store, tz, tmp_path):
    """A simulated year, ticking at each due time and just before it: one post per local day,
    each at 08:00 local, none late, none skipped; all received once at the platform's end."""
    start = at("2024-01-01 00:00", tz)
    add_subscriptions(store, now=start, timezone=tz, post_time="08:00")
    now = start
    end = at("2025-01-01 00:00", tz)
    while True:
        with store.session() as session:
            due = session.scalar(select(Subscription.next_run_at))
        if due >= end:
            break
        assert (
            tick(store, LIB, due - dt.timedelta(minutes=1), grace=GRACE, no_news_line=True).enqueued
            == 0
        )
        result = tick(store, LIB, due, grace=GRACE, no_news_line=True)
        assert result.enqueued == 1
        now = due
    deliveries = rows(store)
    local = [d.scheduled_for.astimezone(ZoneInfo(tz)) for d in deliveries]
    assert len(deliveries) == 366  # 2024 is a leap year
    assert {(t.hour, t.minute) for t in local} == {(8, 0)}
    assert len({t.date() for t in local}) == 366
    assert all(d.digest_date == t.date() for d, t in zip(deliveries, local, strict=True))
    assert not any(d.late for d in deliveries) and {d.status for d in deliveries} == {"pending"}

    ledger = LedgerPublisher(tmp_path / "ledger.sqlite3")
    registry = PublisherRegistry()
    registry.register(ledger)
    worker = DeliveryWorker(store, LIB, registry, no_news_line=True, clock=lambda: now)
    asyncio.run(worker.run_until_idle(now))
    assert ledger.count("posts") == ledger.count("calls") == 366


def test_enqueuing_twice_is_a_no_op(store):
    start = at("2023-11-17 00:00", "Europe/Paris")
    add_subscriptions(store, 3, now=start, lang="both")
    due = at("2023-11-17 08:00", "Europe/Paris")
    assert tick(store, LIB, due, grace=GRACE).enqueued == 6
    assert tick(store, LIB, due, grace=GRACE).due == 0
    # a second instance that still saw the old next_run_at (a race): the outbox key holds
    with store.session() as session, session.begin():
        session.execute(update(Subscription).values(next_run_at=due))
    assert tick(store, LIB, due, grace=GRACE).due == 3
    assert len(rows(store)) == 6


def test_live_day_without_events_posts_nothing_unless_the_no_news_line_is_on(store):
    start = at("2023-11-23 00:00", "Europe/Paris")  # after the story
    add_subscriptions(store, now=start)
    due = at("2023-11-23 08:00", "Europe/Paris")
    assert tick(store, LIB, due, grace=GRACE).enqueued == 0
    assert rows(store) == []
    next_day = at("2023-11-24 08:00", "Europe/Paris")
    assert tick(store, LIB, next_day, grace=GRACE, no_news_line=True).enqueued == 1


def test_downtime_within_grace_posts_late_once(store):
    start = at("2023-11-17 00:00", "Europe/Paris")
    add_subscriptions(store, now=start)
    back = at("2023-11-17 13:00", "Europe/Paris")  # 5 h late, grace 6 h
    result = tick(store, LIB, back, grace=GRACE)
    assert (result.enqueued, result.late, result.skipped) == (1, 1, 0)
    assert tick(store, LIB, back + dt.timedelta(minutes=1), grace=GRACE).due == 0
    [delivery] = rows(store)
    assert (
        delivery.late
        and delivery.status == "pending"
        and delivery.digest_date == dt.date(2023, 11, 17)
    )


def test_downtime_beyond_grace_records_one_skip_never_a_post(store):
    start = at("2023-11-17 00:00", "Europe/Paris")
    add_subscriptions(store, now=start)
    back = at("2023-11-17 15:00", "Europe/Paris")  # 7 h late
    result = tick(store, LIB, back, grace=GRACE)
    assert (result.enqueued, result.skipped) == (0, 1)
    assert tick(store, LIB, back, grace=GRACE).due == 0
    [delivery] = rows(store)
    assert (
        delivery.status == "skipped"
        and not delivery.late
        and "missed by 7.0 h" in delivery.last_error
    )


def test_multi_day_downtime_skips_old_days_and_posts_the_recent_one_late(store):
    start = at("2023-11-17 00:00", "Europe/Paris")
    add_subscriptions(store, now=start)
    back = at("2023-11-20 09:30", "Europe/Paris")
    result = tick(store, LIB, back, grace=GRACE)
    assert (result.skipped, result.enqueued, result.late) == (3, 1, 1)
    statuses = [(d.digest_date.day, d.status, d.late) for d in rows(store)]
    assert statuses == [
        (17, "skipped", False),
        (18, "skipped", False),
        (19, "skipped", False),
        (20, "pending", True),
    ]
    with store.session() as session:
        assert session.scalar(select(Subscription.next_run_at)) == at(
            "2023-11-21 08:00", "Europe/Paris"
        )


def test_replay_maps_story_day_n_to_start_plus_n_minus_1_and_finishes(store):
    start_date = dt.date(2026, 12, 1)
    now = at("2026-11-30 12:00", "America/New_York")
    add_subscriptions(
        store, now=now, mode="replay", start_date=start_date, timezone="America/New_York", lang="en"
    )
    story = default_story()
    for offset in range(10):
        day = at(f"{start_date + dt.timedelta(days=offset)} 08:00", "America/New_York")
        tick(store, LIB, day, grace=GRACE)
    mapping = [(d.digest_date, d.story_date) for d in rows(store)]
    expected = [
        (start_date + (day - story.first_day), day)
        for day in (
            story.first_day + dt.timedelta(days=n)
            for n in range((story.last_day - story.first_day).days + 1)
        )
        if story.events_on(day)
    ]
    assert mapping == expected
    with store.session() as session:
        assert session.scalar(select(Subscription.next_run_at)) is None  # finished


def test_paused_subscriptions_are_not_due(store):
    start = at("2023-11-17 00:00", "Europe/Paris")
    add_subscriptions(store, 2, now=start)
    with store.session() as session, session.begin():
        session.execute(
            update(Subscription).where(Subscription.channel_id == "c0").values(active=False)
        )
    assert tick(store, LIB, at("2023-11-17 08:00", "Europe/Paris"), grace=GRACE).enqueued == 1


def test_many_subscriptions_in_batches(store):
    start = at("2023-11-17 00:00", "UTC")
    add_subscriptions(store, 120, now=start, timezone="UTC", lang="both")
    result = tick(store, LIB, at("2023-11-17 08:00"), grace=GRACE, batch_size=50)
    assert (result.due, result.enqueued) == (120, 240)
    assert Counter(d.lang for d in rows(store)) == {"fr": 120, "en": 120}


async def test_runner_registers_one_tick_job_with_apscheduler(tmp_path):
    from bot.store import Store

    store = Store.open(f"sqlite:///{tmp_path / 'db.sqlite3'}")
    worker = DeliveryWorker(store, LIB, PublisherRegistry())
    runner = Runner(store, LIB, worker)
    scheduler = runner.start(30)
    try:
        job = scheduler.get_job(TICK_JOB_ID)
        assert (
            job is not None
            and job.coalesce
            and job.max_instances == 2  # the second finds the first running and returns quietly
            and job.misfire_grace_time == 30
        )
        assert len(scheduler.get_jobs()) == 1
        # from a minute boundary: with 30 s, ticks fall on :00 and :30
        trigger = job.trigger
        assert trigger.start_date.second == 0 and trigger.start_date.microsecond == 0
        await asyncio.sleep(0)
        assert worker.serving
    finally:
        await runner.stop()
        store.dispose()
    assert not worker.serving


async def test_a_tick_while_the_previous_one_runs_is_skipped_quietly(tmp_path, caplog):
    from bot.store import Store

    store = Store.open(f"sqlite:///{tmp_path / 'db.sqlite3'}")
    release = asyncio.Event()
    steps = 0

    class SlowRunner(Runner):
        async def tick(self, now=None):  # type: ignore[no-untyped-def]
            nonlocal steps
            steps += 1
            await release.wait()
            return await super().tick(now)

    runner = SlowRunner(store, LIB, DeliveryWorker(store, LIB, PublisherRegistry()))
    try:
        first = asyncio.create_task(runner._job())
        await asyncio.sleep(0)
        with caplog.at_level(logging.DEBUG, logger="bot.schedule"):
            await runner._job()  # returns at once: the first one still runs
        assert steps == 1
        assert [r.levelno for r in caplog.records if r.name == "bot.schedule"] == [logging.DEBUG]
        release.set()
        await first
        await runner._job()  # and the next one runs again
        assert steps == 2
    finally:
        store.dispose()
