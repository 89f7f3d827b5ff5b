"""Story + date + language -> the digest document of that day (or of the story so far).

A daily digest reads as a short news post (see ``docs/style.md``): a lead item, then at most
`MAX_ITEMS` more news and analysis items, a "Previously" reminder written in the story, and a
footer with the notes about the source. Whatever does not fit (further items, the rest of the
analysis, who's who) goes into ``Document.more``, which adapters post as a thread reply or a
follow-up.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from digests.documents import Document, Item, Section, Span
from digests.formatting import (
    format_compact_date,
    format_day,
    format_long,
    format_names,
    format_short_day,
    format_story_date,
    format_usd,
)
from digests.i18n import Messages
from digests.story import (
    ContextFact,
    Event,
    Lang,
    Person,
    Role,
    Source,
    Story,
    StoryDate,
    Text,
)
from digests.typography import french_spacing

# How many earlier days the "previously" reminder mentions.
PREVIOUSLY_DAYS = 3
PREVIOUSLY_HEADLINES = 3  # headlines of a day without a recap in the story
# News and analysis items after the lead in a daily post; the rest goes behind "more".
MAX_ITEMS = 6
# The lead is a paragraph section without a heading: every renderer shows it as the opening
# paragraph, before the headed sections.


@dataclass(frozen=True, slots=True)
class _Entry:
    """One item of a post before layout: the item and the notes it brings to the footer."""

    item: Item
    notes: tuple[str, ...] = ()
    approximate: bool = False


def compose_digest(story: Story, day: dt.date, lang: Lang) -> Document | None:
    """The post for ``day``: ``None`` when the story has no event that day (callers decide
    whether to say "no new developments")."""
    events = story.events_on(day)
    if not events:
        return None
    _t = Messages(lang)
    news = [_news_entry(group, lang) for group in group_statements(events)]
    analysis = [
        _analysis_entry(fact, lang)
        for fact in story.context
        if fact.headline is not None and fact.as_of is not None and fact.as_of.first == day
    ]
    outlook = _outlook_item(story, lang, on=day)
    if outlook is not None:
        analysis.append(_Entry(outlook))
    lead, *others = news
    shown = (others + analysis)[:MAX_ITEMS]
    kept_news = [entry for entry in others if entry in shown]
    kept_analysis = [entry for entry in analysis if entry in shown]
    sections = [
        Section("", (lead.item,), kind="paragraph"),
        Section(_t("Also today"), tuple(entry.item for entry in kept_news)),
        Section(_t("Analysis"), tuple(entry.item for entry in kept_analysis)),
    ]
    previously = _previously_items(story, day, lang)
    if previously:
        sections.append(Section(_t("Previously"), previously, kind="paragraph"))
    number = story.day_number(day)
    main = [lead, *shown]
    subtitle = _t("Day %(n)s — %(date)s", date=format_day(day, lang), n=number)
    return _finish(
        Document(
            kind="digest",
            lang=lang,
            title=story.meta.title(lang),
            subtitle=subtitle,
            sections=tuple(section for section in sections if section.items),
            footer=_footer(_notes_lines(main, lang), _sources_line(story, events, lang)),
            story_slug=story.slug,
            date=day.isoformat(),
            meta={"day_number": number, "event_ids": [event.id for event in events]},
            more=_more(story, day, lang, news, analysis, main),
        )
    )


def _more(
    story: Story,
    day: dt.date,
    lang: Lang,
    news: list[_Entry],
    analysis: list[_Entry],
    main: list[_Entry],
) -> Document:
    """What a reader finds behind "more": the items that did not fit, background lines of the
    day's analysis, and who's who as of the day."""
    _t = Messages(lang)
    events = story.events_on(day)
    extra_news = [entry for entry in news if entry not in main]
    extra_analysis = [entry for entry in analysis if entry not in main]
    extra_analysis += [
        _analysis_entry(fact, lang)
        for fact in story.context
        if fact.headline is None and fact.as_of is not None and fact.as_of.first == day
    ]
    sections = [
        Section(_t("More news"), tuple(entry.item for entry in extra_news)),
        Section(_t("Analysis"), tuple(entry.item for entry in extra_analysis)),
        Section(_t("Who's who"), tuple(_who_items(story, events, day, lang))),
    ]
    number = story.day_number(day)
    return Document(
        kind="digest",
        lang=lang,
        title=story.meta.title(lang),
        subtitle=_t("More — Day %(n)s, %(date)s", date=format_day(day, lang), n=number),
        sections=tuple(section for section in sections if section.items),
        footer=_footer(
            _notes_lines([*extra_news, *extra_analysis], lang), _sources_line(story, events, lang)
        ),
        story_slug=story.slug,
        date=day.isoformat(),
        meta={"day_number": number, "part": "more"},
    )


def compose_story_so_far(story: Story, day: dt.date, lang: Lang) -> Document:
    """Everything known up to and including ``day``, for newcomers and late subscribers.

    Nothing from later days leaks in: the story's summary (written from its end) only appears
    once the story has reached its last day; background analysis, scenarios and notes only from
    the day the source makes them.
    """
    _t = Messages(lang)
    events = story.events_until(day)
    sections: list[Section] = []
    if day >= story.last_day:
        sections.append(
            Section(_t("In short"), (Item((Span(story.meta.summary(lang)),)),), kind="paragraph")
        )
    entries: list[_Entry] = []
    if events:
        background = [fact for fact in story.context if fact.known_on(day)]
        if background:
            background_entries = [_analysis_entry(fact, lang) for fact in background]
            entries += background_entries
            sections.append(
                Section(_t("Background"), tuple(entry.item for entry in background_entries))
            )
        timeline = [_news_entry(group, lang, dated=True) for group in group_statements(events)]
        entries += timeline
        sections.append(Section(_t("Timeline"), tuple(entry.item for entry in timeline)))
        people = _people_in(story, events)
        sections.append(
            Section(
                _t("Who's who"), tuple(_person_item(story, person, day, lang) for person in people)
            )
        )
    else:
        start = _t("The story starts on %(date)s.", date=format_long(story.first_day, lang))
        sections.append(Section(_t("Timeline"), (Item((Span(start),)),), kind="paragraph"))
    outlook = _outlook_item(story, lang, until=day)
    if outlook is not None:
        sections.append(Section(_t("What could happen next"), (outlook,), kind="paragraph"))
    notes = [
        note(lang) for note in story.meta.notes if note.as_of is None or note.as_of.first <= day
    ]
    return _finish(
        Document(
            kind="so_far",
            lang=lang,
            title=story.meta.title(lang),
            subtitle=_t("The story so far, as of %(date)s", date=format_long(day, lang)),
            sections=tuple(sections),
            footer=_footer(
                _note_block(notes + [n for entry in entries for n in entry.notes], lang),
                _sources_line(story, events, lang),
            ),
            story_slug=story.slug,
            date=day.isoformat(),
            meta={"event_ids": [event.id for event in events]},
        )
    )


def compose_timeline(story: Story, lang: Lang, until: dt.date | None = None) -> Document:
    """Every event headline with its date: the `story show` and `/timeline` view."""
    _t = Messages(lang)
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
            sections=(Section(_t("Timeline"), items),),
            footer=_sources_line(story, events, lang),
            story_slug=story.slug,
            date=until.isoformat() if until else None,
        )
    )


def compose_faq(story: Story, lang: Lang, *, as_of: dt.date | None = None) -> Document:
    """The story's FAQ. Its answers are written from the story's end and carry no dates, so
    as of a day before the last one (a replay, or a story still developing) it would give the
    ending away: it then says when it will be shown instead."""
    _t = Messages(lang)
    items = tuple(
        Item((Span(entry.question(lang), "strong"), Span("\n" + entry.answer(lang))))
        for entry in story.faq
    )
    if items and as_of is not None and as_of < story.last_day:
        wait = _t(
            "The answers are written from the story’s end: they are shown once the story "
            "reaches its last day, %(date)s.",
            date=format_long(story.last_day, lang),
        )
        items = (Item((Span(wait),)),)
    return _finish(
        Document(
            kind="faq",
            lang=lang,
            title=story.meta.title(lang),
            sections=(Section(_t("Frequently asked questions"), items),) if items else (),
            footer=_sources_line(story, (), lang),
            story_slug=story.slug,
        )
    )


# --------------------------------------------------------------------------- items


def group_statements(events: Iterable[Event]) -> list[list[Event]]:
    """Events in order, those sharing a ``statement`` gathered at the place of the first one:
    one post, one interview, one report makes one item."""
    groups: list[list[Event]] = []
    by_statement: dict[str, list[Event]] = {}
    for event in events:
        if event.statement is None:
            groups.append([event])
        elif event.statement in by_statement:
            by_statement[event.statement].append(event)
        else:
            by_statement[event.statement] = [event]
            groups.append(by_statement[event.statement])
    return groups


def _news_entry(group: Sequence[Event], lang: Lang, *, dated: bool = False) -> _Entry:
    """One item from the events of one statement: the first headline, every text in order, the
    date mark once (compact, only when the source gives no exact day), notes to the footer."""
    first = group[0]
    text = " ".join(event.text(lang) for event in group)
    spans = [Span(first.headline(lang), "strong"), Span(" — " + text)]
    inexact = next((event.date for event in group if not event.date.is_exact), None)
    if inexact is not None and not dated:
        spans.append(Span(f" ({format_compact_date(inexact, lang)})", "em"))
    label = _capitalise(format_story_date(first.date, lang)) if dated else None
    notes = tuple(event.note(lang) for event in group if event.note is not None)
    approximate = inexact is not None and inexact.precision == "approximate"
    return _Entry(Item(tuple(spans), label=label), notes, approximate)


def _analysis_entry(fact: ContextFact, lang: Lang) -> _Entry:
    text = fact.text(lang)
    if fact.amount_usd is not None:
        text = _AMOUNT.sub(format_usd(fact.amount_usd, lang), text)
    if fact.headline is None:
        return _Entry(Item((Span(text),)))
    return _Entry(Item((Span(fact.headline(lang), "strong"), Span(" — " + text))))


def _outlook_item(
    story: Story, lang: Lang, *, on: dt.date | None = None, until: dt.date | None = None
) -> Item | None:
    """The story's scenarios as one "what next" item: on the day the source sets them out (or,
    undated, on the story's last day)."""

    def when(date: StoryDate | None) -> dt.date:
        return date.first if date is not None else story.last_day

    scenarios = [
        scenario
        for scenario in story.scenarios
        if (on is not None and when(scenario.as_of) == on)
        or (until is not None and when(scenario.as_of) <= until)
    ]
    if not scenarios:
        return None
    _t = Messages(lang)
    text = " ".join(scenario.text(lang) for scenario in scenarios)
    return Item((Span(_t("What next"), "strong"), Span(" — " + text)))


