"""Database outages and a mistyped SQLite URL, through the real `depeche` process.

Regressions from an adversarial review: 20 s without PostgreSQL produced 45 tracebacks and an
APScheduler warning every second; an unreachable PostgreSQL at start made the bot exit at once;
an explicit SQLite URL into a missing directory silently created an empty database.

PostgreSQL is the session's real server, reached through `Gate`, a TCP proxy the test can cut
(it then accepts and drops every connection, as a database that went away) and reopen.
"""

from __future__ import annotations

import contextlib
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.settings import ENVIRONMENT

pytestmark = pytest.mark.postgres


class Gate:
    """A TCP proxy in front of PostgreSQL that can be cut and reopened."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self.listener.getsockname()[1])
        self.is_open = True
        self.dropped = 0
        self.live: list[socket.socket] = []
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            with self.lock:
                if not self.is_open:
                    self.dropped += 1
                    client.close()
                    continue
                server = socket.create_connection(("127.0.0.1", self.target_port))
                self.live += [client, server]
            for source, sink in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for end in (source, sink):
                with contextlib.suppress(OSError):
                    end.shutdown(socket.SHUT_RDWR)
                end.close()

    def cut(self) -> None:
        with self.lock:
            self.is_open = False
            for end in self.live:
                with contextlib.suppress(OSError):
                    end.shutdown(socket.SHUT_RDWR)
            self.live.clear()

    def reopen(self) -> None:
        with self.lock:
            self.is_open = True

    def close(self) -> None:
        self.cut()
        self.listener.close()


def environment(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ENVIRONMENT and key != "DEPECHE_CONFIG"
    }
    env.update(XDG_DATA_HOME=str(tmp_path / "data"), DEPECHE_STORIES_DIR=str(tmp_path / "none"))
    env.update(extra)
    return env


class Bot:
    """`depeche run` in a subprocess; its log lines are collected as they come."""

    def __init__(self, tmp_path: Path, *argv: str, **env: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bot", "-v", "run", *argv],  # -v: INFO lines too
            cwd=tmp_path,
            env=environment(tmp_path, **env),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: list[str] = []
        self._queue: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stderr is not None
        with self.process.stderr:
            for line in self.process.stderr:
                self._queue.put(line.rstrip("\n"))
        self._queue.put(None)

    def wait_for(self, predicate: Callable[[], bool], what: str, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            left = deadline - time.monotonic()
            assert left > 0, f"timed out waiting for {what}:\n" + "\n".join(self.lines[-40:])
            try:
                line = self._queue.get(timeout=min(left, 0.5))
            except queue.Empty:
                continue
            if line is None:
                assert predicate(), f"exited before {what}:\n" + "\n".join(self.lines[-40:])
                return
            self.lines.append(line)

    def count(self, text: str) -> int:
        return sum(text in line for line in self.lines)

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        code = self.process.wait(timeout=60)
        while True:
            try:
                line = self._queue.get(timeout=2)
            except queue.Empty:
                break
            if line is None:
                break
            self.lines.append(line)
        return code


@pytest.fixture
def gate(pg_server: object) -> Gate:
    port = int(getattr(pg_server, "port"))  # noqa: B009
    gate = Gate(port)
    yield gate  # type: ignore[misc]
    gate.close()


def gated_url(pg_server: object, gate: Gate) -> str:
    url = str(pg_server.create_database())  # type: ignore[attr-defined]
    return url.replace(f":{pg_server.port}/", f":{gate.port}/")  # type: ignore[attr-defined]


# ------------------------------------------------------------------------- while running


def test_an_outage_while_running_is_two_lines_not_a_traceback_per_tick(
    tmp_path: Path, pg_server: object, gate: Gate
) -> None:
    bot = Bot(
        tmp_path,
        DATABASE_URL=gated_url(pg_server, gate),
        DEPECHE_TICK_SECONDS="0.5",
    )
    try:
        bot.wait_for(lambda: bot.count("scheduler started") == 1, "the scheduler")
        gate.cut()
        bot.wait_for(lambda: bot.count("database unreachable") >= 1, "the outage warning")
        dropped = gate.dropped
        # more ticks try the database while it is away: they must stay quiet
        bot.wait_for(lambda: gate.dropped >= dropped + 6, "more ticks during the outage")
        gate.reopen()
        bot.wait_for(lambda: bot.count("database is back") >= 1, "the database to be back")
    finally:
        code = bot.stop()
    log = "\n".join(bot.lines)
    assert code == 0, log[-3000:]
    assert bot.count("database unreachable") == 1, log[-3000:]
    assert bot.count("database is back") == 1, log[-3000:]
    assert "Traceback" not in log and "tick failed" not in log, log[-3000:]
    assert "maximum number of running instances" not in log, log[-3000:]


# ------------------------------------------------------------------------- at start


def test_start_waits_for_the_database_then_gives_up_in_one_line(
    tmp_path: Path, pg_server: object, gate: Gate
) -> None:
    url = gated_url(pg_server, gate)
    gate.cut()
    bot = Bot(tmp_path, "--once", DATABASE_URL=url, DEPECHE_DATABASE_WAIT_SECONDS="4")
    code = bot.stop() if bot.process.wait(timeout=120) is not None else -1
    log = "\n".join(bot.lines)
    attempts = [line for line in bot.lines if "; attempt " in line]
    assert code == 2, log
    assert len(attempts) >= 2, log
    assert all("DATABASE_URL: cannot connect to 127.0.0.1" in line for line in attempts), log
    assert bot.lines[-1].startswith("depeche: error: DATABASE_URL: cannot connect"), log
    assert "gave up after" in bot.lines[-1] and "DEPECHE_DATABASE_WAIT_SECONDS=4" in log
    assert "Traceback" not in log and "deps" not in url


def test_start_waits_for_a_database_that_comes_up(
    tmp_path: Path, pg_server: object, gate: Gate
) -> None:
    url = gated_url(pg_server, gate)
    gate.cut()
    bot = Bot(tmp_path, "--once", DATABASE_URL=url, DEPECHE_DATABASE_WAIT_SECONDS="120")
    bot.wait_for(lambda: bot.count("; attempt 1,") == 1, "a first failed attempt")
    gate.reopen()
    code = bot.stop() if bot.process.wait(timeout=120) is not None else -1
    log = "\n".join(bot.lines)
    assert code == 0, log
    assert bot.count("one tick") == 1 and "Traceback" not in log, log


# ------------------------------------------------------------------------- SQLite


@pytest.mark.parametrize("argv", [("run", "--once"), ("subscriptions", "list")])
def test_explicit_sqlite_url_into_a_missing_directory_is_refused(
    tmp_path: Path, argv: tuple[str, ...]
) -> None:
    missing = tmp_path / "typo" / "depeche.sqlite3"
    done = subprocess.run(
        [sys.executable, "-m", "bot", *argv],
        cwd=tmp_path,
        env=environment(tmp_path, DATABASE_URL=f"sqlite:///{missing}"),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip() == (
        f"depeche: error: DATABASE_URL: the directory of SQLite database {missing} does not "
        "exist (create it, or correct the URL)"
    )
    assert not missing.parent.exists()


def test_the_default_sqlite_location_is_still_created(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bot", "subscriptions", "list"],
        cwd=tmp_path,
        env=environment(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "data" / "depeche" / "depeche.sqlite3").is_file()
