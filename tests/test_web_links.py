"""Digests posted to Discord and Slack link to their day's page when DEPECHE_PUBLIC_URL is
set: the outbox worker puts the address in the document, the renderers show it."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from bot.admin import Actor, SubscriptionSpec
from bot.discord.embeds import render_document as discord_render
from bot.links import day_url
from bot.publishing import Delivery, PublishResult
from bot.slack.blocks import render_document as slack_render
from tests.web_env import Clock, make_context

NOW = dt.datetime(2026, 11, 28, 9, 0, tzinfo=dt.UTC)


class Recorder:
    def __init__(self, platform: str) -> None:
        self.platform = platform
        self.deliveries: list[Delivery] = []

    async def publish(self, delivery: Delivery) -> PublishResult:
        self.deliveries.append(delivery)
        return PublishResult((f"m{len(self.deliveries)}",))

    async def find_published(self, delivery: Delivery) -> PublishResult | None:
        return None

    async def notify_admins(self, delivery: Delivery, reason: str) -> None:
        return None


async def sent_documents(tmp_path: Path, **env: str) -> list[Delivery]:
    context = make_context(tmp_path, Clock(NOW), **env)
    recorder = Recorder("discord")
    context.publishers.register(recorder)
    try:
        info, _ = await context.admin.subscribe(
            SubscriptionSpec(
                platform="discord",
                workspace_id="1",
                channel_id="2",
                lang="both",
                post_time="08:00",
                timezone="Europe/Paris",
                mode="replay",
                start_date=NOW.date(),
            ),
            Actor(user_id="u", via="cli", lang="en"),
        )
        await context.admin.send_now(info.id, Actor(user_id="u", via="cli", lang="en"))
    finally:
        context.store.dispose()
    return recorder.deliveries


async def test_digests_link_to_their_day_page(tmp_path: Path) -> None:
    deliveries = await sent_documents(tmp_path, DEPECHE_PUBLIC_URL="https://news.example.org/")
    urls = sorted(d.document.meta["url"] for d in deliveries)
    assert urls == [
        "https://news.example.org/en/openai-crisis-2023/2023-11-17/",
        "https://news.example.org/fr/openai-crisis-2023/2023-11-17/",
    ]
    english = next(d.document for d in deliveries if d.lang == "en")
    first_embed = discord_render(english)[0][0]
    assert first_embed.url == "https://news.example.org/en/openai-crisis-2023/2023-11-17/"
    blocks = slack_render(english)[0].blocks
    assert blocks[1]["elements"][0]["text"] == (
        "<https://news.example.org/en/openai-crisis-2023/2023-11-17/|Day 1 — Friday, November 17, 2023>"
    )


async def test_no_link_without_a_public_url(tmp_path: Path) -> None:
    deliveries = await sent_documents(tmp_path)
    assert deliveries and all("url" not in d.document.meta for d in deliveries)
    document = deliveries[0].document
    assert discord_render(document)[0][0].url is None
    assert "<http" not in slack_render(document)[0].blocks[1]["elements"][0]["text"]


def test_day_url() -> None:
    assert day_url("", "s", "en", dt.date(2023, 11, 17)) is None
    assert day_url("https://x.org", "s", "fr", dt.date(2023, 11, 17)) == (
        "https://x.org/fr/s/2023-11-17/"
    )
