"""Sign in with Discord against the fake's OAuth2 endpoints: a user sees and changes only the
subscriptions of the servers they manage (asked from Discord on every request), across two
servers and two users; forged OAuth states, cross-site forms and open redirects are refused."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import unquote

import aiohttp
import pytest

from bot.admin import CLI, SubscriptionSpec
from bot.web import WebServer, WebState
from bot.web.ratelimit import RateLimiter
from tests.fakes.discord_server import FakeDiscord
from tests.web_env import Clock, Site, make_context

MANAGE_GUILD = 1 << 5
VIEW = 1 << 10
ALICE, BOB = 501, 502
GUILD_A, GUILD_B = 100, 200


@pytest.fixture
async def signed(tmp_path: Path) -> AsyncIterator[tuple[Site, FakeDiscord]]:
    fake = await FakeDiscord().start()
    fake.add_oauth_user(
        ALICE,
        "alice",
        [(GUILD_A, "Server A", MANAGE_GUILD, False), (GUILD_B, "Server B", VIEW, False)],
    )
    fake.add_oauth_user(
        BOB, "bob", [(GUILD_A, "Server A", VIEW, False), (GUILD_B, "Server B", 0, True)]
    )
    client_id, secret = fake.oauth_client
    context = make_context(
        tmp_path,
        Clock(),
        DISCORD_CLIENT_ID=client_id,
        DISCORD_CLIENT_SECRET=secret,
        DISCORD_API_URL=fake.base_url + "/api/v10",
        DISCORD_OAUTH_URL=fake.base_url + "/oauth2/authorize",
    )
    for guild, channel in ((GUILD_A, "11"), (GUILD_B, "22")):
        await context.admin.subscribe(
            SubscriptionSpec(
                platform="discord", workspace_id=str(guild), channel_id=channel, lang="en"
            ),
            CLI,
        )
    state = WebState(context, console=False, signin=context.settings.web.discord_signin)
    assert state.signin
    server = await WebServer.start(state, host="127.0.0.1", port=0)
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
        yield Site(server, session, Clock(), context), fake
    await server.stop()
    await fake.close()
    context.store.dispose()


async def sign_in(site: Site, fake: FakeDiscord, user: int) -> str:
    fake.oauth_login_as = user
    async with site.session.get(site.url + "/auth/discord") as response:
        assert response.status == 200
        assert response.url.path == "/console/"  # the only place a sign-in ever lands
        return await response.text()


def ids_in(html: str) -> set[str]:
    return set(re.findall(r'id="subscription-(\d+)"', html))


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([0-9a-f]{64})"', html)
    assert found
    return found.group(1)


async def sub_id(site: Site, guild: int) -> int:
    [info] = await site.context.admin.list(platform="discord", workspace_id=str(guild))
    return info.id


async def test_each_user_sees_and_changes_only_the_servers_they_manage(signed) -> None:
    site, fake = signed
    status, html, _ = await site.get("/console/")
    assert status == 200 and 'href="/auth/discord"' in html and not ids_in(html)

    html = await sign_in(site, fake, ALICE)
    a, b = await sub_id(site, GUILD_A), await sub_id(site, GUILD_B)
    assert "Signed in as alice" in html and ids_in(html) == {str(a)}
    assert "Server A" in html and "Server B" not in html
    assert '/console/subscriptions"' not in html  # no create form for members
    token = csrf_of(html)

    async with site.session.post(
        site.url + f"/console/subscriptions/{b}/pause", data={"csrf": token, "lang": "en"}
    ) as response:
        assert response.status == 400 and f"No subscription #{b}." in await response.text()
    status, html, _ = await site.get(f"/console/subscriptions/{b}/preview")
    assert status == 404 and "Preview of subscription" not in html
    async with site.session.post(
        site.url + f"/console/subscriptions/{a}/pause", data={"csrf": token, "lang": "en"}
    ) as response:
        assert response.status == 200 and response.url.path == "/console/"
    infos = {info.id: info for info in await site.context.admin.list()}
    assert not infos[a].active and infos[b].active
    assert infos[a].paused_reason == f"paused by {ALICE}"

    # Bob, in another browser, owns server B only.
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as other:
        bob = Site(site.server, other, site.clock, site.context)
        html = await sign_in(bob, fake, BOB)
        assert "Signed in as bob" in html and ids_in(html) == {str(b)}
        async with other.post(
            site.url + f"/console/subscriptions/{a}/resume",
            data={"csrf": csrf_of(html), "lang": "en"},
        ) as response:
            assert response.status == 400
        # Alice's CSRF token is useless in Bob's session.
        async with other.post(
            site.url + f"/console/subscriptions/{b}/pause", data={"csrf": token, "lang": "en"}
        ) as response:
            assert response.status == 403
    assert not {i.id: i for i in await site.context.admin.list()}[a].active


async def test_permissions_are_asked_again_on_every_request(signed) -> None:
    site, fake = signed
    html = await sign_in(site, fake, ALICE)
    a = await sub_id(site, GUILD_A)
    assert ids_in(html) == {str(a)}
    before = len([r for r in fake.requests if r.path == "/users/@me/guilds"])
    fake.oauth_users[ALICE]["guilds"][0]["permissions"] = str(VIEW)  # demoted on Discord
    _, html, _ = await site.get("/console/")
    assert not ids_in(html)
    async with site.session.post(
        site.url + f"/console/subscriptions/{a}/pause", data={"csrf": csrf_of(html), "lang": "en"}
    ) as response:
        assert response.status == 400
    assert len([r for r in fake.requests if r.path == "/users/@me/guilds"]) >= before + 2
    fake.oauth_tokens.clear()  # the token was revoked: signed out, asked to sign in again
    status, html, _ = await site.get("/console/")
    assert status == 401 and 'href="/auth/discord"' in html


async def test_forged_states_refused_and_sign_out(signed) -> None:
    site, fake = signed
    status, body, _ = await site.get("/auth/discord/callback?code=x&state=forged")
    assert status == 403 and "state" in body
    fake.oauth_login_as = ALICE
    async with site.session.get(site.url + "/auth/discord", allow_redirects=False) as response:
        assert response.status == 302
        authorize = response.headers["Location"]
        assert authorize.startswith(fake.base_url + "/oauth2/authorize?")
        assert f"redirect_uri={site.url}/auth/discord/callback" in unquote(authorize)
    async with site.session.get(authorize, allow_redirects=False) as response:
        callback = response.headers["Location"]
    forged = re.sub(r"state=[^&]+", "state=other", callback)
    async with site.session.get(forged, allow_redirects=False) as response:
        assert response.status == 403
    async with site.session.get(callback, allow_redirects=False) as response:
        assert response.status == 403  # the state was used up by the refused attempt
    html = await sign_in(site, fake, ALICE)
    async with site.session.post(
        site.url + "/auth/signout", data={"csrf": csrf_of(html)}
    ) as response:
        assert response.status == 200 and "Signed in as" not in await response.text()
    assert site.state.accounts == {}
    fake.oauth_login_as = None  # the user refuses on Discord's page
    async with site.session.get(site.url + "/auth/discord") as response:
        assert response.status == 403


async def test_sign_in_attempts_are_rate_limited(signed) -> None:
    site, _fake = signed
    site.state.logins = RateLimiter(limit=2, window=60.0)
    codes = []
    for _ in range(3):
        async with site.session.get(site.url + "/auth/discord", allow_redirects=False) as r:
            codes.append(r.status)
    assert codes == [302, 302, 429]
