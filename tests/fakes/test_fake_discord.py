"""The real discord.py client against the fake Discord."""

from __future__ import annotations

import asyncio
import zlib

import aiohttp
import discord
import pytest
from discord import app_commands

from tests.fakes.discord_server import (
    ANNOUNCES_CHANNEL_ID,
    GENERAL_CHANNEL_ID,
    GUILD_ID,
    MEMBER_USER_ID,
    OWNER_USER_ID,
    VOICE_CHANNEL_ID,
    FakeDiscord,
    FakeInteraction,
    ManualClock,
    discord_pointed_at,
    running_client,
)


def make_client(**kwargs: object) -> discord.Client:
    return discord.Client(intents=discord.Intents.default(), **kwargs)  # type: ignore[arg-type]


def auth(fake: FakeDiscord) -> dict[str, str]:
    return {"Authorization": f"Bot {fake.token}"}


# -- REST basics (raw aiohttp) -------------------------------------------------------------------


async def test_json_answers_have_the_exact_content_type_and_ratelimit_headers(fake_discord):
    async with aiohttp.ClientSession() as session:
        async with session.get(
            fake_discord.api_url + "/users/@me", headers=auth(fake_discord)
        ) as r:
            assert r.status == 200
            assert r.headers["Content-Type"] == "application/json"
            assert r.headers["Via"]
            for header in ("Limit", "Remaining", "Reset", "Reset-After", "Bucket"):
                assert f"X-RateLimit-{header}" in r.headers
            assert (await r.json())["bot"] is True
        async with session.get(fake_discord.api_url + "/users/@me") as r:
            assert r.status == 401
        async with session.get(
            fake_discord.api_url + "/channels/42", headers=auth(fake_discord)
        ) as r:
            assert r.status == 404
            assert await r.json() == {"message": "Unknown Channel", "code": 10003}
    assert [r.route for r in fake_discord.requests] == [
        "GET /users/@me",
        "GET /users/@me",
        "GET /channels/42",
    ]


async def test_route_bucket_and_global_limit_with_a_manual_clock(fake_discord_factory):
    clock = ManualClock()
    fake = await fake_discord_factory(clock=clock, global_limit=(8, 1.0))
    url = f"{fake.api_url}/channels/{GENERAL_CHANNEL_ID}/messages"
    async with aiohttp.ClientSession(headers=auth(fake)) as session:
        remaining = []
        for i in range(5):
            async with session.post(url, json={"content": f"m{i}"}) as r:
                assert r.status == 200
                remaining.append(r.headers["X-RateLimit-Remaining"])
        assert remaining == ["4", "3", "2", "1", "0"]
        async with session.post(url, json={"content": "too many"}) as r:
            assert r.status == 429
            body = await r.json()
            assert body == {
                "message": "You are being rate limited.",
                "retry_after": 5.0,
                "global": False,
            }
            assert r.headers["X-RateLimit-Scope"] == "user"
            assert r.headers["Retry-After"] == "5"
            assert r.headers["X-RateLimit-Reset-After"] == "5.000"
            assert r.headers["Via"]
        # another channel has its own bucket, but the global limit (8/s here) now bites;
        # the request refused by its route bucket counted towards the global limit too
        other = f"{fake.api_url}/channels/{ANNOUNCES_CHANNEL_ID}/messages"
        for _ in range(2):
            async with session.post(other, json={"content": "x"}) as r:
                assert r.status == 200
        async with session.post(other, json={"content": "x"}) as r:
            assert r.status == 429
            assert (await r.json())["global"] is True
            assert r.headers["X-RateLimit-Scope"] == "global"
        clock.advance(5.0)
        async with session.post(url, json={"content": "later"}) as r:
            assert r.status == 200
            assert r.headers["X-RateLimit-Remaining"] == "4"
        # interaction endpoints are exempt from the global limit (404 here, not 429)
        async with session.post(f"{fake.api_url}/interactions/1/x/callback", json={"type": 1}) as r:
            assert r.status == 404
    assert fake.count_429 == 2
    assert [h.scope for h in fake.rate_limit_hits] == ["user", "global"]
    assert len(fake.messages(GENERAL_CHANNEL_ID)) == 6
    assert len(fake.messages(ANNOUNCES_CHANNEL_ID)) == 2


