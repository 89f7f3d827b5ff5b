"""Shared fixtures: databases (SQLite and a real PostgreSQL started by the session), and the
Hypothesis profile."""

from __future__ import annotations

import os

import pytest
from hypothesis import settings

from tests.pg import db_url, pg_server, stop_server, store  # noqa: F401  (fixtures)
from tests.web_env import site  # noqa: F401  (fixture)
from tests.web_slack_env import slack_site  # noqa: F401  (fixture)

# CI runs the same examples every time, so a submission's result does not depend on the draw;
# local runs keep exploring new examples (and Hypothesis' database replays any failure found).
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")


def pytest_sessionfinish(session: object, exitstatus: int) -> None:
    stop_server()


# The source article's location is an explicit input: the tests that compare the story with the
# original (marked `source_article`) run when it is given and are deselected, not skipped,
# otherwise — a user's clone without the article beside it stays green, and the summary says why.
SOURCE_ARTICLE_VARIABLE = "DEPECHE_SOURCE_ARTICLE"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"source_article: compares with the source article (needs {SOURCE_ARTICLE_VARIABLE})",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if os.environ.get(SOURCE_ARTICLE_VARIABLE):
        return
    deselected = [item for item in items if item.get_closest_marker("source_article")]
    if deselected:
        items[:] = [item for item in items if item not in deselected]
        config.hook.pytest_deselected(items=deselected)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not os.environ.get(SOURCE_ARTICLE_VARIABLE):
        terminalreporter.write_line(
            f"note: {SOURCE_ARTICLE_VARIABLE} is not set, so the check of tests/data/article-fr.txt "
            "against the source article did not run (.ci/run sets it when ../shared is present)."
        )
