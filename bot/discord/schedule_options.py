"""Discord options of a subscription's days, cadence and format: choices and autocomplete.

The values go to the admin service as typed (it checks them, for chat, the CLI and the file
alike); the autocomplete only offers well-formed ones, named in the member's language.
"""

from __future__ import annotations

from typing import Any

import discord
from discord.app_commands import Choice

from bot.discord.interactions import lang_of
from digests.i18n import N_
from digests.options import OptionError
from digests.weekdays import ALL_DAYS, WEEKDAYS, WEEKENDS, days_text, describe_days, parse_days

CADENCES = [
    Choice(name=N_("daily: the day's digest"), value="daily"),
    Choice(name=N_("weekly: a roll-up of the past seven days, on one day"), value="weekly"),
]
FORMATS = [
    Choice(name=N_("full: the day's digest"), value="full"),
    Choice(name=N_("compact: headlines, one line each, and a link"), value="compact"),
]
_PRESETS = (ALL_DAYS, WEEKDAYS, WEEKENDS, *(1 << day for day in range(7)))
CHOICE_NAME_MAX = 100


async def days_choices(interaction: discord.Interaction[Any], current: str) -> list[Choice[str]]:
    """What the member typed, read back in words when it parses; then the usual sets."""
    lang = lang_of(interaction)
    out: list[Choice[str]] = []
    if current.strip():
        try:
            mask = parse_days(current[:100], lang)
        except OptionError:
            mask = None
        if mask is not None:
            name = describe_days(mask, lang)[:CHOICE_NAME_MAX]
            out.append(Choice(name=name, value=days_text(mask)))
    for mask in _PRESETS:
        value = days_text(mask)
        if all(choice.value != value for choice in out):
            out.append(Choice(name=describe_days(mask, lang)[:CHOICE_NAME_MAX], value=value))
    return out[:25]
