"""The console's channel picker: a server's or workspace's channels, asked from the platform
with the bot's token (Discord ``GET /guilds/{id}/channels``; Slack ``conversations.list``).

Asked again when a subscription is created, so the channel a form names is checked to be one
of that workspace's channels the bot can see: the browser's list is never trusted.
"""

from __future__ import annotations

import logging
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.web.state import WebState

_log = logging.getLogger(__name__)

TIMEOUT = aiohttp.ClientTimeout(total=10)
DISCORD_TEXT_TYPES = {0, 5}  # text and announcement channels take posts
MAX_CHANNELS = 1000


class ChannelsUnavailable(Exception):
    """The platform could not list the channels (the bot is not there, or unreachable)."""


async def channels_of(state: WebState, platform: str, workspace: str) -> list[tuple[str, str]]:
    """``[(channel id, "#name")]`` of the workspace, in the platform's order."""
    if platform == "discord":
        return await _discord(state, workspace)
    if platform == "slack":
        return await _slack(state, workspace)
    raise ChannelsUnavailable(platform)


async def _discord(state: WebState, guild_id: str) -> list[tuple[str, str]]:
    token = state.context.settings.discord.token
    if token is None or not token.get_secret_value():
        raise ChannelsUnavailable("no Discord bot token")
    api = state.context.settings.discord.api_url.rstrip("/")
    headers = {"Authorization": f"Bot {token.get_secret_value()}"}
    try:
        async with (
            aiohttp.ClientSession(timeout=TIMEOUT) as client,
            client.get(f"{api}/guilds/{guild_id}/channels", headers=headers) as response,
        ):
            if response.status != 200:
                raise ChannelsUnavailable(f"Discord answered {response.status}")
            channels: list[dict[str, Any]] = await response.json(content_type=None)
    except (aiohttp.ClientError, TimeoutError, ValueError) as error:
        raise ChannelsUnavailable(type(error).__name__) from None
    texts = [c for c in channels if c.get("type") in DISCORD_TEXT_TYPES]
    texts.sort(key=lambda c: (int(c.get("position") or 0), str(c.get("id"))))
    return [(str(c["id"]), f"#{c.get('name') or c['id']}") for c in texts[:MAX_CHANNELS]]


async def _slack(state: WebState, team_id: str) -> list[tuple[str, str]]:
    from bot.web.slack_signin import access_of

    access = access_of(state)
    token = await access.bot_token(team_id)
    if token is None:
        raise ChannelsUnavailable("the bot is not installed in this workspace")
    client = AsyncWebClient(token=token, base_url=access.api_url, timeout=10)
    found: list[tuple[str, str]] = []
    cursor = ""
    try:
        while len(found) < MAX_CHANNELS:
            page = await client.conversations_list(
                types="public_channel,private_channel",
                exclude_archived=True,
                limit=200,
                cursor=cursor or None,
            )
            found += [(str(c["id"]), f"#{c.get('name') or c['id']}") for c in page["channels"]]
            cursor = str((page.get("response_metadata") or {}).get("next_cursor") or "")
            if not cursor:
                break
    except SlackApiError as error:
        raise ChannelsUnavailable(str(error.response.get("error"))) from None
    except (aiohttp.ClientError, TimeoutError, OSError) as error:
        raise ChannelsUnavailable(type(error).__name__) from None
    return found[:MAX_CHANNELS]
