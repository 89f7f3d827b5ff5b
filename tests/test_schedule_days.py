"""Days of the week and weekly roll-ups: pure time maths, the tick over a year in four zones
(DST included) with a controlled clock, catch-up after downtime, and what the worker posts."""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bot.delivery import DeliveryWorker
from bot.publishing import PublisherRegistry
from bot.schedule import next_fire, next_fire_on, tick
from bot.store import Delivery, Subscription
from digests.story import StoryLibrary, default_story
from digests.weekdays import ALL_DAYS, WEEKDAYS, parse_days
from tests.ledger import LedgerPublisher, add_subscriptions

UTC = dt.UTC
LIB = StoryLibrary([default_story()])
GRACE = dt.timedelta(hours=6)
ZONES = ["Europe/Paris", "America/New_York", "Australia/Sydney", "Asia/Kolkata"]
SUNDAY = parse_days("sun")


def at(text: str, tz: str = "UTC") -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(tz)).astimezone(UTC)


def deliveries(store, subscription_id: int) -> list[Delivery]:  # type: ignore[no-untyped-def]
    with store.session() as session:
        return list(
            session.scalars(
                select(Delivery)
                .where(Delivery.subscription_id == subscription_id)
                .order_by(Delivery.scheduled_for)
            )
        )


# ---------------------------------------------------------------- pure time maths


@pytest.mark.parametrize("tz", ZONES)
def test_next_fire_on_weekdays_over_a_year_matches_next_fire_filtered(tz):
    """Every post of a year on Monday-Friday: the daily posts minus the weekend, same wall time
    across the DST changes of each zone."""
    zone = ZoneInfo(tz)
    daily, weekdays = [], []
    fire = at("2024-01-01 00:00", tz)
    while fire < at("2025-01-01 00:00", tz):
        fire = next_fire("08:30", tz, fire)
        daily.append(fire)
    fire = at("2024-01-01 00:00", tz)
    while fire < at("2025-01-01 00:00", tz):
        fire = next_fire_on("08:30", tz, fire, WEEKDAYS)
        weekdays.append(fire)
    assert weekdays == [moment for moment in daily if moment.astimezone(zone).weekday() < 5]
    assert {(m.astimezone(zone).hour, m.astimezone(zone).minute) for m in weekdays} == {(8, 30)}


def test_next_fire_on_a_dst_change_day_keeps_the_rules_of_next_fire():
    # 2024-03-31 is a Sunday: Paris springs forward at 02:00, so 02:30 does not exist that day.
    sunday = next_fire_on("02:30", "Europe/Paris", at("2024-03-25 00:00", "Europe/Paris"), SUNDAY)
    assert sunday == next_fire("02:30", "Europe/Paris", at("2024-03-31 00:00", "Europe/Paris"))
    assert sunday.astimezone(ZoneInfo("Europe/Paris")).date() == dt.date(2024, 3, 31)
    # 2024-10-27 (Sunday): 02:30 happens twice; the weekly post goes out once, at the first.
    autumn = next_fire_on("02:30", "Europe/Paris", at("2024-10-21 00:00", "Europe/Paris"), SUNDAY)
    assert autumn == dt.datetime(2024, 10, 27, 0, 30, tzinfo=UTC)
    after = next_fire_on("02:30", "Europe/Paris", autumn, SUNDAY)
    assert after.astimezone(ZoneInfo("Europe/Paris")).date() == dt.date(2024, 11, 3)


def test_next_fire_on_refuses_no_day():
    with pytest.raises(ValueError, match="at least one day"):
        next_fire_on("08:00", "UTC", at("2024-01-01 00:00"), 0)


# ---------------------------------------------------------------- the tick, a year long


