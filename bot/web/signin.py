"""Sign in with Discord (OAuth2, scopes ``identify guilds``) for the admin console.

The browser holds only a signed session id; the user's Discord token stays on the server
(`WebState.accounts`). Which servers a user may manage (owner, Administrator or Manage Server)
is asked from Discord again on every console request, never taken from the browser. The OAuth
``state`` is bound to the session; the callback only ever redirects to ``/console/``.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import aiohttp
from aiohttp import web

from bot.web.sessions import check_csrf, save, session_of
from bot.web.state import STATE, WebState

_log = logging.getLogger(__name__)

ADMINISTRATOR = 1 << 3
MANAGE_GUILD = 1 << 5
TIMEOUT = aiohttp.ClientTimeout(total=10)


@dataclass(frozen=True)
class Account:
    """Who signed in: on Discord a user (their servers asked with ``token``); on Slack a user of
    one workspace (``team_id``: Sign in with Slack names exactly one)."""

    platform: str
    user_id: str
    name: str
    token: str
    team_id: str = ""
    team_name: str = ""


class SignInError(Exception):
    """The platform refused or could not be reached; the message is safe to show."""


def redirect_uri(state: WebState, request: web.Request) -> str:
    base = state.public_url or str(request.url.origin())
    return f"{base}/auth/discord/callback"


def account_of(request: web.Request) -> Account | None:
    state = request.app[STATE]
    return state.accounts.get(session_of(request).sid)


async def user_guilds(state: WebState, account: Account) -> list[dict[str, Any]]:
    """The user's servers with their permissions, asked from Discord now (their token)."""
    api = state.context.settings.discord.api_url.rstrip("/")
    headers = {"Authorization": f"Bearer {account.token}"}
    try:
        async with (
            aiohttp.ClientSession(timeout=TIMEOUT) as client,
            client.get(f"{api}/users/@me/guilds", headers=headers) as response,
        ):
            if response.status == 401:
                raise SignInError("your Discord sign-in has expired: sign in again")
            if response.status != 200:
                raise SignInError(f"Discord answered {response.status}")
            guilds: list[dict[str, Any]] = await response.json(content_type=None)
    except (aiohttp.ClientError, TimeoutError) as error:
        raise SignInError(f"cannot reach Discord ({type(error).__name__})") from None
    return guilds


def manages(guild: dict[str, Any]) -> bool:
    """Owner, Administrator or Manage Server: the rights chat asks for."""
    permissions = int(guild.get("permissions") or 0)
    return bool(guild.get("owner")) or bool(permissions & (ADMINISTRATOR | MANAGE_GUILD))


async def managed_guilds(state: WebState, account: Account) -> dict[str, str]:
    """The servers (id -> name) where the user may manage the bot, asked from Discord now."""
    return {
        str(guild["id"]): str(guild.get("name") or guild["id"])
        for guild in await user_guilds(state, account)
        if manages(guild)
    }


async def member_roles(state: WebState, guild_id: str, user_id: str) -> tuple[str, ...] | None:
    """The member's role ids in the server, asked with the bot's token (None: not a member,
    or the bot is not there / has no token)."""
    token = state.context.settings.discord.token
    if token is None or not token.get_secret_value():
        return None
    api = state.context.settings.discord.api_url.rstrip("/")
    headers = {"Authorization": f"Bot {token.get_secret_value()}"}
    try:
        async with (
            aiohttp.ClientSession(timeout=TIMEOUT) as client,
            client.get(f"{api}/guilds/{guild_id}/members/{user_id}", headers=headers) as response,
        ):
            if response.status != 200:
                return None
            member: dict[str, Any] = await response.json(content_type=None)
    except (aiohttp.ClientError, TimeoutError, ValueError):
        return None
    return tuple(str(role) for role in member.get("roles") or ())


def limit(request: web.Request) -> None:
    if not request.app[STATE].logins.allow(request.remote or "?"):
        raise web.HTTPTooManyRequests(text="too many sign-in attempts: wait a minute\n")