_AMOUNT = re.compile(r"\{amount\}")


def _capitalise(text: str) -> str:
    return text[:1].upper() + text[1:]


def _people_in(story: Story, events: tuple[Event, ...]) -> list[Person]:
    seen: dict[str, Person] = {}
    for event in events:
        for person_id in event.people:
            seen.setdefault(person_id, story.person_by_id[person_id])
    return list(seen.values())


def _who_items(story: Story, events: tuple[Event, ...], day: dt.date, lang: Lang) -> list[Item]:
    return [_person_item(story, person, day, lang) for person in _people_in(story, events)]


def _role_text(story: Story, role: Role, lang: Lang) -> str:
    _t = Messages(lang)
    title = role.title(lang)
    if role.organisation is None:
        return title
    org = story.organisation_by_id[role.organisation].name_in(lang)
    if org.casefold() in title.casefold():  # "head of Microsoft's AI division" names it already
        return title
    # The French catalog uses ``of_organisation`` so that "de" elides before a vowel
    # ("PDG d’OpenAI", "PDG de Microsoft"), which a plain placeholder cannot express.
    return _t(
        "%(title)s of %(organisation)s",
        title=title,
        organisation=org,
        of_organisation=french_of(org),
    )


def french_of(name: str) -> str:
    """'de Microsoft', 'd’OpenAI': French elides "de" before a vowel or a mute h.

    >>> french_of("OpenAI"), french_of("Microsoft"), french_of("Émile")
    ('d’OpenAI', 'de Microsoft', 'd’Émile')
    """
    first = unicodedata.normalize("NFD", name[:1])[:1].lower()
    return f"d’{name}" if first in "aeiouyh" else f"de {name}"


