"""Corrections and breaking alerts, as documents: pure, no platform, no database.

- `correction_line`: the visible line of a corrected post, saying when and what changed that
  day ("Mis à jour le 20 novembre à 14 h 05 : corrigé « … »." / "Updated November 20 at 2:05
  PM: corrected “…”."), dates and times through Babel in the reader's time zone;
- `corrected_document`: a day's digest with that line on top (the post edited in place);
- `correction_notice`: the short follow-up post of subscriptions that want a notice instead;
- `breaking_alert`: the short alert of an event published for today with ``breaking: true``.

>>> import datetime as dt
>>> from zoneinfo import ZoneInfo
>>> when = dt.datetime(2023, 11, 20, 14, 5, tzinfo=ZoneInfo("Europe/Paris"))
>>> updated_at(when, "fr")
'Mis à jour le 20 novembre à 14 h 05'
>>> updated_at(when, "en")
'Updated November 20 at 2:05 PM'
"""

from __future__ import annotations

import dataclasses
import datetime as dt

from babel.dates import format_date, format_time

from digests.documents import Document, Item, Section, Span
from digests.i18n import Messages, babel_locale
from digests.story import Event, Lang
from digests.story_diff import EventChange, StoryDiff
from digests.typography import french_spacing

HEADLINE_MAX = 120
ALERT_TEXT_MAX = 300


def day_changes(diff: StoryDiff, day: dt.date) -> tuple[EventChange, ...]:
    """The event changes that make ``day``'s digest read differently."""
    return tuple(change for change in diff.events if day in change.days)


def _typeset(text: str, lang: Lang) -> str:
    return french_spacing(text) if lang == "fr" else text


def updated_at(when: dt.datetime, lang: Lang) -> str:
    """'Mis à jour le 20 novembre à 14 h 05' / 'Updated November 20 at 2:05 PM' (``when`` in the
    reader's time zone)."""
    if when.tzinfo is None:
        raise ValueError("a correction time must be timezone-aware")
    _t = Messages(lang)
    locale = babel_locale(lang)
    if lang == "fr":
        date = format_date(when, "d MMMM", locale=locale)
        time = format_time(when, "H 'h' mm", locale=locale)
    else:
        date = format_date(when, "MMMM d", locale=locale)
        time = format_time(when, "h:mm a", locale=locale)
    return _t("Updated %(date)s at %(time)s", date=date, time=time)


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def correction_line(changes: tuple[EventChange, ...], when: dt.datetime, lang: Lang) -> str:
    """'Mis à jour le 20 novembre à 14 h 05 : ajouté « … » ; corrigé « … ».'"""
    _t = Messages(lang)
    parts = []
    for change in changes:
        event = change.after or change.before
        assert event is not None
        headline = _cut(event.headline(lang), HEADLINE_MAX)
        if change.kind == "added":
            parts.append(_t("added “%(headline)s”", headline=headline))
        elif change.kind == "removed":
            parts.append(_t("removed “%(headline)s”", headline=headline))
        else:
            parts.append(_t("corrected “%(headline)s”", headline=headline))
    line = updated_at(when, lang)
    if parts:
        separator = " ; " if lang == "fr" else "; "  # French sets a space before ";"
        line = _t("%(updated)s: %(changes)s.", updated=line, changes=separator.join(parts))
    else:
        line += "."
    return _typeset(line, lang)


def _line_section(line: str) -> Section:
    return Section(heading="", items=(Item((Span(line, "em"),)),), kind="paragraph")


def corrected_document(document: Document, line: str) -> Document:
    """``document`` (a day's digest as it now reads) with the correction line first."""
    return dataclasses.replace(document, sections=(_line_section(line), *document.sections))


def correction_notice(
    original: Document, line: str, lang: Lang, *, story_slug: str, day: dt.date
) -> Document:
    """The follow-up post of a correction: the line, and the title of the post it corrects
    (the publisher links the two: a reply on Discord, a thread reply on Slack)."""
    _t = Messages(lang)
    quoted = Item((Span(_cut(original.title, HEADLINE_MAX), "quote", original.meta.get("url")),))
    return Document(
        kind="notice",
        lang=lang,
        title=_t("Correction"),
        sections=(_line_section(line), Section(heading="", items=(quoted,), kind="quote")),
        story_slug=story_slug,
        date=day.isoformat(),
    )


def breaking_alert(event: Event, lang: Lang, *, story_slug: str, url: str = "") -> Document:
    """A short alert: the headline, one line, and the day's page when there is one."""
    _t = Messages(lang)
    sections = [
        Section(
            heading="",
            items=(Item((Span(_cut(event.text(lang), ALERT_TEXT_MAX)),)),),
            kind="paragraph",
        )
    ]
    if url:
        sections.append(
            Section(
                heading="",
                items=(Item((Span(_t("The day's digest"), url=url),)),),
                kind="paragraph",
            )
        )
    return Document(
        kind="notice",
        lang=lang,
        title=_typeset(
            _t("Breaking: %(headline)s", headline=_cut(event.headline(lang), HEADLINE_MAX)), lang
        ),
        sections=tuple(sections),
        story_slug=story_slug,
        date=event.date.first.isoformat(),
        meta={"url": url} if url else {},
    )


__all__ = [
    "breaking_alert",
    "corrected_document",
    "correction_line",
    "correction_notice",
    "day_changes",
    "updated_at",
]
