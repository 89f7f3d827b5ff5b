from __future__ import annotations

import asyncio
import datetime as dt
import heapq
import io
import itertools

import pytest
from rich.console import Console
from sqlalchemy import select

from bot.admin import AdminService, format_status
from bot.console import ConsolePublisher
from bot.delivery import DeliveryWorker, no_news_document
from bot.publishing import PublisherRegistry
from bot.ratelimit import RateLimiter, discord_limiter, slack_limiter
from bot.schedule import tick
from bot.settings import DeliverySettings
from bot.store import Delivery, Subscription
from digests.story import StoryLibrary, default_story
from tests.ledger import LedgerPublisher, add_subscriptions

LIB = StoryLibrary([default_story()])
START = dt.datetime(2023, 11, 17, 0, 0, tzinfo=dt.UTC)
DUE = dt.datetime(2023, 11, 17, 7, 0, tzinfo=dt.UTC)  # 08:00 in Paris


class Clock:
    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now


def setup(store, tmp_path, count=1, **publisher_options):
    add_subscriptions(store, count, now=START)
    tick(store, LIB, DUE)
    ledger = LedgerPublisher(tmp_path / "ledger.sqlite3", **publisher_options)
    registry = PublisherRegistry()
    registry.register(ledger)
    clock = Clock(DUE)
    worker = DeliveryWorker(
        store,
        LIB,
        registry,
        settings=DeliverySettings(max_attempts=3, backoff_base_seconds=10),
        clock=clock,
    )
    return ledger, worker, clock


def deliveries(store):
    with store.session() as session:
        return session.scalars(select(Delivery).order_by(Delivery.id)).all()


async def test_publish_records_sent_with_message_ids(store, tmp_path):
    ledger, worker, _ = setup(store, tmp_path, 3)
    result = await worker.run_until_idle(DUE)
    assert (result.claimed, result.sent) == (3, 3)
    assert [(d.status, d.message_ids, d.attempts) for d in deliveries(store)] == [
        ("sent", [f"m-dpc{d.id}"], 1) for d in deliveries(store)
    ]
    assert ledger.count("posts") == ledger.count("calls") == 3
    assert (await worker.run_until_idle(DUE)).claimed == 0


async def test_transient_errors_are_retried_with_backoff_then_sent(store, tmp_path):
    ledger, worker, clock = setup(store, tmp_path, transient={"c0": 2})
    first = await worker.run_until_idle(DUE)
    assert first.retried == 1
    [row] = deliveries(store)
    assert row.status == "pending" and row.last_error == "503 Service Unavailable"
    assert (
        dt.timedelta(seconds=5) <= row.next_attempt_at - DUE <= dt.timedelta(seconds=10)
    )  # base 10 s, jitter
    assert (await worker.run_until_idle(DUE)).claimed == 0  # not before its time
    clock.now = DUE + dt.timedelta(minutes=1)
    assert (await worker.run_until_idle(clock.now)).retried == 1
    clock.now = DUE + dt.timedelta(minutes=2)
    assert (await worker.run_until_idle(clock.now)).sent == 1
    [row] = deliveries(store)
    assert (row.status, row.attempts, row.last_error) == ("sent", 3, None)
    assert ledger.count("posts") == 1


async def test_transient_errors_give_up_after_max_attempts(store, tmp_path):
    ledger, worker, clock = setup(store, tmp_path, transient={"c0": 99})
    for minute in range(5):
        clock.now = DUE + dt.timedelta(minutes=minute * 10)
        await worker.run_until_idle(clock.now)
    [row] = deliveries(store)
    assert row.status == "failed" and row.attempts == 3
    assert row.last_error == "gave up after 3 attempts: 503 Service Unavailable"
    assert ledger.count("posts") == 0


async def test_permanent_error_pauses_the_subscription_and_notifies_admins(store, tmp_path):
    ledger, worker, _ = setup(store, tmp_path, 2, permanent={"c1"})
    result = await worker.run_until_idle(DUE)
    assert (result.sent, result.paused) == (1, 1)
    with store.session() as session:
        paused = session.scalars(select(Subscription).where(Subscription.channel_id == "c1")).one()
    assert not paused.active and paused.paused_reason == "Missing Access (50001)"
    assert ledger.db.execute("SELECT * FROM notices").fetchall() == [
        (paused.id, "Missing Access (50001)")
    ]
    [report] = await AdminService(store, LIB).status(paused.id)
    assert report.failed == 1
    text = format_status(report)
    assert "paused (Missing Access (50001))" in text and "failed — Missing Access" in text


