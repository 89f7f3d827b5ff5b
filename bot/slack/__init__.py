"""Dépêche on Slack: slash commands, the subscribe modal, Block Kit digests, a publisher.

`depeche run` calls `start` when ``SLACK_BOT_TOKEN`` is set (see `bot.platforms`)::

    await start(context)  # registers the publisher, then serves Socket Mode or HTTP until cancelled
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.platforms import PlatformContext
    from bot.slack.app import SlackBot

_log = logging.getLogger(__name__)


def setup(context: PlatformContext) -> SlackBot:
    """Build the Slack bot and plug it into the engine (publisher, channel validator)."""
    from bot.slack.app import SlackBot

    bot = SlackBot(
        settings=context.settings.slack,
        admin=context.admin,
        library=context.library,
        store=context.store,
        limits=context.settings.ratelimit,
        editing=context.editing,
    )
    context.publishers.register(bot.publisher)
    context.admin.register_channel_validator("slack", bot.validate_channel)
    context.admin.register_channel_tenants("slack", bot.channel_tenants)
    return bot


async def start(context: PlatformContext) -> None:
    """Serve Slack until cancelled: Socket Mode by default, HTTP with ``--slack-mode http``."""
    bot = setup(context)
    options = context.options
    mode = getattr(options, "slack_mode", None) or context.settings.slack.mode
    port = getattr(options, "port", None)
    port = context.settings.slack.port if port is None else port
    host = getattr(options, "host", None) or "0.0.0.0"
    _log.info("Slack: starting in %s mode", "HTTP" if mode == "http" else "Socket")
    await bot.serve(mode, port=port, host=host)


__all__ = ["setup", "start"]
