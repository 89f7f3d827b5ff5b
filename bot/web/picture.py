"""The timeline picture: a PNG of the story's events up to a day, on a vertical time axis,
with that day marked "today". Never draws a later day.

`layout` is pure (what to draw, where: the golden tests check it); `render_png` draws it with
Pillow and DejaVu fonts (Debian's ``fonts-dejavu-core``; Pillow's own font when missing).
`PictureCache` keeps one PNG per story revision, date and language.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Literal

from PIL import Image, ImageDraw, ImageFont

from bot.web.labels import messages
from digests.formatting import format_long, format_short_day
from digests.story import Lang, Story, StoryLibrary
from digests.typography import french_spacing

_log = logging.getLogger(__name__)

WIDTH = 960
MARGIN = 24
AXIS_X = 170
TEXT_X = 192
TOP = 84
ROW = 24
DAY_GAP = 12
BOTTOM = 28
MAX_ROWS = 28  # older events are summed up in one line
MAX_CHARS = 88

FontKey = Literal["title", "subtitle", "day", "today", "event", "event_today", "more"]
FONT_SIZES: dict[FontKey, int] = {
    "title": 22,
    "subtitle": 15,
    "day": 14,
    "today": 14,
    "event": 14,
    "event_today": 14,
    "more": 13,
}
BOLD: set[FontKey] = {"title", "day", "today", "event_today"}
INK = (29, 29, 31)
MUTED = (95, 99, 104)
ACCENT = (11, 87, 208)
LINE = (200, 196, 186)
BAND = (232, 240, 254)
DEJAVU = Path("/usr/share/fonts/truetype/dejavu")


@dataclass(frozen=True)
class Text:
    text: str
    x: int
    y: int
    font: FontKey


@dataclass(frozen=True)
class Dot:
    x: int
    y: int
    today: bool
    exact: bool


@dataclass(frozen=True)
class Layout:
    size: tuple[int, int]
    texts: tuple[Text, ...]
    dots: tuple[Dot, ...]
    axis: tuple[int, int]  # y from, y to
    band: tuple[int, int] | None  # the "today" rows


def _fix(text: str, lang: Lang) -> str:
    return french_spacing(text) if lang == "fr" else text


def _cut(text: str) -> str:
    return text if len(text) <= MAX_CHARS else text[: MAX_CHARS - 1].rstrip() + "…"


def layout(story: Story, day: dt.date, lang: Lang) -> Layout:
    """Where every text and dot goes for the picture of ``day``: events up to ``day`` only."""
    _t = messages(lang)
    events = list(story.events_until(day))
    hidden = max(0, len(events) - MAX_ROWS)
    events = events[hidden:]
    texts = [
        Text(_fix(_cut(story.meta.title(lang)), lang), MARGIN, 18, "title"),
        Text(
            _fix(
                _t(
                    "Day %(n)s — as of %(date)s",
                    n=story.day_number(day) if day >= story.first_day else 0,
                    date=format_long(day, lang),
                ),
                lang,
            ),
            MARGIN,
            50,
            "subtitle",
        ),
    ]
    dots: list[Dot] = []
    y = TOP
    if hidden:
        texts.append(Text(_t("Earlier events: %(n)s", n=hidden), TEXT_X, y, "more"))
        y += ROW
    days = sorted({event.date.first for event in events} | {day})
    band: tuple[int, int] | None = None
    for one in days:
        today = one == day
        start = y
        texts.append(
            Text(_fix(format_short_day(one, lang), lang), MARGIN, y, "today" if today else "day")
        )
        if today:
            texts.append(Text(_t("Today"), MARGIN, y + 18, "today"))
        todays = [event for event in events if event.date.first == one]
        for event in todays:
            dots.append(Dot(AXIS_X, y + 9, today, event.date.is_exact))
            texts.append(
                Text(
                    _fix(_cut(event.headline(lang)), lang),
                    TEXT_X,
                    y,
                    "event_today" if today else "event",
                )
            )
            y += ROW
        if not todays:
            y += ROW
        if today and y - start < 2 * ROW:
            y = start + 2 * ROW  # room for the "today" label
        if today:
            band = (start - 4, y - 4)
        y += DAY_GAP
    height = y + BOTTOM
    return Layout((WIDTH, height), tuple(texts), tuple(dots), (TOP, y - DAY_GAP), band)


@cache
def font(key: FontKey) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    name = "DejaVuSans-Bold.ttf" if key in BOLD else "DejaVuSans.ttf"
    path = DEJAVU / name
    if path.is_file():
        return ImageFont.truetype(str(path), FONT_SIZES[key])
    return ImageFont.load_default(FONT_SIZES[key])


_COLOURS: dict[FontKey, tuple[int, int, int]] = {
    "title": INK,
    "subtitle": MUTED,
    "day": MUTED,
    "today": ACCENT,
    "event": INK,
    "event_today": ACCENT,
    "more": MUTED,
}


def render_png(plan: Layout) -> bytes:
    image = Image.new("RGB", plan.size, (255, 255, 255))
    draw = ImageDraw.Draw(image)
    if plan.band is not None:
        draw.rectangle((0, plan.band[0], plan.size[0], plan.band[1]), fill=BAND)
    draw.line((AXIS_X, plan.axis[0], AXIS_X, plan.axis[1]), fill=LINE, width=3)
    for dot in plan.dots:
        colour = ACCENT if dot.today else INK
        box = (dot.x - 6, dot.y - 6, dot.x + 6, dot.y + 6)
        if dot.exact:
            draw.ellipse(box, fill=colour)
        else:  # an approximate date: a hollow dot
            draw.ellipse(box, outline=colour, width=2, fill=(255, 255, 255))
    for text in plan.texts:
        draw.text((text.x, text.y), text.text, font=font(text.font), fill=_COLOURS[text.font])
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


class PictureCache:
    """One PNG per story revision (the `Story` object: a reloaded file is a new one), date and
    language; the least recently used are dropped past ``size`` entries."""

    def __init__(self, size: int = 256) -> None:
        self.size = size
        self._lock = threading.Lock()
        self._items: OrderedDict[tuple[int, dt.date, str], tuple[Story, bytes]] = OrderedDict()
        self.renders = 0

    def get(self, story: Story, day: dt.date, lang: Lang) -> bytes:
        key = (id(story), day, lang)
        with self._lock:
            hit = self._items.get(key)
            if hit is not None and hit[0] is story:
                self._items.move_to_end(key)
                return hit[1]
        png = render_png(layout(story, day, lang))
        with self._lock:
            self.renders += 1
            self._items[key] = (story, png)  # the story is kept so its id is not reused
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return png


SHARED = PictureCache()
"""The process's pictures: the web pages and the digests' attachments render each once."""


def picture_source(library: StoryLibrary) -> Callable[[str, dt.date, str], bytes | None]:
    """``(slug, day, lang) -> PNG`` from ``library`` (its current revision), through `SHARED`;
    None (logged) when the story is unknown or the picture cannot be drawn: a digest is never
    held back by its picture."""

    def picture(slug: str, day: dt.date, lang: str) -> bytes | None:
        try:
            story = library.get(slug)
            return SHARED.get(story, day, "fr" if lang == "fr" else "en")
        except Exception:
            _log.exception("timeline picture of %s %s [%s] not drawn", slug, day, lang)
            return None

    return picture
