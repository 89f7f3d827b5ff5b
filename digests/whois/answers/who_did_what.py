"""Who did what: questions that name an action ("who fired Altman?", "qui a convaincu Shear ?").

The question's predicate is matched against the story's facts (events) and relations; the answer
is the doer or the undergoer the question asks for, never the person the question names. Questions
whose verb the vocabulary does not know are answered from the story's texts (`texts`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING

from digests.documents import Item, Section, Span
from digests.i18n import Messages
from digests.story import Lang
from digests.whois.answers.identity import entity_sections
from digests.whois.model import (
    GROUP_PREFIX,
    ORG_LINKS,
    RELATIONS,
    Entity,
    Query,
    Triple,
    WhoAnswer,
)
from digests.whois.phrasing import relation_item, when
from digests.whois.render import document, match, others
from digests.whois.texts import doc_text, similarities

if TYPE_CHECKING:
    from digests.whois.index import StoryIndex

TRANSITIVE = {
    "fired",
    "appointed",
    "recruited",
    "replaced",
    "preceded",
    "negotiated",
    "threatened",
    "works_with",
    "convinced",
    "reported",
    "demanded",
    "approved",
    "disapproved",
    "shareholder_of",
    "partner_of",
    "rival_of",
    "wanted",
    "instigated",
}
ARTICLES = {
    "the",
    "le",
    "la",
    "l",
    "les",
    "un",
    "une",
    "a",
    "an",
    "its",
    "son",
    "sa",
    "ses",
    "leur",
}
LOCATIVE = {"at", "chez", "in", "inside", "within", "a"}
# Predicates said of the one who undergoes another fact: (asked predicate -> fact predicate).
TAKES_POST = {"took_over": "appointed"}
DESIRE = {"wanted"}  # predicates whose object is another action ("wants to sue")
FALLBACK_PREDICATES: dict[str, tuple[str, ...]] = {
    "joined": ("will_lead", "appointed"),
    "recruited": ("will_lead", "joined", "appointed"),
    "will_lead": ("appointed",),
}


def side_of(ix: StoryIndex, q: Query, start: int, end: int, pred_pos: int, noun: bool) -> str:
    look = start - 1
    while look >= 0 and q.tokens[look] in ARTICLES:
        look -= 1
    if look >= 0 and look in q.markers.get("by", []):
        return "doer"
    if q.has("by_whom"):
        return "undergoer"
    if noun:
        return "undergoer"
    if start < pred_pos:
        passive = any(end <= p < pred_pos for p in q.markers.get("passive", []))
        return "undergoer" if passive else "doer"
    return "undergoer"


def query_predicate(
    ix: StoryIndex,
    q: Query,
    pred: str,
    pred_pos: int,
    noun: bool,
    accepted: list[tuple[Entity, float, int]],
) -> list[tuple[str, Triple, float]]:
    results = query_one_predicate(ix, q, pred, pred_pos, noun, accepted)
    for other in FALLBACK_PREDICATES.get(pred, ()):
        if results:
            break
        results = [
            (t, tr, s * 0.9)
            for t, tr, s in query_one_predicate(ix, q, other, pred_pos, noun, accepted)
        ]
    return results


def query_one_predicate(
    ix: StoryIndex,
    q: Query,
    pred: str,
    pred_pos: int,
    noun: bool,
    accepted: list[tuple[Entity, float, int]],
) -> list[tuple[str, Triple, float]]:
    taken = TAKES_POST.get(pred)  # "who took over": the appointee of an "appointed" fact
    if taken is not None:
        pred = taken
    triples = list(ix.triples.get(pred, []))
    if not triples:
        return []
    constraints: list[tuple[Entity, str]] = []
    temporal = {
        "after",
        "apres",
        "before",
        "avant",
        "since",
        "depuis",
        "when",
        "quand",
        "following",
        "lorsque",
    }
    passive_before = [p for p in q.markers.get("passive", []) if p < pred_pos]
    for entity, _score, start in accepted:
        if (
            any(q.tokens[p] in temporal for p in range(max(0, min(start, pred_pos + 1)), start))
            and start > pred_pos
        ):
            continue  # "who resigned after Sam Altman was fired": a time, not a participant
        evidence = q.evidence.get(entity.index, [])
        end = max((ev.end for ev in evidence if ev.start == start), default=start + 1)
        side = side_of(ix, q, start, end, pred_pos, noun)
        if (
            start > pred_pos
            and side == "undergoer"
            and passive_before
            and entity.kind == "organisation"
        ):
            side = "context"  # "who got fired from OpenAI": OpenAI is where, not who
        if entity.kind == "organisation" and start > 0 and q.tokens[start - 1] in LOCATIVE:
            side = "context"  # "work with at Microsoft": where, not who
        constraints.append((entity, side))
    specific = {key for _, key, weak in q.roles if not weak}
    transitive = pred in TRANSITIVE and taken is None
    if taken is not None:
        answer_side = "undergoer"
    elif transitive:
        sides = [side for _, side in constraints if side != "context"]
        if any(side == "doer" for side in sides):
            answer_side = "undergoer"
        elif q.has("by_whom") or sides:
            answer_side = "doer"
        elif noun:
            answer_side = "undergoer" if pred in ("fired", "appointed", "recruited") else "doer"
        else:
            answer_side = "undergoer" if passive_before or q.has("by") else "doer"
    else:
        answer_side = "doer"

    # Scan only the triples of an entity the question names as a participant; a place ("at
    # OpenAI") may be missing from a relation that has no event, so it never narrows the scan.
    participants = [entity for entity, side in constraints if side != "context"]
    if participants:
        triples = ix.pred_entity.get((pred, participants[0].id), [])

    def date_ok(triple: Triple) -> bool:
        if q.date is None:
            return True
        if triple.date is None:
            # A standing link ("partner since 2019", "recruited by") holds on every day of
            # the story; an undated fact cannot be placed on one.
            return triple.predicate in RELATIONS and q.date.relation == "on"
        day = q.date.day
        if q.date.relation == "on":
            return triple.date.first <= day <= triple.date.last
        if q.date.relation == "before":
            return triple.date.first < day
        return triple.date.last > day

    def run(strict: bool, side: str) -> list[tuple[str, Triple, float]]:
        out: list[tuple[str, Triple, float]] = []
        for triple in triples:
            if (
                q.known_by is not None
                and triple.date is not None
                and triple.date.first > q.known_by
            ):
                continue  # not known yet on the day the question is asked
            target = getattr(triple, side)
            if target is None and side == "doer":
                target = triple.group_id()  # a group the source does not name
            if target is None or not date_ok(triple):
                continue
            score = 1.0
            if specific and triple.role is not None and triple.role not in specific:
                score = 0.5  # "who resigned as CEO?": another role is a weaker answer
            ok = True
            for entity, wanted in constraints:
                if entity.id == target:
                    ok = False
                    break
                if transitive and wanted != "context":
                    other = "undergoer" if side == "doer" else "doer"
                    exact = getattr(triple, other) == entity.id
                else:
                    exact = entity.id in (triple.doer, triple.undergoer)
                if exact:
                    continue
                event = triple.event
                related = event is not None and (
                    entity.id in event.organisations or (not strict and entity.id in event.people)
                )
                if related and (entity.kind == "organisation" or not strict):
                    score *= 0.7
                    continue
                if wanted == "context" and event is None:
                    score *= 0.7  # a relation has no place to check it against
                    continue
                ok = False
                break
            if ok:
                if specific and triple.role in specific:
                    score = min(1.0, score * 1.05)
                out.append((target, triple, score))
        return out

    results = run(True, answer_side) or run(False, answer_side)
    if not results and transitive and (not constraints or pred in ORG_LINKS):
        # "De quelle entreprise Microsoft est-il actionnaire ?": the other way round.
        results = run(True, "doer" if answer_side == "undergoer" else "undergoer")
    far = dt.date.max
    # Ties (several subjects of "declared"...) go to the event whose text best matches.
    sims = similarities(ix, q, range(len(q.tokens)), set()) if len(results) > 1 else {}

    def overlap(triple: Triple) -> float:
        return text_overlap(ix, triple, sims)

    if q.has("first"):  # "who took over first?": the earliest fact decides ties
        results.sort(
            key=lambda r: (-round(r[2], 3), r[1].date.first if r[1].date else far, -overlap(r[1]))
        )
    else:
        results.sort(
            key=lambda r: (-round(r[2], 3), -overlap(r[1]), r[1].date.first if r[1].date else far)
        )
    seen: set[str] = set()
    unique: list[tuple[str, Triple, float]] = []
    for target, triple, score in results:
        if target in seen or (target not in ix.by_id and not target.startswith(GROUP_PREFIX)):
            continue
        seen.add(target)
        unique.append((target, triple, score))
    return unique


def text_overlap(ix: StoryIndex, triple: Triple, sims: dict[int, float]) -> float:
    """How well the question's words match the text a triple comes from (its event or context)."""
    if triple.event is not None:
        number = ix.texts.of_event.get(triple.event.id)
    else:
        number = ix.texts.of_context.get(triple.context.id) if triple.context else None
    return round(sims.get(number, 0.0), 3) if number is not None else 0.0


