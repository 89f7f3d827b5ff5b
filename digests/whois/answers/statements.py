"""What a person said: "What did Satya Nadella say?", "Qu'a dit Sutskever ?", "What did Sutskever
tweet?".

The person's quotes and the events in which the story says they spoke, as known on the day asked.
Quotation marks only around words the source puts in their mouth: reported speech (a quote with
``speech: indirect``) is shown as the story reports it.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from digests.documents import Item, Section, Span
from digests.i18n import Messages
from digests.render import quoted
from digests.story import Lang
from digests.whois.answers.identity import entity_sections
from digests.whois.known import event_known, known
from digests.whois.model import SPEECH, Entity, Query, WhoAnswer
from digests.whois.phrasing import when
from digests.whois.render import document, match

if TYPE_CHECKING:
    from digests.whois.index import StoryIndex

# "what" in both languages ("qu'a dit", "que dit", "qu'est-ce que X a dit").
WHAT = frozenset({"what", "qu", "que", "quoi", "quels", "quelles", "quel", "quelle"})
# Facts in which the doer speaks (besides declared/announced/explained).
SPOKEN = frozenset({*SPEECH, "regretted", "demanded"})


def statements_question(
    ix: StoryIndex, q: Query, accepted: list[tuple[Entity, float, int]], shape: str
) -> Entity | None:
    """The person, if the question asks what one person said ("who said ..." asks for someone
    else: see `sources`)."""
    persons = sorted((start, entity.index, entity) for entity, _, start in accepted)
    speakers = [entity for _, _, entity in persons if entity.kind == "person"]
    if not speakers or shape == "report":
        return None
    if not any(t in WHAT for t in q.tokens[:3]):
        return None
    if not any(pred in SPEECH for _, pred, _ in q.preds):
        return None
    return speakers[0]  # the first person named speaks; the others are what it is about


def statements_answer(
    ix: StoryIndex,
    echo: str,
    lang: Lang,
    q: Query,
    person: Entity,
    accepted: list[tuple[Entity, float, int]],
    as_of: dt.date,
) -> WhoAnswer | None:
    """What ``person`` said, as known on ``as_of``; None when the story records nothing."""
    _t = Messages(lang, domain="whois")
    items: list[Item] = []
    for quote in ix.story.quotes:
        if quote.person != person.id or not known(quote.date, as_of):
            continue
        text = quote.text(lang)
        body = text if quote.speech == "indirect" else quoted(text, lang)
        label = when(ix, quote.date, lang, _t) if quote.date is not None else None
        items.append(Item((Span(body),), label))
    for event in ix.events_of.get(person.id, []):
        spoke = any(
            fact.predicate in SPOKEN and person.id in (fact.subject, fact.by)
            for fact in event.facts
        )
        if spoke and event_known(event, as_of):
            items.append(Item((Span(event.headline(lang)),), when(ix, event.date, lang, _t)))
    if not items:
        return None
    sections, subtitle = entity_sections(ix, person, lang, as_of)
    sections.insert(0, Section(_t("Answer"), tuple(items[:10])))
    score = next((s for e, s, _ in accepted if e is person), 1.0)
    doc = document(
        ix,
        lang,
        person.display(lang),
        sections,
        subtitle,
        {"found": True, "intent": "event", "question": echo},
    )
    return WhoAnswer(echo, lang, True, (match(ix, person, score, lang),), doc, (), "event")
