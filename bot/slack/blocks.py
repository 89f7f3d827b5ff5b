"""Documents -> Block Kit messages, within Slack's limits.

Limits honoured (see GUIDE §4): at most 50 blocks per message, section text at most 3000
characters, header text at most 150, a plain-text ``text`` fallback on every message, and a
character budget per message well under the ~12k at which Slack answers
``msg_blocks_too_long``. A document that does not fit is split into several messages, in
order; continuation messages start with a small context line "title · 2/3".

All story and user text is escaped for mrkdwn (``&``, ``<``, ``>``): Slack only turns
``<!channel>``, ``<!here>``, ``<@U123>`` or ``<#C123>`` into mentions when the angle brackets
are literally there, so escaped text can never ping anyone. Nothing else is escaped (Slack has
no escape for ``*``, ``_``, ``~`` and shows backslashes as typed). Links are emitted only for
``http(s)`` URLs without characters that could close the link early (``&`` in a query string
is written ``&amp;``, as Slack wants). Emphasis markers are only put around text that does not
itself contain the marker (``*`` for bold, ``_`` for italics), so a name like ``foo_bar`` or a
literal ``*`` can never close the emphasis early: such text is shown without the emphasis.

>>> escape_mrkdwn("<!channel> & <@U123>")
'&lt;!channel&gt; &amp; &lt;@U123&gt;'
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from digests.documents import Document, Item, Section, Span

MAX_BLOCKS = 50
MAX_SECTION_TEXT = 3000
MAX_HEADER_TEXT = 150
MAX_CONTEXT_TEXT = 3000
MAX_FALLBACK_TEXT = 3000  # notifications and screen readers: a readable summary, not a dump
MESSAGE_CHAR_BUDGET = 10_000  # sum of block texts per message (Slack refuses ~12k)
MAX_REPLY_MESSAGES = 5  # a response_url works five times

_ESCAPES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
_ESCAPE_RE = re.compile(r"[&<>]")
_SAFE_URL = re.compile(r"^https?://[^\s<>|\"]+$", re.IGNORECASE)
# A URL that the story text wrote between angle brackets, after escaping: "&lt;https://...&gt;"
# (its own "&" already written "&amp;").
_ESCAPED_URL = re.compile(r"&lt;(https?://(?:[^\s<>|&\"]|&amp;)+)&gt;", re.IGNORECASE)

Block = dict[str, Any]


def escape_mrkdwn(text: str) -> str:
    """Escape the three characters Slack's mrkdwn treats as control characters."""
    return _ESCAPE_RE.sub(lambda match: _ESCAPES[match.group(0)], text)


def safe_url(url: str | None) -> str | None:
    """The URL, escaped for ``<url|text>``, if it is http(s) and cannot break out of the link;
    else None.

    >>> safe_url("https://example.org/?a=1&b=2"), safe_url("javascript:alert(1)")
    ('https://example.org/?a=1&amp;b=2', None)
    """
    if url and _SAFE_URL.match(url):
        return escape_mrkdwn(url)
    return None


def emphasize(text: str, marker: str) -> str:
    """``*text*``/``_text_``, or ``text`` alone when it contains the marker (it would end the
    emphasis early and leave a stray marker on screen)."""
    if not text or marker in text:
        return text
    return f"{marker}{text}{marker}"


def mrkdwn_text(text: str) -> str:
    """Escaped text in which ``<https://...>`` written by the story becomes a Slack link."""
    return _ESCAPED_URL.sub(lambda match: f"<{match.group(1)}>", escape_mrkdwn(text))


def span_mrkdwn(span: Span) -> str:
    """One span as mrkdwn; leading/trailing spaces stay outside the emphasis markers."""
    stripped = span.text.strip()
    if not stripped:
        return escape_mrkdwn(span.text)
    lead = span.text[: len(span.text) - len(span.text.lstrip())]
    trail = span.text[len(span.text.rstrip()) :]
    text = mrkdwn_text(stripped)
    if span.emphasis == "strong":
        text = emphasize(text, "*")
    elif span.emphasis == "em":
        text = emphasize(text, "_")
    elif span.emphasis == "quote":
        text = f"« {text} »"
    url = safe_url(span.url)
    if url:
        text = f"<{url}|{text}>"
    return escape_mrkdwn(lead) + text + escape_mrkdwn(trail)


