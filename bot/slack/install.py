"""Slack installed in many workspaces: the "Add to Slack" OAuth v2 flow and where its tokens live.

With ``SLACK_CLIENT_ID`` and ``SLACK_CLIENT_SECRET`` set (HTTP mode), Bolt serves
``/slack/install`` and ``/slack/oauth_redirect``, exchanges the code with ``oauth.v2.access`` and
saves the installation through `EncryptedInstallationStore`: slack_sdk's SQLAlchemy installation
store on our database, with every token encrypted at rest with a key from the environment
(``DEPECHE_TOKEN_KEY``), so a copy of the database alone gives no access to any workspace. The OAuth
``state`` values live in the database too (slack_sdk's SQLAlchemy state store), so an install
started on one instance may finish on another.

Both slack_sdk stores are synchronous; every call crosses into a worker thread here, so the event
loop never waits on the database. Without the client id and secret, the single-workspace mode of
``SLACK_BOT_TOKEN`` is unchanged and nothing here is used.
"""

from __future__ import annotations

import asyncio
import base64
import copy
import hashlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from cryptography.fernet import Fernet, InvalidToken
from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.oauth.installation_store.models.bot import Bot
from slack_sdk.oauth.installation_store.models.installation import Installation
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.async_state_store import AsyncOAuthStateStore
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore
from sqlalchemy import Engine, MetaData, Table, select

from digests.errors import DepecheError

_log = logging.getLogger(__name__)

INSTALLATIONS_TABLE = "slack_installations"
BOTS_TABLE = "slack_bots"
STATES_TABLE = "slack_oauth_states"
# What the bot needs in a workspace (the same scopes as config/slack-manifest.yaml).
DEFAULT_SCOPES = (
    "commands",
    "chat:write",
    "chat:write.public",
    "channels:read",
    "channels:join",
    "channels:history",
    "groups:read",
    "groups:history",
    "users:read",
    "im:write",
    "im:history",
)
# Token attributes of slack_sdk's models that are encrypted before they reach the database.
_INSTALLATION_SECRETS = ("bot_token", "bot_refresh_token", "user_token", "user_refresh_token")
_BOT_SECRETS = ("bot_token", "bot_refresh_token")

_Model = TypeVar("_Model", Installation, Bot)


class TokenKeyError(DepecheError):
    """The stored tokens cannot be decrypted with ``DEPECHE_TOKEN_KEY`` (changed or wrong key)."""


def install_tables(metadata: MetaData) -> tuple[Table, Table, Table]:
    """The three tables of slack_sdk's SQLAlchemy stores, under our names (used by the
    migration that creates them, so their columns are exactly what the stores expect)."""
    return (
        SQLAlchemyInstallationStore.build_installations_table(metadata, INSTALLATIONS_TABLE),
        SQLAlchemyInstallationStore.build_bots_table(metadata, BOTS_TABLE),
        SQLAlchemyOAuthStateStore.build_oauth_states_table(metadata, STATES_TABLE),
    )


class TokenCipher:
    """Encrypts tokens with a key derived from any passphrase (Fernet: AES-128-CBC + HMAC).

    >>> cipher = TokenCipher("a long random passphrase")
    >>> secret = cipher.encrypt("xoxb-1")
    >>> secret.startswith("enc:v1:") and cipher.decrypt(secret)
    'xoxb-1'
    """

    PREFIX = "enc:v1:"

    def __init__(self, key: str) -> None:
        if not key:
            raise ValueError("an empty key encrypts nothing")
        digest = hashlib.sha256(key.encode("utf-8")).digest()
        self._fernet = Fernet(base64.urlsafe_b64encode(digest))

    def encrypt(self, value: str) -> str:
        return self.PREFIX + self._fernet.encrypt(value.encode("utf-8")).decode("ascii")

    def decrypt(self, value: str) -> str:
        if not value.startswith(self.PREFIX):
            raise TokenKeyError("a stored Slack token is not encrypted: refusing to use it")
        try:
            return self._fernet.decrypt(value[len(self.PREFIX) :].encode("ascii")).decode("utf-8")
        except InvalidToken:
            raise TokenKeyError(
                "DEPECHE_TOKEN_KEY does not decrypt the stored Slack tokens (was the key "
                "changed?): set the key they were saved with, or reinstall the app"
            ) from None


def _with_secrets(model: _Model, fields: tuple[str, ...], convert: Any) -> _Model:
    """A copy of a slack_sdk model with its token fields converted (the original is untouched)."""
    clone = copy.copy(model)
    for name in fields:
        value = getattr(clone, name, None)
        if value:
            setattr(clone, name, convert(value))
    return clone


