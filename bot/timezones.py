"""IANA time zones as people type them: the canonical name, close names, a clear refusal.

Shared by the admin service (chat and command line) and the settings (``DEPECHE_TIMEZONE``);
it depends on no service, so settings can use it without importing the admin service.
"""

from __future__ import annotations

from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from digests.i18n import Messages


@cache
def zones() -> tuple[str, ...]:
    """Every IANA zone name this system knows, sorted."""
    return tuple(sorted(available_timezones()))


@cache
def _zones_folded() -> dict[str, str]:
    return {zone.casefold(): zone for zone in zones()}


def canonical_zone(name: str) -> str | None:
    """The zone's canonical spelling (``europe/paris`` -> ``Europe/Paris``), or None."""
    canonical = _zones_folded().get(name.strip().casefold())
    if canonical is not None:
        return canonical
    try:
        ZoneInfo(name)  # links the list does not include (e.g. "UTC" spellings)
        return name
    except (ZoneInfoNotFoundError, ValueError):
        return None


def suggest_timezones(name: str, limit: int = 3) -> list[str]:
    """Up to ``limit`` zone names close to ``name``."""
    from rapidfuzz import fuzz, process

    query = name.strip().replace(" ", "_")
    matches = process.extract(query, zones(), scorer=fuzz.WRatio, limit=limit, score_cutoff=60)
    return [match[0] for match in matches]


def unknown_zone(name: str, lang: str, suggestions: list[str]) -> str:
    """The one-line refusal of an unknown zone, in ``lang``."""
    _t = Messages("fr" if lang == "fr" else "en", domain="bot", package="bot")
    text = _t("Unknown time zone %(zone)s.", zone=repr(name))
    if suggestions:
        return text + " " + _t("Did you mean: %(names)s?", names=", ".join(suggestions))
    return text + " " + _t("Use an IANA name such as Europe/Paris or America/New_York.")