@pytest.mark.parametrize("tz", ZONES)
def test_weekday_and_weekly_schedules_over_a_year(store, tz, tmp_path):
    """A simulated year, ticking at each due time and a minute before: Monday-Friday posts on
    every local weekday at 08:00 and never on a weekend; the weekly roll-up every Sunday at
    18:00; none late, none skipped, DST changes included. Then the worker posts each once."""
    zone = ZoneInfo(tz)
    start = at("2024-01-01 00:00", tz)
    [weekdays] = add_subscriptions(store, now=start, timezone=tz, days=WEEKDAYS)
    [weekly] = add_subscriptions(
        store,
        now=start,
        timezone=tz,
        post_time="18:00",
        days=SUNDAY,
        cadence="weekly",
        channel_prefix="w",
    )
    end = at("2025-01-01 00:00", tz)
    now = start
    while True:
        with store.session() as session:
            due = session.scalar(select(Subscription.next_run_at).order_by("next_run_at"))
        if due >= end:
            break
        before = tick(store, LIB, due - dt.timedelta(minutes=1), grace=GRACE, no_news_line=True)
        assert before.enqueued == 0
        assert tick(store, LIB, due, grace=GRACE, no_news_line=True).enqueued >= 1
        now = due

    posts = deliveries(store, weekdays)
    local = [d.scheduled_for.astimezone(zone) for d in posts]
    assert len(posts) == 262  # the weekdays of 2024
    assert {t.weekday() for t in local} == {0, 1, 2, 3, 4}
    assert {(t.hour, t.minute) for t in local} == {(8, 0)}
    assert len({t.date() for t in local}) == 262
    assert [d.digest_date for d in posts] == [t.date() for t in local]

    rollups = deliveries(store, weekly)
    local = [d.scheduled_for.astimezone(zone) for d in rollups]
    assert len(rollups) == 52  # the Sundays of 2024: Jan 7 ... Dec 29
    assert {t.weekday() for t in local} == {6}
    assert {(t.hour, t.minute) for t in local} == {(18, 0)}
    assert all(b - a == dt.timedelta(days=7) for a, b in itertools.pairwise(local))
    every = posts + rollups
    assert not any(d.late for d in every) and {d.status for d in every} == {"pending"}

    ledger = LedgerPublisher(tmp_path / "ledger.sqlite3")
    registry = PublisherRegistry()
    registry.register(ledger)
    worker = DeliveryWorker(store, LIB, registry, no_news_line=True, clock=lambda: now)
    asyncio.run(worker.run_until_idle(now))
    assert ledger.count("posts") == ledger.count("calls") == 262 + 52


def test_downtime_over_a_weekend_skips_friday_and_posts_monday_late(store):
    """Catch-up keeps its rules on chosen days: the missed Friday (beyond the grace period) is
    recorded skipped, the weekend is not a slot at all, Monday goes out late."""
    start = at("2023-11-16 12:00", "Europe/Paris")  # a Thursday
    [sub] = add_subscriptions(store, now=start, days=WEEKDAYS, mode="replay",
                              start_date=dt.date(2023, 11, 17))  # fmt: skip
    back = at("2023-11-20 09:30", "Europe/Paris")  # Monday, 1.5 h after the post time
    result = tick(store, LIB, back, grace=GRACE)
    assert (result.skipped, result.enqueued, result.late) == (1, 1, 1)
    rows = [(d.digest_date, d.story_date, d.status, d.late) for d in deliveries(store, sub)]
    assert rows == [
        (dt.date(2023, 11, 17), dt.date(2023, 11, 17), "skipped", False),
        (dt.date(2023, 11, 20), dt.date(2023, 11, 20), "pending", True),
    ]
    with store.session() as session:
        assert session.scalar(select(Subscription.next_run_at)) == at(
            "2023-11-21 08:00", "Europe/Paris"
        )


def test_weekly_live_roll_up_posts_while_its_week_has_news(store):
    """Live weekly on Sunday: the week of Nov. 20-26, 2023 holds the story's last day (posted);
    the next week has no news (nothing posted, no notice without the no-news line)."""
    start = at("2023-11-24 00:00", "Europe/Paris")
    [sub] = add_subscriptions(store, now=start, days=SUNDAY, cadence="weekly")
    assert tick(store, LIB, at("2023-11-26 08:00", "Europe/Paris"), grace=GRACE).enqueued == 1
    assert tick(store, LIB, at("2023-12-03 08:00", "Europe/Paris"), grace=GRACE).enqueued == 0
    [post] = deliveries(store, sub)
    assert post.story_date == dt.date(2023, 11, 26)


def test_weekly_replay_ends_after_the_roll_up_of_the_last_story_day(store):
    """A weekly replay started on a Friday posts on Sundays: the roll-ups covering story days
    1-3 and then 4 (the last); then it is over."""
    start = at("2026-12-04 07:00", "Europe/Paris")  # a Friday: story day 1
    [sub] = add_subscriptions(
        store,
        now=start,
        days=SUNDAY,
        cadence="weekly",
        mode="replay",
        start_date=dt.date(2026, 12, 4),
    )
    for sunday in ("2026-12-06", "2026-12-13", "2026-12-20"):
        tick(store, LIB, at(f"{sunday} 08:00", "Europe/Paris"), grace=GRACE)
    stories = [d.story_date for d in deliveries(store, sub)]
    assert stories == [dt.date(2023, 11, 19), dt.date(2023, 11, 26)]
    with store.session() as session:
        assert session.scalar(select(Subscription.next_run_at)) is None


def test_every_day_is_the_default(store):
    [sub] = add_subscriptions(store, now=at("2023-11-17 00:00", "Europe/Paris"))
    with store.session() as session:
        row = session.get(Subscription, sub)
        assert row is not None and (row.days, row.cadence, row.format) == (
            ALL_DAYS,
            "daily",
            "full",
        )
