"""A running Dépêche Discord bot (real discord.py client) against the fake Discord, for tests
outside tests/fakes/ (its conftest does not apply here) and for the benchmark."""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from bot.discord import DiscordBot, setup
from bot.platforms import PlatformContext, build_context
from bot.settings import DiscordSettings, Settings
from tests.fakes.discord_server import (
    FakeDiscord,
    add_default_guild,
    discord_pointed_at,
    running_client,
)

# Saturday 18 November 2023, 10:00 in Paris: story day 2 of the shipped story.
NOW = dt.datetime(2023, 11, 18, 9, 0, tzinfo=dt.UTC)


@dataclass
class Env:
    fake: FakeDiscord
    context: PlatformContext
    bot: DiscordBot
    clock: Any

    @property
    def client(self) -> Any:
        return self.bot.client


class Clock:
    def __init__(self, now: dt.datetime = NOW) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now


def settings_for(fake: FakeDiscord, tmp_path: Path, **discord: Any) -> Settings:
    return Settings(
        database_url=f"sqlite:///{tmp_path / 'depeche.sqlite3'}",
        stories_dir=tmp_path / "no-stories",
        discord=DiscordSettings(
            token=SecretStr(fake.token), api_url=fake.api_url, gateway_url=fake.ws_url, **discord
        ),
    )


@contextlib.asynccontextmanager
async def discord_env(
    tmp_path: Path, *, fake: FakeDiscord | None = None, now: dt.datetime = NOW, **fake_options: Any
) -> AsyncIterator[Env]:
    own = fake is None
    if fake is None:
        fake = FakeDiscord(**fake_options)
        add_default_guild(fake)
        await fake.start()
    clock = Clock(now)
    context = build_context(settings_for(fake, tmp_path), clock=clock)
    try:
        with discord_pointed_at(fake):
            bot = setup(context, guild_ready_timeout=0.05)
            async with running_client(bot.client, fake):
                yield Env(fake, context, bot, clock)
            await bot.publisher.close()
    finally:
        context.store.dispose()
        if own:
            await fake.close()
