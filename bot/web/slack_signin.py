"""Sign in with Slack (OpenID Connect) for the admin console, and who may manage which workspace.

Slack's sign-in names one user of one workspace. The browser holds only a signed session id;
the user's token stays on the server (`WebState.accounts`). Whether that user may manage the bot
in their workspace is asked from Slack on **every** console request with the installation's
bot token (``users.info``: workspace admin or owner, never a guest, a bot or a deactivated
account) or taken from the named admins (``SLACK_ADMIN_USERS``); never from the browser, never
cached, so revoked rights take effect on the next request. A workspace where the bot is not
installed (or was uninstalled) is managed by nobody.

The ``id_token`` comes straight from Slack's token endpoint over TLS, so its signature is not
checked (OpenID Connect Core 3.1.3.7); its issuer, audience, expiry and nonce are.
"""

from __future__ import annotations

import base64
import json
import logging
import secrets
import time
from typing import Any
from urllib.parse import urlencode

import aiohttp
from aiohttp import web
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.clients import SlackClients, normalise_api_url
from bot.slack.users import UserDirectory
from bot.web.sessions import save, session_of
from bot.web.signin import Account, SignInError, limit, signed_in, verified_code
from bot.web.state import STATE, WebState

_log = logging.getLogger(__name__)

ISSUER = "https://slack.com"
SCOPES = "openid profile"
TIMEOUT = 10
_NETWORK = (aiohttp.ClientError, TimeoutError, OSError)


def redirect_uri(state: WebState, request: web.Request) -> str:
    base = state.public_url or str(request.url.origin())
    return f"{base}/auth/slack/callback"


def _secret(value: Any) -> str:
    return str(value.get_secret_value()) if value is not None else ""


class SlackAccess:
    """Bot tokens per workspace and the ``users.info`` look-ups behind the console's rights."""

    def __init__(self, state: WebState) -> None:
        settings = state.context.settings
        self.settings = settings
        self.engine = state.context.store.engine
        self.api_url = normalise_api_url(settings.slack.api_url)
        self.clients = SlackClients(None, api_url=self.api_url, fallback=False, timeout=TIMEOUT)
        # ttl=0: asked again on every request (the chat side caches; the console must not).
        self.users = UserDirectory(
            self.clients, admin_users=tuple(settings.slack.admin_users), ttl=0.0
        )
        self._fixed_team: str | None = None  # the team of SLACK_BOT_TOKEN, once known
        self._installations: Any = None  # bot.slack.install.EncryptedInstallationStore

    async def bot_token(self, team_id: str) -> str | None:
        """The bot token of the workspace, or None when the bot is not installed there."""
        slack = self.settings.slack
        key = _secret(slack.token_key)
        if slack.installable and key:
            if self._installations is None:
                from bot.slack.install import EncryptedInstallationStore, TokenCipher

                self._installations = EncryptedInstallationStore(
                    self.engine, client_id=slack.client_id or "", cipher=TokenCipher(key)
                )
            # Read on every request: an install or uninstall on any instance counts at once.
            tokens: dict[str, str] = await self._installations.bot_tokens()
            if tokens.get(team_id):
                return tokens[team_id]
        fixed = _secret(slack.bot_token)
        if not fixed:
            return None
        if self._fixed_team is None:
            try:
                answer = await AsyncWebClient(
                    token=fixed, base_url=self.api_url, timeout=TIMEOUT
                ).auth_test()
            except (SlackApiError, *_NETWORK) as error:
                _log.warning("web: auth.test with SLACK_BOT_TOKEN failed: %s", error)
                return None
            self._fixed_team = str(answer.get("team_id") or "")
        return fixed if self._fixed_team == team_id else None

    async def managed(self, account: Account) -> dict[str, str]:
        """``{team id: name}`` with the user's workspace if they may manage the bot there now."""
        named = account.user_id in self.users.admin_users
        token = await self.bot_token(account.team_id)
        if token is None:
            return {account.team_id: account.team_name} if named else {}
        self.clients.tokens[account.team_id] = token
        user = await self.users.get(account.team_id, account.user_id)
        return {account.team_id: account.team_name or account.team_id} if user.is_admin else {}

    async def close(self) -> None:
        await self.clients.close()


