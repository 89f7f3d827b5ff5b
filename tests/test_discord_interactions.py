"""Interaction payloads as real Discord sends them (DMs, missing fields, other locales, thread and
announcement channels, bots without channel permissions) and Discord's response rules
(3 seconds, one initial response, ``allowed_mentions`` none on everything)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.discord import commands as discord_commands
from bot.discord import interactions as discord_interactions
from bot.discord.embeds import message_problems
from bot.discord.translator import valid_name
from bot.store import Subscription
from tests.discord_env import Env, discord_env
from tests.fakes.discord_server import (
    ANNOUNCES_CHANNEL_ID,
    GENERAL_CHANNEL_ID,
    GUILD_ID,
    MEMBER_USER_ID,
    OWNER_USER_ID,
    FakeInteraction,
)

ADMIN = {"user_id": OWNER_USER_ID}
MEMBER = {"user_id": MEMBER_USER_ID}
SEND_MESSAGES, EMBED_LINKS, VIEW_CHANNEL = 1 << 11, 1 << 14, 1 << 10


@pytest.fixture
async def env(tmp_path: Path) -> AsyncIterator[Env]:
    async with discord_env(tmp_path) as env:
        yield env


def text_of(payload: dict[str, Any] | None) -> str:
    parts = [(payload or {}).get("content") or ""]
    for embed in (payload or {}).get("embeds") or []:
        parts += [embed.get("title") or "", embed.get("description") or ""]
    return "\n".join(parts)


async def answered(interaction: FakeInteraction) -> dict[str, Any]:
    """The answer's message payload, whether sent at once or after a deferral."""
    # The 3-second deadline is proven on events, not wall time (the slow-database test below).
    callback = await interaction.wait_callback()
    assert len(interaction.callbacks) == 1  # one initial response, never two
    if callback.type == 5:
        return await interaction.wait_followup(timeout=10)
    assert callback.type == 4
    return callback.data or {}


def subscriptions(env: Env) -> list[Subscription]:
    with env.context.store.session() as session:
        return list(session.scalars(select(Subscription)))


def sent_payloads(env: Env) -> list[dict[str, Any]]:
    """Every message payload the bot sent (callbacks with a message, follow-ups, edits, posts)."""
    out = []
    for request in env.fake.requests:
        body = request.json if isinstance(request.json, dict) else None
        if body is None or request.method not in ("POST", "PATCH"):
            continue
        if "/callback" in request.path:
            if body.get("type") == 4:
                out.append(body.get("data") or {})
        elif "/webhooks/" in request.path or request.path.endswith("/messages"):
            out.append(body)
    return out


async def test_member_commands_work_in_direct_messages(env: Env) -> None:
    """In a DM Discord sends ``user`` (no ``member``, no ``guild_id``, no ``guild_locale``)."""
    fr = await env.fake.dispatch_command(
        "who", {"question": "Qui est Mira Murati ?"}, dm=True, user_id=77, locale="fr"
    )
    en = await env.fake.dispatch_command("faq", {}, dm=True, user_id=78, locale="en-GB")
    assert "member" not in fr.payload and "guild_id" not in fr.payload
    fr_data, en_data = await answered(fr), await answered(en)
    assert "Mira Murati" in text_of(fr_data)
    assert en_data["embeds"] and not message_problems(en_data["embeds"])
    assert (await en.wait_callback()).ephemeral


@pytest.mark.parametrize(
    ("locale", "french"),
    [("fr", True), ("en-US", False), ("en-GB", False), ("es-ES", False), ("xx-YY", False)],
)
async def test_locales_and_a_guild_without_guild_locale(
    env: Env, locale: str, french: bool
) -> None:
    payload = env.fake.build_interaction(2, "digest-admin list", {}, locale=locale, **MEMBER)
    payload.pop("guild_locale", None)
    payload.pop("guild", None)
    data = await answered(await env.fake.dispatch_interaction(payload))
    text = text_of(data)
    assert ("Gérer le serveur" in text) is french
    assert ("Manage Server" in text) is not french


