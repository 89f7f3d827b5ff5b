"""Corrections and breaking alerts on Discord, end to end against the fake Discord: a whole
instance (live stories, tick, outbox, worker, the real Discord publisher), a revision published
as `depeche story publish` does, and the posts already out edited in place exactly once."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.admin import format_status
from bot.discord.publisher import DiscordPublisher
from bot.platforms import PlatformContext
from bot.ratelimit import RateLimiter
from bot.store import BREAKING, CORRECTION, Delivery, Store
from tests.fakes.discord_server import (
    ANNOUNCES_CHANNEL_ID,
    GENERAL_CHANNEL_ID,
    GUILD_ID,
    FakeDiscord,
    add_default_guild,
)
from tests.living import (
    CORRECTED,
    DAY2,
    POSTED,
    Clock,
    edited,
    instance,
    publish,
    subscribe,
    with_return,
)

GUILD, GENERAL, ANNOUNCES = str(GUILD_ID), str(GENERAL_CHANNEL_ID), str(ANNOUNCES_CHANNEL_ID)
MINUTE = dt.timedelta(minutes=1)
PATCHES = "PATCH /channels/*/messages/*"


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    fake = FakeDiscord()
    add_default_guild(fake)
    await fake.start()
    yield fake
    await fake.close()


def with_discord(context: PlatformContext, fake: FakeDiscord) -> DiscordPublisher:
    limiter = RateLimiter(global_rate=48, kinds={"channel": (1.0, 5)})
    publisher = DiscordPublisher(token=fake.token, api_url=fake.api_url, limiter=limiter)
    context.publishers.register(publisher)
    return publisher


def text_of(message: dict[str, Any]) -> str:
    return "\n".join(
        f"{embed.get('title') or ''}\n{embed.get('description') or ''}"
        for embed in message["embeds"]
    )


def posts(fake: FakeDiscord, channel: int) -> list[dict[str, Any]]:
    """The channel's messages but the "more" follow-ups of digests (who's who...)."""
    more = ("Pour aller plus loin — ", "More — Day ")
    return [m for m in fake.messages(channel) if not any(s in text_of(m) for s in more)]


def rows(store: Store, kind: str) -> list[Delivery]:
    with store.session() as session:
        return list(session.scalars(select(Delivery).where(Delivery.kind == kind)))


async def test_a_revision_edits_each_post_once_notice_and_off_modes(
    store: Store, tmp_path: Path, fake: FakeDiscord
) -> None:
    clock = Clock(POSTED - MINUTE)
    context = instance(store, tmp_path, clock)
    publisher = with_discord(context, fake)
    try:
        await subscribe(context, "discord", GUILD, GENERAL)  # corrections: edit (default)
        await subscribe(context, "discord", GUILD, GENERAL, lang="en", corrections="off")
        await subscribe(context, "discord", GUILD, ANNOUNCES, corrections="notice")
        await context.runner.step(clock.set(POSTED))
        french, english = posts(fake, GENERAL_CHANNEL_ID)
        (original,) = posts(fake, ANNOUNCES_CHANNEL_ID)
        english_before = text_of(english)
        assert "Ada quitte Acme" in text_of(french)

        publish(store, edited("Ada quitte Acme", "Ada quitte Acme pour de bon"), CORRECTED)
        await context.runner.step(clock.set(CORRECTED + MINUTE))

        # edit: the French post itself now reads the revision, with the visible line
        french_after, english_after = posts(fake, GENERAL_CHANNEL_ID)
        assert french_after["id"] == french["id"] and french_after["edited_timestamp"]
        body = text_of(french_after)
        assert "Mis à jour le 1 mars à 14 h 05" in body
        assert "corrigé" in body and "Ada quitte Acme pour de bon" in body
        assert "Dépêche #" in french_after["embeds"][-1]["footer"]["text"]  # its own marker
        # off: the English post is left alone
        assert text_of(english_after) == english_before and not english_after["edited_timestamp"]
        # notice: the original untouched, a reply under it with the line
        original_after, follow_up = posts(fake, ANNOUNCES_CHANNEL_ID)
        assert not original_after["edited_timestamp"]
        assert follow_up["message_reference"]["message_id"] == original["id"]
        assert "Correctif" in text_of(follow_up)
        assert "Mis à jour le 1 mars à 14 h 05" in text_of(follow_up)
        # one edit per message of the French post (the digest and its "more" follow-up)
        patched = [request.path for request in fake.requests_for(PATCHES)]
        assert len(patched) == len(set(patched)) and french["id"] in patched[0]
        assert all(f"/channels/{GENERAL}/" in path for path in patched)

        # Exactly once: later ticks (and a scan of the same revision) change nothing.
        await context.runner.step(clock.set(CORRECTED + 2 * MINUTE))
        await context.runner.step(clock.set(CORRECTED + 3 * MINUTE))
        assert len(fake.requests_for(PATCHES)) == len(patched)
        assert len(posts(fake, ANNOUNCES_CHANNEL_ID)) == 2
        corrections = rows(store, CORRECTION)
        assert sorted(row.status for row in corrections) == ["sent", "sent"]

        # The next day's digest is written from the revision ("Previously" included).
        await context.runner.step(clock.set(dt.datetime.combine(DAY2, POSTED.timetz())))
        next_day = posts(fake, GENERAL_CHANNEL_ID)[2]
        assert "Ada quitte Acme pour de bon" in text_of(next_day)
    finally:
        await publisher.close()


async def test_a_deleted_message_is_skipped_with_the_reason_and_nothing_else_breaks(
    store: Store, tmp_path: Path, fake: FakeDiscord
) -> None:
    clock = Clock(POSTED - MINUTE)
    context = instance(store, tmp_path, clock)
    publisher = with_discord(context, fake)
    try:
        info = await subscribe(context, "discord", GUILD, GENERAL)
        await context.runner.step(clock.set(POSTED))
        (post,) = posts(fake, GENERAL_CHANNEL_ID)
        # Someone deletes the post.
        await publisher.rest.request("DELETE", f"/channels/{GENERAL}/messages/{post['id']}")

        publish(store, with_return(), CORRECTED)
        await context.runner.step(clock.set(CORRECTED + MINUTE))
        (correction,) = rows(store, CORRECTION)
        assert correction.status == "skipped"
        assert "Unknown Message" in (correction.last_error or "")
        (subscription,) = await context.admin.list()
        assert subscription.id == info.id and subscription.active
        (report,) = await context.admin.status(info.id)
        assert "[fr] (correction) skipped — Discord 404 Unknown Message" in format_status(report)

        # The next day's post goes out, and its "Previously" has the event added on day 1.
        await context.runner.step(clock.set(dt.datetime.combine(DAY2, POSTED.timetz())))
        (next_day,) = posts(fake, GENERAL_CHANNEL_ID)
        assert "Ada revient" in text_of(next_day)
    finally:
        await publisher.close()


async def test_a_failed_edit_is_retried_and_a_crashed_claim_is_taken_over_once(
    store: Store, tmp_path: Path, fake: FakeDiscord
) -> None:
    clock = Clock(POSTED - MINUTE)
    context = instance(store, tmp_path, clock)
    publisher = with_discord(context, fake)
    other = instance(store, tmp_path, clock)  # a second instance on the same database
    other_publisher = with_discord(other, fake)
    try:
        await subscribe(context, "discord", GUILD, GENERAL)
        await subscribe(context, "discord", GUILD, ANNOUNCES)
        await context.runner.step(clock.set(POSTED))
        publish(store, with_return(), CORRECTED)

        # Instance 1 claims the corrections and dies before doing anything with them.
        await context.runner.tick(clock.set(CORRECTED + MINUTE))
        claimed = await context.worker.claim(clock())
        assert len(claimed) == 2 and {item.kind for item in claimed} == {CORRECTION}
        # Instance 2 takes them over after the lease; Discord fails one edit with a 500 once.
        fake.fail_next(PATCHES, 500)
        lease = dt.timedelta(seconds=context.settings.delivery.lease_seconds + 1)
        await other.runner.step(clock.set(CORRECTED + MINUTE + lease))
        await other.runner.step(clock.set(CORRECTED + MINUTE + lease + 10 * MINUTE))

        for channel in (GENERAL_CHANNEL_ID, ANNOUNCES_CHANNEL_ID):
            (post,) = posts(fake, channel)
            assert text_of(post).count("Mis à jour le 1 mars à 14 h 05") == 1
            assert "ajouté" in text_of(post) and "Ada revient" in text_of(post)
        assert sorted((row.status, row.attempts) for row in rows(store, CORRECTION)) == [
            ("sent", 2),
            ("sent", 3),
        ]
    finally:
        await publisher.close()
        await other_publisher.close()


async def test_a_breaking_event_alerts_opted_in_live_subscriptions_once(
    store: Store, tmp_path: Path, fake: FakeDiscord
) -> None:
    clock = Clock(POSTED - MINUTE)
    context = instance(store, tmp_path, clock, public_url="https://depeche.example")
    publisher = with_discord(context, fake)
    try:
        await subscribe(context, "discord", GUILD, GENERAL, breaking=True)
        await subscribe(context, "discord", GUILD, GENERAL, lang="en")  # breaking off
        replay = await subscribe(
            context,
            "discord",
            GUILD,
            ANNOUNCES,
            mode="replay",
            start=POSTED.date(),
            breaking=True,
        )
        assert replay.breaking and replay.mode == "replay"
        await context.runner.step(clock.set(POSTED))
        assert len(posts(fake, GENERAL_CHANNEL_ID)) == 2
        replayed = len(posts(fake, ANNOUNCES_CHANNEL_ID))

        publish(store, with_return(breaking=True), CORRECTED)
        # another revision on top before the next tick: the alert is not lost
        later = with_return(breaking=True, document=edited("Bob steps in", "Bob takes over"))
        publish(store, later, CORRECTED)
        await context.runner.step(clock.set(CORRECTED + MINUTE))
        await context.runner.step(clock.set(CORRECTED + 2 * MINUTE))

        alerts = [m for m in posts(fake, GENERAL_CHANNEL_ID) if "Dernière minute" in text_of(m)]
        (alert,) = alerts
        assert alert["embeds"][0]["title"].startswith("Dernière minute\u00a0: Ada revient")
        assert "Ada revient chez Acme." in text_of(alert)
        assert alert["embeds"][0]["url"] == (
            "https://depeche.example/fr/minimal-example/2024-03-01/"
        )
        assert not any("Breaking" in text_of(m) for m in posts(fake, GENERAL_CHANNEL_ID))
        # the replay gets no alert (its correction of day 1 is an edit, not a post)
        assert len(posts(fake, ANNOUNCES_CHANNEL_ID)) == replayed
        assert [row.status for row in rows(store, BREAKING)] == ["sent"]
    finally:
        await publisher.close()
