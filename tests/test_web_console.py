"""The admin console of the console run: real server on loopback, real client with cookies;
every change goes through the admin service and shows on the next page."""

from __future__ import annotations

import re
from pathlib import Path

import aiohttp

from bot.console import ConsolePublisher
from bot.web import WebServer, WebState
from bot.web.ratelimit import RateLimiter
from bot.web.serve import make_state
from bot.web.sessions import sign, unsign
from tests.web_env import LIB, SLUG, Clock, Site, make_context

STORY = LIB.get(SLUG)


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf" value="([0-9a-f]{64})"', html)
    assert match, "no CSRF token in the page"
    return match.group(1)


async def post(
    site: Site, path: str, data: dict[str, str], **kwargs: object
) -> tuple[int, str, str]:
    async with site.session.post(site.url + path, data=data, allow_redirects=False, **kwargs) as r:  # type: ignore[arg-type]
        return r.status, await r.text(), r.headers.get("Location", "")


async def subscribe(site: Site, token: str, **fields: str) -> tuple[int, str, str]:
    data = {
        "csrf": token,
        "lang": "en",
        "channel": "console",
        "sub_lang": "both",
        "time": "08:00",
        "timezone": "Europe/Paris",
        "mode": "replay",
        "start": "2024-01-10",
        "story": "openai-crisis-2023",
        **fields,
    }
    return await post(site, "/console/subscriptions", data)


async def test_create_pause_resume_send_preview_unsubscribe(site: Site, capsys) -> None:
    site.context.publishers.register(ConsolePublisher(site.context.store))
    status, html, response = await site.get("/console/?lang=en")
    assert status == 200 and "No subscription yet." in html
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/" in cookie
    token = csrf_of(html)

    status, _, location = await subscribe(site, token)
    assert status == 303 and location == "/console/?lang=en&done=created"
    _, html, _ = await site.get(location)
    assert "Subscription saved." in html
    [sub_id] = [info.id for info in await site.context.admin.list()]
    row = html[html.index(f'id="subscription-{sub_id}"') :]
    assert "console:console" in row and "08:00 Europe/Paris" in row and "active" in row
    assert "2024-01-10 08:00 CET" in row  # day 1 due today at 08:00 Paris time (caught up)

    status, _, location = await post(
        site, f"/console/subscriptions/{sub_id}/pause", {"csrf": token, "lang": "en"}
    )
    assert status == 303
    _, html, _ = await site.get(location)
    assert "Subscription paused." in html and "paused by web console" in html
    assert not (await site.context.admin.list())[0].active

    await post(site, f"/console/subscriptions/{sub_id}/resume", {"csrf": token, "lang": "fr"})
    _, html, _ = await site.get("/console/?lang=fr&done=resumed")
    assert "Abonnement repris." in html and (await site.context.admin.list())[0].active

    status, _, location = await post(
        site, f"/console/subscriptions/{sub_id}/send-now", {"csrf": token, "lang": "en"}
    )
    assert status == 303
    _, html, _ = await site.get(location)
    assert "Digest sent now." in html
    assert "2024-01-10 [fr] sent" in html and "2024-01-10 [en] sent" in html
    assert "Day 1" in capsys.readouterr().out  # the console publisher printed it

    status, html, _ = await site.get(f"/console/subscriptions/{sub_id}/preview?lang=en")
    assert status == 200 and "Preview of subscription #" in html
    first = STORY.events_on(STORY.first_day)[0]
    assert first.headline("fr") in html and first.headline("en") in html

    status, _, _ = await post(
        site, f"/console/subscriptions/{sub_id}/unsubscribe", {"csrf": token, "lang": "en"}
    )
    assert status == 303 and await site.context.admin.list() == []


