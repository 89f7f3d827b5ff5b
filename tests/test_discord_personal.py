"""/digest me on Discord: the REAL discord.py client against the fake Discord. The DM channel is
opened with POST /users/@me/channels, posts go there at the member's time, closed DMs (50007)
pause the subscription once (no retry storm, nothing said in any server), and DMs to many
members stay within Discord's limits."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.admin import Actor
from bot.store import Delivery, Subscription
from bot.subscriptions.personal import PersonalRequest, PersonalSubscriptions
from tests.discord_env import Env, discord_env
from tests.fakes.discord_server import (
    ANNOUNCES_CHANNEL_ID,
    GENERAL_CHANNEL_ID,
    MEMBER_USER_ID,
    OWNER_USER_ID,
)
from tests.test_discord_commands import answer, text_of

MEMBER = {"user_id": MEMBER_USER_ID}


@pytest.fixture
async def env(tmp_path: Path) -> AsyncIterator[Env]:
    async with discord_env(tmp_path) as env:
        yield env


def rows(env: Env) -> list[Subscription]:
    with env.context.store.session() as session:
        return list(session.scalars(select(Subscription).order_by(Subscription.id)))


async def me(env: Env, locale: str = "fr", **options: object) -> str:
    interaction = await env.fake.dispatch_command("digest me", options, locale=locale, **MEMBER)
    return text_of(await answer(interaction, followup=True))


async def test_digest_me_subscribes_in_a_dm_and_posts_there_at_the_members_time(env: Env) -> None:
    text = await me(env)
    assert "Abonnement créé" in text
    assert (
        "Votre résumé en message direct : tous les jours à 08:00 (Europe/Paris), en français."
        in text
    )
    assert len(env.fake.requests_for("POST /users/@me/channels")) == 1
    dm = env.fake.dm_channels[MEMBER_USER_ID]
    [row] = rows(env)
    assert (row.user_id, row.workspace_id, row.channel_id, row.lang) == (
        str(MEMBER_USER_ID),
        "",
        str(dm),
        "fr",
    )
    # changed: the same subscription (one per member and story), the same DM channel
    text = await me(env, "en-US", time="7h30", timezone="America/New_York", language="en")
    assert (
        "Subscription updated" in text
        and "every day at 07:30 (America/New_York), in English" in text
    )
    [row] = rows(env)
    assert (row.post_time, row.timezone, row.lang, row.channel_id) == (
        "07:30",
        "America/New_York",
        "en",
        str(dm),
    )
    status = await me(env, "en-US")
    assert "Next: 2023-11-18 07:30." in status
    # the member's own subscriptions are not a server's: /digest-admin list does not show them
    listing = await env.fake.dispatch_command(
        "digest-admin list", {}, locale="fr", user_id=OWNER_USER_ID
    )
    assert "personnel" not in text_of(await answer(listing, followup=True))

    await env.context.runner.step(dt.datetime(2023, 11, 18, 12, 30, tzinfo=dt.UTC))
    posts = env.fake.dm_messages(MEMBER_USER_ID)  # the digest, then its "more" part
    assert [p["embeds"][0]["title"] for p in posts] == ["Crisis at OpenAI", "Crisis at OpenAI"]
    assert "More — Day 2" in text_of(posts[1])
    assert env.fake.messages(ANNOUNCES_CHANNEL_ID) == []

    stopped = await me(env, stop=True)
    assert "Vous ne recevrez plus le résumé en message direct." in stopped
    assert rows(env) == []
    assert "Vous n’aviez pas de résumé personnel." in await me(env, stop=True)


async def test_closed_dms_pause_once_without_retries_and_tell_no_server(env: Env) -> None:
    await me(env)
    env.fake.close_dms(MEMBER_USER_ID)
    await env.context.runner.step(dt.datetime(2023, 11, 19, 7, 0, tzinfo=dt.UTC))
    attempts = env.fake.requests_for("POST /channels/*/messages")
    assert len(attempts) == 1 and attempts[0].status == 403  # one try: no retry storm
    [row] = rows(env)
    assert not row.active and "50007" in (row.paused_reason or "")
    with env.context.store.session() as session:
        [delivery] = session.scalars(select(Delivery)).all()
        assert delivery.status == "failed" and delivery.attempts == 1
    # nothing was posted in the server about a member's DMs
    assert env.fake.messages(GENERAL_CHANNEL_ID) == []
    # the next days: paused, nothing is enqueued or tried
    await env.context.runner.step(dt.datetime(2023, 11, 20, 7, 0, tzinfo=dt.UTC))
    assert len(env.fake.requests_for("POST /channels/*/messages")) == 1
    # asking again resumes it, and says why it had stopped
    text = await me(env)
    assert "Discord ne me laissait pas vous envoyer de messages directs" in text
    assert rows(env)[0].active


async def test_dms_to_many_members_are_paced_within_discords_limits(tmp_path: Path) -> None:
    """120 members' DMs due at the same minute: all delivered, each once, paced within the
    limits (the fake enforces Discord's global and per-channel limits and answers 429 past
    them). The bot paces at 48 of the 50 requests/s, so a loaded machine's scheduling jitter
    may draw the odd global 429 (retried, nothing lost); an unpaced burst would draw dozens."""
    async with discord_env(tmp_path) as env:
        members = [900_000_000_000_000_000 + n for n in range(120)]
        personal = PersonalSubscriptions(env.context.admin)
        for user in members:
            env.fake.users[user] = env.fake._user_payload(user, f"member{user % 1000}")
            channel = await env.client.http.start_private_message(user)
            await personal.subscribe(
                PersonalRequest(
                    platform="discord",
                    workspace_id="",
                    user_id=str(user),
                    dm_channel_id=str(channel["id"]),
                    lang="en",
                ),
                Actor(user_id=str(user), via="chat", lang="en"),
            )
        await env.context.runner.step(dt.datetime(2023, 11, 19, 7, 0, tzinfo=dt.UTC))
        assert [len(env.fake.dm_messages(user)) for user in members] == [2] * 120
        assert len(env.fake.rate_limit_hits) <= 2  # of 240 messages: < 1 %
        with env.context.store.session() as session:
            statuses = session.scalars(select(Delivery.status)).all()
            assert statuses == ["sent"] * 120


async def test_digest_me_takes_days_cadence_and_format(env: Env) -> None:
    text = await me(env, days="lun-ven", format="compact")
    assert "du lundi au vendredi à 08:00 (Europe/Paris), en français. Options : compact." in text
    [row] = rows(env)
    assert (row.days, row.cadence, row.format) == (31, "daily", "compact")
    text = await me(env, "en-US", cadence="weekly", days="sun")
    assert "Sunday at 08:00 (Europe/Paris), in French. Options: weekly roll-up, compact." in text
    assert "Jours invalides 'lundy'" in await me(env, days="lundy")
    text = await me(env, "en-US", cadence="daily")  # back to every day
    assert "every day at 08:00" in text
    # Sunday 19 November, 08:00 in Paris: the compact digest of story day 3, in the DM
    await env.context.runner.step(dt.datetime(2023, 11, 19, 7, 0, tzinfo=dt.UTC))
    [post] = env.fake.dm_messages(MEMBER_USER_ID)
    assert "Le résumé complet\xa0: /digest preview" in text_of(post)  # French spacing


async def test_digest_me_works_from_the_dm_itself(env: Env) -> None:
    interaction = await env.fake.dispatch_command(
        "digest me", {"time": "9h"}, locale="en-GB", dm=True, user_id=MEMBER_USER_ID
    )
    text = text_of(await answer(interaction, followup=True))
    assert "every day at 09:00 (UTC), in English" in text, text
    [row] = rows(env)
    assert (row.user_id, row.workspace_id) == (str(MEMBER_USER_ID), "")