async def test_an_unknown_story_pauses_the_subscription_visibly(store, tmp_path):
    add_subscriptions(store, now=START, story_slug="removed-story")
    assert tick(store, LIB, DUE).enqueued == 1
    ledger = LedgerPublisher(tmp_path / "ledger.sqlite3")
    registry = PublisherRegistry()
    registry.register(ledger)
    result = await DeliveryWorker(store, LIB, registry, clock=lambda: DUE).run_until_idle(DUE)
    assert result.paused == 1 and ledger.count("posts") == 0
    [(sid, reason)] = ledger.db.execute("SELECT * FROM notices").fetchall()
    assert "unknown story 'removed-story'" in reason
    with store.session() as session:
        assert session.get(Subscription, sid).paused_reason == reason


async def test_a_delivery_left_sending_is_reconciled_not_reposted(store, tmp_path):
    ledger, worker, clock = setup(store, tmp_path, 2)
    claimed = await worker.claim(DUE)
    assert len(claimed) == 2
    # The crashed worker had posted the first one, not the second, and recorded neither.
    from bot.publishing import Delivery as D

    first = claimed[0]
    await ledger.publish(
        D(
            first.id,
            first.subscription_id,
            "discord",
            "g",
            first.channel_id,
            "fr",
            first.story_slug,
            first.digest_date,
            no_news_document("fr", "x", first.digest_date),
        )
    )
    successor = DeliveryWorker(
        store, LIB, worker.publishers, settings=DeliverySettings(lease_seconds=300), clock=clock
    )
    assert await successor.claim(DUE + dt.timedelta(seconds=299)) == []  # lease still held
    clock.now = DUE + dt.timedelta(seconds=301)
    result = await successor.run_until_idle(clock.now)
    assert (result.recovered, result.sent) == (1, 1)
    assert ledger.count("posts") == 2 and ledger.count("calls") == 2  # no second call for the first
    assert {d.status for d in deliveries(store)} == {"sent"}
    # the crashed worker's late write cannot undo it
    assert await worker._finish(first, "failed", error="late") is False


async def test_workers_never_claim_the_same_delivery(store, tmp_path):
    _ledger, worker, clock = setup(store, tmp_path, 30)
    other = DeliveryWorker(store, LIB, worker.publishers, clock=clock)
    a = await worker.claim(DUE, 10)
    b = await other.claim(DUE, 100)
    assert len(a) == 10 and len(b) == 20 and not {x.id for x in a} & {x.id for x in b}


async def test_only_platforms_with_a_publisher_are_claimed(store, tmp_path):
    _ledger, worker, _ = setup(store, tmp_path)
    slack_only = PublisherRegistry()
    slack_only.register(LedgerPublisher(tmp_path / "slack.sqlite3", platform="slack"))
    assert await DeliveryWorker(store, LIB, slack_only).claim(DUE) == []
    assert len(await worker.claim(DUE)) == 1


async def test_console_publisher_prints_once(store):
    add_subscriptions(store, now=START, platform="console", workspace_id="", lang="en")
    tick(store, LIB, DUE)
    out = io.StringIO()
    registry = PublisherRegistry()
    console = ConsolePublisher(store, console=Console(file=out, width=100))
    registry.register(console)
    worker = DeliveryWorker(store, LIB, registry, clock=lambda: DUE)
    assert (await worker.run_until_idle(DUE)).sent == 1
    text = out.getvalue()
    assert "Dépêche · c0 · en · 2023-11-17" in text and "Day 1" in text
    [row] = deliveries(store)
    from bot.publishing import Delivery as D

    again = await console.publish(
        D(
            row.id,
            row.subscription_id,
            "console",
            "",
            "c0",
            "en",
            "x",
            row.digest_date,
            no_news_document("en", "x", row.digest_date),
        )
    )
    assert again.recovered and out.getvalue() == text


def test_no_news_line_is_translated():
    assert no_news_document("fr", "s", dt.date(2024, 1, 1)).title == "Rien de nouveau aujourd'hui"
    assert no_news_document("en", "s", dt.date(2024, 1, 1)).title == "No new developments today"


# ---------------------------------------------------------------- the rate limiter


