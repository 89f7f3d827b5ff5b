"""Bad configuration and bad input give one line and exit code 2 (1 for a failure outside our
control), never a traceback, never a password or a token; platforms that cannot start stop
`depeche run` instead of leaving it idle. Regressions from a QA review."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from bot.cli import clean_message, main
from bot.settings import ENVIRONMENT, SettingsError, load_settings

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def fresh(tmp_path, monkeypatch):
    """A fresh machine: no config directory, no .env, no token, SQLite under tmp_path."""
    monkeypatch.chdir(tmp_path)
    for name in (*ENVIRONMENT, "DEPECHE_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'cli.sqlite3'}")
    return tmp_path


def run(capsys, *argv: str) -> tuple[int, str, str]:
    try:
        code = main(list(argv))
    except SystemExit as exit_:  # argparse's own errors
        code = int(exit_.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def one_line_error(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert "Traceback" not in err
    assert lines[0].startswith("depeche: error: ")
    return lines[0]


# ------------------------------------------------------------------ 1. DATABASE_URL


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "postgresql+psycopg://x:hunter2pw@127.0.0.1:1/db",
            "DATABASE_URL: cannot connect to 127.0.0.1:1 (connection refused)",
        ),
        ("garbage", "DATABASE_URL: not a database URL (use sqlite or postgresql+psycopg)"),
        (
            "mysql://u:hunter2pw@h/db",
            "DATABASE_URL: unsupported database 'mysql' (use sqlite or postgresql+psycopg)",
        ),
        (
            "postgresql+asyncpg://u:hunter2pw@h/db",
            "DATABASE_URL: unsupported PostgreSQL driver 'asyncpg'",
        ),
    ],
)
@pytest.mark.parametrize(
    "argv", [("subscriptions", "list"), ("run", "--once"), ("db", "upgrade"), ("db", "current")]
)
def test_bad_database_url_is_one_line_without_password(
    fresh, capsys, monkeypatch, url, expected, argv
):
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("DEPECHE_DATABASE_WAIT_SECONDS", "0")  # `run` waits (tests/test_outages.py)
    code, _out, err = run(capsys, *argv)
    assert code == 2
    assert expected in one_line_error(err)
    assert "hunter2pw" not in err


def test_db_upgrade_names_its_option(fresh, capsys):
    code, _out, err = run(capsys, "db", "upgrade", "--database-url", "nonsense")
    assert code == 2 and "--database-url: not a database URL" in one_line_error(err)


# ------------------------------------------------------------------ 2-4. settings at load


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"SLACK_BOT_TOKEN": "xoxb-1"}, "SLACK_APP_TOKEN is not set"),
        (
            {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_MODE": "http"},
            "SLACK_SIGNING_SECRET is not set",
        ),
        ({"DISCORD_SHARD_IDS": "0,1"}, "DISCORD_SHARD_IDS is set without DISCORD_SHARD_COUNT"),
        (
            {"DISCORD_SHARD_IDS": "0,4", "DISCORD_SHARD_COUNT": "2"},
            "DISCORD_SHARD_IDS: 4 not in 0..1",
        ),
        (
            {"DEPECHE_TIMEZONE": "Europe/Pari"},
            "DEPECHE_TIMEZONE: Unknown time zone 'Europe/Pari'. Did you mean: Europe/Paris",
        ),
    ],
)
def test_inconsistent_settings_fail_at_load(tmp_path, env, expected):
    with pytest.raises(SettingsError, match=re.escape(expected)):
        load_settings(tmp_path / "none.toml", environ=env, dotenv_file=None)


def test_slack_mode_option_is_checked_too(fresh, capsys, monkeypatch):
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-1")
    monkeypatch.setenv("SLACK_APP_TOKEN", "xapp-1")
    code, _out, err = run(capsys, "run", "--slack-mode", "http")
    assert code == 2 and "SLACK_SIGNING_SECRET is not set" in one_line_error(err)


def test_time_zone_is_validated_and_canonicalised(fresh, capsys, monkeypatch):
    (fresh / "config").mkdir()
    (fresh / "config" / "settings.toml").write_text(
        '[schedule]\ndefault_timezone = "europe/pari"\n'
    )
    code, _out, err = run(capsys, "run", "--once")
    assert code == 2
    line = one_line_error(err)
    assert "schedule.default_timezone in config/settings.toml" in line and "Europe/Paris" in line
    (fresh / "config" / "settings.toml").write_text(
        '[schedule]\ndefault_timezone = "america/new_york"\n'
    )
    settings = load_settings(environ={}, dotenv_file=None)
    assert settings.schedule.default_timezone == "America/New_York"


def test_named_config_file_must_exist_and_be_a_file(fresh, capsys, monkeypatch):
    monkeypatch.setenv("DEPECHE_CONFIG", str(fresh))
    code, _out, err = run(capsys, "subscriptions", "list")
    assert code == 2
    assert f"DEPECHE_CONFIG: {fresh}: is a directory" in one_line_error(err)
    monkeypatch.setenv("DEPECHE_CONFIG", str(fresh / "nonexistent.toml"))
    code, _out, err = run(capsys, "subscriptions", "list")
    assert code == 2 and "nonexistent.toml: no such settings file" in one_line_error(err)
    monkeypatch.delenv("DEPECHE_CONFIG")
    assert run(capsys, "subscriptions", "list")[0] == 0  # the default file may be absent


# ------------------------------------------------------------------ 2. platforms that cannot start


def test_describe_failure_is_one_line_for_expected_errors():
    import aiohttp
    import discord
    from slack_sdk.errors import SlackApiError
    from slack_sdk.web.async_slack_response import AsyncSlackResponse

    from bot.platforms import describe_failure

    assert "DISCORD_TOKEN was refused (401 Unauthorized)" in describe_failure(
        "discord", discord.LoginFailure("Improper token has been passed.")
    )
    key = aiohttp.client_reqrep.ConnectionKey("127.0.0.1", 1, False, True, None, None, None)
    refused = aiohttp.ClientConnectorError(key, ConnectionRefusedError(111, "refused"))
    assert (
        describe_failure("discord", refused)
        == "Discord: cannot reach 127.0.0.1 (connection refused)"
    )

    def slack_error(url: str) -> SlackApiError:
        response = AsyncSlackResponse(
            client=None,
            http_verb="POST",
            api_url=url,
            req_args={},
            data={"ok": False, "error": "invalid_auth"},
            headers={},
            status_code=200,
        )
        return SlackApiError("invalid_auth", response)

    assert describe_failure("slack", slack_error("https://slack.com/api/auth.test")) == (
        "Slack: SLACK_BOT_TOKEN was refused (invalid_auth): check the token"
    )
    assert "SLACK_APP_TOKEN was refused" in describe_failure(
        "slack", slack_error("https://slack.com/api/apps.connections.open")
    )
    assert describe_failure("slack", KeyError("bug")) is None  # a bug keeps its traceback


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        (
            {"DISCORD_TOKEN": "x.y.secret-token", "DISCORD_API_URL": "http://127.0.0.1:1/api/v10"},
            "platform discord cannot run: Discord: cannot reach http://127.0.0.1:1/api/v10 "
            "(connection refused)",
        ),
        (
            {
                "SLACK_BOT_TOKEN": "xoxb-secret-token",
                "SLACK_APP_TOKEN": "xapp-secret-token",
                "SLACK_API_URL": "http://127.0.0.1:1/api/",
            },
            "platform slack cannot run: Slack: cannot reach http://127.0.0.1:1/api/ "
            "(connection refused)",
        ),
    ],
)
def test_run_stops_with_code_1_when_no_platform_can_start(
    fresh, capsys, caplog, monkeypatch, env, expected
):
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    caplog.set_level(logging.INFO)
    assert main(["run", "--no-console-subscription"]) == 1
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    messages = [r.getMessage() for r in errors]
    assert expected in messages
    assert any("no platform is running" in m for m in messages)
    assert all(r.exc_info is None for r in errors)  # expected failures: no traceback
    text = caplog.text + "".join(capsys.readouterr())
    assert "secret-token" not in text and "Traceback" not in text


async def test_one_failing_platform_leaves_the_other_running(fresh, caplog, monkeypatch):
    import argparse
    import types

    import discord

    from bot import platforms
    from bot.commands import run as run_command
    from bot.platforms import build_context
    from bot.settings import Settings

    async def fails(context):
        raise discord.LoginFailure("Improper token has been passed.")

    async def serves(context):
        await asyncio.sleep(0.05)
        context.stop.set()  # stands for Ctrl-C once the healthy platform is up
        await asyncio.Event().wait()

    modules = {
        "discord": types.SimpleNamespace(start=fails),
        "slack": types.SimpleNamespace(start=serves),
    }
    monkeypatch.setattr(platforms, "load_platform", modules.__getitem__)
    context = build_context(
        Settings(database_url=f"sqlite:///{fresh / 'two.sqlite3'}"), options=argparse.Namespace()
    )
    try:
        assert await run_command._serve(context, ["discord", "slack"]) == 0
    finally:
        context.store.dispose()
    assert "platform discord cannot run: Discord: DISCORD_TOKEN was refused" in caplog.text
    assert "no platform is running" not in caplog.text


# ------------------------------------------------------------------ 6. subscriptions add & co


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (
            ["--platform", "discord", "--lang", "fr"],
            "--platform discord needs --workspace and --channel",
        ),
        (
            ["--platform", "discord", "--workspace", "123", "--channel", "<#456>"],
            "--channel '<#456>' is not a Discord id",
        ),
        (
            ["--platform", "discord", "--workspace", "abc", "--channel", "456"],
            "--workspace 'abc' is not a Discord id",
        ),
        (
            ["--platform", "slack", "--workspace", "T0AB", "--channel", "@everyone"],
            "--channel '@everyone' is not a Slack channel id",
        ),
        (
            ["--platform", "slack", "--workspace", "T0AB", "--channel", "general"],
            "--channel 'general' is not a Slack channel id",
        ),
        (["--platform", "slack", "--channel", "C0AB"], "slack needs --workspace"),
        (["--channel", "a\x1b[31mb"], "--channel 'a\\x1b[31mb': use 1 to 100 printable"),
        (["--mode", "live", "--start", "2030-01-01"], "--start only applies to --mode replay"),
        (["--start", "2030-01-01"], "--start only applies to --mode replay"),
    ],
)
def test_subscriptions_add_refuses_invalid_targets(fresh, capsys, argv, expected):
    code, out, err = run(capsys, "subscriptions", "add", *argv)
    assert code == 2 and out == ""
    line = one_line_error(err)
    assert expected in line
    assert "\x1b" not in err
    assert run(capsys, "subscriptions", "list")[1].strip() == "No subscriptions."


def test_subscriptions_add_huge_value_is_cut(fresh, capsys):
    code, _out, err = run(
        capsys,
        "subscriptions",
        "add",
        "--platform",
        "slack",
        "--workspace",
        "T0AB",
        "--channel",
        "C" * 10_000,
    )
    assert code == 2 and len(one_line_error(err)) < 300


def test_subscriptions_add_accepts_real_ids(fresh, capsys):
    assert (
        run(
            capsys,
            "subscriptions",
            "add",
            "--platform",
            "discord",
            "--workspace",
            "123456789012345678",
            "--channel",
            "234567890123456789",
        )[0]
        == 0
    )
    assert (
        run(
            capsys,
            "subscriptions",
            "add",
            "--platform",
            "slack",
            "--workspace",
            "T0123ABCD",
            "--channel",
            "C0123ABCD",
            "--lang",
            "en",
        )[0]
        == 0
    )
    code, out, _ = run(capsys, "subscriptions", "add", "--mode", "replay", "--start", "2999-01-01")
    assert code == 0 and "console:console" in out


def test_subscription_ids_errors_point_at_the_id(fresh, capsys):
    code, _out, err = run(capsys, "subscriptions", "remove", "--id", "7")
    assert code == 2 and one_line_error(err) == "depeche: error: No subscription #7."
    code, _out, err = run(capsys, "subscriptions", "pause", "9999")
    assert code == 2
    assert "--id: depeche subscriptions pause --id 9999" in one_line_error(err)


def test_unknown_story_and_huge_date_are_shown_safely(fresh, capsys):
    code, _out, err = run(capsys, "digest", "--story", "a\x1b[31mb")
    assert code == 2 and "\x1b" not in err
    assert "unknown story 'a\\x1b[31mb'" in one_line_error(err)
    code, _out, err = run(capsys, "digest", "--date", "x" * 10_000)
    assert code == 2 and len(one_line_error(err)) < 200 and "is not a date" in err


def test_clean_message():
    assert clean_message("a\x1b[2Jb\nc\x00") == "a\\x1b[2Jb\\x0ac\\x00"
    assert len(clean_message("x" * 10_000)) == 500


@pytest.mark.parametrize(
    "argv",
    [
        ("discord", "invite-url", "--application-id", "abc"),
        ("discord", "invite-url", "--application-id", "1", "--guild", "<@123>"),
        ("discord", "sync", "--guild", "12ab"),
    ],
)
def test_discord_ids_must_be_numbers(fresh, capsys, argv):
    code, _out, err = run(capsys, *argv)
    assert code == 2 and "is not a Discord id" in one_line_error(err)


# ------------------------------------------------------------------ 7. Discord CLI network failures


@pytest.mark.parametrize("argv", [("discord", "invite-url"), ("discord", "sync")])
def test_discord_cli_unreachable_is_one_line(fresh, capsys, monkeypatch, argv):
    monkeypatch.setenv("DISCORD_TOKEN", "x.y.secret-token")
    monkeypatch.setenv("DISCORD_API_URL", "http://127.0.0.1:1/api/v10")
    code, _out, err = run(capsys, *argv)
    assert code == 2
    line = one_line_error(err)
    assert "cannot reach Discord at http://127.0.0.1:1/api/v10 (connection refused" in line
    assert "secret-token" not in err
    if argv[1] == "invite-url":
        assert "use --application-id" in line


@pytest.mark.parametrize(("status", "code"), [(401, 2), (502, 1)])
def test_discord_invite_url_http_errors(fresh, capsys, monkeypatch, status, code):
    from bot.discord.publisher import DiscordAPIError, DiscordREST

    async def refuse(self, method, path, **kwargs):
        raise DiscordAPIError(status, 0, "Unauthorized" if status == 401 else "Bad Gateway")

    monkeypatch.setattr(DiscordREST, "request", refuse)
    monkeypatch.setenv("DISCORD_TOKEN", "x.y.secret-token")
    exit_code, _out, err = run(capsys, "discord", "invite-url")
    assert exit_code == code
    line = one_line_error(err)
    assert ("refused DISCORD_TOKEN" in line) if status == 401 else ("try again later" in line)
    assert "secret-token" not in err


# ------------------------------------------------------------------ 8. the subscriptions file


async def test_file_replay_start_in_the_past_is_refused_unless_already_applied(tmp_path):
    from bot.admin import AdminService, InvalidValue
    from bot.store import Store
    from digests.story import StoryLibrary, default_story

    now = [dt.datetime(2023, 11, 17, 5, 0, tzinfo=dt.UTC)]
    store = Store.open(f"sqlite:///{tmp_path / 'file.sqlite3'}")
    try:
        admin = AdminService(store, StoryLibrary([default_story()]), clock=lambda: now[0])
        path = tmp_path / "subscriptions.toml"
        entry = '[[subscription]]\nplatform = "slack"\nworkspace = "T0AB"\nchannel = "C0AB"\nmode = "replay"\n'
        path.write_text(entry + "start = 2020-12-01\n")
        with pytest.raises(InvalidValue) as error:
            await admin.apply_file(path)
        assert str(error.value) == (
            f"{path}: subscription[0] (slack:T0AB/C0AB [fr]): replay start 2020-12-01 is in the "
            "past (today is 2023-11-17 in Europe/Paris): choose today or a later day"
        )
        assert await admin.list() == []
        path.write_text(entry + "start = 2023-11-20\n")
        assert len(await admin.apply_file(path)) == 1
        now[0] += dt.timedelta(days=10)  # the replay is under way: restarting must not fail
        [info] = await admin.apply_file(path)
        assert info.start_date == dt.date(2023, 11, 20)
        path.write_text(entry + "start = 2023-11-21\n")  # a new past start: refused
        with pytest.raises(InvalidValue, match="replay start 2023-11-21 is in the past"):
            await admin.apply_file(path)
        path.write_text(entry.replace('"replay"', '"live"') + "start = 2030-01-01\n")
        with pytest.raises(InvalidValue, match='start only applies to mode = "replay"'):
            await admin.apply_file(path)
        path.write_text('[[subscription]]\nplatform = "discord"\nworkspace = "G"\nchannel = "1"\n')
        with pytest.raises(
            InvalidValue,
            match=r"subscription\[0\] \(discord:G/1 \[fr\]\): workspace 'G' is not a Discord id",
        ):
            await admin.apply_file(path)
    finally:
        store.dispose()


# ------------------------------------------------------------------ 5. Compose and .env.example


def test_env_example_documents_every_variable():
    text = (ROOT / ".env.example").read_text(encoding="utf-8")
    documented = set(re.findall(r"^#? ?([A-Z][A-Z0-9_]+)=", text, flags=re.M))
    missing = (set(ENVIRONMENT) | {"DEPECHE_CONFIG", "POSTGRES_PASSWORD"}) - documented
    assert not missing, f"not in .env.example: {sorted(missing)}"


def test_compose_passes_env_file_requires_password_and_binds_loopback():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    bot, db = compose["services"]["bot"], compose["services"]["db"]
    assert bot["env_file"] == ".env"  # every variable of .env reaches the bot
    assert bot["command"] == ["depeche", "run"]
    assert ":?" in db["environment"]["POSTGRES_PASSWORD"]  # no weak default password
    assert ":-" not in bot["environment"]["DATABASE_URL"]
    assert all(port.startswith("127.0.0.1:") for port in bot["ports"])


def compose_command() -> list[str] | None:
    """`docker-compose` (v1, Debian's package) or the `docker compose` plugin (v2), if either runs."""
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    if shutil.which("docker"):
        probe = subprocess.run(["docker", "compose", "version"], capture_output=True, timeout=60)
        if probe.returncode == 0:
            return ["docker", "compose"]
    return None


@pytest.mark.skipif(
    compose_command() is None, reason="neither docker-compose nor the docker compose plugin"
)
def test_compose_file_validates_with_a_sample_env(tmp_path):
    command = [*(compose_command() or []), "config"]
    shutil.copy(ROOT / "docker-compose.yml", tmp_path)
    shutil.copy(ROOT / "Dockerfile", tmp_path)
    sample = (ROOT / ".env.example").read_text(encoding="utf-8")
    (tmp_path / ".env").write_text(
        sample.replace("POSTGRES_PASSWORD=\n", "POSTGRES_PASSWORD=long-random\n").replace(
            "# DEPECHE_TICK_SECONDS=30", "DEPECHE_TICK_SECONDS=10"
        )
    )
    done = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    # v1 and v2 print the resolved file differently (quotes, port syntax): read it as YAML.
    resolved = yaml.safe_load(done.stdout)["services"]["bot"]
    assert str(resolved["environment"]["DEPECHE_TICK_SECONDS"]) == "10"
    published = [
        port.removesuffix("/tcp")
        if isinstance(port, str)
        else f"{port['host_ip']}:{port['published']}:{port['target']}"
        for port in resolved["ports"]
    ]
    assert "127.0.0.1:3000:3000" in published
    assert all(port.startswith("127.0.0.1:") for port in published)
    (tmp_path / ".env").write_text("DISCORD_TOKEN=\n")
    done = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert done.returncode != 0 and "set POSTGRES_PASSWORD in .env" in done.stderr


# ------------------------------------------------------------------ 9. simulate


def test_simulate_prints_no_log_lines_and_pluralises(fresh, capsys):
    code, out, err = run(
        capsys, "simulate", "--from", "2023-11-17", "--days", "1", "--lang", "en", "--step", "120"
    )
    assert code == 0
    assert "created via cli" not in out + err and " INFO " not in out + err
    assert "Simulated 1 day from 2023-11-17 at 08:00 Europe/Paris: 1 post." in out


def test_run_hint_matches_the_readme(fresh, capsys, monkeypatch):
    # as typed by a user; under `python -m pytest` argv[0] is pytest's __main__.py, and the hint
    # would rightly say `python -m bot simulate`
    monkeypatch.setattr(sys, "argv", ["depeche", "run", "--once"])
    code, out, _err = run(capsys, "run", "--once")
    assert code == 0
    hint = re.search(r"depeche simulate[^\n]*", out).group().strip()
    assert hint in (ROOT / "README.md").read_text(encoding="utf-8")
