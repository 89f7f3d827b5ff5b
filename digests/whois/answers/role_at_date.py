"""Role questions: who held a post, now or on a date, before or after someone.

"Who was CEO of OpenAI on 18/11?", "the president of OpenAI", "who ran OpenAI before Murati?".
Only what was true on the day asked is said: a role that starts later is not "upcoming" news.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from digests.documents import Item, Section, Span
from digests.formatting import format_long, format_names
from digests.i18n import N_, Messages
from digests.story import Lang, Role
from digests.textnorm import (
    normalise,
)
from digests.whois.answers.identity import entity_sections
from digests.whois.known import hides_future, known
from digests.whois.model import Entity, Intent, Query, WhoAnswer
from digests.whois.phrasing import of, when
from digests.whois.render import document, match

if TYPE_CHECKING:
    from digests.whois.index import StoryIndex


def before_after_person(
    ix: StoryIndex, q: Query, persons: list[tuple[Entity, float, int]]
) -> tuple[Entity, str] | None:
    for entity, _score, start in persons:
        look = start - 1
        while look >= 0 and q.tokens[look] in ("le", "la", "the", "l"):
            look -= 1
        if look >= 0 and q.tokens[look] in ("before", "avant", "prior"):
            return entity, "before"
        if look >= 0 and q.tokens[look] in ("after", "apres", "following"):
            return entity, "after"
    return None


def orgs_match(ix: StoryIndex, role: Role, orgs: list[tuple[Entity, float, int]]) -> bool:
    if not orgs:
        return True
    ids = {o[0].id for o in orgs}
    return role.organisation in ids or role.organisation in {ix.parent.get(i) for i in ids}


def query_role_relative(
    ix: StoryIndex,
    q: Query,
    key: str,
    orgs: list[tuple[Entity, float, int]],
    person: Entity,
    direction: str,
) -> dict[str, Any] | None:
    own = [r for e, r in ix.role_holders.get(key, []) if e is person and orgs_match(ix, r, orgs)]
    if not own:
        return None
    role = own[0]
    if direction == "before":
        if role.since is None:
            return None
        day = role.since.first - dt.timedelta(days=1)
    else:
        if role.until is None:
            return None
        day = role.until.first
    scoped = (
        orgs or [(ix.by_id[role.organisation], 1.0, 0)] if role.organisation in ix.by_id else orgs
    )
    return query_role(ix, q, key, scoped, day, exclude={person.id}, explicit_day=True)


def query_role(
    ix: StoryIndex,
    q: Query,
    key: str,
    orgs: list[tuple[Entity, float, int]],
    as_of: dt.date,
    exclude: set[str] = frozenset(),  # type: ignore[assignment]
    explicit_day: bool = False,
) -> dict[str, Any] | None:
    if orgs:
        candidates: list[tuple[Entity, Role]] = []
        org_ids = {o[0].id for o in orgs}
        for org_id in list(org_ids):
            parent = ix.parent.get(org_id)
            if parent is not None:
                org_ids.add(parent)
        for org_id in org_ids:
            candidates += ix.holders_by_key_org.get((key, org_id), [])
    else:
        candidates = ix.role_holders.get(key, [])
    holders = [(e, r) for e, r in candidates if e.id not in exclude]
    if not holders:
        return None
    if q.has("interim"):
        interim = [h for h in holders if h[1].interim]
        holders = interim or holders
    if q.has("first"):
        earliest = min((r.since.first if r.since else dt.date.min) for _, r in holders)
        holders = [
            h for h in holders if (h[1].since.first if h[1].since else dt.date.min) == earliest
        ]
    far_past = dt.date.min
    current = [h for h in holders if not h[1].planned and h[1].held_on(as_of)]
    blind = hides_future(ix, as_of)
    # A planned role is news from the day it was announced; before that it is unknown.
    planned = [h for h in holders if h[1].planned and not (blind and not known(h[1].since, as_of))]
    past = sorted(
        (
            h
            for h in holders
            if not h[1].planned and h[1].until is not None and h[1].until.first <= as_of
        ),
        key=lambda h: h[1].until.first if h[1].until else far_past,
        reverse=True,
    )
    upcoming = [
        h
        for h in holders
        if not h[1].planned and h[1].since is not None and h[1].since.first > as_of
    ]
    explicit = explicit_day or q.date is not None
    if q.has("future") and planned:
        mode, chosen = "planned", planned
    elif q.has("former") and past:
        # "the former CEO" is the last permanent one unless the question says interim.
        same_kind = [h for h in past if h[1].interim == q.has("interim")]
        mode, chosen = "former", (same_kind or past)[:1]
    elif current:
        mode, chosen = "current", current
    elif planned:
        mode, chosen = "planned", planned
    elif past:
        mode, chosen = "last", past[:1]
    elif upcoming and not blind:
        mode, chosen = "upcoming", upcoming[:1]
    else:
        return None
    rank = ix.org_rank
    chosen = sorted(
        chosen,
        key=lambda h: (
            rank.get(h[1].organisation or "", 999),
            not h[1].interim if q.has("interim") else 0,
        ),
    )
    # One organisation per answer: the most central one among the holders.
    main_org = chosen[0][1].organisation
    chosen = [h for h in chosen if h[1].organisation == main_org]
    return {"mode": mode, "holders": chosen, "as_of": as_of, "explicit": explicit, "key": key}


def role_answer(
    ix: StoryIndex,
    echo: str,
    lang: Lang,
    q: Query,
    key: str,
    orgs: list[tuple[Entity, float, int]],
    result: dict[str, Any],
    accepted: list[tuple[Entity, float, int]],
) -> WhoAnswer:
    _t = Messages(lang, domain="whois")
    holders: list[tuple[Entity, Role]] = result["holders"]
    mode: str = result["mode"]
    as_of: dt.date = result["as_of"]
    role = holders[0][1]
    org = ix.by_id.get(role.organisation or "")
    title = role.title(lang)
    if org is not None and normalise(org.display(lang)) in normalise(title):
        org = None  # the title already names the organisation
    names = format_names([e.name for e, _ in holders], lang)
    values: dict[str, Any] = {
        "date": format_long(as_of, lang),
        "title": title,
        "names": names,
        "org": org.display(lang) if org else "",
        "of_org": of(ix, org.display(lang), lang) if org else "",
        "of_title": of(ix, title, lang),
    }
    at = "_org" if org else ""
    plural = len(holders) > 1
    if mode == "current":
        tense = "past" if result["explicit"] else "present"
        msgid = {
            ("past", "_org", False): N_("On %(date)s, the %(title)s of %(org)s was %(names)s."),
            ("past", "", False): N_("On %(date)s, the %(title)s was %(names)s."),
            (
                "present",
                "_org",
                False,
            ): N_("As of %(date)s, the %(title)s of %(org)s is %(names)s."),
            ("present", "", False): N_("As of %(date)s, the %(title)s is %(names)s."),
            (
                "past",
                "_org",
                True,
            ): N_("On %(date)s, %(names)s held the post of %(title)s at %(org)s."),
            ("past", "", True): N_("On %(date)s, %(names)s held the post of %(title)s."),
            (
                "present",
                "_org",
                True,
            ): N_("As of %(date)s, %(names)s hold the post of %(title)s at %(org)s."),
            ("present", "", True): N_("As of %(date)s, %(names)s hold the post of %(title)s."),
        }[(tense, at, plural)]
        sentence = _t(msgid, **values)
    elif mode == "planned":
        since = role.since
        values["when"] = when(ix, since, lang, _t) if since is not None else ""
        msgid = (
            N_("%(names)s is to become %(title)s of %(org)s")
            if org
            else N_("%(names)s is to become %(title)s")
        )
        sentence = _t(msgid, **values)
        if since is not None:
            sentence += " " + _t("(expected: %(when)s)", **values)
        sentence += "."
    elif mode in ("last", "former"):
        until = role.until
        values["until"] = when(ix, until, lang, _t) if until is not None else "?"
        msgid = (
            N_(
                "As of %(date)s, the story names no current %(title)s of %(org)s; the post was last held by %(names)s (until %(until)s)."
            )
            if org
            else N_(
                "As of %(date)s, the story names no current %(title)s; the post was last held by %(names)s (until %(until)s)."
            )
        )
        if mode == "former":
            msgid = (
                N_("The previous %(title)s of %(org)s was %(names)s (until %(until)s).")
                if org
                else N_("The previous %(title)s was %(names)s (until %(until)s).")
            )
        sentence = _t(msgid, **values)
    else:  # upcoming
        since = role.since
        values["when"] = when(ix, since, lang, _t) if since is not None else "?"
        msgid = (
            N_(
                "On %(date)s, the story names no %(title)s of %(org)s yet; %(names)s took up the post later (%(when)s)."
            )
            if org
            else N_(
                "On %(date)s, the story names no %(title)s yet; %(names)s took up the post later (%(when)s)."
            )
        )
        sentence = _t(msgid, **values)
    top = holders[0][0]
    sections, subtitle = entity_sections(ix, top, lang, as_of)
    sections.insert(0, Section(_t("Answer"), (Item((Span(sentence, "strong"),)),), "paragraph"))
    intent: Intent = "role-at-date" if q.date is not None or result["explicit"] else "role"
    matches = [match(ix, e, 1.0 if mode == "current" else 0.9, lang) for e, _ in holders]
    if org is not None:
        matches.append(match(ix, org, 0.5, lang))
    doc = document(
        ix,
        lang,
        top.display(lang),
        sections,
        subtitle,
        {"found": True, "intent": intent, "question": echo},
    )
    return WhoAnswer(echo, lang, True, tuple(matches), doc, (), intent)
