"""Helpers shared by CLI sub-commands: languages, dates, the story library."""

from __future__ import annotations

import argparse
import datetime as dt
import os
from pathlib import Path

from digests.errors import DepecheError
from digests.story import LANGS, Lang, Story, StoryLibrary
from digests.storyfile import DEFAULT_STORY_MAX_BYTES

DEFAULT_STORIES_DIR = Path("config/stories")


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
    return lang  # type: ignore[return-value]


def parse_date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{shown(value, 40)} is not a date (use YYYY-MM-DD, e.g. 2023-11-17)"
        ) from None


def stories_dir() -> Path:
    """Operators drop extra story files here (DEPECHE_STORIES_DIR; default config/stories/)."""
    return Path(os.environ.get("DEPECHE_STORIES_DIR") or DEFAULT_STORIES_DIR)


def story_max_bytes() -> int:
    """The story size limit (DEPECHE_STORY_MAX_BYTES; default 4 MiB), checked before reading."""
    raw = os.environ.get("DEPECHE_STORY_MAX_BYTES", "").strip()
    if not raw:
        return DEFAULT_STORY_MAX_BYTES
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 15 and int(raw) >= 1024):
        raise BadArgument(
            f"DEPECHE_STORY_MAX_BYTES: {shown(raw)} is not a size in bytes (at least 1024)"
        )
    return int(raw)


def load_library() -> StoryLibrary:
    return StoryLibrary.load(stories_dir(), max_bytes=story_max_bytes())


def add_story_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--story", metavar="SLUG", help="story to use (default: the shipped story)")


def story_from_args(args: argparse.Namespace) -> Story:
    return load_library().get(getattr(args, "story", None))
