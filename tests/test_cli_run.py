"""`depeche run` as a user starts it: the real process.

- Command-line flags win over config/settings.toml, .env and the environment, and validation
  judges the final values (`depeche run --slack-mode http --port P` needs no app token).
- On the console, digests go to standard output and logs to standard error (warnings only by
  default, ``-v`` for more); a second run says in plain words what is going on.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import aiohttp
import pytest

from tests.fakes.slack_server import DEFAULT_BOT_TOKEN, DEFAULT_SIGNING_SECRET, FakeSlack
from tests.test_slack_e2e import free_port

pytestmark = [pytest.mark.timeout(120)]

ROOT = Path(__file__).resolve().parents[1]


def environment(tmp: Path, **extra: str) -> dict[str, str]:
    """A fresh user's environment: no token, no DEPECHE_ setting, SQLite under ``tmp``."""
    return {
        **{
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("SLACK_", "DISCORD_", "DEPECHE_", "DATABASE_URL"))
        },
        "PYTHONPATH": str(ROOT),
        "XDG_DATA_HOME": str(tmp / "data"),
        "DATABASE_URL": f"sqlite:///{tmp / 'run.sqlite3'}",
        "DEPECHE_TICK_SECONDS": "0.3",
        **extra,
    }


def depeche(tmp: Path, *argv: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *argv],
        cwd=tmp,
        env=environment(tmp, **env),
        capture_output=True,
        text=True,
        timeout=90,
    )


async def healthy(url: str, process: asyncio.subprocess.Process, log: Path) -> None:
    """Wait for the HTTP endpoint to answer (or the process to die): an event, not a delay."""
    deadline = time.monotonic() + 60
    async with aiohttp.ClientSession() as http:
        while process.returncode is None:
            with contextlib.suppress(aiohttp.ClientError):
                async with http.get(url + "/healthz") as res:
                    if res.status == 200:
                        return
            assert time.monotonic() < deadline, log.read_text()
            await asyncio.sleep(0.1)
    raise AssertionError(f"depeche run exited with {process.returncode}:\n{log.read_text()}")


async def test_flags_win_over_settings_file_dotenv_and_environment(tmp_path: Path) -> None:
    """README, docs/slack.md: `depeche run --slack-mode http --port P`, with no app token and
    every other layer saying socket mode on another port."""
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "settings.toml").write_text('[slack]\nmode = "socket"\nport = 1\n')
    (tmp_path / ".env").write_text("SLACK_MODE=socket\nSLACK_PORT=2\n")
    port = free_port()
    log = tmp_path / "run.log"
    async with FakeSlack() as fake:
        env = environment(
            tmp_path,
            SLACK_BOT_TOKEN=DEFAULT_BOT_TOKEN,
            SLACK_SIGNING_SECRET=DEFAULT_SIGNING_SECRET,  # HTTP mode's secret; no SLACK_APP_TOKEN
            SLACK_API_URL=fake.api_url,
            SLACK_MODE="socket",
            SLACK_PORT="3",
        )
        with log.open("wb") as out:
            process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot", "run", "--slack-mode", "http", "--port", str(port),
                cwd=tmp_path, env=env, stdout=out, stderr=out,
            )  # fmt: skip
        try:
            await healthy(f"http://127.0.0.1:{port}", process, log)
        finally:
            if process.returncode is None:
                process.send_signal(signal.SIGINT)  # Ctrl-C
            code = await asyncio.wait_for(process.wait(), 30)
    text = log.read_text()
    assert code == 0, text
    assert "SLACK_APP_TOKEN" not in text and "Traceback" not in text


@pytest.mark.parametrize(
    ("argv", "env", "expected"),
    [
        (  # the flag asks for socket mode: the app token is needed, whatever SLACK_MODE says
            ("--slack-mode", "socket"),
            {"SLACK_MODE": "http", "SLACK_SIGNING_SECRET": "s"},
            "SLACK_APP_TOKEN is not set: Slack Socket Mode (--slack-mode socket)",
        ),
        (
            ("--slack-mode", "http"),
            {"SLACK_APP_TOKEN": "xapp-1"},
            "SLACK_SIGNING_SECRET is not set: Slack HTTP mode (--slack-mode http)",
        ),
        (
            ("--port", "70000"),
            {"SLACK_PORT": "3000"},
            "--port: Input should be less than or equal to 65535 (got 70000)",
        ),
    ],
)
def test_validation_judges_the_final_values(
    tmp_path: Path, argv: tuple[str, ...], env: dict[str, str], expected: str
) -> None:
    done = depeche(tmp_path, "run", "--once", *argv, SLACK_BOT_TOKEN="xoxb-1", **env)
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and expected in lines[0], done.stderr
    assert done.stdout == ""


