"""Days of the week, cadence and format of a subscription: one parser and one set of rules for
chat, the CLI and config/subscriptions.toml (through the admin service), shown by list and
status, refused in the user's language."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.admin import Actor, AdminService, InvalidValue, SubscriptionSpec, describe
from bot.delivery import DocumentCache
from bot.subscriptions.options import InvalidOption, check_options, days_option
from digests.options import OptionError
from digests.story import StoryLibrary, default_story
from digests.weekdays import (
    ALL_DAYS,
    WEEKDAYS,
    WEEKENDS,
    days_text,
    describe_days,
    includes,
    parse_days,
)

LIB = StoryLibrary([default_story()])
NOW = dt.datetime(2023, 11, 17, 5, 0, tzinfo=dt.UTC)  # Friday, 06:00 in Paris
CHAT_FR = Actor(user_id="u1", via="chat", where="C-admin", lang="fr")
CHAT_EN = Actor(user_id="u1", via="chat", where="C-admin", lang="en")
MON, WED, FRI, SUN = 1, 4, 16, 64


# ---------------------------------------------------------------- the parser


@pytest.mark.parametrize(
    ("text", "mask"),
    [
        ("mon-fri", WEEKDAYS),
        ("Mon - Fri", WEEKDAYS),
        ("lundi au vendredi", WEEKDAYS),
        ("monday to friday", WEEKDAYS),
        ("weekdays", WEEKDAYS),
        ("en semaine", WEEKDAYS),
        ("mon,wed,fri", MON | WED | FRI),
        ("lun., mer. et ven.", MON | WED | FRI),
        ("Mercredi", WED),
        ("sam-dim", WEEKENDS),
        ("week-end", WEEKENDS),
        ("fri-mon", FRI | 32 | SUN | MON),  # a range wraps around the week
        ("every day", ALL_DAYS),
        ("tous les jours", ALL_DAYS),
        ("weekdays, sun", WEEKDAYS | SUN),
    ],
)
def test_parse_days_reads_both_languages(text, mask):
    assert parse_days(text) == mask


@pytest.mark.parametrize("text", ["", " ", "mon-fry", "someday", "mon--fri", "1-5", "mon-", ","])
def test_parse_days_refuses_with_the_expected_form(text):
    with pytest.raises(OptionError, match="for example mon-fri or mon,wed,fri"):
        parse_days(text)


def test_parse_days_error_in_french():
    with pytest.raises(OptionError, match=r"^Jours invalides 'lundy' : .* lun-ven ou lun,mer,ven"):
        parse_days("lundy", "fr")


def test_every_mask_round_trips_through_its_text():
    for mask in range(1, ALL_DAYS + 1):
        assert parse_days(days_text(mask)) == mask
        assert describe_days(mask, "fr") and describe_days(mask, "en")


def test_includes_follows_the_local_weekday():
    assert includes(WEEKDAYS, dt.date(2023, 11, 17))  # a Friday
    assert not includes(WEEKDAYS, dt.date(2023, 11, 18))


def test_describe_days_reads_well():
    assert describe_days(SUN, "fr") == "dimanche"
    assert describe_days(MON | 2, "en") == "Mon and Tue"
    assert describe_days(WEEKENDS, "fr") == "sam. et dim."


# ---------------------------------------------------------------- the rules


def test_weekly_defaults_to_monday_and_wants_one_day():
    assert check_options("every day", "weekly", "full") == (MON, "weekly", "full")
    assert check_options("sun", "Weekly", "COMPACT") == (SUN, "weekly", "compact")
    with pytest.raises(
        InvalidOption, match=r"un seul jour \(pas lun\., mer\. et ven\.\) : choisissez-en un\.$"
    ):
        check_options("mon,wed,fri", "weekly", "full", "fr")


def test_days_from_a_list_a_mask_or_text():
    assert days_option(["mon", "wed"]) == MON | WED
    assert days_option(31) == WEEKDAYS
    with pytest.raises(InvalidOption, match="Invalid days '0'"):
        days_option(0)


# ---------------------------------------------------------------- through the admin service


@pytest.fixture
def admin(store):
    return AdminService(store, LIB, clock=lambda: NOW)


def spec(**changes):  # type: ignore[no-untyped-def]
    base = dict(platform="discord", workspace_id="G", channel_id="C1", lang="fr")
    base.update(changes)
    return SubscriptionSpec(**base)  # type: ignore[arg-type]


async def test_subscribe_with_days_cadence_and_format(admin):
    info, _ = await admin.subscribe(spec(days="lun-ven", format="compact"), CHAT_FR)
    assert (info.days, info.cadence, info.format) == (WEEKDAYS, "daily", "compact")
    # Friday 06:00 in Paris: the next post is today, 08:00
    assert info.next_run_local.isoformat() == "2023-11-17T08:00:00+01:00"
    assert "du lundi au vendredi, compact" in describe(info, "fr")
    assert "Monday to Friday, compact" in describe(info, "en")

    [weekly] = await admin.update(info.id, CHAT_EN, cadence="weekly", days="sun")
    assert (weekly.days, weekly.cadence) == (SUN, "weekly")
    assert weekly.next_run_local.isoformat() == "2023-11-19T08:00:00+01:00"
    assert "weekly roll-up on Sunday" in describe(weekly, "en")
    assert "récapitulatif de la semaine le dimanche" in describe(weekly, "fr")

    [daily] = await admin.update(info.id, CHAT_EN, cadence="daily")  # every day again
    assert (daily.days, daily.cadence, daily.format) == (ALL_DAYS, "daily", "compact")
    assert "Sunday" not in describe(daily, "en")


@pytest.mark.parametrize(
    ("changes", "french"),
    [
        ({"days": "lundy"}, "Jours invalides 'lundy'"),
        ({"cadence": "monthly"}, "Rythme inconnu 'monthly' (au choix : daily, weekly)."),
        ({"format": "tiny"}, "Format inconnu 'tiny' (au choix : full, compact)."),
        ({"cadence": "weekly", "days": "sat,sun"}, "(pas sam. et dim.) : choisissez-en un."),
    ],
)
async def test_bad_options_are_refused_in_the_users_language(admin, changes, french):
    with pytest.raises(InvalidValue) as refused:
        await admin.subscribe(spec(**changes), CHAT_FR)
    assert french in refused.value.message
    assert await admin.list() == []


async def test_preview_shows_what_the_subscription_posts(admin):
    await admin.subscribe(spec(format="compact", lang="en"), CHAT_EN)
    [document] = await admin.preview(1, CHAT_EN, day=dt.date(2023, 11, 18))
    assert document.kind == "compact"
    await admin.update(1, CHAT_EN, cadence="weekly", days="sun")
    [document] = await admin.preview(1, CHAT_EN, day=dt.date(2023, 11, 19))
    assert document.kind == "weekly" and document.subtitle == "The week of November 13–19, 2023"


async def test_the_file_takes_days_cadence_and_format(admin, tmp_path):
    path = tmp_path / "subscriptions.toml"
    path.write_text(
        "[[subscription]]\nplatform = 'console'\nchannel = 'a'\ndays = ['mon', 'wed']\n"
        "format = 'compact'\n\n"
        "[[subscription]]\nplatform = 'console'\nchannel = 'b'\ncadence = 'weekly'\n"
        "days = 'sunday'\ntime = '18:00'\n",
        encoding="utf-8",
    )
    first, second = await admin.apply_file(path)
    assert (first.days, first.format) == (MON | WED, "compact")
    assert (second.days, second.cadence, second.post_time) == (SUN, "weekly", "18:00")
    path.write_text(
        "[[subscription]]\nplatform = 'console'\nchannel = 'a'\ndays = 'someday'\n",
        encoding="utf-8",
    )
    with pytest.raises(InvalidValue, match=r"subscription\[0\] .*Invalid days 'someday'"):
        await admin.apply_file(path)


def test_render_once_per_story_day_language_cadence_and_format():
    cache = DocumentCache(LIB, no_news_line=False, public_url="https://depeche.example")
    day = dt.date(2023, 11, 20)
    full = cache.get("openai-crisis-2023", day, "en")
    compact = cache.get("openai-crisis-2023", day, "en", "daily", "compact")
    weekly = cache.get("openai-crisis-2023", day, "en", "weekly", "full")
    assert full is not None and compact is not None and weekly is not None
    assert (full.kind, compact.kind, weekly.kind) == ("digest", "compact", "weekly")
    assert compact.meta["url"] == "https://depeche.example/en/openai-crisis-2023/2023-11-20/"
    assert compact is cache.get("openai-crisis-2023", day, "en", "daily", "compact")
    assert weekly is cache.get("openai-crisis-2023", day, "en", "weekly", "compact")
    assert full is cache.get("openai-crisis-2023", day, "en", "daily", "full")
    assert cache.get("openai-crisis-2023", dt.date(2023, 11, 25), "en", "daily", "compact") is None


# ---------------------------------------------------------------- the CLI


def test_cli_add_and_set(tmp_path, monkeypatch, capsys):
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
    assert main([*add, "--channel", "222", "--days", "mon-fri", "--format", "compact"]) == 0
    out = capsys.readouterr().out
    assert (
        "created: #1 discord:111/222 [fr] 08:00 Europe/Paris, live, Monday to Friday, compact"
        in out
    )
    assert main(["subscriptions", "set", "--id", "1", "--cadence", "weekly", "--days", "fri"]) == 0
    assert "live, weekly roll-up on Friday, compact" in capsys.readouterr().out
    assert main(["subscriptions", "set", "--id", "1", "--format", "huge"]) == 2
    assert "Unknown format 'huge' (choose from full, compact)." in capsys.readouterr().err
    assert main(["subscriptions", "set", "--id", "1"]) == 2
    assert "nothing to change" in capsys.readouterr().err
    assert main(["subscriptions", "set", "--id", "1", "--days", "sat,sun"]) == 2
    assert "posted on one day (not Sat and Sun): choose one." in capsys.readouterr().err
    assert main(["subscriptions", "list"]) == 0
    assert "weekly roll-up on Friday" in capsys.readouterr().out


# ---------------------------------------------------------------- personal subscriptions


async def test_one_personal_subscription_per_member_and_story(admin, store):
    """On both databases: /digest me again updates the member's one subscription (language,
    time, DM channel) instead of adding one; the partial unique index refuses a second row."""
    import sqlalchemy.exc

    from bot.store import Subscription
    from bot.subscriptions.personal import PersonalRequest, PersonalSubscriptions

    personal = PersonalSubscriptions(admin)
    member = Actor(user_id="U1", via="chat", lang="fr")
    first, created = await personal.subscribe(
        PersonalRequest("slack", "T1", "U1", "D1", "fr", default_timezone="Europe/Paris"), member
    )
    again, created_again = await personal.subscribe(
        PersonalRequest("slack", "T1", "U1", "D2", "en", post_time="7h", days="mon-fri"), member
    )
    assert created and not created_again and again.id == first.id
    assert (again.lang, again.channel_id, again.post_time, again.days) == ("en", "D2", "07:00", 31)
    assert again.timezone == "Europe/Paris"  # kept
    assert [info.id for info in await personal.mine("slack", "T1", "U1")] == [first.id]
    with pytest.raises(sqlalchemy.exc.IntegrityError), store.session() as session, session.begin():
        session.add(
            Subscription(
                story_slug=again.story_slug,
                platform="slack",
                workspace_id="T1",
                channel_id="D3",
                lang="fr",
                post_time="08:00",
                timezone="UTC",
                user_id="U1",
                created_at=NOW,
                updated_at=NOW,
            )
        )
    assert [row.id for row in await personal.unsubscribe("slack", "T1", "U1")] == [first.id]
    assert await personal.mine("slack", "T1", "U1") == []
