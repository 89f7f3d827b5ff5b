"""Days of the week of a subscription: one parser for every surface, and their display.

A set of days is a 7-bit mask, Monday = bit 0 (``datetime.date.weekday()``), stored as is in
``subscriptions.days``. Operators write it as text, in English or French, with day names
(``mon``, ``lundi``), ranges (``mon-fri``, wrapping too: ``fri-mon``), lists (``mon,wed,fri``)
and words (``every day``, ``weekdays``, ``weekends``; ``tous les jours``, ``semaine``, ``week-end``).

>>> parse_days("mon-fri"), parse_days("lun,mer,ven"), parse_days("every day")
(31, 21, 127)
>>> days_text(31), days_text(21), days_text(127), days_text(parse_days("fri-mon"))
('mon-fri', 'mon,wed,fri', 'every day', 'mon,fri-sun')
>>> describe_days(31, "en"), describe_days(31, "fr")
('Monday to Friday', 'du lundi au vendredi')
>>> describe_days(21, "en"), describe_days(21, "fr")
('Mon, Wed, and Fri', 'lun., mer. et ven.')
>>> parse_days("mon-fry")
Traceback (most recent call last):
  ...
digests.options.OptionError: Invalid days 'mon-fry': use day names, ranges or lists, for example mon-fri or mon,wed,fri.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from typing import Literal

from babel.dates import get_day_names
from babel.lists import format_list

from digests.i18n import Messages, babel_locale
from digests.options import OptionError, shown
from digests.story import Lang

ALL_DAYS = 0b1111111
WEEKDAYS = 0b0011111
WEEKENDS = 0b1100000
_CODES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# Names a reader may type, in both languages, without accents (see `_key`).
_NAMES: dict[str, int] = {}
for _index, _names in enumerate(
    (
        ("mon", "monday", "lun", "lundi"),
        ("tue", "tues", "tuesday", "mar", "mardi"),
        ("wed", "wednesday", "mer", "mercredi"),
        ("thu", "thur", "thurs", "thursday", "jeu", "jeudi"),
        ("fri", "friday", "ven", "vendredi"),
        ("sat", "saturday", "sam", "samedi"),
        ("sun", "sunday", "dim", "dimanche"),
    )
):
    for _name in _names:
        _NAMES[_name] = _index
_WORDS = {
    "every day": ALL_DAYS,
    "everyday": ALL_DAYS,
    "daily": ALL_DAYS,
    "all": ALL_DAYS,
    "tous les jours": ALL_DAYS,
    "chaque jour": ALL_DAYS,
    "weekdays": WEEKDAYS,
    "semaine": WEEKDAYS,
    "jours de semaine": WEEKDAYS,
    "en semaine": WEEKDAYS,
    "weekends": WEEKENDS,
    "weekend": WEEKENDS,
    "week-end": WEEKENDS,
    "week-ends": WEEKENDS,
}
_SEPARATORS = re.compile(r"\s*[,;+&]\s*|\s+(?:and|et)\s+|\s+")
# Range marks, joined into one "-" before splitting: "mon - fri", "lundi au vendredi".
_RANGE_MARK = re.compile(r"\s*[-–—]\s*|\s+(?:to|au|a|through|thru)\s+")
_LEADING = re.compile(r"^(?:du|from|le|les|on)\s+")


def _key(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.strip().lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c)).rstrip(".")


def invalid_days(value: str, lang: str = "en") -> OptionError:
    _t = Messages("fr" if lang == "fr" else "en")
    return OptionError(
        _t(
            "Invalid days %(value)s: use day names, ranges or lists, for example mon-fri or "
            "mon,wed,fri.",
            value=shown(value),
        ),
        kind="days",
        value=value,
    )


def _day(word: str) -> int | None:
    return _NAMES.get(_key(word))


def parse_days(value: str, lang: str = "en") -> int:
    """Days of the week as text -> their mask; `OptionError` (in ``lang``) otherwise."""
    text = _key(value)
    if not text:
        raise invalid_days(value, lang)
    if text in _WORDS:
        return _WORDS[text]
    text = _LEADING.sub("", _RANGE_MARK.sub("-", text))
    mask = 0
    for part in _SEPARATORS.split(text):
        if not part:
            continue
        if part in _WORDS:
            mask |= _WORDS[part]
            continue
        ends = part.split("-")
        if len(ends) == 1 and (day := _day(ends[0])) is not None:
            mask |= 1 << day
            continue
        if len(ends) != 2:
            raise invalid_days(value, lang)
        first, last = _day(ends[0]), _day(ends[1])
        if first is None or last is None:
            raise invalid_days(value, lang)
        day = first
        while True:  # a range may wrap around the week: fri-mon
            mask |= 1 << day
            if day == last:
                break
            day = (day + 1) % 7
    if not mask:
        raise invalid_days(value, lang)
    return mask


def check_mask(mask: int) -> int:
    """A stored or typed mask: 1..127; ValueError otherwise."""
    if not isinstance(mask, int) or isinstance(mask, bool) or not 0 < mask <= ALL_DAYS:
        raise ValueError(f"not a set of days of the week: {mask!r}")
    return mask


def includes(mask: int, day: dt.date) -> bool:
    return bool(mask >> day.weekday() & 1)


def _runs(mask: int) -> list[tuple[int, int]]:
    """Consecutive days of the mask, Monday first (no wrapping: reads as written)."""
    runs: list[tuple[int, int]] = []
    for day in range(7):
        if mask >> day & 1:
            if runs and runs[-1][1] == day - 1:
                runs[-1] = (runs[-1][0], day)
            else:
                runs.append((day, day))
    return runs


def days_text(mask: int) -> str:
    """The canonical text of a mask, as `parse_days` reads it back (CLI, config, logs)."""
    if mask == ALL_DAYS:
        return "every day"
    parts = []
    for first, last in _runs(mask):
        if first == last:
            parts.append(_CODES[first])
        elif last == first + 1:
            parts += [_CODES[first], _CODES[last]]
        else:
            parts.append(f"{_CODES[first]}-{_CODES[last]}")
    return ",".join(parts)


def day_name(day: int, lang: Lang, width: Literal["wide", "abbreviated"] = "wide") -> str:
    """Babel's name of weekday ``day`` (0 = Monday) in ``lang``."""
    return str(get_day_names(width, locale=babel_locale(lang))[day])


def describe_days(mask: int, lang: Lang) -> str:
    """The days for a reader, in ``lang``: 'every day', 'Monday to Friday', 'Mon, Wed, and Fri'."""
    _t = Messages(lang)
    if mask == ALL_DAYS:
        return _t("every day")
    runs = _runs(mask)
    if len(runs) == 1:
        first, last = runs[0]
        if first == last:
            return day_name(first, lang)
        if last - first >= 2:
            return _t(
                "%(first)s to %(last)s",
                first=day_name(first, lang),
                last=day_name(last, lang),
            )
    days = [day for day in range(7) if mask >> day & 1]
    names = [day_name(day, lang, "abbreviated") for day in days]
    return format_list(names, locale=babel_locale(lang))
