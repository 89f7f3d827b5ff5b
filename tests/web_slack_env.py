"""A web site with "Sign in with Slack" against the fake Slack: two workspaces that installed
the bot (installations in the real encrypted store), one Slack subscription in each, and users
with every kind of right."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from slack_sdk.oauth.installation_store.models.installation import Installation

from bot.admin import CLI, SubscriptionSpec
from bot.slack.install import EncryptedInstallationStore, TokenCipher
from bot.web import WebServer
from bot.web.serve import make_state
from tests.fakes.slack_server import FakeSlack
from tests.web_env import Clock, Site, make_context

CLIENT_ID, CLIENT_SECRET = "1111.2222", "fake-client-secret"
TOKEN_KEY = "a long and random passphrase for tests"
TEAM_A, TEAM_B = "T0ALPHA", "T0BETA"
ALICE = "U0ALICE"  # admin of A
BOB = "U0BOB"  # plain member of B
CAROL = "U0CAROL"  # owner of B
DAVE = "U0DAVE"  # plain member of B, named in SLACK_ADMIN_USERS
GUEST = "U0GUEST"  # marked admin but a guest of A: never an admin


@pytest.fixture
async def slack_site(tmp_path: Path) -> AsyncIterator[tuple[Site, FakeSlack]]:
    async with FakeSlack(channel_rate=None) as fake:
        fake.add_team(TEAM_A, name="Alpha News")
        fake.add_team(TEAM_B, name="Beta Club")
        fake.add_user(ALICE, team_id=TEAM_A, real_name="Alice Martin", is_admin=True)
        fake.add_user(GUEST, team_id=TEAM_A, real_name="Guest", is_admin=True, is_restricted=True)
        fake.add_user(BOB, team_id=TEAM_B, real_name="Bob Durand")
        fake.add_user(CAROL, team_id=TEAM_B, real_name="Carol Petit", is_owner=True)
        fake.add_user(DAVE, team_id=TEAM_B, real_name="Dave Roux")
        context = make_context(
            tmp_path,
            Clock(),
            SLACK_CLIENT_ID=CLIENT_ID,
            SLACK_CLIENT_SECRET=CLIENT_SECRET,
            DEPECHE_TOKEN_KEY=TOKEN_KEY,
            SLACK_API_URL=fake.api_url,
            SLACK_OPENID_URL=fake.url + "/openid/connect/authorize",
            SLACK_ADMIN_USERS=DAVE,
            SLACK_MODE="http",
            SLACK_SIGNING_SECRET="fake-signing-secret",
        )
        installations = EncryptedInstallationStore(
            context.store.engine, client_id=CLIENT_ID, cipher=TokenCipher(TOKEN_KEY)
        )
        for team in (TEAM_A, TEAM_B):  # both workspaces installed the bot
            await installations.async_save(
                Installation(
                    app_id=fake.app_id,
                    team_id=team,
                    user_id=ALICE if team == TEAM_A else CAROL,
                    bot_token=fake.teams[team].bot_token,
                    bot_id=fake.teams[team].bot_id,
                    bot_user_id=fake.teams[team].bot_user_id,
                    bot_scopes="chat:write,users:read",
                )
            )
            await context.admin.subscribe(
                SubscriptionSpec(platform="slack", workspace_id=team, channel_id=f"C{team}"),
                CLI,
            )
        state = make_state(context, "127.0.0.1")
        assert state.slack_signin and not state.signin and not state.console
        server = await WebServer.start(state, host="127.0.0.1", port=0)
        fake.register_openid_app(CLIENT_ID, CLIENT_SECRET, server.url + "auth/slack/callback")
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
            yield Site(server, session, Clock(), context, {"installations": installations}), fake
        await server.stop()
        context.store.dispose()


async def sign_in(site: Site, fake: FakeSlack, team: str, user: str) -> str:
    fake.openid_login_as = (team, user)
    async with site.session.get(site.url + "/auth/slack") as response:
        assert response.status == 200, await response.text()
        assert response.url.path == "/console/"
        return await response.text()
