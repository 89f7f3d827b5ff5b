"""The ``thread`` option of a subscription on every surface (admin service, chat parsing, CLI,
config/subscriptions.toml), shown by list/status, refused in the user's language; and end to
end through the delivery worker: a daily thread on Discord, a pause when threads are denied."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from typing import Any

import pytest

from bot.admin import Actor, AdminService, InvalidValue, SubscriptionSpec, Target, describe
from bot.delivery import DeliveryWorker
from bot.discord import contacts_from
from bot.discord.publisher import DiscordPublisher
from bot.publishing import PublisherRegistry
from bot.ratelimit import RateLimiter
from bot.slack.parsing import parse_digest
from bot.store import Store
from digests.story import StoryLibrary, default_story
from tests.fakes.discord_server import (
    ANNOUNCES_CHANNEL_ID,
    GENERAL_CHANNEL_ID,
    GUILD_ID,
    FakeDiscord,
    add_default_guild,
)

LIB = StoryLibrary([default_story()])
NOW = dt.datetime(2023, 11, 17, 5, 0, tzinfo=dt.UTC)
CHAT_FR = Actor(user_id="u1", via="chat", where="C-admin", lang="fr")
CHAT_EN = Actor(user_id="u1", via="chat", where="C-admin", lang="en")


@pytest.fixture
def admin(store: Store) -> AdminService:
    return AdminService(store, LIB, clock=lambda: NOW)


def spec(**changes: Any) -> SubscriptionSpec:
    base: dict[str, Any] = dict(platform="discord", workspace_id="G", channel_id="C1", lang="fr")
    base.update(changes)
    return SubscriptionSpec(**base)


async def test_thread_option_through_the_admin_service(admin: AdminService) -> None:
    info, _ = await admin.subscribe(spec(thread="daily"), CHAT_FR)
    assert info.thread == "daily"
    assert "un fil par jour" in describe(info, "fr")
    assert "a thread per day" in describe(info, "en")
    [same] = await admin.update(info.id, CHAT_EN, post_time="09:00")
    assert same.thread == "daily"  # other changes keep it
    [plain] = await admin.update(info.id, CHAT_EN, thread="none")
    assert plain.thread == "none" and "thread" not in describe(plain, "en")


@pytest.mark.parametrize(
    ("lang", "message"),
    [
        ("fr", "Option de fil inconnue 'weekly' (au choix : none, daily)."),
        ("en", "Unknown thread option 'weekly' (choose from none, daily)."),
    ],
)
async def test_bad_thread_option_refused_in_the_users_language(
    admin: AdminService, lang: str, message: str
) -> None:
    actor = CHAT_FR if lang == "fr" else CHAT_EN
    with pytest.raises(InvalidValue) as refused:
        await admin.subscribe(spec(thread="weekly"), actor)
    assert refused.value.message == message
    assert await admin.list() == []


async def test_the_file_takes_thread(admin: AdminService, tmp_path: Any) -> None:
    path = tmp_path / "subscriptions.toml"
    path.write_text(
        "[[subscription]]\nplatform = 'console'\nchannel = 'a'\nthread = 'daily'\n",
        encoding="utf-8",
    )
    (info,) = await admin.apply_file(path)
    assert info.thread == "daily"
    path.write_text(
        "[[subscription]]\nplatform = 'console'\nchannel = 'a'\nthread = 'sometimes'\n",
        encoding="utf-8",
    )
    with pytest.raises(InvalidValue, match=r"subscription\[0\] .*Unknown thread option"):
        await admin.apply_file(path)


def test_slack_words_for_the_thread_option() -> None:
    assert parse_digest("subscribe <#C0NEWS|news> fr thread=daily").thread == "daily"
    assert parse_digest("subscribe fil=quotidien 9h").thread == "quotidien"  # checked later
    assert parse_digest("subscribe thread en").thread == "daily"
    args = parse_digest("subscribe fr 08:00")
    assert args.thread is None and args.unknown == ()


def test_cli_add_and_set_thread(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from bot.cli import main

    monkeypatch.chdir(tmp_path)
    for name in (
        "DISCORD_TOKEN",
        "SLACK_BOT_TOKEN",
        "DEPECHE_CONFIG",
        "DEPECHE_SUBSCRIPTIONS_FILE",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'cli.sqlite3'}")
    add = ["subscriptions", "add", "--platform", "discord", "--workspace", "111"]
    assert main([*add, "--channel", "222", "--thread", "daily"]) == 0
    assert "08:00 Europe/Paris, live, a thread per day" in capsys.readouterr().out
    assert main(["subscriptions", "set", "--id", "1", "--thread", "sideways"]) == 2
    assert "Unknown thread option 'sideways' (choose from none, daily)." in capsys.readouterr().err
    assert main(["subscriptions", "set", "--id", "1", "--thread", "none"]) == 0
    assert main(["subscriptions", "list"]) == 0
    assert "thread" not in capsys.readouterr().out


# ---------------------------------------------------------------- end to end, Discord


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    fake = FakeDiscord()
    add_default_guild(fake)
    await fake.start()
    yield fake
    await fake.close()


async def test_worker_posts_in_a_daily_thread_and_pauses_when_threads_are_denied(
    fake: FakeDiscord, store: Store
) -> None:
    now = dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.UTC)
    publisher = DiscordPublisher(
        token=fake.token,
        api_url=fake.api_url,
        limiter=RateLimiter(global_rate=48, kinds={"channel": (1.0, 5)}),
        contacts=contacts_from(store),
    )
    registry = PublisherRegistry()
    registry.register(publisher)
    worker = DeliveryWorker(store, LIB, registry, clock=lambda: now)
    admin = AdminService(store, LIB, publishers=registry, worker=worker, clock=lambda: now)
    actor = Actor(user_id="1", via="chat", where=str(ANNOUNCES_CHANNEL_ID), lang="en")
    fake.deny_threads(ANNOUNCES_CHANNEL_ID)
    try:
        for channel in (GENERAL_CHANNEL_ID, ANNOUNCES_CHANNEL_ID):
            await admin.subscribe(
                SubscriptionSpec(
                    platform="discord", workspace_id=str(GUILD_ID), channel_id=str(channel),
                    lang="en", mode="replay", start_date=now.date(), timezone="UTC",
                    post_time="08:00", thread="daily",
                ),
                actor,
            )  # fmt: skip
        [sent] = await admin.send_now(target(GENERAL_CHANNEL_ID), actor)
        [failed] = await admin.send_now(target(ANNOUNCES_CHANNEL_ID), actor)
    finally:
        await publisher.close()
    assert sent.status == "sent"
    post, *notes = fake.messages(GENERAL_CHANNEL_ID)  # then the note (the system channel)
    (thread,) = fake.threads(GENERAL_CHANNEL_ID)
    assert thread["name"] == "Crisis at OpenAI — November 17, 2023"
    more = fake.messages(int(thread["id"]))
    assert sent.message_ids == (post["id"], *(m["id"] for m in more)) and more
    # No right to start threads: paused with the reason, admins told where they configured it.
    assert failed.status == "failed"
    [paused] = [info for info in await admin.list() if info.channel_id == str(ANNOUNCES_CHANNEL_ID)]
    assert not paused.active and "cannot start threads" in (paused.paused_reason or "")
    assert len(notes) == 1 and any(
        "Create Public Threads" in n["embeds"][0]["description"] for n in notes
    )


def target(channel: int) -> Target:
    return Target(platform="discord", workspace_id=str(GUILD_ID), channel_id=str(channel))
