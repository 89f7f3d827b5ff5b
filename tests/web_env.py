"""A real web server (bot.web) on 127.0.0.1, port 0, over a real store, with a controlled
clock; and a real aiohttp client."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.platforms import PlatformContext, build_context
from bot.settings import load_settings
from bot.store import Store
from bot.web import WebServer, WebState
from digests.story import StoryLibrary, default_story

LIB = StoryLibrary([default_story()])
SLUG = "openai-crisis-2023"


@dataclass
class Clock:
    now: dt.datetime = dt.datetime(2024, 1, 10, 9, 0, tzinfo=dt.UTC)  # after the story

    def __call__(self) -> dt.datetime:
        return self.now


@dataclass
class Site:
    server: WebServer
    session: aiohttp.ClientSession
    clock: Clock
    context: PlatformContext
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return self.server.url.rstrip("/")

    @property
    def state(self) -> WebState:
        return self.server.state

    async def get(self, path: str, **kwargs: Any) -> tuple[int, str, aiohttp.ClientResponse]:
        async with self.session.get(self.url + path, allow_redirects=False, **kwargs) as response:
            return response.status, await response.text(errors="replace"), response

    async def get_bytes(self, path: str) -> tuple[int, bytes, aiohttp.ClientResponse]:
        async with self.session.get(self.url + path, allow_redirects=False) as response:
            return response.status, await response.read(), response


def make_context(tmp_path: Path, clock: Callable[[], dt.datetime], **env: str) -> PlatformContext:
    settings = load_settings(
        config_file=tmp_path / "absent.toml",
        environ={"DATABASE_URL": f"sqlite:///{tmp_path / 'web.sqlite3'}", **env},
        dotenv_file=None,
    )
    store = Store.open(settings.effective_database_url)
    return build_context(settings, store=store, library=LIB, clock=clock)


@pytest.fixture
async def site(tmp_path: Path) -> AsyncIterator[Site]:
    clock = Clock()
    context = make_context(tmp_path, clock)
    state = WebState(context, console=True, public_url="")
    server = await WebServer.start(state, host="127.0.0.1", port=0)
    jar = aiohttp.CookieJar(unsafe=True)  # keep cookies for 127.0.0.1
    async with aiohttp.ClientSession(cookie_jar=jar) as session:
        yield Site(server, session, clock, context)
    await server.stop()
    context.store.dispose()
