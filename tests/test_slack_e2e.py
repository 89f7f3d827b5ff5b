"""End to end: the real ``depeche run`` process (``python -m bot run``) against the fake Slack.

Signed slash commands in HTTP mode and envelopes in Socket Mode get their replies in French and
English; forged and stale signatures get 401; scheduled digests land in the subscribed
channels; a bot killed with SIGKILL in the middle of a fan-out and restarted leaves exactly one
message per channel. Subscriptions are seeded as replays starting today whose post time has
just passed, so they are due as soon as the bot starts (no clock tricks needed).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import os
import signal
import socket
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import pytest
from sqlalchemy import func, select

from bot.admin import Actor, AdminService, SubscriptionSpec
from bot.slack.blocks import block_text
from bot.store import SENT, Delivery, Store
from digests.story import StoryLibrary
from tests.digest_parts import slack_messages, slack_posts
from tests.fakes.slack_server import (
    DEFAULT_APP_TOKEN,
    DEFAULT_BOT_TOKEN,
    DEFAULT_SIGNING_SECRET,
    DEFAULT_TEAM_ID,
    DEFAULT_USER_ID,
    FakeSlack,
    Message,
    signed_slash_command,
)

pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)]

ROOT = Path(__file__).resolve().parents[1]
FR_ADMIN = "U0FRADMIN"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def due_zone(now: dt.datetime) -> tuple[str, str]:
    """A zone where it is mid-day enough that "two minutes ago" is still today, and that time."""
    for zone in ("UTC", "Asia/Tokyo", "America/New_York", "Pacific/Auckland"):
        local = now.astimezone(ZoneInfo(zone))
        if 1 <= local.hour <= 22:
            return zone, (local - dt.timedelta(minutes=2)).strftime("%H:%M")
    raise AssertionError("no suitable zone")


async def seed(url: str, channels: dict[str, str]) -> None:
    """Replay subscriptions starting today, due two minutes ago."""
    store = Store.open(url)
    try:
        admin = AdminService(store, StoryLibrary.load(None))
        zone, post_time = due_zone(dt.datetime.now(dt.UTC))
        for channel, lang in channels.items():
            await admin.subscribe(
                SubscriptionSpec(platform="slack", workspace_id=DEFAULT_TEAM_ID, channel_id=channel, lang=lang,
                                 post_time=post_time, timezone=zone, mode="replay"),
                Actor(user_id=FR_ADMIN, via="chat", where=channel, lang="fr"),
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


def statuses(url: str) -> list[tuple[int, str, int, str | None]]:
    store = Store.open(url, upgrade=False)
    try:
        with store.session() as session:
            rows = session.execute(
                select(Delivery.id, Delivery.status, Delivery.attempts, Delivery.last_error)
            )
            return [tuple(row) for row in rows]  # type: ignore[misc]
    finally:
        store.dispose()


class Bot:
    """``python -m bot run`` in a subprocess, with the fake's URL and tokens in its environment."""

    def __init__(self, fake: FakeSlack, tmp: Path, db_url: str, *args: str, **env: str) -> None:
        self.args = args
        self.log = tmp / f"bot-{time.monotonic_ns()}.log"
        self.env = {
            **{
                k: v
                for k, v in os.environ.items()
                if not k.startswith(("SLACK_", "DISCORD_", "DEPECHE_"))
            },
            "SLACK_BOT_TOKEN": DEFAULT_BOT_TOKEN,
            "SLACK_APP_TOKEN": DEFAULT_APP_TOKEN,
            "SLACK_SIGNING_SECRET": DEFAULT_SIGNING_SECRET,
            "SLACK_API_URL": fake.api_url,
            "SLACK_ADMIN_USERS": FR_ADMIN,
            "DATABASE_URL": db_url,
            "DEPECHE_TICK_SECONDS": "0.3",
            "DEPECHE_LEASE_SECONDS": "1",
            "DEPECHE_SUBSCRIPTIONS_FILE": str(tmp / "none.toml"),
            "PYTHONPATH": str(ROOT),
            **env,
        }
        self.process: asyncio.subprocess.Process | None = None
        self.tmp = tmp

    async def start(self) -> Bot:
        log = self.log.open("wb")
        self.process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "run", *self.args,
            cwd=self.tmp, env=self.env, stdout=log, stderr=log,
        )  # fmt: skip
        log.close()
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
        print(bot.output()[-5000:])
        raise
    finally:
        await bot.stop()