async def test_options_omitted_and_autocomplete_with_empty_or_partial_values(env: Env) -> None:
    for command in ("timeline", "faq", "story", "digest preview"):
        data = await answered(await env.fake.dispatch_command(command, None, locale="en-US"))
        for message in [data["embeds"]]:
            assert message and not message_problems(message)
    cases = [
        ("who", {}, "question"),  # the focused option absent from the values: treated as ""
        ("who", {"question": ""}, "question"),
        ("who", {"question": "   "}, "question"),
        ("who", {"question": "ß" * 100}, "question"),
        ("timeline", {"date": ""}, "date"),
        ("faq", {"story": ""}, "story"),
        ("digest-admin subscribe", {"timezone": ""}, "timezone"),
        ("digest-admin subscribe", {"timezone": "Amer"}, "timezone"),
    ]
    for command, options, focused in cases:
        values = dict(options) or {focused: ""}
        interaction = await env.fake.dispatch_autocomplete(command, values, focused, **ADMIN)
        callback = await interaction.wait_callback()
        assert callback.type == 8, (command, options)
        assert len(callback.choices) <= 25
        for choice in callback.choices:
            assert 1 <= len(choice["name"]) <= 100 and 1 <= len(str(choice["value"])) <= 100


async def test_the_bot_answers_even_without_send_messages_in_the_channel(env: Env) -> None:
    """Interaction responses need no channel permission: app_permissions without Send Messages
    or Embed Links must not keep the bot from answering."""
    interaction = await env.fake.dispatch_command(
        "who",
        {"question": "Sam Altman"},
        locale="en-US",
        app_permissions=VIEW_CHANNEL,
        **MEMBER,
    )
    assert "Sam Altman" in text_of(await answered(interaction))


async def test_a_member_without_manage_server_is_refused_even_if_discord_shows_the_command(
    env: Env,
) -> None:
    """A server can override default_member_permissions: we check the member's permissions."""
    interaction = await env.fake.dispatch_command(
        "digest-admin subscribe",
        {"channel": GENERAL_CHANNEL_ID, "language": "fr", "time": "08:00", "timezone": "UTC"},
        locale="fr",
        member_permissions=VIEW_CHANNEL | SEND_MESSAGES,
        **MEMBER,
    )
    callback = await interaction.wait_callback()
    assert callback.type == 4 and callback.ephemeral
    assert "Gérer le serveur" in text_of(callback.data)
    assert subscriptions(env) == []


async def test_a_channel_option_for_a_channel_not_in_the_bots_cache(env: Env) -> None:
    """Discord resolves the channel in the interaction: the bot need not have it cached (a new
    channel, another shard's process)."""
    new_id = GUILD_ID + 999
    channel = {
        "id": str(new_id),
        "type": 5,
        "name": "nouvelles",
        "guild_id": str(GUILD_ID),
        "position": 9,
        "permission_overwrites": [],
        "nsfw": False,
        "parent_id": None,
        "last_message_id": None,
        "flags": 0,
        "topic": None,
        "rate_limit_per_user": 0,
    }
    env.fake.channels[new_id] = channel  # no CHANNEL_CREATE: the bot never heard of it
    assert env.client.get_channel(new_id) is None
    interaction = await env.fake.dispatch_command(
        "digest-admin subscribe",
        {"channel": new_id, "language": "en", "time": "07:00", "timezone": "UTC"},
        locale="en-US",
        **ADMIN,
    )
    text = text_of(await answered(interaction))
    assert "Subscribed" in text and f"<#{new_id}>" in text
    status = await env.fake.dispatch_command(
        "digest-admin status", {"channel": new_id}, locale="en-US", **ADMIN
    )
    assert "nouvelles" in text_of(await answered(status))


