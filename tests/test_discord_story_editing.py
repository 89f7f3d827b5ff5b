"""Editing the story from Discord, through the real discord.py code paths against the fake
Discord: /story-edit (editors only, refused in the member's language), the event modal, errors
listed with a button that reopens the form with the values kept, preview, publish, discard;
/digest-admin editors names a role, in that server only."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.stories.editing import Editor
from tests.discord_env import Env, discord_env
from tests.fakes.discord_server import (
    GUILD_ID,
    MEMBER_USER_ID,
    MODERATORS_ROLE_ID,
    OWNER_USER_ID,
    FakeInteraction,
)

ADMIN = {"user_id": OWNER_USER_ID}
MEMBER = {"user_id": MEMBER_USER_ID}
SLUG = "openai-crisis-2023"
FIELDS = ("date", "headline_fr", "headline_en", "text_fr", "text_en")


@pytest.fixture
async def env(tmp_path: Path) -> AsyncIterator[Env]:
    async with discord_env(tmp_path) as env:
        yield env


def text_of(payload: dict[str, Any] | None) -> str:
    payload = payload or {}
    parts = [payload.get("content") or ""]
    for embed in payload.get("embeds") or []:
        parts += [embed.get("title") or "", embed.get("description") or ""]
    return "\n".join(parts)


async def answer(interaction: FakeInteraction) -> dict[str, Any]:
    callback = await interaction.wait_callback(timeout=10)
    if callback.type == 5:
        return await interaction.wait_followup(timeout=10)
    assert callback.type == 4, callback
    return callback.data or {}


def inputs(modal: dict[str, Any]) -> list[dict[str, Any]]:
    found = []
    for row in modal["components"]:
        found.extend(row.get("components") or [row.get("component")])
    return found


async def submit(
    env: Env, modal: dict[str, Any], values: dict[str, str], *, user_id: int
) -> FakeInteraction:
    """A modal submission (interaction type 5) for the modal a callback opened."""
    payload = env.fake.build_interaction(
        2, "story-edit add-event", {}, user_id=user_id, locale="fr"
    )
    components = []
    for name, field in zip(FIELDS, inputs(modal), strict=True):
        components.append(
            {
                "type": 1,
                "components": [
                    {"type": 4, "custom_id": field["custom_id"], "value": values.get(name, "")}
                ],
            }
        )
    payload["type"] = 5
    payload["data"] = {"custom_id": modal["custom_id"], "components": components}
    return await env.fake.dispatch_interaction(payload)


async def click(env: Env, message: dict[str, Any], *, user_id: int) -> FakeInteraction:
    button = message["components"][0]["components"][0]
    payload = env.fake.build_interaction(
        2, "story-edit add-event", {}, user_id=user_id, locale="fr"
    )
    payload["type"] = 3
    payload["data"] = {"custom_id": button["custom_id"], "component_type": 2}
    payload["message"] = message
    return await env.fake.dispatch_interaction(payload)


async def test_members_are_refused_in_their_language(env: Env) -> None:
    fr = await env.fake.dispatch_command("story-edit add-event", {}, locale="fr", **MEMBER)
    assert "seuls les administrateurs" in text_of(await answer(fr))
    en = await env.fake.dispatch_command("story-edit publish", {}, locale="en-US", **MEMBER)
    assert "only this workspace's admins" in text_of(await answer(en))
    editors = await env.fake.dispatch_command(
        "digest-admin editors", {"role": MODERATORS_ROLE_ID}, locale="fr", **MEMBER
    )
    callback = await editors.wait_callback(timeout=10)
    assert callback.ephemeral and "Gérer le serveur" in text_of(callback.data)


async def test_add_an_event_fix_errors_preview_publish(env: Env) -> None:
    opened = await env.fake.dispatch_command(
        "story-edit add-event",
        {"people": "Sam Altman", "source": "https://example.org/altman"},
        locale="fr",
        **ADMIN,
    )
    callback = await opened.wait_callback(timeout=10)
    assert callback.type == 9, callback  # a modal
    modal = callback.data or {}
    assert modal["title"] == "Ajouter un événement" and len(inputs(modal)) == 5

    values = {
        "date": "2023-11-31",
        "headline_fr": "Retour de Sam Altman",
        "headline_en": "",
        "text_fr": "Sam Altman revient.",
        "text_en": "Sam Altman is back.",
    }
    refused = await submit(env, modal, values, user_id=OWNER_USER_ID)
    reply = await answer(refused)
    text = text_of(reply)
    assert "L’événement n’a pas été enregistré" in text
    assert "**Date** — Cette date n’existe pas." in text
    assert "**Titre en anglais** — Obligatoire, en français et en anglais." in text
    assert (await refused.wait_callback()).ephemeral
    message = refused.original or reply
    reopened = await click(env, message, user_id=OWNER_USER_ID)
    again = await reopened.wait_callback(timeout=10)
    assert again.type == 9
    kept = {f["custom_id"]: f.get("value") for f in inputs(again.data or {})}
    assert list(kept.values())[:2] == ["2023-11-31", "Retour de Sam Altman"]

    values.update(date="2023-11-22", headline_en="Sam Altman returns")
    saved = await submit(env, again.data or {}, values, user_id=OWNER_USER_ID)
    assert "Événement ajouté au brouillon (sam-altman-returns)" in text_of(await answer(saved))

    draft = await env.fake.dispatch_command("story-edit draft", {}, locale="fr", **ADMIN)
    preview = text_of(await answer(draft))
    assert "Brouillon (depuis la révision 1)" in preview
    assert "+ 22 novembre 2023 · Retour de Sam Altman" in preview
    await env.fake.wait_until(lambda: len(draft.followups) >= 3, what="the digests", timeout=10)
    assert "Sam Altman returns" in text_of(draft.followups[-1])

    published = await env.fake.dispatch_command(
        "story-edit publish", {"comment": "retour"}, locale="fr", **ADMIN
    )
    assert "Publiée : révision 2" in text_of(await answer(published))
    events = env.context.library.get(SLUG).events
    new = next(e for e in events if e.id == "sam-altman-returns")
    assert new.people == ("sam-altman",)
    assert env.context.library.get(SLUG).source_by_id[new.source].url == (
        "https://example.org/altman"
    )


async def test_a_named_role_edits_in_its_own_server_only(env: Env) -> None:
    env.fake.add_guild(
        GUILD_ID + 1,
        "Autre serveur",
        channels=[{"id": 9001, "name": "autre"}],
        roles=[{"id": 777, "name": "Rédaction"}],
        members=[
            {"id": 4242, "username": "carol"},
            {"id": 4343, "username": "dave", "roles": [777]},
        ],
        owner_id=4242,
    )
    # A role created in the first server too (Discord tells the bot with GUILD_ROLE_CREATE).
    role = env.fake._role_payload(GUILD_ID, {"id": 777, "name": "Rédaction"}, 2)
    env.fake.guilds[GUILD_ID]["roles"].append(role)
    created = asyncio.ensure_future(env.client.wait_for("guild_role_create", timeout=10))
    await env.fake.dispatch(
        "GUILD_ROLE_CREATE", {"guild_id": str(GUILD_ID), "role": role}, guild_id=GUILD_ID
    )
    assert (await created).id == 777
    for member in env.fake.guilds[GUILD_ID]["members"]:
        if member["user"]["id"] == str(MEMBER_USER_ID):
            member["roles"] = ["777"]
    named = await env.fake.dispatch_command(
        "digest-admin editors", {"role": 777}, locale="fr", **ADMIN
    )
    assert "Les membres de Rédaction peuvent maintenant modifier l’histoire" in text_of(
        await answer(named)
    )
    event_id = env.context.library.get(SLUG).timeline[0].id
    corrected = await env.fake.dispatch_command(
        "story-edit correct", {"event": event_id}, locale="fr", **MEMBER
    )
    callback = await corrected.wait_callback(timeout=10)
    assert callback.type == 9, text_of(callback.data)
    assert (callback.data or {})["title"] == "Corriger un événement"
    filled = dict(
        zip(FIELDS, (f.get("value") or "" for f in inputs(callback.data or {})), strict=True)
    )
    first = env.context.library.get(SLUG).timeline[0]
    assert filled["headline_en"] == first.headline.en
    filled["headline_en"] += " (corrected)"
    saved = await submit(env, callback.data or {}, filled, user_id=MEMBER_USER_ID)
    assert f"Événement corrigé dans le brouillon ({event_id})" in text_of(await answer(saved))
    choices = await env.fake.dispatch_autocomplete(
        "story-edit correct", {"event": "altman"}, "event", locale="fr", **MEMBER
    )
    assert (await choices.wait_callback(timeout=10)).choices

    # The same role id in another server gives nothing there; that server's admin sees no draft
    # of the first server's.
    elsewhere = await env.fake.dispatch_command(
        "story-edit draft", {}, locale="en-US", guild_id=GUILD_ID + 1, channel_id=9001, user_id=4343
    )
    assert "only this workspace's admins" in text_of(await answer(elsewhere))
    admin = await env.fake.dispatch_command(
        "story-edit discard",
        {},
        locale="en-US",
        guild_id=GUILD_ID + 1,
        channel_id=9001,
        user_id=4242,
    )
    assert "There was no draft." in text_of(await answer(admin))
    editing = env.context.editing
    assert editing is not None
    bob = Editor("discord", str(GUILD_ID), str(MEMBER_USER_ID), role_ids=("777",))
    assert editing.has_draft(bob, SLUG)  # the first server's draft is untouched
