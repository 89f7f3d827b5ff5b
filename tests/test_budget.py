"""The rate budget shared by instances (bot.budget) and the instance heartbeats that hand a dead
instance's claims back (bot.instances), on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools

import pytest
from sqlalchemy import select

from bot.budget import SharedBudget, bot_key, hold_until, reserve_slots
from bot.delivery import DeliveryWorker
from bot.instances import InstanceRegistry
from bot.outbox.leases import RELEASED
from bot.publishing import PublisherRegistry
from bot.ratelimit import RateLimiter
from bot.store import SENDING, Delivery, Store
from digests.story import StoryLibrary, default_story
from tests.ledger import add_subscriptions

T0 = 1_800_000_000.0  # epoch seconds
NOW = dt.datetime(2026, 11, 28, 8, 0, tzinfo=dt.UTC)
KEY = bot_key("discord", "secret-token")


def test_the_bot_is_named_by_a_hash_of_its_token_never_the_token() -> None:
    assert "secret-token" not in KEY
    assert KEY.startswith("discord:") and KEY.endswith(":global")
    assert bot_key("discord", "another-token") != KEY
    assert bot_key("discord", "secret-token") == KEY  # the same bot in every instance
    assert len(KEY) <= 80


def test_runs_reserved_by_several_instances_never_overlap(db_url: str) -> None:
    stores = [Store.open(db_url) for _ in range(3)]  # three instances: three engines, one DB
    try:
        interval = 1 / 48
        runs = []
        now = T0
        for round_ in range(20):
            for number, store in enumerate(stores):
                count = 1 + (round_ + number) % 12
                first = reserve_slots(store, KEY, count, interval, now)
                assert first >= now  # never before the time asked for
                runs.append((first, first + count * interval))
            now += 0.05  # time passes more slowly than the slots are taken: a queue builds up
        runs.sort()
        for (_, end), (start, _) in itertools.pairwise(runs):
            assert start >= end - 1e-9  # disjoint: together at most 48 per second
        # contiguous while demand lasts: the whole budget is used, none is lost between runs
        assert runs[-1][1] - runs[0][0] == pytest.approx(sum(b - a for a, b in runs))
    finally:
        for store in stores:
            store.dispose()


def test_an_idle_budget_starts_now_and_a_hold_delays_everyone(db_url: str) -> None:
    store = Store.open(db_url)
    try:
        assert reserve_slots(store, KEY, 5, 0.02, T0) == pytest.approx(T0)
        later = T0 + 100
        assert reserve_slots(store, KEY, 1, 0.02, later) == pytest.approx(later)  # no credit
        hold_until(store, KEY, later + 3)  # a global 429 seen by one instance
        assert reserve_slots(store, KEY, 1, 0.02, later + 1) == pytest.approx(later + 3)
        other = bot_key("discord", "another-bot")
        assert reserve_slots(store, other, 1, 0.02, later + 1) == pytest.approx(later + 1)
    finally:
        store.dispose()


class VirtualTime:
    def __init__(self) -> None:
        self.now = T0

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        # wake at the time asked for: concurrent sleepers do not add up their waits
        target = self.now + max(seconds, 0.0)
        await asyncio.sleep(0)
        self.now = max(self.now, target)


async def test_an_instance_takes_only_the_slots_it_needs(tmp_path) -> None:
    store = Store.open(f"sqlite:///{tmp_path / 'budget.sqlite3'}")
    time = VirtualTime()
    try:
        budget = SharedBudget(store, KEY, 48.0, clock=time.clock, sleep=time.sleep)
        for _ in range(3):
            await budget.acquire()
        await budget.close()
        # one acquirer at a time: one slot per reservation, nothing held beyond the need
        assert budget.reservations == 3
        assert reserve_slots(store, KEY, 1, 1 / 48, time.now) <= time.now + 1 / 48 + 1e-9
    finally:
        store.dispose()


async def test_many_acquirers_share_one_run_and_are_spaced_at_the_rate(tmp_path) -> None:
    store = Store.open(f"sqlite:///{tmp_path / 'budget.sqlite3'}")
    time = VirtualTime()
    try:
        budget = SharedBudget(store, KEY, 40.0, clock=time.clock, sleep=time.sleep)
        granted: list[float] = []

        async def one() -> None:
            await budget.acquire()
            granted.append(time.now)

        await asyncio.gather(*(one() for _ in range(30)))
        await budget.close()
        assert budget.reservations <= 3  # runs of up to 10 (0.25 s at 40/s), not one per request
        assert budget.dropped == 0
        assert len(granted) == 30
    finally:
        store.dispose()


async def test_a_stale_slot_is_dropped_not_spent_late() -> None:
    time = VirtualTime()

    async def reserve(count: int, interval: float, now: float) -> float:
        time.now += 1.0  # the database took a second to answer: these slots are past
        return now

    budget = SharedBudget(None, KEY, 10.0, clock=time.clock, sleep=time.sleep, reserve=reserve)
    calls = 0

    async def reserve_once_slow(count: int, interval: float, now: float) -> float:
        nonlocal calls
        calls += 1
        return await reserve(count, interval, now) if calls == 1 else now

    budget.reserve = reserve_once_slow
    await budget.acquire()
    await budget.close()
    assert budget.dropped == 1 and calls == 2


async def test_the_limiter_takes_the_global_step_from_the_shared_budget(tmp_path) -> None:
    store = Store.open(f"sqlite:///{tmp_path / 'budget.sqlite3'}")
    time = VirtualTime()
    try:
        shared = SharedBudget(store, KEY, 50.0, clock=time.clock, sleep=time.sleep)
        limiter = RateLimiter(
            global_rate=50.0, kinds={"channel": (1.0, 1)}, shared=shared, sleep=time.sleep
        )
        await limiter.acquire("channel:1")
        assert shared.reservations == 1
        limiter.penalize("channel:1", 2.0, is_global=True)  # a global 429: every instance waits
        await asyncio.sleep(0.05)
        while shared._background:
            await asyncio.sleep(0.01)
        assert reserve_slots(store, KEY, 1, 0.02, time.now) >= time.now + 2.0 - 1e-6
        await shared.close()
    finally:
        store.dispose()


# --------------------------------------------------------------------------------- instances

LIB = StoryLibrary([default_story()])


def _claimed_by(store: Store, worker_id: str, count: int) -> list[int]:
    """``count`` deliveries in ``sending``, claimed by ``worker_id`` at NOW."""
    ids = add_subscriptions(store, count, now=NOW - dt.timedelta(days=1))
    with store.session() as session, session.begin():
        rows = [
            Delivery(
                subscription_id=sid,
                platform="discord",
                digest_date=NOW.date(),
                lang="fr",
                scheduled_for=NOW,
                status=SENDING,
                attempts=1,
                claimed_by=worker_id,
                claimed_at=NOW,
                next_attempt_at=NOW,
                created_at=NOW,
            )
            for sid in ids
        ]
        session.add_all(rows)
        session.flush()
        return [row.id for row in rows]


class _Discord:
    platform = "discord"


async def test_a_dead_instances_claims_return_to_the_others_within_30_seconds(store: Store) -> None:
    dead = InstanceRegistry(store, "instance-a")
    alive = InstanceRegistry(store, "instance-b")
    dead.step(NOW)
    alive.step(NOW)
    ids = _claimed_by(store, "instance-a", 5)
    survivor = DeliveryWorker(store, LIB, PublisherRegistry({"discord": _Discord()}))  # type: ignore[dict-item]
    survivor.worker_id = "instance-b"

    # instance-a is SIGKILLed at NOW: it never beats again; instance-b beats every 5 s
    for seconds in (5, 10):
        assert alive.step(NOW + dt.timedelta(seconds=seconds)) == 0  # not dead yet
        assert await survivor.claim(NOW + dt.timedelta(seconds=seconds)) == []  # the lease holds
    assert alive.live(NOW + dt.timedelta(seconds=14)) == ["instance-a", "instance-b"]
    assert alive.live(NOW + dt.timedelta(seconds=16)) == ["instance-b"]
    assert alive.step(NOW + dt.timedelta(seconds=20)) == 5  # released at the first beat after 15 s
    with store.session() as session:
        assert set(session.scalars(select(Delivery.claimed_at))) == {RELEASED}
    taken = await survivor.claim(NOW + dt.timedelta(seconds=20))
    assert sorted(item.id for item in taken) == ids
    assert all(item.attempts == 2 for item in taken)  # a re-attempt: asks the platform first
    assert alive.live(NOW + dt.timedelta(seconds=20)) == ["instance-b"]  # a-row forgotten


def test_a_live_instance_keeps_its_claims(store: Store) -> None:
    busy = InstanceRegistry(store, "instance-a")
    other = InstanceRegistry(store, "instance-b")
    _claimed_by(store, "instance-a", 3)
    for seconds in range(0, 120, 5):  # a claim held for two minutes by a live instance
        at = NOW + dt.timedelta(seconds=seconds)
        busy.step(at)
        assert other.step(at) == 0
    with store.session() as session:
        assert set(session.scalars(select(Delivery.claimed_by))) == {"instance-a"}
        assert set(session.scalars(select(Delivery.claimed_at))) == {NOW}


def test_heartbeat_settings_are_checked() -> None:
    with pytest.raises(ValueError, match="dead_after must be longer"):
        InstanceRegistry(None, "x", interval=5, dead_after=5)  # type: ignore[arg-type]


# ------------------------------------------------------------- at the fake Discord, together


async def test_instances_sharing_one_budget_never_exceed_it_together(db_url: str) -> None:
    """Three publishers, each with its own engine on one database (three instances), post 90
    digests at once under a shared budget of 18 requests/s; the fake enforces 20/s. Without the
    shared budget each would go at 18/s (54/s together: hundreds of 429s)."""
    from bot.discord.publisher import DiscordPublisher
    from bot.publishing import Delivery, TransientPublishError
    from digests.documents import Document, Item, Section, Span
    from tests.fakes.discord_server import FakeDiscord

    fake = FakeDiscord(global_limit=(20, 1.0))
    guild = fake.add_guild(name="g", channels=[{"name": f"c{i}"} for i in range(90)])
    channels = [str(c["id"]) for c in guild["channels"]]
    await fake.start()
    stores = [Store.open(db_url) for _ in range(3)]
    publishers = [
        DiscordPublisher(
            token=fake.token,
            api_url=fake.api_url,
            limiter=RateLimiter(
                kinds={"channel": (1.0, 5)},
                shared=SharedBudget(store, bot_key("discord", fake.token), 18.0),
            ),
        )
        for store in stores
    ]
    note = Document(
        kind="notice", lang="en", title="t", sections=(Section("", (Item((Span("x"),)),)),)
    )
    retried = 0

    async def post(index: int) -> None:
        nonlocal retried
        publisher = publishers[index % 3]
        delivery = Delivery(
            id=index + 1,
            subscription_id=index + 1,
            platform="discord",
            workspace_id="",
            channel_id=channels[index],
            lang="en",
            story_slug="s",
            digest_date=NOW.date(),
            document=note,
        )
        for _ in range(3):
            try:
                await publisher.publish(delivery)
                return
            except TransientPublishError as error:
                retried += 1
                await asyncio.sleep(error.retry_after or 0.5)

    try:
        await asyncio.gather(*(post(i) for i in range(90)))
    finally:
        for publisher in publishers:
            assert publisher.limiter.shared is not None
            await publisher.limiter.shared.close()
            await publisher.close()
        for store in stores:
            store.dispose()
        await fake.close()
    assert all(len(fake.messages(int(c))) == 1 for c in channels)
    counts = fake.per_second()
    assert max(counts.values()) <= 20, counts
    assert fake.max_in_window(1.0) <= 20
    assert fake.count_429 == 0 and retried == 0
    assert sum(1 for r in fake.requests if r.method == "POST") == 90  # none sent twice


def test_limited_paths_are_the_rest_api_but_interactions_and_webhooks() -> None:
    import yarl

    from bot.discord.limits import limited_path

    base = yarl.URL("http://127.0.0.1:5000/api/v10")
    assert limited_path(yarl.URL("http://127.0.0.1:5000/api/v10/users/@me"), base) == "/users/@me"
    assert (
        limited_path(yarl.URL("http://127.0.0.1:5000/api/v10/interactions/1/t/callback"), base)
        is None
    )
    assert limited_path(yarl.URL("http://127.0.0.1:5000/api/v10/webhooks/1/t"), base) is None
    assert limited_path(yarl.URL("http://127.0.0.1:5000/gateway"), base) is None  # websocket
    assert limited_path(yarl.URL("http://127.0.0.1:5001/api/v10/users/@me"), base) is None


async def test_discord_pys_own_requests_take_slots_of_the_shared_budget(tmp_path) -> None:
    """One limiter knows every request: discord.py's login, sync and lookups wait for a slot
    of the budget the publisher uses; interaction callbacks (exempt from the global limit) do
    not; the publisher's posts do."""
    from tests.discord_env import discord_env
    from tests.fakes.discord_server import GENERAL_CHANNEL_ID

    async with discord_env(tmp_path) as env:
        shared = env.bot.publisher.limiter.shared
        assert shared is not None
        limited = len(env.fake.limited_requests())
        assert limited >= 3 and shared.granted == limited  # login, application, sync...
        interaction = await env.fake.dispatch_command("faq", {}, locale="en-US")
        await interaction.wait_callback()
        assert shared.granted == len(env.fake.limited_requests()) == limited
        await env.client.fetch_channel(GENERAL_CHANNEL_ID)  # a lookup by discord.py
        assert shared.granted == limited + 1 == len(env.fake.limited_requests())
        await shared.close()


