"""The application factory and the server: one aiohttp app, security headers on every answer.

state = WebState(context, console=True)
server = await WebServer.start(state, host="127.0.0.1", port=0)
print(server.url)
...
await server.stop()
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from importlib import resources
from pathlib import Path

from aiohttp import web

from bot.web import feeds, health, reader
from bot.web.metrics import REQUESTS
from bot.web.state import STATE, WebState

_log = logging.getLogger(__name__)

# Server-rendered pages with no script at all: nothing but our own styles and pictures.
CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
    "base-uri 'none'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
}

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def security(request: web.Request, handler: Handler) -> web.StreamResponse:
    route = request.match_info.route.name or "static"
    try:
        response = await handler(request)
    except web.HTTPException as error:
        error.headers.update(SECURITY_HEADERS)
        REQUESTS.labels(route=route, status=str(error.status)).inc()
        raise
    except Exception:
        _log.exception("web: %s %s failed", request.method, request.path)
        REQUESTS.labels(route=route, status="500").inc()
        raise web.HTTPInternalServerError(
            text="internal error (logged)\n", headers=SECURITY_HEADERS
        ) from None
    response.headers.update(SECURITY_HEADERS)
    REQUESTS.labels(route=route, status=str(response.status)).inc()
    return response


def static_dir() -> Path:
    return Path(str(resources.files("bot.web") / "static"))


async def favicon(request: web.Request) -> web.Response:
    return web.Response(status=204, headers={"Cache-Control": "public, max-age=86400"})


def create_app(state: WebState) -> web.Application:
    app = web.Application(middlewares=[security], client_max_size=64 * 1024)
    app[STATE] = state
    health.add_routes(app)
    reader.add_routes(app)
    feeds.add_routes(app)
    if state.console or state.signin or state.slack_signin:
        from bot.web import console

        console.add_routes(app)
    if state.signin or state.slack_signin:
        from bot.web import signin

        signin.add_routes(app, discord=state.signin)
    if state.slack_signin:
        from bot.web import slack_signin

        slack_signin.add_routes(app)
    app.router.add_get("/favicon.ico", favicon, name="favicon")
    app.router.add_static("/static/", static_dir(), name="static", append_version=False)
    return app


class WebServer:
    """A running site; ``url`` is where it answers (the real port when 0 was asked)."""

    def __init__(self, runner: web.AppRunner, url: str, state: WebState) -> None:
        self.runner = runner
        self.url = url
        self.state = state

    @classmethod
    async def start(cls, state: WebState, *, host: str, port: int) -> WebServer:
        return await start_site(create_app(state), host=host, port=port)

    async def stop(self) -> None:
        await self.runner.cleanup()


async def start_site(app: web.Application, *, host: str, port: int) -> WebServer:
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    try:
        await site.start()
    except BaseException:
        await runner.cleanup()
        raise
    addresses = runner.addresses
    bound = int(addresses[0][1]) if addresses else port
    shown = "127.0.0.1" if host in ("", "0.0.0.0") else host
    if ":" in shown:
        shown = f"[{shown}]"
    return WebServer(runner, f"http://{shown}:{bound}/", app[STATE])