async def test_per_second_counts_and_sliding_window_of_limited_requests(fake_discord_factory):
    clock = ManualClock(start=100.0)
    fake = await fake_discord_factory(clock=clock, rate_limits=False)
    async with aiohttp.ClientSession(headers=auth(fake)) as session:
        for step in (0.0, 0.6, 0.3, 0.3, 0.9):  # at 100.0, 100.6, 100.9, 101.2, 102.1
            clock.advance(step)
            async with session.get(f"{fake.api_url}/channels/{GENERAL_CHANNEL_ID}") as r:
                assert r.status == 200
        async with session.post(f"{fake.api_url}/interactions/1/x/callback", json={"type": 1}):
            pass  # exempt from the global limit: not counted
    assert fake.per_second() == {100: 3, 101: 1, 102: 1}
    assert fake.max_in_window(1.0) == 3  # 100.6, 100.9, 101.2
    assert fake.max_in_window(0.5) == 2
    assert len(fake.limited_requests()) == 5


async def test_fail_next_500_cloudflare_html_and_delay_only(fake_discord_factory):
    fake = await fake_discord_factory()
    fake.fail_next("/gateway/bot", 500)
    fake.fail_next("GET /gateway/*", 502, body="<html>bad gateway</html>")
    async with aiohttp.ClientSession(headers=auth(fake)) as session:
        async with session.get(fake.api_url + "/gateway/bot") as r:
            assert r.status == 500
            assert await r.json() == {"message": "500: Internal Server Error", "code": 0}
        async with session.get(fake.api_url + "/gateway/bot") as r:
            assert r.status == 502 and r.headers["Content-Type"] == "text/html"
        async with session.get(fake.api_url + "/gateway/bot") as r:
            body = await r.json()
            assert body["url"] == fake.ws_url and body["shards"] == 1
            assert body["session_start_limit"]["max_concurrency"] == 1
    assert [r.status for r in fake.requests] == [500, 502, 200]


def test_discord_pointed_at_restores_class_attributes():
    from discord.gateway import DiscordWebSocket
    from discord.http import Route

    fake = FakeDiscord()
    fake.port = 1234
    before = (Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY)
    with discord_pointed_at(fake):
        assert Route.BASE == "http://127.0.0.1:1234/api/v10"
        assert str(DiscordWebSocket.DEFAULT_GATEWAY) == "ws://127.0.0.1:1234/gateway"
    assert before == (Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY)


async def test_interaction_deadline_follows_the_injected_clock(fake_discord_factory):
    clock = ManualClock()
    fake = await fake_discord_factory(clock=clock)
    # registered without a gateway: the handle is what the callback endpoint checks
    interaction = FakeInteraction(fake, fake.build_interaction(2, "digest"), clock())
    fake.interactions[interaction.id] = interaction
    clock.advance(3.5)
    url = f"{fake.api_url}/interactions/{interaction.id}/{interaction.token}/callback"
    async with aiohttp.ClientSession() as session, session.post(url, json={"type": 5}) as r:
        assert r.status == 404
        assert (await r.json())["code"] == 10062


# -- the real discord.py client --------------------------------------------------------------------


async def test_client_logs_in_and_sees_guild_channels_over_zlib_stream(discord_routes):
    fake = discord_routes
    async with running_client(make_client(), fake) as client:
        assert client.user is not None and client.user.id == int(fake.bot_user["id"])
        assert client.application_id == fake.application_id
        guild = client.get_guild(GUILD_ID)
        assert guild is not None and guild.name == "Serveur de test"
        assert {c.name for c in guild.text_channels} == {"général", "annonces"}
        assert guild.get_channel(VOICE_CHANNEL_ID).type is discord.ChannelType.voice
        assert guild.system_channel.id == GENERAL_CHANNEL_ID
        assert guild.me.guild_permissions.send_messages
        assert guild.get_member(OWNER_USER_ID) is None  # no members intent: not cached
    assert fake.connections[0]["compress"] == "zlib-stream"
    assert fake.connections[0]["encoding"] == "json"
    assert fake.identifies[0]["intents"] == discord.Intents.default().value
    assert [r.route for r in fake.requests[:2]] == [
        "GET /users/@me",
        "GET /oauth2/applications/@me",
    ]


