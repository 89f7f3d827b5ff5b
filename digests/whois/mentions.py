"""Which entities a question names, which names it gives that the story lacks.

A first name (or surname) of the story next to an unexplained name-like word ("Greg Abbott")
is not taken for the story's Greg: it becomes an unknown name, offered suggestions.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rapidfuzz import fuzz

from digests.textnorm import (
    neutralise,
    normalise,
)
from digests.whois.model import Entity, Query

if TYPE_CHECKING:
    from digests.whois.index import StoryIndex


def capitalised(ix: StoryIndex, q: Query, position: int) -> bool:
    """Does this token look like a proper name in the original question?"""
    if not q.mixed_case or q.cased is None:
        return True  # all lower- or upper-case: no signal, assume it may be a name
    token = q.cased[position]
    return token[:1].isupper()


def name_like(ix: StoryIndex, q: Query, position: int) -> bool:
    token = q.tokens[position]
    if q.explained[position] or not token.isalpha() or len(token) < 2:
        return False
    if q.mixed_case and q.cased is not None:
        return q.cased[position][:1].isupper() and (position > 0 or len(token) >= 3)
    # No case to go by: a word the story's own texts use ("reunite") is not a name.
    return len(token) >= 3 and token not in ix.texts.vocab


# Particles inside a family name ("Marie de La Tour", "Ludwig van Beethoven").
PARTICLES = frozenset(
    [
        "de",
        "du",
        "des",
        "la",
        "le",
        "van",
        "von",
        "der",
        "den",
        "da",
        "di",
        "del",
        "della",
        "dos",
        "das",
        "ter",
        "ten",
        "bin",
        "ibn",
        "al",
        "el",
        "st",
    ]
)


def connector(q: Query, position: int) -> bool:
    """A word that joins two parts of one name: a particle ("de La Tour") or a letter before an
    apostrophe ("O'Brien", "D'Angelo", "Jean d'Ormesson")."""
    token = q.tokens[position]
    if len(token) == 1 and token.isalpha():
        if q.spans is None or position + 1 >= len(q.spans):
            return False
        gap = q.text[q.spans[position][1] : q.spans[position + 1][0]]
        return gap in ("'", "\u2019")
    return token in PARTICLES


def name_after(ix: StoryIndex, q: Query, position: int) -> int | None:
    """The name-like word at ``position``, or after connectors from there ("de La Tour")."""
    p = position
    while p < len(q.tokens) and connector(q, p) and p - position < 3:
        p += 1
    return p if p < len(q.tokens) and name_like(ix, q, p) else None


def name_before(ix: StoryIndex, q: Query, position: int) -> int | None:
    """The name-like word at ``position``, or before connectors from there."""
    p = position
    while p >= 0 and connector(q, p) and position - p < 3:
        p -= 1
    return (
        p
        if p >= 0 and p != position and name_like(ix, q, p)
        else (position if position >= 0 and name_like(ix, q, position) else None)
    )


def name_start(q: Query, position: int) -> bool:
    """A capital letter before an apostrophe starts a name ("O'Neil"); "d'" is French elision."""
    return (
        connector(q, position)
        and len(q.tokens[position]) == 1
        and q.cased is not None
        and q.cased[position].isupper()
    )


def resolve(
    ix: StoryIndex, q: Query
) -> tuple[list[tuple[Entity, float, int]], list[Entity], list[tuple[str, int]]]:
    """Accepted entities (entity, score, first position), rejected ones, unknown names."""
    accepted: list[tuple[Entity, float, int]] = []
    rejected: list[Entity] = []
    conflicts: list[tuple[int, int]] = []
    token_owners: dict[int, set[int]] = {}
    for index, evidence in q.evidence.items():
        for ev in evidence:
            if ev.how in ("first", "last", "alias"):
                token_owners.setdefault(ev.start, set()).add(index)
    for index, evidence in q.evidence.items():
        entity = ix.entities[index]
        full = [ev for ev in evidence if ev.how == "full"]
        start = min(ev.start for ev in evidence)
        if full:
            best = max(ev.score for ev in full)
            accepted.append((entity, best, start))
            if entity.kind == "person":
                # "Sam Altman's brother Jack Altman": another, partial mention of the name
                # next to an unknown word is someone else.
                for ev in evidence:
                    if ev.how == "full" or any(f.start <= ev.start < f.end for f in full):
                        continue
                    clash = [
                        p
                        for p in (name_before(ix, q, ev.start - 1), name_after(ix, q, ev.end))
                        if p is not None and not close_to_name(ix, q.tokens[p], entity)
                    ]
                    if clash:
                        conflicts.append((min(ev.start, *clash), max(ev.end - 1, *clash)))
            continue
        firsts = [ev for ev in evidence if ev.how in ("first", "alias")]
        lasts = [ev for ev in evidence if ev.how in ("last", "alias")]
        pair = next(((a, b) for a in firsts for b in lasts if a.start != b.start), None)
        if pair is not None:
            accepted.append((entity, 0.95 * min(pair[0].score, pair[1].score), start))
            continue
        ev = max(evidence, key=lambda e: e.score)
        base = {"last": 0.85, "alias": 0.85, "first": 0.8, "part": 0.6}.get(ev.how, 0.6)
        score = base * ev.score
        if entity.kind == "person" and len(token_owners.get(ev.start, ())) > 1:
            score *= 0.85
        if entity.kind == "person":
            neighbours = [name_before(ix, q, ev.start - 1), name_after(ix, q, ev.end)]
            clash = [
                p
                for p in neighbours
                if p is not None and not close_to_name(ix, q.tokens[p], entity)
            ]
            if clash:
                rejected.append(entity)
                span = (min(ev.start, *clash), max(ev.end - 1, *clash))
                conflicts.append(span)
                continue
        if entity.kind == "person" and any(
            name_like(ix, q, p) for p in (ev.start - 1, ev.end) if 0 <= p < len(q.tokens)
        ):
            score = max(score, 0.75)  # first name + a close typo of the surname
            for p in (ev.start - 1, ev.end):
                if 0 <= p < len(q.tokens) and name_like(ix, q, p):
                    q.explained[p] = True
        if score >= 0.5:
            accepted.append((entity, score, start))
    # Unknown names: runs of name-like unexplained tokens (+ the partial names they clash with).
    unknown: list[tuple[str, int]] = []  # (name as typed, number of words; 0 = clash)
    covered: set[int] = set()
    for a, b in conflicts:
        while a > 0 and (before := name_before(ix, q, a - 1)) is not None:
            a = before
        while b + 1 < len(q.tokens) and (after := name_after(ix, q, b + 1)) is not None:
            b = after
        covered.update(range(a, b + 1))
        unknown.append((span_text(ix, q, a, b + 1), 0))
    position = 0
    while position < len(q.tokens):
        starts = name_like(ix, q, position) or (
            name_start(q, position) and name_after(ix, q, position) is not None
        )
        if position in covered or not starts:
            position += 1
            continue
        end = position if name_like(ix, q, position) else name_after(ix, q, position) or position
        while (
            end + 1 < len(q.tokens)
            and (after := name_after(ix, q, end + 1)) is not None
            and after not in covered
        ):
            end = after
        run = end - position + 1
        strong = run >= 2 or (q.mixed_case and q.cased is not None) or len(q.tokens) <= 3
        if strong:
            unknown.append((span_text(ix, q, position, end + 1), run))
        else:
            q.markers.setdefault("weak_unknown", []).append(position)
        position = end + 1
    accepted.sort(key=lambda t: (-t[1], t[2]))
    return accepted, rejected, unknown


def close_to_name(ix: StoryIndex, token: str, entity: Entity) -> bool:
    """A typo of another part of the same person's name ("Mira Moratti")."""
    assert entity.person is not None
    parts = normalise(" ".join([entity.person.name, *entity.person.aliases])).split()
    return len(token) >= 4 and any(
        fuzz.ratio(token, part) >= 70 for part in parts if len(part) >= 4
    )


def span_text(ix: StoryIndex, q: Query, start: int, end: int) -> str:
    if q.spans is not None and end <= len(q.spans):
        typed = q.text[q.spans[start][0] : q.spans[end - 1][1]]
        return neutralise(typed)[:80]
    words = q.cased if q.cased is not None else q.tokens
    text = " ".join(words[start:end])
    if q.cased is None or not q.mixed_case:
        text = " ".join(w.capitalize() for w in text.split())
    return neutralise(text)[:80]
