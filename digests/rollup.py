"""Shorter posts composed from the same story: the week's roll-up and the compact digest.

- `compose_week`: the seven story days ending on a day, one section per day with news (its
  headlines), for subscriptions whose cadence is ``weekly``.
- `compose_compact`: a day's news as headlines with one line each, and a link to the day's page
  (or a pointer to ``/digest``), for subscriptions whose format is ``compact``.

Both are pure (Story + date + language -> Document) and read in a few seconds: no "more" part.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence

from babel.dates import format_date

from digests.compose import _finish, _sources_line, group_statements
from digests.documents import Document, Item, Section, Span
from digests.formatting import format_day
from digests.i18n import Messages, babel_locale
from digests.story import Event, Lang, Story

WEEK_DAYS = 7
# A compact item's line: the first sentence of the text, cut at a word past this many characters.
LINE_MAX = 160
_SENTENCE_END = re.compile(r"(?<=[.!?…])[\s\u00a0]+(?=[A-ZÀ-Ý«“\"])")
# Words ending in a period that do not end a sentence ("Nov. 17", "M. Altman").
_ABBREVIATION = re.compile(
    r"(?:\b[A-Z]|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept?|Oct|Nov|Dec|Mr|Mrs|Ms|Dr|St|"
    r"janv|févr|avr|juil|sept|oct|nov|déc|Mme|Mlle|Dr)\.$"
)


def week_of(day: dt.date) -> tuple[dt.date, dt.date]:
    """The seven days a weekly roll-up posted for story day ``day`` covers."""
    return day - dt.timedelta(days=WEEK_DAYS - 1), day


def format_week_span(first: dt.date, last: dt.date, lang: Lang) -> str:
    """Two dates of a week as running text, months in full (Babel's names).

    >>> format_week_span(dt.date(2023, 11, 14), dt.date(2023, 11, 20), "en")
    'November 14–20, 2023'
    >>> format_week_span(dt.date(2023, 11, 14), dt.date(2023, 11, 20), "fr")
    'du 14 au 20 novembre 2023'
    >>> format_week_span(dt.date(2023, 11, 28), dt.date(2023, 12, 4), "fr")
    'du 28 novembre au 4 décembre 2023'
    >>> format_week_span(dt.date(2023, 12, 28), dt.date(2024, 1, 3), "en")
    'December 28, 2023 – January 3, 2024'
    """
    locale = babel_locale(lang)
    if lang == "fr":
        start = "d" if first.month == last.month else "d MMMM"
        if first.year != last.year:
            start = "d MMMM y"
        first_text = format_date(first, start, locale=locale)
        if first.day == 1:
            first_text = "1er" + first_text[1:]
        return f"du {first_text} au {format_date(last, 'd MMMM y', locale=locale)}"
    if first.year != last.year:
        return (
            f"{format_date(first, 'MMMM d, y', locale=locale)} – "
            f"{format_date(last, 'MMMM d, y', locale=locale)}"
        )
    if first.month != last.month:
        return (
            f"{format_date(first, 'MMMM d', locale=locale)} – "
            f"{format_date(last, 'MMMM d, y', locale=locale)}"
        )
    return (
        f"{format_date(first, 'MMMM d', locale=locale)}–{format_date(last, 'd, y', locale=locale)}"
    )


def compose_week(story: Story, day: dt.date, lang: Lang) -> Document | None:
    """The roll-up of the seven story days ending on ``day``: ``None`` when none has news."""
    first, last = week_of(day)
    days = [d for d in story.days if first <= d <= last]
    if not days:
        return None
    _t = Messages(lang)
    events: list[Event] = []
    sections = []
    for story_day in days:
        day_events = story.events_on(story_day)
        events.extend(day_events)
        headlines = tuple(
            Item((Span(group[0].headline(lang)),)) for group in group_statements(day_events)
        )
        heading = _t(
            "Day %(n)s — %(date)s", n=story.day_number(story_day), date=format_day(story_day, lang)
        )
        sections.append(Section(heading, headlines))
    recap = story.recap_of(days[-1])
    lead: list[Section] = []
    if len(days) > 1 and story.meta.summary is not None and days[-1] >= story.last_day:
        lead = [Section("", (Item((Span(story.meta.summary(lang)),)),), kind="paragraph")]
    elif recap is not None:
        lead = [
            Section(
                "",
                (Item((Span(_t("Latest: %(recap)s", recap=recap(lang))),)),),
                kind="paragraph",
            )
        ]
    return _finish(
        Document(
            kind="weekly",
            lang=lang,
            title=story.meta.title(lang),
            subtitle=_t("The week of %(dates)s", dates=format_week_span(first, last, lang)),
            sections=(*lead, *sections),
            footer=_sources_line(story, events, lang),
            story_slug=story.slug,
            date=day.isoformat(),
            meta={"days": [d.isoformat() for d in days], "event_ids": [e.id for e in events]},
        )
    )


def one_line(text: str, limit: int = LINE_MAX) -> str:
    """The first sentence of ``text``, cut at a word boundary past ``limit`` characters.

    >>> one_line("First one. Second one.")
    'First one.'
    >>> one_line("It said on Friday, Nov. 17, that it had. Then more.")
    'It said on Friday, Nov. 17, that it had.'
    >>> one_line("word " * 50, 20)
    'word word word word…'
    """
    text = text.strip()
    sentence = text
    for match in _SENTENCE_END.finditer(text):
        if not _ABBREVIATION.search(text[: match.start()]):
            sentence = text[: match.start()]
            break
    if len(sentence) <= limit:
        return sentence
    cut = sentence[:limit].rsplit(" ", 1)[0].rstrip(",;:—–«“ \u00a0\u202f")
    return cut + "…"


def compose_compact(
    story: Story, day: dt.date, lang: Lang, *, url: str | None = None
) -> Document | None:
    """The day's news as headlines with one line each, and where to read more: the day's page
    at ``url`` when the bot has a public address, else the ``/digest`` command."""
    events = story.events_on(day)
    if not events:
        return None
    _t = Messages(lang)
    items = tuple(_compact_item(group, lang) for group in group_statements(events))
    more = (
        Item((Span(_t("Read the full digest"), url=url),))
        if url
        else Item((Span(_t("The full digest: /digest preview")),))
    )
    number = story.day_number(day)
    return _finish(
        Document(
            kind="compact",
            lang=lang,
            title=story.meta.title(lang),
            subtitle=_t("Day %(n)s — %(date)s", date=format_day(day, lang), n=number),
            sections=(Section("", items), Section("", (more,), kind="paragraph")),
            footer=_sources_line(story, events, lang),
            story_slug=story.slug,
            date=day.isoformat(),
            meta={"day_number": number, "event_ids": [event.id for event in events]},
        )
    )


def _compact_item(group: Sequence[Event], lang: Lang) -> Item:
    first = group[0]
    return Item((Span(first.headline(lang), "strong"), Span(" — " + one_line(first.text(lang)))))


def compose_post(
    story: Story,
    day: dt.date,
    lang: Lang,
    *,
    cadence: str = "daily",
    format: str = "full",
    url: str | None = None,
) -> Document | None:
    """What a subscription posts for story day ``day``: the week's roll-up (cadence
    ``weekly``, whatever the format), the compact digest, or the full one (``None``: no news)."""
    from digests.compose import compose_digest

    if cadence == "weekly":
        return compose_week(story, day, lang)
    if format == "compact":
        return compose_compact(story, day, lang, url=url)
    return compose_digest(story, day, lang)
