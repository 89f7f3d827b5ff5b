"""Plain-text and Markdown renderings of documents (the console and the CLI use them)."""

from __future__ import annotations

import re

from digests.documents import Document, Item, Span

# Inline syntax only: parentheses and '#' are harmless in running text.
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_~|\[\]])")


def render_text(document: Document) -> str:
    """A readable plain-text post: title, subtitle, sections with bullets, footer."""
    lines = [document.title]
    if document.subtitle:
        lines.append(document.subtitle)
    lines.append("=" * max(len(line) for line in lines))
    for section in document.sections:
        lines += ["", section.heading] if section.heading else [""]
        for item in section.items:
            body = _item_text(item, document.lang)
            if section.kind == "paragraph":
                lines.append(body)
            else:
                first, *rest = body.split("\n")
                lines.append(f"• {first}")
                lines += [f"  {line}" for line in rest]
    if document.footer:
        lines += ["", *document.footer.split("\n")]
    return "\n".join(lines) + "\n"


def _item_text(item: Item, lang: str) -> str:
    body = "".join(_span_text(span, lang) for span in item.spans)
    return f"{item.label} — {body}" if item.label else body


def quoted(text: str, lang: str) -> str:
    """Quotation marks of the language: « guillemets » in French, “curly quotes” in English."""
    return f"«\u00a0{text}\u00a0»" if lang == "fr" else f"“{text}”"


def _span_text(span: Span, lang: str) -> str:
    text = span.text
    if span.emphasis == "quote":
        text = quoted(text, lang)
    if span.url:
        text = f"{text} <{span.url}>"
    return text


def escape_markdown(text: str) -> str:
    """Backslash-escape Markdown syntax so story text is shown as written."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text)


def render_markdown(document: Document) -> str:
    lines = [f"# {escape_markdown(document.title)}"]
    if document.subtitle:
        lines.append(f"*{escape_markdown(document.subtitle)}*")
    for section in document.sections:
        lines += ["", f"## {escape_markdown(section.heading)}", ""] if section.heading else [""]
        for item in section.items:
            body = _item_markdown(item, document.lang)
            lines.append(body if section.kind == "paragraph" else "- " + body.replace("\n", "\n  "))
    if document.footer:
        lines += ["", *(f"_{escape_markdown(line)}_" for line in document.footer.split("\n"))]
    return "\n".join(lines) + "\n"


def _item_markdown(item: Item, lang: str) -> str:
    body = "".join(span_markdown(span, lang) for span in item.spans)
    return f"**{escape_markdown(item.label)}** — {body}" if item.label else body


def span_markdown(span: Span, lang: str = "fr") -> str:
    """One span as Markdown; leading/trailing spaces stay outside the emphasis markers."""
    stripped = span.text.strip()
    if not stripped:
        return span.text
    lead = span.text[: len(span.text) - len(span.text.lstrip())]
    trail = span.text[len(span.text.rstrip()) :]
    text = escape_markdown(stripped)
    if span.emphasis == "strong":
        text = f"**{text}**"
    elif span.emphasis == "em":
        text = f"*{text}*"
    elif span.emphasis == "quote":
        text = quoted(text, lang)
    if span.url:
        text = f"[{text}]({span.url})"
    return lead + text.replace("\n", "  \n") + trail
