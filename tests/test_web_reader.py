"""Reader pages, health and metrics, through a real server on loopback and a real client."""

from __future__ import annotations

import datetime as dt
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from bot.web.app import CSP
from tests.web_env import LIB, SLUG, Site

STORY = LIB.get(SLUG)


def headlines_after(day: dt.date, lang: str) -> list[str]:
    return [e.headline(lang) for e in STORY.timeline if e.date.first > day]  # type: ignore[arg-type]


def visible(html: str) -> str:
    """The text of the page, tags removed and entities undone (enough for assertions)."""
    import html as html_lib

    return html_lib.unescape(re.sub(r"<[^>]+>", " ", html))


async def test_story_page_in_both_languages(site: Site) -> None:
    status, html, response = await site.get(f"/fr/{SLUG}/")
    assert status == 200
    assert response.headers["Content-Security-Policy"] == CSP
    assert response.headers["Content-Type"].startswith("text/html")
    assert "<title>Crise chez OpenAI</title>" in html
    text = visible(html)
    assert "Jour après jour" in text and "Personnes" in text
    for day in STORY.days:
        assert f'href="/fr/{SLUG}/{day.isoformat()}/"' in html
    assert f'href="/fr/{SLUG}/people/sam-altman/"' in html
    assert f'src="/fr/{SLUG}/2023-11-20/timeline.png"' in html
    assert f'href="/en/{SLUG}/"' in html  # the other language
    assert "<script" not in html
    status, html, _ = await site.get(f"/en/{SLUG}/")
    assert status == 200 and "Day by day" in html and "People" in visible(html)


async def test_day_page_is_a_permanent_link_with_neighbours(site: Site) -> None:
    status, html, _ = await site.get(f"/en/{SLUG}/2023-11-18/")
    assert status == 200
    text = visible(html)
    assert "Day 2 — Saturday, November 18, 2023" in text
    assert STORY.events_on(dt.date(2023, 11, 18))[0].headline("en") in text
    assert f'rel="prev" href="/en/{SLUG}/2023-11-17/"' in html
    assert f'rel="next" href="/en/{SLUG}/2023-11-19/"' in html
    status, html, _ = await site.get(f"/fr/{SLUG}/2023-11-18/")
    assert status == 200 and "Jour 2 — samedi 18 novembre 2023" in visible(html)
    assert "Jour suivant" in html


async def test_days_without_news_and_bad_dates_are_not_found(site: Site) -> None:
    status, html, _ = await site.get(f"/en/{SLUG}/2023-11-25/")
    assert status == 404 and "no published news on November 25, 2023" in html
    status, html, _ = await site.get(f"/fr/{SLUG}/2023-02-30/")
    assert status == 404 and "Ce n’est pas une date" in html
    status, html, _ = await site.get("/en/no-such-story/")
    assert status == 404 and "No story no-such-story." in html
    status, _, _ = await site.get(f"/de/{SLUG}/")
    assert status == 404
    status, html, _ = await site.get(f"/en/{SLUG}/people/nobody/")
    assert status == 404 and "No such person" in html


async def test_a_running_story_shows_no_later_day(site: Site) -> None:
    site.clock.now = dt.datetime(2023, 11, 18, 9, 0, tzinfo=dt.UTC)
    later = headlines_after(dt.date(2023, 11, 18), "en")
    assert later
    status, html, _ = await site.get(f"/en/{SLUG}/")
    assert status == 200
    text = visible(html)
    assert not [h for h in later if h in text]
    assert "2023-11-19" not in html and "2023-11-20" not in html
    status, html, _ = await site.get(f"/en/{SLUG}/2023-11-18/")
    assert status == 200 and 'rel="next"' not in html
    for day in ("2023-11-19", "2023-11-20"):
        status, _, _ = await site.get(f"/en/{SLUG}/{day}/")
        assert status == 404
        status, _, _ = await site.get_bytes(f"/en/{SLUG}/{day}/timeline.png")
        assert status == 404
    # Sam Altman's Microsoft role starts on the 20th: not shown on the 18th.
    status, html, _ = await site.get(f"/en/{SLUG}/people/sam-altman/")
    assert status == 200 and "CEO (OpenAI)" in html and "Microsoft" not in html
    site.clock.now = dt.datetime(2023, 11, 1, tzinfo=dt.UTC)  # before the story
    status, html, _ = await site.get(f"/en/{SLUG}/")
    assert status == 200 and "timeline.png" not in html
    status, _, _ = await site.get(f"/en/{SLUG}/2023-11-17/")
    assert status == 404


