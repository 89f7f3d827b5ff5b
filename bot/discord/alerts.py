"""``/digest-admin alert``: mention a role when the day's digest involves a person or an
organisation of the story (the subject autocompleted from the channel's story). Through the
alert service (`bot.alerts`), like the CLI and the configuration file."""

from __future__ import annotations

from typing import Any

import discord
from discord import app_commands
from discord.app_commands import Choice

from bot.admin import Actor, Target, describe
from bot.alerts import AlertAdmin
from bot.discord.commands import PostableChannel, is_admin, story_context
from bot.discord.embeds import safe
from bot.discord.interactions import client_of, defer, lang_of, reply_text, ui
from digests.alerts import choices
from digests.i18n import N_
from digests.story import Lang

PLATFORM = "discord"
ChannelOption = app_commands.Transform[app_commands.AppCommandChannel, PostableChannel]


async def subject_choices(interaction: discord.Interaction[Any], current: str) -> list[Choice[str]]:
    """People and organisations of the channel's story (else the default story)."""
    story, _subscription, _day = await story_context(interaction, None)
    lang = lang_of(interaction)
    return [
        Choice(name=name[:100], value=subject) for name, subject in choices(story, current, lang)
    ]


@app_commands.command(
    name=N_("alert"),
    description=N_("Mention a role when the day's digest involves a person or organisation"),
)
@app_commands.describe(
    channel=N_("The subscribed channel"),
    who=N_("A person or organisation of the story"),
    role=N_("The role to mention (members opt in by taking it)"),
    remove=N_("Remove this alert instead"),
)
@app_commands.autocomplete(who=subject_choices)
async def alert(
    interaction: discord.Interaction[Any],
    channel: ChannelOption,
    who: app_commands.Range[str, 1, 100],
    role: discord.Role,
    remove: bool = False,
) -> None:
    is_admin(interaction)
    await defer(interaction)
    client = client_of(interaction)
    lang = lang_of(interaction)
    actor = _actor(interaction, lang)
    service = AlertAdmin(client.services.admin)
    target = Target(PLATFORM, str(interaction.guild_id), str(channel.id))
    if remove:
        infos = await service.remove(target, str(who), str(role.id), actor)
    else:
        infos = await service.add(target, str(who), str(role.id), actor)
    _ = ui(lang)
    lines = "\n".join(f"<#{info.channel_id}> — {safe(describe(info, lang))}" for info in infos)
    await reply_text(interaction, _("Alerts"), lines, trusted=True)


def _actor(interaction: discord.Interaction[Any], lang: Lang) -> Actor:
    return Actor(
        user_id=str(interaction.user.id),
        via="chat",
        where=str(interaction.channel_id) if interaction.channel_id else None,
        lang=lang,
    )


async def setup(client: Any) -> None:
    """Add ``alert`` to /digest-admin (loaded after bot.discord.commands)."""
    admin = client.tree.get_command("digest-admin")
    if isinstance(admin, app_commands.Group):
        admin.add_command(alert)


__all__ = ["alert", "setup"]
