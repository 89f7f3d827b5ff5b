"""Creating a subscription from the console when signed in: the channel picker lists the
channels the platform gives for each server or workspace the user manages (Discord
GET /guilds/{id}/channels, Slack conversations.list, with the bot's token); the chosen channel is
checked again against the platform's list, so a tampered form cannot reach another tenant."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from html import unescape
from pathlib import Path

import aiohttp
import pytest

from bot.web import WebServer, WebState
from tests.fakes.discord_server import FakeDiscord
from tests.web_env import Clock, Site, make_context
from tests.web_slack_env import ALICE, TEAM_A, TEAM_B, sign_in

MANAGE_GUILD, VIEW = 1 << 5, 1 << 10
ALICE_D = 501
GUILD_A, GUILD_B = 100, 200


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([0-9a-f]{64})"', html)
    assert found
    return found.group(1)


def form(token: str, target: str) -> dict[str, str]:
    return {
        "csrf": token,
        "lang": "en",
        "target": target,
        "sub_lang": "en",
        "time": "07:30",
        "timezone": "Europe/Paris",
        "mode": "live",
        "start": "",
        "story": "openai-crisis-2023",
    }


async def post(site: Site, data: dict[str, str]) -> tuple[int, str, str]:
    async with site.session.post(
        site.url + "/console/subscriptions", data=data, allow_redirects=False
    ) as r:
        return r.status, await r.text(), r.headers.get("Location", "")


async def test_slack_admin_picks_a_channel_of_their_workspace_only(slack_site) -> None:
    site, fake = slack_site
    fake.add_channel("C0ANEWS", team_id=TEAM_A, name="news")
    fake.add_channel("C0ASECRET", team_id=TEAM_A, name="secret", is_private=True, is_member=False)
    fake.add_channel("C0BNEWS", team_id=TEAM_B, name="beta-news")
    html = await sign_in(site, fake, TEAM_A, ALICE)
    assert f'value="slack:{TEAM_A}:C0ANEWS"' in html and "#news" in html
    assert "C0ASECRET" not in html  # a private channel the bot is not in
    assert "C0BNEWS" not in html and "beta-news" not in html
    token = csrf_of(html)
    lists = [call.team_id for call in fake.calls_to("conversations.list")]
    assert lists and set(lists) == {TEAM_A}

    # Tampered forms: another workspace, or another workspace's channel under ours.
    for target in (f"slack:{TEAM_B}:C0BNEWS", f"slack:{TEAM_A}:C0BNEWS", "console::console"):
        status, body, _ = await post(site, form(token, target))
        assert status == 400, target
        assert "Not a channel of your servers or workspaces that the bot can see." in unescape(body)
    assert not await site.context.admin.list(
        platform="slack", workspace_id=TEAM_A, channel_id="C0BNEWS"
    )  # type: ignore[call-arg]

    status, _, location = await post(site, form(token, f"slack:{TEAM_A}:C0ANEWS"))
    assert status == 303 and location == "/console/?lang=en&done=created"
    [info] = [
        i
        for i in await site.context.admin.list(platform="slack", workspace_id=TEAM_A)
        if i.channel_id == "C0ANEWS"
    ]
    assert info.lang == "en" and info.post_time == "07:30" and info.mode == "live"
    _, html, _ = await site.get(location)
    assert f'id="subscription-{info.id}"' in html and "Subscription saved." in html
    row = html[html.index(f'id="subscription-{info.id}"') :]
    assert row.split("</td>")[1].strip().startswith("<td>Alpha News #news")  # named, not an id
    status, html, _ = await site.get(f"/console/subscriptions/{info.id}/preview?lang=en")
    assert status == 200 and "Preview of subscription" in html


@pytest.fixture
async def discord_site(tmp_path: Path) -> AsyncIterator[tuple[Site, FakeDiscord]]:
    fake = await FakeDiscord().start()
    fake.add_guild(
        GUILD_A,
        "Server A",
        channels=[{"id": 11, "name": "news"}, {"id": 12, "name": "talk", "type": 2}],
    )
    fake.add_guild(GUILD_B, "Server B", channels=[{"id": 22, "name": "b-news"}])
    fake.add_oauth_user(
        ALICE_D,
        "alice",
        [(GUILD_A, "Server A", MANAGE_GUILD, False), (GUILD_B, "Server B", VIEW, False)],
    )
    client_id, secret = fake.oauth_client
    context = make_context(
        tmp_path,
        Clock(),
        DISCORD_TOKEN=fake.token,
        DISCORD_CLIENT_ID=client_id,
        DISCORD_CLIENT_SECRET=secret,
        DISCORD_API_URL=fake.base_url + "/api/v10",
        DISCORD_OAUTH_URL=fake.base_url + "/oauth2/authorize",
    )
    server = await WebServer.start(WebState(context, signin=True), host="127.0.0.1", port=0)
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
        yield Site(server, session, Clock(), context), fake
    await server.stop()
    await fake.close()
    context.store.dispose()


async def test_discord_admin_picks_a_text_channel_of_a_server_they_manage(discord_site) -> None:
    site, fake = discord_site
    fake.oauth_login_as = ALICE_D
    async with site.session.get(site.url + "/auth/discord") as response:
        html = await response.text()
    assert f'value="discord:{GUILD_A}:11"' in html and "#news" in html
    assert ":12" not in html  # a voice channel takes no posts
    assert "b-news" not in html
    token = csrf_of(html)
    status, _, _ = await post(site, form(token, f"discord:{GUILD_B}:22"))
    assert status == 400
    status, _, _ = await post(site, form(token, f"discord:{GUILD_A}:22"))
    assert status == 400
    status, _, _ = await post(site, form(token, f"discord:{GUILD_A}:11"))
    assert status == 303
    [info] = await site.context.admin.list(platform="discord", workspace_id=str(GUILD_A))
    assert info.channel_id == "11"
    assert not await site.context.admin.list(platform="discord", workspace_id=str(GUILD_B))
