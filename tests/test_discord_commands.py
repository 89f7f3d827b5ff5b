"""Slash commands over the gateway: the REAL discord.py client against the fake Discord."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import re
import threading
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from bot.discord.embeds import message_problems
from bot.store import MANUAL, Delivery, Subscription
from tests.digest_parts import discord_messages
from tests.discord_env import Env, discord_env
from tests.fakes.discord_server import (
    ANNOUNCES_CHANNEL_ID,
    GENERAL_CHANNEL_ID,
    MEMBER_USER_ID,
    OWNER_USER_ID,
    FakeInteraction,
)

ADMIN = {"user_id": OWNER_USER_ID}
MEMBER = {"user_id": MEMBER_USER_ID}
PINGS = re.compile(r"@(everyone|here)|<@[!&]?\d+>", re.IGNORECASE)


@pytest.fixture
async def env(tmp_path: Path) -> AsyncIterator[Env]:
    async with discord_env(tmp_path) as env:
        yield env


def text_of(payload: dict[str, Any] | None) -> str:
    payload = payload or {}
    parts = [payload.get("content") or ""]
    for embed in payload.get("embeds") or []:
        parts += [embed.get("title") or "", embed.get("description") or ""]
        parts.append((embed.get("footer") or {}).get("text") or "")
    return "\n".join(parts)


async def answer(interaction: FakeInteraction, *, followup: bool = False) -> dict[str, Any]:
    # Discord's 3-second deadline is proven on events, not wall time, by
    # test_discord_interactions.test_a_slow_database_still_answers_within_three_seconds.
    callback = await interaction.wait_callback()
    if followup or callback.type == 5:
        assert callback.type == 5 and callback.ephemeral
        return await interaction.wait_followup(timeout=10)
    assert callback.type == 4
    return callback.data or {}


# -- the synced commands ------------------------------------------------------------------------


async def test_synced_commands_carry_french_localizations_and_admin_gating(env: Env) -> None:
    commands = {c["name"]: c for c in env.fake.commands[None]}
    assert set(commands) == {
        "who",
        "timeline",
        "faq",
        "story",
        "story-edit",
        "digest",
        "digest-admin",
    }
    who = commands["who"]
    assert who["name_localizations"] == {"fr": "qui"}
    assert who["description_localizations"]["fr"].startswith("Qui est qui")
    question = next(o for o in who["options"] if o["name"] == "question")
    assert question["autocomplete"] is True and question["max_length"] == 300
    assert question["description_localizations"]["fr"].startswith("Un nom ou une question")
    language = next(o for o in who["options"] if o["name"] == "language")
    assert language["name_localizations"] == {"fr": "langue"}
    assert {c["name_localizations"]["fr"] for c in language["choices"]} == {"Français", "Anglais"}
    admin = commands["digest-admin"]
    assert admin["name_localizations"] == {"fr": "résumé-admin"}
    assert int(admin["default_member_permissions"]) == 1 << 5  # Manage Server
    subs = {o["name"]: o for o in admin["options"]}
    assert set(subs) == {
        "subscribe",
        "unsubscribe",
        "pause",
        "resume",
        "list",
        "status",
        "send-now",
        "editors",
        "updates",
        "alert",
    }
    assert subs["editors"]["name_localizations"] == {"fr": "éditeurs"}
    assert subs["updates"]["name_localizations"] == {"fr": "mises-a-jour"}
    assert subs["alert"]["name_localizations"] == {"fr": "alerte"}
    who = next(o for o in subs["alert"]["options"] if o["name"] == "who")
    assert who["autocomplete"] is True
    assert subs["subscribe"]["name_localizations"] == {"fr": "abonner"}
    channel = next(o for o in subs["subscribe"]["options"] if o["name"] == "channel")
    assert channel["type"] == 7 and set(channel["channel_types"]) == {0, 5, 15}  # text, news, forum

    # every localized name is a valid Discord name, every description fits
    def walk(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
        yield node
        for option in node.get("options") or []:
            yield from walk(option)

    for command in commands.values():
        for node in walk(command):
            for name in (node.get("name_localizations") or {}).values():
                assert re.fullmatch(r"[-_\w]{1,32}", name) and name == name.lower()
            for text in (node.get("description_localizations") or {}).values():
                assert 1 <= len(text) <= 100
    # a second start does not sync again (one GET, no PUT)
    assert await env.client.sync_if_changed() is False


# -- members ----------------------------------------------------------------------------------------


async def test_who_answers_in_the_askers_language_ephemerally(env: Env) -> None:
    fr = await env.fake.dispatch_command(
        "who", {"question": "Qui a licencié Sam Altman ?"}, locale="fr", **MEMBER
    )
    en = await env.fake.dispatch_command(
        "who", {"question": "Who is Mira Murati?"}, locale="en-US", **MEMBER
    )
    fr_data, en_data = await answer(fr), await answer(en)
    assert (await fr.wait_callback()).ephemeral and (await en.wait_callback()).ephemeral
    assert "conseil" in text_of(fr_data).lower()
    assert "Mira Murati" in text_of(en_data) and "OpenAI" in text_of(en_data)
    assert fr_data["allowed_mentions"] == {"parse": []}
    forced = await env.fake.dispatch_command(
        "who",
        {"question": "Who is Mira Murati?", "language": "fr", "public": True},
        locale="en-US",
        **MEMBER,
    )
    data = await answer(forced)
    assert not (await forced.wait_callback()).ephemeral
    assert "Fonctions" in text_of(data) or "directrice" in text_of(data)


async def test_who_autocomplete_offers_at_most_25_names(env: Env) -> None:
    empty = await env.fake.dispatch_autocomplete("who", {"question": ""}, "question", locale="fr")
    typed = await env.fake.dispatch_autocomplete(
        "who", {"question": "sa"}, "question", locale="en-US"
    )
    zones = await env.fake.dispatch_autocomplete(
        "digest-admin subscribe", {"timezone": "paris"}, "timezone", locale="fr", **ADMIN
    )
    blank_zone = await env.fake.dispatch_autocomplete(
        "digest-admin subscribe", {"timezone": ""}, "timezone", locale="fr", **ADMIN
    )
    dates = await env.fake.dispatch_autocomplete(
        "timeline", {"date": "2023-11"}, "date", locale="fr"
    )
    for interaction in (empty, typed, zones, blank_zone, dates):
        callback = await interaction.wait_callback()
        assert callback.type == 8
        assert 1 <= len(callback.choices) <= 25
    assert (await typed.wait_callback()).choices[0]["name"] == "Sam Altman"
    assert (await zones.wait_callback()).choices[0]["value"] == "Europe/Paris"
    assert (await dates.wait_callback()).choices[0] == {
        "name": "2023-11-17 · jour 1",
        "value": "2023-11-17",
    }


async def test_timeline_faq_story_and_preview(env: Env) -> None:
    fake = env.fake
    timeline = await fake.dispatch_command("timeline", {"date": "2023-11-17"}, locale="fr")
    faq = await fake.dispatch_command("faq", {}, locale="en-GB")
    story = await fake.dispatch_command("story", {}, locale="fr")
    preview = await fake.dispatch_command(
        "digest preview", {"date": "2023-11-19", "language": "en"}, locale="fr"
    )
    empty = await fake.dispatch_command("digest preview", {"date": "2022-01-01"}, locale="fr")
    bad = await fake.dispatch_command("timeline", {"date": "demain"}, locale="fr")

    text = text_of(await answer(timeline))
    assert "17 novembre" in text and "20 novembre" not in text
    # today is 18 Nov: the FAQ, written from the story's end, waits for its last day
    faq_text = text_of(await answer(faq))
    assert "Frequently asked questions" in faq_text
    assert "shown once the story reaches its last day, November 20, 2023" in faq_text
    first = await answer(story)  # today (18 Nov) clamps the story so far
    assert "Crise chez OpenAI" in text_of(first)
    preview_text = text_of(await answer(preview))
    assert "Crisis at OpenAI" in preview_text and "Day 3" in preview_text
    assert "il ne s'est rien passé" in text_of(await answer(empty))
    refusal = await answer(bad)
    assert (await bad.wait_callback()).ephemeral
    assert "Date invalide" in text_of(refusal)


async def test_a_long_answer_is_split_over_follow_ups_in_order(env: Env) -> None:
    env.clock.now = env.clock.now.replace(month=12)  # the story is over: the whole story so far
    story = await env.fake.dispatch_command("story", {}, locale="fr")
    await story.wait_callback()
    await env.fake.wait_until(lambda: len(story.followups) >= 1, what="follow-ups")
    parts = [story.callbacks[0].data, *story.followups]
    assert [p["embeds"][0]["title"] for p in parts][1] == f"Crise chez OpenAI (2/{len(parts)})"
    for part in parts:
        assert message_problems(part["embeds"]) == []
        assert part["flags"] & 64 if "flags" in part else True


# -- admins -----------------------------------------------------------------------------------------


def subscriptions(env: Env) -> list[Subscription]:
    with env.context.store.session() as session:
        return list(session.scalars(select(Subscription).order_by(Subscription.id)))


async def test_admin_flow_subscribe_list_status_pause_resume_send_now_unsubscribe(env: Env) -> None:
    fake = env.fake
    sub = await fake.dispatch_command(
        "digest-admin subscribe",
        {
            "channel": ANNOUNCES_CHANNEL_ID,
            "language": "both",
            "time": "8:30",
            "timezone": "europe/paris",
        },
        locale="fr",
        **ADMIN,
    )
    text = text_of(await answer(sub, followup=True))
    assert (
        "Abonnement créé" in text
        and f"<#{ANNOUNCES_CHANNEL_ID}>" in text
        and "08:30 Europe/Paris" in text
    )
    (row,) = subscriptions(env)
    assert (row.platform, row.channel_id, row.lang, row.configured_from, row.admin_lang) == (
        "discord",
        str(ANNOUNCES_CHANNEL_ID),
        "both",
        str(GENERAL_CHANNEL_ID),
        "fr",
    )
    listing = text_of(
        await answer(
            await fake.dispatch_command("digest-admin list", {}, locale="en-US", **ADMIN),
            followup=True,
        )
    )
    assert "Subscriptions" in listing and "[both] 08:30 Europe/Paris" in listing
    paused = await fake.dispatch_command(
        "digest-admin pause", {"channel": ANNOUNCES_CHANNEL_ID}, locale="en-US", **ADMIN
    )
    assert "paused" in text_of(await answer(paused, followup=True))
    assert subscriptions(env)[0].active is False
    resumed = await fake.dispatch_command(
        "digest-admin resume", {"channel": ANNOUNCES_CHANNEL_ID}, locale="fr", **ADMIN
    )
    assert "Repris" in text_of(await answer(resumed, followup=True))
    assert subscriptions(env)[0].active is True
    sent = await fake.dispatch_command(
        "digest-admin send-now", {"channel": ANNOUNCES_CHANNEL_ID}, locale="fr", **ADMIN
    )
    sent_text = text_of(await answer(sent, followup=True))
    assert sent_text.count("publié") == 2  # fr and en
    posts = fake.messages(ANNOUNCES_CHANNEL_ID)
    # Each language's post and its "more" follow-up (same title; the two deliveries may
    # interleave in the channel).
    titles = sorted(p["embeds"][0]["title"] for p in posts)
    assert titles == ["Crise chez OpenAI"] * 2 + ["Crisis at OpenAI"] * 2
    status = await fake.dispatch_command(
        "digest-admin status", {"channel": ANNOUNCES_CHANNEL_ID}, locale="en-US", **ADMIN
    )
    assert "Posted: 2" in text_of(await answer(status, followup=True))
    again = await fake.dispatch_command(
        "digest-admin send-now", {"channel": ANNOUNCES_CHANNEL_ID}, locale="fr", **ADMIN
    )
    await answer(again, followup=True)
    assert len(fake.messages(ANNOUNCES_CHANNEL_ID)) == len(posts)  # never posted twice
    day = await fake.dispatch_command(
        "digest-admin send-now",
        {"channel": ANNOUNCES_CHANNEL_ID, "date": "2023-11-20"},
        locale="fr",
        **ADMIN,
    )
    assert "2023-11-20 [fr]" in text_of(await answer(day, followup=True))
    dated = sum(discord_messages(lang, dt.date(2023, 11, 20)) for lang in ("fr", "en"))
    # Eight messages in one channel within seconds: Discord's 5-per-5-s bucket answers a 429
    # and the last delivery is retried a few seconds later (the test moves the clock).
    if len(fake.messages(ANNOUNCES_CHANNEL_ID)) < len(posts) + dated:
        env.clock.now += dt.timedelta(seconds=30)
        await env.context.worker.run_once(env.clock.now)
    assert len(fake.messages(ANNOUNCES_CHANNEL_ID)) == len(posts) + dated
    # a dated send-now goes through the outbox: manual deliveries, recorded and sent
    with env.context.store.session() as session:
        manual = session.scalars(select(Delivery).where(Delivery.kind == MANUAL)).all()
        assert sorted((d.story_date.isoformat(), d.lang, d.status) for d in manual) == [
            ("2023-11-20", "en", "sent"),
            ("2023-11-20", "fr", "sent"),
        ]
    again_day = await fake.dispatch_command(
        "digest-admin send-now",
        {"channel": ANNOUNCES_CHANNEL_ID, "date": "2023-11-20"},
        locale="fr",
        **ADMIN,
    )
    await answer(again_day, followup=True)
    assert len(fake.messages(ANNOUNCES_CHANNEL_ID)) == len(posts) + dated  # same date: once
    unknown = await fake.dispatch_command(
        "digest-admin send-now",
        {"channel": ANNOUNCES_CHANNEL_ID, "date": "2024-01-01"},
        locale="en-US",
        **ADMIN,
    )
    assert "No story events on 2024-01-01" in text_of(await answer(unknown, followup=True))
    assert len(fake.messages(ANNOUNCES_CHANNEL_ID)) == len(posts) + dated
    gone = await fake.dispatch_command(
        "digest-admin unsubscribe", {"channel": ANNOUNCES_CHANNEL_ID}, locale="fr", **ADMIN
    )
    assert "Désabonné" in text_of(await answer(gone, followup=True))
    assert subscriptions(env) == []
    for payload in fake.requests_for("POST /channels/*/messages"):
        assert payload.json["allowed_mentions"]["parse"] == []


async def test_member_commands_follow_the_channel_subscription(env: Env) -> None:
    sub = await env.fake.dispatch_command(
        "digest-admin subscribe",
        {
            "channel": GENERAL_CHANNEL_ID,
            "language": "fr",
            "time": "08:00",
            "timezone": "UTC",
            "mode": "replay",
            "start": "2023-11-18",
        },
        locale="fr",
        **ADMIN,
    )
    await answer(sub, followup=True)
    # a replay that started today is at story day 1: no spoiler of later days
    story = await env.fake.dispatch_command(
        "digest preview", {}, locale="fr", channel_id=GENERAL_CHANNEL_ID
    )
    assert "Jour 1" in text_of(await answer(story))


async def test_admin_commands_are_refused_to_members(env: Env) -> None:
    for path, options in [
        (
            "digest-admin subscribe",
            {"channel": GENERAL_CHANNEL_ID, "language": "fr", "time": "08:00", "timezone": "UTC"},
        ),
        ("digest-admin list", {}),
        ("digest-admin send-now", {"channel": GENERAL_CHANNEL_ID}),
        ("digest-admin unsubscribe", {"channel": GENERAL_CHANNEL_ID}),
    ]:
        for locale, words in (("fr", "Gérer le serveur"), ("en-US", "Manage Server")):
            interaction = await env.fake.dispatch_command(path, options, locale=locale, **MEMBER)
            callback = await interaction.wait_callback()
            assert callback.type == 4 and callback.ephemeral
            assert words in text_of(callback.data)
    assert subscriptions(env) == []
    assert env.fake.messages(GENERAL_CHANNEL_ID) == []


async def test_errors_become_short_ephemeral_messages_and_are_logged(
    env: Env, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    bad_zone = await env.fake.dispatch_command(
        "digest-admin subscribe",
        {
            "channel": GENERAL_CHANNEL_ID,
            "language": "fr",
            "time": "08:00",
            "timezone": "Europe/Pariss",
        },
        locale="fr",
        **ADMIN,
    )
    text = text_of(await answer(bad_zone, followup=True))
    assert "Europe/Paris" in text and "Pariss" in text
    bad_time = await env.fake.dispatch_command(
        "digest-admin subscribe",
        {"channel": GENERAL_CHANNEL_ID, "language": "en", "time": "25:99", "timezone": "UTC"},
        locale="en-US",
        **ADMIN,
    )
    assert "HH:MM" in text_of(await answer(bad_time, followup=True))

    import bot.discord.commands as commands

    def boom(*args: object, **kwargs: object) -> None:
        raise RuntimeError("kaboom")

    monkeypatch.setattr(commands, "compose_faq", boom)
    with caplog.at_level(logging.INFO, logger="bot.discord"):
        failed = await env.fake.dispatch_command("faq", {}, locale="fr", **MEMBER)
        callback = await failed.wait_callback()
    assert callback.ephemeral and "Désolé" in text_of(callback.data)
    record = next(r for r in caplog.records if r.levelno == logging.ERROR)
    assert "/faq failed" in record.getMessage() and str(MEMBER_USER_ID) in record.getMessage()
    assert record.exc_info is not None
    assert env.fake.token not in caplog.text
    assert failed.token not in caplog.text


# -- hostile input (hypothesis, against one running bot) -----------------------------------------


class _Running:
    """One bot on its own event loop in a thread, so that hypothesis can drive it."""

    def __init__(self, tmp_path: Path) -> None:
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        self.stop: asyncio.Event | None = None
        self.env: Env | None = None
        self.error: BaseException | None = None
        self.thread = threading.Thread(
            target=self.loop.run_until_complete, args=(self._main(tmp_path),), daemon=True
        )
        self.thread.start()
        assert self.ready.wait(30), self.error

    async def _main(self, tmp_path: Path) -> None:
        self.stop = asyncio.Event()
        try:
            async with discord_env(tmp_path) as env:
                self.env = env
                self.ready.set()
                await self.stop.wait()
        except BaseException as error:  # pragma: no cover - reported by the fixture
            self.error = error
            self.ready.set()

    def run(self, coro: Any, timeout: float = 20) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def close(self) -> None:
        assert self.stop is not None
        self.loop.call_soon_threadsafe(self.stop.set)
        self.thread.join(30)
        self.loop.close()


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[_Running]:
    bot = _Running(tmp_path_factory.mktemp("hostile"))
    yield bot
    bot.close()


_hostile = (
    st.lists(
        st.one_of(
            st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=30),
            st.sampled_from(
                [
                    "@everyone",
                    "@here",
                    "<@123>",
                    "<@&456>",
                    "<#789>",
                    "@@everyone",
                    "@\u200beveryone",
                    "**",
                    "`",
                    "||",
                    "\n",
                    "Sam Altman",
                    "Qui est ",
                    "🦄",
                    "\u202e",
                    "x" * 400,
                ]
            ),
        ),
        min_size=1,
        max_size=8,
    )
    .map("".join)
    .filter(lambda s: s.strip() != "")
)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    question=_hostile,
    command=st.sampled_from(["who", "timeline", "digest preview", "autocomplete"]),
    locale=st.sampled_from(["fr", "en-US", "ja"]),
)
def test_hostile_options_never_crash_never_ping_and_fit(
    running: _Running, question: str, command: str, locale: str
) -> None:
    env = running.env
    assert env is not None

    async def go() -> list[dict[str, Any]]:
        if command == "autocomplete":
            interaction = await env.fake.dispatch_autocomplete(
                "who", {"question": question}, "question", locale=locale
            )
            callback = await interaction.wait_callback()
            assert callback.type == 8 and len(callback.choices) <= 25
            for choice in callback.choices:
                assert 1 <= len(choice["name"]) <= 100 and len(choice["value"]) <= 100
            return [{"content": " ".join(c["name"] for c in callback.choices)}]
        option = {"who": "question", "timeline": "date", "digest preview": "date"}[command]
        interaction = await env.fake.dispatch_command(
            command,
            {option: question, "public": True} if command == "who" else {option: question},
            locale=locale,
        )
        callback = await interaction.wait_callback()
        assert callback.type == 4  # answered (never left hanging)
        await asyncio.sleep(0.05)
        return [callback.data or {}, *interaction.followups]

    for payload in running.run(go()):
        assert not PINGS.search(text_of(payload)), text_of(payload)
        assert message_problems(payload.get("embeds") or []) == []
        if "embeds" in payload:
            assert payload.get("allowed_mentions") == {"parse": []}


# -- the CLI ------------------------------------------------------------------------------------


async def test_cli_sync_to_a_guild_and_invite_url(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from bot.commands.discord import _application_id, invite_url, sync_commands
    from tests.discord_env import settings_for
    from tests.fakes.discord_server import (
        GUILD_ID,
        FakeDiscord,
        add_default_guild,
        discord_pointed_at,
    )

    async with FakeDiscord() as fake:
        add_default_guild(fake)
        settings = settings_for(fake, tmp_path)
        with discord_pointed_at(fake):
            assert await sync_commands(settings, guild_id=GUILD_ID) == 0
            assert {c["name"] for c in fake.commands[GUILD_ID]} >= {"who", "digest-admin"}
            assert fake.commands[GUILD_ID][0]["name_localizations"]
            assert not fake.connections  # REST only, no gateway
            application_id = await _application_id(settings)
    assert "7 command(s) synced to server" in capsys.readouterr().out
    url = invite_url(application_id)
    assert url.startswith(f"https://discord.com/oauth2/authorize?client_id={fake.application_id}&")
    assert "scope=bot%20applications.commands" in url
    assert "permissions=84992" in url  # view channel, send messages, embed links, read history


async def test_sharded_client_from_settings_connects_its_shards(tmp_path: Path) -> None:
    from bot.discord.client import Services, ShardedDepecheClient, make_client
    from bot.platforms import build_context
    from bot.settings import DiscordSettings, SettingsError
    from tests.discord_env import settings_for
    from tests.fakes.discord_server import (
        FakeDiscord,
        add_default_guild,
        discord_pointed_at,
        running_client,
    )

    with pytest.raises(SettingsError, match="DISCORD_SHARD_COUNT"):
        make_client(DiscordSettings(shard_ids=(0,)), None)  # type: ignore[arg-type]
    with pytest.raises(SettingsError, match=r"not in 0\.\.1"):
        make_client(DiscordSettings(shard_count=2, shard_ids=(2,)), None)  # type: ignore[arg-type]
    async with FakeDiscord(shard_count=2) as fake:
        add_default_guild(fake)
        settings = settings_for(fake, tmp_path, shard_count=2, shard_ids="0,1")
        context = build_context(settings)
        try:
            with discord_pointed_at(fake):
                client = make_client(
                    settings.discord,
                    Services(library=context.library, admin=context.admin),
                    guild_ready_timeout=0.05,
                )
                assert isinstance(client, ShardedDepecheClient)
                async with running_client(client, fake, timeout=15, guild_ready_timeout=None):
                    assert sorted(client.shards) == [0, 1]
                    interaction = await fake.dispatch_command("faq", {}, locale="fr")
                    assert (await interaction.wait_callback()).type == 4
        finally:
            context.store.dispose()
    assert sorted(tuple(i["shard"]) for i in fake.identifies) == [(0, 2), (1, 2)]
