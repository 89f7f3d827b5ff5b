"""Engines for SQLite (embedded default: WAL, busy timeout, serialised writers) and PostgreSQL
(psycopg 3), and the `Store` handle the rest of the bot passes around."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError
from sqlalchemy.orm import Session, sessionmaker

from bot.store.gate import WriteGate
from digests.errors import DepecheError

_log = logging.getLogger(__name__)

SUPPORTED = "use sqlite or postgresql+psycopg"
CONNECT_TIMEOUT_SECONDS = 10


class DatabaseURLError(DepecheError):
    """The database URL is malformed, names an unsupported database, or cannot be reached.
    The message names the setting and never contains the password."""


class DatabaseUnreachable(DatabaseURLError):
    """The URL is fine but the database server cannot be reached (yet): worth waiting for."""


def check_url(url: str, *, setting: str = "DATABASE_URL") -> URL:
    """Parse ``url`` (after `normalise_url`) and refuse what the bot cannot use."""
    try:
        parsed = make_url(normalise_url(url.strip()))
    except (ArgumentError, ValueError):
        raise DatabaseURLError(f"{setting}: not a database URL ({SUPPORTED})") from None
    backend, driver = parsed.get_backend_name(), parsed.get_driver_name()
    if backend == "sqlite":
        if driver not in ("pysqlite", "sqlite"):
            raise DatabaseURLError(f"{setting}: unsupported SQLite driver {driver!r} ({SUPPORTED})")
    elif backend == "postgresql":
        if driver != "psycopg":
            raise DatabaseURLError(
                f"{setting}: unsupported PostgreSQL driver {driver!r} ({SUPPORTED})"
            )
        if not parsed.host and not parsed.query.get("host"):
            raise DatabaseURLError(f"{setting}: no host in the PostgreSQL URL")
    else:
        raise DatabaseURLError(f"{setting}: unsupported database {backend!r} ({SUPPORTED})")
    return parsed


def _reason(error: BaseException) -> str:
    """A short, password-free reason for a failed connection."""
    text = str(getattr(error, "orig", None) or error)
    lowered = text.lower()
    for needle, reason in (
        ("connection refused", "connection refused"),
        ("password authentication failed", "authentication failed"),
        ("authentication failed", "authentication failed"),
        ("no password supplied", "no password given"),
        ("could not translate host name", "unknown host"),
        ("name or service not known", "unknown host"),
        ("temporary failure in name resolution", "unknown host"),
        ("timeout expired", "timed out"),
        ("timed out", "timed out"),
        ("unable to open database file", "cannot open the database file"),
        ("file is not a database", "not an SQLite database file"),
        ("is not a database", "not an SQLite database file"),
        ("readonly database", "read-only database"),
    ):
        if needle in lowered:
            return reason
    if "does not exist" in lowered:
        line = text.strip().splitlines()[-1]
        return line.split("FATAL:")[-1].strip()[:200]
    first = text.strip().splitlines()[0] if text.strip() else type(error).__name__
    return first[:200]


def describe_target(url: URL) -> str:
    if url.get_backend_name() == "sqlite":
        return f"SQLite database {url.database or ':memory:'}"
    host = url.host or url.query.get("host") or "localhost"
    return f"{host}:{url.port or 5432}"


@contextlib.contextmanager
def connecting(url: str | URL, *, setting: str = "DATABASE_URL") -> Iterator[None]:
    """Turn a failure to connect (refused, unknown host, bad password, unreadable SQLite file)
    into a one-line `DatabaseURLError` that names ``setting`` and never shows the password."""
    try:
        yield
    except DBAPIError as error:
        if not error.connection_invalidated and not _is_connect_error(error):
            raise
        parsed = url if isinstance(url, URL) else make_url(normalise_url(url))
        raise DatabaseUnreachable(
            f"{setting}: cannot connect to {describe_target(parsed)} ({_reason(error)})"
        ) from None


def _is_connect_error(error: DBAPIError) -> bool:
    from sqlalchemy.exc import InterfaceError, OperationalError

    return isinstance(error, OperationalError | InterfaceError)


def normalise_url(url: str) -> str:
    """Accept the usual ``postgres://``/``postgresql://`` URLs and use psycopg 3 for them."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


def _is_default_location(database: str) -> bool:
    from bot.settings import default_database_url

    default = make_url(default_database_url()).database
    return default is not None and Path(database).expanduser() == Path(default)


def make_engine(url: str, *, setting: str = "DATABASE_URL", **kwargs: Any) -> Engine:
    """An engine for ``url``; a URL the bot cannot use raises `DatabaseURLError` (naming
    ``setting``). Nothing connects yet: wrap the first use in `connecting`.

    An SQLite file is created on first use, but its directory only at the default location: a
    typo in an explicit URL must not give a bot with a new, empty database."""
    parsed = check_url(url, setting=setting)
    url = normalise_url(url.strip())
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:" and not database.startswith("file:"):
            directory = Path(database).parent
            if not directory.is_dir() and not _is_default_location(database):
                raise DatabaseURLError(
                    f"{setting}: the directory of SQLite database {database} does not exist "
                    "(create it, or correct the URL)"
                )
            try:
                directory.mkdir(parents=True, exist_ok=True)
            except OSError as error:
                raise DatabaseURLError(
                    f"{setting}: cannot create the directory of SQLite database {database} "
                    f"({error.strerror or error})"
                ) from None
        engine = create_engine(url, connect_args={"timeout": 30}, **kwargs)
        _sqlite_setup(engine)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    connect_args = kwargs["connect_args"] = dict(kwargs.get("connect_args") or {})
    if "connect_timeout" not in parsed.query:
        connect_args.setdefault("connect_timeout", CONNECT_TIMEOUT_SECONDS)
    try:
        return create_engine(url, **kwargs)
    except NoSuchModuleError:
        raise DatabaseURLError(
            f"{setting}: unsupported database {parsed.drivername!r} ({SUPPORTED})"
        ) from None


def _sqlite_setup(engine: Engine) -> None:
    """WAL, a busy timeout, and ``BEGIN IMMEDIATE`` so that read-then-write transactions of
    several processes serialise instead of failing with 'database is locked' on upgrade."""

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA temp_store=MEMORY")  # the tick's plan tables: no temp files
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


@dataclass
class Store:
    """An engine plus its session factory, and the order of this process's SQLite writers
    (`bot.store.gate`: the delivery worker before the tick's chunks)."""

    engine: Engine
    sessions: sessionmaker[Session]
    gate: WriteGate = field(init=False)

    def __post_init__(self) -> None:
        self.gate = WriteGate(enabled=self.engine.dialect.name == "sqlite")

    @classmethod
    def open(
        cls, url: str, *, upgrade: bool = True, setting: str = "DATABASE_URL", **kwargs: Any
    ) -> Store:
        """Open (and migrate) the database; an unusable or unreachable URL raises
        `DatabaseURLError` naming ``setting``."""
        engine = make_engine(url, setting=setting, **kwargs)
        try:
            with connecting(engine.url, setting=setting):
                if upgrade:
                    from bot.store.migrate import upgrade as run_upgrade

                    run_upgrade(engine)
        except BaseException:
            engine.dispose()
            raise
        return cls(engine, sessionmaker(engine, expire_on_commit=False))

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def session(self) -> Session:
        return self.sessions()

    def dispose(self) -> None:
        self.engine.dispose()
