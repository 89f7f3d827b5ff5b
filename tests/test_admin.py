from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from bot.admin import (
    CLI,
    Actor,
    AdminService,
    FileManaged,
    InvalidTime,
    InvalidValue,
    ReplayStartInPast,
    SubscriptionNotFound,
    SubscriptionSpec,
    Target,
    UnknownChannel,
    UnknownStory,
    UnknownStoryDate,
    UnknownTimezone,
    describe,
    format_status,
    render_list,
)
from bot.delivery import DeliveryWorker
from bot.publishing import PublisherRegistry
from digests.story import StoryLibrary, default_story
from tests.ledger import LedgerPublisher

LIB = StoryLibrary([default_story()])
NOW = dt.datetime(2023, 11, 17, 5, 0, tzinfo=dt.UTC)  # 06:00 in Paris
CHAT_FR = Actor(user_id="u1", via="chat", where="C-admin", lang="fr")
CHAT_EN = Actor(user_id="u1", via="chat", where="C-admin", lang="en")


def spec(**changes):
    base = dict(
        platform="discord",
        workspace_id="G",
        channel_id="C1",
        lang="fr",
        post_time="08:00",
        timezone="Europe/Paris",
    )
    base.update(changes)
    return SubscriptionSpec(**base)


@pytest.fixture
def admin(store, tmp_path):
    registry = PublisherRegistry()
    ledger = LedgerPublisher(tmp_path / "ledger.sqlite3")
    registry.register(ledger)
    worker = DeliveryWorker(store, LIB, registry, clock=lambda: NOW)
    service = AdminService(store, LIB, publishers=registry, worker=worker, clock=lambda: NOW)
    service.ledger = ledger  # type: ignore[attr-defined]
    return service


async def test_subscribe_is_idempotent_and_updates(admin):
    info, created = await admin.subscribe(spec(), CHAT_EN)
    assert created and info.next_run_local == dt.datetime(
        2023, 11, 17, 8, 0, tzinfo=info.next_run_local.tzinfo
    )
    again, created = await admin.subscribe(spec(post_time="7:30", timezone="europe/paris"), CHAT_EN)
    assert not created and again.id == info.id
    assert (again.post_time, again.timezone) == ("07:30", "Europe/Paris")
    assert again.next_run_local.hour == 7 and again.next_run_local.minute == 30
    other, created = await admin.subscribe(spec(lang="en"), CHAT_EN)
    assert created and other.id != info.id
    assert len(await admin.list()) == 2
    assert "#1 discord:G/C1 [fr] 07:30 Europe/Paris" in render_list(await admin.list())


async def test_unknown_time_zone_suggests_close_names_in_the_users_language(admin):
    with pytest.raises(UnknownTimezone) as error:
        await admin.subscribe(spec(timezone="Europe/Pari"), CHAT_FR)
    assert "Europe/Paris" in error.value.suggestions
    assert str(error.value).startswith(
        "Fuseau horaire inconnu : 'Europe/Pari'. Vouliez-vous dire : Europe/Paris"
    )
    with pytest.raises(UnknownTimezone, match="Unknown time zone 'Mars/Olympus'"):
        await admin.subscribe(spec(timezone="Mars/Olympus"), CHAT_EN)


async def test_bad_values_are_refused_with_clear_messages(admin):
    with pytest.raises(InvalidTime, match="Heure invalide '25:00'"):
        await admin.subscribe(spec(post_time="25:00"), CHAT_FR)
    with pytest.raises(InvalidValue, match="Unknown language 'de'"):
        await admin.subscribe(spec(lang="de"), CHAT_EN)
    with pytest.raises(UnknownStory, match="Unknown story 'nope'"):
        await admin.subscribe(spec(story_slug="nope"), CHAT_EN)
    with pytest.raises(
        ReplayStartInPast, match=r"cannot start in the past \(2023-11-16\).*today \(2023-11-17\)"
    ):
        await admin.subscribe(spec(mode="replay", start_date=dt.date(2023, 11, 16)), CHAT_EN)
    assert await admin.list() == []


async def test_channel_validators_sync_and_async(admin):
    admin.register_channel_validator("discord", lambda workspace, channel: channel == "C1")

    async def slack_check(workspace: str, channel: str) -> bool:
        return channel.startswith("C")

    admin.register_channel_validator("slack", slack_check)
    await admin.subscribe(spec(), CHAT_EN)
    with pytest.raises(UnknownChannel, match="Salon inconnu C2"):
        await admin.subscribe(spec(channel_id="C2"), CHAT_FR)
    await admin.subscribe(spec(platform="slack", channel_id="C9"), CHAT_EN)
    with pytest.raises(UnknownChannel):
        await admin.subscribe(spec(platform="slack", channel_id="D9"), CHAT_EN)


async def test_replay_defaults_to_today_and_maps_days(admin):
    info, _ = await admin.subscribe(spec(mode="replay", start_date=None), CHAT_EN)
    assert info.start_date == dt.date(2023, 11, 17)
    docs = await admin.preview(info.id, day=dt.date(2023, 11, 18))
    assert [d.date for d in docs] == ["2023-11-18"]


