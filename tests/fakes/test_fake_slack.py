"""The real slack_sdk / slack_bolt clients against the fake Slack."""
# ruff: noqa: F811  (pytest fixtures imported from tests.fakes.slack_fixtures)

from __future__ import annotations

import time

import aiohttp
import pytest
from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from tests.fakes.slack_fixtures import (  # noqa: F401 - fixtures
    fake_slack,
    make_bolt_app,
    serve_web_app,
    slack_client,
    socket_mode,
)
from tests.fakes.slack_server import (
    DEFAULT_APP_TOKEN,
    DEFAULT_BOT_TOKEN,
    DEFAULT_CHANNEL_ID,
    DEFAULT_SIGNING_SECRET,
    DEFAULT_TEAM_ID,
    DEFAULT_USER_ID,
    FakeSlack,
    ManualClock,
    signed_slash_command,
)

# ------------------------------------------------------------------------------ Web API


async def test_auth_test_post_with_metadata_and_read_it_back(
    fake_slack: FakeSlack, slack_client: AsyncWebClient
) -> None:
    auth = await slack_client.auth_test()
    assert auth["team_id"] == DEFAULT_TEAM_ID
    assert auth["bot_id"]
    assert auth.headers["x-oauth-scopes"]

    metadata = {"event_type": "depeche_digest", "event_payload": {"delivery_id": 42, "lang": "fr"}}
    posted = await slack_client.chat_postMessage(
        channel=DEFAULT_CHANNEL_ID,
        text="Bonjour",
        metadata=metadata,
        blocks=[{"type": "section", "text": {"type": "mrkdwn", "text": "*Bonjour*"}}],
    )
    assert posted["ok"] and posted["channel"] == DEFAULT_CHANNEL_ID

    history = await slack_client.conversations_history(
        channel=DEFAULT_CHANNEL_ID, include_all_metadata=True
    )
    (found,) = history["messages"]
    assert found["ts"] == posted["ts"]
    assert found["metadata"] == metadata
    plain = await slack_client.conversations_history(channel=DEFAULT_CHANNEL_ID)
    assert "metadata" not in plain["messages"][0]

    (stored,) = fake_slack.messages(DEFAULT_CHANNEL_ID)
    assert stored.text == "Bonjour" and stored.metadata == metadata and stored.blocks
    call = fake_slack.calls_to("chat.postMessage")[0]
    assert call.content_type == "application/json"  # slack_sdk posts chat.postMessage as JSON
    assert "Authorization" not in call.headers and "token" not in call.params
    assert call.params["metadata"] == metadata


async def test_form_encoded_body_token_in_form_and_bad_tokens(fake_slack: FakeSlack) -> None:
    async with aiohttp.ClientSession() as http:
        form = {
            "token": DEFAULT_BOT_TOKEN,
            "channel": DEFAULT_CHANNEL_ID,
            "text": "form",
            "metadata": '{"event_type": "x", "event_payload": {"a": 1}}',
        }
        async with http.post(fake_slack.api_url + "chat.postMessage", data=form) as res:
            assert res.status == 200 and (await res.json())["ok"]
    assert fake_slack.messages(DEFAULT_CHANNEL_ID)[0].metadata == {
        "event_type": "x",
        "event_payload": {"a": 1},
    }

    bad = AsyncWebClient(token="xoxb-nope", base_url=fake_slack.api_url)
    with pytest.raises(SlackApiError) as err:
        await bad.auth_test()
    assert err.value.response.status_code == 200 and err.value.response["error"] == "invalid_auth"
    app_token_client = AsyncWebClient(token=DEFAULT_APP_TOKEN, base_url=fake_slack.api_url)
    with pytest.raises(SlackApiError, match="not_allowed_token_type"):
        await app_token_client.auth_test()


async def test_users_info_locale_only_on_request(
    fake_slack: FakeSlack, slack_client: AsyncWebClient
) -> None:
    fake_slack.add_user("U0ADMIN", is_admin=True, locale="fr-FR", tz="Europe/Paris", tz_label="CET")
    without = await slack_client.users_info(user="U0ADMIN")
    assert without["user"]["is_admin"] is True and "locale" not in without["user"]
    with_locale = await slack_client.users_info(user="U0ADMIN", include_locale=True)
    assert with_locale["user"]["locale"] == "fr-FR" and with_locale["user"]["tz_label"] == "CET"
    with pytest.raises(SlackApiError, match="user_not_found"):
        await slack_client.users_info(user="U0MISSING")


