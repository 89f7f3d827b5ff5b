"""Settings: ``config/settings.toml`` (documented defaults) overlaid by the environment.

Precedence, lowest first: built-in defaults < ``config/settings.toml`` (or the file named by
``DEPECHE_CONFIG``) < a ``.env`` file (never overrides a real environment variable) < the
environment < command-line flags (``depeche run --slack-mode http --port 8080``, passed as
``flags``). Validation judges the final values, and names the layer each one came from.
Secrets (platform tokens) are accepted **only** from the environment or ``.env``; they are kept
as ``SecretStr`` so they never show up in logs, reprs or error messages.

Every validation problem becomes a `SettingsError` whose message names the setting as the
operator wrote it (``DEPECHE_GRACE_HOURS`` or ``schedule.grace_hours in config/settings.toml``).

The default settings file ``config/settings.toml`` is looked up **relative to the current
directory** and may be absent (built-in defaults apply); a file named by ``DEPECHE_CONFIG`` must
exist. Settings that only make sense together are checked at load too (`check_platforms`): a
Slack bot token in Socket Mode needs ``SLACK_APP_TOKEN``, HTTP mode needs
``SLACK_SIGNING_SECRET``, ``DISCORD_SHARD_IDS`` needs ``DISCORD_SHARD_COUNT``.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator

from digests.errors import DepecheError
from digests.storyfile import DEFAULT_STORY_MAX_BYTES

DEFAULT_CONFIG_FILE = Path("config/settings.toml")


class SettingsError(DepecheError):
    """A setting is missing or invalid; the message names it."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ScheduleSettings(_Section):
    tick_seconds: float = Field(30.0, gt=0, le=3600)
    grace_hours: float = Field(6.0, ge=0, le=24 * 7)
    no_news_line: bool = (
        False  # live mode, day without events: post a short line instead of nothing
    )
    default_timezone: str = ""  # used by `depeche run` for its console subscription; "" = system

    @field_validator("default_timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        if not value.strip():
            return ""
        if value in _zone_names():  # the common case: nothing more to import
            return value
        from bot.timezones import canonical_zone, suggest_timezones, unknown_zone

        zone = canonical_zone(value)
        if zone is None:
            raise ValueError(unknown_zone(value, "en", suggest_timezones(value)))
        return zone


def _zone_names() -> frozenset[str]:
    from zoneinfo import available_timezones

    return frozenset(available_timezones())


class DeliverySettings(_Section):
    max_attempts: int = Field(6, ge=1, le=100)
    backoff_base_seconds: float = Field(2.0, gt=0)
    backoff_max_seconds: float = Field(900.0, gt=0)
    # At most this many deliveries in flight; the worker keeps as many as the platform's rate
    # needs at the round trip it observes (see `bot.delivery.target_in_flight`).
    concurrency: int = Field(64, ge=1, le=512)
    batch_size: int = Field(200, ge=1, le=10_000)  # claims of `run_once` (tools)
    poll_seconds: float = Field(1.0, gt=0, le=60)  # look for work (retries, other instances)
    lease_seconds: float = Field(300.0, ge=0)  # a `sending` claim older than this is reconciled
    loop_stall_ms: float = Field(100.0, gt=0)  # log event-loop stalls longer than this


class RateLimitSettings(_Section):
    """Requests per second and bursts; defaults stay a little under each platform's limit."""

    discord_global_per_second: float = Field(48.0, gt=0)
    discord_global_burst: int = Field(1, ge=1)
    discord_channel_per_second: float = Field(1.0, gt=0)  # 5 per 5 s observed
    discord_channel_burst: int = Field(5, ge=1)
    slack_workspace_per_second: float = Field(10.0, gt=0)
    slack_workspace_burst: int = Field(1, ge=1)
    # Slack allows about 1 message/s per channel. Paced at exactly 1/s, a thread reply sent 1 s
    # after its post arrives early whenever the network delays the post more than the reply
    # (half the time): 0.9/s leaves that jitter 100 ms.
    slack_channel_per_second: float = Field(0.9, gt=0)
    slack_channel_burst: int = Field(1, ge=1)


class DiscordSettings(_Section):
    token: SecretStr | None = None
    api_url: str = "https://discord.com/api/v10"
    gateway_url: str | None = None
    shard_count: int | None = Field(None, ge=1)
    shard_ids: tuple[int, ...] | None = None

    @field_validator("shard_ids", mode="before")
    @classmethod
    def _split_ids(cls, value: Any) -> Any:
        if isinstance(value, str):
            return tuple(int(part) for part in value.replace(" ", "").split(",") if part)
        return value

    @property
    def enabled(self) -> bool:
        return bool(self.token and self.token.get_secret_value())


class SlackSettings(_Section):
    bot_token: SecretStr | None = None
    app_token: SecretStr | None = None
    signing_secret: SecretStr | None = None
    api_url: str = "https://slack.com/api/"
    admin_users: tuple[str, ...] = ()
    mode: Literal["socket", "http"] = "socket"
    port: int = Field(3000, ge=0, le=65535)
    # "Add to Slack" in many workspaces (OAuth v2, HTTP mode): see docs/slack.md.
    client_id: str | None = None
    client_secret: SecretStr | None = None
    token_key: SecretStr | None = None

    @field_validator("admin_users", mode="before")
    @classmethod
    def _split_users(cls, value: Any) -> Any:
        if isinstance(value, str):
            return tuple(part for part in value.replace(" ", "").split(",") if part)
        return value

    @property
    def installable(self) -> bool:
        """Installed by workspaces through OAuth (tokens per workspace, in the database)."""
        return bool(self.client_id and self.client_secret and self.client_secret.get_secret_value())

    @property
    def enabled(self) -> bool:
        return bool(self.bot_token and self.bot_token.get_secret_value()) or self.installable


class WebSettings(_Section):
    """The web side (reader pages, feeds, console, health, metrics), on one port."""

    host: str = ""  # "" = 127.0.0.1 in the console run (no platform), 0.0.0.0 otherwise
    port: int = Field(8080, ge=0, le=65535)  # 0 = any free port (printed at start)
    enabled: bool = True
    public_url: str = ""  # e.g. https://depeche.example.org: digests link to their day's page
    secret: SecretStr | None = None  # signs session cookies; "" = a random one per process
    metrics_token: SecretStr | None = None  # when set, /metrics needs "Authorization: Bearer ..."
    # "Sign in with Discord" for the console (OAuth2 application of the bot; redirect URI:
    # <public_url>/auth/discord/callback)
    discord_client_id: str = ""
    discord_client_secret: SecretStr | None = None
    discord_oauth_url: str = "https://discord.com/oauth2/authorize"
    # "Sign in with Slack" (OpenID Connect) for the console: the Slack app's client id and
    # secret (default: SLACK_CLIENT_ID / SLACK_CLIENT_SECRET of the installable app); redirect
    # URL <public_url>/auth/slack/callback in the app's settings.
    slack_client_id: str = ""
    slack_client_secret: SecretStr | None = None
    slack_openid_url: str = "https://slack.com/openid/connect/authorize"

    @property
    def discord_signin(self) -> bool:
        secret = self.discord_client_secret
        return bool(self.discord_client_id and secret and secret.get_secret_value())

    @field_validator("public_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        if value and not re.match(r"^https?://[^/\s]+(/[^\s]*)?$", value):
            raise ValueError("must be an http(s) URL such as https://depeche.example.org")
        return value


class Settings(_Section):
    database_url: str = (
        ""  # "" = SQLite in the per-user data directory (see `effective_database_url`)
    )
    database_wait_seconds: float = Field(60.0, ge=0)
    stories_dir: Path = Path("config/stories")
    story_max_bytes: int = Field(DEFAULT_STORY_MAX_BYTES, ge=1024)
    subscriptions_file: Path = Path("config/subscriptions.toml")
    schedule: ScheduleSettings = ScheduleSettings()
    delivery: DeliverySettings = DeliverySettings()
    ratelimit: RateLimitSettings = RateLimitSettings()
    discord: DiscordSettings = DiscordSettings()
    slack: SlackSettings = SlackSettings()
    web: WebSettings = WebSettings()

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return default_database_url()

    @property
    def slack_signin(self) -> tuple[str, str] | None:
        """The client id and secret for "Sign in with Slack", or None when not configured."""
        web_secret = self.web.slack_client_secret
        if self.web.slack_client_id and web_secret and web_secret.get_secret_value():
            return self.web.slack_client_id, web_secret.get_secret_value()
        slack_secret = self.slack.client_secret
        if self.slack.client_id and slack_secret and slack_secret.get_secret_value():
            return self.slack.client_id, slack_secret.get_secret_value()
        return None

    @property
    def platforms_configured(self) -> list[str]:
        return [name for name in ("discord", "slack") if getattr(self, name).enabled]


def default_database_url() -> str:
    from platformdirs import user_data_dir

    directory = Path(user_data_dir("depeche"))
    return f"sqlite:///{directory / 'depeche.sqlite3'}"


# Environment variable -> (section, field) or (field,). Secrets are marked.
ENVIRONMENT: dict[str, tuple[str, ...]] = {
    "DATABASE_URL": ("database_url",),
    "DEPECHE_DATABASE_WAIT_SECONDS": ("database_wait_seconds",),
    "DEPECHE_STORIES_DIR": ("stories_dir",),
    "DEPECHE_STORY_MAX_BYTES": ("story_max_bytes",),
    "DEPECHE_SUBSCRIPTIONS_FILE": ("subscriptions_file",),
    "DEPECHE_TICK_SECONDS": ("schedule", "tick_seconds"),
    "DEPECHE_GRACE_HOURS": ("schedule", "grace_hours"),
    "DEPECHE_NO_NEWS_LINE": ("schedule", "no_news_line"),
    "DEPECHE_TIMEZONE": ("schedule", "default_timezone"),
    "DEPECHE_MAX_ATTEMPTS": ("delivery", "max_attempts"),
    "DEPECHE_DELIVERY_CONCURRENCY": ("delivery", "concurrency"),
    "DEPECHE_LEASE_SECONDS": ("delivery", "lease_seconds"),
    "DEPECHE_LOOP_STALL_MS": ("delivery", "loop_stall_ms"),
    "DEPECHE_DISCORD_GLOBAL_RATE": ("ratelimit", "discord_global_per_second"),
    "DEPECHE_DISCORD_CHANNEL_RATE": ("ratelimit", "discord_channel_per_second"),
    "DEPECHE_DISCORD_CHANNEL_BURST": ("ratelimit", "discord_channel_burst"),
    "DEPECHE_SLACK_WORKSPACE_RATE": ("ratelimit", "slack_workspace_per_second"),
    "DEPECHE_SLACK_CHANNEL_RATE": ("ratelimit", "slack_channel_per_second"),
    "DISCORD_TOKEN": ("discord", "token"),
    "DISCORD_API_URL": ("discord", "api_url"),
    "DISCORD_GATEWAY_URL": ("discord", "gateway_url"),
    "DISCORD_SHARD_COUNT": ("discord", "shard_count"),
    "DISCORD_SHARD_IDS": ("discord", "shard_ids"),
    "SLACK_BOT_TOKEN": ("slack", "bot_token"),
    "SLACK_APP_TOKEN": ("slack", "app_token"),
    "SLACK_SIGNING_SECRET": ("slack", "signing_secret"),
    "SLACK_API_URL": ("slack", "api_url"),
    "SLACK_ADMIN_USERS": ("slack", "admin_users"),
    "SLACK_MODE": ("slack", "mode"),
    "SLACK_PORT": ("slack", "port"),
    "SLACK_CLIENT_ID": ("slack", "client_id"),
    "SLACK_CLIENT_SECRET": ("slack", "client_secret"),
    "DEPECHE_TOKEN_KEY": ("slack", "token_key"),
    "DEPECHE_WEB_HOST": ("web", "host"),
    "DEPECHE_WEB_PORT": ("web", "port"),
    "DEPECHE_WEB": ("web", "enabled"),
    "DEPECHE_PUBLIC_URL": ("web", "public_url"),
    "DEPECHE_WEB_SECRET": ("web", "secret"),
    "DEPECHE_METRICS_TOKEN": ("web", "metrics_token"),
    "DISCORD_CLIENT_ID": ("web", "discord_client_id"),
    "DISCORD_CLIENT_SECRET": ("web", "discord_client_secret"),
    "DISCORD_OAUTH_URL": ("web", "discord_oauth_url"),
    "SLACK_SIGNIN_CLIENT_ID": ("web", "slack_client_id"),
    "SLACK_SIGNIN_CLIENT_SECRET": ("web", "slack_client_secret"),
    "SLACK_OPENID_URL": ("web", "slack_openid_url"),
}
# Command-line flags that override a setting (they win over the file and the environment).
COMMAND_LINE: dict[str, tuple[str, ...]] = {
    "--slack-mode": ("slack", "mode"),
    "--port": ("slack", "port"),
    "--web-host": ("web", "host"),
    "--web-port": ("web", "port"),
}
SECRETS = {
    ("discord", "token"),
    ("slack", "bot_token"),
    ("slack", "app_token"),
    ("slack", "signing_secret"),
    ("web", "secret"),
    ("web", "metrics_token"),
    ("web", "discord_client_secret"),
    ("web", "slack_client_secret"),
}


def _read_toml(path: Path, *, named_by: str | None = None) -> dict[str, Any]:
    """The settings file; a missing file is fine unless ``named_by`` (a variable) named it."""
    where = f"{named_by}: {path}" if named_by else str(path)
    try:
        with path.open("rb") as file:
            return tomllib.load(file)
    except FileNotFoundError:
        if named_by:
            raise SettingsError(f"{where}: no such settings file") from None
        return {}
    except IsADirectoryError:
        raise SettingsError(f"{where}: is a directory, not a settings file") from None
    except OSError as error:
        raise SettingsError(
            f"{where}: cannot read the settings file ({error.strerror or error})"
        ) from None
    except UnicodeDecodeError:
        raise SettingsError(f"{where}: not valid TOML (not UTF-8 text)") from None
    except tomllib.TOMLDecodeError as error:
        raise SettingsError(f"{where}: not valid TOML: {error}") from None


def check_platforms(
    settings: Settings, *, slack_mode: str | None = None, mode_from: str | None = None
) -> None:
    """Settings that only make sense together, judged on their final values. ``slack_mode``
    overrides ``slack.mode``; ``mode_from`` says where the mode came from, for the message
    (``--slack-mode``, ``SLACK_MODE``, the settings file). Raises `SettingsError` naming the
    variables."""
    discord = settings.discord
    if discord.shard_ids is not None and not discord.shard_count:
        raise SettingsError(
            "DISCORD_SHARD_IDS is set without DISCORD_SHARD_COUNT (the total number of shards)"
        )
    if discord.shard_ids and discord.shard_count:
        bad = [i for i in discord.shard_ids if not 0 <= i < discord.shard_count]
        if bad:
            raise SettingsError(
                f"DISCORD_SHARD_IDS: {', '.join(map(str, bad))} not in "
                f"0..{discord.shard_count - 1} (DISCORD_SHARD_COUNT={discord.shard_count})"
            )
    slack = settings.slack
    if not slack.enabled:
        return
    mode = slack_mode or slack.mode
    check_slack_install(slack, mode)
    if slack_mode:
        mode_from = mode_from or "--slack-mode"
    if mode_from == "--slack-mode":
        chosen = f"--slack-mode {mode}"
    elif mode_from and mode_from != "SLACK_MODE":
        chosen = f"{mode_from}: {mode}"  # slack.mode in config/settings.toml
    elif mode_from:
        chosen = f"SLACK_MODE={mode}"
    else:
        chosen = f"SLACK_MODE={mode}, the default"
    if mode == "socket" and not (slack.app_token and slack.app_token.get_secret_value()):
        raise SettingsError(
            f"SLACK_APP_TOKEN is not set: Slack Socket Mode ({chosen}) needs an app-level token "
            "(xapp-...); or use HTTP mode (--slack-mode http or SLACK_MODE=http) with "
            "SLACK_SIGNING_SECRET"
        )
    if mode == "http" and not (slack.signing_secret and slack.signing_secret.get_secret_value()):
        raise SettingsError(
            f"SLACK_SIGNING_SECRET is not set: Slack HTTP mode ({chosen}) needs the app's "
            "signing secret to verify requests"
        )


def check_slack_install(slack: SlackSettings, mode: str) -> None:
    """The OAuth install flow needs HTTP mode (Slack redirects the browser to us), the signing
    secret, and a key to encrypt the workspaces' tokens at rest."""
    if bool(slack.client_id) != bool(
        slack.client_secret and slack.client_secret.get_secret_value()
    ):
        missing = "SLACK_CLIENT_SECRET" if slack.client_id else "SLACK_CLIENT_ID"
        raise SettingsError(f"{missing} is not set: installing in many workspaces needs both")
    if not slack.installable:
        return
    if mode != "http":
        raise SettingsError(
            "SLACK_CLIENT_ID is set: installing in many workspaces needs SLACK_MODE=http "
            "(Slack sends the browser back to /slack/oauth_redirect)"
        )
    if not (slack.token_key and len(slack.token_key.get_secret_value()) >= 16):
        raise SettingsError(
            "DEPECHE_TOKEN_KEY is not set (or shorter than 16 characters): the workspaces' "
            "tokens are encrypted with it in the database"
        )


def _dotenv(path: Path) -> dict[str, str]:
    if not path.is_file():
        return {}
    from dotenv import dotenv_values

    return {key: value for key, value in dotenv_values(path).items() if value is not None}


def load_settings(
    config_file: str | Path | None = None,
    environ: Mapping[str, str] | None = None,
    dotenv_file: str | Path | None = ".env",
    flags: Mapping[str, Any] | None = None,
) -> Settings:
    """Build validated settings. ``environ`` defaults to ``os.environ`` (tests pass a dict).
    ``flags`` maps command-line flags of `COMMAND_LINE` to their values (``None``: not given);
    they win over everything else, and validation judges the final values."""
    env: dict[str, str] = dict(os.environ if environ is None else environ)
    if dotenv_file is not None:
        for key, value in _dotenv(Path(dotenv_file)).items():
            env.setdefault(key, value)  # a real environment variable always wins
    named_by = None if config_file or not env.get("DEPECHE_CONFIG") else "DEPECHE_CONFIG"
    path = Path(config_file or env.get("DEPECHE_CONFIG") or DEFAULT_CONFIG_FILE)
    data = _read_toml(path, named_by=named_by)

    origins: dict[tuple[str, ...], str] = {}

    def walk(node: dict[str, Any], loc: tuple[str, ...]) -> None:
        for key, value in node.items():
            if isinstance(value, dict):
                walk(value, (*loc, key))
            else:
                origins[(*loc, key)] = f"{'.'.join((*loc, key))} in {path}"
                if (*loc, key) in SECRETS:
                    variable = next(
                        name for name, target in ENVIRONMENT.items() if target == (*loc, key)
                    )
                    raise SettingsError(
                        f"{'.'.join((*loc, key))} in {path}: secrets are read only from the "
                        f"environment or .env; set {variable} there instead"
                    )

    walk(data, ())
    for variable, target in ENVIRONMENT.items():
        if variable in env and env[variable] != "":
            node = data
            for part in target[:-1]:
                node = node.setdefault(part, {})
                if not isinstance(node, dict):
                    raise SettingsError(f"{part} in {path} must be a table")
            node[target[-1]] = env[variable]
            origins[target] = variable
    for flag, value in (flags or {}).items():
        if value is None:
            continue
        target = COMMAND_LINE[flag]
        node = data
        for part in target[:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise SettingsError(f"{part} in {path} must be a table")
        node[target[-1]] = value
        origins[target] = flag
    try:
        settings = Settings.model_validate(data)
    except ValidationError as error:
        problems = []
        for item in error.errors():
            loc = tuple(str(part) for part in item["loc"])
            where = origins.get(loc) or ".".join(loc) + f" in {path}"
            message = item["msg"].removeprefix("Value error, ")
            if item["type"] == "extra_forbidden":
                message = "unknown setting"
            shown = "" if loc in SECRETS else f" (got {item.get('input')!r})"
            if item["type"] == "extra_forbidden" or isinstance(item.get("input"), dict):
                shown = ""
            if loc == ("schedule", "default_timezone"):
                shown = ""  # our own messages quote the value already
            problems.append(f"{where}: {message}{shown}")
        raise SettingsError("invalid settings: " + "; ".join(problems)) from None
    check_platforms(settings, mode_from=origins.get(("slack", "mode")))
    return settings
