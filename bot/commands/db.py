"""`depeche db upgrade`: apply the database migrations (also done automatically at start)."""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser("db", help="database maintenance (migrations)")
    commands = parser.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    up = commands.add_parser(
        "upgrade", help="apply pending migrations (DATABASE_URL or the SQLite default)"
    )
    up.add_argument("--database-url", help="database to upgrade (default: from settings)")
    up.set_defaults(handler=_upgrade)
    show = commands.add_parser("current", help="print the database's migration revision")
    show.add_argument("--database-url", help="database (default: from settings)")
    show.set_defaults(handler=_current)


def _url(args: argparse.Namespace) -> tuple[str, str]:
    """The URL and the name of the setting it came from (for error messages)."""
    from bot.commands.common import load_settings

    if args.database_url:
        return args.database_url, "--database-url"
    return load_settings().effective_database_url, "DATABASE_URL"


def _upgrade(args: argparse.Namespace) -> int:
    from bot.store import connecting, make_engine
    from bot.store.migrate import current, upgrade

    url, setting = _url(args)
    engine = make_engine(url, setting=setting)
    try:
        with connecting(engine.url, setting=setting):
            before = current(engine)
            upgrade(engine)
            after = current(engine)
    finally:
        engine.dispose()
    print(
        f"database at revision {after}"
        + (" (already up to date)" if before == after else f" (was {before})")
    )
    return 0


def _current(args: argparse.Namespace) -> int:
    from bot.store import connecting, make_engine
    from bot.store.migrate import current

    url, setting = _url(args)
    engine = make_engine(url, setting=setting)
    try:
        with connecting(engine.url, setting=setting):
            revision = current(engine)
        print(revision or "empty (no migration applied)")
    finally:
        engine.dispose()
    return 0
