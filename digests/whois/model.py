"""The typed data the who-is-who pipeline passes between its stages, and its public results.

normalise -> dates -> tagging -> mentions -> analysis produce a `Query` and the entities it names;
the answer modules turn them into a `WhoAnswer` (a platform-neutral document plus matches).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Literal

from digests.documents import Document
from digests.story import Event, Lang, Organisation, Person, StoryDate
from digests.textnorm import neutralise

Kind = Literal["person", "organisation"]
Intent = Literal[
    "identity", "organisation", "role", "role-at-date", "event", "relation", "unknown", "usage"
]

MAX_TOKENS = 60
SUGGESTION_LIMIT = 25
SPEECH = {"declared", "announced", "explained"}  # predicates of facts that report speech
PASSIVE_FACTS = {"fired", "appointed"}  # facts whose subject undergoes the action (by = agent)
SYMMETRIC = {"partner_of", "rival_of"}  # links between organisations that go both ways
ORG_LINKS = {"partner_of", "shareholder_of", "rival_of"}
# Timeless links between people or organisations (shown as "related"), not things that happened.
RELATIONS = {"recruited", "replaced", "preceded", "works_with", "cofounded_with", *ORG_LINKS}
GROUP_PREFIX = "group:"  # the answer id of a group the source does not name

# --------------------------------------------------------------------------- public results


@dataclass(frozen=True, slots=True)
class Match:
    """An entity the answer is about; ``score`` in [0, 1], best first in `WhoAnswer.matches`."""

    id: str
    name: str
    kind: Kind
    score: float


@dataclass(frozen=True, slots=True)
class Suggestion:
    """A name offered for autocomplete or as a "did you mean ...?" (never an answer)."""

    id: str
    name: str
    kind: Kind


@dataclass(frozen=True, slots=True)
class WhoAnswer:
    question: str
    lang: Lang
    found: bool
    matches: tuple[Match, ...]
    document: Document
    suggestions: tuple[Suggestion, ...] = ()
    intent: Intent = "unknown"

    @property
    def text(self) -> str:
        """The answer as plain text, safe to post (no live mass mention)."""
        from digests.render import render_text

        return neutralise(render_text(self.document))

    def to_json(self) -> dict[str, Any]:
        """The CLI's ``--json`` object; suggestions go in ``matches`` when nothing was found."""
        matches = self.matches
        if not self.found and not matches:
            matches = tuple(Match(s.id, s.name, s.kind, 0.0) for s in self.suggestions)
        return {
            "question": self.question,
            "lang": self.lang,
            "found": self.found,
            "matches": [
                {"id": m.id, "name": m.name, "kind": m.kind, "score": round(m.score, 3)}
                for m in matches
            ],
            "text": self.text,
        }


# --------------------------------------------------------------------------- internals


@dataclass(slots=True, eq=False)
class Entity:
    index: int
    id: str
    kind: Kind
    name: str
    person: Person | None
    organisation: Organisation | None
    weight: int = 0

    def display(self, lang: Lang) -> str:
        if self.organisation is not None:
            return self.organisation.name_in(lang)
        return self.name


@dataclass(frozen=True, slots=True)
class Triple:
    """A normalised statement: ``doer`` does ``predicate`` to ``undergoer``."""

    predicate: str
    doer: str | None
    undergoer: str | None
    date: StoryDate | None
    role: str | None
    event: Event | None
    text: Any = None  # a relation's bilingual text, when the triple comes from a relation
    group: Any = None  # who did it, when the source does not name them (bilingual Text)
    context: Any = None  # the story's context item the fact comes from (not an event)

    def group_id(self) -> str | None:
        """An answer id for the unnamed group that did this ("group:<event id>"), if any."""
        if self.doer is None and self.group is not None and self.event is not None:
            return GROUP_PREFIX + self.event.id
        return None


@dataclass(frozen=True, slots=True)
class DateSpec:
    day: dt.date
    relation: Literal["on", "before", "after"]


@dataclass(slots=True)
class Evidence:
    start: int
    end: int
    how: str  # full, alias, first, last, part, acro
    score: float


@dataclass(slots=True)
class Query:
    text: str  # cleaned question (shown back to users only through neutralise)
    tokens: list[str]
    cased: list[str] | None
    mixed_case: bool
    date: DateSpec | None = None
    roles: list[tuple[int, str, bool]] = field(default_factory=list)  # pos, key, weak
    preds: list[tuple[int, str, bool]] = field(default_factory=list)  # pos, predicate, noun
    markers: dict[str, list[int]] = field(default_factory=dict)
    evidence: dict[int, list[Evidence]] = field(default_factory=dict)
    explained: list[bool] = field(default_factory=list)
    fuzzy_hit: list[bool] = field(default_factory=list)
    spans: list[tuple[int, int]] | None = None  # each token's place in `text` (as typed)
    bad_date: str | None = None  # a date that does not exist ("31 February"), as typed
    nominal: set[int] = field(default_factory=set)  # predicate positions used as nouns
    # The last day the answer may know of ("today", or the story's last day): nothing that
    # happened or was reported later is an answer.
    known_by: dt.date | None = None

    def has(self, marker: str) -> bool:
        return marker in self.markers


# An entity the question names: (entity, confidence, first token position).
Named = tuple[Entity, float, int]
