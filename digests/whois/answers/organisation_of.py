"""Which organisation a person is with: "Which company is Emmett Shear CEO of?", "Where did Altman
go?", "Pour qui travaille Satya Nadella ?".

Answered from the person's roles as the story knew them on the day asked (a role announced later
does not exist yet; an end that came later is not known), the most recent first, with the fact
that took them there ("Altman to lead Microsoft's AI division") when the story has one.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from digests.documents import Item, Section, Span
from digests.i18n import Messages
from digests.story import Lang, Role
from digests.whois import lexicon as lex
from digests.whois.answers.identity import entity_sections
from digests.whois.known import event_known, hides_future, role_as_known
from digests.whois.model import Entity, Query, WhoAnswer
from digests.whois.phrasing import role_range, when
from digests.whois.render import document, match

if TYPE_CHECKING:
    from digests.whois.index import StoryIndex

# Nouns that ask for an organisation ("which company", "quelle entreprise").
ORG_NOUNS = frozenset(
    {
        "company", "companies", "firm", "organisation", "organization", "employer", "business",
        "entreprise", "societe", "organisme", "employeur", "boite", "groupe", "structure",
    }
)  # fmt: skip
# Where a person went or works ("où" is "ou" once normalised: only read so at the start).
WHERE = frozenset({"where", "whereabouts"})
TIME_WORDS = {"before": "before", "avant": "before", "after": "after", "apres": "after"}
# Facts that take a person to an organisation, shown with the answer.
MOVE_FACTS = ("joined", "will_lead", "appointed")
# A weak "runs / dirige" means the head of an organisation.
HEAD_KEYS = ("ceo", "president", "head-of-ai-division")


def organisation_question(
    ix: StoryIndex,
    q: Query,
    persons: list[tuple[Entity, float, int]],
    orgs: list[tuple[Entity, float, int]],
) -> Entity | None:
    """The person, if the question asks which organisation one person is with (or went to);
    None otherwise. A named organisation makes it another question, unless it only places the
    question in time ("which company did Shear run before OpenAI?")."""
    if len(persons) != 1 or q.has("link") or any(_anchor(q, start) is None for _, _, start in orgs):
        return None
    toks = q.tokens
    where = any(t in WHERE for t in toks[:4]) or (
        toks[:1] == ["ou"] or toks[:2] == ["d", "ou"] or "chez qui" in " ".join(toks)
    )
    if where:
        return persons[0][0]
    work_for = any(t in lex.WORK_VERBS for t in toks) and any(t in ("for", "pour") for t in toks)
    asks_org = any(t in ORG_NOUNS for t in toks) and any(
        t in ("which", "what", "quelle", "quel", "laquelle", "lequel") for t in toks[:3]
    )
    # "Which company fired Altman?" asks who did something: a fact, not a role.
    other_preds = [p for _, p, _ in q.preds if p not in MOVE_FACTS]
    if (work_for or asks_org) and not other_preds:
        return persons[0][0]
    return None


def _anchor(q: Query, start: int) -> str | None:
    """ "before" / "after" when the organisation at ``start`` follows such a word."""
    word = q.tokens[start - 1] if start > 0 else ""
    return TIME_WORDS.get(word)


def _roles(
    ix: StoryIndex,
    q: Query,
    person: Entity,
    as_of: dt.date,
    anchors: list[tuple[Entity, float, int]],
) -> list[Role]:
    assert person.person is not None
    blind = hides_future(ix, as_of)
    known_roles = [
        r
        for role in person.person.roles
        if role.organisation in ix.by_id
        and (r := role_as_known(role, as_of) if blind else role) is not None
    ]
    for org, _, start in anchors:  # "before OpenAI": the posts that came before theirs there
        there = [r for r in known_roles if r.organisation == org.id]
        if not there:
            continue
        began = min((r.since.first for r in there if r.since is not None), default=None)
        known_roles = [r for r in known_roles if r.organisation != org.id]
        if began is not None and _anchor(q, start) == "before":
            known_roles = [r for r in known_roles if r.since is None or r.since.first < began]
        elif began is not None:
            known_roles = [r for r in known_roles if r.since is not None and r.since.first > began]
    specific = {key for _, key, weak in q.roles if not weak}
    if specific:
        known_roles = [r for r in known_roles if r.key in specific]
    elif any(weak for _, _, weak in q.roles):
        known_roles = [r for r in known_roles if r.key in HEAD_KEYS] or known_roles
    interim = q.has("interim")

    def rank(role: Role) -> tuple[bool, bool, int]:
        # Held before ended, the interim post first when asked, then the most recent.
        started = role.since.first.toordinal() if role.since is not None else 0
        ended = role.until is not None and role.until.first <= as_of
        return (ended, interim and not role.interim, -started)

    return sorted(known_roles, key=rank)


def organisation_answer(
    ix: StoryIndex,
    echo: str,
    lang: Lang,
    q: Query,
    person: Entity,
    accepted: list[tuple[Entity, float, int]],
    as_of: dt.date,
) -> WhoAnswer | None:
    """The organisations of ``person`` as of ``as_of``, the most recent first; None when the
    story gives them none (the caller answers otherwise)."""
    anchors = [a for a in accepted if a[0].kind == "organisation"]
    roles = _roles(ix, q, person, as_of, anchors)
    if not roles:
        return None
    _t = Messages(lang, domain="whois")
    items: list[Item] = []
    seen: list[str] = []
    for role in roles:
        assert role.organisation is not None
        org = ix.by_id[role.organisation]
        if org.id not in seen:
            seen.append(org.id)
        title = role.title(lang)  # the organisation is already named, first
        if role.planned:
            title = _t("%(title)s (announced)", title=title)
        spans = (Span(org.display(lang), "strong"), Span(" — " + title))
        items.append(Item(spans, role_range(ix, role, lang, _t) or None))
    for pred in MOVE_FACTS:
        for triple in ix.triples.get(pred, []):
            event = triple.event
            if (
                event is not None
                and person.id in (triple.doer, triple.undergoer)
                and seen[0] in (triple.undergoer, *event.organisations)
                and event_known(event, as_of)
            ):
                items.append(Item((Span(event.headline(lang)),), when(ix, event.date, lang, _t)))
                break
    sections, subtitle = entity_sections(ix, person, lang, as_of)
    sections.insert(0, Section(_t("Answer"), tuple(dict.fromkeys(items))))
    person_score = next((s for e, s, _ in accepted if e is person), 1.0)
    matches = [match(ix, ix.by_id[org_id], 1.0 - 0.05 * n, lang) for n, org_id in enumerate(seen)]
    matches.append(match(ix, person, min(person_score, 0.9), lang))
    doc = document(
        ix,
        lang,
        person.display(lang),
        sections,
        subtitle,
        {"found": True, "intent": "organisation", "question": echo},
    )
    return WhoAnswer(echo, lang, True, tuple(matches), doc, (), "organisation")
