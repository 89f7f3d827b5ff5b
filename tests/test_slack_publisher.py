"""The Slack publisher against the fake Slack: metadata, reconciliation, 429s, permanent errors."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from bot.admin import Actor, AdminService, SubscriptionSpec
from bot.delivery import DeliveryWorker
from bot.publishing import Delivery, PermanentPublishError, PublisherRegistry, TransientPublishError
from bot.ratelimit import RateLimiter
from bot.slack.app import subscriber_lookup
from bot.slack.blocks import MAX_BLOCKS, MAX_SECTION_TEXT, block_text, render_document
from bot.slack.clients import SlackClients
from bot.slack.publisher import EVENT_TYPE, SlackPublisher
from bot.store import Store, Subscription
from digests.compose import compose_digest
from digests.documents import Document, Item, Section, Span
from digests.story import StoryLibrary, default_story
from tests.fakes.slack_server import DEFAULT_BOT_TOKEN, DEFAULT_TEAM_ID, FakeSlack

DAY = dt.date(2023, 11, 17)


class VirtualTime:
    """Clock + sleep for the publisher's limiter: sleeping advances the clock at once."""

    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def delivery(
    document: Document | None = None, *, id: int = 7, channel: str = "C0NEWS", attempt: int = 1
) -> Delivery:
    document = document or compose_digest(default_story(), DAY, "fr")
    assert document is not None
    return Delivery(
        id=id, subscription_id=1, platform="slack", workspace_id=DEFAULT_TEAM_ID, channel_id=channel,
        lang="fr", story_slug="openai-crisis-2023", digest_date=dt.date.today(), document=document,
        attempt=attempt, story_date=DAY,
    )  # fmt: skip


def long_document() -> Document:
    items = tuple(Item((Span(f"[{i:03d}] " + "mot " * 400),)) for i in range(40))
    return Document(
        kind="digest", lang="fr", title="Long", sections=(Section("Aujourd'hui", items),)
    )


@pytest_asyncio.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    async with FakeSlack(channel_rate=None) as server:
        yield server


@pytest_asyncio.fixture
async def clients(fake: FakeSlack) -> AsyncIterator[SlackClients]:
    c = SlackClients(DEFAULT_BOT_TOKEN, api_url=fake.api_url)
    yield c
    await c.close()


def publisher(
    clients: SlackClients, time: VirtualTime | None = None, **kwargs: object
) -> SlackPublisher:
    time = time or VirtualTime()
    limiter = RateLimiter(
        kinds={"workspace": (100.0, 1), "channel": (1.0, 1)}, clock=time.clock, sleep=time.sleep
    )
    return SlackPublisher(clients, limiter=limiter, **kwargs)  # type: ignore[arg-type]


async def test_publish_carries_metadata_blocks_and_fallback(
    fake: FakeSlack, clients: SlackClients
) -> None:
    document = compose_digest(default_story(), DAY, "fr")
    assert document is not None and document.more is not None
    more = len(render_document(document.more))
    result = await publisher(clients).publish(delivery(document))
    message, *replies = fake.messages("C0NEWS")
    assert result.message_ids == (message.ts, *(r.ts for r in replies)) and not result.recovered
    assert message.metadata == {
        "event_type": EVENT_TYPE,
        "event_payload": {
            "delivery_id": 7, "key": "dpc7", "part": 1, "parts": 1 + more, "lang": "fr",
            "story": "openai-crisis-2023", "date": "2023-11-17",
        },
    }  # fmt: skip
    # The "more" part answers the post in its thread; the channel itself shows one message.
    assert len(replies) == more >= 1 and fake.replies("C0NEWS", message.ts) == replies
    assert replies[0].metadata is not None
    assert replies[0].metadata["event_payload"]["part"] == 2
    assert replies[0].text and "Qui est qui" in replies[0].text
    assert message.blocks and message.blocks[0]["type"] == "header"
    assert message.text and message.text.startswith("Crise chez OpenAI")
    call = fake.calls_to("chat.postMessage")[0]
    assert call.params["unfurl_links"] is False