class EncryptedInstallationStore(AsyncInstallationStore):
    """slack_sdk's SQLAlchemy installation store, tokens encrypted, called from a thread."""

    def __init__(self, engine: Engine, *, client_id: str, cipher: TokenCipher) -> None:
        # Called after each saved installation (the workspaces' token map refreshes itself).
        self.on_saved: Callable[[], Awaitable[None]] | None = None
        self._store = SQLAlchemyInstallationStore(
            client_id=client_id,
            engine=engine,
            installations_table_name=INSTALLATIONS_TABLE,
            bots_table_name=BOTS_TABLE,
            logger=_log,
        )
        self._cipher = cipher

    @property
    def logger(self) -> logging.Logger:
        return _log

    async def async_save(self, installation: Installation) -> None:
        sealed = _with_secrets(installation, _INSTALLATION_SECRETS, self._cipher.encrypt)
        await asyncio.to_thread(self._store.save, sealed)
        _log.info("Slack: installed in workspace %s", installation.team_id)
        if self.on_saved is not None:
            await self.on_saved()

    async def async_save_bot(self, bot: Bot) -> None:
        sealed = _with_secrets(bot, _BOT_SECRETS, self._cipher.encrypt)
        await asyncio.to_thread(self._store.save_bot, sealed)

    async def async_find_bot(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        is_enterprise_install: bool | None = False,
    ) -> Bot | None:
        bot = await asyncio.to_thread(
            self._store.find_bot,
            enterprise_id=enterprise_id,
            team_id=team_id,
            is_enterprise_install=is_enterprise_install,
        )
        return None if bot is None else _with_secrets(bot, _BOT_SECRETS, self._cipher.decrypt)

    async def async_find_installation(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None = None,
        is_enterprise_install: bool | None = False,
    ) -> Installation | None:
        found = await asyncio.to_thread(
            self._store.find_installation,
            enterprise_id=enterprise_id,
            team_id=team_id,
            user_id=user_id,
            is_enterprise_install=is_enterprise_install,
        )
        if found is None:
            return None
        return _with_secrets(found, _INSTALLATION_SECRETS, self._cipher.decrypt)

    async def async_delete_bot(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        await asyncio.to_thread(
            self._store.delete_bot, enterprise_id=enterprise_id, team_id=team_id
        )

    async def async_delete_installation(
        self, *, enterprise_id: str | None, team_id: str | None, user_id: str | None = None
    ) -> None:
        await asyncio.to_thread(
            self._store.delete_installation,
            enterprise_id=enterprise_id,
            team_id=team_id,
            user_id=user_id,
        )

    async def async_delete_all(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        await self.async_delete_bot(enterprise_id=enterprise_id, team_id=team_id)
        await self.async_delete_installation(enterprise_id=enterprise_id, team_id=team_id)

    async def bot_tokens(self) -> dict[str, str]:
        """Each installed workspace's current bot token (the latest installation wins)."""

        def read() -> list[tuple[str, str]]:
            bots = self._store.bots
            query = (
                select(bots.c.team_id, bots.c.bot_token)
                .where(bots.c.client_id == self._store.client_id)
                .order_by(bots.c.installed_at)
            )
            with self._store.engine.connect() as connection:
                return [(row[0], row[1]) for row in connection.execute(query) if row[0] and row[1]]

        rows = await asyncio.to_thread(read)
        return {team_id: self._cipher.decrypt(token) for team_id, token in rows}


class DatabaseStateStore(AsyncOAuthStateStore):
    """slack_sdk's SQLAlchemy OAuth state store, called from a thread: an install started on one
    instance can finish on another, and a state is accepted once, before it expires."""

    def __init__(self, engine: Engine, *, expiration_seconds: int = 600) -> None:
        self._store = SQLAlchemyOAuthStateStore(
            expiration_seconds=expiration_seconds,
            engine=engine,
            table_name=STATES_TABLE,
            logger=_log,
        )

    @property
    def logger(self) -> logging.Logger:
        return _log

    async def async_issue(self, *args: Any, **kwargs: Any) -> str:
        return await asyncio.to_thread(self._store.issue)

    async def async_consume(self, state: str) -> bool:
        return await asyncio.to_thread(self._store.consume, state)


@dataclass(frozen=True)
class InstallSettings:
    """What the OAuth flow needs, from `bot.settings.SlackSettings`."""

    client_id: str
    client_secret: str
    token_key: str
    api_url: str
    scopes: tuple[str, ...] = DEFAULT_SCOPES


def authorization_url(api_url: str) -> str:
    """Slack's authorize page beside its Web API (``https://slack.com/api/`` ->
    ``https://slack.com/oauth/v2/authorize``), so a fake or a proxy serves both."""
    base = api_url.rstrip("/")
    base = base.removesuffix("/api")
    return f"{base}/oauth/v2/authorize"


def oauth_settings(
    install: InstallSettings, *, installations: EncryptedInstallationStore, engine: Engine
) -> Any:
    """Bolt's `AsyncOAuthSettings` for our stores (imported here: Bolt's OAuth is optional)."""
    from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings

    return AsyncOAuthSettings(
        client_id=install.client_id,
        client_secret=install.client_secret,
        scopes=list(install.scopes),
        installation_store=installations,
        installation_store_bot_only=True,
        state_store=DatabaseStateStore(engine),
        authorization_url=authorization_url(install.api_url),
        install_page_rendering_enabled=False,  # /slack/install redirects straight to Slack
        logger=logging.getLogger("bot.slack.oauth"),
    )


__all__ = [
    "BOTS_TABLE",
    "DEFAULT_SCOPES",
    "INSTALLATIONS_TABLE",
    "STATES_TABLE",
    "DatabaseStateStore",
    "EncryptedInstallationStore",
    "InstallSettings",
    "TokenCipher",
    "TokenKeyError",
    "authorization_url",
    "install_tables",
    "oauth_settings",
]
