"""How many messages one digest takes on Discord and on Slack, computed from the document the
bot posts (the post and its "more" part), so fan-out benchmarks never assume one message each."""

from __future__ import annotations

import datetime as dt

from bot.discord.publisher import DiscordPublisher
from bot.publishing import Delivery, documents_of
from bot.slack.blocks import render_document
from digests.compose import compose_digest
from digests.story import Lang, default_story


def discord_messages_per_digest(lang: Lang, day: dt.date | None = None) -> int:
    """Messages of the shipped story's day-1 digest in ``lang`` (what a replay starting today
    posts), as `DiscordPublisher.parts` splits it; ``day`` is the post's local day."""
    return len(DiscordPublisher.parts(_first_day("discord", lang, day)))


def slack_messages_per_digest(lang: Lang) -> int:
    """Messages of the day-1 digest in ``lang`` on Slack: the post, then its "more" replies."""
    delivery = _first_day("slack", lang, None)
    return sum(len(render_document(document)) for document in documents_of(delivery))


def _first_day(platform: str, lang: Lang, day: dt.date | None) -> Delivery:
    story = default_story()
    document = compose_digest(story, story.first_day, lang)
    assert document is not None
    return Delivery(
        id=1,
        subscription_id=1,
        platform=platform,
        workspace_id="1",
        channel_id="1",
        lang=lang,
        story_slug=story.slug,
        digest_date=day or story.first_day,
        document=document,
        story_date=story.first_day,
    )
