"""Shared fixtures: databases (SQLite and a real PostgreSQL started by the session)."""

from __future__ import annotations

from tests.pg import db_url, pg_server, stop_server, store  # noqa: F401  (fixtures)


def pytest_sessionfinish(session: object, exitstatus: int) -> None:
    stop_server()
