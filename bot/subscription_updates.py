"""The two subscription settings about a living story, shared by chat, CLI and file:

- ``corrections``: what becomes of a post already out when a new story revision changes its
  day: ``edit`` (default: the post is edited in place, with a line saying what changed),
  ``notice`` (a short follow-up post, a reply to it), ``off`` (left alone);
- ``breaking``: breaking-news alerts, ``on`` or ``off`` (default). Only live subscriptions get
  them: a replay never learns about today's news ahead of its own story day.
"""

from __future__ import annotations

from bot.outbox import SubscriptionInfo
from bot.store import CORRECTION_MODES
from digests.i18n import Messages

SWITCH = {"on": True, "off": False, "true": True, "false": False, "yes": True, "no": False}


def _messages(lang: str) -> Messages:
    return Messages("fr" if lang == "fr" else "en", domain="bot", package="bot")


def corrections_problem(value: str | None, lang: str = "en") -> str | None:
    """Why ``value`` is not a corrections mode (translated), or None when it is (or unset)."""
    if value is None or value in CORRECTION_MODES:
        return None
    _t = _messages(lang)
    return _t(
        "Unknown corrections setting %(value)s (choose from %(choices)s).",
        value=repr(value)[:40],
        choices=", ".join(CORRECTION_MODES),
    )


def parse_switch(value: object) -> bool | None:
    """``on``/``off`` (or a TOML boolean) -> bool; None for anything else."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        return SWITCH.get(value.strip().lower())
    return None


def describe_updates(info: SubscriptionInfo, lang: str = "en") -> str:
    """'; corrections: edit, breaking alerts: off' (translated), for list and status."""
    _t = _messages(lang)
    mode = {"edit": _t("edit the post"), "notice": _t("follow-up notice"), "off": _t("off")}.get(
        info.corrections, info.corrections
    )
    if not info.breaking:
        breaking = _t("off")
    elif info.mode == "live":
        breaking = _t("on")
    else:
        breaking = _t("on (never for a replay)")
    return _t(
        "; corrections: %(mode)s, breaking alerts: %(breaking)s", mode=mode, breaking=breaking
    )


def kind_label(kind: str, lang: str = "en") -> str:
    """' (correction)' / ' (breaking alert)' after a delivery in ``status``; '' for a post."""
    _t = _messages(lang)
    if kind == "correction":
        return _t(" (correction)")
    if kind == "breaking":
        return _t(" (breaking alert)")
    return ""


__all__ = ["corrections_problem", "describe_updates", "kind_label", "parse_switch"]
