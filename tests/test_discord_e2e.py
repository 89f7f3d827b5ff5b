"""End to end: the real `depeche run` process (``python -m bot run``) against the fake Discord.

The bot runs in a subprocess with ``DISCORD_TOKEN``/``DISCORD_API_URL``/``DISCORD_GATEWAY_URL``
pointing at the fake (which runs in the test process) and ``DATABASE_URL`` at a temporary SQLite
file. Subscriptions are seeded as replays starting today whose post time has just passed, so
the first tick posts story day 1 at once; nothing waits for a wall-clock schedule.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import os
import signal
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from bot.admin import Actor, AdminService, SubscriptionSpec
from bot.store import SENT, Delivery, Store
from digests.story import StoryLibrary
from tests.digest_parts import discord_messages
from tests.fakes.discord_server import (
    ANNOUNCES_CHANNEL_ID,
    GENERAL_CHANNEL_ID,
    GUILD_ID,
    MEMBER_USER_ID,
    OWNER_USER_ID,
    FakeDiscord,
    add_default_guild,
)

pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)]

ROOT = Path(__file__).resolve().parents[1]


def due_zone(now: dt.datetime) -> tuple[str, str]:
    """A zone where "two minutes ago" is still today, and that local time."""
    for zone in ("UTC", "Asia/Tokyo", "America/New_York", "Pacific/Auckland"):
        local = now.astimezone(ZoneInfo(zone))
        if 1 <= local.hour <= 22:
            return zone, (local - dt.timedelta(minutes=2)).strftime("%H:%M")
    raise AssertionError("no suitable zone")


async def seed(url: str, channels: dict[int, str], guild_id: int = GUILD_ID) -> None:
    store = Store.open(url)
    try:
        admin = AdminService(store, StoryLibrary.load(None))
        zone, post_time = due_zone(dt.datetime.now(dt.UTC))
        for channel, lang in channels.items():
            await admin.subscribe(
                SubscriptionSpec(platform="discord", workspace_id=str(guild_id), channel_id=str(channel),
                                 lang=lang, post_time=post_time, timezone=zone, mode="replay"),
                Actor(user_id=str(OWNER_USER_ID), via="chat", where=str(channel), lang="fr"),
            )  # fmt: skip
    finally:
        store.dispose()


def counts(url: str) -> tuple[int, int]:
    store = Store.open(url, upgrade=False)
    try:
        with store.session() as session:
            total = session.scalar(select(func.count()).select_from(Delivery)) or 0
            sent = (
                session.scalar(
                    select(func.count()).select_from(Delivery).where(Delivery.status == SENT)
                )
                or 0
            )
        return total, sent
    finally:
        store.dispose()


class Bot:
    """``python -m bot run`` in a subprocess pointed at the fake."""

    def __init__(self, fake: FakeDiscord, tmp: Path, db_url: str, **env: str) -> None:
        self.log = tmp / f"bot-{time.monotonic_ns()}.log"
        self.tmp = tmp
        self.env = {
            **{
                k: v
                for k, v in os.environ.items()
                if not k.startswith(("SLACK_", "DISCORD_", "DEPECHE_"))
            },
            "DISCORD_TOKEN": fake.token,
            "DISCORD_API_URL": fake.api_url,
            "DISCORD_GATEWAY_URL": fake.ws_url,
            "DATABASE_URL": db_url,
            "DEPECHE_TICK_SECONDS": "0.3",
            "DEPECHE_LEASE_SECONDS": "1",
            "DEPECHE_SUBSCRIPTIONS_FILE": str(tmp / "none.toml"),
            "DEPECHE_STORIES_DIR": str(tmp / "no-stories"),
            "PYTHONPATH": str(ROOT),
            **env,
        }
        self.process: asyncio.subprocess.Process | None = None

    async def start(self) -> Bot:
        with self.log.open("wb") as log:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "bot",
                "run",
                cwd=self.tmp,
                env=self.env,
                stdout=log,
                stderr=log,
            )
        return self

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)

    async def stop(self) -> int:
        assert self.process is not None
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.process.wait(), 15)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()
        return int(self.process.returncode or 0)

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


@contextlib.asynccontextmanager
async def running(bot: Bot) -> AsyncIterator[Bot]:
    await bot.start()
    try:
        yield bot
    except BaseException:
        print(bot.output()[-6000:])
        raise
    finally:
        await bot.stop()


async def connected(fake: FakeDiscord, bot: Bot, timeout: float = 30) -> None:
    """The bot synced its commands and holds a gateway session (or died: then say why)."""

    def ready() -> bool:
        assert bot.process is not None
        if bot.process.returncode is not None:
            raise AssertionError("the bot exited:\n" + bot.output()[-3000:])
        return bool(fake.commands.get(None)) and any(
            s.conn is not None for s in fake.sessions.values()
        )

    await fake.wait_until(ready, timeout=timeout, what="the bot to connect")


def text_of(payload: dict[str, Any] | None) -> str:
    parts = []
    for embed in (payload or {}).get("embeds") or []:
        parts += [embed.get("title") or "", embed.get("description") or ""]
    return "\n".join(parts)


async def test_commands_in_both_languages_refusal_and_scheduled_digests(tmp_path: Path) -> None:
    db_url = f"sqlite:///{tmp_path / 'e2e.sqlite3'}"
    await seed(db_url, {GENERAL_CHANNEL_ID: "fr", ANNOUNCES_CHANNEL_ID: "en"})
    async with FakeDiscord() as fake:
        add_default_guild(fake)
        async with running(Bot(fake, tmp_path, db_url)) as bot:
            await connected(fake, bot)
            # the scheduled digests land, one per subscribed channel, in its language
            general = await fake.wait_for_messages(GENERAL_CHANNEL_ID, timeout=30)
            announces = await fake.wait_for_messages(ANNOUNCES_CHANNEL_ID, timeout=30)
            assert "Jour 1" in text_of(general[0]) and "Day 1" in text_of(announces[0])
            assert all(
                r.json["allowed_mentions"]["parse"] == []
                for r in fake.requests_for("POST /channels/*/messages")
            )
            assert all(
                r.json["nonce"].startswith("dpc") and r.json["enforce_nonce"]
                for r in fake.requests_for("POST /channels/*/messages")
            )

            fr = await fake.dispatch_command(
                "who", {"question": "Qui est Sam Altman ?"}, locale="fr", user_id=MEMBER_USER_ID
            )
            en = await fake.dispatch_command("faq", {}, locale="en-US", user_id=MEMBER_USER_ID)
            fr_cb, en_cb = await fr.wait_callback(timeout=10), await en.wait_callback(timeout=10)
            assert fr_cb.ephemeral and "Fonctions" in text_of(fr_cb.data)
            assert (en_cb.ephemeral and "FAQ" in text_of(en_cb.data)) or "Frequently" in text_of(
                en_cb.data
            )
            assert fr_cb.at - fr.created_at < 3 and en_cb.at - en.created_at < 3

            refused = await fake.dispatch_command(
                "digest-admin list", {}, locale="fr", user_id=MEMBER_USER_ID
            )
            callback = await refused.wait_callback(timeout=10)
            assert callback.ephemeral and "Gérer le serveur" in text_of(callback.data)
            listed = await fake.dispatch_command(
                "digest-admin list", {}, locale="en-US", user_id=OWNER_USER_ID
            )
            assert (await listed.wait_callback(timeout=10)).type == 5
            assert "[fr]" in text_of(await listed.wait_followup(timeout=10))
        # Each digest once: the post and its "more" follow-ups, as many as the document makes.
        assert discord_messages("fr") >= 2 and discord_messages("en") >= 2
        assert len(fake.messages(GENERAL_CHANNEL_ID)) == discord_messages("fr")
        assert len(fake.messages(ANNOUNCES_CHANNEL_ID)) == discord_messages("en")
        assert "fake-bot-token" not in bot.output()


async def test_sigkill_mid_fan_out_then_restart_posts_once_per_channel(tmp_path: Path) -> None:
    db_url = f"sqlite:///{tmp_path / 'e2e.sqlite3'}"
    async with FakeDiscord() as fake:
        add_default_guild(fake)
        guild = fake.add_guild(name="fan-out", channels=[{"name": f"c{i}"} for i in range(40)])
        channels = [int(c["id"]) for c in guild["channels"]]
        await seed(
            db_url,
            {c: ("fr" if i % 2 else "en") for i, c in enumerate(channels)},
            guild_id=int(guild["id"]),
        )
        # a low global rate makes the fan-out last seconds: time to kill it in the middle
        slow = {"DEPECHE_DISCORD_GLOBAL_RATE": "8"}
        first = Bot(fake, tmp_path, db_url, **slow)
        await first.start()
        try:
            await fake.wait_until(
                lambda: sum(len(fake.messages(c)) for c in channels) >= 10,
                timeout=40,
                what="ten posts",
            )
        except BaseException:
            print(first.output()[-5000:])
            raise
        first.kill()
        await first.process.wait()  # type: ignore[union-attr]
        before = sum(len(fake.messages(c)) for c in channels)
        assert before < sum(discord_messages("fr" if i % 2 else "en") for i in range(len(channels)))

        async with running(Bot(fake, tmp_path, db_url)) as second:
            deadline = time.monotonic() + 40
            while counts(db_url) != (len(channels), len(channels)):
                assert time.monotonic() < deadline, second.output()[-3000:]
                with contextlib.suppress(TimeoutError):
                    await fake.wait_for_request(
                        "POST /channels/*/messages",
                        count=len(fake.requests_for("POST /channels/*/messages")) + 1,
                        timeout=0.5,
                    )
        per_channel = {c: len(fake.messages(c)) for c in channels}
        assert per_channel == {
            c: discord_messages("fr" if i % 2 else "en") for i, c in enumerate(channels)
        }
        # Paced at 48/s, requests from a process on a loaded machine can still reach the fake
        # bunched after a stall: a few 429s (each retried, none lost: checked above) are tolerated
        assert fake.count_429 <= 4, fake.rate_limit_hits
