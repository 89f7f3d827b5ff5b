"""Bilingual phrasing of dates, role titles and relations (verbs come from the predicate)."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from digests.documents import Item, Span
from digests.formatting import format_long, format_usd
from digests.i18n import Messages
from digests.story import Lang, Person, Role, StoryDate
from digests.textnorm import (
    normalise,
    starts_with_vowel,
)
from digests.whois.known import hides_future, role_as_known
from digests.whois.model import ORG_LINKS, Entity, Triple

if TYPE_CHECKING:
    from digests.whois.index import StoryIndex


def when(ix: StoryIndex, date: StoryDate, lang: Lang, _t: Messages) -> str:
    if date.precision == "day":
        return format_long(date.first, lang)
    if date.precision == "weekend":
        return _t("the weekend of %(date)s", date=format_long(date.first, lang))
    return _t("around %(date)s", date=format_long(date.first, lang))


def role_range(ix: StoryIndex, role: Role, lang: Lang, _t: Messages) -> str:
    parts = []
    if role.since is not None:
        approx = not role.since.is_exact
        day = format_long(role.since.first, lang)
        if role.until is not None:
            parts.append(
                _t("from around %(date)s", date=day) if approx else _t("from %(date)s", date=day)
            )
        else:
            parts.append(
                _t("since around %(date)s", date=day) if approx else _t("since %(date)s", date=day)
            )
    if role.until is not None:
        approx = not role.until.is_exact
        day = format_long(role.until.first, lang)
        parts.append(
            _t("until around %(date)s", date=day) if approx else _t("until %(date)s", date=day)
        )
    return " ".join(parts)


def of(ix: StoryIndex, name: str, lang: Lang) -> str:
    if lang == "fr":
        return f"d’{name}" if starts_with_vowel(name) else f"de {name}"
    return name


def role_label(ix: StoryIndex, role: Role, lang: Lang, _t: Messages) -> str:
    title = role.title(lang)
    org = ix.by_id.get(role.organisation or "")
    if org is not None and normalise(org.display(lang)) not in normalise(title):
        if lang == "fr":
            title = f"{title} {of(ix, org.display(lang), lang)}"
        else:
            title = _t("%(title)s of %(org)s", title=title, org=org.display(lang))
    if role.planned:
        title = _t("%(title)s (announced)", title=title)
    return title


def headline(ix: StoryIndex, person: Person, lang: Lang, as_of: dt.date, _t: Messages) -> str:
    """A person's roles as of a day, the main one first: dated roles held, then roles that
    ended (with the day), then timeless ones, then announced ones."""
    dated: list[str] = []
    ended: list[str] = []
    timeless: list[str] = []
    planned: list[str] = []
    for held in person.roles:
        role = role_as_known(held, as_of) if hides_future(ix, as_of) else held
        if role is None:
            continue
        label = role_label(ix, role, lang, _t)
        if role.planned:
            planned.append(label)
        elif role.held_on(as_of):
            (dated if role.since or role.until else timeless).append(label)
        elif role.until is not None and role.until.first <= as_of:
            ended.append(
                _t(
                    "former %(title)s (%(until)s)",
                    title=role_label(ix, role, lang, _t),
                    until=role_range(ix, role.model_copy(update={"since": None}), lang, _t),
                )
            )
    return "; ".join([*dated, *ended, *timeless, *planned])


def was_fired(ix: StoryIndex, person: str | None, date: StoryDate | None) -> bool:
    """Was ``person`` fired around ``date`` (the story's facts say so)?"""
    if person is None or date is None:
        return False
    return any(
        t.undergoer == person
        and t.date is not None
        and t.date.first <= date.last
        and date.first <= t.date.last
        for t in ix.triples.get("fired", [])
    )


def org_link_phrase(ix: StoryIndex, triple: Triple, other: str, lang: Lang, _t: Messages) -> str:
    """ "Microsoft — shareholder of OpenAI": the label (``other``) is the subject."""
    name = ix.story.name_of((triple.undergoer if triple.doer == other else triple.doer) or "")
    names = {"name": name, "of_name": of(ix, name, lang)}
    if triple.predicate == "shareholder_of" and triple.doer != other:
        return _t("has %(name)s as a shareholder", **names)
    return {
        "shareholder_of": _t("shareholder of %(name)s", **names),
        "partner_of": _t("partner of %(name)s", **names),
        "rival_of": _t("rival of %(name)s", **names),
    }[triple.predicate]


def related_item(
    ix: StoryIndex, triple: Triple, entity: Entity, other: str, lang: Lang, _t: Messages
) -> Item:
    """ "Mira Murati — replaced Sam Altman (interim CEO, November 17, 2023)": a verb phrase
    whose subject is the person named in the label."""
    doer = ix.story.name_of(triple.doer) if triple.doer else "?"
    undergoer = ix.story.name_of(triple.undergoer) if triple.undergoer else "?"
    # A replacement after a firing is said as such: the fired person did not step aside.
    fired = triple.predicate == "replaced" and was_fired(ix, triple.undergoer, triple.date)
    if fired and triple.doer == other:
        phrase: str | None = _t("took over from %(name)s after the firing", name=undergoer)
    elif fired:
        phrase = _t("was fired; %(name)s took over", name=doer)
    elif triple.predicate in ORG_LINKS:
        phrase = org_link_phrase(ix, triple, other, lang, _t)
    elif triple.doer == other:
        phrase = {
            "recruited": _t("recruited %(name)s", name=undergoer),
            "replaced": _t("replaced %(name)s", name=undergoer),
            "works_with": _t("works with %(name)s", name=undergoer),
            "cofounded_with": _t("co-founded a company with %(name)s", name=undergoer),
        }.get(triple.predicate)
    else:
        phrase = {
            "recruited": _t("was recruited by %(name)s", name=doer),
            "replaced": _t("was replaced by %(name)s", name=doer),
            "works_with": _t("works with %(name)s", name=doer),
            "cofounded_with": _t("co-founded a company with %(name)s", name=doer),
        }.get(triple.predicate)
    if phrase is None:
        phrase = _t("is linked to %(name)s", name=entity.display(lang))
    details = []
    doer_entity = ix.by_id.get(triple.doer or "")
    if (
        triple.predicate == "replaced"
        and triple.date is not None
        and doer_entity is not None
        and doer_entity.person is not None
    ):
        for role in doer_entity.person.roles:
            if role.since is not None and role.since.first == triple.date.first:
                details.append(role.title(lang))
                break
    if triple.date is not None:
        details.append(when(ix, triple.date, lang, _t))
    if details:
        phrase += " (" + ", ".join(details) + ")"
    return Item((Span(phrase),), ix.story.name_of(other))


def relation_item(ix: StoryIndex, triple: Triple, entity: Entity, lang: Lang, _t: Messages) -> Item:
    doer = ix.story.name_of(triple.doer) if triple.doer else "?"
    undergoer = ix.story.name_of(triple.undergoer) if triple.undergoer else "?"
    sentence = {
        "recruited": _t("%(doer)s recruited %(undergoer)s.", doer=doer, undergoer=undergoer),
        "replaced": _t("%(doer)s replaced %(undergoer)s.", doer=doer, undergoer=undergoer),
        "works_with": _t("%(doer)s works with %(undergoer)s.", doer=doer, undergoer=undergoer),
        "cofounded_with": _t(
            "%(doer)s co-founded a company with %(undergoer)s.", doer=doer, undergoer=undergoer
        ),
    }.get(triple.predicate, f"{doer} — {undergoer}")
    other = triple.undergoer if triple.doer == entity.id else triple.doer
    label = ix.story.name_of(other) if other else None
    return Item((Span(sentence),), label)


def context_text(ix: StoryIndex, fact: Any, lang: Lang) -> str:
    text = fact.text(lang)
    if fact.amount_usd is not None and "{amount}" in text:
        text = text.replace("{amount}", format_usd(fact.amount_usd, lang))
    return str(text)