async def test_members_intent_caches_members_and_answers_member_queries(discord_routes):
    fake = discord_routes
    intents = discord.Intents.default()
    intents.members = True
    async with running_client(discord.Client(intents=intents), fake) as client:
        guild = client.get_guild(GUILD_ID)
        assert guild.get_member(OWNER_USER_ID).name == "alice"
        assert guild.get_member(OWNER_USER_ID).guild_permissions.manage_guild
        found = await guild.query_members("bo")
        assert [m.id for m in found] == [MEMBER_USER_ID]
    assert any(m["op"] == 8 for m in fake.gateway_received)


async def test_heartbeats_are_acknowledged(fake_discord_factory):
    fake = await fake_discord_factory(heartbeat_interval_ms=30)
    with discord_pointed_at(fake):
        async with running_client(make_client(), fake) as client:
            # discord.py beats once right after HELLO, then every interval from its own thread
            await fake.wait_until(lambda: fake.heartbeats >= 3, what="three heartbeats")
            assert client.latency < 1.0


async def test_zlib_stream_frames_end_with_sync_flush(discord_routes):
    fake = discord_routes
    async with (
        aiohttp.ClientSession() as session,
        session.ws_connect(fake.ws_url + "?v=10&encoding=json&compress=zlib-stream") as ws,
    ):
        frame = await ws.receive_bytes(timeout=5)
        assert frame.endswith(b"\x00\x00\xff\xff")
        assert b'"op":10' in zlib.decompressobj().decompress(frame)


async def test_enforce_nonce_returns_the_first_message(discord_routes):
    fake = discord_routes
    async with running_client(make_client(), fake) as client:
        channel = client.get_channel(GENERAL_CHANNEL_ID)
        first = await channel.send("Le point du jour", nonce="delivery-42")
        second = await channel.send("Le point du jour", nonce="delivery-42")
        third = await channel.send("Autre chose", nonce="delivery-43")
    assert first.id == second.id != third.id
    assert [m["content"] for m in fake.messages(GENERAL_CHANNEL_ID)] == [
        "Le point du jour",
        "Autre chose",
    ]
    posts = fake.requests_for("POST /channels/*/messages")
    assert [p.json["nonce"] for p in posts] == ["delivery-42", "delivery-42", "delivery-43"]
    assert all(p.json["enforce_nonce"] is True for p in posts)


async def test_forbidden_and_unknown_channels_raise_the_right_errors(discord_routes):
    fake = discord_routes
    fake.deny_channel(ANNOUNCES_CHANNEL_ID, code=50013)
    async with running_client(make_client(), fake) as client:
        with pytest.raises(discord.Forbidden) as forbidden:
            await client.get_channel(ANNOUNCES_CHANNEL_ID).send("x")
        assert forbidden.value.code == 50013
        with pytest.raises(discord.NotFound) as unknown:
            await client.fetch_channel(424242)
        assert unknown.value.code == 10003
        fake.deny_channel(GENERAL_CHANNEL_ID, code=50001)
        with pytest.raises(discord.Forbidden) as missing:
            await client.fetch_channel(GENERAL_CHANNEL_ID)
        assert missing.value.code == 50001


async def test_injected_429_is_retried_by_discord_py_and_counted(discord_routes):
    fake = discord_routes
    rule = fake.fail_next("POST /channels/*/messages", 429, retry_after=0.05)
    async with running_client(make_client(), fake) as client:
        message = await client.get_channel(GENERAL_CHANNEL_ID).send("après la limite")
    assert rule.hits == 1 and fake.count_429 == 1
    assert [r.status for r in fake.requests_for("POST /channels/*/messages")] == [429, 200]
    assert fake.messages(GENERAL_CHANNEL_ID)[0]["id"] == str(message.id)


async def test_429_without_via_is_taken_for_a_cloudflare_ban(discord_routes):
    fake = discord_routes
    fake.fail_next("POST /channels/*/messages", 429, headers={"Via": ""})
    async with running_client(make_client(), fake) as client:
        with pytest.raises(discord.HTTPException) as exc:
            await client.get_channel(GENERAL_CHANNEL_ID).send("x")
    assert exc.value.status == 429


