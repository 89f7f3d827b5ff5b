"""Slash commands and the modal, in French and English, over Socket Mode and HTTP, against the
fake Slack: replies, admin gating, usage messages, signatures."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import re
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest_asyncio
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.admin import Actor, AdminService, Target
from bot.delivery import DeliveryWorker
from bot.publishing import PublisherRegistry
from bot.settings import SlackSettings
from bot.slack import modal
from bot.slack.app import SlackBot
from bot.slack.blocks import MAX_BLOCKS, MAX_SECTION_TEXT, SlackMessage, block_text, render_reply
from bot.slack.parsing import parse_digest, parse_time, split_reply_lang
from bot.store import Store, Subscription
from digests.compose import compose_story_so_far
from digests.story import StoryLibrary, default_story
from tests.fakes.slack_fixtures import serve_web_app
from tests.fakes.slack_server import (
    DEFAULT_APP_TOKEN,
    DEFAULT_BOT_TOKEN,
    DEFAULT_CHANNEL_ID,
    DEFAULT_SIGNING_SECRET,
    DEFAULT_TEAM_ID,
    DEFAULT_USER_ID,
    FakeSlack,
    ResponseUrlPost,
    signed_slash_command,
)

FR_ADMIN = "U0FRADMIN"
EN_ADMIN = "U0ENADMIN"
LISTED = "U0LISTED"
MENTION = re.compile(r"<[!@#]")


@dataclass
class World:
    fake: FakeSlack
    bot: SlackBot
    store: Store
    admin: AdminService

    def subscriptions(self) -> list[Subscription]:
        with self.store.session() as session:
            return list(session.query(Subscription).order_by(Subscription.id))


@pytest_asyncio.fixture
async def world(tmp_path: Any) -> AsyncIterator[World]:
    async with FakeSlack(channel_rate=None) as fake:
        fake.add_user(FR_ADMIN, is_admin=True, locale="fr-FR", tz="Europe/Paris")
        fake.add_user(EN_ADMIN, is_owner=True, locale="en-GB", tz="America/New_York")
        fake.add_user(LISTED, locale="fr-CA", tz="America/Montreal")
        fake.add_channel("C0NEWS", name="news")
        store = Store.open(f"sqlite:///{tmp_path / 'bot.sqlite3'}")
        library = StoryLibrary.load(None)
        registry = PublisherRegistry()
        worker = DeliveryWorker(store, library, registry)
        admin = AdminService(store, library, publishers=registry, worker=worker)
        bot = SlackBot(
            settings=SlackSettings(
                bot_token=DEFAULT_BOT_TOKEN,  # type: ignore[arg-type]
                app_token=DEFAULT_APP_TOKEN,  # type: ignore[arg-type]
                signing_secret=DEFAULT_SIGNING_SECRET,  # type: ignore[arg-type]
                api_url=fake.api_url,
                admin_users=(LISTED,),
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


@contextlib.asynccontextmanager
async def socket_mode(world: World) -> AsyncIterator[None]:
    task = asyncio.create_task(world.bot.serve("socket"))
    try:
        await world.fake.wait_connected()
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def command(
    world: World, name: str, text: str = "", *, parts: int = 1, **fields: Any
) -> ResponseUrlPost:
    """A slash command over Socket Mode: acked at once (empty), answered via response_url
    (``parts`` messages; the first is returned, the others checked to follow in order)."""
    ack = await world.fake.send_slash_command(name, text, **fields)
    assert not ack.payload  # acknowledged first; the answer follows through respond
    first = await world.fake.next_response(timeout=10)
    for number in range(2, parts + 1):
        following = await world.fake.next_response(timeout=10)
        assert shown(following).startswith(f"Crise chez OpenAI · {number}/{parts}")
    return first


def shown(post: ResponseUrlPost) -> str:
    return "\n".join(block_text(block) for block in post.blocks or [])


# ------------------------------------------------------------------ Socket Mode, both languages


async def test_member_commands_in_french_and_english(world: World) -> None:
    async with socket_mode(world):
        fr = await command(world, "/who", "Qui est Mira Murati ?", user_id=FR_ADMIN)
        assert fr.response_type == "ephemeral" and "Murati" in shown(fr)
        en = await command(world, "/who", "who is Mira Murati?")
        assert "Murati" in shown(en) and shown(en) != shown(fr)

        timeline_fr = await command(world, "/timeline", "", user_id=FR_ADMIN)
        assert "Chronologie" in shown(timeline_fr) or "Crise chez OpenAI" in shown(timeline_fr)
        timeline_en = await command(world, "/timeline", "2023-11-18")
        assert "OpenAI" in shown(timeline_en) and "Crise" not in shown(timeline_en)

        faq = await command(
            world, "/faq", "en", user_id=FR_ADMIN
        )  # the argument overrides the locale
        assert "Frequently asked questions" in shown(faq)
        faq_fr = await command(world, "/faq", "", user_id=LISTED)  # fr-CA -> French
        assert "Questions fréquentes" in shown(faq_fr) or "questions" in shown(faq_fr).lower()

        story_parts = len(
            render_reply(compose_story_so_far(default_story(), default_story().last_day, "fr"))
        )
        story = await command(world, "/story", "fr", parts=story_parts)
        assert (story.blocks or [])[0]["type"] == "header" and "Crise chez OpenAI" in shown(story)

        preview = await command(world, "/digest", "preview 2023-11-18 fr")
        assert "Jour 2" in shown(preview)
        preview_en = await command(world, "/digest", "aperçu 2023-11-17", user_id=EN_ADMIN)
        assert "Day 1" in shown(preview_en)
    assert len(world.fake.calls_to("users.info")) == 4  # one per user (4 users), then cached


async def test_usage_messages_are_translated(world: World) -> None:
    async with socket_mode(world):
        unknown = await command(world, "/digest", "frobnicate", user_id=FR_ADMIN)
        assert "Action inconnue : frobnicate." in shown(unknown) and "Utilisation" in shown(unknown)
        bad_time = await command(world, "/digest", "subscribe 25:00", user_id=EN_ADMIN)
        assert "Invalid time '25:00': use HH:MM" in shown(bad_time) and "Usage" in shown(bad_time)
        bad_date = await command(world, "/timeline", "hier", user_id=FR_ADMIN)
        assert "Utilisation : /timeline" in shown(bad_date)
        who = await command(world, "/who", "")
        assert "/who Mira Murati" in shown(who)
        out_of_story = await command(world, "/digest", "preview 2024-01-01")
        assert "The story runs from 2023-11-17" in shown(out_of_story)
        extra = await command(world, "/digest", "list banana", user_id=EN_ADMIN)
        assert "I did not understand: banana" in shown(extra)


async def test_non_admins_are_refused(world: World) -> None:
    async with socket_mode(world):
        for text in (
            "subscribe",
            "unsubscribe",
            "pause",
            "resume",
            "list",
            "status",
            "send-now",
            "",
        ):
            refusal = await command(world, "/digest", text)
            assert refusal.response_type == "ephemeral"
            assert "only workspace admins and owners" in shown(refusal)
        refus = await command(
            world, "/digest", "subscribe fr", user_id="U0FAKEUSR1"
        )  # fr: reply in French
        assert "seuls les administrateurs" in shown(refus)
    assert world.subscriptions() == [] and not world.fake.views


async def test_admin_lifecycle_in_french(world: World) -> None:
    async with socket_mode(world):
        created = await command(
            world, "/digest", "subscribe <#C0NEWS|news> both 7h30 Europe/Paris", user_id=FR_ADMIN
        )
        assert "Abonnement créé" in shown(created)
        (sub,) = world.subscriptions()
        assert (sub.channel_id, sub.lang, sub.post_time, sub.timezone, sub.created_by) == (
            "C0NEWS", "both", "07:30", "Europe/Paris", FR_ADMIN,
        )  # fmt: skip
        # Listed in SLACK_ADMIN_USERS (not a workspace admin): allowed; defaults = this channel,
        # the user's language (fr-CA) and time zone, 08:00.
        await command(world, "/digest", "subscribe", user_id=LISTED)
        mine = [s for s in world.subscriptions() if s.channel_id == DEFAULT_CHANNEL_ID]
        assert [(s.lang, s.post_time, s.timezone) for s in mine] == [
            ("fr", "08:00", "America/Montreal")
        ]

        listing = await command(world, "/digest", "liste", user_id=FR_ADMIN)
        assert "C0NEWS" in shown(listing) and DEFAULT_CHANNEL_ID in shown(listing)
        paused = await command(world, "/digest", "pause <#C0NEWS>", user_id=FR_ADMIN)
        assert "Suspendu" in shown(paused)
        status = await command(world, "/digest", "status <#C0NEWS> en", user_id=FR_ADMIN)
        assert "paused" in shown(status)
        resumed = await command(world, "/digest", "resume <#C0NEWS|news>", user_id=FR_ADMIN)
        assert "Repris" in shown(resumed)
        tz = await command(world, "/digest", "subscribe Europe/Pari", user_id=EN_ADMIN)
        assert "Europe/Paris" in shown(tz)  # the admin service suggests close names

        # A replay starting today posts story day 1 (live mode would have no news today).
        await world.admin.update(
            Target("slack", DEFAULT_TEAM_ID, "C0NEWS"), Actor(via="cli"), mode="replay"
        )
        replay_day1 = await command(world, "/digest", "send-now <#C0NEWS>", user_id=FR_ADMIN)
        assert "Envoi immédiat" in shown(replay_day1) and "publié" in shown(replay_day1), shown(
            replay_day1
        )
        posted = world.fake.posts("C0NEWS")  # each with its "more" part in its thread
        assert len(world.fake.messages("C0NEWS")) > len(posted) == 2 and all(
            m.metadata and m.metadata["event_type"] == "digest_posted" for m in posted
        )
        # A story date: a manual delivery through the outbox (metadata, rate limits, retries),
        # posted once even when asked twice the same day.
        dated = await command(world, "/digest", "send-now <#C0NEWS> 2023-11-20", user_id=FR_ADMIN)
        assert "2023-11-20 [fr] publié" in shown(dated), shown(dated)
        assert "2023-11-20 [en] publié" in shown(dated)
        posted = world.fake.posts("C0NEWS")
        assert len(posted) == 4 and all(
            m.metadata and m.metadata["event_type"] == "digest_posted" for m in posted
        )
        await command(world, "/digest", "send-now <#C0NEWS> 2023-11-20", user_id=FR_ADMIN)
        assert len(world.fake.posts("C0NEWS")) == 4
        unknown = await command(world, "/digest", "send-now <#C0NEWS> 2024-01-05", user_id=FR_ADMIN)
        assert "Aucun événement de l’histoire le 2024-01-05" in shown(unknown), shown(unknown)
        assert len(world.fake.posts("C0NEWS")) == 4

        gone = await command(world, "/digest", "unsubscribe <#C0NEWS>", user_id=FR_ADMIN)
        assert "Désabonné" in shown(gone)
        missing = await command(world, "/digest", "unsubscribe <#C0NEWS>", user_id=EN_ADMIN)
        assert "No subscription found" in shown(missing)


async def test_private_channel_the_bot_is_not_in_is_refused(world: World) -> None:
    world.fake.add_channel("G0SECRET", is_private=True, is_member=False)
    world.fake.add_channel("C0PUBLIC", is_member=False)
    async with socket_mode(world):
        joined = await command(
            world, "/digest", "subscribe <#C0PUBLIC|public> en", user_id=EN_ADMIN
        )
        assert "Subscribed" in shown(joined)
        assert [c.params["channel"] for c in world.fake.calls_to("conversations.join")] == [
            "C0PUBLIC"
        ]
        await command(world, "/digest", "unsubscribe <#C0PUBLIC>", user_id=EN_ADMIN)
        refused = await command(world, "/digest", "subscribe <#G0SECRET|secret>", user_id=EN_ADMIN)
        assert "Unknown channel" in shown(refused) or "not allowed" in shown(refused)
    assert world.subscriptions() == []


async def test_modal_opens_and_subscribes(world: World) -> None:
    async with socket_mode(world):
        ack = await world.fake.send_slash_command("/digest", "", user_id=FR_ADMIN)
        assert not ack.payload
        call = await world.fake.next_call("views.open", timeout=5)
        assert call.status == 200
        (view,) = world.fake.views
        assert view["title"]["text"] == "Résumé quotidien"
        blocks = {block["block_id"]: block for block in view["blocks"]}
        assert blocks["channel"]["element"]["type"] == "conversations_select"
        tz_select = blocks["tz"]["element"]
        assert all(len(group["options"]) <= 100 for group in tz_select["option_groups"])
        assert tz_select["initial_option"]["value"] == "Europe/Paris"
        assert len(blocks["time"]["element"]["options"]) <= 100

        values = {
            "channel": {
                "value": {"type": "conversations_select", "selected_conversation": "C0NEWS"}
            },
            "lang": {"value": {"type": "static_select", "selected_option": {"value": "en"}}},
            "time": {"value": {"type": "static_select", "selected_option": {"value": "06:30"}}},
            "tz": {"value": {"type": "static_select", "selected_option": {"value": "Asia/Tokyo"}}},
        }
        submitted = await world.fake.send_envelope(
            "interactive", world.fake.view_submission(view, values, user_id=FR_ADMIN)
        )
        assert submitted is not None and not (submitted.payload or {}).get("errors")
        confirmation = await world.fake.next_ephemeral(timeout=5)
        assert confirmation.user == FR_ADMIN and "Abonnement créé" in (confirmation.text or "")
        (sub,) = world.subscriptions()
        assert (sub.channel_id, sub.lang, sub.post_time, sub.timezone) == (
            "C0NEWS",
            "en",
            "06:30",
            "Asia/Tokyo",
        )

        # A non-admin submitting (e.g. a stale modal) gets the refusal in the form itself.
        refused = await world.fake.send_envelope(
            "interactive", world.fake.view_submission(view, values, user_id=DEFAULT_USER_ID)
        )
        assert refused is not None and refused.payload
        assert refused.payload["response_action"] == "errors"
        assert refused.payload["errors"]["channel"].startswith("Seuls les administrateurs")


# ------------------------------------------------------------------ HTTP mode


async def test_http_mode_signed_commands_and_401s(world: World) -> None:
    async with serve_web_app(world.bot.web_app()) as base, aiohttp.ClientSession() as http:
        async with http.get(base + "/healthz") as res:
            assert res.status == 200 and (await res.json())["ok"] is True
        url = base + "/slack/events"
        fr = world.fake.signed_slash_command(
            DEFAULT_SIGNING_SECRET, "/who", "qui est Sam Altman", user_id=FR_ADMIN
        )
        async with http.post(url, data=fr.body, headers=fr.headers) as res:
            assert res.status == 200  # the ack; the answer follows through response_url
        assert "Altman" in shown(await world.fake.next_response(timeout=10))
        en = world.fake.signed_slash_command(
            DEFAULT_SIGNING_SECRET, "/digest", "preview 2023-11-20 en", user_id=FR_ADMIN
        )
        async with http.post(url, data=en.body, headers=en.headers) as res:
            assert res.status == 200
        assert "Day " in shown(await world.fake.next_response(timeout=10))

        forged = signed_slash_command(
            "wrong-secret", command="/digest", text="list", user_id=EN_ADMIN
        )
        async with http.post(url, data=forged.body, headers=forged.headers) as res:
            assert res.status == 401
        stale = world.fake.signed_slash_command(
            DEFAULT_SIGNING_SECRET, "/faq", "", timestamp=int(time.time()) - 301
        )
        async with http.post(url, data=stale.body, headers=stale.headers) as res:
            assert res.status == 401
        async with http.post(url, data=fr.body) as res:  # unsigned
            assert res.status == 401
    assert len(world.fake.responses) == 2


# ------------------------------------------------------------------ hostile input


def check_reply(post_blocks: list[dict[str, Any]] | None, text: str | None) -> None:
    assert post_blocks and len(post_blocks) <= MAX_BLOCKS
    for block in post_blocks:
        content = block_text(block)
        if block["type"] == "section":
            assert len(content) <= MAX_SECTION_TEXT
        if block.get("text", {}).get("type") != "plain_text":
            assert not MENTION.search(content), content
    assert text and not MENTION.search(text)


hostile_words = st.sampled_from(
    ["<!channel>", "<!here>", "<@U0FRADMIN>", "<#C0NEWS|news>", "@everyone", "fr", "en", "both",
     "subscribe", "preview", "2023-11-18", "2023-02-30", "25:99", "7h", "Europe/Paris", "Mars/Olympus",
     "&amp;", "<https://evil.example|clique>", "Murati", "qui", "🙂", "é" * 300, "x" * 5000]
)  # fmt: skip
texts = st.one_of(
    st.text(max_size=300),
    st.lists(hostile_words, max_size=8).map(" ".join),
)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    name=st.sampled_from(["/who", "/timeline", "/faq", "/story", "/digest"]),
    text=texts,
    admin=st.booleans(),
)
async def test_hostile_text_never_crashes_or_injects(
    world: World, name: str, text: str, admin: bool
) -> None:
    replies: list[SlackMessage] = []

    async def respond(*, text: str, blocks: list[dict[str, Any]], response_type: str) -> None:
        assert response_type == "ephemeral"
        replies.append(SlackMessage(text=text, blocks=blocks))

    body = world.fake.slash_command(name, text, user_id=EN_ADMIN if admin else DEFAULT_USER_ID)
    handler = {
        "/who": world.bot.commands.who,
        "/timeline": world.bot.commands.timeline,
        "/faq": world.bot.commands.faq,
        "/story": world.bot.commands.story,
        "/digest": world.bot.commands.digest,
    }[name]
    before = len(world.fake.views)
    await world.bot.commands._serve(
        body, respond, handler, anywhere=None if name == "/digest" else name != "/who"
    )
    assert len(replies) <= 5
    assert replies or len(world.fake.views) == before + 1  # "/digest" alone opens the modal
    for reply in replies:
        check_reply(reply.blocks, reply.text)
        assert "something went wrong" not in reply.text


# ------------------------------------------------------------------ parsing


def test_parsing_is_forgiving() -> None:
    args = parse_digest("SUBSCRIBE 8h Both <#C0123ABCD|x> America/New_York")
    assert (args.action, args.channel, args.lang, args.time, args.timezone) == (
        "subscribe", "C0123ABCD", "both", "08:00", "America/New_York",
    )  # fmt: skip
    assert (
        parse_time("7pm") == "19:00"
        and parse_time("12am") == "00:00"
        and parse_time("8") == "08:00"
    )
    assert parse_digest("send-now 2023-11-19").date == dt.date(2023, 11, 19)
    assert parse_digest("preview 2023-02-30").bad_date == "2023-02-30"
    assert parse_digest("").action is None and parse_digest("zut").action == "unknown"
    assert split_reply_lang("qui est en charge ?") == (None, "qui est en charge ?")
    assert split_reply_lang("en who is Altman") == ("en", "who is Altman")
    assert split_reply_lang("fr", anywhere=True) == ("fr", "")
    assert modal.submitted_values({"state": {"values": {}}}) == {
        "channel": None,
        "lang": None,
        "time": None,
        "tz": None,
        "days": None,
        "cadence": None,
        "format": None,
    }


def test_manifest_declares_the_commands_and_only_the_needed_scopes() -> None:
    import yaml

    manifest = yaml.safe_load(
        (Path(__file__).resolve().parents[1] / "config" / "slack-manifest.yaml").read_text()
    )
    commands = {c["command"]: c for c in manifest["features"]["slash_commands"]}
    assert set(commands) == {"/who", "/timeline", "/faq", "/story", "/digest"}
    assert all(c["should_escape"] for c in commands.values())  # channels arrive as <#C…|name>
    assert set(manifest["oauth_config"]["scopes"]["bot"]) == {
        "commands", "chat:write", "users:read", "channels:read", "groups:read", "channels:join",
        "channels:history", "groups:history", "im:write", "im:history",
    }  # fmt: skip
    assert manifest["settings"]["socket_mode_enabled"] is True
    assert manifest["settings"]["interactivity"]["is_enabled"] is True


async def test_alert_on_a_person_from_slack(world: World) -> None:
    async with socket_mode(world):
        await command(
            world, "/digest", "subscribe <#C0NEWS|news> fr 08:00 thread=daily", user_id=FR_ADMIN
        )
        added = await command(
            world, "/digest", "alert <#C0NEWS|news> Satya Nadella <!subteam^S0AZURE|@azure>",
            user_id=FR_ADMIN,
        )  # fmt: skip
        assert "satya-nadella → S0AZURE" in shown(added) and "un fil par jour" in shown(added)
        unknown = await command(
            world, "/digest", "alert <#C0NEWS|news> Bill Gates S0AZURE", user_id=FR_ADMIN
        )
        assert "Aucune personne ni organisation 'Bill Gates'" in shown(unknown)
        wide = await command(
            world, "/digest", "alert <#C0NEWS|news> Sam Altman <!channel>", user_id=FR_ADMIN
        )
        assert "Utilisation : /digest alert" in shown(wide)  # never a channel-wide mention
        refused = await command(world, "/digest", "alert Sam Altman S0AZURE")  # not an admin
        assert "satya" not in shown(refused) and "S0AZURE" not in shown(refused)
        removed = await command(
            world, "/digest", "alert <#C0NEWS|news> Satya Nadella remove", user_id=FR_ADMIN
        )
        assert "S0AZURE" not in shown(removed)
