"""Groups the source does not name: "who are the three senior scientists who resigned?".

A fact without a subject but with a ``group`` ("three key senior scientists") says someone did it
whom the source does not name. A question that describes such a group, or asks who did
something only such a group did, is answered with that: the source does not name them. Never
with a named person who is not one of them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

from digests.documents import Item, Section, Span
from digests.i18n import Messages
from digests.story import Lang
from digests.textnorm import normalise
from digests.whois import lexicon as lex
from digests.whois.known import known
from digests.whois.model import Entity, Query, Triple, WhoAnswer
from digests.whois.normalise import stem
from digests.whois.phrasing import when
from digests.whois.render import document

if TYPE_CHECKING:
    from digests.whois.index import StoryIndex

_NUMBERS = {
    "one": "1",
    "two": "2",
    "three": "3",
    "four": "4",
    "five": "5",
    "un": "1",
    "deux": "2",
    "trois": "3",
    "quatre": "4",
    "cinq": "5",
}
_MIN_SHARED = 2  # words of a group's description a question must share to be about it


@dataclass(frozen=True, slots=True)
class Group:
    """An unnamed group of a story: the fact it did and the stems of its description."""

    triple: Triple
    stems: frozenset[str]


def _stem_of(token: str) -> str | None:
    token = _NUMBERS.get(token, token)
    if token.isdigit():
        return token
    if len(token) < 2 or token in lex.STOPWORDS or token in lex.TEXT_STOPWORDS:
        return None
    return stem(token)


def build_groups(ix: StoryIndex) -> list[Group]:
    """Every unnamed group of the story, with the words that describe it (both languages)."""
    names = {p for p, tags in ix.phrases.items() if any(t[0] == "ent" for t in tags)}
    groups = []
    for triples in ix.triples.values():
        for triple in triples:
            if triple.group_id() is None:
                continue
            words = normalise(f"{triple.group.fr} {triple.group.en}").split()
            stems = {s for w in words if w not in names and (s := _stem_of(w)) is not None}
            groups.append(Group(triple, frozenset(stems)))
    return groups


def described_group(
    ix: StoryIndex, q: Query, accepted: list[tuple[Entity, float, int]], as_of: dt.date
) -> list[Triple]:
    """The unnamed groups the question describes ("les 3 cadres scientifiques"), best first."""
    if not ix.groups:
        return []
    named: set[int] = set()
    for entity, _score, _start in accepted:
        for ev in q.evidence.get(entity.index, []):
            named.update(range(ev.start, ev.end))
    asked = {
        s
        for i, token in enumerate(q.tokens)
        if i not in named and (s := _stem_of(token)) is not None
    }
    scored = [
        (len(group.stems & asked), group.triple)
        for group in ix.groups
        if known(group.triple.date, as_of)
    ]
    best = max((n for n, _ in scored), default=0)
    if best < _MIN_SHARED:
        return []
    return [triple for n, triple in scored if n == best]


def group_answer(
    ix: StoryIndex, echo: str, lang: Lang, triples: list[Triple], as_of: dt.date
) -> WhoAnswer:
    """The source does not name them: what it says they did, and nothing about anyone else."""
    _t = Messages(lang, domain="whois")
    first = triples[0]
    description = first.group(lang)
    items = [
        Item(
            (Span(triple.event.headline(lang)),) if triple.event else (),
            when(ix, triple.date, lang, _t) if triple.date is not None else None,
        )
        for triple in dict.fromkeys(triples)
        if triple.event is not None
    ]
    sentence = _t("The story does not name them: %(group)s.", group=description)
    sections = [
        Section(_t("Answer"), (Item((Span(sentence, "strong"),)),), "paragraph"),
        Section(_t("What the story says"), tuple(items[:8])),
    ]
    doc = document(
        ix,
        lang,
        description[:1].upper() + description[1:],
        sections,
        None,
        {"found": True, "intent": "event", "question": echo},
    )
    return WhoAnswer(echo, lang, True, (), doc, (), "event")
