"""`depeche web`: the web side alone (story pages, feeds, pictures, health, metrics, and the
console when no platform is configured), without the scheduler or the platforms.

Imported by `depeche --help`: only the standard library at its top.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
from typing import TYPE_CHECKING

from bot.commands.common import load_settings

if TYPE_CHECKING:
    from bot.settings import Settings


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser(
        "web",
        help="serve the story pages, feeds, console, health and metrics alone",
        description="Serve the web side alone (what `depeche run` serves beside the bot). "
        "Flags win over config/settings.toml, .env and the environment.",
    )
    parser.add_argument(
        "--host",
        help="interface to listen on (overrides DEPECHE_WEB_HOST; default 127.0.0.1 "
        "with no platform configured, else 0.0.0.0)",
    )
    parser.add_argument(
        "--port",
        type=int,
        help="port (overrides DEPECHE_WEB_PORT; default from settings: 8080; 0 = any free port)",
    )
    parser.set_defaults(handler=_handler)


def _handler(args: argparse.Namespace) -> int:
    settings = load_settings({"--web-host": args.host, "--web-port": args.port})
    return asyncio.run(_main(settings))


async def _main(settings: Settings) -> int:
    from bot.platforms import build_context
    from bot.web.serve import start_web

    context = build_context(settings)
    try:
        server = await start_web(context)
        if server is None:
            return 1
        where = "console, story pages" if server.state.console else "story pages"
        print(f"Web ({where}, feeds, health): {server.url}", flush=True)
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(signum, context.stop.set)
        try:
            await context.stop.wait()
        finally:
            await server.stop()
        print("depeche: stopped", file=sys.stderr)
        return 0
    finally:
        context.store.dispose()
