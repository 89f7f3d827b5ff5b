"""`depeche subscriptions list|add|set|remove|pause|resume|status`: operators' view of
subscriptions.

    depeche subscriptions add --platform discord --workspace GUILD_ID --channel CHANNEL_ID \\
        --lang fr --time 08:00 --tz Europe/Paris [--mode replay --start 2026-12-01] [--story SLUG] \\
        [--days mon-fri] [--cadence weekly] [--format compact] [--thread daily]
    depeche subscriptions set --id 7 --days mon,wed,fri --format compact
    depeche subscriptions set --id 7 --thread daily
    depeche subscriptions set --id 7 --corrections notice --breaking on

``add`` is idempotent for the same platform/workspace/channel/language: it updates. ``set``
changes only the options given.
"""

from __future__ import annotations

import argparse
import asyncio
from typing import TYPE_CHECKING, Any

from bot.commands.common import BadArgument, load_settings, parse_date

if TYPE_CHECKING:
    from bot.admin import AdminService, Ref


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser(
        "subscriptions", help="list, add, remove, pause, resume subscriptions"
    )
    actions = parser.add_subparsers(dest="subscriptions_command", metavar="ACTION", required=True)

    listing = actions.add_parser("list", help="list subscriptions")
    listing.add_argument("--platform", choices=("discord", "slack", "console"))
    listing.add_argument("--workspace")
    listing.set_defaults(handler=lambda args: _run(_list, args))

    add = actions.add_parser("add", help="subscribe a channel (updates an existing one)")
    add.add_argument("--platform", choices=("discord", "slack", "console"), default="console")
    add.add_argument(
        "--workspace",
        default="",
        help="Discord server id (a number) / Slack team id (T...); none for the console",
    )
    add.add_argument(
        "--channel",
        help="Discord channel id (a number) / Slack channel id (C..., G..., D...); "
        "default 'console' for the console",
    )
    add.add_argument("--lang", choices=("fr", "en", "both"), default="fr")
    add.add_argument("--time", default="08:00", help="local post time, HH:MM (default 08:00)")
    add.add_argument("--tz", default="Europe/Paris", help="IANA time zone (default Europe/Paris)")
    add.add_argument("--mode", choices=("live", "replay"), default="live")
    add.add_argument(
        "--start", type=parse_date, help="replay: the date story day 1 is posted (default today)"
    )
    add.add_argument("--story", metavar="SLUG", help="story to follow (default: the shipped story)")
    _schedule_options(add, defaults=True)
    _update_options(add)
    add.set_defaults(handler=lambda args: _run(_add, args))

    change = actions.add_parser("set", help="change options of a subscription (only those given)")
    _which(change)
    change.add_argument("--time", help="local post time, HH:MM")
    change.add_argument("--tz", help="IANA time zone")
    change.add_argument("--mode", choices=("live", "replay"))
    change.add_argument("--start", type=parse_date, help="replay: the date story day 1 is posted")
    change.add_argument("--story", metavar="SLUG", help="story to follow")
    _schedule_options(change, defaults=False)
    _update_options(change)
    change.set_defaults(handler=lambda args: _run(_set, args))

    alert = actions.add_parser(
        "alert",
        help="mention a role (Discord) or user group (Slack) when the day's post involves a "
        "person or organisation of the story",
    )
    _which(alert)
    alert.add_argument("--who", help="a person or organisation of the story (name or id)")
    alert.add_argument("--role", help="Discord: the role id to mention")
    alert.add_argument("--group", help="Slack: the user group id to mention (S...)")
    alert.add_argument(
        "--remove", action="store_true", help="remove the alert (all of --who's, or all)"
    )
    alert.set_defaults(handler=lambda args: _run(_alert, args))

    for name, help_text, handler in (
        ("remove", "unsubscribe", _remove),
        ("pause", "pause posting", _pause),
        ("resume", "resume posting", _resume),
        ("status", "next post, last deliveries, failures and skipped posts", _status),
    ):
        sub = actions.add_parser(name, help=help_text)
        _which(sub)
        if name == "pause":
            sub.add_argument("--reason", help="shown by status")
        sub.set_defaults(handler=lambda args, handler=handler: _run(handler, args))


