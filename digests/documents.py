"""Platform-neutral documents: what a digest or an answer *says*, not how a platform shows it.

Renderers (plain text and Markdown here; Discord embeds and Slack Block Kit in the adapters)
walk these structures; none of them needs to re-parse text.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

Emphasis = Literal["plain", "strong", "em", "quote"]


@dataclass(frozen=True, slots=True)
class Span:
    """A run of text with one emphasis, optionally a link."""

    text: str
    emphasis: Emphasis = "plain"
    url: str | None = None


@dataclass(frozen=True, slots=True)
class Item:
    """One entry of a section (an event, a who's-who line, a source...)."""

    spans: tuple[Span, ...]
    label: str | None = None  # a short lead such as a date or a name, shown before the spans

    @property
    def plain(self) -> str:
        body = "".join(span.text for span in self.spans)
        return f"{self.label} — {body}" if self.label else body


@dataclass(frozen=True, slots=True)
class Section:
    heading: str
    items: tuple[Item, ...]
    kind: str = "list"  # "list", "paragraph", "quote": a hint for renderers


@dataclass(frozen=True, slots=True)
class Document:
    """A digest post or an answer.

    ``kind`` is ``digest``, ``so_far``, ``answer``, ``faq``, ``timeline`` or ``notice``.
    ``date`` is the story date as ISO text when the document is about a day.

    ``more`` is the overflow of a post kept short on purpose: a second, complete document that
    adapters post after the first one (a thread reply on Slack, a follow-up on Discord) or
    leave to the story page. Renderers of the main post ignore it.
    """

    kind: str
    lang: Literal["fr", "en"]
    title: str
    subtitle: str | None = None
    sections: tuple[Section, ...] = ()
    footer: str | None = None
    story_slug: str | None = None
    date: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    more: Document | None = None

    def iter_items(self) -> Iterator[tuple[Section, Item]]:
        for section in self.sections:
            for item in section.items:
                yield section, item

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "lang": self.lang,
            "story": self.story_slug,
            "date": self.date,
            "title": self.title,
            "subtitle": self.subtitle,
            "sections": [
                {
                    "heading": section.heading,
                    "kind": section.kind,
                    "items": [
                        {
                            "label": item.label,
                            "spans": [
                                {"text": s.text, "emphasis": s.emphasis, "url": s.url}
                                for s in item.spans
                            ],
                        }
                        for item in section.items
                    ],
                }
                for section in self.sections
            ],
            "footer": self.footer,
            "meta": self.meta,
            "more": self.more.to_json() if self.more is not None else None,
        }


def plain(text: str) -> tuple[Span, ...]:
    return (Span(text),)
