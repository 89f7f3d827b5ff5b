"""Addresses of the web side's pages, for anything that links to them (the web side itself,
digests posted to Discord and Slack). Light: imports no web framework."""

from __future__ import annotations

import datetime as dt


def story_path(slug: str, lang: str) -> str:
    return f"/{lang}/{slug}/"


def day_path(slug: str, lang: str, day: dt.date) -> str:
    """The permanent page of one story day: ``/en/openai-crisis-2023/2023-11-18/``."""
    return f"/{lang}/{slug}/{day.isoformat()}/"


def day_url(public_url: str, slug: str, lang: str, day: dt.date) -> str | None:
    """The day page's public address, or None when no public URL is configured."""
    return public_url.rstrip("/") + day_path(slug, lang, day) if public_url else None
