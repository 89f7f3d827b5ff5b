"""Locale-aware formatting of dates, lists and amounts, always through Babel.

>>> format_day(dt.date(2023, 11, 17), "fr")
'vendredi 17 novembre 2023'
>>> format_day(dt.date(2023, 11, 17), "en")
'Friday, November 17, 2023'
>>> format_names(["Sam Altman", "Greg Brockman", "Mira Murati"], "fr")
'Sam Altman, Greg Brockman et Mira Murati'
>>> format_usd(90_000_000_000, "fr")
'90 milliards de dollars'
>>> format_usd(90_000_000_000, "en")
'$90 billion'
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from babel.dates import format_date
from babel.lists import format_list
from babel.numbers import format_compact_decimal, format_decimal

from digests.i18n import Messages, babel_locale
from digests.story import Lang, StoryDate


def format_day(day: dt.date, lang: Lang) -> str:
    """Full date with weekday: the header of a digest."""
    return format_date(day, "full", locale=babel_locale(lang))


def format_long(day: dt.date, lang: Lang) -> str:
    """'17 novembre 2023' / 'November 17, 2023'."""
    return format_date(day, "long", locale=babel_locale(lang))


def format_short_day(day: dt.date, lang: Lang) -> str:
    """'17 nov.' / 'Nov 17': for compact reminders."""
    return format_date(day, "d MMM" if lang == "fr" else "MMM d", locale=babel_locale(lang))


def format_story_date(date: StoryDate, lang: Lang) -> str:
    """A story date as precisely as it is known: approximate dates say so."""
    _ = Messages(lang)
    if date.precision == "day":
        return format_long(date.first, lang)
    if date.precision == "weekend":
        return _("the weekend of %(dates)s", dates=format_day_range(date.first, date.last, lang))
    return _("around %(date)s", date=format_long(date.first, lang))


def format_day_range(first: dt.date, last: dt.date, lang: Lang) -> str:
    """'18 et 19 novembre 2023' / 'November 18–19, 2023'.

    Babel's interval formats abbreviate the month in French, which reads badly in running text,
    so the range is built from Babel's own day and month names.
    """
    locale = babel_locale(lang)
    if (first.year, first.month) != (last.year, last.month) or (last - first).days > 2:
        return f"{format_long(first, lang)} – {format_long(last, lang)}"
    if lang == "fr":
        days = format_list(
            [format_date(d, "d", locale=locale) for d in _days(first, last)], locale=locale
        )
        return f"{days} {format_date(last, 'MMMM y', locale=locale)}"
    return (
        f"{format_date(first, 'MMMM d', locale=locale)}–{format_date(last, 'd, y', locale=locale)}"
    )


def _days(first: dt.date, last: dt.date) -> list[dt.date]:
    return [first + dt.timedelta(days=n) for n in range((last - first).days + 1)]


def format_names(names: Sequence[str], lang: Lang) -> str:
    return format_list(list(names), style="standard", locale=babel_locale(lang))


def format_number(value: float, lang: Lang) -> str:
    return format_decimal(value, locale=babel_locale(lang))


def format_usd(amount: float, lang: Lang) -> str:
    """An amount in US dollars as a reader expects it: '90 milliards de dollars' / '$90 billion'.

    Babel's long compact *currency* form raises for these locales, so we join Babel's long
    compact number with the currency: French puts "de dollars" after a noun ("milliards") and
    "dollars" after a plain number; English puts the sign first.
    """
    number = format_compact_decimal(
        amount, format_type="long", locale=babel_locale(lang), fraction_digits=1
    )
    if lang == "fr":
        return f"{number} de dollars" if number[-1].isalpha() else f"{number} dollars"
    return f"${number}"
