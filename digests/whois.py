"""Who is who: answer free-text French and English questions about a story's people.

A deterministic engine over the story data (no language model, no network):

1. the question is cleaned (mention markup and mass mentions removed) and normalised;
2. dates are read ("18 novembre 2023", "Nov 18", "2023-11-18", "le lendemain", "avant le 17");
3. the longest known phrases are tagged: names and aliases of people and organisations, role
   titles (bilingual lexicon plus the story's own titles), predicates (fired, licencié...),
   markers (by/par, was/été, will/va, interim...);
4. words left unexplained are matched fuzzily (rapidfuzz, strict cutoffs, length buckets) against
   name tokens; a first name (or surname) next to an unexplained name-like word ("Greg Abbott")
   is *not* taken for the story's Greg: it becomes a clearly marked suggestion;
5. the question is answered from the story's facts, relations and time-ranged roles, in that
   order of preference, or refused honestly ("not in this story").

Public API: `WhoIndex.build(story)`, `index.answer(question, lang, today=None) -> WhoAnswer`,
`index.suggest(prefix, lang, limit=25) -> list[Suggestion]`, and `index_for(story)` (cached).
"""

from __future__ import annotations

import bisect
import dataclasses
import datetime as dt
import math
import re
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

from rapidfuzz import fuzz, process

from digests import whois_lexicon as lex
from digests.documents import Document, Item, Section, Span
from digests.formatting import format_long, format_names, format_usd
from digests.i18n import Messages
from digests.story import Event, Lang, Organisation, Person, Role, Story, StoryDate
from digests.textnorm import (
    MAX_INPUT,
    clean,
    fold,
    neutralise,
    normalise,
    starts_with_vowel,
    strip_mentions,
)

Kind = Literal["person", "organisation"]
Intent = Literal[
    "identity", "organisation", "role", "role-at-date", "event", "relation", "unknown", "usage"
]

MAX_TOKENS = 60
SUGGESTION_LIMIT = 25


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
class _Entity:
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
class _Triple:
    """A normalised statement: ``doer`` does ``predicate`` to ``undergoer``."""

    predicate: str
    doer: str | None
    undergoer: str | None
    date: StoryDate | None
    role: str | None
    event: Event | None
    text: Any = None  # a relation's bilingual text, when the triple comes from a relation


@dataclass(frozen=True, slots=True)
class _DateSpec:
    day: dt.date
    relation: Literal["on", "before", "after"]


@dataclass(slots=True)
class _Evidence:
    start: int
    end: int
    how: str  # full, alias, first, last, part, acro
    score: float


@dataclass(slots=True)
class _Query:
    text: str  # cleaned question (shown back to users only through neutralise)
    tokens: list[str]
    cased: list[str] | None
    mixed_case: bool
    date: _DateSpec | None = None
    roles: list[tuple[int, str, bool]] = field(default_factory=list)  # pos, key, weak
    preds: list[tuple[int, str, bool]] = field(default_factory=list)  # pos, predicate, noun
    markers: dict[str, list[int]] = field(default_factory=dict)
    evidence: dict[int, list[_Evidence]] = field(default_factory=dict)
    explained: list[bool] = field(default_factory=list)
    fuzzy_hit: list[bool] = field(default_factory=list)
    spans: list[tuple[int, int]] | None = None  # each token's place in `text` (as typed)
    bad_date: str | None = None  # a date that does not exist ("31 February"), as typed
    nominal: set[int] = field(default_factory=set)  # predicate positions used as nouns

    def has(self, marker: str) -> bool:
        return marker in self.markers


_SPEECH = {"declared", "announced", "explained"}
_TRANSITIVE = {
    "fired",
    "appointed",
    "recruited",
    "replaced",
    "preceded",
    "negotiated",
    "threatened",
    "works_with",
}
_PASSIVE_FACTS = {"fired", "appointed"}  # facts whose subject undergoes the action (by = agent)
_ARTICLES = {
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
_DAY_TOKEN = re.compile(r"^(\d{1,2})(st|nd|rd|th|er|re|e|eme)?$")
_YEAR_TOKEN = re.compile(r"^(19|20|21)\d\d$")
_CASED_SPLIT = re.compile(r"[^0-9A-Za-z]+")
_BOARD_WORDS = {"board", "conseil", "ca", "directors", "administration"}
_MEMBER_WORDS = {
    "on",
    "member",
    "members",
    "membre",
    "membres",
    "sits",
    "sit",
    "siege",
    "siegent",
    "seat",
    "seats",
    "au",
    "composition",
    "compose",
}
_SHORT_FUNCTION = {"of", "de", "d", "the", "la", "le", "les", "du", "des", "l", "and", "et", "s"}


def _cased_tokens(text: str) -> list[str]:
    import unicodedata

    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c)).replace("ß", "ss")
    return [t for t in _CASED_SPLIT.split(stripped) if t]


_SUFFIXES = (
    "ements",
    "ement",
    "ations",
    "ation",
    "edly",
    "ings",
    "ing",
    "ies",
    "ied",
    "ers",
    "ees",
    "ent",
    "er",
    "ee",
    "es",
    "ed",
    "ly",
    "s",
)
_NEGATION_PREFIXES = ("dis", "des")
_NOMINAL_BEFORE = {
    "the", "a", "an", "his", "her", "their", "its", "s", "la", "le", "sa", "son", "leur", "l",
    "des", "de", "du", "d", "aux", "au", "une", "un", "les", "ses", "this", "that", "cette",
    "being",
}  # fmt: skip
_LOCATIVE = {"at", "chez", "in", "inside", "within", "a"}
_ATTRIBUTION = re.compile(
    r"\b(?:according to|selon|report to|attribue a|attributes to|information a)(?: \w+){0,2} $"
)
_ATTRIBUTION_AFTER = re.compile(r"^ (?:says|said|reports|reported|dit|rapporte|affirme)\b")
_GRACE_DAYS = 31  # how far before its first day a story still describes the situation


def _stem(token: str) -> str:
    """A crude bilingual stem: one common suffix off, then a final "e" (fired/firing/fire)."""
    for suffix in _SUFFIXES:
        if token.endswith(suffix) and len(token) - len(suffix) >= 3:
            token = token[: -len(suffix)]
            break
    if token.endswith("e") and len(token) > 3:
        token = token[:-1]
    if token.endswith("y") and len(token) > 3:
        token = token[:-1] + "i"  # reunify / reunified
    return token


def _features(token: str) -> list[tuple[str, float]]:
    """Comparison features of a word: its stem, a negation-less stem, a 4-letter prefix."""
    stem = _stem(token)
    out = [("s:" + stem, 1.0)]
    for prefix in _NEGATION_PREFIXES:
        if stem.startswith(prefix) and len(stem) - len(prefix) >= 5:
            out.append(("s:" + stem[len(prefix) :], 0.8))
    if len(token) >= 5:
        out.append(("p:" + token[:4], 0.5))
    return out


def _token_spans(text: str) -> list[tuple[int, int]]:
    """Where each token of `normalise(text)` lies in ``text`` (to quote the user as typed)."""
    spans: list[tuple[int, int]] = []
    start: int | None = None
    for index, char in enumerate(text):
        folded = fold(char)
        word = bool(folded) and all(c.isascii() and c.isalnum() for c in folded)
        if word and start is None:
            start = index
        elif not word and start is not None and folded != "":
            spans.append((start, index))
            start = None
    if start is not None:
        spans.append((start, len(text)))
    return spans


_FR_TIGHT = re.compile(r"[ \u00a0\u202f]*([;!?])(?=\s|$|[»”)])")
_FR_COLON = re.compile(r"(?<=\S)[ \u00a0\u202f]*:(?=\s|$)")
_FR_OPEN = re.compile(r"«[ \u00a0\u202f]*")
_FR_CLOSE = re.compile(r"[ \u00a0\u202f]*»")


def _typography(text: str, lang: Lang) -> str:
    """French spacing: a narrow no-break space before ; ! ? and inside « », no-break before :."""
    if lang != "fr" or not text:
        return text
    text = _FR_TIGHT.sub("\u202f\\1", text)
    text = _FR_COLON.sub("\u00a0:", text)
    text = _FR_OPEN.sub("«\u202f", text)
    return _FR_CLOSE.sub("\u202f»", text)


def _fuzzy_cutoff(length: int) -> float:
    return 75.0 if length == 4 else 80.0


# --------------------------------------------------------------------------- the index


