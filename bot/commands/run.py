"""`depeche run`: the bot. Schedules and delivers digests; starts each configured platform.

With no Discord or Slack token, it runs on the console: it says so, and prints each due digest.
On a fresh machine with no subscription at all it creates one console subscription so that a
newcomer *sees* something at once: a **replay** of the default story starting today, with the
post time set to the current minute — story day 1 is printed right away, day 2 tomorrow at the
same time, and so on (live mode would print nothing: the shipped story is in the past).
`depeche simulate` shows every day of the story in seconds instead. What the console says on a
first and on a later run is in `bot.console.welcome`.

This module is imported by `depeche --help`: only the standard library at its top; the engine,
the store and the platforms are imported by the handler.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import logging
import signal
import sys
from typing import TYPE_CHECKING, cast

from bot.commands.common import load_settings

if TYPE_CHECKING:
    from collections.abc import Callable

    from bot.instances import InstanceRegistry
    from bot.platforms import PlatformContext
    from bot.settings import Settings
    from bot.web import WebServer

_log = logging.getLogger("depeche.run")


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser(
        "run",
        help="run the bot (console when no platform token is set)",
        description="Run the bot: schedule and deliver the digests, serve each configured "
        "platform. With no DISCORD_TOKEN or SLACK_BOT_TOKEN it runs on the console: digests on "
        "standard output, logs on standard error (warnings only; -v for more). Flags win over "
        "config/settings.toml, .env and the environment.",
    )
    parser.add_argument(
        "--once", action="store_true", help="run one tick (plan + deliver) and exit"
    )
    parser.add_argument(
        "--slack-mode",
        choices=("socket", "http"),
        help="Slack transport (overrides SLACK_MODE; default from settings: socket)",
    )
    parser.add_argument(
        "--port",
        type=int,
        help="HTTP port for Slack's http mode (overrides SLACK_PORT; default from settings: 3000)",
    )
    parser.add_argument(
        "--no-console-subscription",
        action="store_true",
        help="do not create the demo console subscription when there is no subscription",
    )
    parser.add_argument(
        "-v",
        "--verbose",
        action="count",
        default=argparse.SUPPRESS,
        help="more logs (console run: -v info, -vv debug)",
    )
    parser.set_defaults(handler=_handler)


def _handler(args: argparse.Namespace) -> int:
    settings = load_settings({"--slack-mode": args.slack_mode, "--port": args.port})
    # The platforms read these from the context's options: the final values, flags included.
    args.slack_mode, args.port = settings.slack.mode, settings.slack.port
    verbose = int(getattr(args, "verbose", 0) or 0)
    if not settings.platforms_configured:
        # On the console the digests are the output (stdout); logs (stderr) keep to warnings.
        logging.getLogger().setLevel(max(logging.DEBUG, logging.WARNING - 10 * verbose))
    if verbose < 2:  # APScheduler logs every run of the tick job at INFO
        logging.getLogger("apscheduler").setLevel(logging.WARNING)
    return asyncio.run(_main(settings, args))


async def _main(settings: Settings, args: argparse.Namespace) -> int:
    from bot.console import ConsolePublisher
    from bot.console.welcome import welcome
    from bot.platforms import build_context

    url = settings.effective_database_url
    store = None
    if not url.startswith("sqlite"):  # a server that may not be up yet: wait for it
        from bot.store.health import open_waiting

        store = await open_waiting(url, wait_seconds=settings.database_wait_seconds)
    context = build_context(settings, store=store, options=args)
    context.publishers.register(ConsolePublisher(context.store))
    if not args.once:
        _stop_on_signals(context)  # from now on: Ctrl-C during start-up is a clean stop too
    try:
        await context.admin.apply_file(settings.subscriptions_file)
        platforms = settings.platforms_configured
        if not platforms:
            await welcome(context, create=not args.no_console_subscription, once=args.once)
        if args.once:
            planned, worked = await context.runner.step()
            _log.info("one tick: %s; %s", planned, worked)
            return 0
        return await _serve(context, platforms)
    finally:
        context.store.dispose()


def _stop_on_signals(context: PlatformContext) -> None:
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signum, context.stop.set)


async def _serve(context: PlatformContext, platforms: list[str]) -> int:
    from bot import platforms as plugins
    from bot.loopwatch import LoopWatch

    _stop_on_signals(context)
    tasks: dict[asyncio.Task[None], str] = {}
    server = await _start_web(context)
    for name in platforms:
        try:
            module = plugins.load_platform(name)
        except (ImportError, AttributeError) as error:
            _log.error(
                "%s is configured but %s cannot start: %s",
                name,
                plugins.PLATFORM_MODULES[name],
                error,
            )
            continue
        task = asyncio.create_task(module.start(context), name=f"platform-{name}")
        tasks[task] = name
        if server is not None:
            server.state.readiness[name] = _running(task)
        _log.info("platform %s starting", name)
    watch = LoopWatch(warn_ms=context.settings.delivery.loop_stall_ms).start()
    context.runner.start(context.settings.schedule.tick_seconds)
    heartbeat = asyncio.create_task(_registry(context).run(), name="heartbeat")
    _log.info(
        "scheduler started: tick every %ss, grace %sh (%s)",
        context.settings.schedule.tick_seconds,
        context.settings.schedule.grace_hours,
        dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    )
    code = 0
    stopping = asyncio.create_task(context.stop.wait(), name="stop")
    running = set(tasks)
    try:
        if platforms and not running:
            code = 1
        while running or not platforms:
            done, _ = await asyncio.wait({*running, stopping}, return_when=asyncio.FIRST_COMPLETED)
            if stopping in done:
                break
            for finished in done:
                task = cast("asyncio.Task[None]", finished)
                running.discard(task)
                _report(context, tasks[task], task)
            if not running:
                code = 1
        if code:
            _log.error(
                "no platform is running (%s configured): stopping; fix the problem above and "
                "start again",
                ", ".join(platforms),
            )
    finally:
        stopping.cancel()
        heartbeat.cancel()
        await context.runner.stop()
        await watch.stop()
        for task in tasks:
            task.cancel()
        await asyncio.gather(stopping, heartbeat, *tasks, return_exceptions=True)
        if server is not None:
            await server.stop()
    print("depeche: stopped", file=sys.stderr)
    return code


def _registry(context: PlatformContext) -> InstanceRegistry:
    """This instance's heartbeat; a dead instance's claims wake our worker at once."""
    from bot.instances import InstanceRegistry

    def released(count: int) -> None:
        context.worker.wake()

    return InstanceRegistry(
        context.store, context.worker.worker_id, clock=context.runner.clock, on_released=released
    )


async def _start_web(context: PlatformContext) -> WebServer | None:
    """The web side on the same event loop; the bot runs on without it if it cannot listen."""
    if not context.settings.web.enabled:
        return None
    from bot.web.serve import start_web

    server = await start_web(context)
    if server is not None:
        where = "console, story pages" if server.state.console else "story pages"
        print(f"Web ({where}, feeds, health): {server.url}", flush=True)
    return server


def _running(task: asyncio.Task[None]) -> Callable[[], bool]:
    return lambda: not task.done()


def _report(context: PlatformContext, name: str, task: asyncio.Task[None]) -> None:
    """One line for an expected failure (bad token, unreachable API); a traceback for a bug."""
    if task.cancelled():
        _log.error("platform %s was cancelled", name)
        return
    error = task.exception()
    if error is None:
        _log.error("platform %s stopped", name)
        return
    from bot.platforms import describe_failure

    line = describe_failure(name, error, context.settings)
    if line is not None:
        _log.error("platform %s cannot run: %s", name, line)
    else:
        _log.error("platform %s stopped with an error", name, exc_info=error)
