"""`depeche discord sync [--guild ID]` and `depeche discord invite-url`."""

from __future__ import annotations

import argparse
import asyncio
import logging
import urllib.parse
from typing import TYPE_CHECKING, Any

from bot.commands.common import BadArgument, ServiceFailure, load_settings, snowflake

if TYPE_CHECKING:
    from bot.settings import Settings

SCOPES = ("bot", "applications.commands")


def bot_permissions() -> int:
    """Exactly what the bot needs: see channels, post, embed, read recent history (to find its
    own posts again after a crash)."""
    import discord

    return discord.Permissions(
        view_channel=True, send_messages=True, embed_links=True, read_message_history=True
    ).value


def invite_url(application_id: int | str, *, guild_id: int | str | None = None) -> str:
    query = {
        "client_id": str(application_id),
        "scope": " ".join(SCOPES),
        "permissions": str(bot_permissions()),
    }
    if guild_id:
        query.update(guild_id=str(guild_id), disable_guild_select="true")
    return "https://discord.com/oauth2/authorize?" + urllib.parse.urlencode(
        query, quote_via=urllib.parse.quote
    )


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser(
        "discord", help="Discord: sync slash commands, print the invite URL"
    )
    sub = parser.add_subparsers(dest="discord_command", metavar="ACTION")
    sync = sub.add_parser(
        "sync", help="register the slash commands with Discord (global, or one server)"
    )
    sync.add_argument(
        "--guild",
        type=snowflake,
        metavar="ID",
        help="sync to this server only (instant; for testing)",
    )
    sync.add_argument("--clear", action="store_true", help="remove the commands instead")
    sync.set_defaults(handler=_sync)
    invite = sub.add_parser("invite-url", help="print the URL that adds the bot to a server")
    invite.add_argument(
        "--application-id",
        type=snowflake,
        metavar="ID",
        help="default: asked from Discord with DISCORD_TOKEN",
    )
    invite.add_argument("--guild", type=snowflake, metavar="ID", help="preselect this server")
    invite.set_defaults(handler=_invite)
    parser.set_defaults(handler=lambda args: parser.print_help() or 2)


def _token(settings: Settings) -> str:
    if not settings.discord.enabled:
        raise BadArgument("DISCORD_TOKEN is not set (see docs/discord.md)")
    return settings.discord.token.get_secret_value()  # type: ignore[union-attr]


def _invite(args: argparse.Namespace) -> int:
    application_id = args.application_id
    if not application_id:
        settings = load_settings()
        application_id = asyncio.run(_application_id(settings))
    print(invite_url(application_id, guild_id=args.guild))
    return 0


def network_failure(error: BaseException, api_url: str, hint: str = "") -> Exception | None:
    """One-line error for a failed call to Discord (never the token), or None if ``error`` is
    not a network/HTTP failure. 4xx and unreachable -> `BadArgument` (exit 2: fix the token or
    the URL); 5xx -> `ServiceFailure` (exit 1: Discord's side)."""
    import aiohttp
    import discord

    from bot.discord.publisher import DiscordAPIError
    from bot.platforms import describe_failure

    suffix = f" ({hint})" if hint else ""
    also = f"; {hint}" if hint else ""
    status = None
    if isinstance(error, DiscordAPIError):
        status, text = error.status, f"{error.status} {error.message}".strip()
    elif isinstance(error, discord.LoginFailure):
        status, text = 401, "401 Unauthorized"
    elif isinstance(error, discord.HTTPException):
        status, text = error.status, f"{error.status} {error.text or ''}".strip()
    if status is not None:
        if status in (401, 403):
            return BadArgument(f"Discord refused DISCORD_TOKEN ({text}){suffix}")
        if status >= 500:
            return ServiceFailure(f"Discord at {api_url} failed: {text}; try again later")
        return BadArgument(f"Discord at {api_url} answered {text}{suffix}")
    if isinstance(error, aiohttp.ClientError | TimeoutError | OSError):
        reason = (describe_failure("discord", error) or str(error)).removeprefix("Discord: ")
        if reason.startswith("cannot reach"):
            reason = reason.split("(", 1)[-1].rstrip(")")
        return BadArgument(f"cannot reach Discord at {api_url} ({reason}{also})")
    return None


async def _application_id(settings: Settings) -> str:
    from bot.discord.publisher import DiscordREST

    api_url = settings.discord.api_url
    rest = DiscordREST(token=_token(settings), api_url=api_url)
    try:
        body, _ = await rest.request("GET", "/oauth2/applications/@me")
    except Exception as error:
        failure = network_failure(error, api_url, "use --application-id")
        if failure is None:
            raise
        raise failure from None
    finally:
        await rest.close()
    if not isinstance(body, dict) or not str(body.get("id", "")).isdigit():
        raise ServiceFailure(f"Discord at {api_url} gave no application id (use --application-id)")
    return str(body["id"])


def _sync(args: argparse.Namespace) -> int:
    if not getattr(args, "verbose", False):  # voice-support warnings etc.: not for this command
        logging.getLogger("discord").setLevel(logging.ERROR)
    settings = load_settings()
    guild = int(args.guild) if args.guild else None
    return asyncio.run(sync_commands(settings, guild_id=guild, clear=args.clear))


async def sync_commands(
    settings: Settings, *, guild_id: int | None = None, clear: bool = False
) -> int:
    try:
        return await _sync_commands(settings, guild_id=guild_id, clear=clear)
    except Exception as error:
        failure: Any = network_failure(error, settings.discord.api_url)
        if failure is None:
            raise
        raise failure from None


async def _sync_commands(
    settings: Settings, *, guild_id: int | None = None, clear: bool = False
) -> int:
    """Log in over REST only (no gateway), build the tree as the bot does, and sync it."""
    import discord

    from bot.discord.client import DepecheClient, Services, configure_endpoints
    from bot.platforms import build_context

    token = _token(settings)
    configure_endpoints(settings.discord)
    context = build_context(settings)
    try:
        client = DepecheClient(Services(library=context.library, admin=context.admin), sync=False)
        async with client:
            await client.login(token)  # runs setup_hook: translator and commands
            guild = discord.Object(id=guild_id) if guild_id else None
            if clear:
                client.tree.clear_commands(guild=guild)
            elif guild is not None:
                client.tree.copy_global_to(guild=guild)
            synced = await client.tree.sync(guild=guild)
        where = (
            f"server {guild_id}" if guild_id else "all servers (global; may take a while to show)"
        )
        print(
            f"{len(synced)} command(s) synced to {where}: {', '.join('/' + c.name for c in synced) or '-'}"
        )
        return 0
    finally:
        context.store.dispose()