async def test_slack_workspaces_are_shared_by_instances_and_channels_are_not(tmp_path) -> None:
    from bot.ratelimit import slack_limiter
    from bot.settings import RateLimitSettings

    store = Store.open(f"sqlite:///{tmp_path / 'budget.sqlite3'}")
    time = VirtualTime()
    limits = RateLimitSettings(slack_workspace_per_second=10.0, slack_channel_per_second=1.0)

    def instance() -> RateLimiter:
        limiter = slack_limiter(
            limits, shared_by=(store, "xoxb-secret"), clock=time.clock, sleep=time.sleep
        )
        for kind, factory in list(limiter.shared_kinds.items()):

            def virtual(key: str, factory=factory) -> SharedBudget:  # type: ignore[no-untyped-def]
                budget = factory(key)
                budget.clock, budget.sleep = time.clock, time.sleep
                return budget

            limiter.shared_kinds[kind] = virtual
        return limiter

    first, second = instance(), instance()
    try:
        start = time.now
        for index in range(20):  # two instances, one workspace, twenty channels
            limiter = (first, second)[index % 2]
            await limiter.acquire("workspace:T1", f"channel:T1/C{index}")
        # one shared 10/s budget: 20 requests take 1.9 s at least (two budgets: 0.9 s)
        assert time.now - start >= 1.9 - 1e-3
        budgets = [first._shared_keys["workspace:T1"], second._shared_keys["workspace:T1"]]
        assert budgets[0].key == budgets[1].key and "xoxb-secret" not in budgets[0].key
        assert "channel:T1/C0" not in first._shared_keys  # channels stay local
        await first.acquire("workspace:T2", "channel:T2/C0")  # another workspace: at once
        assert time.now - start < 2.1
    finally:
        for limiter in (first, second):
            for budget in limiter._shared_keys.values():
                await budget.close()
        store.dispose()


