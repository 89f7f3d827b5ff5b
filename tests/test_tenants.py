"""Tenant isolation: an admin acts only on the channels of the server or workspace the request
comes from, whatever channel id the request names (docs/security.md). Regression: in server A,
`/digest-admin subscribe channel:<a channel of server B>` was accepted and send-now then posted
into server B.

The real discord.py client and the real Slack app run against the fake platforms, each holding
two tenants; which tenant a channel is in is asked of the (fake) platform."""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from bot.admin import Actor, ForeignChannel, SubscriptionSpec, Target
from bot.platforms import PlatformContext, build_context
from bot.settings import Settings, SlackSettings
from bot.slack import setup as setup_slack
from bot.slack.app import SlackBot
from bot.store import Subscription
from tests.discord_env import Env, discord_env
from tests.fakes.discord_server import (
    ANNOUNCES_CHANNEL_ID,
    OWNER_USER_ID,
    FakeDiscord,
    add_default_guild,
)
from tests.fakes.slack_server import (
    DEFAULT_APP_TOKEN,
    DEFAULT_BOT_TOKEN,
    DEFAULT_SIGNING_SECRET,
    DEFAULT_TEAM_ID,
    FakeSlack,
)
from tests.test_discord_commands import answer, text_of

OTHER_GUILD = 1300000000000000001
OTHER_CHANNEL = 1300000000000000011
LATE_GUILD = 1400000000000000001  # added after the bot connected: only REST knows it
LATE_CHANNEL = 1400000000000000011
FILE = Actor(via="file", where="file:config/subscriptions.toml", lang="en")

ACTIONS: list[tuple[str, dict[str, Any]]] = [
    ("subscribe", {"language": "en", "time": "08:00", "timezone": "UTC"}),
    ("unsubscribe", {}),
    ("pause", {}),
    ("resume", {}),
    ("status", {}),
    ("send-now", {}),
]


async def planted(context: PlatformContext, platform: str, workspace: str, channel: str) -> int:
    info, _created = await context.admin.subscribe(
        SubscriptionSpec(
            platform=platform,
            workspace_id=workspace,
            channel_id=channel,
            lang="en",
            post_time="08:00",
            timezone="UTC",
        ),
        FILE,
    )
    with context.store.session() as session, session.begin():
        row = session.get(Subscription, info.id)
        assert row is not None
        row.managed_by = "chat"  # as if an admin had created it from chat
    return info.id


def row_state(context: PlatformContext, subscription_id: int) -> tuple[bool, str] | None:
    with context.store.session() as session:
        row = session.get(Subscription, subscription_id)
        return None if row is None else (row.active, row.post_time)


# ------------------------------------------------------------------------------------ Discord


@pytest.fixture
async def discord(tmp_path: Path) -> AsyncIterator[Env]:
    fake = FakeDiscord()
    add_default_guild(fake)
    fake.add_guild(
        OTHER_GUILD,
        "Autre serveur",
        channels=[{"id": OTHER_CHANNEL, "name": "secret"}],
        owner_id=OWNER_USER_ID,
    )
    await fake.start()
    try:
        async with discord_env(tmp_path, fake=fake) as env:
            yield env
    finally:
        await fake.close()


@pytest.mark.parametrize(("action", "options"), ACTIONS)
async def test_discord_admin_cannot_reach_another_servers_channel(
    discord: Env, action: str, options: dict[str, Any]
) -> None:
    context = discord.context
    planted_id = await planted(context, "discord", str(ANNOUNCES_CHANNEL_ID), str(OTHER_CHANNEL))
    before = row_state(context, planted_id)
    interaction = await discord.fake.dispatch_command(
        f"digest-admin {action}",
        {"channel": OTHER_CHANNEL, **options},
        locale="en-US",
        user_id=OWNER_USER_ID,
    )
    text = text_of(await answer(interaction, followup=True))
    assert "Unknown channel" in text and "not a channel of this server" in text, text
    assert discord.fake.messages(OTHER_CHANNEL) == []
    assert row_state(context, planted_id) == before
    with context.store.session() as session:
        foreign = [
            row
            for row in session.query(Subscription)
            if row.channel_id == str(OTHER_CHANNEL) and row.id != planted_id
        ]
    assert foreign == []


async def test_discord_the_same_commands_work_on_own_channels(discord: Env) -> None:
    """The control: the check lets the server's own channels through."""
    for action, options in ACTIONS:
        interaction = await discord.fake.dispatch_command(
            f"digest-admin {action}",
            {"channel": ANNOUNCES_CHANNEL_ID, **options},
            locale="en-US",
            user_id=OWNER_USER_ID,
        )
        text = text_of(await answer(interaction, followup=True))
        assert "Unknown channel" not in text, (action, text)
        if action == "unsubscribe":
            await discord.fake.dispatch_command(
                "digest-admin subscribe",
                {"channel": ANNOUNCES_CHANNEL_ID, **ACTIONS[0][1]},
                locale="en-US",
                user_id=OWNER_USER_ID,
            )


async def test_discord_channel_outside_the_cache_is_checked_with_rest(discord: Env) -> None:
    discord.fake.add_guild(LATE_GUILD, "Late", channels=[{"id": LATE_CHANNEL, "name": "late"}])
    assert discord.client.get_channel(LATE_CHANNEL) is None  # not in the gateway cache
    admin = discord.context.admin
    chat = Actor(user_id=str(OWNER_USER_ID), via="chat", lang="en")
    with pytest.raises(ForeignChannel):
        await admin.preview(Target("discord", str(ANNOUNCES_CHANNEL_ID), str(LATE_CHANNEL)), chat)
    assert any(r.path == f"/channels/{LATE_CHANNEL}" for r in discord.fake.requests)
    # the server that owns it may use it
    await admin.check_tenant("discord", str(LATE_GUILD), str(LATE_CHANNEL), chat)


