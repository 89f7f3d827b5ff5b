"""Three real ``depeche run`` processes on one PostgreSQL database against the fake Discord: a
revision published with ``depeche story publish`` (a fourth process) is served by all three at
their next tick, and every post already out is corrected exactly once — with one instance
SIGKILLed while it holds corrections (Discord is slow to answer edits, so it is caught mid-way);
the others take its claims over after the lease. The same revision brings a breaking event for
today: the opted-in live subscription gets its alert once per language."""

from __future__ import annotations

import asyncio
import datetime as dt
import subprocess
import sys
from collections import Counter
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bot.discord.publisher import DiscordPublisher
from bot.ratelimit import RateLimiter
from bot.store import BREAKING, CORRECTION, SENDING, Delivery, Instance, Store
from tests.fakes.discord_server import (
    GENERAL_CHANNEL_ID,
    GUILD_ID,
    FakeDiscord,
    add_default_guild,
)
from tests.living import MINIMAL, SLUG, edited, subscribe, with_return
from tests.test_discord_e2e import Bot
from tests.test_slack_e2e import due_zone

pytestmark = [pytest.mark.postgres, pytest.mark.slow, pytest.mark.timeout(120)]

ROOT = Path(__file__).resolve().parents[1]
CHANNELS = 8
LINE = "Mis à jour le "


class VerboseBot(Bot):
    """`depeche -v run`: the information log says which revision it serves."""

    async def start(self) -> VerboseBot:
        with self.log.open("wb") as log:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot", "-v", "run",
                cwd=self.tmp, env=self.env, stdout=log, stderr=log,
            )  # fmt: skip
        return self


def text_of(message: dict[str, object]) -> str:
    embeds = message.get("embeds") or []
    assert isinstance(embeds, list)
    return "\n".join(str(e.get("description") or "") for e in embeds)


async def post_first_digests(
    url: str, stories: Path, fake: FakeDiscord, guild: int, channels: list[int]
) -> dt.date:
    """Story day 1's digest, posted in every channel (replays starting today whose post time
    has just passed) by an instance in this process, which then goes away; and a live
    subscription to breaking news in #general (in both languages, its own post not due).
    -> today in the subscriptions' time zone."""
    from bot.platforms import build_context
    from bot.settings import Settings

    store = Store.open(url)
    context = build_context(Settings(stories_dir=stories), store=store)
    publisher = DiscordPublisher(
        token=fake.token, api_url=fake.api_url, limiter=RateLimiter(global_rate=48)
    )
    context.publishers.register(publisher)
    try:
        now = dt.datetime.now(dt.UTC)
        zone, post_time = due_zone(now)
        today = now.astimezone(ZoneInfo(zone)).date()
        for channel in channels:
            await subscribe(
                context, "discord", str(guild), str(channel), mode="replay", start=today,
                post_time=post_time, timezone=zone,
            )  # fmt: skip
        later = (now.astimezone(ZoneInfo(zone)) + dt.timedelta(hours=12)).strftime("%H:%M")
        await subscribe(
            context, "discord", str(GUILD_ID), str(GENERAL_CHANNEL_ID), lang="both",
            breaking=True, post_time=later, timezone=zone,
        )  # fmt: skip
        await context.runner.step(now)
        return today
    finally:
        await publisher.close()
        store.dispose()


