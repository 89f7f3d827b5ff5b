"""A command line that starts fast: which libraries each `depeche` command loads.

Each case runs the real `bot.cli.main` in a fresh interpreter and reads ``sys.modules`` at the
end, so an import added at the top of a command module (or of something it imports) shows here.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

PLATFORMS = {"discord", "slack_bolt", "slack_sdk", "aiohttp"}
DATABASE = {"sqlalchemy", "alembic", "psycopg"}
SCHEDULER = {"apscheduler", "tzlocal"}
HEAVY = PLATFORMS | DATABASE | SCHEDULER
# What the reading commands need, and `--help` does not.
CONTENT = {"pydantic", "yaml", "babel", "rapidfuzz", "rich"}

PROBE = """
import json, sys
from bot.cli import main
try:
    code = main(sys.argv[1:])
except SystemExit as exit_:
    code = exit_.code
names = sorted({name.split(".")[0] for name in sys.modules})
sys.stderr.write("\\nMODULES " + json.dumps({"code": code, "modules": names}) + "\\n")
"""


def loaded(tmp_path: Path, *argv: str, **env: str) -> tuple[int, set[str]]:
    environ = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DISCORD_"))},
        "PYTHONPATH": str(ROOT),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'imports.sqlite3'}",
        **env,
    }
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *argv],
        cwd=ROOT,
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
    )
    line = done.stderr.rsplit("MODULES ", 1)[-1]
    result = json.loads(line)
    return int(result["code"] or 0), set(result["modules"])


def test_help_imports_no_heavy_library(tmp_path: Path) -> None:
    code, modules = loaded(tmp_path, "--help")
    assert code == 0
    assert not modules & HEAVY, sorted(modules & HEAVY)
    assert not modules & CONTENT, sorted(modules & CONTENT)


@pytest.mark.parametrize(
    "argv",
    [
        ("digest", "--date", "2023-11-17"),
        ("digest", "--date", "2023-11-19", "--lang", "fr", "--so-far", "--format", "json"),
        ("faq", "--lang", "fr"),
        ("story", "show"),
        ("story", "list"),
        ("who", "who is Sam Altman?"),
    ],
)
def test_reading_commands_import_no_platform_database_or_scheduler(
    tmp_path: Path, argv: tuple[str, ...]
) -> None:
    code, modules = loaded(tmp_path, *argv)
    assert code == 0
    assert not modules & HEAVY, sorted(modules & HEAVY)
    assert "digests" in modules and "pydantic" in modules  # the probe did see the work


def test_a_time_zone_setting_does_not_pull_the_admin_service_in(tmp_path: Path) -> None:
    """``DEPECHE_TIMEZONE`` is validated at load; a valid zone needs no service (nor SQL)."""
    code, modules = loaded(tmp_path, "digest", DEPECHE_TIMEZONE="Europe/Paris")
    assert code == 0 and not modules & HEAVY, sorted(modules & HEAVY)


def test_the_probe_sees_heavy_imports(tmp_path: Path) -> None:
    """The same probe on a command that needs the database does list it (the test can fail)."""
    code, modules = loaded(tmp_path, "subscriptions", "list")
    assert code == 0 and {"sqlalchemy", "alembic"} <= modules