async def test_discord_preview_of_a_foreign_channel_is_refused(discord: Env) -> None:
    chat = Actor(user_id=str(OWNER_USER_ID), via="chat", lang="fr")
    target = Target("discord", str(ANNOUNCES_CHANNEL_ID), str(OTHER_CHANNEL))
    await planted(discord.context, "discord", str(ANNOUNCES_CHANNEL_ID), str(OTHER_CHANNEL))
    with pytest.raises(ForeignChannel, match="Canal inconnu"):
        await discord.context.admin.preview(target, chat)


# ------------------------------------------------------------------------------------ Slack

OTHER_TEAM = "T0OTHER001"
THEIR_ADMIN = "U0THEIRADM"
OUR_ADMIN = "U0OURADMIN"
NEWS = "C0NEWS0001"
THEIRS = "C0THEIRS01"


@contextlib.asynccontextmanager
async def slack_world(tmp_path: Path) -> AsyncIterator[tuple[FakeSlack, SlackBot, PlatformContext]]:
    async with FakeSlack(channel_rate=None, strict_channels=True) as fake:
        fake.add_team(OTHER_TEAM)
        fake.add_user(OUR_ADMIN, is_admin=True)
        fake.add_user(THEIR_ADMIN, team_id=OTHER_TEAM, is_admin=True)
        fake.add_channel(NEWS, name="news")
        fake.add_channel(THEIRS, team_id=OTHER_TEAM, name="secret")
        settings = Settings(
            database_url=f"sqlite:///{tmp_path / 'tenants.sqlite3'}",
            stories_dir=tmp_path / "no-stories",
            slack=SlackSettings(
                bot_token=SecretStr(DEFAULT_BOT_TOKEN),
                app_token=SecretStr(DEFAULT_APP_TOKEN),
                signing_secret=SecretStr(DEFAULT_SIGNING_SECRET),
                api_url=fake.api_url,
                admin_users=(THEIR_ADMIN,),
            ),
        )
        context = build_context(settings, clock=lambda: dt.datetime(2023, 11, 18, 9, tzinfo=dt.UTC))
        bot = setup_slack(context)
        try:
            yield fake, bot, context
        finally:
            await bot.clients.close()
            context.store.dispose()


async def slack_digest(bot: SlackBot, fake: FakeSlack, text: str, **fields: Any) -> str:
    replies: list[str] = []

    async def respond(*, text: str, blocks: list[dict[str, Any]], response_type: str) -> None:
        replies.append(text)

    body = fake.slash_command("/digest", text, **fields)
    await bot.commands._serve(body, respond, bot.commands.digest, anywhere=None)
    return "\n".join(replies)


SLACK_ACTIONS = ["subscribe {ch} en 08:00 UTC", "unsubscribe {ch}", "pause {ch}", "resume {ch}",
                 "status {ch}", "send-now {ch}"]  # fmt: skip


@pytest.mark.parametrize("command", SLACK_ACTIONS)
async def test_slack_workspace_cannot_reach_a_channel_of_another_workspace(
    tmp_path: Path, command: str
) -> None:
    """A request from workspace T2 names a channel of T1 that the bot's token can see: Slack
    places it in T1, so it is refused — the workspace is never taken from the request."""
    async with slack_world(tmp_path) as (fake, bot, context):
        planted_id = await planted(context, "slack", OTHER_TEAM, NEWS)
        before = row_state(context, planted_id)
        text = await slack_digest(
            bot,
            fake,
            command.format(ch=f"<#{NEWS}|news>"),
            team_id=OTHER_TEAM,
            user_id=THEIR_ADMIN,
            channel_id=THEIRS,
        )
        assert "Unknown channel" in text and "not a channel of this server" in text, text
        # Slack did answer: the channel is visible, and placed in our default workspace
        seen = [c.response for c in fake.calls_to("conversations.info")]
        assert seen and all(
            r and r.get("ok") and r["channel"]["context_team_id"] == DEFAULT_TEAM_ID for r in seen
        ), seen
        assert fake.messages(NEWS) == []
        assert row_state(context, planted_id) == before
        with context.store.session() as session:
            assert session.query(Subscription).count() == 1


@pytest.mark.parametrize("command", SLACK_ACTIONS)
async def test_slack_channel_invisible_to_the_workspace_is_refused(
    tmp_path: Path, command: str
) -> None:
    async with slack_world(tmp_path) as (fake, bot, context):
        text = await slack_digest(
            bot, fake, command.format(ch=f"<#{THEIRS}|secret>"), user_id=OUR_ADMIN, channel_id=NEWS
        )
        assert "Unknown channel" in text, text
        assert fake.messages(THEIRS) == []
        with context.store.session() as session:
            assert session.query(Subscription).count() == 0


async def test_slack_own_channel_is_accepted_and_preview_of_a_foreign_one_refused(
    tmp_path: Path,
) -> None:
    async with slack_world(tmp_path) as (fake, bot, context):
        text = await slack_digest(
            bot, fake, f"subscribe <#{NEWS}|news> en 08:00 UTC", user_id=OUR_ADMIN, channel_id=NEWS
        )
        assert "Unknown channel" not in text and "08:00" in text, text
        chat = Actor(user_id=THEIR_ADMIN, via="chat", lang="en")
        with pytest.raises(ForeignChannel):
            await context.admin.preview(Target("slack", OTHER_TEAM, NEWS), chat)
        await context.admin.preview(Target("slack", DEFAULT_TEAM_ID, NEWS), chat)
