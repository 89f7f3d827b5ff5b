"""The Slack side of the bot: a Bolt `AsyncApp`, its publisher, and the two transports.

- Socket Mode (default): ``SLACK_BOT_TOKEN`` + ``SLACK_APP_TOKEN`` (``xapp-``), no public URL.
- HTTP mode: an aiohttp server with Bolt's endpoint at ``/slack/events`` (every request's
  signature checked with ``SLACK_SIGNING_SECRET``: forged or stale -> 401) and ``/healthz``.

Every Web API call, including Socket Mode's ``apps.connections.open``, goes to
``SLACK_API_URL`` (default Slack's).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import Any

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError

from bot.admin import AdminService
from bot.outbox import Outbox
from bot.ratelimit import slack_limiter
from bot.settings import RateLimitSettings, SettingsError, SlackSettings
from bot.slack.clients import SlackClients
from bot.slack.commands import SlackCommands
from bot.slack.install import (
    EncryptedInstallationStore,
    InstallSettings,
    TokenCipher,
    oauth_settings,
)
from bot.slack.publisher import SlackPublisher
from bot.slack.users import UserDirectory
from bot.slack.workspaces import Workspaces
from bot.store import Store
from bot.stories.editing import StoryEditing
from digests.errors import DepecheError
from digests.story import StoryLibrary

_log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/healthz"


class SocketModeDisabled(DepecheError):
    """Slack said ``disconnect`` with reason ``link_disabled``: Socket Mode was turned off in
    the app's settings, so reconnecting cannot work."""


def watch_disconnects(client: Any, stopped: asyncio.Future[str]) -> None:
    """Look at Slack's ``disconnect`` messages before the SDK reconnects on them.

    - ``refresh_requested`` / ``warning``: the connection is about to be recycled; the SDK opens
      a new one (logged at info).
    - ``too_many_websockets``: more than ten connections for this app token (other copies of the
      bot?); reconnecting is all we can do, but an operator should know (warning).
    - ``link_disabled``: Socket Mode is disabled for the app; reconnecting would loop forever, so
      ``stopped`` is resolved and `serve_socket_mode` stops with a clear message.
    """
    original = client.run_message_listeners

    async def run_message_listeners(message: dict[str, Any], raw_message: str) -> None:
        if isinstance(message, dict) and message.get("type") == "disconnect":
            reason = str(message.get("reason") or "")
            if reason == "link_disabled":
                client.auto_reconnect_enabled = False
                if not stopped.done():
                    stopped.set_result(reason)
                return
            if reason == "too_many_websockets":
                _log.warning(
                    "Slack Socket Mode: too many websockets for this app token (at most 10; "
                    "is another copy of the bot running?); reconnecting"
                )
            else:
                _log.info("Slack Socket Mode: disconnect (%s); reconnecting", reason or "?")
        await original(message, raw_message)

    client.run_message_listeners = run_message_listeners


def _secret(value: Any) -> str | None:
    if value is None:
        return None
    getter = getattr(value, "get_secret_value", None)
    return str(getter() if getter else value) or None


def is_redundant_retry(headers: Mapping[str, str]) -> bool:
    """A retry (``X-Slack-Retry-Num``) of a request that reached us but was judged slow
    (``X-Slack-Retry-Reason: http_timeout``). Retries after a failed connection or an HTTP
    error are processed: the first attempt may never have been seen."""
    return (
        bool(headers.get("X-Slack-Retry-Num"))
        and (headers.get("X-Slack-Retry-Reason") or "").lower() == "http_timeout"
    )


def subscriber_lookup(store: Store) -> Any:
    """``subscription_id -> (created_by, configured_from, admin_lang)`` for admin notices."""

    outbox = Outbox(store)

    def lookup(subscription_id: int) -> tuple[str | None, str | None, str] | None:
        row = outbox.get_sync(subscription_id)
        if row is None:
            return None
        return row.created_by, row.configured_from, row.admin_lang

    return lookup


