"""Identity answers: who a person is, what an organisation is, as of a day."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from digests.documents import Item, Section, Span
from digests.i18n import Messages
from digests.story import Lang
from digests.whois.known import event_known, hides_future, known, role_as_known
from digests.whois.model import Entity, Intent, Query, WhoAnswer
from digests.whois.phrasing import (
    context_text,
    headline,
    related_item,
    role_label,
    role_range,
    when,
)
from digests.whois.render import document, match, others

if TYPE_CHECKING:
    from digests.whois.index import StoryIndex


def entity_sections(
    ix: StoryIndex,
    entity: Entity,
    lang: Lang,
    as_of: dt.date,
    link: Entity | None = None,
    no_event: bool = False,
) -> tuple[list[Section], str | None]:
    _t = Messages(lang, domain="whois")
    sections: list[Section] = []
    subtitle: str | None = None
    blind = hides_future(ix, as_of)  # show nothing the story learnt after ``as_of``
    if entity.person is not None:
        person = entity.person
        subtitle = headline(ix, person, lang, as_of, _t) or None
        if no_event:
            sections.append(
                Section(
                    _t("Answer"),
                    (
                        Item(
                            (
                                Span(
                                    _t(
                                        "The story records no such event involving %(name)s. Here is what it says about them.",
                                        name=entity.name,
                                    )
                                ),
                            )
                        ),
                    ),
                    "paragraph",
                )
            )
        role_items = []
        for known_role in person.roles:
            role = role_as_known(known_role, as_of) if blind else known_role
            if role is None:
                continue
            label = role_range(ix, role, lang, _t) or None
            spans = [Span(role_label(ix, role, lang, _t), "strong")]
            if role.note is not None:
                spans.append(Span(" — " + role.note(lang), "em"))
            role_items.append(Item(tuple(spans), label))
        sections.append(Section(_t("Roles"), tuple(role_items)))
        if not blind:  # a bio sums up the whole story, later events included
            sections.append(
                Section(_t("Who they are"), (Item((Span(person.bio(lang)),)),), "paragraph")
            )
    else:
        org = entity.organisation
        assert org is not None
        sections.append(
            Section(_t("What it is"), (Item((Span(org.description(lang)),)),), "paragraph")
        )
        people_items = []
        for holder, held in ix.holders_at.get(org.id, []):
            role = role_as_known(held, as_of) if blind else held
            if role is None:
                continue
            status = role_range(ix, role, lang, _t)
            people_items.append(
                Item(
                    (
                        Span(holder.name, "strong"),
                        Span(" — " + role_label(ix, role, lang, _t)),
                    ),
                    status or None,
                )
            )
        sections.append(Section(_t("People"), tuple(people_items[:12])))
    if link is not None:
        items = []
        for fact in ix.story.context:
            ids = {*fact.people, *fact.organisations}
            if entity.id in ids and link.id in ids and fact.known_on(as_of):
                items.append(Item((Span(context_text(ix, fact, lang)),)))
        for event in ix.events_of.get(entity.id, []):
            if event in ix.events_of.get(link.id, []) and event_known(event, as_of):
                items.append(Item((Span(event.headline(lang)),), when(ix, event.date, lang, _t)))
        if not items:
            items.append(Item((Span(_t("The story records no direct link between them.")),)))
        sections.insert(
            0, Section(_t("Link with %(name)s", name=link.display(lang)), tuple(items[:8]))
        )
    events = [e for e in ix.events_of.get(entity.id, []) if event_known(e, as_of)]
    key_events = [
        e for e in events if any(entity.id in (f.subject, f.by, f.object) for f in e.facts)
    ] or events
    if len(key_events) < 4:
        key_events = events
    sections.append(
        Section(
            _t("Key events"),
            tuple(
                Item((Span(e.headline(lang)),), when(ix, e.date, lang, _t)) for e in key_events[:8]
            ),
        )
    )
    related: dict[str, Item] = {}  # one line per other person, even if seen from both sides
    for triple in ix.relations_of.get(entity.id, []):
        if triple.predicate == "preceded":
            continue  # the mirror of "replaced"
        other = triple.undergoer if triple.doer == entity.id else triple.doer
        if blind and not known(triple.date, as_of):
            continue
        if other and other != entity.id and other not in related:
            related[other] = related_item(ix, triple, entity, other, lang, _t)
    sections.append(Section(_t("Related people"), tuple(related.values())[:8]))
    return sections, subtitle


def identity_answer(
    ix: StoryIndex,
    echo: str,
    lang: Lang,
    entity: Entity,
    accepted: list[tuple[Entity, float, int]],
    as_of: dt.date,
    q: Query,
    link: Entity | None = None,
    no_event: bool = False,
    intent: Intent | None = None,
) -> WhoAnswer:
    score = next((s for e, s, _ in accepted if e is entity), 1.0)
    sections, subtitle = entity_sections(ix, entity, lang, as_of, link=link, no_event=no_event)
    intent = intent or ("identity" if entity.kind == "person" else "organisation")
    matches = others(ix, accepted, [match(ix, entity, score, lang)], lang)
    doc = document(
        ix,
        lang,
        entity.display(lang),
        sections,
        subtitle,
        {"found": True, "intent": intent, "question": echo},
    )
    return WhoAnswer(echo, lang, True, tuple(matches), doc, (), intent)
