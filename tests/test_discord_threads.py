"""Digests in Discord threads and forums, against the fake Discord: titles in the subscriber's
language, forum tags, the "more" part in the thread, permission errors, exactly once after a
crash."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from typing import Any

import pytest

from bot.discord.publisher import Contact, DiscordPublisher
from bot.publishing import Delivery, PermanentPublishError, TransientPublishError
from bot.ratelimit import RateLimiter
from digests.compose import compose_digest
from digests.story import Lang, default_story
from tests.fakes.discord_server import (
    ANNOUNCES_CHANNEL_ID,
    GENERAL_CHANNEL_ID,
    FakeDiscord,
    add_default_guild,
)

STORY = default_story()
FORUM_ID = 1_100_000_000_000_000_051
STRICT_FORUM_ID = 1_100_000_000_000_000_052
TAG_FR, TAG_EN, TAG_MOD, TAG_OTHER = "2001", "2002", "2003", "2004"


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    fake = FakeDiscord()
    add_default_guild(fake)
    fake.add_guild(
        name="forums",
        channels=[
            {
                "id": FORUM_ID,
                "name": "actualites",
                "type": 15,
                "tags": [
                    {"id": TAG_FR, "name": "Français"},
                    {"id": TAG_EN, "name": "english"},
                    {"id": TAG_MOD, "name": "Crise chez OpenAI", "moderated": True},
                    {"id": TAG_OTHER, "name": "Sport"},
                ],
            },
            {
                "id": STRICT_FORUM_ID,
                "name": "strict",
                "type": 15,
                "require_tag": True,
                "tags": [{"id": "2010", "name": "Sport"}],
            },
        ],
    )
    await fake.start()
    yield fake
    await fake.close()


def make_publisher(fake: FakeDiscord, **kwargs: Any) -> DiscordPublisher:
    limiter = RateLimiter(global_rate=48, kinds={"channel": (1.0, 5)})
    return DiscordPublisher(token=fake.token, api_url=fake.api_url, limiter=limiter, **kwargs)


def delivery(
    channel: int, lang: Lang = "fr", *, thread: str = "none", id: int = 7, attempt: int = 1
) -> Delivery:
    day = STORY.first_day
    document = compose_digest(STORY, day, lang)
    assert document is not None and document.more is not None
    guild = "" if channel in (GENERAL_CHANNEL_ID, ANNOUNCES_CHANNEL_ID) else "x"
    return Delivery(
        id=id, subscription_id=3, platform="discord", workspace_id=guild, channel_id=str(channel),
        lang=lang, story_slug=STORY.slug, digest_date=day, document=document, attempt=attempt,
        story_date=day, thread=thread,
    )  # fmt: skip


def with_guild(fake: FakeDiscord, item: Delivery) -> Delivery:
    guild = fake.channels[int(item.channel_id)]["guild_id"]
    return dataclasses.replace(item, workspace_id=str(guild))


async def test_forum_gets_one_post_per_day_titled_and_tagged(fake: FakeDiscord) -> None:
    publisher = make_publisher(fake)
    try:
        fr = await publisher.publish(with_guild(fake, delivery(FORUM_ID, "fr")))
        en = await publisher.publish(with_guild(fake, delivery(FORUM_ID, "en", id=8)))
    finally:
        await publisher.close()
    post_fr, post_en = fake.threads(FORUM_ID)
    # Titled with the story and the date in the subscription's language (Babel).
    assert post_fr["name"] == "Crise chez OpenAI — 17 novembre 2023"
    assert post_en["name"] == "Crisis at OpenAI — November 17, 2023"
    # The language's tag; never a moderated one, nor one that names something else.
    assert post_fr["applied_tags"] == [TAG_FR] and post_en["applied_tags"] == [TAG_EN]
    # The first message opens the thread (same id); the "more" part follows inside it.
    messages = fake.messages(int(post_fr["id"]))
    assert [m["id"] for m in messages] == list(fr.message_ids) and len(messages) >= 2
    assert messages[0]["id"] == post_fr["id"]
    assert "Qui est qui" in str(messages[-1]["embeds"])
    assert len(fake.messages(int(post_en["id"]))) == len(en.message_ids)
    assert fake.messages(FORUM_ID) == []  # nothing in the forum itself
    # Learnt once: the second delivery went straight to a forum post.
    refused = [r for r in fake.requests if r.path == f"/channels/{FORUM_ID}/messages"]
    assert len(refused) == 1 and refused[0].status == 400
    posts = fake.requests_for(f"POST /channels/{FORUM_ID}/threads")
    assert all(p.json["message"]["allowed_mentions"]["parse"] == [] for p in posts)


async def test_forum_that_requires_a_tag_none_fits_pauses_with_advice(fake: FakeDiscord) -> None:
    publisher = make_publisher(
        fake, contacts=lambda sid: Contact(configured_from=str(GENERAL_CHANNEL_ID), admin_lang="fr")
    )
    item = with_guild(fake, delivery(STRICT_FORUM_ID, "fr"))
    try:
        with pytest.raises(PermanentPublishError) as caught:
            await publisher.publish(item)
        assert "requires a tag" in caught.value.reason
        await publisher.notify_admins(item, caught.value.reason)
    finally:
        await publisher.close()
    assert fake.threads(STRICT_FORUM_ID) == []
    (note,) = fake.messages(GENERAL_CHANNEL_ID)
    text = note["embeds"][0]["description"]
    assert "exige une étiquette" in text and "en pause" in text


async def test_daily_thread_started_from_the_post_holds_the_more_part(fake: FakeDiscord) -> None:
    publisher = make_publisher(fake)
    try:
        result = await publisher.publish(delivery(GENERAL_CHANNEL_ID, "en", thread="daily"))
    finally:
        await publisher.close()
    (post,) = fake.messages(GENERAL_CHANNEL_ID)  # the channel shows the post alone
    (thread,) = fake.threads(GENERAL_CHANNEL_ID)
    assert thread["id"] == post["id"] and thread["name"] == "Crisis at OpenAI — November 17, 2023"
    more = fake.messages(int(thread["id"]))
    assert more and "Who’s who" in str(more[0]["embeds"])
    assert result.message_ids == (post["id"], *(m["id"] for m in more))
    assert all(m["nonce"].startswith("dpc7.") for m in [post, *more])


async def test_no_right_to_start_threads_pauses_with_a_clear_reason(fake: FakeDiscord) -> None:
    fake.deny_threads(GENERAL_CHANNEL_ID)
    publisher = make_publisher(
        fake,
        contacts=lambda sid: Contact(configured_from=str(ANNOUNCES_CHANNEL_ID), admin_lang="en"),
    )
    item = delivery(GENERAL_CHANNEL_ID, "fr", thread="daily")
    try:
        with pytest.raises(PermanentPublishError) as caught:
            await publisher.publish(item)
        assert "cannot start threads" in caught.value.reason
        await publisher.notify_admins(item, caught.value.reason)
    finally:
        await publisher.close()
    (note,) = fake.messages(ANNOUNCES_CHANNEL_ID)
    text = note["embeds"][0]["description"]
    assert "Create Public Threads" in text and "paused" in text


async def test_daily_thread_exactly_once_across_a_crash(fake: FakeDiscord) -> None:
    """Starting the thread failed (a 5xx): the retry finds the post in the channel, starts the
    thread and posts the "more" part. Publishing again (a crash before the outcome was
    recorded) reuses the post (nonce), the thread (160004: it exists) and the "more" part."""
    fake.fail_next("POST /channels/*/messages/*/threads", 502)
    publisher = make_publisher(fake)
    try:
        with pytest.raises(TransientPublishError):
            await publisher.publish(delivery(GENERAL_CHANNEL_ID, "fr", thread="daily"))
    finally:
        await publisher.close()
    (post,) = fake.messages(GENERAL_CHANNEL_ID)
    assert fake.threads(GENERAL_CHANNEL_ID) == []
    publisher = make_publisher(fake)  # a new process
    try:
        again = delivery(GENERAL_CHANNEL_ID, "fr", thread="daily", attempt=2)
        assert await publisher.find_published(again) is None  # the "more" part is missing
        result = await publisher.publish(again)
        twice = await publisher.publish(delivery(GENERAL_CHANNEL_ID, "fr", thread="daily"))
        found = await publisher.find_published(
            delivery(GENERAL_CHANNEL_ID, "fr", thread="daily", attempt=3)
        )
    finally:
        await publisher.close()
    assert fake.messages(GENERAL_CHANNEL_ID) == [post]
    (thread,) = fake.threads(GENERAL_CHANNEL_ID)
    more = fake.messages(int(thread["id"]))
    assert result.message_ids == (post["id"], *(m["id"] for m in more)) and more
    assert twice.message_ids == result.message_ids
    starts = fake.requests_for("POST /channels/*/messages/*/threads")
    assert [r.status for r in starts] == [502, 201, 400]  # the last: 160004, it exists
    assert found is not None and found.recovered and found.message_ids == result.message_ids


async def test_forum_post_exactly_once_across_a_crash(fake: FakeDiscord) -> None:
    """The forum post was opened, then the process died before the "more" part: a new process
    finds its thread among the guild's active threads (by title, then marker) and only posts
    what is missing; no second forum post."""
    publisher = make_publisher(fake)
    item = with_guild(fake, delivery(FORUM_ID, "fr"))
    try:
        # Earlier that day the process posted the English digest there: it knows the forum.
        await publisher.publish(with_guild(fake, delivery(FORUM_ID, "en", id=6)))
        fake.fail_next("POST /channels/*/messages", 500, count=3)  # every try of the "more" part
        with pytest.raises(TransientPublishError):
            await publisher.publish(item)
    finally:
        await publisher.close()

    def french_posts() -> list[dict[str, Any]]:
        return [t for t in fake.threads(FORUM_ID) if t["name"].startswith("Crise")]

    (opened,) = french_posts()
    assert len(fake.messages(int(opened["id"]))) == 1
    publisher = make_publisher(fake)  # a new process: it knows nothing of the forum
    try:
        retry = dataclasses.replace(item, attempt=2)
        assert await publisher.find_published(retry) is None
        result = await publisher.publish(retry)
        found = await publisher.find_published(dataclasses.replace(item, attempt=3))
    finally:
        await publisher.close()
    (thread,) = french_posts()  # still one forum post
    messages = fake.messages(int(thread["id"]))
    assert [m["id"] for m in messages] == list(result.message_ids) and len(messages) >= 2
    assert found is not None and found.recovered and found.message_ids == result.message_ids
