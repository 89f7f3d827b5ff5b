"""`depeche digest` and `depeche story`: output, exit codes, one-line errors without traceback."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli import main

STORIES = Path(__file__).parent / "stories"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    try:
        code = main(list(argv))
    except SystemExit as exit_:  # argparse rejects bad arguments by exiting
        code = int(exit_.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def test_digest_in_english(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "digest", "--date", "2023-11-17", "--lang", "en")
    assert code == 0
    assert out.startswith("Crisis at OpenAI\nDay 1 — Friday, November 17, 2023\n")
    assert "OpenAI fires CEO Sam Altman" in out


def test_digest_json_and_markdown(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "digest", "--date", "2023-11-18", "--lang", "fr", "--format", "json")
    assert code == 0
    payload = json.loads(out)
    assert payload["date"] == "2023-11-18" and payload["lang"] == "fr"
    assert payload["sections"][0]["heading"] == ""  # the lead
    assert payload["sections"][1]["heading"] == "Aussi aujourd’hui"
    assert payload["more"]["sections"][-1]["heading"] == "Qui est qui"
    code, out, _ = run(
        capsys, "digest", "--date", "2023-11-18", "--lang", "fr", "--format", "markdown"
    )
    assert code == 0 and out.startswith("# Crise chez OpenAI\n")


def test_digest_so_far(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "digest", "--date", "2023-11-19", "--lang", "en", "--so-far")
    assert code == 0 and "The story so far, as of November 19, 2023" in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["digest", "--date", "2023-11-31"], "'2023-11-31' is not a date"),
        (["digest", "--date", "2023-11-25"], "no events on November 25, 2023"),
        (["digest", "--lang", "de"], "unknown language 'de'"),
        (["digest", "--story", "nope"], "unknown story 'nope'"),
        (["story", "check", "/nonexistent.yaml"], "/nonexistent.yaml: file not found"),
    ],
)
def test_bad_input_exits_2_with_one_line(
    capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    code, _, err = run(capsys, *argv)
    assert code == 2
    assert message in err
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_story_check_lists_every_error(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    text = (STORIES / "minimal.yaml").read_text(encoding="utf-8")
    broken = tmp_path / "broken.yaml"
    broken.write_text(
        text.replace("person: ada", "person: zed").replace("date: 2024-03-01", "date: 2024-02-30")
    )
    code, out, err = run(capsys, "story", "check", str(broken))
    assert code == 2
    assert f"2 errors in story file {broken}" in err
    assert "unknown person id 'zed'" in err and "'2024-02-30' is not a date that exists" in err
    code, out, _ = run(capsys, "story", "check", str(STORIES / "minimal.yaml"))
    assert code == 0 and "OK" in out


def test_story_show_and_extra_stories_directory(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "minimal.yaml").write_text((STORIES / "minimal.yaml").read_text(encoding="utf-8"))
    (tmp_path / "broken.yaml").write_text("slug: [")
    monkeypatch.setenv("DEPECHE_STORIES_DIR", str(tmp_path))
    code, out, err = run(capsys, "story", "list")
    assert code == 0
    assert "openai-crisis-2023 (default)" in out and "minimal-example" in out
    assert "broken.yaml" in err  # an invalid file is reported, not fatal
    code, out, _ = run(capsys, "story", "show", "--lang", "fr", "--story", "minimal-example")
    assert code == 0 and "Ada quitte Acme" in out


def test_python_dash_m_bot_is_the_same_program() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bot", "digest", "--date", "2023-11-17", "--lang", "fr"],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "Jour 1 — vendredi 17 novembre 2023" in result.stdout