async def test_global_limit_429s_are_retried_by_discord_py(fake_discord_factory):
    fake = await fake_discord_factory(global_limit=(2, 0.2))
    with discord_pointed_at(fake):
        async with running_client(make_client(), fake) as client:
            channels = [client.get_channel(c) for c in (GENERAL_CHANNEL_ID, ANNOUNCES_CHANNEL_ID)]
            # 2 requests per 0.2 s: the second wave of sends meets global 429s and is retried
            await asyncio.gather(*(ch.send(f"{ch.name} {i}") for i in range(2) for ch in channels))
    assert len(fake.messages(GENERAL_CHANNEL_ID)) == len(fake.messages(ANNOUNCES_CHANNEL_ID)) == 2
    assert fake.count_429 >= 1
    assert all(h.is_global and h.scope == "global" for h in fake.rate_limit_hits)


async def test_discord_py_gives_up_after_five_429s(discord_routes):
    # What the GUIDE measured: under heavy concurrency plain discord.py loses messages.
    fake = discord_routes
    fake.fail_next("POST /channels/*/messages", 429, count=5, retry_after=0.01)
    async with running_client(make_client(), fake) as client:
        with pytest.raises(discord.HTTPException) as exc:
            await client.get_channel(GENERAL_CHANNEL_ID).send("perdu")
    assert exc.value.status == 429 and fake.count_429 == 5
    assert fake.messages(GENERAL_CHANNEL_ID) == []


async def test_timeout_via_delay(discord_routes):
    fake = discord_routes
    fake.fail_next("GET /channels/*", delay=30)
    async with running_client(make_client(), fake) as client:
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(client.fetch_channel(GENERAL_CHANNEL_ID), 0.2)


# -- application commands and interactions -------------------------------------------------------