async def test_long_digest_split_in_order_and_limited_per_channel(
    fake: FakeSlack, clients: SlackClients
) -> None:
    time = VirtualTime()
    result = await publisher(clients, time).publish(delivery(long_document()))
    posted = fake.messages("C0NEWS")
    assert len(posted) == len(result.message_ids) > 2
    assert [m.metadata["event_payload"]["part"] for m in posted] == list(range(1, len(posted) + 1))  # type: ignore[index]
    assert all(len(m.blocks or []) <= MAX_BLOCKS for m in posted)
    assert all(len(block_text(b)) <= MAX_SECTION_TEXT for m in posted for b in m.blocks or [])
    shown = " ".join(block_text(b) for m in posted for b in m.blocks or [])
    assert [shown.index(f"[{i:03d}]") for i in range(40)] == sorted(
        shown.index(f"[{i:03d}]") for i in range(40)
    )
    # One channel: the limiter spaced the parts one second apart (virtual time).
    assert time.slept == pytest.approx([1.0] * (len(posted) - 1))


async def test_crash_mid_delivery_reconciled_from_history(
    fake: FakeSlack, clients: SlackClients
) -> None:
    pub = publisher(clients)
    first = delivery(long_document())
    # Part 1 goes out, then the process dies (or Slack fails) before part 2.
    pub_calls = []

    original = pub._post

    async def post_then_fail(d, message, metadata, **kwargs):  # type: ignore[no-untyped-def]
        pub_calls.append(metadata["event_payload"]["part"])
        if len(pub_calls) == 2:
            raise TransientPublishError("simulated crash after part 1")
        return await original(d, message, metadata, **kwargs)

    pub._post = post_then_fail  # type: ignore[method-assign]
    with pytest.raises(TransientPublishError):
        await pub.publish(first)
    assert len(fake.messages("C0NEWS")) == 1

    retry = delivery(long_document(), attempt=2)
    pub._post = original  # type: ignore[method-assign]
    assert await pub.find_published(retry) is None  # partial: not all parts are there
    result = await pub.publish(retry)
    posted = fake.messages("C0NEWS")
    parts = [m.metadata["event_payload"]["part"] for m in posted]  # type: ignore[index]
    assert parts == list(range(1, len(posted) + 1)) and len(result.message_ids) == len(posted)
    history = fake.calls_to("conversations.history")
    assert history and history[0].params["include_all_metadata"] in (True, "1", "true", 1)

    found = await pub.find_published(delivery(long_document(), attempt=3))
    assert (
        found is not None and found.recovered and found.message_ids == tuple(m.ts for m in posted)
    )
    # Another delivery's messages are not mistaken for this one's.
    assert await pub.find_published(delivery(long_document(), id=8, attempt=2)) is None


async def test_429_retry_after_honoured_then_transient(
    fake: FakeSlack, clients: SlackClients
) -> None:
    time = VirtualTime()
    pub = publisher(clients, time)
    fake.fail_next("chat.postMessage", status=429, retry_after=3)
    await pub.publish(delivery())
    assert pub.ratelimited == 1 and len(fake.posts("C0NEWS")) == 1
    assert max(time.slept) >= 3.0  # waited Retry-After before trying again

    fake.fail_next("chat.postMessage", status=429, retry_after=2, count=3)
    with pytest.raises(TransientPublishError) as error:
        await pub.publish(delivery(id=9))
    assert error.value.retry_after == 2
    fake.fail_next("chat.postMessage", status=500)
    with pytest.raises(TransientPublishError, match="slack"):
        await pub.publish(delivery(id=10))


@pytest.mark.parametrize("code", ["not_in_channel", "channel_not_found", "is_archived"])
async def test_permanent_errors(fake: FakeSlack, clients: SlackClients, code: str) -> None:
    fake.add_channel("C0BAD", error=code)
    with pytest.raises(PermanentPublishError) as error:
        await publisher(clients).publish(delivery(channel="C0BAD"))
    assert error.value.code == code and "C0BAD" in error.value.reason


