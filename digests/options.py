"""The one parser for the date and time options of every surface (Discord, Slack, CLI).

An option is parsed whole: anything after the date or time (``2023-11-17garbage``) is an
error that shows the expected form, never silently cut off. Both chat platforms call these
functions, so the same text is accepted or refused the same way everywhere.

>>> parse_date_option(" 2023-11-17 ")
datetime.date(2023, 11, 17)
>>> parse_time_option("7h30"), parse_time_option("7pm"), parse_time_option("08:00")
('07:30', '19:00', '08:00')
>>> parse_date_option("2023-11-17garbage")
Traceback (most recent call last):
  ...
digests.options.OptionError: Invalid date '2023-11-17garbage': use YYYY-MM-DD, for example 2023-11-17.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Literal

from digests.errors import DepecheError
from digests.i18n import Messages

_DATE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})", re.ASCII)
_TIME_24 = re.compile(r"([01]?\d|2[0-3])(?:[:hH.]([0-5]\d)?)?", re.ASCII)
_TIME_12 = re.compile(r"(1[0-2]|0?[1-9])(?::([0-5]\d))?\s*([ap])\.?m\.?", re.IGNORECASE | re.ASCII)
_DATE_SHAPED = re.compile(r"\d{4}-", re.ASCII)
_TIME_SHAPED = re.compile(r"\d{1,2}(?:[:hH.]\d*)?(?:\s*[ap]\.?m\.?)?", re.IGNORECASE | re.ASCII)
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")

SHOWN_MAX = 40


class OptionError(DepecheError):
    """A command option that cannot be used; the message (already translated) shows the
    expected form."""

    def __init__(
        self, message: str, *, kind: Literal["date", "time", "days", "choice"], value: str
    ) -> None:
        super().__init__(message)
        self.kind = kind
        self.value = value


def shown(value: str, limit: int = SHOWN_MAX) -> str:
    """``value`` quoted for an error message: control characters escaped, long values cut."""
    text = value if len(value) <= limit else value[: limit - 1] + "…"
    return repr(_CONTROL.sub(lambda match: f"\\x{ord(match.group()):02x}", text))


def _lang(lang: str) -> Literal["fr", "en"]:
    return "fr" if lang == "fr" else "en"


def invalid_date(value: str, lang: str = "en") -> OptionError:
    _t = Messages(_lang(lang))
    return OptionError(
        _t("Invalid date %(value)s: use YYYY-MM-DD, for example 2023-11-17.", value=shown(value)),
        kind="date",
        value=value,
    )


def invalid_time(value: str, lang: str = "en") -> OptionError:
    _t = Messages(_lang(lang))
    return OptionError(
        _t(
            "Invalid time %(value)s: use HH:MM, 24-hour clock (for example 08:00).",
            value=shown(value),
        ),
        kind="time",
        value=value,
    )


def parse_date_option(value: str, lang: str = "en") -> dt.date:
    """``YYYY-MM-DD`` (surrounding spaces ignored) -> a date; `OptionError` otherwise."""
    match = _DATE.fullmatch(value.strip())
    if match is None:
        raise invalid_date(value, lang)
    try:
        return dt.date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        raise invalid_date(value, lang) from None


def parse_time_option(value: str, lang: str = "en") -> str:
    """A local time of day -> ``HH:MM``; `OptionError` otherwise.

    Accepted: ``08:00``, ``8:05``, ``8``, ``8h``, ``7h30``, ``7.30``, ``7pm``, ``7:15 am``."""
    text = value.strip()
    match = _TIME_24.fullmatch(text)
    if match is not None:
        return f"{int(match[1]):02d}:{int(match[2] or 0):02d}"
    match = _TIME_12.fullmatch(text)
    if match is not None:
        hour = int(match[1]) % 12 + (12 if match[3].lower() == "p" else 0)
        return f"{hour:02d}:{int(match[2] or 0):02d}"
    raise invalid_time(value, lang)


def looks_like_date(word: str) -> bool:
    """Whether a word of free text (a Slack command) is meant as a date: ``2023-...``."""
    return _DATE_SHAPED.match(word) is not None


def looks_like_time(word: str) -> bool:
    """Whether a word of free text is meant as a time of day (``8``, ``7h30``, ``25:00``...)."""
    return _TIME_SHAPED.fullmatch(word) is not None