async def test_person_page_roles_over_time(site: Site) -> None:
    status, html, _ = await site.get(f"/fr/{SLUG}/people/sam-altman/")
    assert status == 200
    text = visible(html)
    assert "Rôles au fil du temps" in text
    assert re.search(
        r"PDG \(OpenAI\)\s*</td><td>\s*</td><td>17\u00a0novembre 2023|PDG \(OpenAI\)", html
    )
    assert "vers le 20 novembre 2023" in text  # Microsoft, an approximate start
    status, html, _ = await site.get(f"/en/{SLUG}/people/sam-altman/")
    assert "November 17, 2023" in visible(html)


async def test_faq_page(site: Site) -> None:
    status, html, _ = await site.get(f"/fr/{SLUG}/faq/")
    assert status == 200
    assert STORY.faq[0].question("fr").split()[0] in html
    status, html, _ = await site.get(f"/en/{SLUG}/faq/")
    assert status == 200 and "Frequently asked questions" in html


async def test_index_lists_each_story_in_both_languages(site: Site) -> None:
    status, html, _ = await site.get("/", headers={"Accept-Language": "fr-FR,fr;q=0.9"})
    assert status == 200 and html.index(f"/fr/{SLUG}/") < html.index(f"/en/{SLUG}/")
    status, html, _ = await site.get("/")
    assert html.index(f"/en/{SLUG}/") < html.index(f"/fr/{SLUG}/")


async def test_health_ready_and_metrics(site: Site) -> None:
    status, body, _ = await site.get("/healthz")
    assert status == 200 and '"ok"' in body
    status, body, _ = await site.get("/readyz")
    assert status == 200 and '"database": true' in body
    site.state.readiness["discord"] = lambda: False
    status, body, _ = await site.get("/readyz")
    assert status == 503 and '"discord": false' in body
    await site.get(f"/en/{SLUG}/2023-11-17/")
    status, body, response = await site.get("/metrics")
    assert status == 200 and response.headers["Content-Type"].startswith("text/plain")
    assert re.search(r'depeche_web_requests_total\{route="day",status="200"\} \d', body)
    assert 'depeche_ready{part="discord"} 0.0' in body
    assert 'depeche_web_render_seconds_count{page="day"}' in body


async def test_readyz_fails_when_the_database_is_gone(site: Site) -> None:
    site.context.store.engine.dispose()
    Path(site.context.store.engine.url.database or "").unlink()
    Path(site.context.store.engine.url.database or "").mkdir()  # a directory: cannot open
    status, body, _ = await site.get("/readyz")
    assert status == 503 and '"database": false' in body


async def test_metrics_token(tmp_path: Path) -> None:
    import aiohttp

    from bot.web import WebServer, WebState
    from tests.web_env import Clock, make_context

    context = make_context(tmp_path, Clock(), DEPECHE_METRICS_TOKEN="s3cret")
    server = await WebServer.start(WebState(context), host="127.0.0.1", port=0)
    try:
        async with aiohttp.ClientSession() as session:
            async with session.get(server.url + "metrics") as response:
                assert response.status == 401
                assert "s3cret" not in await response.text()
            headers = {"Authorization": "Bearer s3cret"}
            async with session.get(server.url + "metrics", headers=headers) as response:
                assert response.status == 200
    finally:
        await server.stop()
        context.store.dispose()


