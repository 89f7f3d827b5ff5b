"""Fixtures around the fake Discord (:mod:`tests.fakes.discord_server`).

* ``fake_discord_factory`` - ``await make(**FakeDiscord kwargs, default_guild=True)`` starts a
  fake on an ephemeral port (closed at teardown);
* ``fake_discord`` - a started fake with the default test guild;
* ``discord_routes`` - discord.py pointed at ``fake_discord`` (``Route.BASE`` and
  ``DiscordWebSocket.DEFAULT_GATEWAY``), restored after the test.

Outside this folder, build the same fixtures from the module helpers (``FakeDiscord``,
``add_default_guild``, ``discord_pointed_at``, ``running_client``): pytest only loads a
``conftest.py`` for the tests below it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import pytest

from tests.fakes.discord_server import FakeDiscord, add_default_guild, discord_pointed_at

FakeFactory = Callable[..., Awaitable[FakeDiscord]]


@pytest.fixture
async def fake_discord_factory() -> AsyncIterator[FakeFactory]:
    started: list[FakeDiscord] = []

    async def make(*, default_guild: bool = True, **kwargs: Any) -> FakeDiscord:
        fake = FakeDiscord(**kwargs)
        if default_guild:
            add_default_guild(fake)
        await fake.start()
        started.append(fake)
        return fake

    yield make
    for fake in reversed(started):
        await fake.close()


@pytest.fixture
async def fake_discord(fake_discord_factory: FakeFactory) -> FakeDiscord:
    return await fake_discord_factory()


@pytest.fixture
def discord_routes(fake_discord: FakeDiscord) -> Iterator[FakeDiscord]:
    with discord_pointed_at(fake_discord):
        yield fake_discord