async def test_three_instances_serve_a_cli_revision_and_correct_each_post_once(
    pg_server: object, tmp_path: Path
) -> None:
    url = pg_server.create_database()  # type: ignore[attr-defined]
    stories = tmp_path / "stories"
    stories.mkdir()
    (stories / "minimal.yaml").write_text(MINIMAL, encoding="utf-8")
    fake = FakeDiscord()
    add_default_guild(fake)
    guild = fake.add_guild(name="more", channels=[{"name": f"c{i}"} for i in range(CHANNELS)])
    channels = [int(c["id"]) for c in guild["channels"]]
    await fake.start()
    bots: list[VerboseBot] = []
    try:
        today = await post_first_digests(url, stories, fake, int(guild["id"]), channels)
        # A post is its message and the "more" follow-up, when there is one.
        posts = {channel: [m["id"] for m in fake.messages(channel)] for channel in channels}
        assert len(posts) == CHANNELS
        bots = [
            await VerboseBot(fake, tmp_path, url, DEPECHE_STORIES_DIR=str(stories)).start()
            for _ in range(3)
        ]
        for _ in range(600):  # every instance up, serving revision 1, delivering
            if all(f"story {SLUG}: serving revision 1" in bot.output() for bot in bots):
                break
            await asyncio.sleep(0.1)
        else:
            raise AssertionError("the instances did not start: " + bots[0].output()[-3000:])
        # Edits are slow to answer (1 s), so an instance is caught holding some.
        fake.fail_next("PATCH /channels/*/messages/*", None, delay=1.0, count=CHANNELS)
        revision = tmp_path / "revision.yaml"
        corrected = edited("Ada quitte Acme", "Ada quitte Acme pour de bon")
        breaking = with_return(breaking=True, document=corrected).replace(
            'date: 2024-03-01\n    headline: {fr: "Ada revient"',
            f'date: {today.isoformat()}\n    headline: {{fr: "Ada revient"',
        )
        assert today.isoformat() in breaking
        revision.write_text(breaking)
        settings = tmp_path / "settings.toml"
        settings.write_text("", encoding="utf-8")
        env = {**bots[0].env, "DEPECHE_CONFIG": str(settings)}
        published = subprocess.run(
            [sys.executable, "-m", "bot", "story", "publish", str(revision)],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
        assert published.returncode == 0, published.stderr

        store = Store.open(url, upgrade=False)
        try:
            victim: int | None = None
            for _ in range(300):  # until some instance holds corrections being sent
                with store.session() as session:
                    victim = session.scalar(
                        select(Instance.pid)
                        .join(Delivery, Delivery.claimed_by == Instance.id)
                        .where(Delivery.kind == CORRECTION, Delivery.status == SENDING)
                        .limit(1)
                    )
                if victim:
                    break
                await asyncio.sleep(0.1)
            assert victim, "no instance claimed a correction"
            (killed,) = [bot for bot in bots if bot.process and bot.process.pid == victim]
            killed.kill()
            for _ in range(400):
                with store.session() as session:
                    rows = list(
                        session.scalars(select(Delivery).where(Delivery.kind == CORRECTION))
                    )
                if len(rows) == CHANNELS and all(row.status == "sent" for row in rows):
                    break
                await asyncio.sleep(0.1)
            assert sorted(row.status for row in rows) == ["sent"] * CHANNELS
            for _ in range(200):
                with store.session() as session:
                    alerts = list(
                        session.scalars(select(Delivery).where(Delivery.kind == BREAKING))
                    )
                if len(alerts) == 2 and all(row.status == "sent" for row in alerts):
                    break
                await asyncio.sleep(0.1)
            assert sorted((row.lang, row.status) for row in alerts) == [
                ("en", "sent"),
                ("fr", "sent"),
            ]
            assert Counter(row.parent_id for row in rows) == Counter(
                {row.parent_id: 1 for row in rows}
            )
        finally:
            store.dispose()
        for channel, message_ids in posts.items():
            messages = fake.messages(channel)
            assert [m["id"] for m in messages] == message_ids  # edited in place, nothing new
            assert text_of(messages[0]).count(LINE) == 1, text_of(messages[0])
            assert "Ada quitte Acme pour de bon" in text_of(messages[0])
        shown = [
            text_of(m) + str(m["embeds"][0].get("title")) for m in fake.messages(GENERAL_CHANNEL_ID)
        ]
        assert sum("Dernière minute" in text for text in shown) == 1, shown
        assert sum("Breaking: Ada returns" in text for text in shown) == 1, shown
        survivors = [bot for bot in bots if bot is not killed]
        for bot in survivors:
            lines = [line for line in bot.output().splitlines() if "revision" in line]
            assert any(f"story {SLUG}: now serving revision 2" in line for line in lines), lines
    finally:
        for bot in bots:
            await bot.stop()
        await fake.close()
