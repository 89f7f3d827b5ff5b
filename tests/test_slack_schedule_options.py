"""Days, cadence and format from Slack's /digest subscribe: the real Bolt app over Socket Mode
against the fake Slack, through the admin service, down to what the channel receives."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from typing import Any

import pytest_asyncio

from bot.admin import AdminService
from bot.delivery import DeliveryWorker
from bot.publishing import PublisherRegistry
from bot.settings import SlackSettings
from bot.slack.app import SlackBot
from bot.slack.blocks import block_text
from bot.slack.parsing import parse_digest
from bot.store import Store
from digests.story import StoryLibrary
from tests.fakes.slack_server import (
    DEFAULT_APP_TOKEN,
    DEFAULT_BOT_TOKEN,
    DEFAULT_SIGNING_SECRET,
    FakeSlack,
)
from tests.test_slack_app import FR_ADMIN, World, command, shown, socket_mode

NOW = dt.datetime(2023, 11, 18, 9, 0, tzinfo=dt.UTC)  # a Saturday of the story


@pytest_asyncio.fixture
async def world(tmp_path: Any) -> AsyncIterator[World]:
    async with FakeSlack(channel_rate=None) as fake:
        fake.add_user(FR_ADMIN, is_admin=True, locale="fr-FR", tz="Europe/Paris")
        fake.add_channel("C0NEWS", name="news")
        store = Store.open(f"sqlite:///{tmp_path / 'bot.sqlite3'}")
        library = StoryLibrary.load(None)
        registry = PublisherRegistry()
        worker = DeliveryWorker(store, library, registry, clock=lambda: NOW)
        admin = AdminService(store, library, publishers=registry, worker=worker, clock=lambda: NOW)
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
        admin.register_channel_validator("slack", bot.validate_channel)
        try:
            yield World(fake, bot, store, admin)
        finally:
            await bot.clients.close()
            store.dispose()


def posted_text(world: World, channel: str) -> list[str]:
    return [
        "\n".join(block_text(block) for block in message.blocks or [])
        for message in world.fake.messages(channel)
    ]


def test_parsing_days_cadence_and_format() -> None:
    args = parse_digest("subscribe <#C0NEWS|news> days=lun-ven compact 7h")
    assert (args.days, args.cadence, args.format, args.time) == (
        "lun-ven",
        None,
        "compact",
        "07:00",
    )
    args = parse_digest("subscribe hebdo jours=dim format=full")
    assert (args.days, args.cadence, args.format, args.unknown) == ("dim", "weekly", "full", ())
    args = parse_digest("subscribe mon,wed,fri rythme=daily")
    assert (args.days, args.cadence) == ("mon,wed,fri", "daily")
    args = parse_digest("subscribe days=mon days=tue")
    assert args.unknown == ("days=tue",)


async def test_subscribe_with_days_format_and_weekly_then_send_now(world: World) -> None:
    async with socket_mode(world):
        created = await command(
            world, "/digest", "subscribe <#C0NEWS|news> en days=lun-ven compact", user_id=FR_ADMIN
        )
        assert "Monday to Friday, compact" in shown(created), shown(created)
        [row] = world.subscriptions()
        assert (row.days, row.cadence, row.format, row.lang) == (31, "daily", "compact", "en")
        await command(world, "/digest", "send-now <#C0NEWS>", user_id=FR_ADMIN)
        [compact] = posted_text(world, "C0NEWS")
        assert "*OpenAI President Greg Brockman quits* — The day after the firing" in compact
        assert "The full digest: /digest preview" in compact and "Who's who" not in compact
        assert [m.thread_ts for m in world.fake.messages("C0NEWS")] == [None]  # no "more" reply

        weekly = await command(
            world, "/digest", "subscribe <#C0NEWS|news> fr hebdo samedi 18h", user_id=FR_ADMIN
        )
        assert "récapitulatif de la semaine le samedi" in shown(weekly), shown(weekly)
        await command(world, "/digest", "send-now <#C0NEWS> fr", user_id=FR_ADMIN)
        roll_up = posted_text(world, "C0NEWS")[-1]
        assert "La semaine du 12 au 18 novembre 2023" in roll_up
        assert "Jour 1 — vendredi 17 novembre 2023" in roll_up and "Jour 2" in roll_up

        listing = await command(world, "/digest", "list en", user_id=FR_ADMIN)
        assert "weekly roll-up on Saturday" in shown(listing)
        assert "Monday to Friday, compact" in shown(listing)


async def test_bad_options_are_refused_in_french(world: World) -> None:
    async with socket_mode(world):
        bad = await command(world, "/digest", "subscribe jours=lundy", user_id=FR_ADMIN)
        assert "Jours invalides 'lundy' : donnez des noms de jours" in shown(bad), shown(bad)
        two = await command(world, "/digest", "subscribe hebdo sam,dim", user_id=FR_ADMIN)
        assert "un seul jour (pas sam. et dim.) : choisissez-en un." in shown(two), shown(two)
        odd = await command(world, "/digest", "subscribe format=tiny", user_id=FR_ADMIN)
        assert "Format inconnu 'tiny' (au choix : full, compact)." in shown(odd), shown(odd)
        misplaced = await command(world, "/digest", "pause compact", user_id=FR_ADMIN)
        assert "Je n'ai pas compris : compact." in shown(misplaced), shown(misplaced)
        assert world.subscriptions() == []
        usage = await command(world, "/digest", "aide", user_id=FR_ADMIN)
        assert "jours=lun-ven" in shown(usage) and "hebdo" in shown(usage)


async def test_compact_links_to_the_days_page_when_the_bot_has_a_public_address(
    world: World,
) -> None:
    from bot.delivery import DocumentCache

    world.admin.worker.documents = DocumentCache(
        world.admin.library, no_news_line=False, public_url="https://depeche.example"
    )
    async with socket_mode(world):
        await command(world, "/digest", "subscribe <#C0NEWS|news> en compact", user_id=FR_ADMIN)
        await command(world, "/digest", "send-now <#C0NEWS>", user_id=FR_ADMIN)
        [compact] = posted_text(world, "C0NEWS")
        page = "https://depeche.example/en/openai-crisis-2023/2023-11-18/"
        assert f"<{page}|Read the full digest>" in compact, compact
        assert "/digest preview" not in compact


async def test_the_modal_offers_days_cadence_and_format(world: World) -> None:
    async with socket_mode(world):
        await world.fake.send_slash_command("/digest", "", user_id=FR_ADMIN)
        await world.fake.next_call("views.open", timeout=5)
        (view,) = world.fake.views
        blocks = {block["block_id"]: block for block in view["blocks"]}
        assert blocks["days"]["optional"] is True
        assert blocks["days"]["label"]["text"] == "Jours de la semaine"
        assert [o["value"] for o in blocks["cadence"]["element"]["options"]] == ["daily", "weekly"]
        assert [o["value"] for o in blocks["format"]["element"]["options"]] == ["full", "compact"]

        def values(days: str, cadence: str, format: str) -> dict[str, Any]:
            def pick(value: str) -> dict[str, Any]:
                return {"value": {"type": "static_select", "selected_option": {"value": value}}}

            return {
                "channel": {
                    "value": {"type": "conversations_select", "selected_conversation": "C0NEWS"}
                },
                "lang": pick("fr"),
                "time": pick("07:00"),
                "tz": pick("Europe/Paris"),
                "days": {"value": {"type": "plain_text_input", "value": days}},
                "cadence": pick(cadence),
                "format": pick(format),
            }

        refused = await world.fake.send_envelope(
            "interactive",
            world.fake.view_submission(view, values("sam,dim", "weekly", "full"), user_id=FR_ADMIN),
        )
        assert refused is not None and refused.payload["response_action"] == "errors"
        assert "un seul jour (pas sam. et dim.)" in refused.payload["errors"]["days"]
        assert world.subscriptions() == []

        done = await world.fake.send_envelope(
            "interactive",
            world.fake.view_submission(view, values("dim", "weekly", "compact"), user_id=FR_ADMIN),
        )
        assert done is not None and not (done.payload or {}).get("errors")
        [row] = world.subscriptions()
        assert (row.days, row.cadence, row.format, row.post_time) == (
            64,
            "weekly",
            "compact",
            "07:00",
        )
