"""Reader pages, per story and language: the story, one page per story day (a permanent
link), the FAQ, and one page per person with their roles over time.

No page shows anything later than the story's last published day (`WebState.published_until`);
a day page shows the story's events up to that day only.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time

from aiohttp import web

from bot import links
from bot.web.labels import labels, messages
from bot.web.metrics import RENDER_SECONDS
from bot.web.picture import layout
from bot.web.render import render_page
from bot.web.state import STATE, WebState
from digests.compose import compose_digest, compose_faq, compose_story_so_far
from digests.errors import DepecheError
from digests.formatting import format_long, format_story_date
from digests.story import Lang, Person, Role, Story
from digests.typography import french_spacing

LANG = "{lang:fr|en}"
SLUG = "{slug:[a-z0-9][a-z0-9-]*}"
DAY = r"{day:\d{4}-\d{2}-\d{2}}"


def other(lang: Lang) -> Lang:
    return "en" if lang == "fr" else "fr"


def story_path(story: Story, lang: Lang) -> str:
    return links.story_path(story.slug, lang)


def day_path(story: Story, lang: Lang, day: dt.date) -> str:
    return links.day_path(story.slug, lang, day)


def picture_path(story: Story, lang: Lang, day: dt.date) -> str:
    return f"/{lang}/{story.slug}/{day.isoformat()}/timeline.png"


def person_path(story: Story, lang: Lang, person_id: str) -> str:
    return f"/{lang}/{story.slug}/people/{person_id}/"


def not_found(lang: Lang, message: str) -> web.HTTPNotFound:
    _t = messages(lang)
    page = render_page(
        "error.html",
        lang=lang,
        t=labels(lang),
        page_title=_t("Not found"),
        heading=_t("Not found"),
        message=message,
    )
    return web.HTTPNotFound(text=page, content_type="text/html")


def request_story(request: web.Request) -> tuple[WebState, Story, Lang]:
    state = request.app[STATE]
    lang: Lang = request.match_info["lang"]  # type: ignore[assignment]
    try:
        story = state.context.library.get(request.match_info["slug"])
    except DepecheError:
        raise not_found(
            lang, messages(lang)("No story %(slug)s.", slug=request.match_info["slug"])
        ) from None
    return state, story, lang


def request_day(request: web.Request, story: Story, lang: Lang, state: WebState) -> dt.date:
    """The day of the URL, if the story has events that day and it is published."""
    _t = messages(lang)
    try:
        day = dt.date.fromisoformat(request.match_info["day"])
    except ValueError:
        raise not_found(
            lang, _t("Not a date: %(value)s.", value=request.match_info["day"])
        ) from None
    published = state.published_until(story)
    if published is None or day > published or not story.events_on(day):
        raise not_found(
            lang, _t("The story has no published news on %(date)s.", date=format_long(day, lang))
        )
    return day


def common(state: WebState, story: Story, lang: Lang, other_url: str) -> dict[str, object]:
    return {
        "lang": lang,
        "t": labels(lang),
        "story_title": story.meta.title(lang),
        "story_url": story_path(story, lang),
        "feed_base": story_path(story, lang),
        "other_url": other_url,
        "other_lang": other(lang),
        "console_url": "/console/" if state.console else None,
    }


def published_days(story: Story, until: dt.date | None) -> list[dt.date]:
    return [day for day in story.days if until is not None and day <= until]


def _html(page: str) -> web.Response:
    return web.Response(text=page, content_type="text/html", charset="utf-8")


# --------------------------------------------------------------------------- pages


async def index(request: web.Request) -> web.Response:
    state = request.app[STATE]
    lang: Lang = "fr" if request.headers.get("Accept-Language", "").startswith("fr") else "en"
    entries = [
        {
            "url": story_path(story, one),
            "lang": one,
            "title": story.meta.title(one),
            "lang_name": labels(one)["language_name"],
        }
        for story in state.context.library
        for one in (lang, other(lang))
    ]
    t = labels(lang)
    return _html(
        render_page(
            "index.html",
            lang=lang,
            t=t,
            page_title=f"Dépêche — {t['stories']}",
            stories=entries,
            console_url="/console/" if state.console else None,
        )
    )


async def story_page(request: web.Request) -> web.Response:
    state, story, lang = request_story(request)
    started = time.perf_counter()
    published = state.published_until(story)
    days = published_days(story, published)
    document = compose_story_so_far(story, published or story.first_day, lang)
    people = _people_until(story, published)
    page = render_page(
        "story.html",
        **common(state, story, lang, story_path(story, other(lang))),
        page_title=story.meta.title(lang),
        document=document,
        picture_url=picture_path(story, lang, published) if published else None,
        picture_size=layout(story, published, lang).size if published else (0, 0),
        days=[
            {"url": day_path(story, lang, day), "label": _capitalise(format_long(day, lang))}
            for day in days
        ],
        people=[
            {"url": person_path(story, lang, person.id), "name": person.name} for person in people
        ],
        faq_url=f"{story_path(story, lang)}faq/",
    )
    RENDER_SECONDS.labels(page="story").observe(time.perf_counter() - started)
    return _html(page)


async def day_page(request: web.Request) -> web.Response:
    state, story, lang = request_story(request)
    day = request_day(request, story, lang, state)
    published = state.published_until(story)
    # A day page depends on the story revision, the day, the language and how far the story
    # is published (the "next day" link): rendered once for each.
    key = ("day", id(story), day, lang, published)
    cached = state.pages.get(key, story)
    if cached is not None:
        return _html(cached)
    started = time.perf_counter()
    document = compose_digest(story, day, lang)
    assert document is not None  # request_day checked the day has events
    days = published_days(story, published)
    index = days.index(day)
    page = render_page(
        "day.html",
        **common(state, story, lang, day_path(story, other(lang), day)),
        page_title=f"{document.title} — {document.subtitle}",
        document=document,
        picture_url=picture_path(story, lang, day),
        picture_size=layout(story, day, lang).size,
        previous_url=day_path(story, lang, days[index - 1]) if index > 0 else None,
        next_url=day_path(story, lang, days[index + 1]) if index + 1 < len(days) else None,
    )
    RENDER_SECONDS.labels(page="day").observe(time.perf_counter() - started)
    state.pages.put(key, story, page)
    return _html(page)


async def faq_page(request: web.Request) -> web.Response:
    state, story, lang = request_story(request)
    published = state.published_until(story)
    # The questions and answers are written from the story's end (they tell its outcome) and
    # carry no date: like the people's bios, shown once the story has reached its last day.
    complete = published is not None and published >= story.last_day
    return _html(
        render_page(
            "faq.html",
            **common(state, story, lang, f"{story_path(story, other(lang))}faq/"),
            page_title=f"{labels(lang)['faq']} — {story.meta.title(lang)}",
            document=compose_faq(story, lang) if complete else None,
            not_yet=messages(lang)(
                "The questions and answers appear once the story has reached its last day."
            ),
        )
    )


async def person_page(request: web.Request) -> web.Response:
    state, story, lang = request_story(request)
    published = state.published_until(story)
    person = story.person_by_id.get(request.match_info["person"])
    if person is None or person not in _people_until(story, published):
        raise not_found(lang, messages(lang)("No such person in this story."))
    assert published is not None
    roles = [
        role_row(story, role, lang, published)
        for role in person.roles
        if role.since is None or role.since.first <= published
    ]
    return _html(
        render_page(
            "person.html",
            **common(state, story, lang, person_path(story, other(lang), person.id)),
            page_title=f"{person.name} — {story.meta.title(lang)}",
            name=person.name,
            # The bio is written from the story's end: shown once the story has reached it.
            bio=_fix(person.bio(lang), lang) if published >= story.last_day else "",
            roles=roles,
        )
    )


async def timeline_png(request: web.Request) -> web.Response:
    """The picture of a published day (any published day, with or without events)."""
    state, story, lang = request_story(request)
    try:
        day = dt.date.fromisoformat(request.match_info["day"])
    except ValueError:
        raise web.HTTPNotFound() from None
    published = state.published_until(story)
    if published is None or day > published or day < story.first_day:
        raise web.HTTPNotFound()
    started = time.perf_counter()
    png = await asyncio.to_thread(state.pictures.get, story, day, lang)
    RENDER_SECONDS.labels(page="picture").observe(time.perf_counter() - started)
    return web.Response(
        body=png, content_type="image/png", headers={"Cache-Control": "public, max-age=300"}
    )


# --------------------------------------------------------------------------- pieces


def _people_until(story: Story, published: dt.date | None) -> list[Person]:
    """People named in the events published so far, in order of first appearance."""
    if published is None:
        return []
    seen: dict[str, Person] = {}
    for event in story.events_until(published):
        for person_id in event.people:
            if person_id not in seen and person_id in story.person_by_id:
                seen[person_id] = story.person_by_id[person_id]
    return list(seen.values())


def role_row(story: Story, role: Role, lang: Lang, published: dt.date) -> tuple[str, str, str]:
    """(role, start, end) of one role; an end not yet published is not shown."""
    _t = messages(lang)
    title = role.title(lang)
    if role.organisation and role.organisation in story.organisation_by_id:
        title = _t(
            "%(title)s (%(organisation)s)",
            title=title,
            organisation=story.organisation_by_id[role.organisation].name_in(lang),
        )
    if role.interim:
        title = _t("%(title)s, interim", title=title)
    since = format_story_date(role.since, lang) if role.since is not None else ""
    ended = role.until is not None and role.until.first <= published
    until = format_story_date(role.until, lang) if role.until is not None and ended else ""
    return (_fix(_capitalise(title), lang), _fix(since, lang), _fix(until, lang))


def _fix(text: str, lang: Lang) -> str:
    return french_spacing(text) if lang == "fr" else text


def _capitalise(text: str) -> str:
    return text[:1].upper() + text[1:]


def add_routes(app: web.Application) -> None:
    app.router.add_get("/", index, name="index")
    app.router.add_get(f"/{LANG}/{SLUG}/", story_page, name="story")
    app.router.add_get(f"/{LANG}/{SLUG}/faq/", faq_page, name="faq")
    app.router.add_get(f"/{LANG}/{SLUG}/people/{{person:[a-z0-9-]+}}/", person_page, name="person")
    app.router.add_get(f"/{LANG}/{SLUG}/{DAY}/", day_page, name="day")
    app.router.add_get(f"/{LANG}/{SLUG}/{DAY}/timeline.png", timeline_png, name="picture")
