"""A throwaway PostgreSQL server for the test session, and database fixtures.

The session starts its own server (``initdb`` + ``pg_ctl``, found on PATH or under
/usr/lib/postgresql/*/bin) in a temporary directory on a free port, with durability off (it is
thrown away), and removes it at the end. ``initdb`` refuses to run as root: as root, the server
runs as the ``postgres`` user through ``runuser``.

If the server cannot start, PostgreSQL tests fail with a message saying what to install — unless
``DEPECHE_REQUIRE_POSTGRES=0`` is set, where they are skipped (and reported as skipped).
"""

from __future__ import annotations

import glob
import itertools
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

# Required by default: a skipped suite must not pass for a green run. Opt out explicitly with
# DEPECHE_REQUIRE_POSTGRES=0 on a machine without PostgreSQL (the skips are then reported).
REQUIRE = os.environ.get("DEPECHE_REQUIRE_POSTGRES", "1") != "0"
USER = "depeche"


def _bindir() -> Path | None:
    found = shutil.which("pg_ctl")
    if found:
        return Path(found).parent
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), reverse=True)
    return Path(candidates[0]).parent if candidates else None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class PostgresServer:
    def __init__(self, *, durable: bool = False) -> None:
        # durable: PostgreSQL's default durability (fsync, synchronous_commit on), for
        # benchmarks; the test server runs without it (it is thrown away).
        self.durable = durable
        self.bindir = _bindir()
        self.root = Path(tempfile.mkdtemp(prefix="depeche-pg-"))
        self.data = self.root / "data"
        self.port = free_port()
        self.as_postgres = os.geteuid() == 0
        self._counter = itertools.count(1)

    def _run(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        command = list(args)
        if self.as_postgres:
            command = ["runuser", "-u", "postgres", "--", *command]
        return subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)

    def start(self) -> None:
        if self.bindir is None:
            raise RuntimeError("PostgreSQL server programs (initdb, pg_ctl) not found")
        if self.as_postgres:
            shutil.chown(self.root, "postgres", "postgres")
        result = self._run(
            str(self.bindir / "initdb"),
            "-D",
            str(self.data),
            "-U",
            USER,
            "--auth=trust",
            "-E",
            "UTF8",
            "--no-sync",
        )
        if result.returncode:
            raise RuntimeError(f"initdb failed: {result.stderr.strip() or result.stdout.strip()}")
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 "
        if self.durable:
            options += "-c max_connections=300"
        else:
            options += (
                "-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
                "-c max_connections=300"
            )
        result = self._run(
            str(self.bindir / "pg_ctl"),
            "-D",
            str(self.data),
            "-o",
            options,
            "-l",
            str(self.root / "log"),
            "-w",
            "-t",
            "60",
            "start",
        )
        if result.returncode:
            log = (self.root / "log").read_text() if (self.root / "log").exists() else ""
            raise RuntimeError(f"pg_ctl start failed: {result.stderr.strip()} {log[-2000:]}")
        deadline = time.monotonic() + 30
        while True:
            try:
                self.execute("SELECT 1")
                return
            except Exception:
                if time.monotonic() > deadline:
                    raise

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://{USER}@127.0.0.1:{self.port}/{database}"

    def execute(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(
            f"host=127.0.0.1 port={self.port} user={USER} dbname=postgres", autocommit=True
        ) as conn:
            conn.execute(sql)

    def create_database(self) -> str:
        name = f"t{os.getpid()}_{next(self._counter)}"
        self.execute(f"CREATE DATABASE {name}")
        return self.url(name)

    def stop(self) -> None:
        if self.bindir is not None and self.data.exists():
            self._run(
                str(self.bindir / "pg_ctl"),
                "-D",
                str(self.data),
                "-m",
                "immediate",
                "-w",
                "stop",
                timeout=60,
            )
        shutil.rmtree(self.root, ignore_errors=True)


_server: PostgresServer | None = None
_error: str | None = None


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PostgresServer]:
    global _server, _error
    if _server is None and _error is None:
        server = PostgresServer()
        try:
            server.start()
            _server = server
        except Exception as error:  # pragma: no cover - depends on the machine
            server.stop()
            _error = str(error)
    if _server is None:
        message = f"PostgreSQL could not start: {_error}"
        if REQUIRE:
            pytest.fail(
                message
                + " — install PostgreSQL's server (Debian/Ubuntu: apt-get install postgresql), "
                "or run with DEPECHE_REQUIRE_POSTGRES=0 to skip these tests",
                pytrace=False,
            )
        pytest.skip(message)
    yield _server


def stop_server() -> None:
    global _server
    if _server is not None:
        _server.stop()
        _server = None


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty database: SQLite file, or a new database on the session's PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'test.sqlite3'}"
    server = request.getfixturevalue("pg_server")
    return server.create_database()


@pytest.fixture
def store(db_url: str) -> Iterator[object]:
    from bot.store import Store

    opened = Store.open(db_url)
    yield opened
    opened.dispose()
