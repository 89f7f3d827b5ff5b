"""``/digest-admin updates``: the living-story settings of a channel's subscriptions
(corrections of posts already out, breaking-news alerts), through the admin service. Added to
/digest-admin by `setup` (loaded after bot.discord.commands); Manage Server only, like the
rest of /digest-admin."""

from __future__ import annotations

from typing import Any

import discord
from discord import app_commands
from discord.app_commands import Choice

from bot.discord.commands import SUBSCRIPTION_LANGUAGES, AdminGroup, ChannelOption, is_admin
from bot.discord.interactions import BadOption, client_of, reply_text, ui
from digests.i18n import N_

CORRECTIONS = [
    Choice(name=N_("edit: the post is corrected in place"), value="edit"),
    Choice(name=N_("notice: a short follow-up under the post"), value="notice"),
    Choice(name=N_("off: posts are left as they went out"), value="off"),
]
SWITCH = [Choice(name=N_("on"), value="on"), Choice(name=N_("off"), value="off")]


@app_commands.command(
    name=N_("updates"),
    description=N_("Corrections of posts already out and breaking-news alerts in a channel"),
)
@app_commands.describe(
    channel=N_("The channel"),
    corrections=N_("When the story is corrected: edit the post, post a notice, or nothing"),
    breaking=N_("Breaking-news alerts (live subscriptions only)"),
    language=N_("Only this language (default: all)"),
)
@app_commands.choices(corrections=CORRECTIONS, breaking=SWITCH, language=SUBSCRIPTION_LANGUAGES)
async def updates(
    interaction: discord.Interaction[Any],
    channel: ChannelOption,
    corrections: str | None = None,
    breaking: str | None = None,
    language: str | None = None,
) -> None:
    is_admin(interaction)
    await AdminGroup.defer(interaction)
    actor = AdminGroup.actor(interaction)
    _ = ui(actor.lang)
    changes: dict[str, Any] = {}
    if corrections is not None:
        changes["corrections"] = corrections
    if breaking is not None:
        changes["breaking"] = breaking == "on"
    if not changes:
        raise BadOption(_("Choose corrections, breaking, or both."))
    infos = await client_of(interaction).services.admin.update(
        AdminGroup.target(interaction, channel, language), actor, **changes
    )
    await reply_text(interaction, _("Updated"), AdminGroup.lines(infos, actor.lang), trusted=True)


async def setup(client: Any) -> None:
    admin = client.tree.get_command("digest-admin")
    if isinstance(admin, app_commands.Group):
        admin.add_command(updates)


__all__ = ["setup", "updates"]
