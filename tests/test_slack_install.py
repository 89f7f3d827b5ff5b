"""Slack installed in many workspaces: the "Add to Slack" OAuth flow through the real Bolt code
against the fake Slack, tokens encrypted at rest, each workspace served with its own token only,
and uninstalls and revoked tokens handled."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import aiohttp
import pytest
import pytest_asyncio
from sqlalchemy import MetaData, select

from bot.admin import CLI, AdminService, SubscriptionSpec
from bot.delivery import DeliveryWorker
from bot.publishing import PublisherRegistry
from bot.settings import SettingsError, SlackSettings, check_slack_install
from bot.slack.app import SlackBot
from bot.slack.install import BOTS_TABLE, INSTALLATIONS_TABLE, TokenCipher, TokenKeyError
from bot.store import Store
from digests.story import StoryLibrary
from tests.fakes.slack_fixtures import serve_web_app
from tests.fakes.slack_server import DEFAULT_SIGNING_SECRET, FakeSlack, sign_request

CLIENT_ID = "1111.2222"
CLIENT_SECRET = "fake-client-secret"
TOKEN_KEY = "a long and random passphrase for tests"
ALPHA, BETA = "T0ALPHA", "T0BETA"
ADMIN = "U0ADMIN"
SECRET_COLUMNS = ("bot_token", "bot_refresh_token", "user_token", "user_refresh_token")


@dataclass
class Multi:
    fake: FakeSlack
    bot: SlackBot
    store: Store
    admin: AdminService
    base: str
    http: aiohttp.ClientSession

    async def install(self, team_id: str) -> aiohttp.ClientResponse:
        """A workspace admin clicks "Add to Slack", approves, and Slack sends them back."""
        async with self.http.get(self.base + "/slack/install", allow_redirects=False) as start:
            assert start.status == 302, await start.text()
            authorize = start.headers["Location"]
            # Bolt's state cookie is Secure; a browser keeps it for http://127.0.0.1 (a secure
            # context), aiohttp's cookie jar does not: carry it by hand, as the browser would.
            cookie = "; ".join(f"{k}={m.value}" for k, m in start.cookies.items())
        assert authorize.startswith(self.fake.url + "/oauth/v2/authorize?")
        query = parse_qs(urlsplit(authorize).query)
        assert query["client_id"] == [CLIENT_ID] and "chat:write" in query["scope"][0]
        async with self.http.get(
            authorize + f"&team={team_id}&user={ADMIN}", allow_redirects=False
        ) as approved:
            assert approved.status == 302, await approved.text()
            back = approved.headers["Location"]
        async with self.http.get(back, allow_redirects=False, headers={"Cookie": cookie}) as done:
            await done.read()
            return done

    def stored_tokens(self, *, every_column: bool = False) -> list[str]:
        metadata = MetaData()
        metadata.reflect(self.store.engine, only=[INSTALLATIONS_TABLE, BOTS_TABLE])
        values = []
        with self.store.engine.connect() as connection:
            for name in (INSTALLATIONS_TABLE, BOTS_TABLE):
                table = metadata.tables[name]
                for row in connection.execute(select(table)):
                    columns = row._mapping.keys() if every_column else SECRET_COLUMNS
                    values += [str(row._mapping[k]) for k in columns if row._mapping.get(k)]
        return values

    async def event(self, team_id: str, event: dict[str, Any]) -> int:
        body = json.dumps(self.fake.event_callback(event, team_id=team_id))
        headers = sign_request(DEFAULT_SIGNING_SECRET, body, content_type="application/json")
        async with self.http.post(self.base + "/slack/events", data=body, headers=headers) as res:
            return res.status


@pytest_asyncio.fixture
async def multi(tmp_path: Any) -> AsyncIterator[Multi]:
    async with FakeSlack(channel_rate=None) as fake:
        for team in (ALPHA, BETA):
            fake.add_team(team)
            fake.add_user(f"U{team}", team_id=team, is_admin=True, locale="en-US")
        fake.add_channel("C0ALPHA", team_id=ALPHA, name="news")
        fake.add_channel("C0BETA", team_id=BETA, name="news")
        store = Store.open(f"sqlite:///{tmp_path / 'bot.sqlite3'}")
        library = StoryLibrary.load(None)
        registry = PublisherRegistry()
        admin = AdminService(
            store, library, publishers=registry, worker=DeliveryWorker(store, library, registry)
        )
        bot = SlackBot(
            settings=SlackSettings(
                signing_secret=DEFAULT_SIGNING_SECRET,  # type: ignore[arg-type]
                api_url=fake.api_url,
                mode="http",
                client_id=CLIENT_ID,
                client_secret=CLIENT_SECRET,  # type: ignore[arg-type]
                token_key=TOKEN_KEY,  # type: ignore[arg-type]
            ),
            admin=admin,
            library=library,
            store=store,
        )
        registry.register(bot.publisher)
        await bot.check_bot_token()
        try:
            async with (
                serve_web_app(bot.web_app()) as base,
                aiohttp.ClientSession() as http,
            ):
                fake.register_oauth_app(CLIENT_ID, CLIENT_SECRET, base + "/slack/oauth_redirect")
                yield Multi(fake, bot, store, admin, base, http)
        finally:
            await bot.clients.close()
            store.dispose()


def test_the_token_cipher_refuses_a_wrong_key_and_plain_text() -> None:
    sealed = TokenCipher(TOKEN_KEY).encrypt("xoxb-secret")
    assert "xoxb-secret" not in sealed
    assert TokenCipher(TOKEN_KEY).decrypt(sealed) == "xoxb-secret"
    with pytest.raises(TokenKeyError, match="DEPECHE_TOKEN_KEY does not decrypt"):
        TokenCipher("another key, just as long").decrypt(sealed)
    with pytest.raises(TokenKeyError, match="not encrypted"):
        TokenCipher(TOKEN_KEY).decrypt("xoxb-secret")


@pytest.mark.parametrize(
    ("fields", "mode", "message"),
    [
        ({"client_id": CLIENT_ID}, "http", "SLACK_CLIENT_SECRET is not set"),
        ({"client_secret": CLIENT_SECRET}, "http", "SLACK_CLIENT_ID is not set"),
        ({"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}, "socket", "SLACK_MODE=http"),
        ({"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}, "http", "DEPECHE_TOKEN_KEY"),
        (
            {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "token_key": "short"},
            "http",
            "DEPECHE_TOKEN_KEY",
        ),
    ],
)
def test_install_settings_are_checked_together(
    fields: dict[str, str], mode: str, message: str
) -> None:
    with pytest.raises(SettingsError, match=message):
        check_slack_install(SlackSettings(**fields), mode)  # type: ignore[arg-type]


async def test_add_to_slack_installs_each_workspace_with_its_own_encrypted_token(
    multi: Multi,
) -> None:
    fake = multi.fake
    assert (await multi.install(ALPHA)).status == 200
    assert (await multi.install(BETA)).status == 200
    # oauth.v2.access was called with the app's credentials, once per workspace
    assert len(fake.calls_to("oauth.v2.access")) == 2
    # at rest: no token in clear, every stored token encrypted
    stored = multi.stored_tokens()
    assert stored and all(value.startswith(TokenCipher.PREFIX) for value in stored)
    everything = multi.stored_tokens(every_column=True)
    for team in (ALPHA, BETA):
        assert not any(fake.teams[team].bot_token in value for value in everything)
    assert multi.bot.clients.tokens == {
        ALPHA: fake.teams[ALPHA].bot_token,
        BETA: fake.teams[BETA].bot_token,
    }

    # a command from each workspace is answered with that workspace's token
    for team in (ALPHA, BETA):
        request = fake.signed_slash_command(
            DEFAULT_SIGNING_SECRET, "/who", "Sam Altman", team_id=team, user_id=f"U{team}"
        )
        async with multi.http.post(
            multi.base + "/slack/events", data=request.body, headers=request.headers
        ) as res:
            assert res.status == 200
        reply = await fake.next_response(timeout=30)
        assert "Altman" in json.dumps([reply.text, reply.blocks])

    # posting into a workspace's channel uses that workspace's token, never another's
    for team, channel in ((ALPHA, "C0ALPHA"), (BETA, "C0BETA")):
        assert await multi.bot.validate_channel(team, channel)
    checks = [c for c in fake.calls if c.method in ("conversations.info", "conversations.join")]
    assert checks and all(
        c.team_id == (ALPHA if c.params.get("channel") == "C0ALPHA" else BETA) for c in checks
    )


async def test_a_refused_state_installs_nothing(multi: Multi) -> None:
    async with multi.http.get(
        multi.base + "/slack/oauth_redirect?code=whatever&state=forged", allow_redirects=False
    ) as res:
        assert res.status >= 400
    assert multi.fake.calls_to("oauth.v2.access") == []
    assert multi.bot.clients.tokens == {}


async def test_uninstall_and_revoked_tokens_remove_the_workspace_and_pause_it(
    multi: Multi,
) -> None:
    fake, admin = multi.fake, multi.admin
    for team in (ALPHA, BETA):
        await multi.install(team)
    for team, channel in ((ALPHA, "C0ALPHA"), (BETA, "C0BETA")):
        await admin.subscribe(
            SubscriptionSpec(
                platform="slack", workspace_id=team, channel_id=channel, lang="en", timezone="UTC"
            ),
            actor=CLI,
        )
    fake.revoke_team_token(BETA)
    assert await multi.event(BETA, {"type": "app_uninstalled"}) == 200
    await _until_paused(admin, BETA)
    beta = await admin.list(platform="slack", workspace_id=BETA)
    assert [info.active for info in beta] == [False]
    assert "uninstalled" in (beta[0].paused_reason or "")
    # the other workspace is untouched
    alpha = await admin.list(platform="slack", workspace_id=ALPHA)
    assert [info.active for info in alpha] == [True]
    assert multi.bot.clients.tokens == {ALPHA: fake.teams[ALPHA].bot_token}
    # BETA's channel now gets no token at all (never ALPHA's)
    assert multi.bot.clients.for_team(BETA).token is None

    # tokens_revoked for the bot: the same, for ALPHA
    assert (
        await multi.event(
            ALPHA,
            {"type": "tokens_revoked", "tokens": {"oauth": [], "bot": [f"U{ALPHA[1:]}BOT"]}},
        )
        == 200
    )
    await _until_paused(admin, ALPHA)
    assert multi.bot.clients.tokens == {}
    assert multi.stored_tokens() == []


async def _until_paused(admin: AdminService, team: str) -> None:
    """Bolt acknowledges an event before its listener runs: wait for the listener's effect."""
    for _ in range(600):
        infos = await admin.list(platform="slack", workspace_id=team)
        if infos and not any(info.active for info in infos):
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{team}'s subscriptions were never paused")