def choose_predicate(
    ix: StoryIndex,
    q: Query,
    candidates: list[tuple[int, str, bool]],
    accepted: list[tuple[Entity, float, int]],
) -> tuple[int, str, bool]:
    """The predicate a question asks about when it names several ("who called for caution?":
    a verb of asking, and a noun that says what was asked for): the one whose facts come from
    the text that best matches the whole question. The first one wins ties and when none has
    facts."""
    first = candidates[0]
    if len({pred for _, pred, _ in candidates}) < 2:
        return first
    # "Who wants to sue?", "qui veut poursuivre ...": the wish is about the verb that follows.
    if first[1] in DESIRE:
        following = [c for c in candidates[1:] if 0 < c[0] - first[0] <= 3 and c[1] not in DESIRE]
        if following:
            return following[0]
    sims = similarities(ix, q, range(len(q.tokens)), set())
    best, best_score = first, -1.0
    for candidate in candidates:
        position, pred, noun = candidate
        results = query_predicate(ix, q, pred, position, noun, accepted)
        if not results:
            continue
        score = max(text_overlap(ix, triple, sims) for _, triple, _ in results)
        if score > best_score + 1e-9:
            best, best_score = candidate, score
    return best


def event_answer(
    ix: StoryIndex,
    echo: str,
    lang: Lang,
    q: Query,
    pred: str,
    results: list[tuple[str, Triple, float]],
    accepted: list[tuple[Entity, float, int]],
    as_of: dt.date,
    unnamed: Sequence[Triple] = (),
) -> WhoAnswer:
    """Who did it, named; ``unnamed``: groups the story does not name that did it too (shown
    after, as such, never as a match)."""
    _t = Messages(lang, domain="whois")
    items = []
    for target, triple, _score in results[:8]:
        name = ix.by_id[target].display(lang)
        if triple.event is not None:
            body = triple.event.headline(lang)
        elif triple.text is not None:
            body = triple.text(lang)
        else:
            body = relation_item(ix, triple, ix.by_id[target], lang, _t).plain
        label = when(ix, triple.date, lang, _t) if triple.date is not None else None
        items.append(Item((Span(name, "strong"), Span(" — " + body)), label))
    for triple in list(dict.fromkeys(unnamed))[:3]:
        if triple.group is None or triple.event is None:
            continue
        group = _t("%(group)s (not named in the story)", group=triple.group(lang))
        label = when(ix, triple.date, lang, _t) if triple.date is not None else None
        items.append(
            Item((Span(group, "strong"), Span(" — " + triple.event.headline(lang))), label)
        )
    top = ix.by_id[results[0][0]]
    sections, subtitle = entity_sections(ix, top, lang, as_of)
    sections.insert(0, Section(_t("Answer"), tuple(items)))
    matches = [match(ix, ix.by_id[t], s, lang) for t, _, s in results]
    doc = document(
        ix,
        lang,
        top.display(lang),
        sections,
        subtitle,
        {"found": True, "intent": "event", "question": echo},
    )
    return WhoAnswer(echo, lang, True, tuple(matches), doc, (), "event")