async def test_a_slot_overslept_by_a_stalled_loop_is_dropped() -> None:
    time = VirtualTime()
    stalls = [0.3]  # the first wait for a slot lasts 300 ms longer than asked (a stalled loop)

    async def stalling_sleep(seconds: float) -> None:
        time.now += max(seconds, 0.0) + (stalls.pop() if stalls else 0.0)
        await asyncio.sleep(0)

    async def reserve(count: int, interval: float, now: float) -> float:
        return now + 0.1  # the next free slot is 100 ms away

    budget = SharedBudget(None, KEY, 10.0, clock=time.clock, sleep=stalling_sleep, reserve=reserve)
    await budget.acquire()
    await budget.close()
    assert budget.dropped == 1 and budget.granted == 1


def test_a_killed_instances_share_returns_at_once(db_url: str) -> None:
    """An instance killed right after reserving holds at most the run it reserved (at most
    ``horizon + chunk_seconds`` ahead of now); after it, the survivor gets the whole rate."""
    killed, survivor = Store.open(db_url), Store.open(db_url)
    try:
        interval = 1 / 48
        budget = SharedBudget(survivor, KEY, 48.0)
        first = reserve_slots(killed, KEY, budget.chunk, interval, T0)  # then SIGKILL
        assert first == pytest.approx(T0)
        start = reserve_slots(survivor, KEY, budget.chunk, interval, T0 + 0.01)
        assert start <= T0 + budget.horizon + budget.chunk_seconds
        following = reserve_slots(survivor, KEY, budget.chunk, interval, T0 + 0.3)
        assert following == pytest.approx(start + budget.chunk * interval)  # the whole rate
    finally:
        killed.dispose()
        survivor.dispose()
