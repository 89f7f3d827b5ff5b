"""The living-story settings of a subscription (corrections, breaking) from chat, CLI and the
configuration file, through the real discord.py and slack_bolt paths against the fakes; shown
by list and status; bad values refused in the user's language."""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.admin import CLI, Actor, AdminService, InvalidValue, SubscriptionSpec, spec_from_mapping
from bot.delivery import DeliveryWorker
from bot.publishing import PublisherRegistry
from bot.settings import SlackSettings
from bot.slack.app import SlackBot
from bot.slack.blocks import block_text
from bot.store import Store
from digests.story import StoryLibrary
from tests.discord_env import Env, discord_env
from tests.fakes.discord_server import ANNOUNCES_CHANNEL_ID, MEMBER_USER_ID, OWNER_USER_ID
from tests.fakes.slack_server import (
    DEFAULT_APP_TOKEN,
    DEFAULT_BOT_TOKEN,
    DEFAULT_SIGNING_SECRET,
    FakeSlack,
)

ROOT = Path(__file__).resolve().parents[1]
FR_ADMIN = "U0FRADMIN"


def discord_text(payload: dict[str, Any] | None) -> str:
    payload = payload or {}
    parts = [payload.get("content") or ""]
    for embed in payload.get("embeds") or []:
        parts += [embed.get("title") or "", embed.get("description") or ""]
    return "\n".join(parts)


async def discord_answer(interaction: Any) -> dict[str, Any]:
    callback = await interaction.wait_callback(timeout=10)
    if callback.type == 5:
        return dict(await interaction.wait_followup(timeout=10))
    return dict(callback.data or {})


@pytest.fixture
async def env(tmp_path: Path) -> AsyncIterator[Env]:
    async with discord_env(tmp_path) as env:
        yield env


async def test_discord_digest_admin_updates(env: Env) -> None:
    admin, member = {"user_id": OWNER_USER_ID}, {"user_id": MEMBER_USER_ID}
    created = await env.fake.dispatch_command(
        "digest-admin subscribe",
        {
            "channel": ANNOUNCES_CHANNEL_ID,
            "language": "fr",
            "time": "08:00",
            "timezone": "Europe/Paris",
        },
        locale="fr",
        **admin,
    )
    assert "correctifs : modifier le message" in discord_text(await discord_answer(created))
    changed = await env.fake.dispatch_command(
        "digest-admin updates",
        {"channel": ANNOUNCES_CHANNEL_ID, "corrections": "notice", "breaking": "on"},
        locale="fr",
        **admin,
    )
    text = discord_text(await discord_answer(changed))
    assert "correctifs : message de suivi" in text
    assert "alertes de dernière minute : oui" in text
    (info,) = await env.context.admin.list()
    assert (info.corrections, info.breaking) == ("notice", True)
    nothing = await env.fake.dispatch_command(
        "digest-admin updates", {"channel": ANNOUNCES_CHANNEL_ID}, locale="en-US", **admin
    )
    assert "Choose corrections, breaking, or both." in discord_text(await discord_answer(nothing))
    refused = await env.fake.dispatch_command(
        "digest-admin updates",
        {"channel": ANNOUNCES_CHANNEL_ID, "corrections": "off"},
        locale="fr",
        **member,
    )
    await discord_answer(refused)
    (info,) = await env.context.admin.list()
    assert info.corrections == "notice"  # a member changes nothing


async def test_slack_digest_updates(tmp_path: Path) -> None:
    async with FakeSlack(channel_rate=None) as fake:
        fake.add_user(FR_ADMIN, is_admin=True, locale="fr-FR", tz="Europe/Paris")
        fake.add_channel("C0NEWS", name="news")
        store = Store.open(f"sqlite:///{tmp_path / 'bot.sqlite3'}")
        library = StoryLibrary.load(None)
        registry = PublisherRegistry()
        admin = AdminService(
            store, library, publishers=registry, worker=DeliveryWorker(store, library, registry)
        )
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
        task = asyncio.create_task(bot.serve("socket"))
        try:
            await fake.wait_connected()

            async def digest(text: str, user: str = FR_ADMIN) -> str:
                await fake.send_slash_command("/digest", text, user_id=user, channel_id="C0NEWS")
                post = await fake.next_response(timeout=10)
                return "\n".join(block_text(b) for b in post.blocks or []) or post.text or ""

            assert "Abonnement créé" in await digest("subscribe fr")
            reply = await digest("updates correctifs:notice alertes:oui")
            assert "message de suivi" in reply and "dernière minute : oui" in reply
            (info,) = await admin.list()
            assert (info.corrections, info.breaking) == ("notice", True)
            bad = await digest("updates correctifs:parfois")
            assert "parfois" in bad and "Utilisation" in bad
            assert "correctifs : message de suivi" in await digest("status")
            refused = await digest("updates corrections:off", user="U0FAKEUSR1")
            assert "admins" in refused
            (info,) = await admin.list()
            assert info.corrections == "notice"
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            await bot.clients.close()
            store.dispose()


async def test_admin_service_and_file_entries(store: Store) -> None:
    library = StoryLibrary.load(None)
    admin = AdminService(store, library)
    spec = SubscriptionSpec("console", "", "console", corrections="sometimes")
    with pytest.raises(InvalidValue, match="Réglage des correctifs inconnu"):
        await admin.subscribe(spec, Actor(via="cli", where="cli", lang="fr"))
    info, _ = await admin.subscribe(SubscriptionSpec("console", "", "console"), CLI)
    assert (info.corrections, info.breaking) == ("edit", False)  # the defaults
    (info,) = await admin.update(info.id, CLI, breaking=True)
    assert (info.corrections, info.breaking) == ("edit", True)
    info, _ = await admin.subscribe(
        SubscriptionSpec("console", "", "console", post_time="09:00"), CLI
    )
    assert info.breaking is True  # a subscribe that does not say keeps the setting
    entry = spec_from_mapping(
        {"platform": "console", "channel": "c", "corrections": "off", "breaking": "on"}
    )
    assert (entry.corrections, entry.breaking) == ("off", True)
    with pytest.raises(ValueError, match="breaking must be on or off"):
        spec_from_mapping({"platform": "console", "channel": "c", "breaking": "sometimes"})


def test_cli_add_set_and_list(tmp_path: Path) -> None:
    config = tmp_path / "settings.toml"
    config.write_text("", encoding="utf-8")
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'bot.sqlite3'}",
        "DEPECHE_CONFIG": str(config),
    }

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "bot", "subscriptions", *args],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    added = cli("add", "--corrections", "notice")
    assert added.returncode == 0, added.stderr
    assert "corrections: follow-up notice, breaking alerts: off" in added.stdout
    changed = cli("set", "--id", "1", "--breaking", "on")
    assert changed.returncode == 0, changed.stderr
    assert "corrections: follow-up notice, breaking alerts: on" in cli("list").stdout
    bad = cli("set", "--id", "1", "--breaking", "maybe")
    assert bad.returncode == 2 and "expected on or off" in bad.stderr