def access_of(state: WebState) -> SlackAccess:
    if state.slack_access is None:
        state.slack_access = SlackAccess(state)
    access: SlackAccess = state.slack_access
    return access


async def managed_workspaces(state: WebState, account: Account) -> dict[str, str]:
    return await access_of(state).managed(account)


def _claims(id_token: str) -> dict[str, Any]:
    try:
        payload = id_token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError) as error:
        raise SignInError("Slack sent an unreadable id_token") from error
    if not isinstance(claims, dict):
        raise SignInError("Slack sent an unreadable id_token")
    return claims


async def start(request: web.Request) -> web.StreamResponse:
    """Redirect to Slack's sign-in page with a fresh state and nonce bound to this session."""
    limit(request)
    state = request.app[STATE]
    client_id, _ = state.context.settings.slack_signin or ("", "")
    session = session_of(request)
    session.data["slack_state"] = secrets.token_urlsafe(24)
    session.data["slack_nonce"] = secrets.token_urlsafe(24)
    session.fresh = True
    query = urlencode(
        {
            "response_type": "code",
            "scope": SCOPES,
            "client_id": client_id,
            "state": session.data["slack_state"],
            "nonce": session.data["slack_nonce"],
            "redirect_uri": redirect_uri(state, request),
        }
    )
    response = web.HTTPFound(f"{state.context.settings.web.slack_openid_url}?{query}")
    save(request, response)
    raise response


async def callback(request: web.Request) -> web.StreamResponse:
    limit(request)
    state = request.app[STATE]
    nonce = str(session_of(request).data.pop("slack_nonce", ""))
    code = verified_code(request, "slack_state")
    try:
        account = await _exchange(state, request, code, nonce)
    except SignInError as error:
        raise web.HTTPBadGateway(text=f"sign-in failed: {error}\n") from None
    raise signed_in(request, account)


async def _exchange(state: WebState, request: web.Request, code: str, nonce: str) -> Account:
    client_id, client_secret = state.context.settings.slack_signin or ("", "")
    api_url = normalise_api_url(state.context.settings.slack.api_url)
    try:
        answer = await AsyncWebClient(base_url=api_url, timeout=TIMEOUT).openid_connect_token(
            client_id=client_id,
            client_secret=client_secret,
            code=code,
            redirect_uri=redirect_uri(state, request),
        )
        token = str(answer["access_token"])
        claims = _claims(str(answer["id_token"]))
        if claims.get("iss") != ISSUER or claims.get("aud") != client_id:
            raise SignInError("the id_token was not issued by Slack for this app")
        if not nonce or not secrets.compare_digest(str(claims.get("nonce", "")), nonce):
            raise SignInError("the id_token does not answer this sign-in (nonce)")
        if float(claims.get("exp", 0)) < time.time():
            raise SignInError("the id_token has expired")
        info = await AsyncWebClient(
            token=token, base_url=api_url, timeout=TIMEOUT
        ).openid_connect_userInfo()
    except SlackApiError as error:
        raise SignInError(f"Slack refused ({error.response.get('error')})") from None
    except (*_NETWORK, KeyError) as error:
        raise SignInError(f"cannot complete the sign-in ({type(error).__name__})") from None
    user_id = str(info.get("https://slack.com/user_id") or "")
    team_id = str(info.get("https://slack.com/team_id") or "")
    if not user_id or user_id != claims.get("https://slack.com/user_id"):
        raise SignInError("Slack named another user than the id_token")
    return Account(
        "slack",
        user_id,
        str(info.get("name") or user_id),
        token,
        team_id=team_id,
        team_name=str(info.get("https://slack.com/team_name") or team_id),
    )


async def _close(app: web.Application) -> None:
    access = app[STATE].slack_access
    if access is not None:
        await access.close()


def add_routes(app: web.Application) -> None:
    app.router.add_get("/auth/slack", start, name="signin_slack")
    app.router.add_get("/auth/slack/callback", callback, name="signin_slack_callback")
    app.on_cleanup.append(_close)
