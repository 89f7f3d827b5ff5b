from __future__ import annotations

import pytest

from bot.settings import SettingsError, load_settings


def test_defaults_without_any_file(tmp_path):
    settings = load_settings(tmp_path / "missing.toml", environ={}, dotenv_file=None)
    assert settings.schedule.grace_hours == 6
    assert settings.database_url == ""
    assert settings.effective_database_url.startswith("sqlite:///")
    assert settings.effective_database_url.endswith("depeche.sqlite3")
    assert str(settings.stories_dir) == "config/stories"
    assert settings.platforms_configured == []


def test_shipped_settings_file_is_valid_and_documents_defaults():
    settings = load_settings("config/settings.toml", environ={}, dotenv_file=None)
    assert settings == load_settings("/nonexistent.toml", environ={}, dotenv_file=None)


def test_environment_overrides_file(tmp_path):
    config = tmp_path / "settings.toml"
    config.write_text("[schedule]\ngrace_hours = 2\ntick_seconds = 10\n")
    settings = load_settings(
        config,
        environ={"DEPECHE_GRACE_HOURS": "3", "DATABASE_URL": "postgresql://x/y"},
        dotenv_file=None,
    )
    assert settings.schedule.grace_hours == 3
    assert settings.schedule.tick_seconds == 10
    assert settings.database_url == "postgresql://x/y"


def test_invalid_value_names_the_setting(tmp_path):
    with pytest.raises(SettingsError, match=r"DEPECHE_GRACE_HOURS: .*valid number"):
        load_settings(
            tmp_path / "none.toml", environ={"DEPECHE_GRACE_HOURS": "soon"}, dotenv_file=None
        )
    config = tmp_path / "settings.toml"
    config.write_text("[delivery]\nmax_attempts = 0\n[schedule]\nbogus = 1\n")
    with pytest.raises(SettingsError) as error:
        load_settings(config, environ={}, dotenv_file=None)
    assert "delivery.max_attempts in" in str(error.value)
    assert "schedule.bogus in" in str(error.value) and "unknown setting" in str(error.value)


def test_secrets_only_from_environment_and_never_shown(tmp_path):
    config = tmp_path / "settings.toml"
    config.write_text('[discord]\ntoken = "abc"\n')
    with pytest.raises(SettingsError, match="set DISCORD_TOKEN there instead"):
        load_settings(config, environ={}, dotenv_file=None)
    settings = load_settings(
        tmp_path / "none.toml",
        environ={
            "DISCORD_TOKEN": "s3cr3t",
            "SLACK_BOT_TOKEN": "xoxb-1",
            "SLACK_APP_TOKEN": "xapp-1",
        },
        dotenv_file=None,
    )
    assert settings.discord.token.get_secret_value() == "s3cr3t"
    assert "s3cr3t" not in repr(settings) and "s3cr3t" not in str(settings.model_dump())
    assert settings.platforms_configured == ["discord", "slack"]


def test_dotenv_never_overrides_real_environment(tmp_path):
    dotenv = tmp_path / ".env"
    dotenv.write_text(
        "DISCORD_TOKEN=from-file\nDEPECHE_TICK_SECONDS=5\nDISCORD_SHARD_COUNT=3\nDISCORD_SHARD_IDS=0,2\nSLACK_ADMIN_USERS=U1, U2\n"
    )
    settings = load_settings(
        tmp_path / "none.toml", environ={"DISCORD_TOKEN": "from-env"}, dotenv_file=dotenv
    )
    assert settings.discord.token.get_secret_value() == "from-env"
    assert settings.schedule.tick_seconds == 5
    assert settings.discord.shard_ids == (0, 2)
    assert settings.slack.admin_users == ("U1", "U2")
