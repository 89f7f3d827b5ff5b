"""The day's timeline picture with the daily digests: on Discord an attachment (multipart,
``attachment://timeline.png`` as the first embed's image), sent again with the same nonce when a
5xx interrupts; on Slack an image block from the public day page when DEPECHE_PUBLIC_URL is set
(no upload otherwise: docs/slack.md). Compact and weekly posts carry none."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator

import pytest

from bot.discord.publisher import DiscordPublisher
from bot.ratelimit import RateLimiter
from bot.slack.blocks import render_document as slack_render
from bot.slack.clients import SlackClients
from bot.slack.publisher import SlackPublisher
from bot.web.picture import picture_source
from digests.rollup import compose_post
from digests.story import StoryLibrary, default_story
from tests.fakes.discord_server import GENERAL_CHANNEL_ID, FakeDiscord, add_default_guild
from tests.fakes.slack_server import DEFAULT_BOT_TOKEN, FakeSlack
from tests.test_discord_publisher import delivery as discord_delivery
from tests.test_slack_publisher import VirtualTime
from tests.test_slack_publisher import delivery as slack_delivery

STORY = default_story()
PICTURES = picture_source(StoryLibrary([STORY]))
PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    fake = FakeDiscord()
    add_default_guild(fake)
    await fake.start()
    yield fake
    await fake.close()


def publisher(fake: FakeDiscord) -> DiscordPublisher:
    limiter = RateLimiter(global_rate=48, kinds={"channel": (1.0, 5)})
    return DiscordPublisher(
        token=fake.token, api_url=fake.api_url, limiter=limiter, pictures=PICTURES
    )


def posts(fake: FakeDiscord) -> list:  # type: ignore[type-arg]
    return [r for r in fake.requests if r.method == "POST" and r.path.endswith("/messages")]


async def test_discord_daily_digest_carries_the_picture_as_an_attachment(fake) -> None:
    pub = publisher(fake)
    fake.fail_next("POST /channels/*/messages", 502)  # a passing 5xx: the form is sent again
    try:
        await pub.publish(discord_delivery(GENERAL_CHANNEL_ID))
    finally:
        await pub.close()
    first, *rest = fake.messages(GENERAL_CHANNEL_ID)
    assert [a["filename"] for a in first["attachments"]] == ["timeline.png"]
    assert first["embeds"][0]["image"] == {"url": "attachment://timeline.png"}
    assert all(not m["attachments"] and "image" not in m["embeds"][0] for m in rest)
    sent = [r for r in posts(fake) if r.files]
    assert len(sent) == 2 and sent[0].json["nonce"] == sent[1].json["nonce"]  # 502, then 200
    [picture] = sent[1].files
    assert picture["content"].startswith(PNG) and picture["content_type"] == "image/png"
    assert picture["content"] == PICTURES(STORY.slug, STORY.first_day, "fr")
    assert sent[1].json["allowed_mentions"]["parse"] == []


async def test_discord_compact_posts_and_unknown_stories_carry_none(fake) -> None:
    compact = compose_post(STORY, STORY.first_day, "fr", cadence="daily", format="compact")
    assert compact is not None and compact.kind != "digest"
    pub = publisher(fake)
    try:
        await pub.publish(discord_delivery(GENERAL_CHANNEL_ID, document=compact))
        unknown = dataclasses.replace(discord_delivery(GENERAL_CHANNEL_ID, id=8), story_slug="x")
        await pub.publish(unknown)  # no picture for it: the digest goes out all the same
    finally:
        await pub.close()
    assert not [r for r in posts(fake) if r.files]
    assert len(fake.messages(GENERAL_CHANNEL_ID)) >= 2


async def test_slack_image_block_only_with_a_public_day_page() -> None:
    plain = slack_delivery()
    linked = dataclasses.replace(
        plain,
        id=8,
        document=dataclasses.replace(
            plain.document,
            meta={**plain.document.meta, "url": "https://news.example.org/fr/s/2023-11-17/"},
        ),
    )
    assert not [b for m in slack_render(plain.document) for b in m.blocks if b["type"] == "image"]
    [image] = [b for b in slack_render(linked.document)[0].blocks if b["type"] == "image"]
    assert image["image_url"] == "https://news.example.org/fr/s/2023-11-17/timeline.png"
    assert image["alt_text"].startswith("Crise chez OpenAI — Jour 1")
    async with FakeSlack(channel_rate=None) as slack:  # Slack accepts the block
        clients = SlackClients(DEFAULT_BOT_TOKEN, api_url=slack.api_url)
        time = VirtualTime()
        limiter = RateLimiter(
            kinds={"workspace": (100.0, 1), "channel": (1.0, 1)}, clock=time.clock, sleep=time.sleep
        )
        try:
            await SlackPublisher(clients, limiter=limiter).publish(linked)
        finally:
            await clients.close()
        [post, *_] = slack.messages("C0NEWS")
        assert post.blocks and post.blocks[2]["type"] == "image"
