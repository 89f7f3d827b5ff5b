"""``/digest me``: a member's own digest by direct message (see `bot.subscriptions.personal`).

The DM channel is opened with discord.py (``POST /users/@me/channels``, the same channel every
time); the defaults are the member's Discord language and, as Discord does not tell a member's
time zone, Europe/Paris for French speakers and UTC otherwise (the reply says which, and the
``timezone`` option changes it).
"""

from __future__ import annotations

import logging
from typing import Any

import discord

from bot.admin import Actor
from bot.discord.interactions import client_of, defer, lang_of, reply_text, ui
from bot.subscriptions.personal import (
    DISCORD_WORKSPACE,
    PersonalRequest,
    PersonalSubscriptions,
    describe_personal,
    resumed_text,
)

_log = logging.getLogger(__name__)
PLATFORM = "discord"


def default_timezone(lang: str) -> str:
    return "Europe/Paris" if lang == "fr" else "UTC"


async def digest_me(
    interaction: discord.Interaction[Any],
    *,
    time: str | None,
    timezone: str | None,
    language: str | None,
    stop: bool,
    days: str | None = None,
    cadence: str | None = None,
    format: str | None = None,
) -> None:
    """Subscribe (or change, or resume), stop, or show the member's personal digest."""
    await defer(interaction, ephemeral=True)
    lang = lang_of(interaction, language)
    _ = ui(lang)
    client = client_of(interaction)
    personal = PersonalSubscriptions(client.services.admin)
    user_id = str(interaction.user.id)
    if stop:
        removed = await personal.unsubscribe(PLATFORM, DISCORD_WORKSPACE, user_id)
        text = (
            _("You will no longer get the digest by direct message.")
            if removed
            else _("You had no personal digest.")
        )
        await reply_text(interaction, _("Personal digest"), text, trusted=True)
        return
    mine = await personal.mine(PLATFORM, DISCORD_WORKSPACE, user_id)
    asked = time or timezone or language or days or cadence or format
    if mine and not asked and all(info.active for info in mine):
        text = "\n".join(describe_personal(info, lang) for info in mine)
        await reply_text(interaction, _("Personal digest"), text, trusted=True)
        return
    try:
        dm = await interaction.user.create_dm()
    except discord.HTTPException as error:
        _log.info("could not open a DM with user %s: %s", user_id, error)
        await reply_text(
            interaction,
            _("Personal digest"),
            _("I cannot open a direct message with you, so I cannot send you the digest."),
            trusted=True,
        )
        return
    info, created = await personal.subscribe(
        PersonalRequest(
            platform=PLATFORM,
            workspace_id=DISCORD_WORKSPACE,
            user_id=user_id,
            dm_channel_id=str(dm.id),
            lang=language if language in ("fr", "en") else None,
            default_lang=lang,
            post_time=time,
            timezone=timezone,
            default_timezone=default_timezone(lang),
            days=days,
            cadence=cadence,
            format=format,
        ),
        Actor(user_id=user_id, via="chat", where=str(dm.id), lang=lang),
    )
    head = _("Subscribed") if created else _("Subscription updated")
    text = describe_personal(info, lang)
    paused = next(
        (row for row in mine if not row.active and row.story_slug == info.story_slug), None
    )
    if paused is not None:
        text += "\n" + resumed_text(paused.paused_reason or "", lang)
    await reply_text(interaction, head, text, trusted=True)