async def test_history_newest_first_with_cursor_and_oldest(slack_client: AsyncWebClient) -> None:
    async with FakeSlack(channel_rate=None) as fake:
        client = AsyncWebClient(token=DEFAULT_BOT_TOKEN, base_url=fake.api_url)
        ts = [
            (await client.chat_postMessage(channel="C0NEWS", text=f"m{i}"))["ts"] for i in range(5)
        ]
        seen: list[str] = []
        cursor = None
        while True:
            page = await client.conversations_history(channel="C0NEWS", limit=2, cursor=cursor)
            seen += [m["text"] for m in page["messages"]]
            cursor = page["response_metadata"]["next_cursor"]
            if not page["has_more"]:
                assert cursor == ""
                break
        assert seen == ["m4", "m3", "m2", "m1", "m0"]
        recent = await client.conversations_history(channel="C0NEWS", oldest=ts[2])
        assert [m["text"] for m in recent["messages"]] == ["m4", "m3"]


async def test_channel_errors_join_update_ephemeral_views_and_teams(
    fake_slack: FakeSlack, slack_client: AsyncWebClient
) -> None:
    fake_slack.add_channel("C0OUT", error="not_in_channel")
    fake_slack.add_channel("C0OLD", error="is_archived")
    with pytest.raises(SlackApiError, match="not_in_channel"):
        await slack_client.chat_postMessage(channel="C0OUT", text="x")
    await slack_client.conversations_join(channel="C0OUT")
    await slack_client.chat_postMessage(channel="C0OUT", text="x")
    with pytest.raises(SlackApiError, match="is_archived"):
        await slack_client.chat_postMessage(channel="C0OLD", text="x")

    other = fake_slack.add_team("T0OTHER")
    fake_slack.add_channel("C0THEIRS", team_id="T0OTHER")
    with pytest.raises(SlackApiError, match="channel_not_found"):  # not our workspace
        await slack_client.chat_postMessage(channel="C0THEIRS", text="x")
    theirs = AsyncWebClient(token=other.bot_token, base_url=fake_slack.api_url)
    assert (await theirs.auth_test())["team_id"] == "T0OTHER"
    assert (await theirs.team_info())["team"]["id"] == "T0OTHER"
    await theirs.chat_postMessage(channel="C0THEIRS", text="hi")
    assert fake_slack.calls_to("chat.postMessage")[-1].team_id == "T0OTHER"

    posted = await slack_client.chat_postMessage(channel=DEFAULT_CHANNEL_ID, text="v1")
    await slack_client.chat_update(channel=DEFAULT_CHANNEL_ID, ts=posted["ts"], text="v2")
    assert (await fake_slack.next_update()).text == "v2"
    assert fake_slack.messages(DEFAULT_CHANNEL_ID)[-1].text == "v2"

    await slack_client.chat_postEphemeral(
        channel=DEFAULT_CHANNEL_ID, user=DEFAULT_USER_ID, text="psst"
    )
    assert (await fake_slack.next_ephemeral()).text == "psst"

    opened = await slack_client.views_open(
        trigger_id="1.2.fake",
        view={"type": "modal", "title": {"type": "plain_text", "text": "Abonner"}, "blocks": []},
    )
    assert fake_slack.views[0]["id"] == opened["view"]["id"]
    info = await slack_client.conversations_info(channel=DEFAULT_CHANNEL_ID)
    assert info["channel"]["is_member"] is True


async def test_per_channel_limit_429_with_retry_after_and_injectable_clock() -> None:
    clock = ManualClock()
    async with FakeSlack(clock=clock, workspace_rate=2.0, workspace_burst=2.0) as fake:
        client = AsyncWebClient(token=DEFAULT_BOT_TOKEN, base_url=fake.api_url)
        await client.chat_postMessage(channel="C1", text="one")
        with pytest.raises(SlackApiError) as err:
            await client.chat_postMessage(channel="C1", text="two")
        assert err.value.response.status_code == 429
        assert err.value.response["error"] == "ratelimited"
        assert err.value.response.headers["Retry-After"] == "1"
        await client.chat_postMessage(channel="C2", text="other channel")  # per-channel bucket
        with pytest.raises(SlackApiError):  # workspace bucket (2, no refill) now empty
            await client.chat_postMessage(channel="C3", text="three")
        assert fake.ratelimited_count == 2
        clock.advance(1.0)
        await client.chat_postMessage(channel="C1", text="two")
        assert [m.text for m in fake.messages("C1")] == ["one", "two"]