def text_answer(
    ix: StoryIndex,
    echo: str,
    lang: Lang,
    q: Query,
    found: list[tuple[str, float, int]],
    accepted: list[tuple[Entity, float, int]],
    as_of: dt.date,
) -> WhoAnswer:
    _t = Messages(lang, domain="whois")
    best = found[0][1]
    kept = [f for f in found if f[1] >= best * 0.8][:3]
    items = []
    for entity_id, _score, number in kept:
        body, date = doc_text(ix, number, lang)
        label = when(ix, date, lang, _t) if date is not None else None
        name = ix.by_id[entity_id].display(lang)
        items.append(Item((Span(name, "strong"), Span(" — " + body)), label))
    top = ix.by_id[kept[0][0]]
    sections, subtitle = entity_sections(ix, top, lang, as_of)
    sections.insert(0, Section(_t("Answer"), tuple(items)))
    scale = min(1.0, 0.6 + best)
    matches = [
        match(ix, ix.by_id[entity_id], scale * score / best, lang)
        for entity_id, score, _ in found[:5]
    ]
    doc = document(
        ix,
        lang,
        top.display(lang),
        sections,
        subtitle,
        {"found": True, "intent": "event", "question": echo},
    )
    return WhoAnswer(
        echo, lang, True, tuple(others(ix, accepted, matches, lang)[:8]), doc, (), "event"
    )
