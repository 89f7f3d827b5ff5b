"""Every `depeche ...` line of the README's "Using the command line" section runs as written.

The lines are read from README.md, so the test follows the doc: each runs in order (they share
one fresh database, as on a new user's machine) through a shell, from a directory laid out like
the project, and must end with the exit code its comment documents (``exit N``; 0 otherwise).
A line documented to run "until Ctrl-C" is started, awaited until it serves (its console
banner, or Slack's HTTP endpoint against the fake Slack when the line needs Slack tokens), then
interrupted with SIGINT, and must exit 0. A fixed ``--port`` is replaced by a free one (tests
never bind fixed ports).
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.fakes.slack_server import DEFAULT_BOT_TOKEN, DEFAULT_SIGNING_SECRET, FakeSlack
from tests.test_slack_e2e import free_port

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]

ROOT = Path(__file__).resolve().parents[1]
SECTION = "## Using the command line"


@dataclass(frozen=True)
class Line:
    command: str  # as written, continuation lines joined
    comment: str

    @property
    def expected(self) -> int:
        found = re.search(r"\bexit (\d+)", self.comment)
        return int(found.group(1)) if found else 0

    @property
    def serves(self) -> bool:
        return "until Ctrl-C" in self.comment


def readme_lines() -> list[Line]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split(SECTION, 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```console\n(.*?)```", section, re.S)
    assert block, "no console block in the README's command-line section"
    joined = re.sub(r"\\\n\s*", "", block.group(1))
    lines = []
    for raw in joined.splitlines():
        if not raw.startswith("$ depeche"):
            continue
        command, _, comment = raw[2:].partition("  #")
        lines.append(Line(command.strip(), comment.strip()))
    return lines


def test_the_readme_section_is_found_and_covers_every_command() -> None:
    lines = readme_lines()
    commands = {line.command.split()[1] for line in lines}
    assert commands >= {
        "digest", "story", "faq", "who", "simulate", "run", "subscriptions", "db", "discord",
    }  # fmt: skip


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """A project-like directory (config/, docs/, the shipped story) and a `depeche` on PATH."""
    work = tmp_path / "project"
    work.mkdir()
    shutil.copytree(ROOT / "config", work / "config")
    shutil.copytree(ROOT / "docs", work / "docs")
    shutil.copytree(ROOT / "digests" / "stories", work / "digests" / "stories")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    script = bin_dir / "depeche"
    script.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m bot "$@"\n')
    script.chmod(0o755)
    return work


def environment(work: Path) -> dict[str, str]:
    return {
        **{
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("SLACK_", "DISCORD_", "DEPECHE_", "DATABASE_URL"))
        },
        "PATH": f"{work.parent / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}",
        "PYTHONPATH": str(ROOT),
        "XDG_DATA_HOME": str(work.parent / "data"),  # the default SQLite file goes there
        "DEPECHE_TICK_SECONDS": "0.3",
    }


def wait_until(ready, process: subprocess.Popen[bytes], log: Path, what: str) -> None:
    deadline = time.monotonic() + 90
    while not ready():
        if process.poll() is not None:
            raise AssertionError(f"exited ({process.returncode}) before {what}:\n{log.read_text()}")
        if time.monotonic() > deadline:
            raise AssertionError(f"no {what}:\n{log.read_text()}")
        time.sleep(0.1)


def http_ok(url: str) -> bool:
    with (
        contextlib.suppress(OSError, urllib.error.URLError),
        urllib.request.urlopen(url, timeout=2) as res,
    ):
        return bool(res.status == 200)
    return False


def serve_then_interrupt(line: Line, work: Path, env: dict[str, str], log: Path) -> int:
    command = line.command
    port = None
    if "--port" in command:
        port = free_port()
        command = re.sub(r"--port \d+", f"--port {port}", command)
    with log.open("wb") as out:
        process = subprocess.Popen(
            ["bash", "-c", "exec " + command], cwd=work, env=env, stdout=out, stderr=out
        )
    try:
        if port is not None:
            wait_until(lambda: http_ok(f"http://127.0.0.1:{port}/healthz"), process, log, "HTTP")
        else:
            wait_until(lambda: "running on the" in log.read_text(), process, log, "banner")
        process.send_signal(signal.SIGINT)
        return process.wait(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


async def test_every_readme_command_runs_with_its_documented_exit_code(
    workdir: Path, tmp_path: Path
) -> None:
    env = environment(workdir)
    failures = []
    async with FakeSlack() as fake:
        for number, line in enumerate(readme_lines()):
            log = tmp_path / f"line-{number}.log"
            line_env = dict(env)
            if "SLACK_BOT_TOKEN" in line.comment:  # run it for real, against the fake Slack
                line_env.update(
                    SLACK_BOT_TOKEN=DEFAULT_BOT_TOKEN,
                    SLACK_SIGNING_SECRET=DEFAULT_SIGNING_SECRET,
                    SLACK_API_URL=fake.api_url,
                )
            if line.serves:
                code = await _in_thread(serve_then_interrupt, line, workdir, line_env, log)
            else:
                done = await _in_thread(
                    subprocess.run,
                    ["bash", "-c", line.command],
                    cwd=workdir,
                    env=line_env,
                    capture_output=True,
                    timeout=180,
                )
                log.write_bytes(done.stdout + done.stderr)
                code = done.returncode
            output = log.read_text(errors="replace")
            if code != line.expected or "Traceback" in output:
                failures.append(
                    f"$ {line.command}\n  exit {code}, documented {line.expected}\n{output[-1500:]}"
                )
            elif line.expected == 2:
                assert len(output.strip().splitlines()) == 1, output  # one line, says why
    assert not failures, "\n\n".join(failures)
    assert (tmp_path / "data" / "depeche" / "depeche.sqlite3").is_file()  # where the README says


async def _in_thread(function, *args, **kwargs):  # type: ignore[no-untyped-def]
    """Blocking process calls off the event loop: the fake Slack must keep answering."""
    import asyncio

    return await asyncio.to_thread(function, *args, **kwargs)
