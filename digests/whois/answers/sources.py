"""Who reported a fact: "Who reported that Murati did not approve?", "According to whom do the
investors want Altman back?", "Selon quel média ...".

The question describes a fact (its predicate and the people in it); the answer is whoever the
story says reported that fact (a source of its event): a named outlet, or a group the source
does not name ("several internal sources").
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from digests.whois.model import SPEECH, Entity, Query, Triple

if TYPE_CHECKING:
    from digests.whois.index import StoryIndex

# Words that ask for the source of a fact, near the start of a question.
SOURCE_WORDS = frozenset(
    {
        "source", "sources", "according", "selon", "media", "medias", "outlet", "outlets",
        "newspaper", "journal", "journaux", "press", "presse",
    }
)  # fmt: skip
REPORTING = "reported"


def asks_for_source(q: Query, shape: str) -> bool:
    """A "who said/reported that ..." question, or one that asks for a source by name."""
    return shape == "report" or any(t in SOURCE_WORDS for t in q.tokens[:4])


def fact_sources(
    ix: StoryIndex, q: Query, accepted: list[tuple[Entity, float, int]]
) -> list[tuple[str, Triple, float]]:
    """Who reported the fact the question describes: (answer id, the reporting fact, score).

    A fact is described by its predicate and one of the entities the question names ("said
    they want to reunite the company" alone could be anyone's wish); the answer is never one
    of those entities."""
    names = {entity.id for entity, _, _ in accepted}
    if not names:
        return []
    events = []
    for _, pred, _ in q.preds:
        if pred in SPEECH or pred == REPORTING:
            continue
        for triple in ix.triples.get(pred, []):
            if triple.event is None:
                continue
            if q.known_by is not None and triple.event.date.first > q.known_by:
                continue
            if not names & {triple.doer, triple.undergoer}:
                continue
            events.append(triple.event)
    # Events of one statement (the same report, the same post) share its source.
    statements = {event.statement for event in events if event.statement is not None}
    found: list[tuple[str, Triple, float]] = []
    for triple in ix.triples.get(REPORTING, []):
        event = triple.event
        if event is None or not (
            event in events or (event.statement is not None and event.statement in statements)
        ):
            continue
        source = triple.doer or triple.group_id()
        if source is not None and source not in names:
            found.append((source, triple, 1.0 if event in events else 0.9))
    found.sort(key=lambda item: -item[2])
    return found