def _which(sub: argparse.ArgumentParser) -> None:
    """The options that name existing subscriptions."""
    sub.add_argument("--id", type=int, help="subscription id (from `list`)")
    # `depeche subscriptions pause 7`: caught to point at --id (not shown in --help)
    sub.add_argument("positional_id", nargs="?", help=argparse.SUPPRESS)
    sub.add_argument("--platform", choices=("discord", "slack", "console"))
    sub.add_argument("--workspace", default="")
    sub.add_argument("--channel")
    sub.add_argument(
        "--lang", choices=("fr", "en", "both"), help="only this language's subscription"
    )


def _schedule_options(parser: argparse.ArgumentParser, *, defaults: bool) -> None:
    """Days, cadence and format (checked by the admin service, like chat and the file)."""
    parser.add_argument(
        "--days",
        default="every day" if defaults else None,
        help="days of the week it posts on: mon-fri, mon,wed,fri, weekends... (default every day)",
    )
    parser.add_argument(
        "--cadence",
        default="daily" if defaults else None,
        help="daily (the day's digest) or weekly (a roll-up of the past seven story days, "
        "on the one day of --days; Monday by default)",
    )
    parser.add_argument(
        "--format",
        default="full" if defaults else None,
        help="full (the day's digest) or compact (headlines with one line each and a link)",
    )
    parser.add_argument(
        "--thread",
        default="none" if defaults else None,
        help="none (post in the channel) or daily (Discord: each digest starts a thread that "
        "holds its 'more' part; Slack: the 'more' part and corrections are replies in the "
        "digest's thread). A Discord forum always gets one post per day.",
    )


def _switch(value: str) -> bool:
    from bot.subscription_updates import parse_switch

    switch = parse_switch(value)
    if switch is None:
        raise argparse.ArgumentTypeError(f"expected on or off, not {value!r}")
    return switch


def _update_options(parser: argparse.ArgumentParser) -> None:
    """Corrections and breaking alerts (a living story); unset: kept (new: edit, off)."""
    parser.add_argument(
        "--corrections",
        choices=("edit", "notice", "off"),
        help="when a story revision changes a day already posted: edit the post in place "
        "(default), post a short notice under it, or do nothing",
    )
    parser.add_argument(
        "--breaking",
        type=_switch,
        metavar="{on,off}",
        help="post breaking-news alerts at once (live subscriptions only; default off)",
    )


def _check_add(args: argparse.Namespace) -> None:
    if args.channel is None:
        if args.platform != "console":
            raise BadArgument(
                f"--platform {args.platform} needs --workspace and --channel "
                "(ids, not names; see `depeche subscriptions add --help`)"
            )
        args.channel = "console"
    from bot.admin import check_target

    if args.start is not None and args.mode != "replay":
        raise BadArgument("--start only applies to --mode replay")
    check_target(args.platform, args.workspace, args.channel)


def _check_positional(args: argparse.Namespace) -> None:
    value = getattr(args, "positional_id", None)
    if value is None:
        return
    from bot.admin import _quoted

    command = args.subscriptions_command
    if value.isdigit():
        raise BadArgument(
            f"give the subscription id with --id: depeche subscriptions {command} --id {value}"
        )
    raise BadArgument(
        f"unexpected argument {_quoted(value)}: say which subscription with --id N, or "
        "--platform P [--workspace W] --channel C [--lang L]"
    )


def _service() -> AdminService:
    from bot.admin import AdminService
    from bot.store import Store
    from digests.story import StoryLibrary

    settings = load_settings()
    store = Store.open(settings.effective_database_url)
    return AdminService(
        store, StoryLibrary.load(settings.stories_dir, max_bytes=settings.story_max_bytes)
    )


def _run(handler: Any, args: argparse.Namespace) -> int:
    _check_positional(args)
    if handler is _add:
        _check_add(args)
    admin = _service()
    try:
        return int(asyncio.run(handler(admin, args)) or 0)
    finally:
        admin.store.dispose()