def _person_item(story: Story, person: Person, day: dt.date, lang: Lang) -> Item:
    """'Sam Altman — CEO of OpenAI until November 17, 2023' as of ``day``: the roles held that
    day, and those that ended during the story (so a reader sees who was who before)."""
    _t = Messages(lang)
    parts: list[str] = []
    for role in person.roles:
        text = _role_text(story, role, lang)
        if role.held_on(day):
            if role.planned:
                parts.append(_t("%(role)s (announced)", role=text))
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
    _t = Messages(lang)
    date = format_short_day(since.first, lang)
    if since.is_exact:
        return _t("%(role)s since %(date)s", role=text, date=date)
    return _t("%(role)s since around %(date)s", role=text, date=date)


def _role_until(text: str, until: StoryDate, lang: Lang) -> str:
    _t = Messages(lang)
    date = format_short_day(until.first, lang)
    if until.is_exact:
        return _t("%(role)s until %(date)s", role=text, date=date)
    return _t("%(role)s until around %(date)s", role=text, date=date)


def _join_roles(parts: list[str], lang: Lang) -> str:
    # French typography puts a space before the semicolon.
    return (
        format_names(parts, lang)
        if len(parts) <= 2
        else (" ; " if lang == "fr" else "; ").join(parts)
    )


def _previously_items(story: Story, day: dt.date, lang: Lang) -> tuple[Item, ...]:
    """One short sentence per earlier day, written in the story; when the story gives none,
    that day's headlines (at most `PREVIOUSLY_HEADLINES`: an event published late in its day,
    after that day's digest went out, is still in the next day's reminder)."""
    earlier = [d for d in story.days if d < day][-PREVIOUSLY_DAYS:]
    items = []
    separator = " ; " if lang == "fr" else "; "
    for earlier_day in earlier:
        recap: Text | None = story.recap_of(earlier_day)
        if recap is not None:
            sentence = recap(lang)
        else:
            headlines = [event.headline(lang) for event in story.events_on(earlier_day)]
            sentence = separator.join(dict.fromkeys(headlines[:PREVIOUSLY_HEADLINES]))
        items.append(
            Item((Span(sentence),), label=_capitalise(format_short_day(earlier_day, lang)))
        )
    return tuple(items)


