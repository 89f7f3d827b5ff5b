"""The discord.py client: gateway connection, command tree, error handler.

- REST base from ``DISCORD_API_URL`` (``discord.http.Route.BASE``), gateway from
  ``DISCORD_GATEWAY_URL`` (``DiscordWebSocket.DEFAULT_GATEWAY``): see `configure_endpoints`.
- Sharding: ``DISCORD_SHARD_COUNT`` / ``DISCORD_SHARD_IDS`` select an `AutoShardedClient` running
  those shards; without them a plain `Client` (one shard).
- Intents: guilds only (channels and permissions for the admin commands). No message content,
  no members.
- ``setup_hook`` installs the French translator, loads the feature modules (each ends with
  ``async def setup(client)``) and logs a module that fails instead of crashing, warms the
  caches (who-is-who indexes, catalogs), and syncs the commands when Discord's copy differs.
- One error handler (``tree.on_error``) turns every error into a short ephemeral message and
  logs it with its context (command, server, channel, user; never a token).
"""

from __future__ import annotations

import datetime as dt
import importlib
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import discord
from discord import app_commands

from bot.admin import AdminService, SubscriptionInfo
from bot.discord.interactions import NotAnAdmin, lang_of, reply_text, ui
from bot.discord.translator import DepecheTranslator
from bot.metrics import INTERACTION_SECONDS
from bot.schedule import utcnow
from bot.settings import DiscordSettings, SettingsError
from digests.errors import DepecheError
from digests.story import StoryLibrary

_log = logging.getLogger(__name__)

EXTENSIONS = (
    "bot.discord.commands",
    "bot.discord.story_editing",
    "bot.discord.updates_command",
    "bot.discord.alerts",
)
CACHE_SECONDS = 30.0


def configure_endpoints(settings: DiscordSettings) -> None:
    """Point discord.py at the configured REST and gateway endpoints (process-wide)."""
    import yarl
    from discord.gateway import DiscordWebSocket
    from discord.http import Route

    Route.BASE = settings.api_url.rstrip("/")
    if settings.gateway_url:
        DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(settings.gateway_url)


def intents() -> discord.Intents:
    value = discord.Intents.none()
    value.guilds = True
    return value


@dataclass
class Services:
    """What the commands need from the rest of the bot."""

    library: StoryLibrary
    admin: AdminService
    publisher: Any = None  # bot.discord.publisher.DiscordPublisher, for send-now with a date
    editing: Any = None  # bot.stories.editing.StoryEditing: /story-edit, /digest-admin editors
    clock: Callable[[], dt.datetime] = utcnow
    _cache: dict[tuple[int | None, int | None], tuple[float, SubscriptionInfo | None]] = field(
        default_factory=dict
    )

    async def channel_subscription(
        self, guild_id: int | None, channel_id: int | None
    ) -> SubscriptionInfo | None:
        """The channel's subscription (its first, if one per language), cached for 30 s."""
        if guild_id is None or channel_id is None:
            return None
        key = (guild_id, channel_id)
        cached = self._cache.get(key)
        now = time.monotonic()
        if cached is not None and now - cached[0] < CACHE_SECONDS:
            return cached[1]
        infos = await self.admin.list(
            platform="discord", workspace_id=str(guild_id), channel_id=str(channel_id)
        )
        found = next((info for info in infos if info.active), infos[0] if infos else None)
        if len(self._cache) > 10_000:
            self._cache.clear()
        self._cache[key] = (now, found)
        return found

    def forget(self) -> None:
        self._cache.clear()


