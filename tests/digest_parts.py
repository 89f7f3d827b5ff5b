"""How many messages a digest takes on each platform, from the document the bot posts (the post
and its "more" part): end-to-end tests compare what the fakes received with this, never with a
hard-coded one message per digest."""

from __future__ import annotations

import datetime as dt

from bot.discord.publisher import DiscordPublisher
from bot.publishing import Delivery, documents_of
from bot.slack.blocks import render_document
from digests.compose import compose_digest
from digests.story import Lang, default_story


def first_day_delivery(platform: str, lang: Lang, day: dt.date | None = None) -> Delivery:
    """The delivery of the shipped story's first day (what a replay starting today posts), or
    of story day ``day``."""
    story = default_story()
    day = day or story.first_day
    document = compose_digest(story, day, lang)
    assert document is not None
    return Delivery(
        id=1, subscription_id=1, platform=platform, workspace_id="1", channel_id="1", lang=lang,
        story_slug=story.slug, digest_date=dt.date.today(), document=document,
        story_date=day,
    )  # fmt: skip


def discord_messages(lang: Lang, day: dt.date | None = None) -> int:
    """Messages of the first day's digest (or story day ``day``'s) on Discord: the post, then
    its "more" follow-ups."""
    return len(DiscordPublisher.parts(first_day_delivery("discord", lang, day)))


def slack_messages(lang: str) -> int:
    """Messages of the first day's digest on Slack: the post, then its "more" thread replies
    (``both``: the French digest and the English one)."""
    langs: tuple[Lang, ...] = ("fr", "en") if lang == "both" else ("fr" if lang == "fr" else "en",)
    return sum(
        len(render_document(document))
        for one in langs
        for document in documents_of(first_day_delivery("slack", one))
    )


def slack_posts(lang: Lang) -> int:
    """Of `slack_messages`, those in the channel itself (the rest are replies in its thread)."""
    return len(render_document(first_day_delivery("slack", lang).document))
