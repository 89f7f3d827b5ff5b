"""One settings path for every command, and `depeche faq`.

`digest`, `story`, `who` and `faq` find the stories directory exactly as `run` and
`subscriptions` do: config/settings.toml (or DEPECHE_CONFIG) < .env < the environment.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from bot.cli import main
from bot.settings import ENVIRONMENT
from digests.compose import compose_faq
from digests.render import render_text
from digests.story import StoryLibrary

STORIES = Path(__file__).parent / "stories"
SLUG = "minimal-example"


@pytest.fixture
def fresh(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    for name in (*ENVIRONMENT, "DEPECHE_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'cli.sqlite3'}")
    for name in ("from-file", "from-dotenv", "from-env"):
        (tmp_path / name).mkdir()
    shutil.copy(STORIES / "minimal.yaml", tmp_path / "from-file" / "minimal.yaml")
    return tmp_path


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    try:
        code = main(list(argv))
    except SystemExit as exit_:
        code = int(exit_.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


COMMANDS = [
    ("digest", "--story", SLUG, "--date", "2024-03-01"),
    ("story", "show", "--story", SLUG),
    ("who", "who runs Acme?", "--story", SLUG),
    ("faq", "--story", SLUG),
    ("subscriptions", "add", "--story", SLUG),
]


def test_every_command_reads_the_settings_file(fresh: Path, capsys) -> None:
    for argv in COMMANDS:  # not found without the settings file
        code, _out, err = run(capsys, *argv)
        assert code == 2 and f"unknown story '{SLUG}'" in err.lower(), (argv, err)
    (fresh / "config").mkdir()
    (fresh / "config" / "settings.toml").write_text('stories_dir = "from-file"\n')
    for argv in COMMANDS:
        code, out, err = run(capsys, *argv)
        assert code == 0, (argv, err)
    code, out, _ = run(capsys, "story", "list")
    assert code == 0 and f"{SLUG}: A small story" in out


def test_dotenv_beats_the_file_and_the_environment_beats_dotenv(
    fresh: Path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    (fresh / "config").mkdir()
    (fresh / "config" / "settings.toml").write_text('stories_dir = "from-file"\n')
    (fresh / ".env").write_text("DEPECHE_STORIES_DIR=from-dotenv\n")
    for argv in COMMANDS[:4]:  # from-dotenv is empty: the story is not found
        assert run(capsys, *argv)[0] == 2, argv
    monkeypatch.setenv("DEPECHE_STORIES_DIR", "from-file")
    for argv in COMMANDS[:4]:
        assert run(capsys, *argv)[0] == 0, argv
    monkeypatch.setenv("DEPECHE_STORIES_DIR", "from-env")
    assert run(capsys, "faq", "--story", SLUG)[0] == 2


def test_a_bad_setting_stops_every_command_the_same_way(fresh: Path, capsys) -> None:
    (fresh / "config").mkdir()
    (fresh / "config" / "settings.toml").write_text("[schedule]\ngrace_hours = -1\n")
    for argv in (("digest",), ("faq",), ("story", "show"), ("who", "x"), ("subscriptions", "list")):
        code, _out, err = run(capsys, *argv)
        assert code == 2 and "schedule.grace_hours in config/settings.toml" in err, argv


def test_faq_is_the_chat_faq(fresh: Path, capsys) -> None:
    story = StoryLibrary.load(None).get(None)
    for lang in ("fr", "en"):
        code, out, _ = run(capsys, "faq", "--lang", lang)
        assert code == 0
        assert out == render_text(compose_faq(story, lang))
        assert story.faq[0].question(lang).split()[0] in out and "Source" in out
    code, out, _ = run(capsys, "faq", "--format", "json")
    assert code == 0 and json.loads(out)["kind"] == "faq"
    code, out, _ = run(capsys, "faq", "--format", "markdown", "--lang", "fr")
    assert code == 0 and out.startswith("# ")
    code, _, err = run(capsys, "faq", "--lang", "de")
    assert code == 2 and "unknown language 'de'" in err