async def wait_http(url: str, bot: Bot, timeout: float = 30.0) -> None:
    """Wait for /healthz: the condition is the server answering (or the process dying)."""
    deadline = time.monotonic() + timeout
    delay = 0.05
    async with aiohttp.ClientSession() as http:
        while True:
            assert bot.process is not None
            if bot.process.returncode is not None:
                raise AssertionError("the bot exited:\n" + bot.output()[-3000:])
            with contextlib.suppress(aiohttp.ClientError):
                async with http.get(url + "/healthz") as res:
                    if res.status == 200:
                        return
            if time.monotonic() > deadline:
                raise AssertionError("the HTTP endpoint did not come up:\n" + bot.output()[-3000:])
            await asyncio.sleep(delay)
            delay = min(delay * 2, 0.5)


def text_of(blocks: list[dict[str, Any]] | None) -> str:
    return "\n".join(block_text(block) for block in blocks or [])


async def test_http_mode_commands_and_scheduled_digests(tmp_path: Path) -> None:
    db_url = f"sqlite:///{tmp_path / 'e2e.sqlite3'}"
    channels = {"C0FRNEWS": "fr", "C0ENNEWS": "en", "C0BOTH": "both"}
    await seed(db_url, channels)
    async with FakeSlack(channel_rate=None) as fake:
        fake.add_user(
            FR_ADMIN, locale="fr-FR", tz="Europe/Paris"
        )  # admin through SLACK_ADMIN_USERS
        port = free_port()
        async with running(
            Bot(fake, tmp_path, db_url, "--slack-mode", "http", "--port", str(port))
        ) as bot:
            base = f"http://127.0.0.1:{port}"
            # Scheduled digests: story day 1, in each subscribed channel and language.
            # Each digest is a post in the channel and its "more" part in the post's thread.
            expected = {channel: slack_messages(lang) for channel, lang in channels.items()}
            firsts: dict[str, list[Message]] = {}
            for _ in range(sum(expected.values())):
                message = await fake.next_message(timeout=30)
                firsts.setdefault(message.channel, []).append(message)
            assert {c: len(m) for c, m in firsts.items()} == expected
            posts = {c: [m for m in ms if not m.thread_ts] for c, ms in firsts.items()}
            assert {c: len(m) for c, m in posts.items()} == {
                "C0FRNEWS": 1,
                "C0ENNEWS": 1,
                "C0BOTH": 2,
            }
            for channel, messages in firsts.items():
                for reply in (m for m in messages if m.thread_ts):
                    assert reply.thread_ts in {p.ts for p in posts[channel]}
            assert posts["C0FRNEWS"][0].text.startswith("Crise chez OpenAI")  # type: ignore[union-attr]
            assert posts["C0ENNEWS"][0].text.startswith("Crisis at OpenAI")  # type: ignore[union-attr]
            assert all(
                m.metadata and m.metadata["event_type"] == "digest_posted"
                for ms in firsts.values()
                for m in ms
            )
            await wait_http(base, bot)

            url = base + "/slack/events"
            async with aiohttp.ClientSession() as http:
                fr = fake.signed_slash_command(
                    DEFAULT_SIGNING_SECRET, "/who", "qui est Mira Murati ?", user_id=FR_ADMIN
                )
                async with http.post(url, data=fr.body, headers=fr.headers) as res:
                    assert res.status == 200
                reply = await fake.next_response(timeout=15)
                assert "Murati" in text_of(reply.blocks) and reply.response_type == "ephemeral"

                en = fake.signed_slash_command(DEFAULT_SIGNING_SECRET, "/faq", "")  # en-US user
                async with http.post(url, data=en.body, headers=en.headers) as res:
                    assert res.status == 200
                assert "Frequently asked questions" in text_of(
                    (await fake.next_response(timeout=15)).blocks
                )

                listing = fake.signed_slash_command(
                    DEFAULT_SIGNING_SECRET, "/digest", "list", user_id=FR_ADMIN
                )
                async with http.post(url, data=listing.body, headers=listing.headers) as res:
                    assert res.status == 200
                listed = text_of((await fake.next_response(timeout=15)).blocks)
                assert all(channel in listed for channel in channels)

                refused = fake.signed_slash_command(
                    DEFAULT_SIGNING_SECRET, "/digest", "pause", user_id=DEFAULT_USER_ID
                )
                async with http.post(url, data=refused.body, headers=refused.headers) as res:
                    assert res.status == 200
                assert "only workspace admins" in text_of(
                    (await fake.next_response(timeout=15)).blocks
                )

                forged = signed_slash_command(
                    "not-the-secret", command="/digest", text="list", user_id=FR_ADMIN
                )
                async with http.post(url, data=forged.body, headers=forged.headers) as res:
                    assert res.status == 401
                stale = fake.signed_slash_command(
                    DEFAULT_SIGNING_SECRET, "/faq", "", timestamp=int(time.time()) - 600
                )
                async with http.post(url, data=stale.body, headers=stale.headers) as res:
                    assert res.status == 401
            assert len(fake.responses) == 4
        assert counts(db_url) == (4, 4)
        # nothing posted twice: each digest's post and its "more" replies, once
        assert sum(len(fake.messages(c)) for c in channels) == sum(
            slack_messages(lang) for lang in channels.values()
        )


