"""`depeche run`: the bot. Schedules and delivers digests; starts each configured platform.

With no Discord or Slack token, it runs on the console: it says so, and prints each due digest.
On a fresh machine with no subscription at all it creates one console subscription so that a
newcomer *sees* something at once: a **replay** of the default story starting today, with the
post time set to the current minute — story day 1 is printed right away, day 2 tomorrow at the
same time, and so on (live mode would print nothing: the shipped story is in the past).
`depeche simulate` shows every day of the story in seconds instead.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import logging
import signal
from zoneinfo import ZoneInfo

from bot.admin import Actor, SubscriptionSpec, describe
from bot.console import ConsolePublisher
from bot.instances import InstanceRegistry
from bot.platforms import (
    PLATFORM_MODULES,
    PlatformContext,
    build_context,
    describe_failure,
    load_platform,
)
from bot.settings import Settings, SettingsError, check_platforms, load_settings

_log = logging.getLogger("depeche.run")


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser(
        "run", help="run the bot (console when no platform token is set)"
    )
    parser.add_argument(
        "--once", action="store_true", help="run one tick (plan + deliver) and exit"
    )
    parser.add_argument(
        "--slack-mode",
        choices=("socket", "http"),
        help="Slack transport (default from settings: socket)",
    )
    parser.add_argument(
        "--port", type=int, help="HTTP port for Slack's http mode (default from settings: 3000)"
    )
    parser.add_argument(
        "--no-console-subscription",
        action="store_true",
        help="do not create the demo console subscription when there is no subscription",
    )
    parser.set_defaults(handler=_handler)


def _handler(args: argparse.Namespace) -> int:
    if not getattr(args, "verbose", False):  # APScheduler logs every run of the tick job at INFO
        logging.getLogger("apscheduler").setLevel(logging.WARNING)
    settings = load_settings()
    if args.slack_mode is None:
        args.slack_mode = settings.slack.mode
    if args.port is None:
        args.port = settings.slack.port
    if not 0 <= args.port <= 65535:
        raise SettingsError(f"--port {args.port}: not a port number (0..65535)")
    check_platforms(settings, slack_mode=args.slack_mode)
    return asyncio.run(_main(settings, args))


def local_timezone(settings: Settings) -> str:
    if settings.schedule.default_timezone:
        return settings.schedule.default_timezone
    try:
        from tzlocal import get_localzone_name

        name = get_localzone_name()
        ZoneInfo(name)
        return name
    except Exception:
        return "UTC"


async def ensure_console_subscription(context: PlatformContext) -> str | None:
    """Create the demo console subscription if there is no subscription at all."""
    if await context.admin.list():
        return None
    tz = local_timezone(context.settings)
    now_local = context.runner.clock().astimezone(ZoneInfo(tz))
    info, _ = await context.admin.subscribe(
        SubscriptionSpec(
            platform="console",
            workspace_id="",
            channel_id="console",
            lang="both",
            post_time=now_local.strftime("%H:%M"),
            timezone=tz,
            mode="replay",
            start_date=now_local.date(),
        ),
        Actor(user_id="depeche run", via="cli", where="console", lang="en"),
    )
    return describe(info)


async def _main(settings: Settings, args: argparse.Namespace) -> int:
    context = build_context(settings, options=args)
    context.publishers.register(ConsolePublisher(context.store))
    try:
        await context.admin.apply_file(settings.subscriptions_file)
        platforms = settings.platforms_configured
        if not platforms:
            print(
                "No Discord or Slack token is configured (DISCORD_TOKEN, SLACK_BOT_TOKEN): running on the\n"
                "console. Digests are printed here when they are due. Database: "
                f"{context.store.engine.url.render_as_string(hide_password=True)}"
            )
            created = (
                None if args.no_console_subscription else await ensure_console_subscription(context)
            )
            if created:
                print(
                    f"Created a console subscription (replay of the story, day 1 now, then daily):\n  {created}"
                )
            else:
                for info in await context.admin.list(platform="console"):
                    print(f"  {describe(info)}")
            print(
                "To see the whole story in seconds: depeche simulate --from 2023-11-17 --days 5\n"
            )
        if args.once:
            planned, worked = await context.runner.step()
            _log.info("one tick: %s; %s", planned, worked)
            return 0
        return await _serve(context, platforms)
    finally:
        context.store.dispose()


async def _serve(context: PlatformContext, platforms: list[str]) -> int:
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signum, context.stop.set)
    tasks: dict[asyncio.Task[None], str] = {}
    for name in platforms:
        try:
            module = load_platform(name)
        except (ImportError, AttributeError) as error:
            _log.error(
                "%s is configured but %s cannot start: %s", name, PLATFORM_MODULES[name], error
            )
            continue
        task = asyncio.create_task(module.start(context), name=f"platform-{name}")
        tasks[task] = name
        _log.info("platform %s starting", name)
    scheduler = context.runner.start(context.settings.schedule.tick_seconds)
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
            for task in done:
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
        scheduler.shutdown(wait=False)
        for task in tasks:
            task.cancel()
        await asyncio.gather(stopping, heartbeat, *tasks, return_exceptions=True)
    print("depeche: stopped")
    return code


def _registry(context: PlatformContext) -> InstanceRegistry:
    """This instance's heartbeat; a dead instance's claims wake our worker at once."""
    pending: set[asyncio.Task[object]] = set()

    def released(count: int) -> None:
        task: asyncio.Task[object] = asyncio.create_task(context.worker.run_until_idle())
        pending.add(task)
        task.add_done_callback(pending.discard)

    return InstanceRegistry(
        context.store, context.worker.worker_id, clock=context.runner.clock, on_released=released
    )


def _report(context: PlatformContext, name: str, task: asyncio.Task[None]) -> None:
    """One line for an expected failure (bad token, unreachable API); a traceback for a bug."""
    if task.cancelled():
        _log.error("platform %s was cancelled", name)
        return
    error = task.exception()
    if error is None:
        _log.error("platform %s stopped", name)
        return
    line = describe_failure(name, error, context.settings)
    if line is not None:
        _log.error("platform %s cannot run: %s", name, line)
    else:
        _log.error("platform %s stopped with an error", name, exc_info=error)
