"""Shared fixtures: databases (SQLite and a real PostgreSQL started by the session), and the
Hypothesis profile."""

from __future__ import annotations

import os

from hypothesis import settings

from tests.pg import db_url, pg_server, stop_server, store  # noqa: F401  (fixtures)

# CI runs the same examples every time, so a submission's result does not depend on the draw;
# local runs keep exploring new examples (and Hypothesis' database replays any failure found).
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")


def pytest_sessionfinish(session: object, exitstatus: int) -> None:
    stop_server()
