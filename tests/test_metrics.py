"""The engine's and adapters' metrics, recorded where they happen and served on /metrics: 429s
seen from Slack (the real publisher against the fake), scheduler ticks, digest renders,
Discord and Slack command latency (real discord.py and Bolt against the fakes)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import aiohttp

from bot.admin import CLI, SubscriptionSpec
from bot.console import ConsolePublisher
from bot.metrics import REGISTRY
from bot.ratelimit import RateLimiter
from bot.slack.clients import SlackClients
from bot.slack.publisher import SlackPublisher
from tests.discord_env import discord_env
from tests.fakes.slack_fixtures import serve_web_app
from tests.fakes.slack_server import DEFAULT_BOT_TOKEN, DEFAULT_SIGNING_SECRET, FakeSlack
from tests.test_slack_app import FR_ADMIN, World, world  # noqa: F401 (world is a fixture)
from tests.test_slack_publisher import VirtualTime, delivery
from tests.web_env import Site


def value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def test_slack_429s_are_counted_by_platform(tmp_path: Path) -> None:
    before = value("depeche_ratelimited_total", platform="slack", scope="channel")
    async with FakeSlack(channel_rate=None) as fake:
        clients = SlackClients(DEFAULT_BOT_TOKEN, api_url=fake.api_url)
        time = VirtualTime()
        limiter = RateLimiter(
            kinds={"workspace": (100.0, 1), "channel": (1.0, 1)}, clock=time.clock, sleep=time.sleep
        )
        publisher = SlackPublisher(clients, limiter=limiter)
        fake.fail_next("chat.postMessage", status=429, retry_after=2, count=2)
        await publisher.publish(delivery())
        await clients.close()
    assert value("depeche_ratelimited_total", platform="slack", scope="channel") == before + 2


async def test_ticks_and_renders_are_timed_and_served(site: Site) -> None:
    site.context.publishers.register(ConsolePublisher(site.context.store))
    ticks = value("depeche_tick_seconds_count")
    renders = value("depeche_digest_render_seconds_count", cadence="daily")
    await site.context.admin.subscribe(
        SubscriptionSpec(
            platform="console",
            workspace_id="",
            channel_id="console",
            lang="both",
            mode="replay",
            start_date=site.clock.now.date(),
            post_time="08:00",
            timezone="UTC",
        ),
        CLI,
    )
    site.clock.now += dt.timedelta(hours=1)
    await site.context.runner.step()  # one tick; the worker composes day 1 in two languages
    assert value("depeche_tick_seconds_count") == ticks + 1
    assert value("depeche_digest_render_seconds_count", cadence="daily") == renders + 2
    status, body, response = await site.get("/metrics")
    assert status == 200 and response.headers["Content-Type"].startswith("text/plain")
    for family in (
        "# TYPE depeche_ratelimited_total counter",
        "# TYPE depeche_tick_seconds histogram",
        "# TYPE depeche_digest_render_seconds histogram",
        "# TYPE depeche_interaction_seconds histogram",
        "# TYPE depeche_deliveries gauge",
        "# TYPE depeche_web_render_seconds histogram",
    ):
        assert family in body, family
    assert 'depeche_deliveries{platform="console",status="sent"} 2.0' in body


async def test_slack_command_latency_is_observed(world: World) -> None:  # noqa: F811
    before = value("depeche_interaction_seconds_count", platform="slack")
    async with serve_web_app(world.bot.web_app()) as base, aiohttp.ClientSession() as http:
        command = world.fake.signed_slash_command(
            DEFAULT_SIGNING_SECRET, "/timeline", "", user_id=FR_ADMIN
        )
        async with http.post(base + "/slack/events", data=command.body, headers=command.headers):
            pass
        await world.fake.next_response(timeout=10)
    assert value("depeche_interaction_seconds_count", platform="slack") >= before + 1


async def test_discord_command_latency_is_observed(tmp_path: Path) -> None:
    before = value("depeche_interaction_seconds_count", platform="discord")
    async with discord_env(tmp_path) as env:
        interaction = await env.fake.dispatch_command("timeline", {}, locale="en-US")
        await interaction.wait_callback()
    assert value("depeche_interaction_seconds_count", platform="discord") == before + 1
