"""Documents -> Discord embeds, within Discord's limits.

Limits honoured (GUIDE §4): embed title 256, description 4096, 25 fields (name 256, value 1024),
footer 2048, at most 6000 characters over all the embeds of one message and at most 10 embeds
per message. Lengths are counted in UTF-16 code units, which is never less than Discord's count.

A document becomes one or more *messages*, each a list of embeds, to be sent in order:

- the first embed of the first message carries the title; the first embed of each continuation
  message carries "title (2/3)";
- the subtitle, section headings and items go into descriptions, line by line; a line never
  straddles two embeds; an item longer than a line's budget is cut at a space;
- the footer (sources) goes into the footer of the last embed when it fits, else it is added as
  italic lines at the end.

All text is neutralised (``@everyone``/``@here`` and mention markup cannot survive) and
Markdown-escaped (story text is shown as written). Links are kept only for ``http(s)`` URLs.
Embeds never ping anyone, and everything we send also carries ``allowed_mentions`` none.

>>> [len(m) for m in render_document(Document(kind="notice", lang="en", title="Hi"))]
[1]
>>> escape_markdown("**not bold** # and <@123>")
'\\\\*\\\\*not bold\\\\*\\\\* # and 123'
"""

from __future__ import annotations

import re
from typing import Any, cast

import discord

from digests.documents import Document, Item, Section, Span
from digests.textnorm import neutralise

TITLE_MAX = 256
DESCRIPTION_MAX = 4096
FIELDS_MAX = 25
FIELD_NAME_MAX = 256
FIELD_VALUE_MAX = 1024
FOOTER_MAX = 2048
MESSAGE_CHARS_MAX = 6000
EMBEDS_MAX = 10
CONTENT_MAX = 2000

COLOR = 0x2B6CB0
LINE_MAX = 3000  # budget of one description line (escaped); longer items are cut
_RAW_PIECE = 1400  # raw characters per piece of a cut item (escaping at most doubles it)

_MARKDOWN_SPECIAL = re.compile(r"([\\`*_~|\[\]<>])")
_LINE_START = re.compile(r"^(\s*)([#>\-+]|\d+[.)])")
_SAFE_URL = re.compile(r"^https?://[^\s<>()\[\]\"'`\\]+$", re.IGNORECASE)
_SPACES = re.compile(r"[ \t]+")

Messages = list[list[discord.Embed]]


def units(text: str) -> int:
    """Length in UTF-16 code units (astral characters count 2), an upper bound of Discord's count."""
    return len(text) + sum(1 for char in text if ord(char) > 0xFFFF)


def cut(text: str, limit: int) -> tuple[str, str]:
    """Split ``text`` after at most ``limit`` UTF-16 units, never inside a character."""
    if units(text) <= limit:
        return text, ""
    used = 0
    for index, char in enumerate(text):
        used += 2 if ord(char) > 0xFFFF else 1
        if used > limit:
            return text[:index], text[index:]
    return text, ""  # pragma: no cover - the first test returned already


def truncate(text: str, limit: int, ellipsis: str = "…") -> str:
    """``text`` shortened to ``limit`` units, with an ellipsis when something was cut."""
    if units(text) <= limit:
        return text
    head, _ = cut(text, limit - units(ellipsis))
    return head.rstrip() + ellipsis


_MASS = re.compile(r"@(?=everyone|here)", re.IGNORECASE)


def safe(text: str) -> str:
    """Text as we may post it: no mention markup, no ``@everyone``/``@here`` (even glued to
    other letters, where `neutralise` keeps them: a zero-width space goes after the ``@``)."""
    return _MASS.sub("@\u200b", neutralise(text))


def escape_markdown(text: str) -> str:
    """Backslash-escape inline Markdown and what Discord reads at the start of a line."""
    text = _MARKDOWN_SPECIAL.sub(r"\\\1", safe(text))
    return "\n".join(_LINE_START.sub(r"\1\\\2", line) for line in text.split("\n"))


def safe_url(url: str | None) -> str | None:
    return url if url and _SAFE_URL.match(url) else None


def span_markdown(span: Span) -> str:
    stripped = span.text.strip()
    if not stripped:
        return " " if span.text else ""
    lead = " " if span.text[:1].isspace() else ""
    trail = " " if span.text[-1:].isspace() else ""
    text = _MARKDOWN_SPECIAL.sub(r"\\\1", safe(stripped))
    if span.emphasis == "strong":
        text = f"**{text}**"
    elif span.emphasis == "em":
        text = f"*{text}*"
    elif span.emphasis == "quote":
        text = f"« {text} »"
    url = safe_url(span.url)
    if url:
        text = f"[{text}]({url})"
    return lead + text + trail


def _item_markdown(item: Item) -> str:
    body = "".join(span_markdown(span) for span in item.spans)
    body = "\n".join(_LINE_START.sub(r"\1\\\2", line) for line in body.split("\n"))
    if item.label:
        return f"**{escape_markdown(item.label)}** — {body}"
    return body