# --------------------------------------------------------------------------- footer


def _notes_lines(entries: Sequence[_Entry], lang: Lang) -> list[str]:
    notes = [note for entry in entries for note in entry.notes]
    if any(entry.approximate for entry in entries):
        _t = Messages(lang)
        notes.append(
            _t(
                "Dates marked “around” are approximate: the article does not give them, "
                "they follow from its account."
            )
        )
    return _note_block(notes, lang)


def _note_block(notes: Sequence[str], lang: Lang) -> list[str]:
    unique = list(dict.fromkeys(notes))
    if not unique:
        return []
    _t = Messages(lang)
    if len(unique) == 1:
        return [_t("Note: %(text)s", text=unique[0])]
    return [_t("Notes:"), *(f"– {note}" for note in unique)]


def _footer(notes: list[str], sources: str) -> str:
    return "\n".join([*notes, sources])


def _sources_line(story: Story, events: tuple[Event, ...] | list[Event], lang: Lang) -> str:
    _t = Messages(lang)
    used = {event.source for event in events if event.source} or {s.id for s in story.meta.sources}
    sources = [s for s in story.meta.sources if s.id in used] or list(story.meta.sources)
    names = [_source_name(source, lang) for source in sources]
    return (
        _t("Source: %(sources)s", sources=format_names(names, lang))
        if len(names) == 1
        else _t("Sources: %(sources)s", sources=format_names(names, lang))
    )


def _source_name(source: Source, lang: Lang) -> str:
    _t = Messages(lang)
    name = f"“{source.title(lang)}”" if lang == "en" else f"« {source.title(lang)} »"
    if source.publisher:
        name = _t("%(title)s, %(publisher)s", title=name, publisher=source.publisher)
    if source.language != lang:
        name = (
            _t("%(source)s (in French)", source=name)
            if source.language == "fr"
            else _t("%(source)s (in English)", source=name)
        )
    if source.url:
        name = f"{name} <{source.url}>"
    return name


# --------------------------------------------------------------------------- typography


def _finish(document: Document) -> Document:
    """Last pass over a French document: unbreakable spaces where French typography wants them,
    in story text and UI strings alike (and in its "more" part)."""
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
        more=_finish(document.more) if document.more is not None else None,
    )
