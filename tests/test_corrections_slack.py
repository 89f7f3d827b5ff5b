"""Corrections and breaking alerts on Slack, end to end against the fake Slack: a whole instance
with the real Slack publisher; posts already out are updated with ``chat.update`` exactly once
per revision, a notice is a thread reply also sent to the channel, a deleted message is skipped
with the reason, and a breaking alert reaches opted-in live subscriptions once."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path

import pytest_asyncio
from sqlalchemy import select

from bot.platforms import PlatformContext
from bot.ratelimit import RateLimiter
from bot.slack.blocks import block_text
from bot.slack.clients import SlackClients
from bot.slack.publisher import SlackPublisher
from bot.store import BREAKING, CORRECTION, Delivery, Store
from tests.fakes.slack_server import DEFAULT_BOT_TOKEN, DEFAULT_TEAM_ID, FakeSlack, Message
from tests.living import CORRECTED, POSTED, Clock, edited, instance, publish, subscribe, with_return

NEWS, BRIEF = "C0NEWS", "C0BRIEF"
MINUTE = dt.timedelta(minutes=1)


@pytest_asyncio.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    async with FakeSlack(channel_rate=None) as server:
        server.add_channel(NEWS, team_id=DEFAULT_TEAM_ID, name="news")
        server.add_channel(BRIEF, team_id=DEFAULT_TEAM_ID, name="brief")
        yield server


@pytest_asyncio.fixture
async def clients(fake: FakeSlack) -> AsyncIterator[SlackClients]:
    c = SlackClients(DEFAULT_BOT_TOKEN, api_url=fake.api_url)
    yield c
    await c.close()


def with_slack(context: PlatformContext, clients: SlackClients) -> None:
    limiter = RateLimiter(kinds={"workspace": (100.0, 10), "channel": (50.0, 10)})
    context.publishers.register(SlackPublisher(clients, limiter=limiter))


def text_of(message: Message) -> str:
    return "\n".join(block_text(block) for block in message.blocks or []) or message.text or ""


def posts(fake: FakeSlack, channel: str) -> list[Message]:
    """The channel's messages but the "more" parts of digests (replies in their thread)."""
    return [m for m in fake.messages(channel) if not m.thread_ts or m.extra.get("reply_broadcast")]


def rows(store: Store, kind: str) -> list[Delivery]:
    with store.session() as session:
        return list(session.scalars(select(Delivery).where(Delivery.kind == kind)))


async def test_posts_are_updated_once_notices_reply_and_deleted_ones_are_skipped(
    store: Store, tmp_path: Path, fake: FakeSlack, clients: SlackClients
) -> None:
    clock = Clock(POSTED - MINUTE)
    context = instance(store, tmp_path, clock)
    with_slack(context, clients)
    await subscribe(context, "slack", DEFAULT_TEAM_ID, NEWS)  # edit
    await subscribe(context, "slack", DEFAULT_TEAM_ID, NEWS, lang="en")  # edit, to be deleted
    await subscribe(context, "slack", DEFAULT_TEAM_ID, BRIEF, corrections="notice")
    await context.runner.step(clock.set(POSTED))
    french, english = posts(fake, NEWS)
    (original,) = posts(fake, BRIEF)
    fake.channels[NEWS].messages.remove(english)  # someone deletes the English post

    publish(store, edited("Ada quitte Acme", "Ada quitte Acme pour de bon"), CORRECTED)
    await context.runner.step(clock.set(CORRECTED + MINUTE))
    await context.runner.step(clock.set(CORRECTED + 2 * MINUTE))

    (french_after,) = posts(fake, NEWS)
    assert french_after.ts == french.ts and french_after.edited
    assert "Mis à jour le 1 mars à 14 h 05" in text_of(french_after)
    assert "Ada quitte Acme pour de bon" in text_of(french_after)
    assert french_after.metadata == french.metadata  # still recognisable as that post
    updates = [call.params["ts"] for call in fake.calls_to("chat.update")]
    assert updates.count(french.ts) == 1 and english.ts in updates  # the deleted one refused
    assert len(updates) == len(set(updates))  # the French post's "more" reply: once too
    original_after, notice = posts(fake, BRIEF)
    assert not original_after.edited
    assert notice.thread_ts == original.ts and notice.extra.get("reply_broadcast") is True
    assert "Correctif" in text_of(notice) and "Mis à jour le 1 mars" in text_of(notice)
    by_status = sorted((row.status, row.last_error or "") for row in rows(store, CORRECTION))
    assert [status for status, _ in by_status] == ["sent", "sent", "skipped"]
    assert "message_not_found" in by_status[-1][1]
    assert all(info.active for info in await context.admin.list())


async def test_breaking_alert_once_for_opted_in_live_and_never_for_replay(
    store: Store, tmp_path: Path, fake: FakeSlack, clients: SlackClients
) -> None:
    clock = Clock(POSTED - MINUTE)
    context = instance(store, tmp_path, clock)
    with_slack(context, clients)
    await subscribe(context, "slack", DEFAULT_TEAM_ID, NEWS, lang="both", breaking=True)
    await subscribe(
        context, "slack", DEFAULT_TEAM_ID, BRIEF, mode="replay", start=POSTED.date(), breaking=True
    )
    await context.runner.step(clock.set(POSTED))
    posted_news, posted_brief = len(posts(fake, NEWS)), len(posts(fake, BRIEF))

    publish(store, with_return(breaking=True), CORRECTED)
    for minutes in (1, 2, 3):
        await context.runner.step(clock.set(CORRECTED + minutes * MINUTE))

    alerts = posts(fake, NEWS)[posted_news:]
    assert sorted(m.blocks[0]["text"]["text"] for m in alerts if m.blocks) == [
        "Breaking: Ada returns",
        "Dernière minute\u00a0: Ada revient",
    ]
    assert len(posts(fake, BRIEF)) == posted_brief
    assert sorted((row.lang, row.status) for row in rows(store, BREAKING)) == [
        ("en", "sent"),
        ("fr", "sent"),
    ]


async def test_with_a_daily_thread_the_notice_stays_in_the_digest_thread(
    store: Store, tmp_path: Path, fake: FakeSlack, clients: SlackClients
) -> None:
    clock = Clock(POSTED - MINUTE)
    context = instance(store, tmp_path, clock)
    with_slack(context, clients)
    await subscribe(context, "slack", DEFAULT_TEAM_ID, BRIEF, corrections="notice", thread="daily")
    await context.runner.step(clock.set(POSTED))
    (original,) = posts(fake, BRIEF)
    publish(store, edited("Ada quitte Acme", "Ada quitte Acme pour de bon"), CORRECTED)
    await context.runner.step(clock.set(CORRECTED + MINUTE))
    await context.runner.step(clock.set(CORRECTED + 2 * MINUTE))
    assert posts(fake, BRIEF) == [original]  # nothing new in the channel itself
    notice = fake.messages(BRIEF)[-1]
    assert notice.thread_ts == original.ts and notice.extra.get("reply_broadcast") is False
    assert "Correctif" in text_of(notice)