async def test_a_slow_database_still_answers_within_three_seconds(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Asserted on events, not elapsed time: the database does not answer until the test has
    seen the deferral, so a deferral (or an autocomplete answer) that waited for it never comes."""
    monkeypatch.setattr(discord_interactions, "DEFER_AFTER", 0.2)
    services = env.client.services
    original = services.channel_subscription
    database_answers = asyncio.Event()

    async def slow(guild_id: Any, channel_id: Any) -> Any:
        await database_answers.wait()
        return await original(guild_id, channel_id)

    monkeypatch.setattr(services, "channel_subscription", slow)
    public = await env.fake.dispatch_command(
        "who", {"question": "Sam Altman", "public": True}, locale="en-US"
    )
    private = await env.fake.dispatch_command("faq", {}, locale="en-US")
    for interaction, ephemeral in ((public, False), (private, True)):
        callback = await interaction.wait_callback(timeout=30)
        assert callback.type == 5 and callback.ephemeral is ephemeral
    assert not database_answers.is_set()  # both deferred while the database was still silent
    database_answers.set()
    for interaction in (public, private):
        followup = await interaction.wait_followup(timeout=30)
        assert followup["embeds"] and len(interaction.callbacks) == 1
    # the autocomplete cannot defer: with the database silent it answers from the default story
    database_answers.clear()
    monkeypatch.setattr(discord_commands, "AUTOCOMPLETE_BUDGET", 0.1)
    auto = await env.fake.dispatch_autocomplete("who", {"question": "sa"}, "question")
    callback = await auto.wait_callback(timeout=30)
    assert callback.type == 8 and callback.choices
    assert not database_answers.is_set()
    database_answers.set()


async def test_nothing_sent_can_mention_anyone(env: Env) -> None:
    fake = env.fake
    await answered(
        await fake.dispatch_command(
            "digest-admin subscribe",
            {"channel": ANNOUNCES_CHANNEL_ID, "language": "en", "time": "08:00", "timezone": "UTC"},
            locale="en-US",
            **ADMIN,
        )
    )
    await answered(
        await fake.dispatch_command(
            "digest-admin send-now", {"channel": ANNOUNCES_CHANNEL_ID}, locale="en-US", **ADMIN
        )
    )
    await answered(await fake.dispatch_command("story", {}, locale="fr"))
    await answered(await fake.dispatch_command("timeline", {"date": "nope"}, locale="fr"))
    payloads = sent_payloads(env)
    assert len(payloads) >= 4
    for payload in payloads:
        assert payload.get("allowed_mentions", {}).get("parse") == [], payload
        for embed in payload.get("embeds") or []:
            assert embed.get("title") or embed.get("description"), payload


def _walk(node: dict[str, Any], path: str) -> Iterator[tuple[str, dict[str, Any]]]:
    yield path, node
    for option in node.get("options") or []:
        yield from _walk(option, f"{path} {option['name']}")


async def test_synced_commands_follow_discords_rules_in_every_locale(env: Env) -> None:
    """Names lowercase ``^[-_\\p{L}\\p{N}]{1,32}$`` and unique among siblings in every locale,
    descriptions and choice names 1-100 characters, required options first."""
    for command in env.fake.commands[None]:
        for path, node in _walk(command, command["name"]):
            names = {"": node["name"], **(node.get("name_localizations") or {})}
            for locale, name in names.items():
                assert valid_name(name), (path, locale, name)
            descriptions = {
                "": node["description"],
                **(node.get("description_localizations") or {}),
            }
            for locale, text in descriptions.items():
                assert 1 <= len(text) <= 100, (path, locale, text)
            for choice in node.get("choices") or []:
                for text in [choice["name"], *(choice.get("name_localizations") or {}).values()]:
                    assert 1 <= len(text) <= 100 and len(str(choice["value"])) <= 100
            options = node.get("options") or []
            for locale in ("", "fr"):
                shown = [
                    (o.get("name_localizations") or {}).get(locale, o["name"]) for o in options
                ]
                assert len(set(shown)) == len(shown), (path, locale, shown)
            required = [bool(o.get("required")) for o in options if o["type"] not in (1, 2)]
            assert required == sorted(required, reverse=True), path
    french = {
        (c.get("name_localizations") or {}).get("fr", c["name"]) for c in env.fake.commands[None]
    }
    assert "résumé-admin" in french and len(french) == len(env.fake.commands[None])
    assert not valid_name("Résumé") and not valid_name("deux mots") and valid_name("résumé-admin")