class VirtualTime:
    """A virtual clock; `drive` runs coroutines, jumping to the next sleeper's wake-up time."""

    def __init__(self) -> None:
        self.now = 0.0
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._seq = 0

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._seq += 1
        heapq.heappush(self._sleepers, (self.now + seconds, self._seq, future))
        await future

    async def drive(self, *coroutines) -> None:
        tasks = [asyncio.ensure_future(c) for c in coroutines]
        while not all(task.done() for task in tasks):
            for _ in range(5):
                await asyncio.sleep(0)
            if self._sleepers:
                wake, _, future = heapq.heappop(self._sleepers)
                self.now = max(self.now, wake)
                future.set_result(None)
        await asyncio.gather(*tasks)


def test_global_bucket_spaces_requests_evenly():
    time = VirtualTime()
    limiter = RateLimiter(global_rate=50, clock=time.clock)
    waits = [limiter.reserve() for _ in range(100)]
    assert waits[0] == 0 and waits[-1] == pytest.approx(99 / 50)
    assert all(b - a == pytest.approx(0.02) for a, b in itertools.pairwise(waits))


def test_per_channel_burst_then_rate_and_global_together():
    time = VirtualTime()
    limiter = discord_limiter(clock=time.clock)  # 48/s global, 5 burst then 1/s per channel
    waits = [limiter.reserve("channel:a") for _ in range(7)]
    assert waits[:5] == pytest.approx([0, 1 / 48, 2 / 48, 3 / 48, 4 / 48])
    assert waits[5] == pytest.approx(1.0) and waits[6] == pytest.approx(2.0)
    assert limiter.reserve("channel:b") == pytest.approx(2.0 + 1 / 48)  # joint reservation


async def test_a_busy_channel_does_not_block_the_others():
    time = VirtualTime()
    limiter = discord_limiter(clock=time.clock, sleep=time.sleep)
    done: dict[str, float] = {}

    async def send(name: str, channel: str) -> None:
        await limiter.acquire(f"channel:{channel}")
        done[name] = time.now

    await time.drive(*(send(f"a{i}", "a") for i in range(8)), send("b", "b"))
    assert done["a7"] == pytest.approx(3.0, abs=0.05)
    assert done["b"] < 0.5


def test_slack_channel_and_workspace_are_reserved_jointly():
    time = VirtualTime()
    limiter = slack_limiter(clock=time.clock)
    assert limiter.reserve("workspace:T", "channel:C1") == 0
    assert limiter.reserve("workspace:T", "channel:C2") == pytest.approx(0.1)
    # the channel paces at 0.9 posts/s (a margin under Slack's 1/s for network jitter)
    assert limiter.reserve("workspace:T", "channel:C1") == pytest.approx(1 / 0.9)


def test_penalize_holds_the_bucket():
    time = VirtualTime()
    limiter = RateLimiter(global_rate=50, per_key_rate=1, clock=time.clock)
    limiter.penalize("channel:x", 3.0)
    assert limiter.reserve("channel:x") == pytest.approx(3.0)
    other = RateLimiter(global_rate=50, per_key_rate=1, clock=time.clock)
    other.penalize(None, 2.0, is_global=True)
    assert other.reserve("channel:y") == pytest.approx(2.0)


async def test_concurrent_acquires_are_spread_at_the_rate():
    time = VirtualTime()
    limiter = RateLimiter(global_rate=50, clock=time.clock, sleep=time.sleep)
    starts: list[float] = []

    async def send() -> None:
        await limiter.acquire()
        starts.append(time.now)

    await time.drive(*(send() for _ in range(200)))
    assert max(starts) == pytest.approx(199 / 50)
    # any one-second window holds at most 50 requests
    starts.sort()
    assert max(sum(1 for t in starts if s <= t < s + 1) for s in starts) <= 50


async def test_console_publisher_lets_the_terminal_wrap(store):
    """No hard line breaks at the console's width (rich would break even at no-break spaces)."""
    from digests.compose import compose_digest
    from digests.render import render_text

    add_subscriptions(store, now=START, platform="console", workspace_id="", lang="fr")
    tick(store, LIB, DUE)
    out = io.StringIO()
    registry = PublisherRegistry()
    registry.register(ConsolePublisher(store, console=Console(file=out, width=30)))
    worker = DeliveryWorker(store, LIB, registry, clock=lambda: DUE)
    assert (await worker.run_until_idle(DUE)).sent == 1
    expected = render_text(compose_digest(LIB.get(LIB.default_slug), dt.date(2023, 11, 17), "fr"))
    long_lines = [line for line in expected.splitlines() if len(line) > 30]
    assert long_lines and all(line in out.getvalue().splitlines() for line in long_lines)