async def test_pause_resume_unsubscribe_and_status(admin):
    await admin.subscribe(spec(lang="both"), CHAT_EN)
    target = Target("discord", "G", "C1")
    [paused] = await admin.pause(target, CHAT_EN)
    assert not paused.active and paused.paused_reason == "paused by u1"
    [resumed] = await admin.resume(target, CHAT_EN)
    assert resumed.active and resumed.paused_reason is None and resumed.next_run_at is not None
    [report] = await admin.status(target)
    assert "next post 2023-11-17 08:00 CET" in format_status(report)
    removed = await admin.unsubscribe(target, CHAT_EN)
    assert len(removed) == 1
    with pytest.raises(SubscriptionNotFound, match="Aucun abonnement"):
        await admin.unsubscribe(target, CHAT_FR)


async def test_send_now_posts_once(admin):
    info, _ = await admin.subscribe(spec(lang="both"), CHAT_EN)
    sent = await admin.send_now(info.id, CHAT_EN)
    assert [(d.lang, d.status) for d in sent] == [("fr", "sent"), ("en", "sent")]
    again = await admin.send_now(info.id, CHAT_EN)
    assert [d.id for d in again] == [d.id for d in sent]
    assert admin.ledger.count("calls") == 2  # type: ignore[attr-defined]


async def test_send_now_with_a_story_date_is_a_manual_delivery(admin):
    info, _ = await admin.subscribe(spec(lang="both"), CHAT_EN)
    today = await admin.send_now(info.id, CHAT_EN)  # today's post: story day 2023-11-17
    dated = await admin.send_now(info.id, CHAT_EN, dt.date(2023, 11, 17))  # same story day
    # A manual send never collides with the scheduled post, even for the same story day.
    assert [(d.lang, d.status, d.story_date) for d in dated] == [
        ("fr", "sent", dt.date(2023, 11, 17)),
        ("en", "sent", dt.date(2023, 11, 17)),
    ]
    assert not {d.id for d in dated} & {d.id for d in today}
    # Repeated the same local day: posted once (the same deliveries come back).
    again = await admin.send_now(info.id, CHAT_EN, dt.date(2023, 11, 17))
    assert [d.id for d in again] == [d.id for d in dated]
    other = await admin.send_now(info.id, CHAT_EN, dt.date(2023, 11, 19))
    assert [(d.story_date, d.digest_date) for d in other] == [
        (dt.date(2023, 11, 19), dt.date(2023, 11, 17))
    ] * 2
    posts = admin.ledger.posts()  # type: ignore[attr-defined]
    assert len(posts) == 6
    # Today's scheduled post is the one send-now made: the tick at 08:00 adds nothing.
    from sqlalchemy import func, select

    from bot.schedule import tick
    from bot.store import Delivery

    tick(admin.store, LIB, NOW + dt.timedelta(hours=3))
    with admin.store.session() as session:
        kinds = session.execute(
            select(Delivery.kind, func.count()).group_by(Delivery.kind).order_by(Delivery.kind)
        ).all()
    assert [tuple(k) for k in kinds] == [("manual", 4), ("scheduled", 2)]


async def test_send_now_refuses_a_date_without_story_events(admin):
    info, _ = await admin.subscribe(spec(), CHAT_EN)
    with pytest.raises(UnknownStoryDate) as error:
        await admin.send_now(info.id, CHAT_FR, dt.date(2024, 1, 1))
    assert str(error.value) == (
        "Aucun événement de l’histoire le 2024-01-01 : l’histoire va du 2023-11-17 au 2023-11-20."
    )
    with pytest.raises(UnknownStoryDate, match="No story events on 2023-11-16"):
        await admin.send_now(info.id, CHAT_EN, dt.date(2023, 11, 16))
    assert admin.ledger.count("calls") == 0  # type: ignore[attr-defined]


async def test_file_managed_subscriptions(admin, tmp_path):
    path = tmp_path / "subscriptions.toml"
    path.write_text(
        '[[subscription]]\nplatform = "discord"\nworkspace = "111"\nchannel = "222"\nlang = "fr"\n'
        'time = "09:00"\ntz = "Europe/Paris"\n\n'
        '[[subscription]]\nplatform = "slack"\nworkspace = "T0AB"\nchannel = "C2AB"\nlang = "both"\n'
        'mode = "replay"\nstart = 2023-12-01\n'
    )
    applied = await admin.apply_file(path)
    assert [a.managed_by for a in applied] == ["file", "file"]
    assert [a.id for a in await admin.apply_file(path)] == [a.id for a in applied]  # idempotent
    with pytest.raises(FileManaged) as error:
        await admin.subscribe(
            spec(workspace_id="111", channel_id="222", post_time="10:00"), CHAT_FR
        )
    assert str(error.value) == (
        f"Cet abonnement est géré par le fichier de configuration {path} : modifiez-le là, puis redémarrez le bot."
    )
    with pytest.raises(FileManaged, match="managed by the configuration file"):
        await admin.pause(applied[0].id, CHAT_EN)
    assert not (await admin.pause(applied[0].id, CLI, "maintenance"))[
        0
    ].active  # operators may pause
    assert "managed by" in describe((await admin.list(platform="discord"))[0])
    path.write_text('[[subscription]]\nplatform = "discord"\nworkspace = "111"\nchannel = "222"\n')
    await admin.apply_file(path)
    assert [(i.platform, i.channel_id) for i in await admin.list()] == [("discord", "222")]
    path.write_text(
        '[[subscription]]\nplatform = "discord"\nworkspace = "111"\nchannel = "222"\ntz = "Paris/Europe"\n'
    )
    with pytest.raises(
        InvalidValue, match=r"subscription\[0\] \(discord:111/222 \[fr\]\): Unknown time zone"
    ):
        await admin.apply_file(path)


