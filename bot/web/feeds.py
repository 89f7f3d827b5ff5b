"""Atom and JSON Feed per story and language: one entry per published story day, newest
first, linking to the day's page, with the day's digest as HTML content.

Both formats are written with the standard library (ElementTree, json): the documents are
small and fixed in shape.
"""

from __future__ import annotations

import datetime as dt
import json
import xml.etree.ElementTree as ET
from dataclasses import dataclass

from aiohttp import web

from bot.web.reader import day_path, published_days, request_story, story_path
from bot.web.render import document_html
from bot.web.state import WebState
from digests.compose import compose_digest
from digests.story import Lang, Story

ATOM = "http://www.w3.org/2005/Atom"
JSON_FEED_VERSION = "https://jsonfeed.org/version/1.1"


@dataclass(frozen=True)
class Entry:
    id: str
    url: str
    title: str
    html: str
    summary: str
    published: dt.datetime


def base_url(state: WebState, request: web.Request) -> str:
    """Absolute links use the public URL when configured, else the address asked for."""
    return state.public_url or str(request.url.origin())


def entries(story: Story, lang: Lang, until: dt.date | None, base: str) -> list[Entry]:
    out = []
    for day in reversed(published_days(story, until)):
        document = compose_digest(story, day, lang)
        if document is None:
            continue
        url = base + day_path(story, lang, day)
        headlines = "; ".join(event.headline(lang) for event in story.events_on(day))
        out.append(
            Entry(
                id=url,
                url=url,
                title=f"{document.title} — {document.subtitle}",
                html=str(document_html(document)),
                summary=headlines,
                published=dt.datetime.combine(day, dt.time(0, 0), tzinfo=dt.UTC),
            )
        )
    return out


def atom_document(story: Story, lang: Lang, items: list[Entry], base: str) -> bytes:
    ET.register_namespace("", ATOM)
    feed = ET.Element(f"{{{ATOM}}}feed", {"xml:lang": lang})
    home = base + story_path(story, lang)

    def add(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
        element = ET.SubElement(parent, f"{{{ATOM}}}{tag}", attrs)
        if text is not None:
            element.text = text
        return element

    add(feed, "id", home)
    add(feed, "title", story.meta.title(lang))
    add(feed, "subtitle", story.meta.title(lang))
    add(feed, "link", href=home, rel="alternate", type="text/html")
    add(feed, "link", href=home + "feed.atom", rel="self", type="application/atom+xml")
    updated = (
        items[0].published
        if items
        else dt.datetime.combine(story.first_day, dt.time(0, 0), tzinfo=dt.UTC)
    )
    add(feed, "updated", updated.isoformat())
    add(add(feed, "author"), "name", "Dépêche")
    for item in items:
        entry = add(feed, "entry")
        add(entry, "id", item.id)
        add(entry, "title", item.title)
        add(entry, "link", href=item.url, rel="alternate", type="text/html")
        add(entry, "published", item.published.isoformat())
        add(entry, "updated", item.published.isoformat())
        add(entry, "summary", item.summary)
        add(entry, "content", item.html, type="html")
    document: bytes = ET.tostring(feed, encoding="utf-8", xml_declaration=True)
    return document


def json_feed_document(
    story: Story, lang: Lang, items: list[Entry], base: str
) -> dict[str, object]:
    home = base + story_path(story, lang)
    return {
        "version": JSON_FEED_VERSION,
        "title": story.meta.title(lang),
        "home_page_url": home,
        "feed_url": home + "feed.json",
        "language": lang,
        "authors": [{"name": "Dépêche"}],
        "items": [
            {
                "id": item.id,
                "url": item.url,
                "title": item.title,
                "summary": item.summary,
                "content_html": item.html,
                "date_published": item.published.isoformat(),
                "language": lang,
            }
            for item in items
        ],
    }


async def atom_feed(request: web.Request) -> web.Response:
    state, story, lang = request_story(request)
    base = base_url(state, request)
    items = entries(story, lang, state.published_until(story), base)
    return web.Response(
        body=atom_document(story, lang, items, base),
        content_type="application/atom+xml",
        charset="utf-8",
    )


async def json_feed(request: web.Request) -> web.Response:
    state, story, lang = request_story(request)
    base = base_url(state, request)
    items = entries(story, lang, state.published_until(story), base)
    return web.Response(
        text=json.dumps(json_feed_document(story, lang, items, base), ensure_ascii=False),
        content_type="application/feed+json",
        charset="utf-8",
    )


def add_routes(app: web.Application) -> None:
    from bot.web.reader import LANG, SLUG

    app.router.add_get(f"/{LANG}/{SLUG}/feed.atom", atom_feed, name="atom")
    app.router.add_get(f"/{LANG}/{SLUG}/feed.json", json_feed, name="json_feed")