class WhoIndex:
    """Everything needed to answer questions about one story, built once per story."""

    def __init__(self, story: Story) -> None:
        self.story = story
        self.entities: list[_Entity] = []
        self.by_id: dict[str, _Entity] = {}
        self._phrases: dict[str, list[tuple[str, Any]]] = {}
        self._max_phrase = 1
        self._fuzzy_vocab: dict[str, list[tuple[str, Any]]] = {}
        self._fuzzy_buckets: dict[tuple[str, int], list[str]] = {}
        self._role_holders: dict[str, list[tuple[_Entity, Role]]] = {}
        self._roles_at: dict[str, list[tuple[_Entity, Role]]] = {}
        self._triples: dict[str, list[_Triple]] = {}
        self._events_of: dict[str, list[Event]] = {}
        self._full_names: list[str] = []
        self._full_owner: list[int] = []
        self._build()

    @classmethod
    def build(cls, story: Story) -> WhoIndex:
        return cls(story)

    # ------------------------------------------------------------------ building

    def _add_phrase(self, phrase: str, tag: tuple[str, Any]) -> None:
        if not phrase:
            return
        tags = self._phrases.setdefault(phrase, [])
        if tag not in tags:
            tags.append(tag)
        n = phrase.count(" ") + 1
        if n > self._max_phrase:
            self._max_phrase = min(n, 8)

    def _add_fuzzy(self, token: str, tag: tuple[str, Any]) -> None:
        if len(token) < 4:
            return
        tags = self._fuzzy_vocab.setdefault(token, [])
        if tag not in tags:
            tags.append(tag)

    def _build(self) -> None:
        story = self.story
        for person in story.people:
            self._add_entity(
                _Entity(len(self.entities), person.id, "person", person.name, person, None)
            )
        for org in story.organisations:
            self._add_entity(
                _Entity(len(self.entities), org.id, "organisation", org.name, None, org)
            )
        # A word that is the full name of one entity is not a partial name of another
        # ("OpenAI" in "OpenAI board" means OpenAI).
        for table in (self._phrases, self._fuzzy_vocab):
            for phrase, tags in table.items():
                if any(t[0] == "ent" and t[1][1] == "full" for t in tags):
                    table[phrase] = [t for t in tags if not (t[0] == "ent" and t[1][1] == "part")]
        # Events per entity, weights, triples from facts.
        for event in story.timeline:
            ids: list[str] = [*event.people, *event.organisations]
            for fact in event.facts:
                ids += [x for x in (fact.subject, fact.by, fact.object) if x]
                if fact.predicate in _PASSIVE_FACTS:
                    doer, undergoer = fact.by, fact.subject
                else:
                    doer, undergoer = fact.subject or fact.by, fact.object
                self._triples.setdefault(fact.predicate, []).append(
                    _Triple(fact.predicate, doer, undergoer, event.date, fact.role, event)
                )
            for entity_id in dict.fromkeys(ids):
                if entity_id in self.by_id:
                    self._events_of.setdefault(entity_id, []).append(event)
                    self.by_id[entity_id].weight += 1
        for person in story.people:
            for relation in person.relations:
                kind = relation.type
                if kind == "recruited_by":
                    triple = _Triple(
                        "recruited",
                        relation.person,
                        person.id,
                        relation.date,
                        None,
                        None,
                        relation.text,
                    )
                elif kind == "replaced":
                    triple = _Triple(
                        "replaced",
                        person.id,
                        relation.person,
                        relation.date,
                        None,
                        None,
                        relation.text,
                    )
                elif kind == "succeeded_by":
                    triple = _Triple(
                        "replaced",
                        relation.person,
                        person.id,
                        relation.date,
                        None,
                        None,
                        relation.text,
                    )
                elif kind == "works_with":
                    triple = _Triple(
                        "works_with",
                        person.id,
                        relation.person,
                        relation.date,
                        None,
                        None,
                        relation.text,
                    )
                    self._triples.setdefault("works_with", []).append(
                        _Triple(
                            "works_with",
                            relation.person,
                            person.id,
                            relation.date,
                            None,
                            None,
                            relation.text,
                        )
                    )
                else:  # cofounded_with
                    triple = _Triple(
                        "cofounded_with",
                        person.id,
                        relation.person,
                        relation.date,
                        None,
                        None,
                        relation.text,
                    )
                    self._triples.setdefault("cofounded_with", []).append(
                        _Triple(
                            "cofounded_with",
                            relation.person,
                            person.id,
                            relation.date,
                            None,
                            None,
                            relation.text,
                        )
                    )
                self._triples.setdefault(triple.predicate, []).append(triple)
            entity = self.by_id[person.id]
            entity.weight += len(person.roles) + len(person.relations)
            for role in person.roles:
                self._role_holders.setdefault(role.key, []).append((entity, role))
                for title in (role.title.fr, role.title.en):
                    title_tokens = normalise(title).split()
                    if 0 < len(title_tokens) <= 4:
                        phrase = " ".join(title_tokens)
                        if phrase not in lex.STOPWORDS:
                            self._add_phrase(phrase, ("role", role.key))
                            if role.interim:
                                self._add_phrase(phrase, ("interim", ""))
        # "X preceded Y" is "Y replaced X".
        for triple in self._triples.get("replaced", []):
            self._triples.setdefault("preceded", []).append(
                _Triple(
                    "preceded",
                    triple.undergoer,
                    triple.doer,
                    triple.date,
                    triple.role,
                    triple.event,
                    triple.text,
                )
            )
        # Lexicon.
        for key, phrases in lex.ROLE_PHRASES.items():
            for phrase in lex._words(phrases):
                self._add_phrase(phrase, ("role", key))
                if " " not in phrase and len(phrase) >= 5:
                    self._add_fuzzy(phrase, ("role", key))
        for phrase in lex._words(lex.WEAK_HEAD):
            self._add_phrase(phrase, ("weak", "ceo"))
        for pred, phrases in lex.PREDICATE_PHRASES.items():
            for phrase in lex._words(phrases):
                self._add_phrase(phrase, ("pred", pred))
                if " " not in phrase and len(phrase) >= 6:
                    self._add_fuzzy(phrase, ("pred", pred))
        for marker, phrases in lex.MARKERS.items():
            for phrase in lex._words(phrases):
                self._add_phrase(phrase, (marker, ""))
        for phrase in lex.STOPWORDS:
            self._add_phrase(phrase, ("stop", ""))
        # Fuzzy buckets by length: a token is compared with tokens of length +-2 only.
        # Large stories also bucket by first letter (a typo on the first letter is then missed,
        # the price of answering within a few milliseconds over tens of thousands of names).
        self._fuzzy_by_letter = len(self._fuzzy_vocab) > 3000
        by_length: dict[tuple[str, int], list[str]] = {}
        for token in self._fuzzy_vocab:
            letter = token[0] if self._fuzzy_by_letter else ""
            by_length.setdefault((letter, len(token)), []).append(token)
        self._fuzzy_max_length = max((length for _, length in by_length), default=4)
        for letter in {letter for letter, _ in by_length}:
            for length in range(4, self._fuzzy_max_length + 1):
                bucket: list[str] = []
                for other in range(length - 2, length + 3):
                    bucket += by_length.get((letter, other), [])
                if bucket:
                    self._fuzzy_buckets[(letter, length)] = bucket
        for holders in self._role_holders.values():
            holders.sort(key=lambda pair: (-pair[0].weight, pair[0].name))
        self._holders_at: dict[str, list[tuple[_Entity, Role]]] = {}
        self._holders_by_key_org: dict[tuple[str, str | None], list[tuple[_Entity, Role]]] = {}
        for key, holders in self._role_holders.items():
            for entity, role in holders:
                self._holders_at.setdefault(role.organisation or "", []).append((entity, role))
                self._holders_by_key_org.setdefault((key, role.organisation), []).append(
                    (entity, role)
                )
        # Triples by (predicate, entity involved): a question naming someone only scans theirs.
        self._pred_entity: dict[tuple[str, str], list[_Triple]] = {}
        for pred, triple_list in self._triples.items():
            for triple in triple_list:
                involved: set[str | None] = {triple.doer, triple.undergoer}
                if triple.event is not None:
                    involved.update(triple.event.people)
                    involved.update(triple.event.organisations)
                for involved_id in involved:
                    if involved_id:
                        self._pred_entity.setdefault((pred, involved_id), []).append(triple)
        self._relations_of: dict[str, list[_Triple]] = {}
        for triple_list in self._triples.values():
            for triple in triple_list:
                if triple.event is None:
                    for party in {triple.doer, triple.undergoer}:
                        if party:
                            self._relations_of.setdefault(party, []).append(triple)
        self._org_rank = {
            e.id: rank
            for rank, e in enumerate(
                sorted(
                    (e for e in self.entities if e.kind == "organisation"), key=lambda e: -e.weight
                )
            )
        }
        # An organisation named after another one ("OpenAI board", "OpenAI staff") belongs to it.
        self._parent: dict[str, str] = {}
        orgs = [e for e in self.entities if e.kind == "organisation"]
        for child in orgs:
            words = set(normalise(child.name).split())
            for candidate in orgs:
                candidate_words = set(normalise(candidate.name).split())
                if candidate is not child and candidate_words and candidate_words < words:
                    self._parent[child.id] = candidate.id
        people = [e for e in self.entities if e.kind == "person"]
        self._top_person = max(people, key=lambda e: e.weight) if people else None
        self._top_org = max(orgs, key=lambda e: e.weight) if orgs else None
        self._build_texts()
        self._build_suggest()

    # ------------------------------------------------------------------ texts (TF-IDF)

    def _build_texts(self) -> None:
        """Every text of the story as a bag of word features, with who it is about.

        A document lists candidates with a weight (the doer of a fact 1.0, a person only present
        0.7...) and, apart, the sources it is attributed to ("according to Bloomberg").
        """
        story = self.story
        docs: list[tuple[list[str], dict[str, float], dict[str, float]]] = []
        self._doc_of_event: dict[str, int] = {}

        def both(text: Any) -> list[str]:
            return [text.fr, text.en] if text is not None else []

        self._doc_show: list[tuple[str, Any]] = []  # (kind, story object) to show a document

        def add(
            texts: list[str],
            who: dict[str, float],
            sources: dict[str, float],
            show: tuple[str, Any],
        ) -> int:
            docs.append((texts, who, sources))
            self._doc_show.append(show)
            return len(docs) - 1

        names = {
            e.id: [n for n in {normalise(e.name), normalise(e.display("fr"))} if n]
            for e in self.entities
        }
        for event in story.timeline:
            texts = [*both(event.headline), *both(event.text), *both(event.note), event.quote]
            who: dict[str, float] = {}
            for entity_id in event.organisations:
                who[entity_id] = 0.6
            for entity_id in event.people:
                who[entity_id] = 0.7
            for fact in event.facts:
                if fact.predicate in _PASSIVE_FACTS:
                    doer, undergoer = fact.by, fact.subject
                else:
                    doer, undergoer = fact.subject or fact.by, fact.object
                speech = fact.predicate in _SPEECH
                if undergoer:
                    who[undergoer] = max(who.get(undergoer, 0.0), 0.8)
                if doer:
                    who[doer] = max(who.get(doer, 0.0), 1.1 if speech else 1.0)
            sources: dict[str, float] = {}
            joined = [normalise(t) for t in texts]
            for entity_id in who:
                for name in names.get(entity_id, []):
                    for text in joined:
                        for hit in re.finditer(rf"\b{re.escape(name)}\b", text):
                            if _ATTRIBUTION.search(text[: hit.start()]) or _ATTRIBUTION_AFTER.match(
                                text[hit.end() :]
                            ):
                                sources[entity_id] = 1.2
            self._doc_of_event[event.id] = add(texts, who, sources, ("event", event))
        for quote in story.quotes:
            texts = [*both(quote.text), *both(quote.context)]
            if quote.original:
                texts.append(quote.original)
            add(
                texts,
                {quote.person: 1.1},
                {quote.person: 1.1},
                ("quote", quote),
            )
        for ctx in story.context:
            who = dict.fromkeys(ctx.organisations, 0.6)
            who.update(dict.fromkeys(ctx.people, 0.8))
            add(
                [*both(ctx.text), ctx.quote],
                who,
                {},
                ("context", ctx),
            )
        for person in story.people:
            add(both(person.bio), {person.id: 0.9}, {}, ("bio", person))
            for relation in person.relations:
                if relation.text is not None:
                    add(
                        both(relation.text),
                        {person.id: 1.0, relation.person: 0.5},
                        {},
                        ("relation", relation),
                    )
        for org in story.organisations:
            add(
                both(org.description),
                {org.id: 0.9},
                {},
                ("org", org),
            )
        self._docs = [(who, sources) for _, who, sources in docs]
        postings: dict[str, list[tuple[int, float]]] = {}
        vocab: set[str] = set()
        for number, (texts, _, _) in enumerate(docs):
            features: dict[str, float] = {}
            for text in texts:
                for token in normalise(text).split():
                    vocab.add(token)
                    if token in lex.TEXT_STOPWORDS:
                        continue
                    for feature, weight in _features(token):
                        features[feature] = max(features.get(feature, 0.0), weight)
            for feature, weight in features.items():
                postings.setdefault(feature, []).append((number, weight))
        total = max(1, len(docs))
        self._postings = postings
        self._idf = {f: math.log((total + 1) / (len(p) + 0.5)) + 1.0 for f, p in postings.items()}
        self._idf_unseen = math.log((total + 1) / 0.5) + 1.0
        name_tokens = {t for phrase in self._phrases for t in phrase.split()}
        self._text_vocab = {t for t in vocab if len(t) >= 4 and t not in name_tokens}

    def _similarities(
        self, q: _Query, positions: Iterable[int], named: set[int]
    ) -> dict[int, float]:
        """TF-IDF overlap of the question's words (at ``positions``) with every document."""
        weights: dict[str, float] = {}
        for position in positions:
            token = q.tokens[position]
            if token in lex.TEXT_STOPWORDS or (len(token) < 3 and not token.isdigit()):
                continue
            scale = 0.5 if position in named else 1.0
            for feature, weight in _features(token):
                weights[feature] = max(weights.get(feature, 0.0), weight * scale)
        total = sum(w * self._idf.get(f, self._idf_unseen) for f, w in weights.items())
        if total <= 0:
            return {}
        scores: dict[int, float] = {}
        for feature, weight in weights.items():
            posting = self._postings.get(feature)
            if not posting or len(posting) > 3000:
                continue
            gain = weight * self._idf[feature]
            for number, doc_weight in posting:
                scores[number] = scores.get(number, 0.0) + gain * doc_weight
        return {number: score / total for number, score in scores.items()}

    def _retrieve(
        self,
        q: _Query,
        accepted: list[tuple[_Entity, float, int]],
        report: bool,
        skip: set[int] = frozenset(),  # type: ignore[assignment]
    ) -> list[tuple[str, float, int]]:
        """Entities the question's words point at through the story's texts: (id, score, doc).

        Entities the question names are context, never the answer.
        """
        named_ids = {e.id for e, _, _ in accepted}
        named_positions: set[int] = set()
        for entity, _, _ in accepted:
            for ev in q.evidence.get(entity.index, []):
                named_positions.update(range(ev.start, ev.end))
        positions = [i for i in range(len(q.tokens)) if i not in skip]
        sims = self._similarities(q, positions, named_positions)
        best: dict[str, tuple[float, int]] = {}
        for number, sim in sims.items():
            who, sources = self._docs[number]
            for entity_id, weight in who.items():
                if entity_id in named_ids or entity_id not in self.by_id:
                    continue
                if report and entity_id in sources:
                    weight = max(weight, sources[entity_id])
                score = sim * weight
                if score > best.get(entity_id, (0.0, -1))[0]:
                    best[entity_id] = (score, number)
        ranked = sorted(best.items(), key=lambda kv: (-kv[1][0], -self.by_id[kv[0]].weight))
        return [(entity_id, score, number) for entity_id, (score, number) in ranked]

    def _add_entity(self, entity: _Entity) -> None:
        self.entities.append(entity)
        self.by_id[entity.id] = entity
        tag_of = entity.index
        if entity.person is not None:
            names = [entity.person.name]
            aliases = list(entity.person.aliases)
        else:
            assert entity.organisation is not None
            org = entity.organisation
            names = [org.name]
            if org.local_name is not None:
                names += [org.local_name.fr, org.local_name.en]
            aliases = list(org.aliases)
        seen_full: set[str] = set()
        for position, text in enumerate([*names, *aliases]):
            toks = normalise(text).split()
            if not toks:
                continue
            is_alias = position >= len(names) and entity.kind == "person"
            phrase = " ".join(toks)
            if len(toks) == 1:
                token = toks[0]
                if entity.kind == "organisation":
                    how = "acro" if len(token) <= 3 else "full"
                else:
                    how = "alias" if is_alias else "full"
                self._add_phrase(token, ("ent", (tag_of, how)))
                self._add_fuzzy(token, ("ent", (tag_of, how if how != "acro" else "full")))
                if how == "full":
                    seen_full.add(token)
                continue
            self._add_phrase(phrase, ("ent", (tag_of, "full")))
            self._add_phrase("".join(toks), ("ent", (tag_of, "full")))
            self._add_fuzzy("".join(toks), ("ent", (tag_of, "full")))
            seen_full.add(phrase)
            if entity.kind == "person":
                self._add_phrase(" ".join(reversed(toks)), ("ent", (tag_of, "full")))
                self._add_phrase(toks[0], ("ent", (tag_of, "first")))
                self._add_phrase(toks[-1], ("ent", (tag_of, "last")))
                self._add_fuzzy(toks[0], ("ent", (tag_of, "first")))
                self._add_fuzzy(toks[-1], ("ent", (tag_of, "last")))
                for middle in toks[1:-1]:
                    if middle not in _SHORT_FUNCTION:
                        self._add_phrase(middle, ("ent", (tag_of, "part")))
            else:
                for token in toks:
                    if token in _SHORT_FUNCTION or len(token) < 3:
                        continue
                    self._add_phrase(token, ("ent", (tag_of, "part")))
                    self._add_fuzzy(token, ("ent", (tag_of, "part")))
        for text in [*names, *aliases]:
            full = normalise(text)
            if full:
                self._full_names.append(full)
                self._full_owner.append(tag_of)

    # ------------------------------------------------------------------ autocomplete

    def _build_suggest(self) -> None:
        keys: list[tuple[str, int, int]] = []  # key, rank class (0 full, 1 token), entity
        for entity in self.entities:
            if entity.person is not None:
                texts = [entity.person.name, *entity.person.aliases]
            else:
                org = entity.organisation
                assert org is not None
                texts = [org.name, *org.aliases]
                if org.local_name is not None:
                    texts += [org.local_name.fr, org.local_name.en]
            seen: set[str] = set()
            for text_index, text in enumerate(texts):
                full = normalise(text)
                if not full:
                    continue
                if full not in seen:
                    keys.append((full, 0 if text_index == 0 else 1, entity.index))
                    seen.add(full)
                parts = full.split()
                for start in range(1, len(parts)):
                    tail = " ".join(parts[start:])
                    if tail not in seen and parts[start] not in _SHORT_FUNCTION:
                        keys.append((tail, 2, entity.index))
                        seen.add(tail)
        keys.sort()
        self._suggest_keys = [k for k, _, _ in keys]
        self._suggest_rows = [(rank, entity) for _, rank, entity in keys]
        self._suggest_order = sorted(
            range(len(self.entities)),
            key=lambda i: (-self.entities[i].weight, self.entities[i].name),
        )
        # Short prefixes have many hits: rank them once, at build time.
        short: dict[str, dict[int, tuple[int, int, str]]] = {}
        for key, rank, entity_index in keys:
            entity = self.entities[entity_index]
            sort_key = (rank, -entity.weight, entity.name)
            for length in (1, 2, 3):
                if len(key) < length:
                    break
                bucket = short.setdefault(key[:length], {})
                previous = bucket.get(entity_index)
                if previous is None or sort_key < previous:
                    bucket[entity_index] = sort_key
        self._suggest_short: dict[str, list[int]] = {
            prefix: [i for i, _ in sorted(bucket.items(), key=lambda kv: kv[1])[:SUGGESTION_LIMIT]]
            for prefix, bucket in short.items()
        }

    def suggest(
        self, prefix: str, lang: Lang = "en", limit: int = SUGGESTION_LIMIT
    ) -> list[Suggestion]:
        """Ranked names for a partial input (autocomplete): never raises, at most ``limit``."""
        try:
            limit = max(0, min(int(limit), 100))
            key = normalise(strip_mentions(prefix[: MAX_INPUT * 4]))[:MAX_INPUT]
        except Exception:
            return []
        if limit == 0:
            return []
        if not key:
            chosen = self._suggest_order[:limit]
        elif len(key) <= 3 and limit <= SUGGESTION_LIMIT:
            chosen = self._suggest_short.get(key, [])[:limit]
        else:
            start = bisect.bisect_left(self._suggest_keys, key)
            found: dict[int, tuple[int, int, str]] = {}
            for position in range(start, min(start + 400, len(self._suggest_keys))):
                if not self._suggest_keys[position].startswith(key):
                    break
                rank, entity_index = self._suggest_rows[position]
                entity = self.entities[entity_index]
                sort_key = (rank, -entity.weight, entity.name)
                if entity_index not in found or sort_key < found[entity_index]:
                    found[entity_index] = sort_key
            chosen = [i for i, _ in sorted(found.items(), key=lambda kv: kv[1])[:limit]]
            if not chosen and len(key) >= 4 and len(self._full_names) <= 2000:
                hits = process.extract(
                    key,
                    self._full_names,
                    scorer=fuzz.partial_ratio,
                    score_cutoff=80,
                    limit=limit * 2,
                )
                chosen = list(dict.fromkeys(self._full_owner[h[2]] for h in hits))[:limit]
        return [
            Suggestion(
                self.entities[i].id,
                neutralise(self.entities[i].display(lang)),
                self.entities[i].kind,
            )
            for i in chosen
        ]

    # ------------------------------------------------------------------ parsing

    def _parse(self, question: str) -> _Query:
        text = strip_mentions(question[: MAX_INPUT * 4])[:MAX_INPUT]
        tokens = normalise(text).split()[:MAX_TOKENS]
        cased: list[str] | None = _cased_tokens(text)[:MAX_TOKENS]
        if (
            cased is None
            or len(cased) != len(tokens)
            or any(c.lower() != t for c, t in zip(cased, tokens, strict=False))
        ):
            cased = None
        letters = [c for c in text if c.isalpha()]
        mixed = any(c.isupper() for c in letters) and any(c.islower() for c in letters)
        q = _Query(text, tokens, cased, mixed)
        q.explained = [False] * len(tokens)
        q.fuzzy_hit = [False] * len(tokens)
        spans = _token_spans(text)
        q.spans = spans if len(spans) == len(normalise(text).split()) else None
        self._parse_date(q)
        self._tag_phrases(q)
        self._separable(q)
        self._fuzzy(q)
        # "who is considering ...": "is" + -ing is a progressive, not a passive.
        if "passive" in q.markers:
            q.markers["passive"] = [
                p
                for p in q.markers["passive"]
                if not (p + 1 < len(tokens) and tokens[p + 1].endswith("ing"))
            ]
            if not q.markers["passive"]:
                del q.markers["passive"]
        # A predicate after an article or a possessive is a noun ("the board's resignation").
        for position, _pred, noun in q.preds:
            if noun or (position > 0 and tokens[position - 1] in _NOMINAL_BEFORE):
                q.nominal.add(position)
        # "Who is on OpenAI's board?", "qui siège au CA ?": membership of a board is a role.
        if not any(not weak for _, _, weak in q.roles) and "board-member" in self._role_holders:
            board = [i for i, t in enumerate(tokens) if t in _BOARD_WORDS and q.explained[i]]
            if board and any(t in _MEMBER_WORDS for t in tokens):
                q.roles.append((board[0], "board-member", False))
        return q

    def _separable(self, q: _Query) -> None:
        """Verbs whose particle follows the object ("pushed Altman out"), and "work ... with"."""
        toks = q.tokens
        tagged = {p for p, _, _ in q.preds}
        for i, token in enumerate(toks):
            if i in tagged:
                continue
            for verb, rest, pred in lex.SEPARABLE:
                if verb != token:
                    continue
                for j in range(i + 2, min(i + 6, len(toks) - len(rest) + 1)):
                    if tuple(toks[j : j + len(rest)]) == rest and all(q.explained[i + 1 : j]):
                        q.preds.append((i, pred, False))
                        for position in (i, *range(j, j + len(rest))):
                            q.explained[position] = True
                        tagged.add(i)
                        break
                if i in tagged:
                    break
        if not any(pred == "works_with" for _, pred, _ in q.preds) and any(
            t in lex.WITH_WORDS for t in toks
        ):
            verb_at = next((i for i, t in enumerate(toks) if t in lex.WORK_VERBS), None)
            if verb_at is not None:
                q.preds.append((verb_at, "works_with", False))
                q.explained[verb_at] = True

    def _capitalised(self, q: _Query, position: int) -> bool:
        """Does this token look like a proper name in the original question?"""
        if not q.mixed_case or q.cased is None:
            return True  # all lower- or upper-case: no signal, assume it may be a name
        token = q.cased[position]
        return token[:1].isupper()

    def _parse_date(self, q: _Query) -> None:
        toks = q.tokens
        story = self.story
        first_day = story.first_day
        found: tuple[int, int, dt.date] | None = None  # start, end, day
        offset = 0
        offset_span: tuple[int, int] | None = None
        bad: list[tuple[int, int]] = []  # spans of dates that do not exist
        at = [0, 0]  # the span `make` is asked about

        def make(year: int | None, month: int, day: int) -> dt.date | None:
            try:
                candidate = dt.date(year or first_day.year, month, day)
            except ValueError:
                bad.append((at[0], at[1]))
                return None
            if year is None and (candidate - first_day).days > 200:
                candidate = candidate.replace(year=candidate.year - 1)
            elif year is None and (first_day - candidate).days > 200:
                try:
                    candidate = candidate.replace(year=candidate.year + 1)
                except ValueError:
                    return None
            return candidate

        def day_of(token: str) -> int | None:
            match = _DAY_TOKEN.match(token)
            if match and 1 <= int(match.group(1)) <= 31:
                return int(match.group(1))
            return None

        def year_at(position: int) -> int | None:
            if position < len(toks) and _YEAR_TOKEN.match(toks[position]):
                return int(toks[position])
            return None

        n = len(toks)
        i = 0
        while i < n and found is None:
            tok = toks[i]
            nxt = toks[i + 1] if i + 1 < n else ""
            # Relative days: "le lendemain", "the day after", "premier jour", "la veille".
            for size in (4, 3, 2, 1):
                phrase = " ".join(toks[i : i + size])
                if (
                    len(toks[i : i + size]) == size
                    and phrase in lex.RELATIVE_DAYS
                    and offset_span is None
                ):
                    offset = lex.RELATIVE_DAYS[phrase]
                    offset_span = (i, i + size)
                    break
                if (
                    phrase in ("veille", "la veille", "the day before", "day before")
                    and offset_span is None
                ):
                    offset = -1
                    offset_span = (i, i + size)
                    break
            if offset_span is not None and offset_span[0] == i:
                i = offset_span[1]
                continue
            at[0], at[1] = i, min(n, i + (3 if i + 2 < n and toks[i + 2].isdigit() else 2))
            if tok.isdigit() and 31 < int(tok) < 100 and nxt in lex.MONTHS:
                bad.append((i, i + 2))  # "le 32 novembre"
            if tok in lex.MONTHS and nxt.isdigit() and 31 < int(nxt) < 100:
                bad.append((i, i + 2))  # "November 32"
            if (
                _YEAR_TOKEN.match(tok)
                and i + 2 < n
                and toks[i + 1].isdigit()
                and toks[i + 2].isdigit()
            ):
                day = make(int(tok), int(toks[i + 1]), int(toks[i + 2]))
                if day:
                    found = (i, i + 3, day)
                    break
            d = day_of(tok)
            if d is not None and nxt in lex.MONTHS:
                year = year_at(i + 2)
                day = make(year, lex.MONTHS[nxt], d)
                if day:
                    found = (i, i + 2 + (year is not None), day)
                    break
            if tok in lex.MONTHS and nxt and day_of(nxt) is not None:
                year = year_at(i + 2)
                day = make(year, lex.MONTHS[tok], day_of(nxt) or 1)
                if day:
                    found = (i, i + 2 + (year is not None), day)
                    break
            if (
                d is not None
                and tok.isdigit()
                and i + 2 < n
                and toks[i + 1].isdigit()
                and _YEAR_TOKEN.match(toks[i + 2])
            ):
                a, b = int(tok), int(toks[i + 1])
                day = make(int(toks[i + 2]), b, a) if b <= 12 else make(int(toks[i + 2]), a, b)
                if day:
                    found = (i, i + 3, day)
                    break
            if tok in lex.WEEKDAYS:
                target = lex.WEEKDAYS[tok]
                day = first_day + dt.timedelta(days=(target - first_day.weekday()) % 7)
                found = (i, i + 1, day)
                break
            weekend = next(
                (
                    size
                    for size in (3, 2, 1)
                    if " ".join(toks[i : i + size]) in lex.WEEKEND
                    and len(toks[i : i + size]) == size
                ),
                0,
            )
            if weekend:
                day = first_day + dt.timedelta(days=(5 - first_day.weekday()) % 7)
                found = (i, i + weekend, day)
                break
            if (
                d is not None
                and i > 0
                and toks[i - 1] in ("le", "the", "du", "au")
                and (
                    not tok.isdigit()
                    or (i + 1 >= n or toks[i + 1] not in ("cadres", "employees", "employes"))
                )
                and not (
                    i + 1 < n
                    and (toks[i + 1].isdigit() or toks[i + 1] in ("percent", "pour", "cent"))
                )
            ):
                day = make(None, first_day.month, d)
                if day:
                    found = (i, i + 1, day)
                    break
            i += 1
        if found is None and bad:
            start, end = bad[0]
            if q.spans is not None and end <= len(q.spans):
                q.bad_date = neutralise(q.text[q.spans[start][0] : q.spans[end - 1][1]])[:40]
            else:
                q.bad_date = " ".join(toks[start:end])
            return
        if found is None and offset_span is None:
            for position, token in enumerate(toks):
                if _YEAR_TOKEN.match(token) and not q.explained[position]:
                    year = int(token)
                    month = lex.MONTHS.get(toks[position - 1]) if position > 0 else None
                    if month is not None:  # "in October 2023": that month's last day
                        after = dt.date(year + month // 12, month % 12 + 1, 1)
                        last_of_month = after - dt.timedelta(days=1)
                        if last_of_month < first_day or dt.date(year, month, 1) > story.last_day:
                            found = (position - 1, position + 1, last_of_month)
                            break
                    if year < first_day.year:
                        found = (position, position + 1, dt.date(year, 12, 31))
                    elif year == first_day.year:
                        found = (position, position + 1, first_day - dt.timedelta(days=1))
                    else:
                        found = (position, position + 1, dt.date(year, 1, 1))
                    break
        if found is None and offset_span is None:
            return
        if found is None:
            assert offset_span is not None
            start, end = offset_span
            day = first_day + dt.timedelta(days=offset)
        else:
            start, end, day = found
            day = day + dt.timedelta(days=offset)
            if offset_span is not None:
                for position in range(*offset_span):
                    q.explained[position] = True
        relation: Literal["on", "before", "after"] = "on"
        look = start
        while (
            look > 0
            and toks[look - 1] in ("le", "the", "du", "l", "de", "on", "of")
            and start - look < 2
        ):
            look -= 1
        for size in (3, 2, 1):
            if look - size < 0:
                continue
            phrase = " ".join(toks[look - size : look])
            if phrase in lex.DATE_RELATIONS:
                rel = lex.DATE_RELATIONS[phrase]
                if phrase in ("until", "jusqu au", "jusqu a", "up to"):
                    rel = "on"
                relation = rel  # type: ignore[assignment]
                for position in range(look - size, look):
                    q.explained[position] = True
                break
        for position in range(look, end):
            q.explained[position] = True
        for position in range(start, end):
            q.explained[position] = True
        q.date = _DateSpec(day, relation)

    def _tag_phrases(self, q: _Query) -> None:
        toks = q.tokens
        n = len(toks)
        i = 0
        while i < n:
            if q.explained[i]:
                i += 1
                continue
            tags = None
            size = 0
            for size in range(min(self._max_phrase, n - i), 0, -1):
                if any(q.explained[i : i + size]):
                    continue
                tags = self._phrases.get(" ".join(toks[i : i + size]))
                if tags:
                    break
            if not tags:
                i += 1
                continue
            entity_tags = [t for t in tags if t[0] == "ent"]
            other_tags = [t for t in tags if t[0] != "ent"]
            if size == 1 and entity_tags and any(t[0] != "stop" for t in other_tags):
                # A word that is both vocabulary and a partial name: vocabulary wins unless it
                # is written like a name in a mixed-case question.
                partial = all(
                    t[1][1] in ("first", "last", "alias", "part", "acro") for t in entity_tags
                )
                capitalised = (
                    q.mixed_case and q.cased is not None and q.cased[i][:1].isupper() and i > 0
                )
                if partial and not capitalised:
                    entity_tags = []
            if entity_tags:
                other_tags = [t for t in other_tags if t[0] != "stop"]
            for kind, value in [*entity_tags, *other_tags]:
                if kind == "ent":
                    index, how = value
                    if how == "acro" and not (q.cased is not None and q.cased[i].isupper()):
                        continue
                    q.evidence.setdefault(index, []).append(
                        _Evidence(i, i + size, "full" if how == "acro" else how, 1.0)
                    )
                elif kind == "role":
                    q.roles.append((i, value, False))
                elif kind == "weak":
                    q.roles.append((i, value, True))
                elif kind == "pred":
                    q.preds.append((i, value, " ".join(toks[i : i + size]) in lex.PREDICATE_NOUNS))
                elif kind != "stop":
                    q.markers.setdefault(kind, []).append(i)
            for position in range(i, i + size):
                q.explained[position] = True
            i += size

    def _fuzzy(self, q: _Query) -> None:
        for position, token in enumerate(q.tokens):
            if q.explained[position] or len(token) < 4 or not token.isalpha():
                continue
            letter = token[0] if self._fuzzy_by_letter else ""
            bucket = self._fuzzy_buckets.get((letter, min(len(token), self._fuzzy_max_length)))
            if not bucket:
                continue
            hits = process.extract(
                token, bucket, scorer=fuzz.ratio, score_cutoff=_fuzzy_cutoff(len(token)), limit=4
            )
            if not hits:
                continue
            best = hits[0][1]
            for candidate, score, _ in hits:
                if score < best:
                    break
                for kind, value in self._fuzzy_vocab[candidate]:
                    if kind == "ent":
                        index, how = value
                        q.evidence.setdefault(index, []).append(
                            _Evidence(position, position + 1, how, 0.97 * score / 100)
                        )
                    elif kind == "role":
                        q.roles.append((position, value, False))
                    elif kind == "pred":
                        q.preds.append((position, value, candidate in lex.PREDICATE_NOUNS))
            q.explained[position] = True
            q.fuzzy_hit[position] = True

    # ------------------------------------------------------------------ resolution

    def _name_like(self, q: _Query, position: int) -> bool:
        token = q.tokens[position]
        if q.explained[position] or not token.isalpha() or len(token) < 2:
            return False
        if q.mixed_case and q.cased is not None:
            return q.cased[position][:1].isupper() and (position > 0 or len(token) >= 3)
        # No case to go by: a word the story's own texts use ("reunite") is not a name.
        return len(token) >= 3 and token not in self._text_vocab

    def _resolve(
        self, q: _Query
    ) -> tuple[list[tuple[_Entity, float, int]], list[_Entity], list[tuple[str, int]]]:
        """Accepted entities (entity, score, first position), rejected ones, unknown names."""
        accepted: list[tuple[_Entity, float, int]] = []
        rejected: list[_Entity] = []
        conflicts: list[tuple[int, int]] = []
        token_owners: dict[int, set[int]] = {}
        for index, evidence in q.evidence.items():
            for ev in evidence:
                if ev.how in ("first", "last", "alias"):
                    token_owners.setdefault(ev.start, set()).add(index)
        for index, evidence in q.evidence.items():
            entity = self.entities[index]
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
                            for p in (ev.start - 1, ev.end)
                            if 0 <= p < len(q.tokens)
                            and self._name_like(q, p)
                            and not self._close_to_name(q.tokens[p], entity)
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
                neighbours = [p for p in (ev.start - 1, ev.end) if 0 <= p < len(q.tokens)]
                clash = [
                    p
                    for p in neighbours
                    if self._name_like(q, p) and not self._close_to_name(q.tokens[p], entity)
                ]
                if clash:
                    rejected.append(entity)
                    span = (min(ev.start, *clash), max(ev.end - 1, *clash))
                    conflicts.append(span)
                    continue
            if entity.kind == "person" and any(
                self._name_like(q, p) for p in (ev.start - 1, ev.end) if 0 <= p < len(q.tokens)
            ):
                score = max(score, 0.75)  # first name + a close typo of the surname
                for p in (ev.start - 1, ev.end):
                    if 0 <= p < len(q.tokens) and self._name_like(q, p):
                        q.explained[p] = True
            if score >= 0.5:
                accepted.append((entity, score, start))
        # Unknown names: runs of name-like unexplained tokens (+ the partial names they clash with).
        unknown: list[tuple[str, int]] = []  # (name as typed, number of words; 0 = clash)
        covered: set[int] = set()
        for a, b in conflicts:
            while a > 0 and self._name_like(q, a - 1):
                a -= 1
            while b + 1 < len(q.tokens) and self._name_like(q, b + 1):
                b += 1
            covered.update(range(a, b + 1))
            unknown.append((self._span_text(q, a, b + 1), 0))
        position = 0
        while position < len(q.tokens):
            if position in covered or not self._name_like(q, position):
                position += 1
                continue
            end = position
            while (
                end + 1 < len(q.tokens) and self._name_like(q, end + 1) and end + 1 not in covered
            ):
                end += 1
            run = end - position + 1
            strong = run >= 2 or (q.mixed_case and q.cased is not None) or len(q.tokens) <= 3
            if strong:
                unknown.append((self._span_text(q, position, end + 1), run))
            else:
                q.markers.setdefault("weak_unknown", []).append(position)
            position = end + 1
        accepted.sort(key=lambda t: (-t[1], t[2]))
        return accepted, rejected, unknown

    def _close_to_name(self, token: str, entity: _Entity) -> bool:
        """A typo of another part of the same person's name ("Mira Moratti")."""
        assert entity.person is not None
        parts = normalise(" ".join([entity.person.name, *entity.person.aliases])).split()
        return len(token) >= 4 and any(
            fuzz.ratio(token, part) >= 70 for part in parts if len(part) >= 4
        )

    def _span_text(self, q: _Query, start: int, end: int) -> str:
        if q.spans is not None and end <= len(q.spans):
            typed = q.text[q.spans[start][0] : q.spans[end - 1][1]]
            return neutralise(typed)[:80]
        words = q.cased if q.cased is not None else q.tokens
        text = " ".join(words[start:end])
        if q.cased is None or not q.mixed_case:
            text = " ".join(w.capitalize() for w in text.split())
        return neutralise(text)[:80]

    # ------------------------------------------------------------------ answering

    def answer(self, question: str, lang: Lang = "en", today: dt.date | None = None) -> WhoAnswer:
        """Answer one question; never raises on any input (bad input gets a usage answer)."""
        lang = "fr" if lang == "fr" else "en"
        if not isinstance(question, str):
            question = ""
        try:
            return self._answer(question, lang, today)
        except Exception:  # pragma: no cover - a last line of defence, tested by property tests
            import logging

            logging.getLogger(__name__).exception("who-is-who failed on %r", question[:200])
            return self._usage(question, lang)

    def _answer(self, question: str, lang: Lang, today: dt.date | None) -> WhoAnswer:
        q = self._parse(question)
        echo = neutralise(clean(question[: MAX_INPUT * 4]))[:300]  # as typed, mentions defused
        if not q.tokens:
            return self._usage(echo, lang)
        if q.bad_date is not None:
            return self._bad_date(echo, lang, q.bad_date)
        accepted, rejected, unknown = self._resolve(q)
        now = today if today is not None else self.story.last_day
        if any(score >= 0.9 for _, score, _ in accepted):
            # A name of the story is certainly asked about: a lone capitalised word next to it
            # ("Who is Sam Altman, the Guy everyone cites?") is not taken for an unknown person.
            unknown = [u for u in unknown if u[1] != 1]
        if unknown:
            return self._not_found(echo, lang, unknown[0][0], rejected, accepted)
        as_of = now
        if q.date is not None:
            as_of = q.date.day + dt.timedelta(
                days={"on": 0, "before": -1, "after": 1}[q.date.relation]
            )
        # Outside the story's days: before (beyond a short margin) nothing is known; after its
        # last day, the answer is given as of that last day, and says so.
        first, last = self.story.first_day, self.story.last_day
        coverage: str | None = None
        if as_of < first - dt.timedelta(days=_GRACE_DAYS):
            coverage = "before"
        elif as_of > last:
            coverage = "after"
            as_of = last
        elif as_of < first:
            coverage = "early"
        result = self._dispatch(echo, lang, q, accepted, rejected, as_of, coverage)
        if coverage in ("after", "early") and result.found:
            _t = Messages(lang, domain="whois")
            note = (
                _t(
                    "The story ends on %(last)s: this answer is as of that day.",
                    last=format_long(last, lang),
                )
                if coverage == "after"
                else _t(
                    "The story begins on %(first)s: it only tells the situation as it stood then.",
                    first=format_long(first, lang),
                )
            )
            result = self._with_note(result, note)
        return result

    def _with_note(self, result: WhoAnswer, note: str) -> WhoAnswer:
        doc = result.document
        _t = Messages(result.lang, domain="whois")
        section = Section(
            neutralise(_t("Note")),
            (Item((Span(neutralise(_typography(note, result.lang))),)),),
            "paragraph",
        )
        doc = dataclasses.replace(doc, sections=(section, *doc.sections))
        return WhoAnswer(
            result.question,
            result.lang,
            result.found,
            result.matches,
            doc,
            result.suggestions,
            result.intent,
        )

    def _dispatch(
        self,
        echo: str,
        lang: Lang,
        q: _Query,
        accepted: list[tuple[_Entity, float, int]],
        rejected: list[_Entity],
        as_of: dt.date,
        coverage: str | None,
    ) -> WhoAnswer:
        persons = [a for a in accepted if a[0].kind == "person"]
        orgs = [a for a in accepted if a[0].kind == "organisation"]
        subject_first = self._subject_first(q)

        # 0. "Who said/reported that ...": the source of the matching text.
        if subject_first == "report" and coverage != "before":
            found = self._retrieve(q, accepted, report=True)
            if found and found[0][1] >= 0.3:
                return self._text_answer(echo, lang, q, found, accepted, as_of)
        # 0b. "boss of <person>": who recruited them, or the head of their organisation.
        boss = self._boss_question(q, accepted)
        if boss is not None:
            return self._boss_answer(echo, lang, q, boss, accepted, as_of, coverage)
        # 0c. A verb the vocabulary does not know ("disapproved", "wants to reunite"), the
        # known words being nouns or names: the story's texts decide.
        content = [
            i for i in range(len(q.tokens)) if not q.explained[i] and self._content_word(q, i)
        ]
        specific_role = any(not weak for _, _, weak in q.roles)
        if (
            content
            and subject_first not in ("identity", "none")
            and not specific_role
            and (
                all(p in q.nominal for p, _, _ in q.preds)
                or content[0] == self._verb_slot(q)  # the unknown word is the main verb
            )
            and coverage != "before"
        ):
            found = self._retrieve(q, accepted, report=False)
            if found and found[0][1] >= 0.35:
                return self._text_answer(echo, lang, q, found, accepted, as_of)
        if coverage == "before" and (q.roles or q.preds) and not (q.preds and q.date is None):
            return self._not_covered(echo, lang, as_of, accepted)

        # 1. Events and relations.
        if q.preds:
            # The main verb: the first verb, speech verbs ("said", "a déclaré") only when alone.
            verbs = [p for p in q.preds if not p[2]]
            specific_verbs = [p for p in verbs if p[1] not in _SPEECH]
            pos, pred, noun = sorted(specific_verbs or verbs or q.preds)[0]
            results = self._query_predicate(q, pred, pos, noun, accepted)
            if results:
                return self._event_answer(echo, lang, q, pred, results, accepted, as_of)
            if persons:
                return self._identity_answer(
                    echo, lang, persons[0][0], accepted, as_of, q, no_event=True
                )
        # 2. Roles.
        specific = [r for r in q.roles if not r[2]]
        role = sorted(specific or q.roles)[0] if q.roles else None
        if role is not None:
            key = role[1]
            anchor = self._before_after_person(q, persons)
            if anchor is not None:
                person, direction = anchor
                result = self._query_role_relative(q, key, orgs, person, direction)
                if result:
                    return self._role_answer(echo, lang, q, key, orgs, result, accepted)
            if not persons or (key == "cofounder" and persons and orgs):
                result = self._query_role(q, key, orgs, as_of, exclude={p[0].id for p in persons})
                if result is not None:
                    return self._role_answer(echo, lang, q, key, orgs, result, accepted)
                if not persons:
                    # "who is the CEO of Google?" when the story names none: say so, do not
                    # answer with something else.
                    return self._no_data(echo, lang, accepted)
        # 3. Links between two entities.
        if q.has("link") and len(accepted) >= 2:
            first = min(accepted[:3], key=lambda a: a[2])
            others = [a[0] for a in accepted if a[0] is not first[0]]
            return self._identity_answer(
                echo, lang, first[0], accepted, as_of, q, link=others[0], intent="relation"
            )
        # 4. Identity.
        if accepted:
            top = accepted[0]
            if q.has("what") and orgs and not q.has("who"):
                top = orgs[0]
            return self._identity_answer(echo, lang, top[0], accepted, as_of, q)
        if q.preds or q.roles:
            return self._no_data(echo, lang, accepted)
        weak = q.markers.get("weak_unknown")
        if weak:
            return self._not_found(
                echo, lang, self._span_text(q, weak[0], weak[0] + 1), rejected, accepted
            )
        return self._not_found(echo, lang, None, rejected, accepted)

    # question shapes ---------------------------------------------------------------

    _WH = frozenset({"who", "qui", "whom", "and", "et", "so", "alors", "then", "donc"})
    _AUX = frozenset({"a", "has", "had", "did", "have", "ont", "avait", "just", "also", "then"})
    _COPULA = frozenset({"is", "was", "are", "were", "s", "est", "etait", "c", "sont"})

    _LEAD = frozenset({"avec", "with", "par", "by", "pour", "for", "de", "a"})

    def _verb_slot(self, q: _Query) -> int:
        """The position of the main verb of a "who ..." question (after auxiliaries)."""
        toks = q.tokens
        i = 0
        while i < len(toks) and (toks[i] in self._WH or toks[i] in self._LEAD):
            i += 1
        while i < len(toks) and (toks[i] in self._AUX or toks[i] in ("does", "do")):
            i += 1
        return i

    def _subject_first(self, q: _Query) -> str:
        """What follows "who": a report verb ("who said that..."), a copula ("who is"), other;
        "none" when the question does not ask "who" at all ("Did Mira approve ...?")."""
        toks = q.tokens
        if not any(t in ("who", "qui", "whom") for t in toks[:3]):
            return "none"
        i = 0
        while i < len(toks) and (toks[i] in self._WH or toks[i] in self._LEAD):
            i += 1
        if i < len(toks) and toks[i] in self._COPULA:
            nxt = toks[i + 1] if i + 1 < len(toks) else ""
            return "other" if nxt.endswith("ing") else "identity"
        while i < len(toks) and toks[i] in self._AUX:
            i += 1
        if i < len(toks) and toks[i] in lex.REPORT_VERBS and len(toks) - i >= 3:
            return "report"
        return "other"

    def _content_word(self, q: _Query, position: int) -> bool:
        token = q.tokens[position]
        if token in lex.STOPWORDS or token in lex.TEXT_STOPWORDS:
            return False
        if len(token) < 3 or not token.isalpha():
            return False
        return not (q.mixed_case and q.cased is not None and q.cased[position][:1].isupper())

    def _doc_text(self, number: int, lang: Lang) -> tuple[str, StoryDate | None]:
        kind, obj = self._doc_show[number]
        if kind == "event":
            return obj.headline(lang), obj.date
        if kind == "quote":
            return f"“{obj.text(lang)}”", obj.date
        if kind == "context":
            return self._context_text(obj, lang), None
        if kind == "bio":
            return obj.bio(lang), None
        if kind == "relation":
            return (obj.text(lang) if obj.text else ""), obj.date
        return obj.description(lang), None

    def _text_answer(
        self,
        echo: str,
        lang: Lang,
        q: _Query,
        found: list[tuple[str, float, int]],
        accepted: list[tuple[_Entity, float, int]],
        as_of: dt.date,
    ) -> WhoAnswer:
        _t = Messages(lang, domain="whois")
        best = found[0][1]
        kept = [f for f in found if f[1] >= best * 0.8][:3]
        items = []
        for entity_id, _score, number in kept:
            body, date = self._doc_text(number, lang)
            label = self._when(date, lang, _t) if date is not None else None
            name = self.by_id[entity_id].display(lang)
            items.append(Item((Span(name, "strong"), Span(" — " + body)), label))
        top = self.by_id[kept[0][0]]
        sections, subtitle = self._entity_sections(top, lang, as_of)
        sections.insert(0, Section(_t("Answer"), tuple(items)))
        scale = min(1.0, 0.6 + best)
        matches = [
            self._match(self.by_id[entity_id], scale * score / best, lang)
            for entity_id, score, _ in found[:5]
        ]
        doc = self._document(
            lang,
            top.display(lang),
            sections,
            subtitle,
            {"found": True, "intent": "event", "question": echo},
        )
        return WhoAnswer(
            echo, lang, True, tuple(self._others(accepted, matches, lang)[:8]), doc, (), "event"
        )

    def _boss_question(
        self, q: _Query, accepted: list[tuple[_Entity, float, int]]
    ) -> _Entity | None:
        """The person in "the boss of <person>" / "<person>'s boss", if the question says that."""
        toks = q.tokens
        bosses = [i for i, t in enumerate(toks) if t in lex.BOSS_WORDS]
        if not bosses or any(not weak for _, key, weak in q.roles if key != "ceo"):
            return None
        between_ok = {"of", "de", "d", "the", "la", "le", "l", "du", "s"}
        for entity, _score, start in accepted:
            if entity.kind != "person":
                continue
            end = max(
                (ev.end for ev in q.evidence.get(entity.index, []) if ev.start == start),
                default=start + 1,
            )
            for b in bosses:
                if (
                    start > b
                    and all(t in between_ok for t in toks[b + 1 : start])
                    and start - b <= 3
                ):
                    return entity
                if end <= b and toks[end:b] == ["s"]:
                    return entity
        return None

    def _boss_of(
        self, person: _Entity, as_of: dt.date
    ) -> tuple[_Entity, str, Role | None, dt.date] | None:
        """(boss, how, the boss's role, as of): the recruiter, else the head of their organisation."""
        for triple in self._triples.get("recruited", []):
            if triple.undergoer == person.id and triple.doer in self.by_id:
                return self.by_id[triple.doer], "recruited", None, as_of
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
                for e, r in self._holders_by_key_org.get(("ceo", role.organisation), [])
                if e is not person and not r.planned and r.held_on(day)
            ]
            if heads:
                return heads[0][0], "head", heads[0][1], day
        return None

    def _boss_answer(
        self,
        echo: str,
        lang: Lang,
        q: _Query,
        person: _Entity,
        accepted: list[tuple[_Entity, float, int]],
        as_of: dt.date,
        coverage: str | None,
    ) -> WhoAnswer:
        found = self._boss_of(person, as_of) if coverage != "before" else None
        if found is None:
            return self._no_data(echo, lang, accepted)
        _t = Messages(lang, domain="whois")
        boss, how, role, day = found
        if how == "recruited":
            sentence = _t(
                "%(doer)s recruited %(undergoer)s.", doer=boss.name, undergoer=person.name
            )
        else:
            assert role is not None
            org = self.by_id.get(role.organisation or "")
            sentence = _t(
                "On %(date)s, %(name)s worked at %(org)s, headed by %(boss)s (%(title)s).",
                date=format_long(day, lang),
                name=person.name,
                org=org.display(lang) if org else "?",
                boss=boss.name,
                title=role.title(lang),
            )
        sections, subtitle = self._entity_sections(boss, lang, as_of)
        sections.insert(0, Section(_t("Answer"), (Item((Span(sentence, "strong"),)),), "paragraph"))
        matches = [self._match(boss, 0.9, lang), self._match(person, 0.5, lang)]
        doc = self._document(
            lang,
            boss.display(lang),
            sections,
            subtitle,
            {"found": True, "intent": "relation", "question": echo},
        )
        return WhoAnswer(echo, lang, True, tuple(matches), doc, (), "relation")

    def _not_covered(
        self, echo: str, lang: Lang, day: dt.date, accepted: list[tuple[_Entity, float, int]]
    ) -> WhoAnswer:
        _t = Messages(lang, domain="whois")
        text = _t(
            "The story does not cover %(date)s: it runs from %(first)s to %(last)s.",
            date=format_long(day, lang),
            first=format_long(self.story.first_day, lang),
            last=format_long(self.story.last_day, lang),
        )
        sections = [Section(_t("Answer"), (Item((Span(text),)),), "paragraph")]
        doc = self._document(
            lang,
            _t("Outside the story's dates"),
            sections,
            None,
            {"found": False, "intent": "unknown", "question": echo},
        )
        return WhoAnswer(echo, lang, False, (), doc, (), "unknown")

    def _bad_date(self, echo: str, lang: Lang, typed: str) -> WhoAnswer:
        _t = Messages(lang, domain="whois")
        text = _t("“%(date)s” is not a valid date.", date=typed)
        hint = _t(
            "Write a date that exists, for example %(example)s.",
            example=format_long(self.story.first_day, lang),
        )
        sections = [
            Section(_t("Answer"), (Item((Span(text),)),), "paragraph"),
            Section(_t("How to ask"), (Item((Span(hint),)),), "paragraph"),
        ]
        doc = self._document(
            lang,
            _t("Invalid date"),
            sections,
            None,
            {"found": False, "intent": "unknown", "question": echo},
        )
        return WhoAnswer(echo, lang, False, (), doc, (), "unknown")

    # predicate questions ---------------------------------------------------------

    def _side(self, q: _Query, start: int, end: int, pred_pos: int, noun: bool) -> str:
        look = start - 1
        while look >= 0 and q.tokens[look] in _ARTICLES:
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

    _FALLBACK_PREDICATES: ClassVar[dict[str, tuple[str, ...]]] = {
        "joined": ("will_lead", "appointed"),
        "recruited": ("will_lead", "joined", "appointed"),
        "will_lead": ("appointed",),
    }

    def _query_predicate(
        self,
        q: _Query,
        pred: str,
        pred_pos: int,
        noun: bool,
        accepted: list[tuple[_Entity, float, int]],
    ) -> list[tuple[str, _Triple, float]]:
        results = self._query_one_predicate(q, pred, pred_pos, noun, accepted)
        for other in self._FALLBACK_PREDICATES.get(pred, ()):
            if results:
                break
            results = [
                (t, tr, s * 0.9)
                for t, tr, s in self._query_one_predicate(q, other, pred_pos, noun, accepted)
            ]
        return results

    def _query_one_predicate(
        self,
        q: _Query,
        pred: str,
        pred_pos: int,
        noun: bool,
        accepted: list[tuple[_Entity, float, int]],
    ) -> list[tuple[str, _Triple, float]]:
        triples = list(self._triples.get(pred, []))
        if not triples:
            return []
        constraints: list[tuple[_Entity, str]] = []
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
            side = self._side(q, start, end, pred_pos, noun)
            if (
                start > pred_pos
                and side == "undergoer"
                and passive_before
                and entity.kind == "organisation"
            ):
                side = "context"  # "who got fired from OpenAI": OpenAI is where, not who
            if entity.kind == "organisation" and start > 0 and q.tokens[start - 1] in _LOCATIVE:
                side = "context"  # "work with at Microsoft": where, not who
            constraints.append((entity, side))
        specific = {key for _, key, weak in q.roles if not weak}
        transitive = pred in _TRANSITIVE
        if transitive:
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

        if constraints:
            triples = self._pred_entity.get((pred, constraints[0][0].id), [])

        def date_ok(triple: _Triple) -> bool:
            if q.date is None:
                return True
            if triple.date is None:
                return False
            day = q.date.day
            if q.date.relation == "on":
                return triple.date.first <= day <= triple.date.last
            if q.date.relation == "before":
                return triple.date.first < day
            return triple.date.last > day

        def run(strict: bool, side: str) -> list[tuple[str, _Triple, float]]:
            out: list[tuple[str, _Triple, float]] = []
            for triple in triples:
                target = getattr(triple, side)
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
                        entity.id in event.organisations
                        or (not strict and entity.id in event.people)
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
        if not results and transitive and not constraints:
            results = run(True, "doer" if answer_side == "undergoer" else "undergoer")
        far = dt.date.max
        # Ties (several subjects of "declared"...) go to the event whose text best matches.
        sims = self._similarities(q, range(len(q.tokens)), set()) if len(results) > 1 else {}

        def overlap(triple: _Triple) -> float:
            number = self._doc_of_event.get(triple.event.id) if triple.event else None
            return round(sims.get(number, 0.0), 3) if number is not None else 0.0

        results.sort(
            key=lambda r: (-round(r[2], 3), -overlap(r[1]), r[1].date.first if r[1].date else far)
        )
        seen: set[str] = set()
        unique: list[tuple[str, _Triple, float]] = []
        for target, triple, score in results:
            if target in seen or target not in self.by_id:
                continue
            seen.add(target)
            unique.append((target, triple, score))
        return unique

    # role questions ---------------------------------------------------------------

    def _before_after_person(
        self, q: _Query, persons: list[tuple[_Entity, float, int]]
    ) -> tuple[_Entity, str] | None:
        for entity, _score, start in persons:
            look = start - 1
            while look >= 0 and q.tokens[look] in ("le", "la", "the", "l"):
                look -= 1
            if look >= 0 and q.tokens[look] in ("before", "avant", "prior"):
                return entity, "before"
            if look >= 0 and q.tokens[look] in ("after", "apres", "following"):
                return entity, "after"
        return None

    def _orgs_match(self, role: Role, orgs: list[tuple[_Entity, float, int]]) -> bool:
        if not orgs:
            return True
        ids = {o[0].id for o in orgs}
        return role.organisation in ids or role.organisation in {self._parent.get(i) for i in ids}

    def _query_role_relative(
        self,
        q: _Query,
        key: str,
        orgs: list[tuple[_Entity, float, int]],
        person: _Entity,
        direction: str,
    ) -> dict[str, Any] | None:
        own = [
            r
            for e, r in self._role_holders.get(key, [])
            if e is person and self._orgs_match(r, orgs)
        ]
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
            orgs or [(self.by_id[role.organisation], 1.0, 0)]
            if role.organisation in self.by_id
            else orgs
        )
        return self._query_role(q, key, scoped, day, exclude={person.id}, explicit_day=True)

    def _query_role(
        self,
        q: _Query,
        key: str,
        orgs: list[tuple[_Entity, float, int]],
        as_of: dt.date,
        exclude: set[str] = frozenset(),  # type: ignore[assignment]
        explicit_day: bool = False,
    ) -> dict[str, Any] | None:
        if orgs:
            candidates: list[tuple[_Entity, Role]] = []
            org_ids = {o[0].id for o in orgs}
            for org_id in list(org_ids):
                parent = self._parent.get(org_id)
                if parent is not None:
                    org_ids.add(parent)
            for org_id in org_ids:
                candidates += self._holders_by_key_org.get((key, org_id), [])
        else:
            candidates = self._role_holders.get(key, [])
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
        planned = [h for h in holders if h[1].planned]
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
        elif upcoming:
            mode, chosen = "upcoming", upcoming[:1]
        else:
            return None
        rank = self._org_rank
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

    # ------------------------------------------------------------------ documents

    def _when(self, date: StoryDate, lang: Lang, _t: Messages) -> str:
        if date.precision == "day":
            return format_long(date.first, lang)
        if date.precision == "weekend":
            return _t("the weekend of %(date)s", date=format_long(date.first, lang))
        return _t("around %(date)s", date=format_long(date.first, lang))

    def _role_range(self, role: Role, lang: Lang, _t: Messages) -> str:
        parts = []
        if role.since is not None:
            approx = not role.since.is_exact
            day = format_long(role.since.first, lang)
            if role.until is not None:
                parts.append(
                    _t("from around %(date)s", date=day)
                    if approx
                    else _t("from %(date)s", date=day)
                )
            else:
                parts.append(
                    _t("since around %(date)s", date=day)
                    if approx
                    else _t("since %(date)s", date=day)
                )
        if role.until is not None:
            approx = not role.until.is_exact
            day = format_long(role.until.first, lang)
            parts.append(
                _t("until around %(date)s", date=day) if approx else _t("until %(date)s", date=day)
            )
        return " ".join(parts)

    def _of(self, name: str, lang: Lang) -> str:
        if lang == "fr":
            return f"d'{name}" if starts_with_vowel(name) else f"de {name}"
        return name

    def _role_label(self, role: Role, lang: Lang, _t: Messages) -> str:
        title = role.title(lang)
        org = self.by_id.get(role.organisation or "")
        if org is not None and normalise(org.display(lang)) not in normalise(title):
            if lang == "fr":
                title = f"{title} {self._of(org.display(lang), lang)}"
            else:
                title = _t("%(title)s of %(org)s", title=title, org=org.display(lang))
        if role.planned:
            title = _t("%(title)s (announced)", title=title)
        return title

    def _footer(self, lang: Lang, _t: Messages) -> str:
        return _t("From the story “%(title)s”.", title=self.story.meta.title(lang))

    def _document(
        self,
        lang: Lang,
        title: str,
        sections: Iterable[Section],
        subtitle: str | None,
        meta: dict[str, Any],
    ) -> Document:
        _t = Messages(lang, domain="whois")

        def fix(text: str) -> str:
            return neutralise(_typography(text, lang))

        safe_sections = tuple(
            Section(
                fix(s.heading),
                tuple(
                    Item(
                        tuple(Span(fix(sp.text), sp.emphasis, sp.url) for sp in it.spans),
                        fix(it.label) if it.label else None,
                    )
                    for it in s.items
                ),
                s.kind,
            )
            for s in sections
            if s.items
        )
        return Document(
            kind="answer",
            lang=lang,
            title=fix(title),
            subtitle=fix(subtitle) if subtitle else None,
            sections=safe_sections,
            footer=fix(self._footer(lang, _t)),
            story_slug=self.story.slug,
            meta=meta,
        )

    def _match(self, entity: _Entity, score: float, lang: Lang) -> Match:
        return Match(entity.id, entity.display(lang), entity.kind, max(0.0, min(1.0, score)))

    def _entity_sections(
        self,
        entity: _Entity,
        lang: Lang,
        as_of: dt.date,
        link: _Entity | None = None,
        no_event: bool = False,
    ) -> tuple[list[Section], str | None]:
        _t = Messages(lang, domain="whois")
        sections: list[Section] = []
        subtitle: str | None = None
        if entity.person is not None:
            person = entity.person
            subtitle = self._headline(person, lang, as_of, _t) or None
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
            for role in person.roles:
                label = self._role_range(role, lang, _t) or None
                spans = [Span(self._role_label(role, lang, _t), "strong")]
                if role.note is not None:
                    spans.append(Span(" — " + role.note(lang), "em"))
                role_items.append(Item(tuple(spans), label))
            sections.append(Section(_t("Roles"), tuple(role_items)))
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
            for holder, role in self._holders_at.get(org.id, [])[:12]:
                status = self._role_range(role, lang, _t)
                people_items.append(
                    Item(
                        (
                            Span(holder.name, "strong"),
                            Span(" — " + self._role_label(role, lang, _t)),
                        ),
                        status or None,
                    )
                )
            sections.append(Section(_t("People"), tuple(people_items[:12])))
        if link is not None:
            items = []
            for fact in self.story.context:
                ids = {*fact.people, *fact.organisations}
                if entity.id in ids and link.id in ids:
                    items.append(Item((Span(self._context_text(fact, lang)),)))
            for event in self._events_of.get(entity.id, []):
                if event in self._events_of.get(link.id, []):
                    items.append(
                        Item((Span(event.headline(lang)),), self._when(event.date, lang, _t))
                    )
            if not items:
                items.append(Item((Span(_t("The story records no direct link between them.")),)))
            sections.insert(
                0, Section(_t("Link with %(name)s", name=link.display(lang)), tuple(items[:8]))
            )
        events = self._events_of.get(entity.id, [])
        key_events = [
            e for e in events if any(entity.id in (f.subject, f.by, f.object) for f in e.facts)
        ] or events
        if len(key_events) < 4:
            key_events = events
        sections.append(
            Section(
                _t("Key events"),
                tuple(
                    Item((Span(e.headline(lang)),), self._when(e.date, lang, _t))
                    for e in key_events[:8]
                ),
            )
        )
        related: dict[str, Item] = {}  # one line per other person, even if seen from both sides
        for triple in self._relations_of.get(entity.id, []):
            if triple.predicate == "preceded":
                continue  # the mirror of "replaced"
            other = triple.undergoer if triple.doer == entity.id else triple.doer
            if other and other != entity.id and other not in related:
                related[other] = self._related_item(triple, entity, other, lang, _t)
        sections.append(Section(_t("Related people"), tuple(related.values())[:8]))
        return sections, subtitle

    def _headline(self, person: Person, lang: Lang, as_of: dt.date, _t: Messages) -> str:
        """A person's roles as of a day, the main one first: dated roles held, then roles that
        ended (with the day), then timeless ones, then announced ones."""
        dated: list[str] = []
        ended: list[str] = []
        timeless: list[str] = []
        planned: list[str] = []
        for role in person.roles:
            label = self._role_label(role, lang, _t)
            if role.planned:
                planned.append(label)
            elif role.held_on(as_of):
                (dated if role.since or role.until else timeless).append(label)
            elif role.until is not None and role.until.first <= as_of:
                ended.append(
                    _t(
                        "former %(title)s (%(until)s)",
                        title=self._role_label(role, lang, _t),
                        until=self._role_range(role.model_copy(update={"since": None}), lang, _t),
                    )
                )
        return "; ".join([*dated, *ended, *timeless, *planned])

    def _related_item(
        self, triple: _Triple, entity: _Entity, other: str, lang: Lang, _t: Messages
    ) -> Item:
        """ "Mira Murati — replaced Sam Altman (interim CEO, November 17, 2023)": a verb phrase
        whose subject is the person named in the label."""
        doer = self.story.name_of(triple.doer) if triple.doer else "?"
        undergoer = self.story.name_of(triple.undergoer) if triple.undergoer else "?"
        if triple.doer == other:
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
        doer_entity = self.by_id.get(triple.doer or "")
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
            details.append(self._when(triple.date, lang, _t))
        if details:
            phrase += " (" + ", ".join(details) + ")"
        return Item((Span(phrase),), self.story.name_of(other))

    def _relation_item(self, triple: _Triple, entity: _Entity, lang: Lang, _t: Messages) -> Item:
        doer = self.story.name_of(triple.doer) if triple.doer else "?"
        undergoer = self.story.name_of(triple.undergoer) if triple.undergoer else "?"
        sentence = {
            "recruited": _t("%(doer)s recruited %(undergoer)s.", doer=doer, undergoer=undergoer),
            "replaced": _t("%(doer)s replaced %(undergoer)s.", doer=doer, undergoer=undergoer),
            "works_with": _t("%(doer)s works with %(undergoer)s.", doer=doer, undergoer=undergoer),
            "cofounded_with": _t(
                "%(doer)s co-founded a company with %(undergoer)s.", doer=doer, undergoer=undergoer
            ),
        }.get(triple.predicate, f"{doer} — {undergoer}")
        other = triple.undergoer if triple.doer == entity.id else triple.doer
        label = self.story.name_of(other) if other else None
        return Item((Span(sentence),), label)

    def _context_text(self, fact: Any, lang: Lang) -> str:
        text = fact.text(lang)
        if fact.amount_usd is not None and "{amount}" in text:
            text = text.replace("{amount}", format_usd(fact.amount_usd, lang))
        return str(text)

    def _others(
        self, accepted: list[tuple[_Entity, float, int]], first: Sequence[Match], lang: Lang
    ) -> list[Match]:
        ids = {m.id for m in first}
        return [*first, *(self._match(e, s * 0.9, lang) for e, s, _ in accepted if e.id not in ids)]

    def _identity_answer(
        self,
        echo: str,
        lang: Lang,
        entity: _Entity,
        accepted: list[tuple[_Entity, float, int]],
        as_of: dt.date,
        q: _Query,
        link: _Entity | None = None,
        no_event: bool = False,
        intent: Intent | None = None,
    ) -> WhoAnswer:
        score = next((s for e, s, _ in accepted if e is entity), 1.0)
        sections, subtitle = self._entity_sections(
            entity, lang, as_of, link=link, no_event=no_event
        )
        intent = intent or ("identity" if entity.kind == "person" else "organisation")
        matches = self._others(accepted, [self._match(entity, score, lang)], lang)
        doc = self._document(
            lang,
            entity.display(lang),
            sections,
            subtitle,
            {"found": True, "intent": intent, "question": echo},
        )
        return WhoAnswer(echo, lang, True, tuple(matches), doc, (), intent)

    def _event_answer(
        self,
        echo: str,
        lang: Lang,
        q: _Query,
        pred: str,
        results: list[tuple[str, _Triple, float]],
        accepted: list[tuple[_Entity, float, int]],
        as_of: dt.date,
    ) -> WhoAnswer:
        _t = Messages(lang, domain="whois")
        items = []
        for target, triple, _score in results[:8]:
            name = self.by_id[target].display(lang)
            if triple.event is not None:
                body = triple.event.headline(lang)
            elif triple.text is not None:
                body = triple.text(lang)
            else:
                body = self._relation_item(triple, self.by_id[target], lang, _t).plain
            label = self._when(triple.date, lang, _t) if triple.date is not None else None
            items.append(Item((Span(name, "strong"), Span(" — " + body)), label))
        top = self.by_id[results[0][0]]
        sections, subtitle = self._entity_sections(top, lang, as_of)
        sections.insert(0, Section(_t("Answer"), tuple(items)))
        matches = [self._match(self.by_id[t], s, lang) for t, _, s in results]
        doc = self._document(
            lang,
            top.display(lang),
            sections,
            subtitle,
            {"found": True, "intent": "event", "question": echo},
        )
        return WhoAnswer(echo, lang, True, tuple(matches), doc, (), "event")

    def _role_answer(
        self,
        echo: str,
        lang: Lang,
        q: _Query,
        key: str,
        orgs: list[tuple[_Entity, float, int]],
        result: dict[str, Any],
        accepted: list[tuple[_Entity, float, int]],
    ) -> WhoAnswer:
        _t = Messages(lang, domain="whois")
        holders: list[tuple[_Entity, Role]] = result["holders"]
        mode: str = result["mode"]
        as_of: dt.date = result["as_of"]
        role = holders[0][1]
        org = self.by_id.get(role.organisation or "")
        title = role.title(lang)
        if org is not None and normalise(org.display(lang)) in normalise(title):
            org = None  # the title already names the organisation
        names = format_names([e.name for e, _ in holders], lang)
        values: dict[str, Any] = {
            "date": format_long(as_of, lang),
            "title": title,
            "names": names,
            "org": org.display(lang) if org else "",
            "of_org": self._of(org.display(lang), lang) if org else "",
            "of_title": self._of(title, lang),
        }
        at = "_org" if org else ""
        plural = len(holders) > 1
        if mode == "current":
            tense = "past" if result["explicit"] else "present"
            msgid = {
                ("past", "_org", False): "On %(date)s, the %(title)s of %(org)s was %(names)s.",
                ("past", "", False): "On %(date)s, the %(title)s was %(names)s.",
                (
                    "present",
                    "_org",
                    False,
                ): "As of %(date)s, the %(title)s of %(org)s is %(names)s.",
                ("present", "", False): "As of %(date)s, the %(title)s is %(names)s.",
                (
                    "past",
                    "_org",
                    True,
                ): "On %(date)s, %(names)s held the post of %(title)s at %(org)s.",
                ("past", "", True): "On %(date)s, %(names)s held the post of %(title)s.",
                (
                    "present",
                    "_org",
                    True,
                ): "As of %(date)s, %(names)s hold the post of %(title)s at %(org)s.",
                ("present", "", True): "As of %(date)s, %(names)s hold the post of %(title)s.",
            }[(tense, at, plural)]
            sentence = _t(msgid, **values)
        elif mode == "planned":
            since = role.since
            values["when"] = self._when(since, lang, _t) if since is not None else ""
            msgid = (
                "%(names)s is to become %(title)s of %(org)s"
                if org
                else "%(names)s is to become %(title)s"
            )
            sentence = _t(msgid, **values)
            if since is not None:
                sentence += " " + _t("(expected: %(when)s)", **values)
            sentence += "."
        elif mode in ("last", "former"):
            until = role.until
            values["until"] = self._when(until, lang, _t) if until is not None else "?"
            msgid = (
                "As of %(date)s, the story names no current %(title)s of %(org)s; the post was last held by %(names)s (until %(until)s)."
                if org
                else "As of %(date)s, the story names no current %(title)s; the post was last held by %(names)s (until %(until)s)."
            )
            if mode == "former":
                msgid = (
                    "The previous %(title)s of %(org)s was %(names)s (until %(until)s)."
                    if org
                    else "The previous %(title)s was %(names)s (until %(until)s)."
                )
            sentence = _t(msgid, **values)
        else:  # upcoming
            since = role.since
            values["when"] = self._when(since, lang, _t) if since is not None else "?"
            msgid = (
                "On %(date)s, the story names no %(title)s of %(org)s yet; %(names)s took up the post later (%(when)s)."
                if org
                else "On %(date)s, the story names no %(title)s yet; %(names)s took up the post later (%(when)s)."
            )
            sentence = _t(msgid, **values)
        top = holders[0][0]
        sections, subtitle = self._entity_sections(top, lang, as_of)
        sections.insert(0, Section(_t("Answer"), (Item((Span(sentence, "strong"),)),), "paragraph"))
        intent: Intent = "role-at-date" if q.date is not None or result["explicit"] else "role"
        matches = [self._match(e, 1.0 if mode == "current" else 0.9, lang) for e, _ in holders]
        if org is not None:
            matches.append(self._match(org, 0.5, lang))
        doc = self._document(
            lang,
            top.display(lang),
            sections,
            subtitle,
            {"found": True, "intent": intent, "question": echo},
        )
        return WhoAnswer(echo, lang, True, tuple(matches), doc, (), intent)

    def _example_hint(self, _t: Messages) -> str:
        if self._top_person is None:
            return _t("Ask about a person, a role or an organisation of the story.")
        name = self._top_person.name
        return _t(
            "Ask about a person, a role or an organisation of the story, for example: “Who is %(name)s?”",
            name=name,
        )

    def _near_misses(self, name: str, rejected: list[_Entity]) -> list[_Entity]:
        out = list(dict.fromkeys(rejected))
        key = normalise(name)
        if key and len(self._full_names) <= 5000:
            hits = process.extract(
                key, self._full_names, scorer=fuzz.token_sort_ratio, score_cutoff=70, limit=6
            )
            for _, _, position in hits:
                entity = self.entities[self._full_owner[position]]
                if entity not in out:
                    out.append(entity)
        return out[:3]

    def _not_found(
        self,
        echo: str,
        lang: Lang,
        name: str | None,
        rejected: list[_Entity],
        accepted: list[tuple[_Entity, float, int]],
    ) -> WhoAnswer:
        _t = Messages(lang, domain="whois")
        if name:
            text = _t("“%(name)s” does not appear in this story.", name=name)
        else:
            text = _t("I found no one in this story matching your question.")
        near = self._near_misses(name, rejected) if name else list(dict.fromkeys(rejected))[:3]
        suggestions = tuple(Suggestion(e.id, e.display(lang), e.kind) for e in near)
        sections = [Section(_t("Answer"), (Item((Span(text),)),), "paragraph")]
        if suggestions:
            sections.append(
                Section(
                    _t("Did you mean…? (suggestions, not answers)"),
                    tuple(
                        Item((Span(s.name, "em"), Span(" — " + _t("suggestion"))))
                        for s in suggestions
                    ),
                )
            )
        sections.append(
            Section(_t("How to ask"), (Item((Span(self._example_hint(_t)),)),), "paragraph")
        )
        doc = self._document(
            lang,
            _t("Not in this story"),
            sections,
            None,
            {"found": False, "intent": "unknown", "question": echo},
        )
        matches = tuple(Match(s.id, s.name, s.kind, 0.0) for s in suggestions)
        return WhoAnswer(echo, lang, False, matches, doc, suggestions, "unknown")

    def _no_data(
        self, echo: str, lang: Lang, accepted: list[tuple[_Entity, float, int]]
    ) -> WhoAnswer:
        _t = Messages(lang, domain="whois")
        sections = [
            Section(_t("Answer"), (Item((Span(_t("The story does not say.")),)),), "paragraph"),
        ]
        suggestions = tuple(Suggestion(e.id, e.display(lang), e.kind) for e, _, _ in accepted[:3])
        if suggestions:
            sections.append(
                Section(
                    _t("Did you mean…? (suggestions, not answers)"),
                    tuple(
                        Item((Span(s.name, "em"), Span(" — " + _t("suggestion"))))
                        for s in suggestions
                    ),
                )
            )
        doc = self._document(
            lang,
            _t("No answer in this story"),
            sections,
            None,
            {"found": False, "intent": "unknown", "question": echo},
        )
        matches = tuple(Match(s.id, s.name, s.kind, 0.0) for s in suggestions)
        return WhoAnswer(echo, lang, False, matches, doc, suggestions, "unknown")

    def _usage(self, echo: str, lang: Lang) -> WhoAnswer:
        _t = Messages(lang, domain="whois")
        examples = []
        if self._top_person is not None:
            examples.append(_t("Who is %(name)s?", name=self._top_person.name))
        if self._top_org is not None:
            examples.append(_t("Tell me about %(org)s", org=self._top_org.display(lang)))
        examples.append(_t("Who was fired?"))
        sections = [
            Section(
                _t("How to ask"),
                (
                    Item(
                        (
                            Span(
                                _t(
                                    "Ask about a person, a role, an event or an organisation of the story, in French or English."
                                )
                            ),
                        )
                    ),
                ),
                "paragraph",
            ),
            Section(_t("Examples"), tuple(Item((Span(e),)) for e in examples)),
        ]
        doc = self._document(
            lang,
            _t("Who is who"),
            sections,
            None,
            {"found": False, "intent": "usage", "question": neutralise(echo)[:300]},
        )
        return WhoAnswer(neutralise(echo)[:300], lang, False, (), doc, (), "usage")


