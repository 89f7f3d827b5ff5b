"""How list and status show a subscription's alerts (see `bot.alerts`)."""

from __future__ import annotations

from digests.i18n import Messages


def describe_alerts(alerts: tuple[tuple[str, str], ...], lang: str) -> str:
    """``, alerts: sam-altman → 1234…`` (subject ids and role / group ids), or ''."""
    if not alerts:
        return ""
    _t = Messages("fr" if lang == "fr" else "en", domain="bot", package="bot")
    shown = ", ".join(f"{subject} → {target}" for subject, target in alerts)
    return ", " + _t("alerts: %(alerts)s", alerts=shown)