async def test_rate_limit_retry_handler_retries_429(fake_slack: FakeSlack) -> None:
    client = AsyncWebClient(
        token=DEFAULT_BOT_TOKEN,
        base_url=fake_slack.api_url,
        retry_handlers=[AsyncRateLimitErrorRetryHandler(max_retry_count=2)],
    )
    fake_slack.fail_next("chat.postMessage", status=429, retry_after=0)  # sleeps 0 + random() s
    result = await client.chat_postMessage(channel=DEFAULT_CHANNEL_ID, text="eventually")
    assert result["ok"]
    assert fake_slack.ratelimited_count == 1
    assert [c.status for c in fake_slack.calls_to("chat.postMessage")] == [429, 200]


async def test_fault_injection_500_error_and_timeout(
    fake_slack: FakeSlack, slack_client: AsyncWebClient
) -> None:
    fake_slack.fail_next("chat.postMessage", status=500)
    with pytest.raises(SlackApiError) as err:
        await slack_client.chat_postMessage(channel=DEFAULT_CHANNEL_ID, text="x")
    assert err.value.response.status_code == 500
    fake_slack.fail_next("auth.test", error="account_inactive", count=2)
    for _ in range(2):
        with pytest.raises(SlackApiError, match="account_inactive"):
            await slack_client.auth_test()
    assert (await slack_client.auth_test())["ok"]

    # A timed-out call may still have been carried out by Slack: the message appears anyway.
    fake_slack.fail_next("chat.postMessage", delay=0.5)
    impatient = AsyncWebClient(token=DEFAULT_BOT_TOKEN, base_url=fake_slack.api_url, timeout=0.1)  # type: ignore[arg-type]
    with pytest.raises(TimeoutError):
        await impatient.chat_postMessage(channel=DEFAULT_CHANNEL_ID, text="late")
    assert (await fake_slack.next_message(DEFAULT_CHANNEL_ID, timeout=3)).text == "late"


async def test_response_url_works_five_times(fake_slack: FakeSlack) -> None:
    webhook = AsyncWebhookClient(fake_slack.response_url())
    statuses = [
        (await webhook.send(text=f"r{i}", response_type="in_channel")).status_code for i in range(6)
    ]
    assert statuses == [200] * 5 + [404]
    first = await fake_slack.next_response()
    assert first.response_type == "in_channel" and first.text == "r0"
    assert [m.text for m in fake_slack.messages(DEFAULT_CHANNEL_ID)] == [f"r{i}" for i in range(5)]


# ------------------------------------------------------------------------------ Socket Mode


def _who_app(fake: FakeSlack) -> AsyncApp:
    app = make_bolt_app(fake)

    @app.command("/who")
    async def who(ack, respond, command, client):  # type: ignore[no-untyped-def]
        await ack(f"Recherche de {command['text']}…")
        user = await client.users_info(user=command["user_id"], include_locale=True)
        await respond(
            text=f"{command['text']} ({user['user']['locale']})", response_type="ephemeral"
        )

    @app.action("lang")
    async def lang(ack, respond, action):  # type: ignore[no-untyped-def]
        await ack()
        await respond(text=f"lang={action['value']}", replace_original=True)

    @app.command("/subscribe")
    async def subscribe(ack, client, body):  # type: ignore[no-untyped-def]
        await ack()
        await client.views_open(
            trigger_id=body["trigger_id"],
            view={
                "type": "modal",
                "callback_id": "subscribe",
                "title": {"type": "plain_text", "text": "Abonner"},
                "submit": {"type": "plain_text", "text": "OK"},
                "blocks": [
                    {
                        "type": "input",
                        "block_id": "hour",
                        "label": {"type": "plain_text", "text": "Heure"},
                        "element": {"type": "plain_text_input", "action_id": "v"},
                    }
                ],
            },
        )

    @app.view("subscribe")
    async def submitted(ack, view):  # type: ignore[no-untyped-def]
        hour = view["state"]["values"]["hour"]["v"]["value"]
        if not hour.isdigit():
            await ack(response_action="errors", errors={"hour": "0-23"})
        else:
            await ack()

    @app.event("app_mention")
    async def mention(event, say):  # type: ignore[no-untyped-def]
        await say(f"Bonjour <@{event['user']}>")

    return app


