"""Pytest fixtures and helpers around :class:`tests.fakes.slack_server.FakeSlack`.

pytest only auto-loads ``conftest.py``; import what you need in your test module::

    from tests.fakes.slack_fixtures import fake_slack, slack_client  # noqa: F401
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import pytest_asyncio
from aiohttp import web
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from tests.fakes.slack_server import (
    DEFAULT_APP_TOKEN,
    DEFAULT_BOT_TOKEN,
    DEFAULT_SIGNING_SECRET,
    FakeSlack,
)

__all__ = [
    "fake_slack",
    "make_bolt_app",
    "make_socket_mode_handler",
    "serve_web_app",
    "slack_client",
    "socket_mode",
]


@pytest_asyncio.fixture
async def fake_slack() -> AsyncIterator[FakeSlack]:
    """A started FakeSlack with the default team, channel and user; closed afterwards."""
    async with FakeSlack() as fake:
        yield fake


@pytest_asyncio.fixture
async def slack_client(fake_slack: FakeSlack) -> AsyncWebClient:
    """A real ``AsyncWebClient`` with the default bot token, pointed at the fake."""
    return AsyncWebClient(token=DEFAULT_BOT_TOKEN, base_url=fake_slack.api_url)


def make_bolt_app(
    fake: FakeSlack,
    *,
    token: str = DEFAULT_BOT_TOKEN,
    signing_secret: str = DEFAULT_SIGNING_SECRET,
    **kwargs: Any,
) -> AsyncApp:
    """A real Bolt ``AsyncApp`` whose client (and so every per-request client) targets the fake."""
    client = AsyncWebClient(token=token, base_url=fake.api_url)
    return AsyncApp(client=client, signing_secret=signing_secret, **kwargs)


def make_socket_mode_handler(
    app: AsyncApp,
    fake: FakeSlack,
    *,
    app_token: str = DEFAULT_APP_TOKEN,
    ping_interval: float = 0.2,
) -> AsyncSocketModeHandler:
    """A real Socket Mode handler; must be built inside a running loop (slack_sdk starts a task and
    an aiohttp session in the constructor). It calls ``apps.connections.open`` through its web
    client, built here on the fake so that it works whatever the app's client is."""
    web_client = AsyncWebClient(token=app.client.token, base_url=fake.api_url)
    return AsyncSocketModeHandler(
        app, app_token, web_client=web_client, ping_interval=ping_interval
    )


@contextlib.asynccontextmanager
async def socket_mode(
    app: AsyncApp, fake: FakeSlack, **kwargs: Any
) -> AsyncIterator[AsyncSocketModeHandler]:
    """Connect ``app`` to the fake over Socket Mode for the duration of the block."""
    handler = make_socket_mode_handler(app, fake, **kwargs)
    try:
        await handler.connect_async()
        await fake.wait_connected()
        yield handler
    finally:
        await handler.close_async()


@contextlib.asynccontextmanager
async def serve_web_app(app: web.Application, host: str = "127.0.0.1") -> AsyncIterator[str]:
    """Serve an aiohttp application (e.g. ``AsyncApp.web_app()``) on an ephemeral port; yields
    its base URL (``http://127.0.0.1:PORT``)."""
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, 0)
        await site.start()
        port = runner.addresses[0][1]
        yield f"http://{host}:{port}"
    finally:
        await runner.cleanup()
