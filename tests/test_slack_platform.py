"""What the real Slack does and a first fake did not: escaped and unescaped command text, DMs,
guests, users.info variants and cache expiry, Block Kit limits and links, token errors versus
channel errors, refused blocks or metadata, retried HTTP requests, Socket Mode disconnects."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging

import aiohttp
import pytest

from bot.publishing import PermanentPublishError, TransientPublishError
from bot.slack.app import SocketModeDisabled, is_redundant_retry
from bot.slack.blocks import render_document, safe_url, span_mrkdwn
from bot.slack.clients import SlackClients
from bot.slack.parsing import parse_digest, split_reply_lang, unescape
from bot.slack.publisher import GLOBAL_RETRY_AFTER, SlackPublisher
from bot.slack.users import UserDirectory, lang_of_locale
from digests.documents import Document, Item, Section, Span
from tests.fakes.slack_fixtures import serve_web_app
from tests.fakes.slack_server import DEFAULT_BOT_TOKEN, DEFAULT_SIGNING_SECRET, FakeSlack
from tests.test_slack_app import EN_ADMIN, FR_ADMIN, World, command, shown, socket_mode
from tests.test_slack_app import world as world
from tests.test_slack_publisher import VirtualTime, delivery, publisher
from tests.test_slack_publisher import clients as clients
from tests.test_slack_publisher import fake as fake

# ------------------------------------------------------------------ command text


def test_escaped_text_is_made_readable() -> None:
    assert unescape("AT&amp;T &lt;b&gt; &amp;lt;") == "AT&T <b> &lt;"
    assert unescape("<@U0BOB|bob> <@U0ANN> <!channel> <!here|here> <!subteam^S1|@devs>") == (
        "@bob @U0ANN @channel here @devs"
    )
    assert unescape("voir <https://ex.org/a?b=1&amp;c=2|ex.org> <https://x.io>") == (
        "voir ex.org https://x.io"
    )
    assert unescape("<#C0NEWS|news> <#C0NEWS|>") == "#news #C0NEWS"
    assert split_reply_lang(unescape("en who is &lt;Sam&gt;")) == ("en", "who is <Sam>")


def test_digest_channels_escaped_or_not() -> None:
    assert parse_digest("subscribe <#C0NEWS|news> fr").channel == "C0NEWS"
    assert parse_digest("subscribe <#C0NEWS|> fr").channel == "C0NEWS"  # newer Slack clients
    plain = parse_digest("subscribe #News both 7h")  # should_escape off: a name, not an id
    assert plain.channel is None and plain.channel_name == "news" and plain.lang == "both"
    assert parse_digest("subscribe <@U0BOB|bob>").unknown == ("@bob",)
    assert parse_digest("pause &lt;x&gt;").unknown == ("<x>",)


async def test_unescaped_channel_names_are_resolved(world: World) -> None:
    world.fake.add_channel("C0SPORT", name="sport")
    async with socket_mode(world):
        reply = await command(world, "/digest", "subscribe #sport en", user_id=EN_ADMIN)
        assert "Subscribed" in shown(reply), shown(reply)
        # the channel the command came from needs no look-up
        here = await command(
            world,
            "/digest",
            "subscribe #news en",
            user_id=EN_ADMIN,
            channel_id="C0NEWS",
            channel_name="news",
        )
        assert "Subscribed" in shown(here)
        lost = await command(world, "/digest", "subscribe #nowhere en", user_id=EN_ADMIN)
        assert "cannot find that channel" in shown(lost)
    assert sorted(sub.channel_id for sub in world.subscriptions()) == ["C0NEWS", "C0SPORT"]


async def test_direct_messages_enterprise_fields_and_guests(world: World) -> None:
    world.fake.add_user("U0GUEST", is_admin=True, is_restricted=True, locale="fr-FR")
    dm = {"channel_id": "D0DIRECT1", "channel_name": "directmessage"}
    grid = {"enterprise_id": "E0GRID", "enterprise_name": "Grid", "is_enterprise_install": "false"}
    async with socket_mode(world):
        reply = await command(world, "/digest", "subscribe fr", user_id=FR_ADMIN, **dm, **grid)
        assert "messages directs" in shown(reply) or "message direct" in shown(reply)
        who = await command(world, "/who", "Sam Altman &amp; Ilya", user_id=FR_ADMIN, **dm)
        assert "Altman" in shown(who)
        guest = await command(world, "/digest", "list", user_id="U0GUEST", **grid)
        assert "administrateurs" in shown(guest) or "admins" in shown(guest)
    assert world.subscriptions() == []


# ------------------------------------------------------------------ users.info


@pytest.mark.parametrize(
    ("locale", "lang"),
    [("fr-FR", "fr"), ("fr-CA", "fr"), ("fr_BE", "fr"), ("en-US", "en"), ("es-ES", "en"), (None, "en")],
)  # fmt: skip
def test_locales(locale: str | None, lang: str) -> None:
    assert lang_of_locale(locale) == lang


async def test_user_flags_missing_fields_and_cache_expiry(fake: FakeSlack) -> None:
    fake.add_user("U0PRIME", is_primary_owner=True, locale=None, tz=None)
    fake.add_user("U0BOT", is_admin=True, is_bot=True, tz=None)
    fake.add_user("U0WEIRD", tz="Mars/Olympus_Mons", locale="fr-CA")
    fake.add_user("U0LATER", locale="en-US")
    now = [0.0]
    clients = SlackClients(DEFAULT_BOT_TOKEN, api_url=fake.api_url)
    users = UserDirectory(clients, clock=lambda: now[0])
    try:
        prime = await users.get(fake.team_id, "U0PRIME")
        assert prime.is_admin and prime.lang == "en" and prime.tz is None
        assert not (await users.get(fake.team_id, "U0BOT")).is_admin
        weird = await users.get(fake.team_id, "U0WEIRD")
        assert weird.tz is None and weird.lang == "fr"

        assert (await users.get(fake.team_id, "U0LATER")).lang == "en"
        fake.add_user("U0LATER", locale="fr-FR", is_admin=True)  # changed in Slack
        now[0] += 60
        cached = await users.get(fake.team_id, "U0LATER")
        assert cached.lang == "en" and not cached.is_admin  # still cached
        now[0] += users.ttl
        fresh = await users.get(fake.team_id, "U0LATER")
        assert fresh.lang == "fr" and fresh.is_admin  # the cache expired
        assert users.ttl <= 900
    finally:
        await clients.close()


# ------------------------------------------------------------------ Block Kit


def test_links_and_emphasis() -> None:
    assert safe_url("https://ex.org/?a=1&b=2") == "https://ex.org/?a=1&amp;b=2"
    assert safe_url("mailto:a@b.c") is None and safe_url("ftp://x") is None
    linked = span_mrkdwn(Span("la source", url="https://ex.org/?a=1&b=2"))
    assert linked == "<https://ex.org/?a=1&amp;b=2|la source>"
    # a name with underscores in italics, a literal * in bold: no emphasis rather than a broken one
    assert span_mrkdwn(Span("snake_case_name", emphasis="em")) == "snake_case_name"
    assert span_mrkdwn(Span("5 * 3", emphasis="strong")) == "5 * 3"
    assert span_mrkdwn(Span("foo_bar", emphasis="strong")) == "*foo_bar*"
    assert span_mrkdwn(Span("Sam Altman", emphasis="em")) == "_Sam Altman_"
    # only &, <, > are escaped: no backslashes or other entities
    assert span_mrkdwn(Span("a*b_c~d`e\\f")) == "a*b_c~d`e\\f"
    bare = span_mrkdwn(Span("lire <https://ex.org/?a=1&b=2> & co"))
    assert bare == "lire <https://ex.org/?a=1&amp;b=2> &amp; co"


async def test_fake_enforces_block_kit_limits_like_slack(fake: FakeSlack) -> None:
    from slack_sdk.errors import SlackApiError
    from slack_sdk.web.async_client import AsyncWebClient

    client = AsyncWebClient(token=DEFAULT_BOT_TOKEN, base_url=fake.api_url)
    bad = [
        [{"type": "header", "text": {"type": "plain_text", "text": "x" * 151}}],
        [{"type": "header", "text": {"type": "mrkdwn", "text": "x"}}],
        [{"type": "context", "elements": [{"type": "mrkdwn", "text": "x"}] * 11}],
        [{"type": "section", "fields": [{"type": "mrkdwn", "text": "x"}] * 11}],
        [{"type": "section", "fields": [{"type": "mrkdwn", "text": "x" * 2001}]}],
        [{"type": "section", "text": {"type": "mrkdwn", "text": ""}}],
    ]
    for blocks in bad:
        with pytest.raises(SlackApiError) as error:
            await client.chat_postMessage(channel=fake.channel_id, text="x", blocks=blocks)
        assert error.value.response["error"] == "invalid_blocks", blocks
    with pytest.raises(SlackApiError) as error:
        await client.chat_postMessage(
            channel=fake.channel_id,
            text="x",
            metadata={"event_type": "t", "event_payload": {"a": None}},
        )
    assert error.value.response["error"] == "invalid_metadata_format"
    # and our own renderings pass
    title = "Un titre très long " * 20
    doc = Document(
        kind="digest", lang="fr", title=title, sections=(Section("S", (Item((Span("x"),)),)),)
    )
    for message in render_document(doc):
        await client.chat_postMessage(channel=fake.channel_id, **message.payload())


# ------------------------------------------------------------------ posting errors


@pytest.mark.parametrize(
    "code", ["invalid_auth", "token_revoked", "account_inactive", "missing_scope", "team_access_not_granted"]
)  # fmt: skip
async def test_token_problems_are_not_channel_problems(
    fake: FakeSlack,
    clients: SlackClients,
    code: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    fake.fail_next("chat.postMessage", error=code, count=2)
    pub = publisher(clients)
    with caplog.at_level(logging.ERROR, logger="bot.slack.publisher"):
        for _ in range(2):
            with pytest.raises(TransientPublishError) as error:
                await pub.publish(delivery())
            assert error.value.retry_after == GLOBAL_RETRY_AFTER and code in error.value.reason
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1 and code in errors[0].getMessage()  # loud, but once
    assert pub.global_errors == 2


async def test_restricted_channel_pauses(fake: FakeSlack, clients: SlackClients) -> None:
    fake.add_channel("C0ANNOUNCE", error="restricted_action")
    with pytest.raises(PermanentPublishError) as error:
        await publisher(clients).publish(delivery(channel="C0ANNOUNCE"))
    assert error.value.code == "restricted_action"
    from bot.slack.publisher import notice_text

    text = notice_text(delivery(channel="C0ANNOUNCE"), error.value.reason, "fr")
    assert "restreinte" in text


@pytest.mark.parametrize("status", [500, 502, 503])
async def test_server_errors_are_transient(
    fake: FakeSlack,
    clients: SlackClients,
    status: int,
) -> None:
    fake.fail_next("chat.postMessage", status=status)
    with pytest.raises(TransientPublishError):
        await publisher(clients).publish(delivery())
    for code in ("fatal_error", "internal_error"):
        fake.fail_next("chat.postMessage", error=code)
        with pytest.raises(TransientPublishError):
            await publisher(clients).publish(delivery())


async def test_refused_blocks_or_metadata_still_post(
    fake: FakeSlack, clients: SlackClients
) -> None:
    fake.add_channel("C0NEWS")
    pub = publisher(clients)
    fake.fail_next("chat.postMessage", error="invalid_blocks")
    result = await pub.publish(delivery(channel="C0NEWS"))
    (posted,) = fake.posts("C0NEWS")
    assert posted.blocks in (None, []) and posted.text and posted.metadata is not None
    fake.fail_next("chat.postMessage", error="invalid_metadata_format")
    await pub.publish(delivery(id=8, channel="C0NEWS"))
    assert len(fake.posts("C0NEWS")) == 2
    assert len(result.message_ids) == len(fake.messages("C0NEWS")) // 2  # post + thread reply


async def test_metadata_has_no_nulls(fake: FakeSlack, clients: SlackClients) -> None:
    fake.add_channel("C0NEWS")
    no_slug = dataclasses.replace(delivery(channel="C0NEWS"), story_slug=None)  # type: ignore[arg-type]
    payload = SlackPublisher.metadata(no_slug, 1, 1)["event_payload"]
    assert None not in payload.values() and "story" not in payload
    await publisher(clients).publish(no_slug)
    (posted,) = fake.posts("C0NEWS")
    assert posted.metadata is not None and posted.metadata["event_payload"]["key"]


async def test_history_lookup_pages_and_is_bounded(fake: FakeSlack, clients: SlackClients) -> None:
    fake.add_channel("C0BUSY")
    time = VirtualTime()
    pub = publisher(clients, time)
    first = await pub.publish(delivery(channel="C0BUSY"))
    from slack_sdk.web.async_client import AsyncWebClient

    chatty = AsyncWebClient(token=DEFAULT_BOT_TOKEN, base_url=fake.api_url)
    for i in range(450):  # later messages: ours is on the third page of 200
        await chatty.chat_postMessage(channel="C0BUSY", text=f"msg {i}")
    found = await pub.find_published(delivery(channel="C0BUSY", attempt=2))
    assert found is not None and found.message_ids == first.message_ids
    calls = fake.calls_to("conversations.history")
    assert len(calls) >= 3 and all(c.params.get("oldest") for c in calls)
    assert all(str(c.params.get("include_all_metadata")).lower() in ("1", "true") for c in calls)


# ------------------------------------------------------------------ HTTP retries


def test_redundant_retry_rule() -> None:
    assert is_redundant_retry({"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"})
    assert not is_redundant_retry({"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_error"})
    assert not is_redundant_retry({})


async def test_http_retry_after_timeout_is_not_acted_on_twice(world: World) -> None:
    async with serve_web_app(world.bot.web_app()) as base, aiohttp.ClientSession() as http:
        url = base + "/slack/events"
        request = world.fake.signed_slash_command(
            DEFAULT_SIGNING_SECRET, "/who", "qui est Sam Altman", user_id=FR_ADMIN
        )
        async with http.post(url, data=request.body, headers=request.headers) as res:
            assert res.status == 200
        await world.fake.next_response(timeout=10)
        retry = {
            **request.headers,
            "X-Slack-Retry-Num": "1",
            "X-Slack-Retry-Reason": "http_timeout",
        }
        async with http.post(url, data=request.body, headers=retry) as res:
            assert res.status == 200 and res.headers.get("X-Slack-No-Retry") == "1"
        # A barrier instead of a fixed wait: a later command's answer arrives; the retry, had it
        # been acted on, would have answered by then too (same path, sent earlier).
        marker = world.fake.signed_slash_command(
            DEFAULT_SIGNING_SECRET, "/faq", "", user_id=FR_ADMIN
        )
        async with http.post(url, data=marker.body, headers=marker.headers) as res:
            assert res.status == 200
        await world.fake.next_response(timeout=30)
    assert len(world.fake.responses) == 2


# ------------------------------------------------------------------ Socket Mode


async def test_socket_mode_reconnects_then_stops_on_link_disabled(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    task = asyncio.create_task(world.bot.serve("socket"))
    try:
        await world.fake.wait_connected()
        with caplog.at_level(logging.INFO, logger="bot.slack.app"):
            for reason in ("warning", "refresh_requested", "too_many_websockets"):
                opened = len(world.fake.calls_to("apps.connections.open"))
                await world.fake.send_disconnect(reason)
                for _ in range(100):
                    if len(world.fake.calls_to("apps.connections.open")) > opened:
                        break
                    await asyncio.sleep(0.05)
                assert len(world.fake.calls_to("apps.connections.open")) > opened, reason
            await world.fake.wait_connected()
            reply = await command(world, "/faq", "en", user_id=EN_ADMIN)
            assert shown(reply)
            opened = len(world.fake.calls_to("apps.connections.open"))
            await world.fake.send_disconnect("link_disabled")
            with pytest.raises(SocketModeDisabled):
                await asyncio.wait_for(task, 5)
        assert len(world.fake.calls_to("apps.connections.open")) == opened  # no reconnection
        assert any("too many websockets" in r.getMessage() for r in caplog.records)
        assert any("link_disabled" in r.getMessage() for r in caplog.records)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, SocketModeDisabled):
            await task
