"""Sign in with Slack (OpenID Connect) against the fake Slack: across two workspaces, a user sees
and changes only the workspace where they may manage the bot (workspace admin or owner, asked
with the installation's bot token on every request, or a named admin); URL tampering, non-admins,
revoked rights, an uninstalled bot, forged states and refused codes are all handled."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import aiohttp

from bot.web import WebServer, WebState
from tests.web_env import Clock, Site, make_context
from tests.web_slack_env import (
    ALICE,
    BOB,
    CAROL,
    CLIENT_ID,
    CLIENT_SECRET,
    DAVE,
    GUEST,
    TEAM_A,
    TEAM_B,
    sign_in,
)


def ids_in(html: str) -> set[str]:
    return set(re.findall(r'id="subscription-(\d+)"', html))


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([0-9a-f]{64})"', html)
    assert found
    return found.group(1)


async def sub_of(site: Site, team: str) -> int:
    [info] = await site.context.admin.list(platform="slack", workspace_id=team)
    return info.id


async def post(site: Site, path: str, data: dict[str, str]) -> tuple[int, str]:
    async with site.session.post(site.url + path, data=data) as response:
        return response.status, await response.text()


async def test_an_admin_of_one_workspace_cannot_see_or_change_the_other(slack_site) -> None:
    site, fake = slack_site
    status, html, _ = await site.get("/console/")
    assert status == 200 and 'href="/auth/slack"' in html and 'href="/auth/discord"' not in html
    assert "Sign in with Slack" in html and not ids_in(html)

    html = await sign_in(site, fake, TEAM_A, ALICE)
    a, b = await sub_of(site, TEAM_A), await sub_of(site, TEAM_B)
    assert "Signed in as Alice Martin" in html and ids_in(html) == {str(a)}
    assert "Alpha News" in html and "Beta Club" not in html
    assert '/console/subscriptions"' not in html  # members create subscriptions from chat
    token = csrf_of(html)

    # Tampering with the URL: B's subscription is answered exactly as a missing one.
    for action in ("pause", "unsubscribe", "send-now"):
        status, body = await post(
            site, f"/console/subscriptions/{b}/{action}", {"csrf": token, "lang": "en"}
        )
        assert status == 400 and f"No subscription #{b}." in body
    status, html, _ = await site.get(f"/console/subscriptions/{b}/preview")
    assert status == 404 and "Preview of subscription" not in html
    status, _ = await post(site, f"/console/subscriptions/{a}/pause", {"csrf": token, "lang": "en"})
    assert status == 200
    infos = {info.id: info for info in await site.context.admin.list()}
    assert not infos[a].active and infos[b].active
    assert infos[a].paused_reason == f"paused by {ALICE}"
    # Rights were asked with A's bot token, never B's.
    lookups = fake.calls_to("users.info")
    assert lookups and {call.team_id for call in lookups} == {TEAM_A}


async def test_non_admins_are_refused_and_named_admins_allowed(slack_site) -> None:
    site, fake = slack_site
    b = await sub_of(site, TEAM_B)
    html = await sign_in(site, fake, TEAM_B, BOB)
    assert "Signed in as Bob Durand" in html and not ids_in(html)
    status, body = await post(
        site, f"/console/subscriptions/{b}/pause", {"csrf": csrf_of(html), "lang": "en"}
    )
    assert status == 400 and f"No subscription #{b}." in body
    assert (await site.context.admin.list(platform="slack", workspace_id=TEAM_B))[0].active

    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as other:
        guest = Site(site.server, other, site.clock, site.context)
        assert not ids_in(await sign_in(guest, fake, TEAM_A, GUEST))  # guests never manage
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as other:
        dave = Site(site.server, other, site.clock, site.context)
        assert ids_in(await sign_in(dave, fake, TEAM_B, DAVE)) == {str(b)}  # named admin


async def test_revoked_rights_and_uninstalls_take_effect_on_the_next_request(slack_site) -> None:
    site, fake = slack_site
    b = await sub_of(site, TEAM_B)
    html = await sign_in(site, fake, TEAM_B, CAROL)
    assert ids_in(html) == {str(b)}
    token = csrf_of(html)
    before = len(fake.calls_to("users.info"))
    fake.users[CAROL].is_owner = False  # demoted in Slack
    fake.users[CAROL].is_primary_owner = False
    _, html, _ = await site.get("/console/")
    assert not ids_in(html)
    status, _ = await post(site, f"/console/subscriptions/{b}/pause", {"csrf": token, "lang": "en"})
    assert status == 400
    assert len(fake.calls_to("users.info")) >= before + 2  # asked on every request
    fake.users[CAROL].is_admin = True  # promoted again
    _, html, _ = await site.get("/console/")
    assert ids_in(html) == {str(b)}
    # The workspace uninstalls the bot: nobody manages it from the console any more.
    await site.extra["installations"].async_delete_all(enterprise_id=None, team_id=TEAM_B)
    _, html, _ = await site.get("/console/")
    assert not ids_in(html) and "Signed in as Carol Petit" in html


async def test_forged_states_cancelled_and_refused_codes(slack_site) -> None:
    site, fake = slack_site
    status, body, _ = await site.get("/auth/slack/callback?code=x&state=forged")
    assert status == 403 and "state" in body
    async with site.session.get(site.url + "/auth/slack", allow_redirects=False) as response:
        assert response.status == 302
        authorize = response.headers["Location"]
    query = parse_qs(urlsplit(authorize).query)
    assert authorize.startswith(fake.url + "/openid/connect/authorize?")
    assert query["scope"] == ["openid profile"] and query["client_id"] == [CLIENT_ID]
    assert query["nonce"][0] and query["state"][0] != query["nonce"][0]
    assert unquote(query["redirect_uri"][0]) == site.url + "/auth/slack/callback"
    async with site.session.get(authorize, allow_redirects=False) as response:
        callback = response.headers["Location"]
    forged = re.sub(r"state=[^&]+", "state=other", callback)
    async with site.session.get(forged, allow_redirects=False) as response:
        assert response.status == 403
    async with site.session.get(callback, allow_redirects=False) as response:
        assert response.status == 403  # the state was used up by the refused attempt
    assert site.state.accounts == {}

    fake.openid_login_as = None  # the user cancels on Slack's page
    async with site.session.get(site.url + "/auth/slack") as response:
        assert response.status == 403 and "cancelled" in await response.text()

    fake.oauth_clients[CLIENT_ID] = "rotated-secret"  # our secret is no longer Slack's
    fake.openid_login_as = (TEAM_A, ALICE)
    async with site.session.get(site.url + "/auth/slack") as response:
        text = await response.text()
        assert response.status == 502 and "bad_client_secret" in text
        assert CLIENT_SECRET not in text and "Traceback" not in text
    assert site.state.accounts == {}


async def test_the_fake_openid_endpoints_behave_like_slack(slack_site) -> None:
    site, fake = slack_site
    redirect = site.url + "/auth/slack/callback"
    async with aiohttp.ClientSession() as http:
        base = fake.url + "/openid/connect/authorize"
        async with http.get(base, params={"client_id": "nope"}, allow_redirects=False) as r:
            assert r.status == 400 and await r.text() == "invalid_client_id"
        params = {"client_id": CLIENT_ID, "response_type": "code", "redirect_uri": "https://x"}
        async with http.get(base, params={**params, "scope": "openid"}) as r:
            assert r.status == 400 and await r.text() == "bad_redirect_uri"
        params["redirect_uri"] = redirect
        async with http.get(
            base, params={**params, "scope": "profile"}, allow_redirects=False
        ) as r:
            assert "error=invalid_scope" in r.headers["Location"]
        async with http.get(
            base, params={**params, "scope": "openid", "state": "s"}, allow_redirects=False
        ) as r:
            code = parse_qs(urlsplit(r.headers["Location"]).query)["code"][0]
        token_url = fake.api_url + "openid.connect.token"
        form = {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "code": code}
        async with http.post(token_url, data={**form, "redirect_uri": "https://x"}) as r:
            assert (await r.json())["error"] == "bad_redirect_uri"  # and the code is used up
        async with http.post(token_url, data={**form, "redirect_uri": redirect}) as r:
            assert (await r.json())["error"] == "invalid_code"
        info_url = fake.api_url + "openid.connect.userInfo"
        async with http.post(info_url) as r:
            assert (await r.json())["error"] == "not_authed"
        async with http.post(info_url, headers={"Authorization": "Bearer xoxp-nope"}) as r:
            assert (await r.json())["error"] == "invalid_auth"


async def test_no_slack_sign_in_without_its_credentials(tmp_path: Path) -> None:
    context = make_context(tmp_path, Clock())
    assert context.settings.slack_signin is None
    server = await WebServer.start(WebState(context, console=False), host="127.0.0.1", port=0)
    try:
        async with (
            aiohttp.ClientSession() as session,
            session.get(server.url + "auth/slack") as response,
        ):
            assert response.status == 404
    finally:
        await server.stop()
        context.store.dispose()
