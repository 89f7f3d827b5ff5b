"""What every Discord command shares: the asker's language, translated refusals, and replies
within Discord's 3 seconds (a watchdog defers a slow command). Used by the commands and by the
client's error handler, so neither imports the other."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from typing import TYPE_CHECKING, Any, cast

import discord
from discord import app_commands

from bot.discord.embeds import DESCRIPTION_MAX, Messages, notice, text_messages
from digests.errors import DepecheError
from digests.i18n import Messages as Catalog
from digests.options import parse_date_option
from digests.story import Lang

if TYPE_CHECKING:
    from bot.discord.client import DepecheClient

_log = logging.getLogger(__name__)

MAX_REPLY_MESSAGES = 6  # one response + follow-ups: a long story so far takes three
# Discord wants the first response within 3 s of the interaction: a command still working
# after this many seconds defers (the answer then comes as a follow-up).
DEFER_AFTER = 1.5


class NotAnAdmin(app_commands.CheckFailure):
    """The member lacks Manage Server: refused on our side too."""


class BadOption(DepecheError):
    """An option value we cannot use; the message is translated for the asker."""


def lang_of(interaction: discord.Interaction[Any], language: str | None = None) -> Lang:
    if language in ("fr", "en"):
        return language  # type: ignore[return-value]
    return "fr" if str(interaction.locale).lower().startswith("fr") else "en"


def ui(lang: str) -> Catalog:
    return Catalog(lang if lang in ("fr", "en") else "en", domain="discord", package="bot")  # type: ignore[arg-type]


def parse_day(value: str | None, lang: str) -> dt.date | None:
    """A date option, parsed whole by the core parser (the same as Slack's): trailing text is
    an error showing the expected form, never cut off."""
    if value is None or not value.strip():
        return None
    return parse_date_option(value, lang)  # OptionError: shown by the error handler


def client_of(interaction: discord.Interaction[Any]) -> DepecheClient:
    return cast("DepecheClient", interaction.client)


# --------------------------------------------------------------------------- replies


def _lock(interaction: discord.Interaction[Any]) -> asyncio.Lock:
    """Serialises the initial response between the command and its watchdog."""
    lock = interaction.extras.get("depeche_lock")
    if lock is None:
        lock = interaction.extras["depeche_lock"] = asyncio.Lock()
    return lock


def watch(interaction: discord.Interaction[Any], *, ephemeral: bool = True) -> None:
    """Defer ``interaction`` if it is still unanswered after `DEFER_AFTER` seconds (a slow
    database, a loaded host), so Discord's 3 seconds always hold. `reply` stops the watch."""

    async def watchdog() -> None:
        await asyncio.sleep(DEFER_AFTER)
        async with _lock(interaction):
            if interaction.response.is_done():
                return
            try:
                await interaction.response.defer(ephemeral=ephemeral, thinking=True)
                _log.info("deferred a slow /%s", _command_name(interaction))
            except discord.HTTPException as error:
                _log.warning("could not defer /%s: %s", _command_name(interaction), error)

    stop_watch(interaction)
    interaction.extras["depeche_watchdog"] = asyncio.create_task(watchdog())


def stop_watch(interaction: discord.Interaction[Any]) -> None:
    task = interaction.extras.pop("depeche_watchdog", None)
    if task is not None and not task.done():
        task.cancel()


def _command_name(interaction: discord.Interaction[Any]) -> str:
    command = interaction.command
    return command.qualified_name if command is not None else "?"


async def defer(interaction: discord.Interaction[Any], *, ephemeral: bool = True) -> None:
    """Defer now (``thinking``), unless already answered or deferred."""
    async with _lock(interaction):
        stop_watch(interaction)
        if not interaction.response.is_done():
            await interaction.response.defer(ephemeral=ephemeral, thinking=True)


async def reply(
    interaction: discord.Interaction[Any], messages: Messages, *, ephemeral: bool = True
) -> None:
    """Send ``messages`` in order: the response (or the follow-up after a deferral), then
    follow-ups. Nothing we send can mention anyone (``allowed_mentions`` none everywhere)."""
    none = discord.AllowedMentions.none()
    messages = [embeds for embeds in messages if embeds][:MAX_REPLY_MESSAGES]
    if not messages:
        messages = [notice("—")]
    for index, embeds in enumerate(messages):
        if index == 0:
            async with _lock(interaction):
                stop_watch(interaction)
                if not interaction.response.is_done():
                    await interaction.response.send_message(
                        embeds=embeds, ephemeral=ephemeral, allowed_mentions=none
                    )
                    continue
        await interaction.followup.send(embeds=embeds, ephemeral=ephemeral, allowed_mentions=none)


async def reply_text(
    interaction: discord.Interaction[Any], title: str, text: str = "", *, trusted: bool = False
) -> None:
    """A short ephemeral notice (title + text), split if the text is long."""
    if len(text) <= DESCRIPTION_MAX - 100:
        await reply(interaction, [notice(title, text, trusted=trusted)])
        return
    pieces = text_messages(text, limit=DESCRIPTION_MAX - 100)
    await reply(
        interaction,
        [notice(title if i == 0 else "", piece, trusted=True) for i, piece in enumerate(pieces)],
    )
