"""The story's own texts as a search index: questions the vocabulary does not cover.

A question like "who advocated caution?" names no known predicate: its words are compared
(TF-IDF over crude stems) with every event, quote, context note, bio and description, and the
entities those texts are about become candidates, the ones the question names excluded.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from digests.render import quoted
from digests.story import Lang, StoryDate
from digests.textnorm import (
    normalise,
)
from digests.whois import lexicon as lex
from digests.whois.model import PASSIVE_FACTS, SPEECH, Entity, Query
from digests.whois.normalise import features
from digests.whois.phrasing import context_text

if TYPE_CHECKING:
    from digests.whois.index import StoryIndex

ATTRIBUTION = re.compile(
    r"\b(?:according to|selon|report to|attribue a|attributes to|information a)(?: \w+){0,2} $"
)
ATTRIBUTION_AFTER = re.compile(r"^ (?:says|said|reports|reported|dit|rapporte|affirme)\b")


@dataclass(frozen=True, slots=True)
class TextIndex:
    """Every text of a story as a bag of word features (TF-IDF), with whom it is about."""

    docs: list[tuple[dict[str, float], dict[str, float]]]  # (who -> weight, source -> weight)
    show: list[tuple[str, Any]]  # (kind, story object): how to show a document
    of_event: dict[str, int]  # event id -> document number
    of_context: dict[str, int]  # context item id -> document number
    postings: dict[str, list[tuple[int, float]]]
    idf: dict[str, float]
    idf_unseen: float
    vocab: set[str]  # words of the story's texts that are not names


def build_texts(ix: StoryIndex) -> TextIndex:
    """Every text of the story as a bag of word features, with who it is about.

    A document lists candidates with a weight (the doer of a fact 1.0, a person only present
    0.7...) and, apart, the sources it is attributed to ("according to Bloomberg").
    """
    story = ix.story
    docs: list[tuple[list[str], dict[str, float], dict[str, float]]] = []
    doc_of_event: dict[str, int] = {}
    doc_of_context: dict[str, int] = {}

    def both(text: Any) -> list[str]:
        return [text.fr, text.en] if text is not None else []

    doc_show: list[tuple[str, Any]] = []  # (kind, story object) to show a document

    def add(
        texts: list[str],
        who: dict[str, float],
        sources: dict[str, float],
        show: tuple[str, Any],
    ) -> int:
        docs.append((texts, who, sources))
        doc_show.append(show)
        return len(docs) - 1

    names = {
        e.id: [n for n in {normalise(e.name), normalise(e.display("fr"))} if n] for e in ix.entities
    }
    for event in story.timeline:
        texts = [*both(event.headline), *both(event.text), *both(event.note), event.quote]
        who: dict[str, float] = {}
        for entity_id in event.organisations:
            who[entity_id] = 0.6
        for entity_id in event.people:
            who[entity_id] = 0.7
        for fact in event.facts:
            if fact.predicate in PASSIVE_FACTS:
                doer, undergoer = fact.by, fact.subject
            else:
                doer, undergoer = fact.subject or fact.by, fact.object
            speech = fact.predicate in SPEECH
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
                        if ATTRIBUTION.search(text[: hit.start()]) or ATTRIBUTION_AFTER.match(
                            text[hit.end() :]
                        ):
                            sources[entity_id] = 1.2
        doc_of_event[event.id] = add(texts, who, sources, ("event", event))
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
        for fact in ctx.facts:
            if fact.subject and fact.predicate not in PASSIVE_FACTS:
                who[fact.subject] = 1.0  # the doer of what the text says
        doc_of_context[ctx.id] = add(
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
    postings: dict[str, list[tuple[int, float]]] = {}
    vocab: set[str] = set()
    for number, (texts, _, _) in enumerate(docs):
        features_of: dict[str, float] = {}
        for text in texts:
            for token in normalise(text).split():
                vocab.add(token)
                if token in lex.TEXT_STOPWORDS:
                    continue
                for feature, weight in features(token):
                    features_of[feature] = max(features_of.get(feature, 0.0), weight)
        for feature, weight in features_of.items():
            postings.setdefault(feature, []).append((number, weight))
    total = max(1, len(docs))
    name_tokens = {t for phrase in ix.phrases for t in phrase.split()}
    return TextIndex(
        docs=[(who, sources) for _, who, sources in docs],
        show=doc_show,
        of_event=doc_of_event,
        of_context=doc_of_context,
        postings=postings,
        idf={f: math.log((total + 1) / (len(p) + 0.5)) + 1.0 for f, p in postings.items()},
        idf_unseen=math.log((total + 1) / 0.5) + 1.0,
        vocab={t for t in vocab if len(t) >= 4 and t not in name_tokens},
    )


def similarities(
    ix: StoryIndex, q: Query, positions: Iterable[int], named: set[int]
) -> dict[int, float]:
    """TF-IDF overlap of the question's words (at ``positions``) with every document."""
    weights: dict[str, float] = {}
    for position in positions:
        token = q.tokens[position]
        if token in lex.TEXT_STOPWORDS or (len(token) < 3 and not token.isdigit()):
            continue
        scale = 0.5 if position in named else 1.0
        for feature, weight in features(token):
            weights[feature] = max(weights.get(feature, 0.0), weight * scale)
    total = sum(w * ix.texts.idf.get(f, ix.texts.idf_unseen) for f, w in weights.items())
    if total <= 0:
        return {}
    scores: dict[int, float] = {}
    for feature, weight in weights.items():
        posting = ix.texts.postings.get(feature)
        if not posting or len(posting) > 3000:
            continue
        gain = weight * ix.texts.idf[feature]
        for number, doc_weight in posting:
            scores[number] = scores.get(number, 0.0) + gain * doc_weight
    return {number: score / total for number, score in scores.items()}


