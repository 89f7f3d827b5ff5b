"""HTML rendering: the Jinja2 environment and digest documents as HTML.

Everything is escaped (autoescape on; `document_html` escapes each span itself). Links are
kept only for http(s) URLs.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup, escape

from digests.documents import Document, Item, Span

_TAGS = {"strong": "strong", "em": "em", "quote": "q"}


def span_html(span: Span) -> str:
    text = str(escape(span.text)).replace("\n", "<br>")
    tag = _TAGS.get(span.emphasis)
    if tag:
        text = f"<{tag}>{text}</{tag}>"
    if span.url and span.url.startswith(("https://", "http://")):
        text = f'<a href="{escape(span.url)}" rel="nofollow noopener">{text}</a>'
    return text


def item_html(item: Item) -> str:
    body = "".join(span_html(span) for span in item.spans)
    if item.label:
        return f'<span class="label">{escape(item.label)}</span> {body}'
    return body


def document_html(document: Document, *, heading_level: int = 2) -> Markup:
    """The sections of a document (its title and subtitle are the page's business)."""
    h = f"h{heading_level}"
    parts: list[str] = []
    for section in document.sections:
        parts.append(f'<section class="{escape(section.kind)}">')
        parts.append(f"<{h}>{escape(section.heading)}</{h}>")
        if section.kind == "paragraph":
            parts.extend(f"<p>{item_html(item)}</p>" for item in section.items)
        else:
            parts.append("<ul>")
            parts.extend(f"<li>{item_html(item)}</li>" for item in section.items)
            parts.append("</ul>")
        parts.append("</section>")
    if document.footer:
        footer = str(escape(document.footer)).replace("\n", "<br>")
        parts.append(f'<p class="sources">{footer}</p>')
    return Markup("".join(parts))


@cache
def environment() -> Environment:
    env = Environment(
        loader=PackageLoader("bot.web", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["document_html"] = document_html
    return env


def render_page(template: str, **values: Any) -> str:
    return environment().get_template(template).render(**values)
