"""Atom and JSON Feed per story and language, through the real server."""

from __future__ import annotations

import datetime as dt
import json
import xml.etree.ElementTree as ET

from bot.web import WebServer, WebState
from tests.web_env import LIB, SLUG, Clock, Site, make_context

ATOM = "{http://www.w3.org/2005/Atom}"
STORY = LIB.get(SLUG)


async def test_atom_feed_one_entry_per_day_newest_first(site: Site) -> None:
    status, body, response = await site.get(f"/fr/{SLUG}/feed.atom")
    assert status == 200 and response.headers["Content-Type"].startswith("application/atom+xml")
    feed = ET.fromstring(body.encode())
    assert feed.get("{http://www.w3.org/XML/1998/namespace}lang") == "fr"
    assert feed.findtext(f"{ATOM}title") == "Crise chez OpenAI"
    entries = feed.findall(f"{ATOM}entry")
    days = [e.find(f"{ATOM}link").get("href").rstrip("/").rsplit("/", 1)[1] for e in entries]  # type: ignore[union-attr]
    assert days == [d.isoformat() for d in reversed(STORY.days)]
    first = entries[-1]
    assert (
        first.findtext(f"{ATOM}title") == "Crise chez OpenAI — Jour 1 — vendredi 17 novembre 2023"
    )
    content = first.find(f"{ATOM}content")
    assert content is not None and content.get("type") == "html"
    assert STORY.events_on(STORY.first_day)[0].headline("fr") in (content.text or "")
    assert first.findtext(f"{ATOM}published") == "2023-11-17T00:00:00+00:00"
    self_link = next(link for link in feed.findall(f"{ATOM}link") if link.get("rel") == "self")
    assert self_link.get("href") == f"{site.url}/fr/{SLUG}/feed.atom"


async def test_json_feed(site: Site) -> None:
    status, body, response = await site.get(f"/en/{SLUG}/feed.json")
    assert status == 200 and response.headers["Content-Type"].startswith("application/feed+json")
    feed = json.loads(body)
    assert feed["version"] == "https://jsonfeed.org/version/1.1"
    assert feed["title"] == "Crisis at OpenAI" and feed["language"] == "en"
    assert [item["url"] for item in feed["items"]] == [
        f"{site.url}/en/{SLUG}/{d.isoformat()}/" for d in reversed(STORY.days)
    ]
    assert STORY.events_on(STORY.first_day)[0].headline("en") in feed["items"][-1]["content_html"]
    assert feed["items"][-1]["date_published"] == "2023-11-17T00:00:00+00:00"


async def test_feeds_never_show_a_later_day(site: Site) -> None:
    site.clock.now = dt.datetime(2023, 11, 18, 9, 0, tzinfo=dt.UTC)
    _, body, _ = await site.get(f"/en/{SLUG}/feed.json")
    items = json.loads(body)["items"]
    assert [item["id"].rstrip("/").rsplit("/", 1)[1] for item in items] == [
        "2023-11-18",
        "2023-11-17",
    ]
    later = [e.headline("en") for e in STORY.timeline if e.date.first > dt.date(2023, 11, 18)]
    assert not [h for h in later if h in body]
    _, body, _ = await site.get(f"/fr/{SLUG}/feed.atom")
    assert len(ET.fromstring(body.encode()).findall(f"{ATOM}entry")) == 2


async def test_feed_links_use_the_public_url(tmp_path) -> None:
    import aiohttp

    context = make_context(tmp_path, Clock(), DEPECHE_PUBLIC_URL="https://news.example.org/")
    assert context.settings.web.public_url == "https://news.example.org"
    state = WebState(context, public_url=context.settings.web.public_url)
    server = await WebServer.start(state, host="127.0.0.1", port=0)
    try:
        async with (
            aiohttp.ClientSession() as session,
            session.get(server.url + f"en/{SLUG}/feed.json") as response,
        ):
            feed = await response.json(content_type=None)
        assert feed["home_page_url"] == f"https://news.example.org/en/{SLUG}/"
        assert feed["items"][0]["url"] == f"https://news.example.org/en/{SLUG}/2023-11-20/"
    finally:
        await server.stop()
        context.store.dispose()