def retrieve(
    ix: StoryIndex,
    q: Query,
    accepted: list[tuple[Entity, float, int]],
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
    sims = similarities(ix, q, positions, named_positions)
    best: dict[str, tuple[float, int]] = {}
    for number, sim in sims.items():
        day = doc_date(ix, number)
        if q.known_by is not None and day is not None and day.first > q.known_by:
            continue  # a text about what came later
        if not on_date_asked(q, day):
            continue
        who, sources = ix.texts.docs[number]
        for entity_id, weight in who.items():
            if entity_id in named_ids or entity_id not in ix.by_id:
                continue
            if report and entity_id in sources:
                weight = max(weight, sources[entity_id])
            score = sim * weight
            if score > best.get(entity_id, (0.0, -1))[0]:
                best[entity_id] = (score, number)
    ranked = sorted(best.items(), key=lambda kv: (-kv[1][0], -ix.by_id[kv[0]].weight))
    return [(entity_id, score, number) for entity_id, (score, number) in ranked]


def on_date_asked(q: Query, day: StoryDate | None) -> bool:
    """Does a text dated ``day`` fit the date the question gives ("who tweeted on Saturday?")?
    Undated texts (bios, descriptions) cannot say what happened on a given day."""
    if q.date is None:
        return True
    if day is None:
        return False
    if q.date.relation == "on":
        return day.first <= q.date.day <= day.last
    if q.date.relation == "before":
        return day.first < q.date.day
    return day.last > q.date.day


def doc_date(ix: StoryIndex, number: int) -> StoryDate | None:
    """The day a text of the story is about (an event, a quote, a dated note), if any."""
    kind, obj = ix.texts.show[number]
    if kind in ("event", "quote", "relation"):
        date: StoryDate | None = obj.date
        return date
    if kind == "context":
        as_of: StoryDate | None = obj.as_of
        return as_of
    return None


def doc_text(ix: StoryIndex, number: int, lang: Lang) -> tuple[str, StoryDate | None]:
    kind, obj = ix.texts.show[number]
    if kind == "event":
        return obj.headline(lang), obj.date
    if kind == "quote":
        # Quotation marks only around words the source puts in the person's mouth.
        text = obj.text(lang)
        return (text if obj.speech == "indirect" else quoted(text, lang)), obj.date
    if kind == "context":
        return context_text(ix, obj, lang), None
    if kind == "bio":
        return obj.bio(lang), None
    if kind == "relation":
        return (obj.text(lang) if obj.text else ""), obj.date
    return obj.description(lang), None