async def test_socket_mode_commands_in_both_languages(tmp_path: Path) -> None:
    db_url = f"sqlite:///{tmp_path / 'e2e.sqlite3'}"
    async with FakeSlack(channel_rate=None) as fake:
        fake.add_user(FR_ADMIN, locale="fr-FR", tz="Europe/Paris", is_admin=True)
        async with running(Bot(fake, tmp_path, db_url)):
            await fake.wait_connected(timeout=30)
            ack = await fake.send_slash_command(
                "/timeline", "2023-11-18", user_id=FR_ADMIN, timeout=10
            )
            assert not ack.payload
            fr = text_of((await fake.next_response(timeout=15)).blocks)
            assert "Chronologie" in fr or "nov." in fr or "novembre" in fr
            await fake.send_slash_command(
                "/digest", "preview 2023-11-19 en", user_id=FR_ADMIN, timeout=10
            )
            assert "Day 3" in text_of((await fake.next_response(timeout=15)).blocks)
            await fake.send_slash_command(
                "/digest", "subscribe <#C0NEW|new> fr 9h Europe/Paris", user_id=FR_ADMIN, timeout=10
            )
            assert "Abonnement créé" in text_of((await fake.next_response(timeout=15)).blocks)
            await fake.send_slash_command("/digest", "subscribe", timeout=10)  # en-US, not an admin
            assert "only workspace admins" in text_of((await fake.next_response(timeout=15)).blocks)


async def test_sigkill_mid_fan_out_then_restart_posts_once_per_channel(tmp_path: Path) -> None:
    db_url = f"sqlite:///{tmp_path / 'e2e.sqlite3'}"
    channels = {f"C0FAN{i:04d}": ("fr" if i % 2 else "en") for i in range(40)}
    await seed(db_url, channels)
    # Slack's workspace limit (10/s here) makes the fan-out last a few seconds: time to kill it.
    async with FakeSlack(workspace_rate=10.0, workspace_burst=5.0) as fake:
        first = Bot(fake, tmp_path, db_url, "--slack-mode", "http", "--port", str(free_port()))
        await first.start()
        try:
            for _ in range(12):
                await fake.next_message(timeout=30)
        except BaseException:
            print(first.output()[-5000:])
            raise
        first.kill()
        await first.process.wait()  # type: ignore[union-attr]
        before = len(fake.all_messages)
        assert before < sum(slack_messages(lang) for lang in channels.values())  # mid-fan-out

        async with running(
            Bot(fake, tmp_path, db_url, "--slack-mode", "http", "--port", str(free_port()))
        ) as second:
            deadline = time.monotonic() + 40
            # Every delivery recorded sent (posted now, or found already posted and recorded).
            while counts(db_url) != (len(channels), len(channels)):
                assert time.monotonic() < deadline, (statuses(db_url), second.output()[-3000:])
                with contextlib.suppress(TimeoutError):
                    await fake.next_message(timeout=0.5)  # wakes up early on each new post
        per_channel = {channel: len(fake.messages(channel)) for channel in channels}
        assert per_channel == {c: slack_messages(lang) for c, lang in channels.items()}
        # The "more" part went into each post's thread: the channel shows the post alone.
        assert {c: len(fake.posts(c)) for c in channels} == {
            c: slack_posts(lang) for c, lang in channels.items()
        }
        recon = fake.calls_to("conversations.history")
        assert recon  # the claims left in `sending` by the kill were reconciled through history