async def test_bad_input_is_one_clear_line(site: Site) -> None:
    _, html, _ = await site.get("/console/?lang=fr")
    token = csrf_of(html)
    status, html, _ = await subscribe(site, token, timezone="Europe/Pariss", lang="fr")
    assert status == 400 and "Fuseau horaire inconnu" in html and "Traceback" not in html
    status, html, _ = await subscribe(site, token, time="25:99")
    assert status == 400 and 'class="error"' in html
    status, html, _ = await subscribe(site, token, start="2020-01-01")
    assert status == 400 and "cannot start in the past" in html
    status, html, _ = await post(
        site, "/console/subscriptions/999/pause", {"csrf": token, "lang": "en"}
    )
    assert status == 400 and "No subscription #999." in html
    status, html, _ = await site.get("/console/subscriptions/999/preview")
    assert status == 404 and "No subscription #999." in html


async def test_forms_need_this_sessions_csrf_token(site: Site) -> None:
    _, html, _ = await site.get("/console/")
    token = csrf_of(html)
    status, body, _ = await subscribe(site, "")
    assert status == 403 and "CSRF" in body
    status, _, _ = await subscribe(site, "0" * 64)
    assert status == 403
    status, _, _ = await subscribe(site, token, **{})  # right token, wrong origin:
    assert status == 303
    status, body, _ = await post(
        site,
        "/console/subscriptions/1/pause",
        {"csrf": token, "lang": "en"},
        headers={"Origin": "https://evil.example"},
    )
    assert status == 403 and "cross-site" in body
    # Another browser (no cookie, or another session) cannot reuse the token.
    async with (
        aiohttp.ClientSession() as other,
        other.post(
            site.url + "/console/subscriptions/1/pause", data={"csrf": token, "lang": "en"}
        ) as response,
    ):
        assert response.status == 403
    assert (await site.context.admin.list())[0].active


async def test_redirects_never_go_where_the_request_says(site: Site) -> None:
    _, html, _ = await site.get("/console/?done=https://evil.example&next=//evil.example")
    assert "evil" not in html
    token = csrf_of(html)
    _, _, location = await subscribe(site, token, next="https://evil.example", lang="x")
    assert location == "/console/?lang=en&done=created"


async def test_forms_are_rate_limited(site: Site) -> None:
    site.state.forms = RateLimiter(limit=3, window=60.0)
    _, html, _ = await site.get("/console/")
    token = csrf_of(html)
    codes = [(await subscribe(site, token, timezone="Nowhere/Zone"))[0] for _ in range(4)]
    assert codes == [400, 400, 400, 429]


def test_signed_cookies_refuse_tampering_and_expiry() -> None:
    value = sign(b"k" * 32, {"sid": "abc", "exp": 2_000_000_000})
    assert unsign(b"k" * 32, value, now=1_900_000_000) == {"sid": "abc", "exp": 2_000_000_000}
    assert unsign(b"x" * 32, value, now=1_900_000_000) is None
    body, mac = value.split(".")
    assert unsign(b"k" * 32, body[:-2] + "xx." + mac, now=1_900_000_000) is None
    assert unsign(b"k" * 32, value, now=2_000_000_001) is None
    assert unsign(b"k" * 32, "garbage", now=0) is None


async def test_no_console_without_sign_in_off_loopback_or_with_a_platform(tmp_path: Path) -> None:
    context = make_context(tmp_path, Clock())
    assert make_state(context, "127.0.0.1").console
    assert not make_state(context, "0.0.0.0").console
    (tmp_path / "d").mkdir()
    with_discord = make_context(tmp_path / "d", Clock(), DISCORD_TOKEN="x.y.z")
    assert not make_state(with_discord, "127.0.0.1").console
    server = await WebServer.start(WebState(context, console=False), host="127.0.0.1", port=0)
    try:
        async with aiohttp.ClientSession() as session:
            async with session.get(server.url + "console/") as response:
                assert response.status == 404
            async with session.post(server.url + "console/subscriptions/1/pause") as response:
                assert response.status in (404, 405)
    finally:
        await server.stop()
        context.store.dispose()
        with_discord.store.dispose()
