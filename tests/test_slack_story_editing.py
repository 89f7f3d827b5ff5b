"""Editing the story from Slack, through the real slack_bolt code paths (Socket Mode) against the
fake Slack: editors only (refusals in the user's language), the event modal with its errors
shown in the modal, draft preview, publish (served at once), discard, naming editors."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest_asyncio

from bot.admin import AdminService
from bot.delivery import DeliveryWorker
from bot.publishing import PublisherRegistry
from bot.settings import SlackSettings
from bot.slack.app import SlackBot
from bot.slack.blocks import block_text
from bot.store import Store
from bot.stories import LiveStories, StoryRevisions
from bot.stories.editing import StoryEditing
from tests.fakes.slack_server import (
    DEFAULT_APP_TOKEN,
    DEFAULT_BOT_TOKEN,
    DEFAULT_SIGNING_SECRET,
    DEFAULT_USER_ID,
    FakeSlack,
    ResponseUrlPost,
)

FR_ADMIN = "U0FRADMIN"
FR_MEMBER = "U0FRMEMBER"
SLUG = "openai-crisis-2023"


@dataclass
class World:
    fake: FakeSlack
    bot: SlackBot
    live: LiveStories


@pytest_asyncio.fixture
async def world(tmp_path: Any) -> AsyncIterator[World]:
    async with FakeSlack(channel_rate=None) as fake:
        fake.add_user(FR_ADMIN, is_admin=True, locale="fr-FR", tz="Europe/Paris")
        fake.add_user(FR_MEMBER, locale="fr-FR", tz="Europe/Paris")
        store = Store.open(f"sqlite:///{tmp_path / 'bot.sqlite3'}")
        revisions = StoryRevisions(store)
        live = LiveStories.start(revisions, None)
        registry = PublisherRegistry()
        worker = DeliveryWorker(store, live.library, registry)
        admin = AdminService(store, live.library, publishers=registry, worker=worker)
        editing = StoryEditing(store, revisions, on_publish=live.refresh)
        bot = SlackBot(
            settings=SlackSettings(
                bot_token=DEFAULT_BOT_TOKEN,  # type: ignore[arg-type]
                app_token=DEFAULT_APP_TOKEN,  # type: ignore[arg-type]
                signing_secret=DEFAULT_SIGNING_SECRET,  # type: ignore[arg-type]
                api_url=fake.api_url,
            ),
            admin=admin,
            library=live.library,
            store=store,
            editing=editing,
        )
        task = asyncio.create_task(bot.serve("socket"))
        try:
            await fake.wait_connected()
            yield World(fake, bot, live)
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            await bot.clients.close()
            store.dispose()


async def story(world: World, text: str, user_id: str) -> ResponseUrlPost:
    ack = await world.fake.send_slash_command("/story", text, user_id=user_id)
    assert not ack.payload
    return await world.fake.next_response(timeout=10)


def shown(post: ResponseUrlPost) -> str:
    return "\n".join(block_text(block) for block in post.blocks or [])


def field(value: str) -> dict[str, Any]:
    return {"value": {"type": "plain_text_input", "value": value}}


async def test_non_editors_are_refused_in_their_language(world: World) -> None:
    fr = await story(world, "add-event", FR_MEMBER)
    assert shown(fr).startswith("Désolé, seuls les administrateurs de cet espace")
    en = await story(world, "publish", DEFAULT_USER_ID)
    assert shown(en).startswith("Sorry, only this workspace's admins")
    assert world.fake.views == []
    # /story alone still tells the story so far.
    so_far = await story(world, "", FR_MEMBER)
    assert "OpenAI" in shown(so_far)


async def test_add_an_event_in_the_modal_preview_publish(world: World) -> None:
    ack = await world.fake.send_slash_command("/story", "add-event", user_id=FR_ADMIN)
    assert not ack.payload
    await world.fake.next_call("views.open", timeout=5)
    (view,) = world.fake.views
    assert view["title"]["text"] == "Ajouter un événement"
    blocks = {block["block_id"]: block for block in view["blocks"]}
    people = blocks["people"]["element"]
    assert people["type"] == "multi_static_select"
    assert {"sam-altman", "mira-murati"} <= {o["value"] for o in people["options"]}

    values = {
        "date": field("2023-11-31"),
        "headline_fr": field("Retour de Sam Altman"),
        "headline_en": field(""),
        "text_fr": field("Sam Altman revient."),
        "text_en": field("Sam Altman is back."),
        "people": {"value": {"type": "multi_static_select", "selected_options": []}},
        "source_url": field("ftp://example.org"),
    }
    refused = await world.fake.send_envelope(
        "interactive", world.fake.view_submission(view, values, user_id=FR_ADMIN)
    )
    assert refused is not None and refused.payload["response_action"] == "errors"
    assert refused.payload["errors"] == {
        "date": "Cette date n’existe pas.",
        "headline_en": "Obligatoire, en français et en anglais.",
        "source_url": "Une adresse web commençant par https:// (ou http://).",
    }

    values["date"] = field("2023-11-22")
    values["headline_en"] = field("Sam Altman returns")
    values["source_url"] = field("https://example.org/altman")
    values["people"] = {
        "value": {
            "type": "multi_static_select",
            "selected_options": [{"value": "sam-altman"}],
        }
    }
    saved = await world.fake.send_envelope(
        "interactive", world.fake.view_submission(view, values, user_id=FR_ADMIN)
    )
    assert saved is not None and not (saved.payload or {}).get("errors")
    confirmation = await world.fake.next_ephemeral(timeout=5)
    assert "Événement ajouté au brouillon" in (confirmation.text or "")

    draft = await story(world, "draft", FR_ADMIN)
    text = shown(draft)
    assert "Brouillon (depuis la révision 1)" in text
    assert "+ 22 novembre 2023 · Retour de Sam Altman" in text
    preview_fr = await world.fake.next_response(timeout=10)
    preview_en = await world.fake.next_response(timeout=10)
    assert "Retour de Sam Altman" in shown(preview_fr)
    assert "Sam Altman returns" in shown(preview_en)
    assert "Sam Altman returns" not in "".join(
        e.headline.en for e in world.live.library.get(SLUG).events
    )

    published = await story(world, "publish Retour d'Altman", FR_ADMIN)
    assert shown(published).startswith("Publiée : révision 2 de l’histoire")
    # This instance serves it at once; the others at their next tick.
    assert "Sam Altman returns" in [e.headline.en for e in world.live.library.get(SLUG).events]
    again = await story(world, "discard", FR_ADMIN)
    assert shown(again) == "Il n’y avait pas de brouillon."


async def test_admins_name_editors_and_correct_an_event(world: World) -> None:
    named = await story(world, f"editors add <@{FR_MEMBER}|marie>", FR_ADMIN)
    assert shown(named) == f"<@{FR_MEMBER}> peut maintenant modifier l’histoire."
    refused = await story(world, f"editors add <@{DEFAULT_USER_ID}>", FR_MEMBER)
    assert shown(refused).startswith("Désolé, seuls les administrateurs de cet espace peuvent")

    listing = await story(world, "correct", FR_MEMBER)
    assert "sam-altman-fired" in shown(listing) or "Quel événement" in shown(listing)
    event_id = world.live.library.get(SLUG).timeline[0].id
    ack = await world.fake.send_slash_command("/story", f"correct {event_id}", user_id=FR_MEMBER)
    assert not ack.payload
    await world.fake.next_call("views.open", timeout=5)
    (view,) = world.fake.views
    assert view["title"]["text"] == "Corriger un événement"
    blocks = {block["block_id"]: block for block in view["blocks"]}
    first = world.live.library.get(SLUG).timeline[0]
    assert blocks["headline_en"]["element"]["initial_value"] == first.headline.en
    values = {
        name: field(block["element"].get("initial_value", ""))
        for name, block in blocks.items()
        if name != "people"
    }
    values["headline_en"] = field(first.headline.en + " (corrected)")
    saved = await world.fake.send_envelope(
        "interactive", world.fake.view_submission(view, values, user_id=FR_MEMBER)
    )
    assert saved is not None and not (saved.payload or {}).get("errors")
    confirmation = await world.fake.next_ephemeral(timeout=5)
    assert "Événement corrigé dans le brouillon" in (confirmation.text or "")
    discarded = await story(world, "discard", FR_MEMBER)
    assert shown(discarded) == "Brouillon abandonné."
