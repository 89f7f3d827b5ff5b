"""Alerts on a person or organisation, end to end against the fake Discord and the fake Slack:
the post mentions the chosen role (or user group) only on a day the person appears, and
nothing else is ever pinged; alerts are set from the admin service, the CLI and the file, shown
by list, refused clearly in the user's language."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from typing import Any

import pytest

from bot.admin import Actor, AdminService, InvalidValue, SubscriptionSpec, Target, describe
from bot.alerts import AlertAdmin
from bot.delivery import DeliveryWorker
from bot.discord import contacts_from
from bot.discord.publisher import DiscordPublisher
from bot.publishing import PublisherRegistry
from bot.ratelimit import RateLimiter
from bot.slack.clients import SlackClients
from bot.slack.publisher import SlackPublisher
from bot.store import Store
from digests.alerts import involved, resolve_subject
from digests.story import StoryLibrary, default_story
from tests.fakes.discord_server import (
    ANNOUNCES_CHANNEL_ID,
    GENERAL_CHANNEL_ID,
    GUILD_ID,
    FakeDiscord,
    add_default_guild,
)
from tests.fakes.slack_server import DEFAULT_BOT_TOKEN, DEFAULT_TEAM_ID, FakeSlack

STORY = default_story()
LIB = StoryLibrary([STORY])
NOW = dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.UTC)
FRIDAY, MONDAY = dt.date(2023, 11, 17), dt.date(2023, 11, 20)
ROLE, OTHER_ROLE = "1100000000000000091", "1100000000000000092"
ADMIN_EN = Actor(user_id="1", via="chat", where=str(ANNOUNCES_CHANNEL_ID), lang="en")
ADMIN_FR = Actor(user_id="1", via="chat", where=str(ANNOUNCES_CHANNEL_ID), lang="fr")


def test_the_story_names_nadella_on_monday_only() -> None:
    nadella = resolve_subject(STORY, "satya nadella")
    assert nadella == "satya-nadella" and resolve_subject(STORY, "Google") == "google"
    assert nadella not in involved(STORY, [FRIDAY]) and nadella in involved(STORY, [MONDAY])
    assert "google" not in involved(STORY, STORY.days)


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    fake = FakeDiscord()
    add_default_guild(fake)
    await fake.start()
    yield fake
    await fake.close()


def wiring(store: Store, publisher: Any) -> tuple[AdminService, AlertAdmin]:
    registry = PublisherRegistry()
    registry.register(publisher)
    worker = DeliveryWorker(store, LIB, registry, clock=lambda: NOW)
    admin = AdminService(store, LIB, publishers=registry, worker=worker, clock=lambda: NOW)
    return admin, AlertAdmin(admin)


def discord_target(channel: int) -> Target:
    return Target(platform="discord", workspace_id=str(GUILD_ID), channel_id=str(channel))


async def test_discord_pings_only_the_chosen_role_and_only_when_the_person_appears(
    fake: FakeDiscord, store: Store
) -> None:
    publisher = DiscordPublisher(
        token=fake.token,
        api_url=fake.api_url,
        limiter=RateLimiter(global_rate=48, kinds={"channel": (1.0, 5)}),
        contacts=contacts_from(store),
    )
    admin, alerts = wiring(store, publisher)
    spec = SubscriptionSpec(
        platform="discord", workspace_id=str(GUILD_ID), channel_id=str(GENERAL_CHANNEL_ID),
        lang="fr", mode="replay", start_date=NOW.date(), timezone="UTC", post_time="08:00",
    )  # fmt: skip
    try:
        await admin.subscribe(spec, ADMIN_EN)
        target = discord_target(GENERAL_CHANNEL_ID)
        [info] = await alerts.add(target, "Satya Nadella", f"<@&{ROLE}>", ADMIN_EN)
        await alerts.add(target, "google", OTHER_ROLE, ADMIN_EN)  # never in the story's news
        assert info.alerts == (("satya-nadella", ROLE),)
        assert f"alertes : satya-nadella → {ROLE}" in describe(info, "fr")
        friday = await admin.send_now(target, ADMIN_EN, day=FRIDAY)
        monday = await admin.send_now(target, ADMIN_EN, day=MONDAY)
    finally:
        await publisher.close()
    assert [d.status for d in friday + monday] == ["sent", "sent"]
    posts = fake.requests_for(f"POST /channels/{GENERAL_CHANNEL_ID}/messages")
    by_id = {m["id"]: m for m in fake.messages(GENERAL_CHANNEL_ID)}
    # Friday: Nadella is not in the news; nothing pinged, no content at all.
    for request in posts[: len(friday[0].message_ids)]:
        assert "content" not in request.json
        assert request.json["allowed_mentions"] == {"parse": [], "replied_user": False}
    # Monday: the first message names the role and the reason; only that role may be pinged.
    first, *rest = posts[len(friday[0].message_ids) :]
    assert first.json["content"] == f"<@&{ROLE}> Dans l’actualité du jour : Satya Nadella."
    assert first.json["allowed_mentions"] == {"parse": [], "replied_user": False, "roles": [ROLE]}
    assert all("content" not in r.json for r in rest)
    pinged = [by_id[i]["mention_roles"] for d in friday + monday for i in d.message_ids]
    assert pinged == [[]] * len(friday[0].message_ids) + [[ROLE]] + [[]] * len(rest)
    assert not any(m["mention_everyone"] for m in by_id.values())


async def test_bad_alerts_are_refused_in_the_users_language(store: Store) -> None:
    admin = AdminService(store, LIB, clock=lambda: NOW)
    alerts = AlertAdmin(admin)
    spec = SubscriptionSpec(
        platform="discord", workspace_id=str(GUILD_ID), channel_id="55", lang="fr"
    )
    await admin.subscribe(spec, ADMIN_FR)
    target = Target("discord", str(GUILD_ID), "55")
    with pytest.raises(InvalidValue, match="Aucune personne ni organisation 'Bill Gates'"):
        await alerts.add(target, "Bill Gates", ROLE, ADMIN_FR)
    for everyone in (str(GUILD_ID), "@everyone", "@here", "everyone"):
        with pytest.raises(InvalidValue, match="pas @everyone"):
            await alerts.add(target, "Sam Altman", everyone, ADMIN_FR)
    with pytest.raises(InvalidValue, match="n’a pas cette alerte"):
        await alerts.remove(target, "Sam Altman", None, ADMIN_FR)
    [info] = await alerts.add(target, "sam altman", ROLE, ADMIN_FR)
    [info] = await alerts.add(target, "Sam Altman", ROLE, ADMIN_FR)  # once
    assert info.alerts == (("sam-altman", ROLE),)
    [info] = await alerts.remove(target, "Sam Altman", None, ADMIN_FR)
    assert info.alerts == ()
    slack = SubscriptionSpec(platform="slack", workspace_id="T1", channel_id="C1", lang="en")
    await admin.subscribe(slack, ADMIN_EN)
    for wide in ("<!channel>", "<!here>", "<!everyone>", "U0123ABCD"):
        with pytest.raises(InvalidValue, match="user group"):
            await alerts.add(Target("slack", "T1", "C1"), "Sam Altman", wide, ADMIN_EN)


async def test_slack_mentions_only_the_chosen_group_and_only_when_the_person_appears(
    store: Store,
) -> None:
    async with FakeSlack(channel_rate=None) as fake:
        clients = SlackClients(DEFAULT_BOT_TOKEN, api_url=fake.api_url)
        publisher = SlackPublisher(clients)
        admin, alerts = wiring(store, publisher)
        spec = SubscriptionSpec(
            platform="slack", workspace_id=DEFAULT_TEAM_ID, channel_id="C0NEWS", lang="en",
            mode="replay", start_date=NOW.date(), timezone="UTC", post_time="08:00",
        )  # fmt: skip
        try:
            await admin.subscribe(spec, ADMIN_EN)
            target = Target("slack", DEFAULT_TEAM_ID, "C0NEWS")
            await alerts.add(target, "Microsoft", "<!subteam^S0MSFT|@msft-watch>", ADMIN_EN)
            await alerts.add(target, "Meta", "S0OTHER", ADMIN_EN)  # never in the news
            await admin.send_now(target, ADMIN_EN, day=FRIDAY)
            await admin.send_now(target, ADMIN_EN, day=MONDAY)
        finally:
            await clients.close()
        friday, monday = fake.posts("C0NEWS")
        everything = [m.text or "" for m in fake.messages("C0NEWS")] + [
            str(m.blocks) for m in fake.messages("C0NEWS")
        ]
        assert "subteam" not in (friday.text or "") + str(friday.blocks)
        assert monday.blocks is not None
        assert monday.blocks[0]["text"]["text"] == ("<!subteam^S0MSFT> In today’s news: Microsoft.")
        assert sum(text.count("<!subteam^") for text in everything) == 2  # text and block
        assert not any(
            wide in text for text in everything for wide in ("<!channel>", "<!here", "<!everyone")
        )
        assert "S0OTHER" not in " ".join(everything)


def test_cli_alerts(
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
    assert main([*add, "--channel", "222"]) == 0
    capsys.readouterr()
    assert (
        main(["subscriptions", "alert", "--id", "1", "--who", "Mira Murati", "--role", ROLE]) == 0
    )
    assert f"alerts: mira-murati → {ROLE}" in capsys.readouterr().out
    assert main(["subscriptions", "alert", "--id", "1", "--who", "Nobody", "--role", ROLE]) == 2
    assert "No person or organisation 'Nobody' in the story" in capsys.readouterr().err
    assert main(["subscriptions", "list"]) == 0
    assert f"mira-murati → {ROLE}" in capsys.readouterr().out
    assert main(["subscriptions", "alert", "--id", "1", "--who", "Mira Murati", "--remove"]) == 0
    assert "mira-murati" not in capsys.readouterr().out


async def test_the_file_declares_alerts(store: Store, tmp_path: Any) -> None:
    admin = AdminService(store, LIB, clock=lambda: NOW)
    path = tmp_path / "subscriptions.toml"
    path.write_text(
        "[[subscription]]\nplatform = 'discord'\nworkspace = '111'\nchannel = '222'\n"
        f"alerts = [{{who = 'Sam Altman', role = '{ROLE}'}}, {{who = 'OpenAI', role = '{OTHER_ROLE}'}}]\n",
        encoding="utf-8",
    )
    (info,) = await admin.apply_file(path)
    assert info.alerts == (("sam-altman", ROLE), ("openai", OTHER_ROLE))
    path.write_text(
        "[[subscription]]\nplatform = 'discord'\nworkspace = '111'\nchannel = '222'\n"
        f"alerts = [{{who = 'Sam Altman', role = '{ROLE}'}}]\n",
        encoding="utf-8",
    )
    (info,) = await admin.apply_file(path)
    assert info.alerts == (("sam-altman", ROLE),)
    path.write_text(
        "[[subscription]]\nplatform = 'discord'\nworkspace = '111'\nchannel = '222'\n"
        "alerts = [{who = 'Sam Altman', role = '@everyone'}]\n",
        encoding="utf-8",
    )
    with pytest.raises(InvalidValue, match=r"subscription\[0\] .*not @everyone"):
        await admin.apply_file(path)


# ---------------------------------------------------------------- chat


async def test_discord_alert_command_with_autocomplete(tmp_path: Any) -> None:
    from tests.discord_env import discord_env
    from tests.fakes.discord_server import MEMBER_USER_ID, MODERATORS_ROLE_ID, OWNER_USER_ID

    admin = {"user_id": OWNER_USER_ID}
    async with discord_env(tmp_path) as env:
        fake = env.fake
        subscribe = await fake.dispatch_command(
            "digest-admin subscribe",
            {"channel": GENERAL_CHANNEL_ID, "language": "fr", "time": "08:00", "timezone": "UTC"},
            locale="fr",
            **admin,
        )
        await subscribe.wait_followup(timeout=10)
        typed = await fake.dispatch_autocomplete(
            "digest-admin alert", {"who": "nadel"}, "who", locale="fr", **admin
        )
        choices = (await typed.wait_callback(timeout=10)).data["choices"]  # type: ignore[index]
        assert choices == [{"name": "Satya Nadella", "value": "satya-nadella"}]
        added = await fake.dispatch_command(
            "digest-admin alert",
            {"channel": GENERAL_CHANNEL_ID, "who": "satya-nadella", "role": MODERATORS_ROLE_ID},
            locale="fr",
            **admin,
        )
        shown = (await added.wait_followup(timeout=10))["embeds"][0]["description"]
        assert f"alertes : satya-nadella → {MODERATORS_ROLE_ID}" in shown
        wrong = await fake.dispatch_command(
            "digest-admin alert",
            {"channel": GENERAL_CHANNEL_ID, "who": "Bill Gates", "role": MODERATORS_ROLE_ID},
            locale="en-US",
            **admin,
        )
        refused = await wrong.wait_followup(timeout=10)
        assert "No person or organisation 'Bill Gates'" in str(refused)
        member = await fake.dispatch_command(
            "digest-admin alert",
            {"channel": GENERAL_CHANNEL_ID, "who": "Sam Altman", "role": MODERATORS_ROLE_ID},
            locale="fr",
            user_id=MEMBER_USER_ID,
        )
        assert "Gérer le serveur" in str((await member.wait_callback(timeout=10)).data)


async def test_personal_digests_take_neither_alerts_nor_threads(store: Store) -> None:
    from bot.subscriptions.personal import PersonalRequest, PersonalSubscriptions

    admin = AdminService(store, LIB, clock=lambda: NOW)
    member = Actor(user_id="42", via="chat", where="D42", lang="fr")
    info, _ = await PersonalSubscriptions(admin).subscribe(
        PersonalRequest(
            platform="discord", workspace_id=str(GUILD_ID), user_id="42", dm_channel_id="4242",
            lang="fr",
        ),
        member,
    )  # fmt: skip
    with pytest.raises(InvalidValue, match="pas pour les résumés personnels"):
        await AlertAdmin(admin).add(info.id, "Sam Altman", ROLE, ADMIN_FR)
    with pytest.raises(InvalidValue, match="message privé : il n’a pas de fil"):
        await admin.update(info.id, ADMIN_FR, thread="daily")
    [same] = await admin.update(info.id, ADMIN_FR, thread="none")
    assert same.thread == "none" and same.alerts == ()


async def test_a_weekly_roll_up_pings_when_its_week_involves_the_person(
    fake: FakeDiscord, store: Store
) -> None:
    """A weekly roll-up covers seven story days: Monday 20's roll-up names Nadella (he appears
    that day), Sunday 19's does not (he had not appeared yet)."""
    publisher = DiscordPublisher(
        token=fake.token,
        api_url=fake.api_url,
        limiter=RateLimiter(global_rate=48, kinds={"channel": (1.0, 5)}),
    )
    admin, alerts = wiring(store, publisher)
    spec = SubscriptionSpec(
        platform="discord", workspace_id=str(GUILD_ID), channel_id=str(GENERAL_CHANNEL_ID),
        lang="en", timezone="UTC", post_time="08:00", cadence="weekly", days="sun",
    )  # fmt: skip
    try:
        await admin.subscribe(spec, ADMIN_EN)
        target = discord_target(GENERAL_CHANNEL_ID)
        await alerts.add(target, "Satya Nadella", ROLE, ADMIN_EN)
        [sunday] = await admin.send_now(target, ADMIN_EN, day=dt.date(2023, 11, 19))
        [monday] = await admin.send_now(target, ADMIN_EN, day=MONDAY)
    finally:
        await publisher.close()
    by_id = {m["id"]: m for m in fake.messages(GENERAL_CHANNEL_ID)}
    assert by_id[sunday.message_ids[0]]["mention_roles"] == []
    assert by_id[monday.message_ids[0]]["mention_roles"] == [ROLE]
    assert "Satya Nadella" in by_id[monday.message_ids[0]]["content"]
