"""The answer document: French typography, mention safety, footer, matches."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from digests.documents import Document, Item, Section, Span
from digests.i18n import Messages
from digests.story import Lang
from digests.textnorm import (
    neutralise,
)
from digests.whois.model import Entity, Match, WhoAnswer
from digests.whois.normalise import typography

if TYPE_CHECKING:
    from digests.whois.index import StoryIndex


def footer(ix: StoryIndex, lang: Lang, _t: Messages) -> str:
    return _t("From the story “%(title)s”.", title=ix.story.meta.title(lang))


def document(
    ix: StoryIndex,
    lang: Lang,
    title: str,
    sections: Iterable[Section],
    subtitle: str | None,
    meta: dict[str, Any],
) -> Document:
    _t = Messages(lang, domain="whois")

    def fix(text: str) -> str:
        return neutralise(typography(text, lang))

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
        footer=fix(footer(ix, lang, _t)),
        story_slug=ix.story.slug,
        meta=meta,
    )


def match(ix: StoryIndex, entity: Entity, score: float, lang: Lang) -> Match:
    return Match(entity.id, entity.display(lang), entity.kind, max(0.0, min(1.0, score)))


def others(
    ix: StoryIndex, accepted: list[tuple[Entity, float, int]], first: Sequence[Match], lang: Lang
) -> list[Match]:
    ids = {m.id for m in first}
    return [*first, *(match(ix, e, s * 0.9, lang) for e, s, _ in accepted if e.id not in ids)]


def with_note(ix: StoryIndex, result: WhoAnswer, note: str) -> WhoAnswer:
    doc = result.document
    _t = Messages(result.lang, domain="whois")
    section = Section(
        neutralise(_t("Note")),
        (Item((Span(neutralise(typography(note, result.lang))),)),),
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