class DepecheMixin:
    """Shared by the plain and the sharded client."""

    tree: app_commands.CommandTree[Any]
    services: Services

    def _init_depeche(
        self, services: Services, *, extensions: tuple[str, ...] = EXTENSIONS, sync: bool = True
    ) -> None:
        self.services = services
        self.extensions = extensions
        self.sync_on_start = sync
        self.loaded: list[str] = []
        self.tree = app_commands.CommandTree(self)
        self.tree.on_error = self.on_app_command_error  # type: ignore[method-assign]
        self.tree.interaction_check = self._arrived  # type: ignore[method-assign]

    async def _arrived(self, interaction: discord.Interaction[Any]) -> bool:
        """Every command passes here first: note when, for the interaction latency metric."""
        interaction.extras["depeche_arrived"] = time.perf_counter()
        return True

    @staticmethod
    def _answered(interaction: discord.Interaction[Any]) -> None:
        arrived = interaction.extras.get("depeche_arrived")
        if isinstance(arrived, float):
            INTERACTION_SECONDS.labels("discord").observe(time.perf_counter() - arrived)

    async def on_app_command_completion(
        self, interaction: discord.Interaction[Any], command: object
    ) -> None:
        self._answered(interaction)

    async def setup_hook(self) -> None:
        await self.tree.set_translator(DepecheTranslator())
        for name in self.extensions:
            try:
                module = importlib.import_module(name)
                await module.setup(self)
            except Exception:
                _log.exception("could not load the Discord module %s", name)
            else:
                self.loaded.append(name)
        self.warm_up()
        if self.sync_on_start:
            try:
                await self.sync_if_changed()
            except discord.HTTPException:
                _log.exception("could not sync the application commands")

    def warm_up(self) -> None:
        """Build what the first command would otherwise pay for (indexes, catalogs, locales)."""
        from digests.formatting import format_day
        from digests.whois import index_for

        for story in self.services.library:
            index_for(story)
            for lang in ("fr", "en"):
                format_day(story.first_day, lang)
        for lang in ("fr", "en"):
            ui(lang)("Subscribed")

    async def commands_payload(self) -> list[dict[str, Any]]:
        translator = self.tree.translator
        commands = self.tree._get_all_commands(guild=None)
        if translator is None:
            return [command.to_dict(self.tree) for command in commands]
        return [await command.get_translated_payload(self.tree, translator) for command in commands]

    async def sync_if_changed(self, guild: discord.abc.Snowflake | None = None) -> bool:
        """Sync the global commands only when Discord's copy differs (one GET at start-up)."""
        http = self.http  # type: ignore[attr-defined]
        app_id = self.application_id  # type: ignore[attr-defined]
        if guild is None:
            remote = await http.get_global_commands(app_id)
        else:
            remote = await http.get_guild_commands(app_id, guild.id)
        local = await self.commands_payload()
        if _comparable(remote) == _comparable(local):
            _log.info("application commands up to date (%d)", len(local))
            return False
        await self.tree.sync(guild=guild)
        _log.info("application commands synced (%d)", len(local))
        return True

    async def on_app_command_error(
        self, interaction: discord.Interaction[Any], error: app_commands.AppCommandError
    ) -> None:
        self._answered(interaction)
        original = getattr(error, "original", error)
        lang = lang_of(interaction)
        _ = ui(lang)
        command = interaction.command.qualified_name if interaction.command else "?"
        context = (
            command,
            interaction.guild_id,
            interaction.channel_id,
            interaction.user.id if interaction.user else None,
        )
        if isinstance(error, NotAnAdmin):
            title = _("Not allowed")
            text = _(
                "Only members with the Manage Server permission can configure the daily digest."
            )
            _log.info("refused /%s (guild %s, channel %s, user %s): not an admin", *context)
        elif isinstance(original, DepecheError):  # AdminError, BadOption...: already translated
            title = _("Cannot do that")
            text = str(original)
            _log.info("/%s (guild %s, channel %s, user %s) refused: %s", *context, text)
        elif isinstance(error, app_commands.TransformerError):
            title = _("Cannot do that")
            text = _("I could not use the value given for one of the options.")
            _log.info(
                "/%s (guild %s, channel %s, user %s): bad option %s",
                *context,
                type(error.value).__name__,
            )
        elif isinstance(error, app_commands.CheckFailure):
            title = _("Not allowed")
            text = _("This command cannot be used here.")
            _log.info("/%s (guild %s, channel %s, user %s): check failed", *context)
        else:
            title = _("Something went wrong")
            text = _("Sorry, that did not work. The problem has been logged.")
            _log.error(
                "/%s failed (guild %s, channel %s, user %s)",
                *context,
                exc_info=(type(original), original, original.__traceback__),
            )
        try:
            await reply_text(interaction, title, text)
        except discord.HTTPException as failure:
            _log.warning("could not report an error to the user of /%s: %s", command, failure)