def build_tree(client: discord.Client, seen: dict[str, object]) -> app_commands.CommandTree:
    tree = app_commands.CommandTree(client)

    @tree.command(name="digest", description="Le point du jour")
    async def digest(interaction: discord.Interaction, langue: str = "fr") -> None:
        seen["locale"] = interaction.locale
        await interaction.response.send_message(f"digest {langue}", ephemeral=True)

    admin = app_commands.Group(name="digest-admin", description="Administration")

    @admin.command(name="subscribe", description="Abonner un salon")
    async def subscribe(
        interaction: discord.Interaction, salon: discord.TextChannel, langue: str
    ) -> None:
        seen["salon"] = salon
        seen["user"] = interaction.user
        await interaction.response.defer(ephemeral=True, thinking=True)
        await interaction.followup.send(f"abonné {salon.name} {langue}", ephemeral=True)
        await interaction.edit_original_response(content="c'est fait")

    @subscribe.autocomplete("langue")
    async def langue_choices(
        interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        seen["namespace_salon"] = interaction.namespace.salon
        options = [("Français", "fr"), ("English", "en")]
        return [
            app_commands.Choice(name=n, value=v) for n, v in options if current.lower() in n.lower()
        ]

    tree.add_command(admin)
    return tree


async def test_slash_commands_sync_answer_autocomplete_and_follow_up(discord_routes):
    fake = discord_routes
    seen: dict[str, object] = {}
    client = make_client()
    tree = build_tree(client, seen)
    async with running_client(client, fake):
        synced = await tree.sync()
        assert {c.name for c in synced} == {"digest", "digest-admin"}
        assert {c["name"] for c in fake.commands[None]} == {"digest", "digest-admin"}
        guild_synced = await tree.sync(guild=discord.Object(GUILD_ID))
        assert guild_synced == [] and fake.commands[GUILD_ID] == []

        # a plain command answered ephemerally
        interaction = await fake.dispatch_command("digest", {"langue": "en"}, locale="en-GB")
        callback = await interaction.wait_callback()
        assert callback.type == 4 and callback.flags == 64 and callback.ephemeral
        assert callback.data["content"] == "digest en"
        assert callback.query == {"with_response": "1"}
        assert seen["locale"] is discord.Locale.british_english
        assert fake.messages(GENERAL_CHANNEL_ID) == []  # ephemeral: never lands in the channel

        # autocomplete inside a subcommand
        auto = await fake.dispatch_autocomplete(
            "digest-admin subscribe",
            {"salon": ANNOUNCES_CHANNEL_ID, "langue": "fr"},
            focused="langue",
        )
        answer = await auto.wait_callback()
        assert answer.type == 8 and answer.choices == [{"name": "Français", "value": "fr"}]
        assert seen["namespace_salon"].id == ANNOUNCES_CHANNEL_ID  # unresolved in autocomplete
        options = auto.payload["data"]["options"]
        assert options[0]["type"] == 1 and options[0]["name"] == "subscribe"
        assert {"name": "langue", "type": 3, "value": "fr", "focused": True} in options[0][
            "options"
        ]

        # the subcommand: channel option resolved, deferral, follow-up, edit of @original
        sub = await fake.dispatch_command(
            "digest-admin subscribe",
            {"salon": ANNOUNCES_CHANNEL_ID, "langue": "en"},
            user_id=MEMBER_USER_ID,
        )
        deferral = await sub.wait_callback()
        assert deferral.type == 5 and deferral.flags == 64
        followup = await sub.wait_followup()
        assert followup["content"] == "abonné annonces en" and followup["flags"] & 64
        edit = await sub.wait_edit()
        assert edit["content"] == "c'est fait"
        assert sub.original["content"] == "c'est fait" and not sub.original["flags"] & 128
        assert seen["salon"].id == ANNOUNCES_CHANNEL_ID
        assert seen["user"].id == MEMBER_USER_ID
    assert fake.requests_for("POST /webhooks/*")[0].query["wait"] == "1"


async def test_waiting_for_a_callback_that_never_comes_times_out(discord_routes):
    fake = discord_routes
    async with running_client(make_client(), fake):
        interaction = await fake.dispatch_command("nothing-registered")
        with pytest.raises(TimeoutError, match="callback"):
            await interaction.wait_callback(timeout=0.2)


# -- gateway resilience --------------------------------------------------------------------------


@pytest.mark.parametrize("code", [None, 4000], ids=["abort", "close-4000"])
async def test_dropped_websocket_resumes_and_replays_missed_events(discord_routes, code):
    fake = discord_routes
    seen: dict[str, object] = {}
    client = make_client()
    build_tree(client, seen)
    resumed = asyncio.Event()
    client.event(resumed_handler(resumed))
    async with running_client(client, fake):
        assert await fake.drop_websocket(code=code) == 1
        # dispatched while the socket is down: buffered and replayed on RESUME
        interaction = await fake.dispatch_command("digest")
        await asyncio.wait_for(resumed.wait(), 5)
        callback = await interaction.wait_callback()
        assert callback.data["content"] == "digest fr"
    assert len(fake.identifies) == 1 and len(fake.resumes) == 1
    assert len(fake.connections) == 2


def resumed_handler(event: asyncio.Event):
    async def on_resumed() -> None:
        event.set()

    return on_resumed


async def test_auto_sharded_client_uses_gateway_bot_and_two_shards(fake_discord_factory):
    fake = await fake_discord_factory(default_guild=False, shard_count=2)
    # guild ids chosen so that (id >> 22) % 2 puts one guild on each shard
    even, odd = 2 << 22, 3 << 22
    fake.add_guild(even, "pair", channels=[{"name": "a"}])
    fake.add_guild(odd, "impair", channels=[{"name": "b"}])

    class Sharded(discord.AutoShardedClient):
        async def before_identify_hook(self, shard_id, *, initial=False):
            return None  # discord.py sleeps 5 s before every non-initial IDENTIFY

    with discord_pointed_at(fake):
        async with running_client(Sharded(intents=discord.Intents.default()), fake) as client:
            assert {g.name for g in client.guilds} == {"pair", "impair"}
            assert client.get_guild(odd).shard_id == 1
    assert fake.requests_for("GET /gateway/bot")
    assert sorted(tuple(i["shard"]) for i in fake.identifies) == [(0, 2), (1, 2)]