async def test_notify_admins_by_dm_or_ephemeral(fake: FakeSlack, clients: SlackClients) -> None:
    pub = publisher(clients, subscriber=lambda _id: ("U0ADMIN", "C0ORIGIN", "fr"))
    await pub.notify_admins(delivery(channel="C0BAD"), "slack not_in_channel: whatever")
    (dm,) = fake.messages("U0ADMIN")
    assert dm.text is not None
    assert dm.text.startswith("Dépêche a suspendu l'abonnement au résumé de <#C0BAD>")
    assert "invitez-moi" in dm.text

    fake.fail_next("chat.postMessage", error="cannot_dm_bot")
    await pub.notify_admins(delivery(channel="C0BAD"), "slack is_archived: x")
    eph = await fake.next_ephemeral()
    assert eph.user == "U0ADMIN" and eph.channel == "C0ORIGIN" and "archivé" in (eph.text or "")

    nobody = publisher(clients, subscriber=lambda _id: (None, "file:x", "en"))
    await nobody.notify_admins(delivery(), "slack is_archived: x")  # nothing to do, no error


async def test_worker_pauses_and_notifies_through_the_engine(
    fake: FakeSlack, clients: SlackClients, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    store = Store.open(f"sqlite:///{tmp_path / 'db.sqlite3'}")
    library = StoryLibrary.load(None)
    now = dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.UTC)
    registry = PublisherRegistry()
    registry.register(publisher(clients, subscriber=subscriber_lookup(store)))
    worker = DeliveryWorker(store, library, registry, clock=lambda: now)
    admin = AdminService(store, library, publishers=registry, worker=worker, clock=lambda: now)
    actor = Actor(user_id="U0ADMIN", via="chat", where="C0ORIGIN", lang="en")
    for channel in ("C0GOOD", "C0GONE"):
        await admin.subscribe(
            SubscriptionSpec(platform="slack", workspace_id=DEFAULT_TEAM_ID, channel_id=channel, lang="en",
                             mode="replay", start_date=now.date(), timezone="UTC", post_time="08:00"),
            actor,
        )  # fmt: skip
    fake.add_channel("C0GONE", error="is_archived")
    sent = await admin.send_now(admin_target("C0GOOD"), actor)
    assert [d.status for d in sent] == ["sent"]
    (message,) = fake.posts("C0GOOD")
    assert message.metadata["event_payload"]["delivery_id"] == sent[0].id  # type: ignore[index]
    failed = await admin.send_now(admin_target("C0GONE"), actor)
    assert [d.status for d in failed] == ["failed"]
    with store.session() as session:
        row = session.query(Subscription).filter_by(channel_id="C0GONE").one()
        assert not row.active and "is_archived" in (row.paused_reason or "")
    (dm,) = fake.messages("U0ADMIN")
    assert "archived" in (dm.text or "")
    store.dispose()


def admin_target(channel: str):  # type: ignore[no-untyped-def]
    from bot.admin import Target

    return Target("slack", DEFAULT_TEAM_ID, channel)


async def test_more_part_exactly_once_across_a_crash(
    fake: FakeSlack, clients: SlackClients
) -> None:
    """The post went out, the process died before its "more" reply: the retry finds the post
    in the channel's history, posts the reply once in its thread; a later check finds both
    (the reply through conversations.replies, since history does not return replies)."""
    pub = publisher(clients)
    original = pub._post
    calls: list[int] = []

    async def die_before_more(d, message, metadata, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(metadata["event_payload"]["part"])
        if kwargs.get("thread_ts"):
            raise TransientPublishError("simulated crash before the more part")
        return await original(d, message, metadata, **kwargs)

    pub._post = die_before_more  # type: ignore[method-assign]
    with pytest.raises(TransientPublishError):
        await pub.publish(delivery())
    (post,) = fake.messages("C0NEWS")
    pub._post = original  # type: ignore[method-assign]
    assert await pub.find_published(delivery(attempt=2)) is None  # the reply is missing
    result = await pub.publish(delivery(attempt=2))
    parent, *replies = fake.messages("C0NEWS")
    assert parent.ts == post.ts and replies and fake.replies("C0NEWS", post.ts) == replies
    assert result.message_ids == (post.ts, *(r.ts for r in replies))
    found = await pub.find_published(delivery(attempt=3))
    assert found is not None and found.recovered and found.message_ids == result.message_ids
    assert fake.calls_to("conversations.replies")
    assert len(fake.messages("C0NEWS")) == len(result.message_ids)  # nothing twice