async def test_socket_mode_slash_command_ack_and_respond(fake_slack: FakeSlack) -> None:
    app = _who_app(fake_slack)
    async with socket_mode(app, fake_slack):
        ack = await fake_slack.send_slash_command("/who", "Sam Altman")
        assert ack.payload == {"text": "Recherche de Sam Altman…"}
        response = await fake_slack.next_response()
        assert response.text == "Sam Altman (en-US)" and response.response_type == "ephemeral"

        await fake_slack.send_envelope(
            "interactive", fake_slack.block_actions([{"action_id": "lang", "value": "fr"}])
        )
        assert (await fake_slack.next_response()).text == "lang=fr"

        await fake_slack.send_envelope(
            "events_api",
            fake_slack.event_callback(
                {
                    "type": "app_mention",
                    "user": DEFAULT_USER_ID,
                    "text": "<@bot> hi",
                    "ts": "1.000001",
                    "channel": DEFAULT_CHANNEL_ID,
                    "event_ts": "1.000001",
                }
            ),
        )
        said = await fake_slack.next_message(DEFAULT_CHANNEL_ID)
        assert said.text == f"Bonjour <@{DEFAULT_USER_ID}>"
    assert fake_slack.calls_to("apps.connections.open")
    assert len(fake_slack.calls_to("auth.test")) == 1  # Bolt's single-team authorization, cached


async def test_socket_mode_reconnects_on_disconnect_and_on_dropped_socket(
    fake_slack: FakeSlack,
) -> None:
    app = _who_app(fake_slack)
    async with socket_mode(app, fake_slack, ping_interval=0.2):
        await fake_slack.send_disconnect("refresh_requested")
        await fake_slack.wait_connected(count=2)
        assert (await fake_slack.send_slash_command("/who", "x")).payload

        await fake_slack.send_disconnect("warning")
        await fake_slack.wait_connected(count=3)

        await fake_slack.drop_connections(abrupt=True)
        await fake_slack.wait_connected(count=4)
        assert (await fake_slack.send_slash_command("/who", "y")).payload
        await fake_slack.drop_connections(abrupt=False)
        await fake_slack.wait_connected(count=5)
        assert (await fake_slack.send_slash_command("/who", "z")).payload
    assert len(fake_slack.calls_to("apps.connections.open")) == 5


# ------------------------------------------------------------------------------ HTTP mode


async def test_http_slash_command_signature_checked(fake_slack: FakeSlack) -> None:
    app = _who_app(fake_slack)
    async with (
        serve_web_app(app.web_app(path="/slack/events")) as base,
        aiohttp.ClientSession() as http,
    ):
        url = base + "/slack/events"
        good = fake_slack.signed_slash_command(DEFAULT_SIGNING_SECRET, "/who", "Mira Murati")
        async with http.post(url, data=good.body, headers=good.headers) as res:
            assert res.status == 200
            assert "Recherche de Mira Murati" in await res.text()
        assert (await fake_slack.next_response()).text == "Mira Murati (en-US)"

        forged = signed_slash_command("not-the-secret", text="x")
        async with http.post(url, data=forged.body, headers=forged.headers) as res:
            assert res.status == 401
        stale = fake_slack.signed_slash_command(
            DEFAULT_SIGNING_SECRET, timestamp=int(time.time()) - 301
        )
        async with http.post(url, data=stale.body, headers=stale.headers) as res:
            assert res.status == 401
        tampered = fake_slack.signed_slash_command(DEFAULT_SIGNING_SECRET, text="a")
        async with http.post(
            url, data=tampered.body.replace("text=a", "text=b"), headers=tampered.headers
        ) as res:
            assert res.status == 401
    assert len(fake_slack.responses) == 1


async def test_waiting_times_out_instead_of_hanging(fake_slack: FakeSlack) -> None:
    with pytest.raises(TimeoutError, match="no response_url post"):
        await fake_slack.next_response(timeout=0.05)
    with pytest.raises(TimeoutError, match="Socket Mode connection"):
        await fake_slack.send_slash_command("/who", timeout=0.05)