def item_mrkdwn(item: Item) -> str:
    body = "".join(span_mrkdwn(span) for span in item.spans)
    return f"{emphasize(escape_mrkdwn(item.label), '*')} — {body}" if item.label else body


def item_plain(item: Item) -> str:
    return item.plain


def _truncate(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    cut = _avoid_broken_entity(cut)
    return cut.rstrip() + "…"


def _avoid_broken_entity(text: str) -> str:
    """Drop a trailing, incomplete ``&amp;``-style entity or ``<link`` left by a cut."""
    amp = text.rfind("&")
    if amp != -1 and ";" not in text[amp:] and len(text) - amp <= 5:
        text = text[:amp]
    lt = text.rfind("<")
    if lt != -1 and ">" not in text[lt:]:
        text = text[:lt]
    return text


def split_text(text: str, limit: int = MAX_SECTION_TEXT) -> list[str]:
    """Cut ``text`` into pieces of at most ``limit`` characters: at line breaks if possible,
    else at spaces, else anywhere (never inside an ``&amp;`` entity or a ``<link>``)."""
    pieces: list[str] = []
    rest = text
    while len(rest) > limit:
        window = rest[:limit]
        cut = window.rfind("\n")
        if cut < limit // 2:
            cut = max(window.rfind(" "), cut)
        if cut < limit // 4:
            cut = len(_avoid_broken_entity(window))
            if cut == 0:  # a single "link" longer than the limit: cut it anyway
                cut = limit
        piece = rest[:cut]
        pieces.append(piece)
        rest = rest[cut:]
        if rest[:1] in ("\n", " "):
            rest = rest[1:]
    if rest or not pieces:
        pieces.append(rest)
    return pieces


# --------------------------------------------------------------------------- blocks


def header_block(text: str) -> Block:
    return {
        "type": "header",
        "text": {
            "type": "plain_text",
            "text": _truncate(text, MAX_HEADER_TEXT) or "·",
            "emoji": False,
        },
    }


def section_block(mrkdwn: str) -> Block:
    return {"type": "section", "text": {"type": "mrkdwn", "text": mrkdwn}}


def context_block(mrkdwn: str) -> Block:
    return {
        "type": "context",
        "elements": [{"type": "mrkdwn", "text": _truncate(mrkdwn, MAX_CONTEXT_TEXT)}],
    }


def divider_block() -> Block:
    return {"type": "divider"}


def picture_block(day_url: str, alt_text: str) -> Block:
    """An image block with the timeline picture of the day page at ``day_url``."""
    return {
        "type": "image",
        "image_url": day_url.rstrip("/") + "/timeline.png",
        "alt_text": alt_text[:2000] or "timeline",
    }


def block_text(block: Block) -> str:
    """The visible text of a block (for budgets and fallbacks)."""
    if "text" in block and isinstance(block["text"], dict):
        return str(block["text"].get("text", ""))
    if block.get("type") == "context":
        return " ".join(str(element.get("text", "")) for element in block.get("elements", []))
    return ""


@dataclass(frozen=True)
class SlackMessage:
    """One ``chat.postMessage`` (or ``respond``) payload: ``text`` fallback plus ``blocks``."""

    text: str
    blocks: list[Block] = field(default_factory=list)

    def payload(self) -> dict[str, Any]:
        return {"text": self.text, "blocks": self.blocks}


def _section_blocks(section: Section) -> Iterator[Block]:
    if section.heading.strip():  # Slack rejects a section block whose text is empty
        heading = _truncate(escape_mrkdwn(section.heading.strip()), MAX_SECTION_TEXT - 2)
        yield section_block(emphasize(heading, "*"))
    lines = []
    for item in section.items:
        text = item_mrkdwn(item)
        if section.kind == "list":
            text = "• " + text
        elif section.kind == "quote":
            text = "\n".join("> " + line for line in text.split("\n"))
        lines.append(text)
    # Pack whole items into section blocks of at most MAX_SECTION_TEXT characters.
    current = ""
    for line in lines:
        for piece in split_text(line, MAX_SECTION_TEXT):
            candidate = f"{current}\n{piece}" if current else piece
            if len(candidate) <= MAX_SECTION_TEXT:
                current = candidate
            else:
                yield section_block(current)
                current = piece
    if current:
        yield section_block(current)


def _body_blocks(document: Document) -> list[Block]:
    blocks: list[Block] = []
    for index, section in enumerate(document.sections):
        if index:
            blocks.append(divider_block())
        blocks.extend(_section_blocks(section))
    if document.footer:
        for line in document.footer.split("\n"):
            if line.strip():
                blocks.append(context_block(mrkdwn_text(line)))
    return blocks


def _fallback(title: str, blocks: Iterable[Block]) -> str:
    parts = [escape_mrkdwn(title)] if title else []
    parts += [text for text in (block_text(block) for block in blocks) if text]
    return _truncate("\n".join(parts), MAX_FALLBACK_TEXT) or "·"


def render_document(
    document: Document,
    *,
    max_blocks: int = MAX_BLOCKS,
    char_budget: int = MESSAGE_CHAR_BUDGET,
    max_messages: int | None = None,
) -> list[SlackMessage]:
    """The messages that show ``document``, in posting order.

    ``max_messages`` caps the count (replies through a response_url: 5); the last message then
    ends with an ellipsis line instead of silently dropping text.
    """
    if max_blocks < 4:
        raise ValueError("max_blocks must be at least 4")
    head: list[Block] = [header_block(document.title)]
    if document.subtitle:
        subtitle = mrkdwn_text(document.subtitle)
        url = safe_url(document.meta.get("url"))  # the day's page on the web
        head.append(context_block(f"<{url}|{subtitle}>" if url else subtitle))
        if url and document.kind == "digest":
            # The day's timeline picture, fetched by Slack from our public pages (docs/slack.md
            # says why there is no file upload when no public URL is set).
            head.append(picture_block(url, f"{document.title} — {document.subtitle}"))
    body = _body_blocks(document)

    # Pack: the first message carries the head; continuations carry a one-line context.
    parts: list[list[Block]] = []
    current: list[Block] = list(head)
    size = sum(len(block_text(block)) for block in current)
    reserve = 1  # room for the continuation line of later parts
    for block in body:
        length = len(block_text(block))
        if current and (len(current) + 1 > max_blocks - reserve or size + length > char_budget):
            parts.append(current)
            current, size = [], 0
            if block.get("type") == "divider":
                continue  # never start a continuation with a divider
        current.append(block)
        size += length
    if current:
        parts.append(current)
    parts = [part for part in parts if part] or [list(head)]

    truncated = False
    if max_messages is not None and len(parts) > max_messages:
        parts = parts[:max_messages]
        truncated = True

    total = len(parts)
    messages: list[SlackMessage] = []
    title = escape_mrkdwn(_truncate(document.title, 200))
    for number, part in enumerate(parts, start=1):
        blocks = list(part)
        if number > 1:
            blocks.insert(0, context_block(f"{title} · {number}/{total}"))
        if truncated and number == total:
            while len(blocks) >= max_blocks:
                blocks.pop()
            blocks.append(context_block("…"))
        fallback_title = document.title if number == 1 else f"{document.title} · {number}/{total}"
        messages.append(SlackMessage(text=_fallback(fallback_title, blocks[1:]), blocks=blocks))
    return messages


def render_reply(document: Document) -> list[SlackMessage]:
    """Messages for a command reply (at most five: a response_url works five times)."""
    return render_document(document, max_messages=MAX_REPLY_MESSAGES)


def text_message(text: str) -> SlackMessage:
    """A short notice (usage, refusal, confirmation) as one escaped section per 3000 chars."""
    escaped = mrkdwn_text(text) if text else "·"
    pieces = split_text(escaped, MAX_SECTION_TEXT)[:MAX_BLOCKS]
    return SlackMessage(
        text=_truncate(escaped, MAX_FALLBACK_TEXT),
        blocks=[section_block(piece) for piece in pieces],
    )


def iter_mrkdwn(messages: Iterable[SlackMessage]) -> Iterator[str]:
    """Every piece of mrkdwn a message set shows (tests check escaping with it); ``plain_text``
    objects (headers) are shown as written and never parsed for mentions."""
    for message in messages:
        yield message.text
        for block in message.blocks:
            if block.get("text", {}).get("type") != "plain_text":
                yield block_text(block)
