"""Story + date + language -> the digest document of that day (or of the story so far)."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import replace

from digests.documents import Document, Item, Section, Span
from digests.formatting import (
    format_day,
    format_long,
    format_names,
    format_short_day,
    format_story_date,
    format_usd,
)
from digests.i18n import Messages
from digests.story import ContextFact, Event, Lang, Person, Role, Source, Story, StoryDate
from digests.typography import french_spacing

# How many earlier days the one-line "previously" reminder mentions.
PREVIOUSLY_DAYS = 3


def compose_digest(story: Story, day: dt.date, lang: Lang) -> Document | None:
    """The post for ``day``: ``None`` when the story has no event that day (callers decide
    whether to say "no new developments")."""
    events = story.events_on(day)
    if not events:
        return None
    _ = Messages(lang)
    sections = [
        Section(_("Today"), tuple(_event_item(story, event, lang) for event in events)),
        Section(_("Who's who"), tuple(_who_items(story, events, day, lang))),
    ]
    analysis = [
        fact for fact in story.context if fact.as_of is not None and fact.as_of.first == day
    ]
    if analysis:
        sections.append(
            Section(_("Analysis"), tuple(_context_item(fact, lang) for fact in analysis))
        )
    previously = _previously_item(story, day, lang)
    if previously is not None:
        sections.append(Section(_("Previously"), (previously,), kind="paragraph"))
    return _finish(
        Document(
            kind="digest",
            lang=lang,
            title=story.meta.title(lang),
            subtitle=_("Day %(n)s — %(date)s", date=format_day(day, lang), n=story.day_number(day)),
            sections=tuple(section for section in sections if section.items),
            footer=_sources_line(story, events, lang),
            story_slug=story.slug,
            date=day.isoformat(),
            meta={"day_number": story.day_number(day), "event_ids": [event.id for event in events]},
        )
    )


def compose_story_so_far(story: Story, day: dt.date, lang: Lang) -> Document:
    """Everything known up to and including ``day``, for newcomers and late subscribers.

    Nothing from later days leaks in: the story's summary and notes (written from its end) and
    its scenarios only appear once the story has reached its last day, and background analysis
    only from the day the source makes it.
    """
    _ = Messages(lang)
    events = story.events_until(day)
    sections: list[Section] = []
    if day >= story.last_day:
        sections.append(
            Section(_("In short"), (Item((Span(story.meta.summary(lang)),)),), kind="paragraph")
        )
    if events:
        background = [fact for fact in story.context if fact.known_on(day)]
        if background:
            sections.append(
                Section(_("Background"), tuple(_context_item(fact, lang) for fact in background))
            )
        sections.append(
            Section(
                _("Timeline"),
                tuple(_event_item(story, event, lang, dated=True) for event in events),
            )
        )
        people = _people_in(story, events)
        sections.append(
            Section(
                _("Who's who"), tuple(_person_item(story, person, day, lang) for person in people)
            )
        )
    else:
        start = _("The story starts on %(date)s.", date=format_long(story.first_day, lang))
        sections.append(Section(_("Timeline"), (Item((Span(start),)),), kind="paragraph"))
    if story.scenarios and day >= story.last_day:
        sections.append(
            Section(
                _("What could happen next"),
                tuple(
                    Item((Span(scenario.title(lang), "strong"), Span(" — " + scenario.text(lang))))
                    for scenario in story.scenarios
                ),
            )
        )
    footer_parts = [_sources_line(story, events, lang)]
    if day >= story.last_day:  # the story's notes are written from its end, like its summary
        footer_parts += [_("Note: %(text)s", text=note(lang)) for note in story.meta.notes]
    return _finish(
        Document(
            kind="so_far",
            lang=lang,
            title=story.meta.title(lang),
            subtitle=_("The story so far, as of %(date)s", date=format_long(day, lang)),
            sections=tuple(sections),
            footer="\n".join(part for part in footer_parts if part),
            story_slug=story.slug,
            date=day.isoformat(),
            meta={"event_ids": [event.id for event in events]},
        )
    )


def compose_timeline(story: Story, lang: Lang, until: dt.date | None = None) -> Document:
    """Every event headline with its date: the `story show` and `/timeline` view."""
    _ = Messages(lang)
    events = story.timeline if until is None else story.events_until(until)
    items = tuple(
        Item((Span(event.headline(lang)),), label=_capitalise(format_story_date(event.date, lang)))
        for event in events
    )
    return _finish(
        Document(
            kind="timeline",
            lang=lang,
            title=story.meta.title(lang),
            sections=(Section(_("Timeline"), items),),
            footer=_sources_line(story, events, lang),
            story_slug=story.slug,
            date=until.isoformat() if until else None,
        )
    )


def compose_faq(story: Story, lang: Lang) -> Document:
    _ = Messages(lang)
    items = tuple(
        Item((Span(entry.question(lang), "strong"), Span("\n" + entry.answer(lang))))
        for entry in story.faq
    )
    return _finish(
        Document(
            kind="faq",
            lang=lang,
            title=story.meta.title(lang),
            sections=(Section(_("Frequently asked questions"), items),) if items else (),
            footer=_sources_line(story, (), lang),
            story_slug=story.slug,
        )
    )


# --------------------------------------------------------------------------- pieces


def _finish(document: Document) -> Document:
    """Last pass over a French document: unbreakable spaces where French typography wants them,
    in story text and UI strings alike."""
    if document.lang != "fr":
        return document
    fix = french_spacing
    return replace(
        document,
        title=fix(document.title),
        subtitle=fix(document.subtitle) if document.subtitle else document.subtitle,
        sections=tuple(
            Section(
                fix(section.heading),
                tuple(
                    Item(
                        tuple(replace(span, text=fix(span.text)) for span in item.spans),
                        label=fix(item.label) if item.label else item.label,
                    )
                    for item in section.items
                ),
                kind=section.kind,
            )
            for section in document.sections
        ),
        footer=fix(document.footer) if document.footer else document.footer,
    )


def _capitalise(text: str) -> str:
    return text[:1].upper() + text[1:]


def _event_item(story: Story, event: Event, lang: Lang, *, dated: bool = False) -> Item:
    _ = Messages(lang)
    spans = [Span(event.headline(lang), "strong"), Span(" — " + event.text(lang))]
    if not event.date.is_exact and not dated:
        # Shown on the first day of its window: say how the source dates it.
        when = format_story_date(event.date, lang)
        if event.date.label:
            when = _("%(date)s — %(how)s", date=when, how=event.date.label(lang))
        spans.append(Span(" " + _("(%(when)s)", when=when), "em"))
    if event.note is not None:
        spans.append(Span(" " + _("Note: %(text)s", text=event.note(lang)), "em"))
    label = _capitalise(format_story_date(event.date, lang)) if dated else None
    return Item(tuple(spans), label=label)


def _people_in(story: Story, events: tuple[Event, ...]) -> list[Person]:
    seen: dict[str, Person] = {}
    for event in events:
        for person_id in event.people:
            seen.setdefault(person_id, story.person_by_id[person_id])
    return list(seen.values())


def _who_items(story: Story, events: tuple[Event, ...], day: dt.date, lang: Lang) -> list[Item]:
    return [_person_item(story, person, day, lang) for person in _people_in(story, events)]


def _role_text(story: Story, role: Role, lang: Lang) -> str:
    _ = Messages(lang)
    title = role.title(lang)
    if role.organisation is None:
        return title
    org = story.organisation_by_id[role.organisation].name_in(lang)
    if org.casefold() in title.casefold():  # "head of Microsoft's AI division" names it already
        return title
    # The French catalog uses ``of_organisation`` so that "de" elides before a vowel
    # ("PDG d'OpenAI", "PDG de Microsoft"), which a plain placeholder cannot express.
    return _(
        "%(title)s of %(organisation)s",
        title=title,
        organisation=org,
        of_organisation=french_of(org),
    )


def french_of(name: str) -> str:
    """'de Microsoft', "d'OpenAI": French elides "de" before a vowel or a mute h.

    >>> french_of("OpenAI"), french_of("Microsoft"), french_of("Émile")
    ("d'OpenAI", 'de Microsoft', "d'Émile")
    """
    first = unicodedata.normalize("NFD", name[:1])[:1].lower()
    return f"d'{name}" if first in "aeiouyh" else f"de {name}"


def _person_item(story: Story, person: Person, day: dt.date, lang: Lang) -> Item:
    """'Sam Altman — CEO of OpenAI until November 17, 2023' as of ``day``: the roles held that
    day, and those that ended during the story (so a reader sees who was who before)."""
    _ = Messages(lang)
    parts: list[str] = []
    for role in person.roles:
        text = _role_text(story, role, lang)
        if role.held_on(day):
            if role.planned:
                parts.append(_("%(role)s (announced)", role=text))
            elif role.since is not None and role.since.first >= story.first_day:
                parts.append(_role_since(text, role.since, lang))
            else:
                parts.append(text)
        elif role.until is not None and story.first_day <= role.until.first <= day:
            parts.append(_role_until(text, role.until, lang))
    if not parts:
        parts.append(person.bio(lang))
    return Item((Span(_join_roles(parts, lang)),), label=person.name)


def _role_since(text: str, since: StoryDate, lang: Lang) -> str:
    _ = Messages(lang)
    date = format_long(since.first, lang)
    if since.is_exact:
        return _("%(role)s since %(date)s", role=text, date=date)
    return _("%(role)s since around %(date)s", role=text, date=date)


def _role_until(text: str, until: StoryDate, lang: Lang) -> str:
    _ = Messages(lang)
    date = format_long(until.first, lang)
    if until.is_exact:
        return _("%(role)s until %(date)s", role=text, date=date)
    return _("%(role)s until around %(date)s", role=text, date=date)


def _join_roles(parts: list[str], lang: Lang) -> str:
    # French typography puts a space before the semicolon.
    return (
        format_names(parts, lang)
        if len(parts) <= 2
        else (" ; " if lang == "fr" else "; ").join(parts)
    )


def _previously_item(story: Story, day: dt.date, lang: Lang) -> Item | None:
    earlier = [d for d in story.days if d < day][-PREVIOUSLY_DAYS:]
    if not earlier:
        return None
    _ = Messages(lang)
    pieces = []
    for earlier_day in earlier:
        headlines = [event.headline(lang) for event in story.events_on(earlier_day)]
        more = "…" if len(headlines) > 1 else ""
        pieces.append(
            _(
                "%(date)s: %(headline)s",
                date=format_short_day(earlier_day, lang),
                headline=headlines[0] + more,
            )
        )
    return Item((Span(" · ".join(pieces)),))


_AMOUNT = re.compile(r"\{amount\}")


def _context_item(fact: ContextFact, lang: Lang) -> Item:
    text = fact.text(lang)
    if fact.amount_usd is not None:
        text = _AMOUNT.sub(format_usd(fact.amount_usd, lang), text)
    return Item((Span(text),))


def _sources_line(story: Story, events: tuple[Event, ...] | list[Event], lang: Lang) -> str:
    _ = Messages(lang)
    used = {event.source for event in events if event.source} or {s.id for s in story.meta.sources}
    sources = [s for s in story.meta.sources if s.id in used] or list(story.meta.sources)
    names = [_source_name(source, lang) for source in sources]
    return (
        _("Source: %(sources)s", sources=format_names(names, lang))
        if len(names) == 1
        else _("Sources: %(sources)s", sources=format_names(names, lang))
    )


def _source_name(source: Source, lang: Lang) -> str:
    _ = Messages(lang)
    name = f"“{source.title(lang)}”" if lang == "en" else f"« {source.title(lang)} »"
    if source.publisher:
        name = _("%(title)s, %(publisher)s", title=name, publisher=source.publisher)
    if source.language != lang:
        name = (
            _("%(source)s (in French)", source=name)
            if source.language == "fr"
            else _("%(source)s (in English)", source=name)
        )
    if source.url:
        name = f"{name} <{source.url}>"
    return name
