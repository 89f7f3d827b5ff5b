"""Dépêche on Discord: slash commands, embeds, a REST publisher with exactly-once posts.

`depeche run` calls `start` when ``DISCORD_TOKEN`` is set (see `bot.platforms`)::

    await start(context)  # registers the publisher, then runs the gateway client until cancelled

`setup` builds everything without connecting (tests and `depeche discord sync` use it).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.discord.client import DepecheClient, ShardedDepecheClient
    from bot.discord.publisher import Contact, DiscordPublisher
    from bot.platforms import PlatformContext
    from bot.store import Store

_log = logging.getLogger(__name__)


@dataclass
class DiscordBot:
    client: DepecheClient | ShardedDepecheClient
    publisher: DiscordPublisher

    async def validate_channel(self, guild_id: str, channel_id: str) -> bool:
        """For the admin service: may the bot post in this channel of this server?"""
        try:
            guild = self.client.get_guild(int(guild_id))
            channel_number = int(channel_id)
        except ValueError:
            return False
        channel = guild.get_channel(channel_number) if guild is not None else None
        me = guild.me if guild is not None else None
        if channel is not None and me is not None:
            permissions = channel.permissions_for(me)
            return bool(
                permissions.view_channel and permissions.send_messages and permissions.embed_links
            )
        # Not in this process's cache (another shard, members not cached, a new channel):
        # ask Discord whether the bot can see it.
        return await self.publisher.channel_visible(channel_id)

    async def channel_tenants(self, guild_id: str, channel_id: str) -> set[str] | None:
        """For `AdminService.check_tenant`: the server the channel is in, as Discord says it
        (the gateway cache, else REST); ``guild_id`` (the requesting server) is not used."""
        from bot.discord.publisher import channel_guild

        try:
            number = int(channel_id)
        except ValueError:
            return None
        channel = self.client.get_channel(number)
        if channel is not None:
            guild = getattr(channel, "guild", None)
            return {str(guild.id)} if guild is not None else set()
        owner = await channel_guild(self.publisher, channel_id)
        return None if owner is None else ({owner} if owner else set())


def contacts_from(store: Store) -> Any:
    """``subscription id -> Contact`` (where it was configured, the admin's language)."""
    from bot.discord.publisher import Contact
    from bot.outbox import Outbox

    outbox = Outbox(store)

    def lookup(subscription_id: int) -> Contact | None:
        row = outbox.get_sync(subscription_id)
        if row is None:
            return None
        return Contact(configured_from=row.configured_from, admin_lang=row.admin_lang)

    return lookup


def setup(context: PlatformContext, **client_options: Any) -> DiscordBot:
    """Build the Discord client and publisher and plug them into the engine."""
    from bot.budget import SharedBudget, bot_key
    from bot.discord.client import Services, configure_endpoints, make_client
    from bot.discord.limits import request_trace
    from bot.discord.publisher import DiscordPublisher
    from bot.ratelimit import discord_limiter
    from bot.web.picture import picture_source

    settings = context.settings.discord
    token = settings.token.get_secret_value() if settings.token else ""
    configure_endpoints(settings)
    # Discord's global limit is per bot: every instance sharing this database and token takes
    # its requests from one budget (bot.budget), keyed by a hash of the token.
    shared = SharedBudget(
        context.store,
        bot_key("discord", token),
        context.settings.ratelimit.discord_global_per_second,
    )
    publisher = DiscordPublisher(
        token=token,
        api_url=settings.api_url,
        limiter=discord_limiter(context.settings, shared=shared),
        contacts=contacts_from(context.store),
        pictures=picture_source(context.library),
    )
    services = Services(
        library=context.library,
        admin=context.admin,
        publisher=publisher,
        clock=context.runner.clock,
        editing=context.editing,
    )
    # discord.py's own requests take their slots from the same budget (bot.discord.limits)
    client_options.setdefault("http_trace", request_trace(publisher.limiter, settings.api_url))
    client = make_client(settings, services, **client_options)
    bot = DiscordBot(client=client, publisher=publisher)
    context.publishers.register(publisher)
    context.admin.register_channel_validator("discord", bot.validate_channel)
    context.admin.register_channel_tenants("discord", bot.channel_tenants)
    return bot


async def start(context: PlatformContext) -> None:
    """Run the Discord client until cancelled (`depeche run` cancels it at shutdown)."""
    bot = setup(context)
    settings = context.settings.discord
    token = settings.token.get_secret_value() if settings.token else ""
    _log.info(
        "Discord: connecting (REST %s, shards %s)",
        settings.api_url,
        settings.shard_ids or settings.shard_count or "1",
    )
    try:
        async with bot.client:
            await bot.client.start(token, reconnect=True)
    except discord_errors() as error:
        raise gateway_failure(error) from None
    finally:
        await bot.publisher.close()
        if bot.publisher.limiter.shared is not None:
            await bot.publisher.limiter.shared.close()


# Gateway close codes that no reconnect can fix: one clear line instead of a traceback.
GATEWAY_CLOSE_REASONS = {
    4004: "DISCORD_TOKEN was refused by the gateway (4004 Authentication failed): check the token",
    4010: "invalid shard (4010): check DISCORD_SHARD_IDS against DISCORD_SHARD_COUNT",
    4011: "Discord requires sharding for this bot (4011): set DISCORD_SHARD_COUNT",
    4013: "invalid gateway intents (4013)",
    4014: "a privileged intent is not enabled for this application (4014)",
}


def discord_errors() -> tuple[type[BaseException], ...]:
    import discord

    return (discord.ConnectionClosed,)


def gateway_failure(error: BaseException) -> BaseException:
    """`discord.ConnectionClosed` with a fatal close code -> a `DepecheError` with one line."""
    from digests.errors import DepecheError

    code = getattr(error, "code", None)
    reason = GATEWAY_CLOSE_REASONS.get(code) if isinstance(code, int) else None
    if reason is None:
        return error
    return DepecheError(reason)


__all__ = ["DiscordBot", "setup", "start"]
