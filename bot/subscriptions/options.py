"""Days of the week, cadence and format of a subscription: checked once for every surface.

The admin service calls `check_options` before writing a subscription; chat adapters, the CLI
and the configuration file hand it text or values and show its `InvalidOption` (translated
into the user's language) as is.

Rules: ``days`` defaults to every day. A ``weekly`` roll-up is posted on one day: with every
day chosen (the default) it goes out on Monday; with several days but not all, the choice is
refused as ambiguous.
"""

from __future__ import annotations

from typing import Any

from digests.errors import DepecheError
from digests.i18n import Messages
from digests.options import OptionError
from digests.story import Lang
from digests.weekdays import ALL_DAYS, check_mask, describe_days, parse_days

DAILY, WEEKLY = "daily", "weekly"
CADENCES = (DAILY, WEEKLY)
FULL, COMPACT = "full", "compact"
FORMATS = (FULL, COMPACT)
MONDAY = 0b0000001


class InvalidOption(DepecheError):
    """A refused value of days, cadence or format; the message is translated."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _messages(lang: str) -> Messages:
    return Messages("fr" if lang == "fr" else "en", domain="bot", package="bot")


def days_option(value: Any, lang: str = "en") -> int:
    """Days from text (``mon-fri``), a list of day names (the TOML file) or a mask."""
    if isinstance(value, bool):
        value = str(value)
    if isinstance(value, int):
        try:
            return check_mask(value)
        except ValueError:
            value = str(value)
    if isinstance(value, list | tuple):
        value = ",".join(str(part) for part in value)
    try:
        return parse_days(str(value), lang)
    except OptionError as error:
        raise InvalidOption(str(error)) from None


def _choice(value: str, choices: tuple[str, ...], what: str, lang: str) -> str:
    text = str(value).strip().lower()
    if text in choices:
        return text
    _t = _messages(lang)
    if what == "cadence":
        message = _t(
            "Unknown cadence %(value)s (choose from %(choices)s).",
            value=repr(value),
            choices=", ".join(choices),
        )
    else:
        message = _t(
            "Unknown format %(value)s (choose from %(choices)s).",
            value=repr(value),
            choices=", ".join(choices),
        )
    raise InvalidOption(message)


def check_options(days: Any, cadence: str, format: str, lang: str = "en") -> tuple[int, str, str]:
    """-> (days mask, cadence, format), checked; `InvalidOption` in ``lang`` otherwise."""
    mask = days_option(days, lang)
    cadence = _choice(cadence, CADENCES, "cadence", lang)
    format = _choice(format, FORMATS, "format", lang)
    if cadence == WEEKLY:
        if mask == ALL_DAYS:
            mask = MONDAY
        elif mask & (mask - 1):  # more than one day
            _t = _messages(lang)
            raise InvalidOption(
                _t(
                    "A weekly roll-up is posted on one day (not %(days)s): choose one.",
                    days=describe_days(mask, "fr" if lang == "fr" else "en"),
                )
            )
    return mask, cadence, format


def describe_options(days: int, cadence: str, format: str, lang: Lang) -> str:
    """The options that differ from the defaults, as a reader reads them ('' for none):
    ``, Monday to Friday``, ``, weekly roll-up on Monday``, ``, compact``."""
    _t = _messages(lang)
    parts = []
    if cadence == WEEKLY:
        parts.append(_t("weekly roll-up on %(day)s", day=describe_days(days, lang)))
    elif days != ALL_DAYS:
        parts.append(describe_days(days, lang))
    if format == COMPACT:
        parts.append(_t("compact"))
    return "".join(f", {part}" for part in parts)