def test_example_subscriptions_file_is_valid(store):
    import asyncio

    service = AdminService(store, LIB, clock=lambda: NOW)
    applied = asyncio.run(service.apply_file("config/subscriptions.example.toml"))
    assert applied and all(a.managed_by == "file" for a in applied)
    # copied as is, it creates no Discord/Slack subscription with made-up ids ...
    assert {a.platform for a in applied} == {"console"}


def test_example_subscriptions_file_commented_examples_are_valid(store, tmp_path):
    """... and its commented Discord/Slack examples are valid once uncommented."""
    import asyncio
    import re

    text = Path("config/subscriptions.example.toml").read_text(encoding="utf-8")
    examples = text.split("# Examples for Discord and Slack", 1)[1].split("\n", 1)[1]
    uncommented = re.sub(r"^# ?", "", examples, flags=re.M)
    path = tmp_path / "subscriptions.toml"
    path.write_text(uncommented, encoding="utf-8")
    service = AdminService(store, LIB, clock=lambda: NOW)
    applied = asyncio.run(service.apply_file(path))
    assert sorted(a.platform for a in applied) == ["discord", "slack"]


# ---------------------------------------------------------------- the operators' CLI


@pytest.fixture
def cli_env(tmp_path, monkeypatch):
    """A fresh machine: no config directory, no .env, no token, SQLite in tmp_path."""
    monkeypatch.chdir(tmp_path)
    for name in (
        "DISCORD_TOKEN",
        "SLACK_BOT_TOKEN",
        "DEPECHE_CONFIG",
        "DEPECHE_SUBSCRIPTIONS_FILE",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'cli.sqlite3'}")
    return tmp_path


def test_run_once_on_a_fresh_machine_prints_day_one_on_the_console(cli_env, capsys):
    from bot.cli import main

    assert main(["run", "--once"]) == 0
    out = capsys.readouterr().out
    assert "No Discord or Slack token is configured" in out and "running on the" in out
    assert "Created a console subscription" in out
    assert "Jour 1" in out and "Day 1" in out  # both languages, story day 1, right away
    assert main(["run", "--once"]) == 0  # again: nothing twice
    out = capsys.readouterr().out
    assert "Day 1" not in out and "console:console [both]" in out


def test_subscriptions_cli(cli_env, capsys):
    from bot.cli import main

    add = [
        "subscriptions",
        "add",
        "--platform",
        "discord",
        "--workspace",
        "111",
        "--channel",
        "222",
        "--lang",
        "fr",
    ]
    assert main([*add, "--time", "08:00", "--tz", "Europe/Paris"]) == 0
    assert "created: #1 discord:111/222 [fr] 08:00 Europe/Paris" in capsys.readouterr().out
    assert main([*add, "--time", "09:15", "--tz", "Europe/Paris"]) == 0
    assert "updated: #1 discord:111/222 [fr] 09:15" in capsys.readouterr().out
    assert main([*add, "--tz", "Europe/Pari"]) == 2
    assert "Did you mean: Europe/Paris" in capsys.readouterr().err
    assert main([*add, "--mode", "replay", "--start", "2001-01-01"]) == 2
    assert main(["subscriptions", "pause", "--id", "1", "--reason", "holidays"]) == 0
    assert "paused (holidays)" in capsys.readouterr().out
    assert main(["subscriptions", "status"]) == 0
    assert "Posted: 0, pending: 0, failed: 0, skipped: 0." in capsys.readouterr().out
    assert (
        main(
            [
                "subscriptions",
                "resume",
                "--platform",
                "discord",
                "--workspace",
                "111",
                "--channel",
                "222",
            ]
        )
        == 0
    )
    assert main(["subscriptions", "remove", "--id", "1"]) == 0
    assert main(["subscriptions", "remove", "--id", "1"]) == 2
    assert main(["subscriptions", "remove"]) == 2
    capsys.readouterr()
    assert main(["subscriptions", "list"]) == 0
    assert capsys.readouterr().out.strip() == "No subscriptions."


def test_simulate_prints_each_day_of_the_story(cli_env, capsys):
    from bot.cli import main

    assert (
        main(["simulate", "--from", "2023-11-17", "--days", "5", "--lang", "en", "--step", "60"])
        == 0
    )
    out = capsys.readouterr().out
    for n in range(1, 5):
        assert f"Day {n} —" in out
    assert "Simulated 5 days from 2023-11-17 at 08:00 Europe/Paris: 4 posts." in out
