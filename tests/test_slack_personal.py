"""/digest me on Slack: the real Bolt app over Socket Mode against the fake Slack. The DM comes
from conversations.open, the defaults from users.info (time zone, locale); a member who left
pauses their subscription once; DMs to many members stay within Slack's limits."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from typing import Any

import pytest_asyncio
from sqlalchemy import select

from bot.admin import Actor, AdminService
from bot.delivery import DeliveryWorker
from bot.publishing import PublisherRegistry
from bot.schedule import tick
from bot.settings import SlackSettings
from bot.slack.app import SlackBot
from bot.store import Delivery, Store
from bot.subscriptions.personal import PersonalRequest, PersonalSubscriptions
from digests.story import StoryLibrary
from tests.fakes.slack_server import (
    DEFAULT_APP_TOKEN,
    DEFAULT_BOT_TOKEN,
    DEFAULT_SIGNING_SECRET,
    DEFAULT_TEAM_ID,
    FakeSlack,
)
from tests.test_slack_app import World, command, shown, socket_mode

NOW = dt.datetime(2023, 11, 18, 9, 0, tzinfo=dt.UTC)  # a Saturday of the story
ANNE = "U0ANNE"  # French, in Paris
BOB = "U0BOB"  # English, in New York


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> dt.datetime:
        return self.now


@pytest_asyncio.fixture
async def world(tmp_path: Any) -> AsyncIterator[World]:
    # Slack: about 1 message/s per channel "with short bursts allowed", and a workspace-wide
    # limit (unpublished; 10/s with bursts here, as in test_slack_e2e).
    async with FakeSlack(
        channel_rate=1.0, channel_burst=2.0, workspace_rate=10.0, workspace_burst=5.0
    ) as fake:
        fake.add_user(ANNE, locale="fr-FR", tz="Europe/Paris")
        fake.add_user(BOB, locale="en-US", tz="America/New_York", tz_offset=-18000)
        store = Store.open(f"sqlite:///{tmp_path / 'bot.sqlite3'}")
        library = StoryLibrary.load(None)
        registry = PublisherRegistry()
        clock = Clock()
        worker = DeliveryWorker(store, library, registry, clock=clock)
        admin = AdminService(store, library, publishers=registry, worker=worker, clock=clock)
        bot = SlackBot(
            settings=SlackSettings(
                bot_token=DEFAULT_BOT_TOKEN,  # type: ignore[arg-type]
                app_token=DEFAULT_APP_TOKEN,  # type: ignore[arg-type]
                signing_secret=DEFAULT_SIGNING_SECRET,  # type: ignore[arg-type]
                api_url=fake.api_url,
            ),
            admin=admin,
            library=library,
            store=store,
        )
        registry.register(bot.publisher)
        try:
            yield World(fake, bot, store, admin)
        finally:
            await bot.clients.close()
            store.dispose()


async def deliver(world: World, when: dt.datetime) -> None:
    world.admin.clock.now = when  # type: ignore[attr-defined]
    tick(world.store, world.admin.library, when)
    await world.admin.worker.run_until_idle(when)


async def test_digest_me_uses_the_members_time_zone_and_language(world: World) -> None:
    async with socket_mode(world):
        anne = await command(world, "/digest", "me", user_id=ANNE)
        assert "Abonnement créé" in shown(anne), shown(anne)
        assert "tous les jours à 08:00 (Europe/Paris), en français" in shown(anne)
        bob = await command(world, "/digest", "me 7h", user_id=BOB)
        assert "every day at 07:00 (America/New_York), in English" in shown(bob), shown(bob)
        [anne_row, bob_row] = world.subscriptions()
        assert (anne_row.user_id, anne_row.workspace_id) == (ANNE, DEFAULT_TEAM_ID)
        assert (bob_row.user_id, bob_row.lang, bob_row.post_time) == (BOB, "en", "07:00")
        assert anne_row.channel_id == world.fake.dm_channels[(DEFAULT_TEAM_ID, ANNE)]
        assert anne_row.channel_id.startswith("D")

        changed = await command(world, "/digest", "me en 18h30", user_id=ANNE)
        assert "Subscription updated" in shown(changed)
        assert "every day at 18:30 (Europe/Paris), in English" in shown(changed)
        assert len(world.subscriptions()) == 2  # one per member and story
        status = await command(world, "/digest", "me statut", user_id=BOB)
        assert "Next: 2023-11-18 07:00." in shown(status), shown(status)

        await deliver(world, dt.datetime(2023, 11, 18, 17, 30, tzinfo=dt.UTC))  # 18:30 Paris
        anne_dm = world.fake.dm_messages(ANNE)
        assert anne_dm and "Crisis at OpenAI" in (anne_dm[0].text or "")
        bob_dm = world.fake.dm_messages(BOB)  # 07:00 in New York came first
        assert bob_dm and "Crisis at OpenAI" in (bob_dm[0].text or "")

        stopped = await command(world, "/digest", "me off", user_id=BOB)
        assert "You will no longer get the digest by direct message." in shown(stopped)
        assert [row.user_id for row in world.subscriptions()] == [ANNE]
        odd = await command(world, "/digest", "me sometimes", user_id=BOB)
        assert "I did not understand: sometimes." in shown(odd)
        weekdays = await command(world, "/digest", "me days=mon-fri compact", user_id=BOB)
        assert "Monday to Friday at 08:00 (America/New_York), in English. Options: compact." in (
            shown(weekdays)
        ), shown(weekdays)
        bad = await command(world, "/digest", "me jours=lundy", user_id=ANNE)
        assert "Jours invalides 'lundy'" in shown(bad), shown(bad)


async def test_a_member_who_left_pauses_once_without_retries(world: World) -> None:
    async with socket_mode(world):
        await command(world, "/digest", "me", user_id=ANNE)
        world.fake.deactivate_user(ANNE)
        posts_before = len(world.fake.all_messages)
        await deliver(world, dt.datetime(2023, 11, 19, 7, 0, tzinfo=dt.UTC))
        [row] = world.subscriptions()
        assert not row.active and (row.paused_reason or "").startswith("slack is_archived")
        calls = [c for c in world.fake.calls if c.method == "chat.postMessage"]
        assert len(calls) == 1  # one try, no retry storm
        assert len(world.fake.all_messages) == posts_before  # nobody was told in any channel
        with world.store.session() as session:
            [delivery] = session.scalars(select(Delivery)).all()
            assert (delivery.status, delivery.attempts) == ("failed", 1)
        await deliver(world, dt.datetime(2023, 11, 20, 7, 0, tzinfo=dt.UTC))
        assert len([c for c in world.fake.calls if c.method == "chat.postMessage"]) == 1
        # conversations.open refuses a deactivated member: said plainly, in their language
        again = await command(world, "/digest", "me", user_id=ANNE)
        assert "Slack répond user_disabled" in shown(again), shown(again)


async def test_dms_to_many_members_are_paced_within_slacks_limits(world: World) -> None:
    """30 members' DMs at the same minute: each delivered (post and its "more" reply), none
    rate limited (the fake enforces 1 message/s per channel and 10/s per workspace)."""
    members = [f"U0M{n:03d}" for n in range(30)]
    personal = PersonalSubscriptions(world.admin)
    client = world.bot.clients.for_team(DEFAULT_TEAM_ID)
    for user in members:
        world.fake.add_user(user, locale="en-US", tz="Europe/Paris")
        opened = await client.conversations_open(users=user)
        await personal.subscribe(
            PersonalRequest(
                platform="slack",
                workspace_id=DEFAULT_TEAM_ID,
                user_id=user,
                dm_channel_id=opened["channel"]["id"],
                lang="en",
            ),
            Actor(user_id=user, via="chat", lang="en"),
        )
    await deliver(world, dt.datetime(2023, 11, 19, 7, 0, tzinfo=dt.UTC))
    assert [len(world.fake.dm_messages(user)) for user in members] == [2] * 30
    assert world.fake.ratelimited_count == 0
