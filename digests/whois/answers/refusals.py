"""Honest refusals: unknown names, dates outside the story or invalid, no answer, usage."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from rapidfuzz import fuzz, process

from digests.documents import Item, Section, Span
from digests.formatting import format_long
from digests.i18n import Messages
from digests.story import Lang
from digests.textnorm import (
    neutralise,
    normalise,
)
from digests.whois.model import Entity, Match, Suggestion, WhoAnswer
from digests.whois.render import document

if TYPE_CHECKING:
    from digests.whois.index import StoryIndex


def not_covered(
    ix: StoryIndex, echo: str, lang: Lang, day: dt.date, accepted: list[tuple[Entity, float, int]]
) -> WhoAnswer:
    _t = Messages(lang, domain="whois")
    text = _t(
        "The story does not cover %(date)s: it runs from %(first)s to %(last)s.",
        date=format_long(day, lang),
        first=format_long(ix.story.first_day, lang),
        last=format_long(ix.story.last_day, lang),
    )
    sections = [Section(_t("Answer"), (Item((Span(text),)),), "paragraph")]
    doc = document(
        ix,
        lang,
        _t("Outside the story's dates"),
        sections,
        None,
        {"found": False, "intent": "unknown", "question": echo},
    )
    return WhoAnswer(echo, lang, False, (), doc, (), "unknown")


def bad_date(ix: StoryIndex, echo: str, lang: Lang, typed: str) -> WhoAnswer:
    _t = Messages(lang, domain="whois")
    text = _t("“%(date)s” is not a valid date.", date=typed)
    hint = _t(
        "Write a date that exists, for example %(example)s.",
        example=format_long(ix.story.first_day, lang),
    )
    sections = [
        Section(_t("Answer"), (Item((Span(text),)),), "paragraph"),
        Section(_t("How to ask"), (Item((Span(hint),)),), "paragraph"),
    ]
    doc = document(
        ix,
        lang,
        _t("Invalid date"),
        sections,
        None,
        {"found": False, "intent": "unknown", "question": echo},
    )
    return WhoAnswer(echo, lang, False, (), doc, (), "unknown")


def example_hint(ix: StoryIndex, _t: Messages) -> str:
    if ix.top_person is None:
        return _t("Ask about a person, a role or an organisation of the story.")
    name = ix.top_person.name
    return _t(
        "Ask about a person, a role or an organisation of the story, for example: “Who is %(name)s?”",
        name=name,
    )


def near_misses(ix: StoryIndex, name: str, rejected: list[Entity]) -> list[Entity]:
    out = list(dict.fromkeys(rejected))
    key = normalise(name)
    if key and len(ix.full_names) <= 5000:
        hits = process.extract(
            key, ix.full_names, scorer=fuzz.token_sort_ratio, score_cutoff=70, limit=6
        )
        for _, _, position in hits:
            entity = ix.entities[ix.full_owner[position]]
            if entity not in out:
                out.append(entity)
    return out[:3]


def not_found(
    ix: StoryIndex,
    echo: str,
    lang: Lang,
    name: str | None,
    rejected: list[Entity],
    accepted: list[tuple[Entity, float, int]],
) -> WhoAnswer:
    _t = Messages(lang, domain="whois")
    if name:
        text = _t("“%(name)s” does not appear in this story.", name=name)
    else:
        text = _t("I found no one in this story matching your question.")
    near = near_misses(ix, name, rejected) if name else list(dict.fromkeys(rejected))[:3]
    suggestions = tuple(Suggestion(e.id, e.display(lang), e.kind) for e in near)
    sections = [Section(_t("Answer"), (Item((Span(text),)),), "paragraph")]
    if suggestions:
        sections.append(
            Section(
                _t("Did you mean…? (suggestions, not answers)"),
                tuple(
                    Item((Span(s.name, "em"), Span(" — " + _t("suggestion")))) for s in suggestions
                ),
            )
        )
    sections.append(Section(_t("How to ask"), (Item((Span(example_hint(ix, _t)),)),), "paragraph"))
    doc = document(
        ix,
        lang,
        _t("Not in this story"),
        sections,
        None,
        {"found": False, "intent": "unknown", "question": echo},
    )
    matches = tuple(Match(s.id, s.name, s.kind, 0.0) for s in suggestions)
    return WhoAnswer(echo, lang, False, matches, doc, suggestions, "unknown")


def no_data(
    ix: StoryIndex, echo: str, lang: Lang, accepted: list[tuple[Entity, float, int]]
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
                    Item((Span(s.name, "em"), Span(" — " + _t("suggestion")))) for s in suggestions
                ),
            )
        )
    doc = document(
        ix,
        lang,
        _t("No answer in this story"),
        sections,
        None,
        {"found": False, "intent": "unknown", "question": echo},
    )
    matches = tuple(Match(s.id, s.name, s.kind, 0.0) for s in suggestions)
    return WhoAnswer(echo, lang, False, matches, doc, suggestions, "unknown")


def usage(ix: StoryIndex, echo: str, lang: Lang) -> WhoAnswer:
    _t = Messages(lang, domain="whois")
    examples = []
    if ix.top_person is not None:
        examples.append(_t("Who is %(name)s?", name=ix.top_person.name))
    if ix.top_org is not None:
        examples.append(_t("Tell me about %(org)s", org=ix.top_org.display(lang)))
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
    doc = document(
        ix,
        lang,
        _t("Who is who"),
        sections,
        None,
        {"found": False, "intent": "usage", "question": neutralise(echo)[:300]},
    )
    return WhoAnswer(neutralise(echo)[:300], lang, False, (), doc, (), "usage")