def _spawn(tmp_path: Path, *args: str, **env: str) -> subprocess.Popen[str]:
    environ = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DISCORD_TOKEN", "SLACK_BOT_TOKEN", "DEPECHE_CONFIG")
    }
    environ.update(
        DATABASE_URL=f"sqlite:///{tmp_path / 'cli.sqlite3'}",
        DEPECHE_WEB_PORT="0",
        DEPECHE_TIMEZONE="Europe/Paris",
        PYTHONUNBUFFERED="1",
        **env,
    )
    return subprocess.Popen(
        [sys.executable, "-m", "bot", *args],
        cwd=tmp_path,
        env=environ,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _url_from(process: subprocess.Popen[str]) -> tuple[str, list[str]]:
    lines: list[str] = []
    assert process.stdout is not None
    for line in process.stdout:
        lines.append(line)
        match = re.search(r"Web \((.*?)\): (http://\S+)", line)
        if match:
            return match.group(2), lines
    raise AssertionError("no web URL printed:\n" + "".join(lines))


@pytest.mark.parametrize("command", [("run", "--no-console-subscription"), ("web",)])
def test_commands_print_a_loopback_url_in_the_console_run(
    tmp_path: Path, command: tuple[str, ...]
) -> None:
    import urllib.request

    process = _spawn(tmp_path, *command)
    try:
        url, lines = _url_from(process)
        assert url.startswith("http://127.0.0.1:"), lines
        with urllib.request.urlopen(url + "healthz", timeout=30) as response:
            assert response.status == 200
        with urllib.request.urlopen(url + f"en/{SLUG}/", timeout=30) as response:
            assert b"Day by day" in response.read()
    finally:
        process.send_signal(signal.SIGTERM)
        out, _ = process.communicate(timeout=60)
    assert process.returncode == 0, out
    assert "Traceback" not in out


def test_compose_publishes_the_web_port_on_loopback_with_health_checks() -> None:
    import yaml

    root = Path(__file__).resolve().parents[1]
    bot = yaml.safe_load((root / "docker-compose.yml").read_text(encoding="utf-8"))["services"][
        "bot"
    ]
    assert "127.0.0.1:${DEPECHE_WEB_PORT:-8080}:8080" in bot["ports"]
    assert bot["environment"]["DEPECHE_WEB_PORT"] == "8080"
    check = " ".join(bot["healthcheck"]["test"])
    assert "/healthz" in check and "/readyz" in check and "127.0.0.1:8080" in check


async def test_day_pages_are_rendered_once_per_revision_day_language_and_progress(
    site: Site,
) -> None:
    site.clock.now = dt.datetime(2023, 11, 18, 9, 0, tzinfo=dt.UTC)
    _, first, _ = await site.get(f"/en/{SLUG}/2023-11-18/")
    _, again, _ = await site.get(f"/en/{SLUG}/2023-11-18/")
    assert again == first and 'rel="next"' not in first
    assert len(site.state.pages._items) == 1
    site.clock.now = dt.datetime(2023, 11, 19, 9, 0, tzinfo=dt.UTC)  # one more day published
    _, later, _ = await site.get(f"/en/{SLUG}/2023-11-18/")
    assert f'rel="next" href="/en/{SLUG}/2023-11-19/"' in later
    assert len(site.state.pages._items) == 2


@pytest.mark.parametrize("lang", ["fr", "en"])
async def test_no_page_or_feed_reachable_mid_story_shows_a_later_day(site: Site, lang: str) -> None:
    """Every page and feed a reader can reach from the story page on day 2 (a replay or a
    live story still running): no later day's date, headline, FAQ answer or bio."""
    published = dt.date(2023, 11, 18)
    site.clock.now = dt.datetime(2023, 11, 18, 9, 0, tzinfo=dt.UTC)
    from digests.formatting import format_long

    later_days = [day for day in STORY.days if day > published]
    forbidden = headlines_after(published, lang)
    # An event published by then may be dated by a window reaching past it ("the weekend of
    # November 18-19"): that day's name is part of a published date, not a later day's news.
    windows = {
        event.date.first + dt.timedelta(days=n)
        for event in STORY.events_until(published)
        for n in range((event.date.last - event.date.first).days + 1)
    }
    forbidden += [format_long(d, lang) for d in later_days if d not in windows]  # type: ignore[arg-type]
    forbidden += [day.isoformat() for day in later_days]
    forbidden += [entry.answer(lang) for entry in STORY.faq]  # type: ignore[arg-type]
    forbidden += [p.bio(lang) for p in STORY.people if p.bio(lang)]  # type: ignore[arg-type]
    assert len(forbidden) > 10
    start = f"/{lang}/{SLUG}/"
    seen: set[str] = set()
    queue = [start, start + "feed.atom", start + "feed.json"]
    while queue:
        path = queue.pop()
        if path in seen:
            continue
        seen.add(path)
        status, body, _ = await site.get(path)
        assert status == 200, path
        text = visible(body) + body
        leaked = [item for item in forbidden if item in text]
        assert not leaked, (path, leaked[:3])
        for link in re.findall(r'href="(/[^"#?]*)"', body):
            if link.startswith(start) and not link.endswith(".png"):
                queue.append(link)
    assert start + "faq/" in seen and start + "2023-11-18/" in seen
    assert any("/people/" in path for path in seen)
    status, html, _ = await site.get(start + "faq/")
    assert STORY.faq[0].question(lang) not in html  # type: ignore[arg-type]
    site.clock.now = dt.datetime(2023, 11, 22, tzinfo=dt.UTC)  # the story has ended
    status, html, _ = await site.get(start + "faq/")
    assert STORY.faq[0].answer(lang) in visible(html)  # type: ignore[arg-type]


async def test_a_day_is_published_once_it_has_begun_in_the_earliest_time_zone(site: Site) -> None:
    """A live subscription in Pacific/Kiritimati (UTC+14) gets day 3's digest at 08:00 there,
    18:00 UTC the day before: its link and picture must answer; a minute before midnight there,
    not yet."""
    site.clock.now = dt.datetime(2023, 11, 18, 9, 59, tzinfo=dt.UTC)  # 23:59 on the 18th there
    status, _, _ = await site.get(f"/en/{SLUG}/2023-11-19/")
    assert status == 404
    site.clock.now = dt.datetime(2023, 11, 18, 18, 0, tzinfo=dt.UTC)  # 08:00 on the 19th there
    status, _, _ = await site.get(f"/en/{SLUG}/2023-11-19/")
    assert status == 200
    status, png, _ = await site.get_bytes(f"/en/{SLUG}/2023-11-19/timeline.png")
    assert status == 200 and png.startswith(b"\x89PNG")
