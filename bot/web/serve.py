"""Starting the web side from `depeche run` and `depeche web`: where to listen, whether the
console needs no sign-in, and one line (never a traceback) when the port is taken."""

from __future__ import annotations

import ipaddress
import logging
import secrets

from bot.platforms import PlatformContext
from bot.web.app import WebServer
from bot.web.state import WebState

_log = logging.getLogger(__name__)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def web_host(context: PlatformContext) -> str:
    """The configured host, or 127.0.0.1 with no platform (the console run), else 0.0.0.0."""
    configured = context.settings.web.host.strip()
    if configured:
        return configured
    return "0.0.0.0" if context.settings.platforms_configured else "127.0.0.1"


def make_state(context: PlatformContext, host: str) -> WebState:
    """The console answers without sign-in only in the console run, on the loopback
    interface."""
    web = context.settings.web
    secret = web.secret.get_secret_value().encode() if web.secret else b""
    return WebState(
        context,
        console=not context.settings.platforms_configured and is_loopback(host),
        public_url=web.public_url,
        secret=secret or secrets.token_bytes(32),
        signin=web.discord_signin,
        slack_signin=context.settings.slack_signin is not None,
    )


async def start_web(context: PlatformContext, *, port: int | None = None) -> WebServer | None:
    """Start the web side; None (after one logged line) when it cannot listen."""
    host = web_host(context)
    state = make_state(context, host)
    try:
        server = await WebServer.start(
            state, host=host, port=context.settings.web.port if port is None else port
        )
    except OSError as error:
        _log.error(
            "web: cannot listen on %s:%s (%s); set DEPECHE_WEB_PORT to a free port (0 = any)",
            host,
            context.settings.web.port if port is None else port,
            error.strerror or error,
        )
        return None
    return server
