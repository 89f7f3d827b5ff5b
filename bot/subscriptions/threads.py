"""The ``thread`` option of a subscription, checked once for chat, the CLI and the file.

- ``none`` (default): the digest is posted in the channel; its "more" part follows it (a
  second message on Discord, a reply in the post's thread on Slack).
- ``daily``: on Discord, each digest starts a thread named after the story and the day, and
  the "more" part goes in it; on Slack, the "more" part and later corrections are replies in
  the digest's thread (what Slack does for the "more" part in any case).

A Discord forum channel needs no option: a digest there is always a post of its own (a thread
titled with the story and the date), tagged with the forum's tags that name the story or the
language.
"""

from __future__ import annotations

from typing import Any

from bot.subscriptions.options import InvalidOption
from digests.i18n import Messages
from digests.story import Lang

NONE, DAILY_THREAD = "none", "daily"
THREAD_CHOICES = (NONE, DAILY_THREAD)
_ALIASES = {"off": NONE, "no": NONE, "non": NONE, "": NONE, "on": DAILY_THREAD, "yes": DAILY_THREAD, "oui": DAILY_THREAD, "quotidien": DAILY_THREAD}  # fmt: skip


def _messages(lang: str) -> Messages:
    return Messages("fr" if lang == "fr" else "en", domain="bot", package="bot")


def check_thread(value: Any, lang: str = "en") -> str:
    """``none`` or ``daily`` (a few yes/no words too); `InvalidOption` in ``lang`` otherwise."""
    if value is None or value is False:
        return NONE
    if value is True:
        return DAILY_THREAD
    text = str(value).strip().lower()
    text = _ALIASES.get(text, text)
    if text in THREAD_CHOICES:
        return text
    _t = _messages(lang)
    raise InvalidOption(
        _t(
            "Unknown thread option %(value)s (choose from %(choices)s).",
            value=repr(value),
            choices=", ".join(THREAD_CHOICES),
        )
    )


def describe_thread(thread: str, lang: Lang) -> str:
    """``, a thread per day`` when threaded, else ``''`` (the default is not shown)."""
    if thread != DAILY_THREAD:
        return ""
    _t = _messages(lang)
    return ", " + _t("a thread per day")
