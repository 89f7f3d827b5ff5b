"""Hostile story files never hang nor crash the bot: regressions from an adversarial review.

Each test runs the real `depeche` command in a subprocess with a CPU-time and memory limit
(``resource.setrlimit`` in ``preexec_fn``), so a regression shows as a killed process or a
timeout instead of taking the machine down.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import resource
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.cli import main
from bot.settings import ENVIRONMENT

ROOT = Path(__file__).resolve().parents[1]
CPU_SECONDS = 60
MEMORY_BYTES = 1024 * 1024 * 1024


def _limits(memory: int) -> Callable[[], None]:
    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_CPU, (CPU_SECONDS, CPU_SECONDS))
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))

    return apply


def depeche(
    tmp_path: Path, *argv: str, env: dict[str, str] | None = None, memory: int = MEMORY_BYTES
) -> subprocess.CompletedProcess[str]:
    environ = {
        key: value
        for key, value in os.environ.items()
        if key not in ENVIRONMENT and key != "DEPECHE_CONFIG"
    }
    environ.update(
        XDG_DATA_HOME=str(tmp_path / "data"),
        DATABASE_URL=f"sqlite:///{tmp_path / 'hostile.sqlite3'}",
        DEPECHE_STORIES_DIR=str(tmp_path / "stories"),
        **(env or {}),
    )
    return subprocess.run(
        [sys.executable, "-m", "bot", *argv],
        cwd=tmp_path,
        env=environ,
        capture_output=True,
        text=True,
        timeout=CPU_SECONDS * 3,  # wall clock on a loaded machine; CPU is what is limited
        preexec_fn=_limits(memory),
        check=False,
    )


def one_line_error(done: subprocess.CompletedProcess[str]) -> str:
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert done.returncode == 2, done.stderr[-2000:]
    assert "Traceback" not in done.stderr
    assert len(lines) == 1, done.stderr[-2000:]
    assert lines[0].startswith("depeche: error: ")
    return lines[0]


def alias_bomb(levels: int = 10, width: int = 10) -> str:
    """About 600 bytes that expand to width**levels (10^10) list items."""
    lines = ["a0: &a0 [" + ", ".join(["lol"] * width) + "]"]
    for level in range(1, levels):
        lines.append(f"a{level}: &a{level} [" + ", ".join([f"*a{level - 1}"] * width) + "]")
    return "slug: bomb\n" + "\n".join(lines) + "\n"


@pytest.fixture
def stories(tmp_path: Path) -> Path:
    directory = tmp_path / "stories"
    directory.mkdir()
    return directory


def test_alias_bomb_is_refused_quickly(tmp_path, stories):
    bomb = stories / "bomb.yaml"
    bomb.write_text(alias_bomb(), encoding="utf-8")
    assert len(bomb.read_bytes()) < 1024
    line = one_line_error(depeche(tmp_path, "story", "check", str(bomb)))
    assert "more than 200000 YAML nodes once aliases are expanded" in line


def test_recursive_alias_is_refused(tmp_path, stories):
    loop = stories / "loop.yaml"
    loop.write_text("slug: loop\nevents: &e [*e]\n", encoding="utf-8")
    line = one_line_error(depeche(tmp_path, "story", "check", str(loop)))
    assert "recursive alias" in line


def test_dev_zero_symlink_is_refused_unread(tmp_path, stories):
    link = stories / "zero.yaml"
    link.symlink_to("/dev/zero")
    line = one_line_error(depeche(tmp_path, "story", "check", str(link)))
    assert line.endswith("not a regular file (a device): cannot be a story")


def test_named_pipe_does_not_block(tmp_path, stories):
    pipe = stories / "pipe.yaml"
    os.mkfifo(pipe)
    line = one_line_error(depeche(tmp_path, "story", "check", str(pipe)))
    assert "not a regular file (a named pipe)" in line


def test_size_limit_is_checked_before_reading(tmp_path, stories):
    big = stories / "big.yaml"
    big.write_text("slug: big\n# " + "x" * 5000 + "\n", encoding="utf-8")
    done = depeche(tmp_path, "story", "check", str(big), env={"DEPECHE_STORY_MAX_BYTES": "4096"})
    line = one_line_error(done)
    assert "is 5013 bytes, over the story size limit of 4096 bytes" in line
    assert "DEPECHE_STORY_MAX_BYTES" in line


def test_bad_size_limit_names_the_variable(tmp_path, stories):
    done = depeche(tmp_path, "story", "list", env={"DEPECHE_STORY_MAX_BYTES": "lots"})
    line = one_line_error(done)  # through the settings, as every setting of every command
    assert "DEPECHE_STORY_MAX_BYTES: Input should be a valid integer" in line and "'lots'" in line


def test_out_of_memory_is_one_line_exit_2(tmp_path, stories):
    """A story within the size limit but too big for the memory the process may use."""
    huge = stories / "huge.yaml"
    huge.write_text("slug: huge\ntitle: '" + "x" * (96 * 1024 * 1024) + "'\n", encoding="utf-8")
    done = depeche(
        tmp_path,
        "story",
        "check",
        str(huge),
        env={"DEPECHE_STORY_MAX_BYTES": str(200 * 1024 * 1024)},
        memory=256 * 1024 * 1024,
    )
    assert "out of memory" in one_line_error(done)


def test_bad_files_in_the_stories_directory_are_skipped(tmp_path, stories):
    (stories / "bomb.yaml").write_text(alias_bomb(), encoding="utf-8")
    (stories / "zero.yaml").symlink_to("/dev/zero")
    os.mkfifo(stories / "pipe.yml")
    (stories / "dir.yaml").mkdir()

    listed = depeche(tmp_path, "story", "list")
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.startswith("openai-crisis-2023 (default)")
    assert "Traceback" not in listed.stderr
    for name in ("bomb.yaml", "zero.yaml", "pipe.yml", "dir.yaml"):
        assert name in listed.stderr

    ran = depeche(tmp_path, "run", "--once")
    assert ran.returncode == 0, ran.stderr[-2000:]
    assert "Traceback" not in ran.stderr
    ignored = [line for line in ran.stderr.splitlines() if "story file ignored" in line]
    assert len(ignored) == 4, ran.stderr[-2000:]
    assert "Day 1 — " in ran.stdout  # the bot ran with the shipped story (logs: warnings only)


# ------------------------------------------------------------------ Hypothesis: random YAML

STORY_KEYS = ("slug", "title", "summary", "people", "organisations", "events", "quotes", "faq")
SCALARS = st.one_of(
    st.sampled_from(
        ["2023-11-17", "2023-02-30", "fr", "en", "null", "~", "true", "1e400", "''", "ceo", "-"]
    ),
    st.text(max_size=12).map(json.dumps),  # a JSON string is a valid YAML flow scalar
    st.integers().map(str),
)


@st.composite
def random_yaml(draw: st.DrawFn) -> str:
    """Flow-style YAML with story-like keys, anchors and aliases (recursive ones included),
    sometimes followed by junk."""
    anchors: list[str] = []

    def node(depth: int) -> str:
        kinds = ["scalar", "alias", "seq", "map"] if depth < 5 else ["scalar", "alias"]
        kind = draw(st.sampled_from(kinds))
        if kind == "alias" and anchors:
            return "*" + draw(st.sampled_from(anchors))
        if kind in ("scalar", "alias"):
            return draw(SCALARS)
        anchor = ""
        if draw(st.booleans()):
            name = f"a{len(anchors)}"
            anchor = f"&{name} "
            anchors.append(name)  # before the children: an alias inside it is recursive
        count = draw(st.integers(0, 4))
        if kind == "seq":
            return anchor + "[" + ", ".join(node(depth + 1) for _ in range(count)) + "]"
        keys = [draw(st.sampled_from((*STORY_KEYS, "on", "fr", "en", "id"))) for _ in range(count)]
        return anchor + "{" + ", ".join(f"{key}: {node(depth + 1)}" for key in keys) + "}"

    keys = draw(st.lists(st.sampled_from(STORY_KEYS), max_size=len(STORY_KEYS)))
    text = "".join(f"{key}: {node(1)}\n" for key in keys)
    if draw(st.booleans()):
        text += draw(st.text(max_size=20))
    return text


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=random_yaml())
def test_story_check_answers_any_yaml(text: str) -> None:
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "random.yaml"
        path.write_text(text, encoding="utf-8", errors="surrogatepass")
        err = io.StringIO()
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            code = main(["story", "check", str(path)])
    assert code in (0, 2), err.getvalue()
    assert "Traceback" not in err.getvalue()
    if code == 2:
        assert err.getvalue().startswith("depeche: error: ")
