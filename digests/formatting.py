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
    """'17 nov.' / 'Nov. 17': for compact mentions. An abbreviated English month takes a
    period, as in body copy ("Nov. 17"); a month Babel does not shorten keeps none ("May 5").

    >>> format_short_day(dt.date(2023, 11, 17), "fr"), format_short_day(dt.date(2023, 11, 17), "en")
    ('17 nov.', 'Nov. 17')
    >>> format_short_day(dt.date(2024, 5, 5), "en")
    'May 5'
    """
    return f"{_short_month(day, lang)} {day.day}" if lang == "en" else _fr_short(day)


def _fr_short(day: dt.date) -> str:
    return format_date(day, "d MMM", locale=babel_locale("fr"))


def _short_month(day: dt.date, lang: Lang) -> str:
    locale = babel_locale(lang)
    short = format_date(day, "MMM", locale=locale)
    wide = format_date(day, "MMMM", locale=locale)
    return short if short == wide or short.endswith(".") else short + "."


def format_compact_date(date: StoryDate, lang: Lang) -> str:
    """A story date in a few characters, for a mark beside an item.

    >>> around = StoryDate.model_validate({"from": "2023-11-20", "to": "2023-11-21",
    ...                                    "precision": "approximate"})
    >>> format_compact_date(around, "fr"), format_compact_date(around, "en")
    ('vers le 20 nov.', 'around Nov. 20')
    >>> weekend = StoryDate.model_validate({"from": "2023-11-18", "to": "2023-11-19",
    ...                                     "precision": "weekend"})
    >>> format_compact_date(weekend, "fr"), format_compact_date(weekend, "en")
    ('le week-end des 18 et 19 nov.', 'the weekend of Nov. 18–19')
    """
    _t = Messages(lang)
    if date.precision == "day":
        return format_short_day(date.first, lang)
    if date.precision == "weekend":
        first, last = date.first, date.last
        if lang == "fr":
            days = format_list([str(d.day) for d in _days(first, last)], locale=babel_locale(lang))
            dates = f"{days} {format_date(last, 'MMM', locale=babel_locale(lang))}"
        else:
            dates = f"{format_short_day(first, lang)}–{last.day}"
        return _t("the weekend of %(dates)s", dates=dates)
    return _t("around %(date)s", date=format_short_day(date.first, lang))


def format_story_date(date: StoryDate, lang: Lang) -> str:
    """A story date as precisely as it is known: approximate dates say so."""
    _t = Messages(lang)
    if date.precision == "day":
        return format_long(date.first, lang)
    if date.precision == "weekend":
        return _t("the weekend of %(dates)s", dates=format_day_range(date.first, date.last, lang))
    return _t("around %(date)s", date=format_long(date.first, lang))


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