def _comparable(payload: list[dict[str, Any]]) -> str:
    """A canonical form of a command list, for 'did it change' (keys Discord echoes back)."""
    keys = (
        "name",
        "description",
        "name_localizations",
        "description_localizations",
        "options",
        "type",
        "required",
        "choices",
        "autocomplete",
        "channel_types",
        "min_length",
        "max_length",
        "min_value",
        "max_value",
        "value",
        "default_member_permissions",
        "contexts",
    )

    def clean(node: Any) -> Any:
        if isinstance(node, dict):
            out = {
                k: clean(v) for k, v in node.items() if k in keys and v not in (None, [], {}, False)
            }
            return out
        if isinstance(node, list):
            return [clean(v) for v in node]
        return node

    return json.dumps(
        sorted((clean(c) for c in payload), key=lambda c: c.get("name", "")), sort_keys=True
    )


def client_options(options: dict[str, Any]) -> dict[str, Any]:
    """Our defaults for either client class: guilds intent only, nobody pinged, no message cache."""
    options.setdefault("intents", intents())
    options.setdefault("allowed_mentions", discord.AllowedMentions.none())
    options.setdefault("max_messages", None)
    options.setdefault("chunk_guilds_at_startup", False)
    return options


class DepecheClient(DepecheMixin, discord.Client):
    """One shard: a plain `discord.Client`."""

    def __init__(
        self,
        services: Services,
        *,
        sync: bool = True,
        extensions: tuple[str, ...] = EXTENSIONS,
        **options: Any,
    ) -> None:
        discord.Client.__init__(self, **client_options(options))
        self._init_depeche(services, extensions=extensions, sync=sync)


class ShardedDepecheClient(DepecheMixin, discord.AutoShardedClient):
    """Several shards in one process (``DISCORD_SHARD_COUNT``, ``DISCORD_SHARD_IDS``)."""

    def __init__(
        self,
        services: Services,
        *,
        sync: bool = True,
        extensions: tuple[str, ...] = EXTENSIONS,
        **options: Any,
    ) -> None:
        discord.AutoShardedClient.__init__(self, **client_options(options))
        self._init_depeche(services, extensions=extensions, sync=sync)


def make_client(
    settings: DiscordSettings, services: Services, **options: Any
) -> DepecheClient | ShardedDepecheClient:
    """The client for these settings: sharded when a shard count or ids are configured."""
    if settings.shard_ids and not settings.shard_count:
        raise SettingsError(
            "DISCORD_SHARD_IDS needs DISCORD_SHARD_COUNT (the total number of shards)"
        )
    if settings.shard_count and settings.shard_ids:
        bad = [i for i in settings.shard_ids if not 0 <= i < settings.shard_count]
        if bad:
            raise SettingsError(f"DISCORD_SHARD_IDS: {bad} not in 0..{settings.shard_count - 1}")
    if settings.shard_count:
        return ShardedDepecheClient(
            services,
            shard_count=settings.shard_count,
            shard_ids=list(settings.shard_ids) if settings.shard_ids else None,
            **options,
        )
    return DepecheClient(services, **options)


__all__ = [
    "DepecheClient",
    "Services",
    "ShardedDepecheClient",
    "configure_endpoints",
    "make_client",
]