def _item_plain(item: Item) -> str:
    body = "".join(span.text for span in item.spans)
    return f"{item.label} — {body}" if item.label else body


def _pieces(text: str, size: int) -> list[str]:
    """Cut raw text into pieces of at most ``size`` units, at a space when there is one."""
    pieces = []
    text = _SPACES.sub(" ", text).strip()
    while units(text) > size:
        head, rest = cut(text, size)
        space = head.rfind(" ")
        if space > size // 2:
            head, rest = head[:space], head[space + 1 :] + rest
        pieces.append(head)
        text = rest.lstrip()
    if text:
        pieces.append(text)
    return pieces


def _section_lines(section: Section) -> list[str]:
    lines = []
    if section.heading:
        lines.append(f"**{escape_markdown(truncate(section.heading, 200))}**")
    bullet = "" if section.kind == "paragraph" else "• "
    for item in section.items:
        text = _item_markdown(item)
        rows = text.split("\n")
        if all(units(row) + units(bullet) + 2 <= LINE_MAX for row in rows):
            lines.append(bullet + rows[0])
            lines += [("  " if bullet else "") + row for row in rows[1:]]
            continue
        # Too long for one line: plain text (links dropped), escaped piece by piece.
        for index, piece in enumerate(_pieces(_item_plain(item), _RAW_PIECE)):
            lead = bullet if index == 0 else ("  " if bullet else "")
            lines.append(lead + escape_markdown(piece))
    return lines


def document_lines(document: Document) -> list[str]:
    """The description lines of a document (blank lines between sections), before packing."""
    lines: list[str] = []
    if document.subtitle:
        for piece in _pieces(document.subtitle, _RAW_PIECE):
            lines.append(f"*{escape_markdown(piece)}*")
    for section in document.sections:
        body = _section_lines(section)
        if not body:
            continue
        if lines:
            lines.append("")
        lines += body
    return lines


class _Pack:
    """Greedy packing of lines into embeds and messages (running totals: linear time)."""

    def __init__(self, reserve: int) -> None:
        self.reserve = reserve  # units kept free in every message for its title
        self.messages: list[list[list[str]]] = [[[]]]
        self.embed_total = 0  # units of the current embed's description
        self.message_total = 0  # units of the current message's descriptions

    def add(self, line: str) -> None:
        message = self.messages[-1]
        embed = message[-1]
        if not embed and not line.strip():
            return  # no blank line at the top of an embed
        size = units(line)
        extra = size + (1 if embed else 0)
        fits_embed = self.embed_total + extra <= DESCRIPTION_MAX
        fits_message = self.message_total + extra <= MESSAGE_CHARS_MAX - self.reserve
        if fits_embed and fits_message:
            embed.append(line)
            self.embed_total += extra
            self.message_total += extra
            return
        if not line.strip():
            return  # a blank line is not worth a new embed
        if not fits_message or len(message) >= EMBEDS_MAX:
            self.messages.append([[line]])
            self.message_total = size
        else:
            message.append([line])
            self.message_total += size
        self.embed_total = size


def render_document(document: Document, *, color: int = COLOR, footer_reserve: int = 0) -> Messages:
    """``document`` as a list of messages (each a list of `discord.Embed`), in posting order.

    ``footer_reserve`` units are kept free in every message and in its last embed's footer, for
    a marker the caller appends there (the publisher's delivery marker, see `add_marker`)."""
    title = truncate(safe(document.title).strip() or "—", TITLE_MAX)
    short_title = truncate(title, TITLE_MAX - 12)
    footer_reserve = max(0, footer_reserve)
    pack = _Pack(reserve=units(short_title) + 12 + footer_reserve)
    for line in document_lines(document):
        pack.add(line)
    footer = safe(document.footer or "").strip()
    footer_in_embed = False
    if footer:
        total = pack.message_total + pack.reserve
        if (
            units(footer) + footer_reserve <= FOOTER_MAX
            and total + units(footer) <= MESSAGE_CHARS_MAX
        ):
            footer_in_embed = True
        else:
            pack.add("")
            for piece in _pieces(footer, _RAW_PIECE):
                pack.add(f"*{escape_markdown(piece)}*")
    messages: Messages = []
    count = len(pack.messages)
    for number, message in enumerate(pack.messages, start=1):
        embeds = []
        for position, lines in enumerate(message):
            embed = discord.Embed(color=color, description="\n".join(lines).strip("\n") or None)
            if position == 0:
                embed.title = title if number == 1 else f"{short_title} ({number}/{count})"
                embed.url = safe_url(document.meta.get("url"))  # the day's page on the web
            embeds.append(embed)
        messages.append(embeds)
    if footer_in_embed:
        messages[-1][-1].set_footer(text=footer)
    return messages


MARKER_SEPARATOR = " · "


