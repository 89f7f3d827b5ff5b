"""Relations between entities: the boss of someone (recruiter or head of their organisation)."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from digests.documents import Item, Section, Span
from digests.formatting import format_long
from digests.i18n import Messages
from digests.story import Lang, Role
from digests.whois.answers.identity import entity_sections
from digests.whois.answers.refusals import no_data
from digests.whois.model import Entity, Query, WhoAnswer
from digests.whois.render import document, match

if TYPE_CHECKING:
    from digests.whois.index import StoryIndex


def boss_of(
    ix: StoryIndex, person: Entity, as_of: dt.date
) -> tuple[Entity, str, Role | None, dt.date] | None:
    """(boss, how, the boss's role, as of): the recruiter, else the head of their organisation."""
    for triple in ix.triples.get("recruited", []):
        if triple.undergoer == person.id and triple.doer in ix.by_id:
            return ix.by_id[triple.doer], "recruited", None, as_of
    assert person.person is not None
    roles = [r for r in person.person.roles if not r.planned and r.key != "ceo"]
    held = [r for r in roles if r.held_on(as_of)]
    ended = sorted(
        (r for r in roles if r.until is not None and r.until.first <= as_of),
        key=lambda r: r.until.first if r.until else dt.date.min,
        reverse=True,
    )
    for role in [*held, *ended]:
        day = as_of if role in held else role.until.first - dt.timedelta(days=1)  # type: ignore[union-attr]
        heads = [
            (e, r)
            for e, r in ix.holders_by_key_org.get(("ceo", role.organisation), [])
            if e is not person and not r.planned and r.held_on(day)
        ]
        if heads:
            return heads[0][0], "head", heads[0][1], day
    return None


def boss_answer(
    ix: StoryIndex,
    echo: str,
    lang: Lang,
    q: Query,
    person: Entity,
    accepted: list[tuple[Entity, float, int]],
    as_of: dt.date,
    coverage: str | None,
) -> WhoAnswer:
    found = boss_of(ix, person, as_of) if coverage != "before" else None
    if found is None:
        return no_data(ix, echo, lang, accepted)
    _t = Messages(lang, domain="whois")
    boss, how, role, day = found
    if how == "recruited":
        sentence = _t("%(doer)s recruited %(undergoer)s.", doer=boss.name, undergoer=person.name)
    else:
        assert role is not None
        org = ix.by_id.get(role.organisation or "")
        sentence = _t(
            "On %(date)s, %(name)s worked at %(org)s, headed by %(boss)s (%(title)s).",
            date=format_long(day, lang),
            name=person.name,
            org=org.display(lang) if org else "?",
            boss=boss.name,
            title=role.title(lang),
        )
    sections, subtitle = entity_sections(ix, boss, lang, as_of)
    sections.insert(0, Section(_t("Answer"), (Item((Span(sentence, "strong"),)),), "paragraph"))
    matches = [match(ix, boss, 0.9, lang), match(ix, person, 0.5, lang)]
    doc = document(
        ix,
        lang,
        boss.display(lang),
        sections,
        subtitle,
        {"found": True, "intent": "relation", "question": echo},
    )
    return WhoAnswer(echo, lang, True, tuple(matches), doc, (), "relation")