def test_console_run_digests_on_stdout_logs_on_stderr(tmp_path: Path) -> None:
    first = depeche(tmp_path, "run", "--once")
    assert first.returncode == 0, first.stderr
    assert "Day 1 — " in first.stdout and "Jour 1 — " in first.stdout
    assert first.stderr == ""  # warnings only by default, and there are none
    assert not re.search(r" (INFO|DEBUG|WARNING) ", first.stdout)

    verbose = depeche(tmp_path, "-v", "run", "--once")
    assert verbose.returncode == 0
    assert " INFO " in verbose.stderr and "one tick" in verbose.stderr
    assert not re.search(r" (INFO|DEBUG|WARNING) ", verbose.stdout)
    assert " DEBUG " not in verbose.stderr
    assert " DEBUG " in depeche(tmp_path, "run", "-vv", "--once").stderr


def test_second_console_run_says_what_is_going_on(tmp_path: Path) -> None:
    first = depeche(tmp_path, "run", "--once")
    assert first.returncode == 0 and "Created a console subscription" in first.stdout
    second = depeche(tmp_path, "run", "--once")
    assert second.returncode == 0, second.stderr
    out = second.stdout
    assert "Day 1" not in out  # nothing twice
    assert "console subscription made by an earlier run is still in the database" in out
    # When, in words (Babel): tomorrow's date, in full, and story day 2.
    from bot.admin import AdminService
    from bot.store import Store
    from digests.formatting import format_day
    from digests.story import StoryLibrary

    store = Store.open(f"sqlite:///{tmp_path / 'run.sqlite3'}", upgrade=False)
    try:
        [info] = asyncio.run(AdminService(store, StoryLibrary.load(None)).list())
    finally:
        store.dispose()
    assert info.next_run_local is not None
    assert (
        f"Its next post, day 2 of the story (November 18, 2023), comes on "
        f"{format_day(info.next_run_local.date(), 'en')} at "
    ) in out
    assert "To see the whole story now: python -m bot simulate\n" in out  # as it was started
    assert f"subscriptions remove --id {info.id}" in out
    assert f"rm {(tmp_path / 'run.sqlite3').resolve()}" in out
    assert second.stderr == ""


def test_next_post_says_paused_finished_due_or_when() -> None:
    import datetime as dt

    from bot.admin import SubscriptionInfo
    from bot.console.welcome import next_post
    from digests.story import StoryLibrary

    story = StoryLibrary.load(None).get(None)
    now = dt.datetime(2026, 11, 28, 9, 0, tzinfo=dt.UTC)
    info = SubscriptionInfo(
        id=3, story_slug=story.slug, platform="console", workspace_id="", channel_id="console",
        lang="both", post_time="08:25", timezone="Europe/Paris", mode="replay",
        start_date=dt.date(2026, 11, 27), active=True, paused_reason=None, managed_by="cli",
        created_by=None, configured_from=None,
        next_run_at=dt.datetime(2026, 11, 29, 7, 25, tzinfo=dt.UTC),
    )  # fmt: skip
    assert next_post(info, story, now, once=True) == (
        "Its next post, day 3 of the story (November 19, 2023), comes on Sunday, "
        "November 29, 2026 at 8:25\u202fAM (Europe/Paris); nothing is printed until then."
    )  # Babel (CLDR): a narrow no-break space before AM
    assert next_post(info, story, now).endswith("Leave this running, or stop it with Ctrl-C.")
    late = dataclasses.replace(info, next_run_at=now - dt.timedelta(minutes=1))
    assert "is due now" in next_post(late, story, now)
    over = dataclasses.replace(info, start_date=dt.date(2026, 11, 20))
    assert "reached the end of the story" in next_post(over, story, now)
    paused = dataclasses.replace(info, active=False, paused_reason="holidays")
    assert next_post(paused, story, now).startswith("It is paused (holidays): ")
    assert "subscriptions resume --id 3" in next_post(paused, story, now)