# --------------------------------------------------------------------------- cache

_CACHE: dict[tuple[str, int], tuple[Story, WhoIndex]] = {}
_CACHE_LOCK = threading.Lock()
_CACHE_SIZE = 16


def index_for(story: Story) -> WhoIndex:
    """The index of a story, built once per story object (keyed by slug and identity)."""
    key = (story.slug, id(story))
    with _CACHE_LOCK:
        cached = _CACHE.get(key)
        if cached is not None and cached[0] is story:
            return cached[1]
    index = WhoIndex.build(story)
    with _CACHE_LOCK:
        if len(_CACHE) >= _CACHE_SIZE:
            _CACHE.pop(next(iter(_CACHE)))
        _CACHE[key] = (story, index)
    return index


def answer(
    story: Story, question: str, lang: Lang = "en", today: dt.date | None = None
) -> WhoAnswer:
    """Shortcut: `index_for(story).answer(...)`."""
    return index_for(story).answer(question, lang, today)


def suggest(
    story: Story, prefix: str, lang: Lang = "en", limit: int = SUGGESTION_LIMIT
) -> list[Suggestion]:
    """Shortcut: `index_for(story).suggest(...)`."""
    return index_for(story).suggest(prefix, lang, limit)


__all__ = ["Match", "Suggestion", "WhoAnswer", "WhoIndex", "answer", "index_for", "suggest"]
