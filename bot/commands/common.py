"""Helpers shared by CLI sub-commands: languages, dates, settings, the story library.

Light on purpose: `bot.cli` imports every command module to build `depeche --help`, so nothing
here (nor in a command module's top level) imports more than the standard library and
`digests.errors`; heavy libraries are imported inside the handlers.
"""

from __future__ import annotations

import argparse
import datetime as dt
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from digests.errors import DepecheError

if TYPE_CHECKING:
    from bot.settings import Settings
    from digests.story import Lang, Story, StoryLibrary

LANGS = ("fr", "en")  # digests.story.LANGS, without importing the story model for --help


class BadArgument(DepecheError):
    """A command-line argument that cannot be used (exit code 2)."""


class ServiceFailure(DepecheError):
    """A remote service failed (e.g. a 5xx from Discord): one line, exit code 1."""

    exit_code = 1


def shown(value: str, limit: int = 60) -> str:
    """``value`` quoted for a message: control characters escaped, long values cut."""
    text = repr(value if len(value) <= limit else value[:limit] + "…")
    return text


def snowflake(value: str) -> str:
    """argparse type: a Discord id (a number of up to 20 digits)."""
    text = value.strip()
    if not (text.isascii() and text.isdigit() and 1 <= len(text) <= 20):
        raise argparse.ArgumentTypeError(
            f"{shown(value)} is not a Discord id (a number, e.g. 123456789012345678)"
        )
    return text


def parse_lang(value: str) -> Lang:
    lang = value.strip().lower()[:2]
    if lang not in LANGS:
        raise argparse.ArgumentTypeError(f"unknown language '{value}' (use fr or en)")
    return "fr" if lang == "fr" else "en"


def parse_date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{shown(value, 40)} is not a date (use YYYY-MM-DD, e.g. 2023-11-17)"
        ) from None


def load_settings(flags: Mapping[str, object] | None = None) -> Settings:
    """The one settings path of every command: config/settings.toml (or DEPECHE_CONFIG) <
    .env < the environment < command-line ``flags`` (``{"--port": 8080}``), validated on the
    final values (`bot.settings.load_settings`)."""
    from bot import settings

    return settings.load_settings(flags=flags)


def stories_dir() -> Path:
    """Operators drop extra story files here (``stories_dir`` in config/settings.toml,
    DEPECHE_STORIES_DIR; default config/stories/)."""
    return load_settings().stories_dir


def story_max_bytes() -> int:
    """The story size limit (``story_max_bytes``, DEPECHE_STORY_MAX_BYTES; default 4 MiB),
    checked before reading."""
    return load_settings().story_max_bytes


def load_library(settings: Settings | None = None) -> StoryLibrary:
    from digests.story import StoryLibrary

    settings = settings or load_settings()
    return StoryLibrary.load(settings.stories_dir, max_bytes=settings.story_max_bytes)


def add_story_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--story", metavar="SLUG", help="story to use (default: the shipped story)")


def story_from_args(args: argparse.Namespace) -> Story:
    return load_library().get(getattr(args, "story", None))