class SlackBot:
    """Everything Slack, wired once: ``await bot.serve("socket")`` or ``serve("http", port)``."""

    def __init__(
        self,
        *,
        settings: SlackSettings,
        admin: AdminService,
        library: StoryLibrary,
        store: Store | None = None,
        limits: RateLimitSettings | None = None,
        tokens: Mapping[str, str] | None = None,
        editing: StoryEditing | None = None,
    ) -> None:
        self.settings = settings
        self.admin = admin
        self.clients = SlackClients(
            _secret(settings.bot_token),
            api_url=settings.api_url,
            tokens=tokens,
            fallback=not settings.installable,
        )
        self.workspaces: Workspaces | None = None
        self._oauth: Any = None
        if settings.installable:
            if store is None:
                raise SettingsError("installing in many workspaces needs the database")
            self.workspaces, self._oauth = self._install_flow(settings, store)
        self.users = UserDirectory(self.clients, admin_users=tuple(settings.admin_users))
        self.publisher = SlackPublisher(
            self.clients,
            # each workspace's budget is shared by every instance on this database (bot.budget),
            # the app named by a hash of its bot token (or of its client id, when installed)
            limiter=slack_limiter(
                limits or RateLimitSettings(),
                shared_by=(store, _secret(settings.bot_token) or settings.client_id or "")
                if store is not None
                else None,
            ),
            subscriber=subscriber_lookup(store) if store is not None else None,
        )
        self.commands = SlackCommands(
            admin=admin,
            library=library,
            users=self.users,
            clients=self.clients,
            editing=editing,
        )
        self._app: AsyncApp | None = None
        self.http_port: int | None = None

    # ------------------------------------------------------------------ pieces

    def _install_flow(self, settings: SlackSettings, store: Store) -> tuple[Workspaces, Any]:
        install = InstallSettings(
            client_id=settings.client_id or "",
            client_secret=_secret(settings.client_secret) or "",
            token_key=_secret(settings.token_key) or "",
            api_url=self.clients.api_url,
        )
        installations = EncryptedInstallationStore(
            store.engine, client_id=install.client_id, cipher=TokenCipher(install.token_key)
        )
        workspaces = Workspaces(installations, tokens=self.clients.tokens, admin=self.admin)
        return workspaces, oauth_settings(install, installations=installations, engine=store.engine)

    def app(self, *, verify_requests: bool = True) -> AsyncApp:
        """The Bolt app (built on first use, inside the running loop)."""
        if self._app is None:
            secret = _secret(self.settings.signing_secret) or ""
            self._app = AsyncApp(
                # Installed in many workspaces: no default token, Bolt finds each one's.
                client=self.clients.for_token(None) if self._oauth else self.clients.default,
                signing_secret=secret,
                request_verification_enabled=verify_requests,
                process_before_response=False,
                oauth_settings=self._oauth,
                logger=logging.getLogger("bot.slack.bolt"),
            )
            self.commands.register(self._app)
            if self.workspaces is not None:
                self.workspaces.register(self._app)
        return self._app

    async def channel_tenants(self, workspace_id: str, channel_id: str) -> set[str] | None:
        """For `AdminService.check_tenant`: the workspaces Slack places the channel in (its
        ``context_team_id``, and ``shared_team_ids`` for a Slack Connect channel), asked with
        the requesting workspace's token; None if the bot cannot see the channel."""
        client = self.clients.for_team(workspace_id)
        try:
            info = (await client.conversations_info(channel=channel_id)).get("channel") or {}
        except SlackApiError as error:
            _log.info("conversations.info %s: %s", channel_id, error.response.get("error"))
            return None
        shared = info.get("shared_team_ids") or []
        teams = [info.get("context_team_id"), *(shared if isinstance(shared, list) else [])]
        return {str(team) for team in teams if team}

    async def validate_channel(self, workspace_id: str, channel_id: str) -> bool:
        """May the bot post (and read back its posts) in this channel? Joins public channels."""
        client = self.clients.for_team(workspace_id)
        try:
            info = (await client.conversations_info(channel=channel_id)).get("channel") or {}
        except SlackApiError as error:
            _log.info("conversations.info %s: %s", channel_id, error.response.get("error"))
            return False
        if info.get("is_archived"):
            return False
        if info.get("is_member") or info.get("is_im"):
            return True
        if info.get("is_private"):
            return False
        try:
            await client.conversations_join(channel=channel_id)
            return True
        except SlackApiError as error:
            _log.info("conversations.join %s: %s", channel_id, error.response.get("error"))
            return False

    def web_app(self) -> web.Application:
        """aiohttp application: Bolt at ``/slack/events`` and ``/healthz``."""
        bolt = self.app(verify_requests=True)

        async def events(request: web.Request) -> web.Response:
            if is_redundant_retry(request.headers):
                # Slack retries an Events API request it thinks timed out; we acknowledge every
                # request at once, so the first one was received: do not act twice.
                return web.Response(status=200, headers={"X-Slack-No-Retry": "1"})
            bolt_response = await bolt.async_dispatch(await to_bolt_request(request))
            return await to_aiohttp_response(bolt_response)

        async def health(request: web.Request) -> web.Response:
            return web.json_response({"ok": True, "platform": "slack", "mode": "http"})

        application = web.Application()
        application.router.add_post(EVENTS_PATH, events)
        application.router.add_get(HEALTH_PATH, health)
        flow = bolt.oauth_flow
        if flow is not None:

            async def install(request: web.Request) -> web.Response:
                return await to_aiohttp_response(
                    await flow.handle_installation(await to_bolt_request(request))
                )

            async def redirect(request: web.Request) -> web.Response:
                return await to_aiohttp_response(
                    await flow.handle_callback(await to_bolt_request(request))
                )

            application.router.add_get(flow.install_path, install)
            application.router.add_get(flow.redirect_uri_path, redirect)
        return application

    # ------------------------------------------------------------------ transports

    async def check_bot_token(self) -> None:
        """``auth.test`` once before serving, so that a refused token or an unreachable API is
        reported at start (`bot.platforms.describe_failure`) instead of failing every request.
        Installed in many workspaces, a ``SLACK_BOT_TOKEN`` serves only its own workspace."""
        from slack_sdk.web.async_client import AsyncWebClient

        if self.workspaces is not None:
            await self.workspaces.refresh()  # the database is reachable, the key decrypts
            if not self.clients.token:
                return
        client = AsyncWebClient(token=self.clients.token, base_url=self.clients.api_url)
        identity = await client.auth_test()
        if self.workspaces is not None and identity.get("team_id"):
            self.workspaces.fixed[str(identity["team_id"])] = str(self.clients.token)
            await self.workspaces.refresh()

    async def serve(self, mode: str = "socket", *, port: int = 3000, host: str = "0.0.0.0") -> None:
        refresher: asyncio.Task[None] | None = None
        try:
            await self.check_bot_token()
            if self.workspaces is not None:
                refresher = asyncio.create_task(self.workspaces.keep_fresh())
            if mode == "http":
                await self.serve_http(port=port, host=host)
            else:
                await self.serve_socket_mode()
        finally:
            if refresher is not None:
                refresher.cancel()
            await self.clients.close()

    async def serve_http(self, *, port: int, host: str = "0.0.0.0") -> None:
        if not _secret(self.settings.signing_secret):
            raise SettingsError("SLACK_SIGNING_SECRET is required for --slack-mode http")
        runner = web.AppRunner(self.web_app(), access_log=None, handle_signals=False)
        await runner.setup()
        try:
            site = web.TCPSite(runner, host, port)
            await site.start()
            self.http_port = runner.addresses[0][1] if runner.addresses else port
            _log.info(
                "Slack HTTP mode: listening on http://%s:%d%s (health: %s)",
                host, self.http_port, EVENTS_PATH, HEALTH_PATH,
            )  # fmt: skip
            await asyncio.Event().wait()  # until cancelled
        finally:
            await runner.cleanup()

    async def serve_socket_mode(self) -> None:
        from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
        from slack_sdk.web.async_client import AsyncWebClient

        app_token = _secret(self.settings.app_token)
        if not app_token:
            raise SettingsError(
                "SLACK_APP_TOKEN (xapp-...) is required for Socket Mode (or use --slack-mode http)"
            )
        app = self.app(verify_requests=False)  # Socket Mode requests come over our own websocket
        web_client = AsyncWebClient(token=self.clients.token, base_url=self.clients.api_url)
        handler = AsyncSocketModeHandler(app, app_token, web_client=web_client)
        # The SDK retries a failed first connection forever (a traceback each time): ask for the
        # websocket URL ourselves once, so a refused app token or an unreachable API stops here
        # with one clear line. Later reconnections are the SDK's (with its backoff).
        try:
            handler.client.wss_uri = await handler.client.issue_new_wss_url()
        except BaseException:
            await handler.close_async()  # type: ignore[no-untyped-call]
            raise
        stopped: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        watch_disconnects(handler.client, stopped)
        await handler.connect_async()  # type: ignore[no-untyped-call]
        _log.info("Slack Socket Mode: connected")
        try:
            await stopped  # until cancelled, or Slack disables Socket Mode for the app
        finally:
            await handler.close_async()  # type: ignore[no-untyped-call]
        message = (
            "Socket Mode was disabled for this app (disconnect: link_disabled): enable it again "
            "in the app settings (Socket Mode), or run with --slack-mode http"
        )
        _log.error("Slack %s", message)
        raise SocketModeDisabled(message)
