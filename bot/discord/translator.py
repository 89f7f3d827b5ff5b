"""French names and descriptions for our application commands, from the Babel catalog.

discord.py calls `Translator.translate` for every command name, description, option name,
option description and choice name when it builds the payload it syncs; we answer from the
``discord`` gettext domain (``bot/locale/fr/LC_MESSAGES/discord.po``), so translators edit one
catalog for everything the bot says on Discord. Locales other than French keep the English
names (message ids are English).

Command and option *names* are listed below with ``N_`` so that ``make i18n`` extracts them;
descriptions are marked where the commands are declared (`bot.discord.commands`).
"""

from __future__ import annotations

import re

import discord
from discord import app_commands

from digests.i18n import N_, Messages

# Names used in the command tree (commands, groups, subcommands, options), for extraction.
# A French name must be lowercase, without spaces, 1-32 characters (Discord's rule).
NAMES = (
    N_("who"),
    N_("timeline"),
    N_("faq"),
    N_("story"),
    N_("digest"),
    N_("preview"),
    N_("digest-admin"),
    N_("subscribe"),
    N_("unsubscribe"),
    N_("pause"),
    N_("resume"),
    N_("list"),
    N_("status"),
    N_("send-now"),
    N_("question"),
    N_("date"),
    N_("language"),
    N_("public"),
    N_("channel"),
    N_("time"),
    N_("timezone"),
    N_("mode"),
    N_("start"),
)

NAME_RE = re.compile(r"^[-_\w]{1,32}$")

FRENCH_LOCALES = {discord.Locale.french}


def valid_name(name: str) -> bool:
    """Discord's rule for command and option names: ``^[-_\\p{L}\\p{N}]{1,32}$``, lowercase
    (a letter with a lowercase form must be lowercase)."""
    return bool(NAME_RE.match(name)) and name == name.lower()


def french() -> Messages:
    return Messages("fr", domain="discord", package="bot")


class DepecheTranslator(app_commands.Translator):
    """French from the ``discord`` catalog; ``None`` (Discord shows the English) otherwise."""

    async def translate(
        self,
        string: app_commands.locale_str,
        locale: discord.Locale,
        context: app_commands.TranslationContextTypes,
    ) -> str | None:
        if locale not in FRENCH_LOCALES:
            return None
        text = french()(string.message)
        if text == string.message:
            return None
        location = context.location
        names = (
            app_commands.TranslationContextLocation.command_name,
            app_commands.TranslationContextLocation.group_name,
            app_commands.TranslationContextLocation.parameter_name,
        )
        if location in names and not valid_name(text):
            return None  # a bad translation must not break the sync
        if location not in names and len(text) > 100:
            return None
        return text