def add_marker(embeds: list[discord.Embed], marker: str) -> None:
    """Append ``marker`` to the footer of the message's last embed (after its own footer text,
    if any). The message must have been rendered with ``footer_reserve`` >= ``marker_units``."""
    last = embeds[-1]
    text = last.footer.text or ""
    last.set_footer(text=f"{text}{MARKER_SEPARATOR}{marker}" if text else marker)


def with_marker(embeds: list[dict[str, Any]], marker: str) -> list[dict[str, Any]]:
    """`add_marker` on a rendered message's embed dicts, leaving them untouched (a copy of
    the last embed gets the marker): a document rendered once serves every channel."""
    if not embeds:
        return []
    last = dict(embeds[-1])
    footer = dict(last.get("footer") or {})
    text = footer.get("text") or ""
    footer["text"] = f"{text}{MARKER_SEPARATOR}{marker}" if text else marker
    last["footer"] = footer
    return [*embeds[:-1], last]


def marker_units(marker: str) -> int:
    return units(marker) + units(MARKER_SEPARATOR)


def footer_markers(embeds: list[dict[str, Any]]) -> list[str]:
    """The last footer segment of each embed (where `add_marker` puts a marker)."""
    out = []
    for embed in embeds:
        text = ((embed.get("footer") or {}).get("text") or "").strip()
        if text:
            out.append(text.rsplit(MARKER_SEPARATOR.strip(), 1)[-1].strip())
    return out


def notice(
    title: str, text: str = "", *, color: int = COLOR, trusted: bool = False
) -> list[discord.Embed]:
    """A one-embed message for short replies (confirmations, refusals, lists), within limits.
    ``trusted`` text (written by us, e.g. with a ``<#channel>`` link) keeps its markup; mass
    mentions are defused in any case."""
    body = (_MASS.sub("@\u200b", text) if trusted else safe(text)).strip()
    heading = safe(title).strip()
    if not heading and not body:
        heading = "—"  # Discord refuses an empty embed (400)
    return [
        discord.Embed(
            color=color,
            title=truncate(heading, TITLE_MAX) or None,
            description=truncate(body, DESCRIPTION_MAX) or None,
        )
    ]


def text_messages(text: str, *, limit: int = CONTENT_MAX) -> list[str]:
    """Plain content split into messages of at most ``limit`` units, at line ends when possible."""
    text = safe(text)
    out: list[str] = []
    current = ""
    for line in text.split("\n"):
        candidate = f"{current}\n{line}" if current else line
        if units(candidate) <= limit:
            current = candidate
            continue
        if current:
            out.append(current)
        while units(line) > limit:
            head, line = cut(line, limit)
            out.append(head)
        current = line
    if current or not out:
        out.append(current or "—")
    return out


def embed_units(embed: discord.Embed | dict[str, Any]) -> int:
    """What an embed counts towards the 6000 limit (title, description, fields, footer, author)."""
    data: dict[str, Any] = (
        cast(dict[str, Any], embed.to_dict()) if isinstance(embed, discord.Embed) else embed
    )
    total = units(data.get("title") or "") + units(data.get("description") or "")
    for field in data.get("fields") or []:
        total += units(field.get("name") or "") + units(field.get("value") or "")
    total += units((data.get("footer") or {}).get("text") or "")
    total += units((data.get("author") or {}).get("name") or "")
    return total


def message_problems(embeds: list[discord.Embed] | list[dict[str, Any]]) -> list[str]:
    """Every Discord limit one message of embeds breaks (empty when it is fine)."""
    problems = []
    if len(embeds) > EMBEDS_MAX:
        problems.append(f"{len(embeds)} embeds > {EMBEDS_MAX}")
    total = 0
    items: list[discord.Embed | dict[str, Any]] = list(embeds)
    for index, embed in enumerate(items):
        data: dict[str, Any] = (
            cast(dict[str, Any], embed.to_dict()) if isinstance(embed, discord.Embed) else embed
        )
        for key, limit in (("title", TITLE_MAX), ("description", DESCRIPTION_MAX)):
            if units(data.get(key) or "") > limit:
                problems.append(f"embed {index}: {key} > {limit}")
        fields = data.get("fields") or []
        if len(fields) > FIELDS_MAX:
            problems.append(f"embed {index}: {len(fields)} fields > {FIELDS_MAX}")
        for field in fields:
            if units(field.get("name") or "") > FIELD_NAME_MAX:
                problems.append(f"embed {index}: field name > {FIELD_NAME_MAX}")
            if units(field.get("value") or "") > FIELD_VALUE_MAX:
                problems.append(f"embed {index}: field value > {FIELD_VALUE_MAX}")
        if units((data.get("footer") or {}).get("text") or "") > FOOTER_MAX:
            problems.append(f"embed {index}: footer > {FOOTER_MAX}")
        if not any(data.get(key) for key in ("title", "description", "fields", "footer")):
            problems.append(f"embed {index}: empty")
        total += embed_units(data)
    if total > MESSAGE_CHARS_MAX:
        problems.append(f"{total} characters > {MESSAGE_CHARS_MAX}")
    return problems