async def start(request: web.Request) -> web.StreamResponse:
    """Redirect to Discord's consent page with a fresh state bound to this session."""
    limit(request)
    state = request.app[STATE]
    web_settings = state.context.settings.web
    session = session_of(request)
    session.data["oauth_state"] = secrets.token_urlsafe(24)
    session.fresh = True
    query = urlencode(
        {
            "client_id": web_settings.discord_client_id,
            "response_type": "code",
            "scope": "identify guilds",
            "redirect_uri": redirect_uri(state, request),
            "state": session.data["oauth_state"],
            "prompt": "none",
        }
    )
    response = web.HTTPFound(f"{web_settings.discord_oauth_url}?{query}")
    save(request, response)
    raise response


def verified_code(request: web.Request, key: str) -> str:
    """The callback's code, once its ``state`` matched the one this session started with
    (stored under ``key``; used up even by a refused attempt)."""
    session = session_of(request)
    expected = session.data.pop(key, None)
    session.fresh = True
    given = request.query.get("state", "")
    if not expected or not secrets.compare_digest(str(expected), given):
        refused = web.HTTPForbidden(
            text="sign-in refused: the state does not match (start again)\n"
        )
        save(request, refused)
        raise refused
    code = request.query.get("code")
    if not code:
        cancelled = web.HTTPForbidden(text="sign-in cancelled\n")
        save(request, cancelled)
        raise cancelled
    return code


def signed_in(request: web.Request, account: Account) -> web.HTTPSeeOther:
    """Bind the account to a new session id (no session fixation); the token stays on the
    server. Always lands on the console, never where the request says."""
    state = request.app[STATE]
    session = session_of(request)
    session.sid = secrets.token_urlsafe(24)
    session.fresh = True
    state.accounts[session.sid] = account
    _log.info("web: %s user %s signed in", account.platform, account.user_id)
    response = web.HTTPSeeOther("/console/")
    save(request, response)
    return response


async def callback(request: web.Request) -> web.StreamResponse:
    limit(request)
    state = request.app[STATE]
    code = verified_code(request, "oauth_state")
    try:
        account = await _exchange(state, request, code)
    except SignInError as error:
        raise web.HTTPBadGateway(text=f"sign-in failed: {error}\n") from None
    raise signed_in(request, account)


async def _exchange(state: WebState, request: web.Request, code: str) -> Account:
    settings = state.context.settings
    secret = settings.web.discord_client_secret
    api = settings.discord.api_url.rstrip("/")
    form = {
        "client_id": settings.web.discord_client_id,
        "client_secret": secret.get_secret_value() if secret else "",
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": redirect_uri(state, request),
    }
    try:
        async with aiohttp.ClientSession(timeout=TIMEOUT) as client:
            async with client.post(f"{api}/oauth2/token", data=form) as response:
                if response.status != 200:
                    raise SignInError(f"Discord refused the code ({response.status})")
                token = str((await response.json(content_type=None))["access_token"])
            headers = {"Authorization": f"Bearer {token}"}
            async with client.get(f"{api}/users/@me", headers=headers) as response:
                if response.status != 200:
                    raise SignInError(f"Discord answered {response.status}")
                user = await response.json(content_type=None)
    except (aiohttp.ClientError, TimeoutError, KeyError, ValueError) as error:
        raise SignInError(f"cannot complete the sign-in ({type(error).__name__})") from None
    name = str(user.get("global_name") or user.get("username") or user["id"])
    return Account("discord", str(user["id"]), name, token)


async def sign_out(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    check_csrf(request, form)
    state = request.app[STATE]
    session = session_of(request)
    state.accounts.pop(session.sid, None)
    session.sid = secrets.token_urlsafe(24)
    session.fresh = True
    response = web.HTTPSeeOther("/console/")
    save(request, response)
    raise response


def add_routes(app: web.Application, *, discord: bool = True) -> None:
    if discord:
        app.router.add_get("/auth/discord", start, name="signin_discord")
        app.router.add_get("/auth/discord/callback", callback, name="signin_discord_callback")
    app.router.add_post("/auth/signout", sign_out, name="signout")