def _ref(args: argparse.Namespace, *, required: bool = True) -> Ref | None:
    from bot.admin import Target

    if args.id is not None:
        return int(args.id)
    if args.platform and args.channel:
        return Target(args.platform, args.workspace or "", args.channel, args.lang)
    if required:
        raise BadArgument(
            "say which subscription: --id N, or --platform P [--workspace W] --channel C [--lang L]"
        )
    return None


async def _list(admin: AdminService, args: argparse.Namespace) -> int:
    from bot.admin import render_list

    print(render_list(await admin.list(platform=args.platform, workspace_id=args.workspace)))
    return 0


async def _add(admin: AdminService, args: argparse.Namespace) -> int:
    from bot.admin import CLI, SubscriptionSpec, render_list

    info, created = await admin.subscribe(
        SubscriptionSpec(
            platform=args.platform,
            workspace_id=args.workspace,
            channel_id=args.channel,
            lang=args.lang,
            post_time=args.time,
            timezone=args.tz,
            mode=args.mode,
            start_date=args.start,
            story_slug=args.story,
            days=args.days,
            cadence=args.cadence,
            format=args.format,
            thread=args.thread,
            corrections=args.corrections,
            breaking=args.breaking,
        ),
        CLI,
    )
    print(("created: " if created else "updated: ") + render_list([info]))
    return 0


_SET_OPTIONS = {
    "time": "post_time",
    "tz": "timezone",
    "mode": "mode",
    "start": "start_date",
    "story": "story_slug",
    "days": "days",
    "cadence": "cadence",
    "format": "format",
    "thread": "thread",
    "corrections": "corrections",
    "breaking": "breaking",
}


async def _set(admin: AdminService, args: argparse.Namespace) -> int:
    from bot.admin import CLI, render_list

    changes = {
        field: getattr(args, option)
        for option, field in _SET_OPTIONS.items()
        if getattr(args, option) is not None
    }
    if not changes:
        raise BadArgument(
            "nothing to change: give at least one of "
            + ", ".join(f"--{option}" for option in _SET_OPTIONS)
        )
    updated = await admin.update(_ref(args), CLI, **changes)  # type: ignore[arg-type]
    print("updated: " + render_list(updated))
    return 0


async def _alert(admin: AdminService, args: argparse.Namespace) -> int:
    from bot.admin import CLI, render_list
    from bot.alerts import AlertAdmin

    alerts = AlertAdmin(admin)
    target = args.role or args.group
    if args.remove:
        changed = await alerts.remove(_ref(args), args.who, target, CLI)  # type: ignore[arg-type]
    else:
        if not args.who or not target:
            raise BadArgument("an alert needs --who and --role (Discord) or --group (Slack)")
        changed = await alerts.add(_ref(args), args.who, target, CLI)  # type: ignore[arg-type]
    print("updated: " + render_list(changed))
    return 0


async def _remove(admin: AdminService, args: argparse.Namespace) -> int:
    from bot.admin import CLI, render_list

    removed = await admin.unsubscribe(_ref(args), CLI)  # type: ignore[arg-type]
    print("removed: " + render_list(removed))
    return 0


async def _pause(admin: AdminService, args: argparse.Namespace) -> int:
    from bot.admin import CLI, render_list

    print(render_list(await admin.pause(_ref(args), CLI, args.reason)))  # type: ignore[arg-type]
    return 0


async def _resume(admin: AdminService, args: argparse.Namespace) -> int:
    from bot.admin import CLI, render_list

    print(render_list(await admin.resume(_ref(args), CLI)))  # type: ignore[arg-type]
    return 0


async def _status(admin: AdminService, args: argparse.Namespace) -> int:
    from bot.admin import format_status, render_list

    ref = _ref(args, required=False)
    refs: list[Ref] = [ref] if ref is not None else [info.id for info in await admin.list()]
    if not refs:
        print(render_list([]))
    for one in refs:
        for report in await admin.status(one):
            print(format_status(report))
            print()
    return 0
