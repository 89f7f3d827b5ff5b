"""The web side's own words, in French and English (gettext domain ``web``).

Templates hold no literal text: every word they show comes from `labels` (or from the
documents `digests.compose` builds, already translated), so catalog extraction sees them all.
"""

from __future__ import annotations

from functools import cache

from digests.i18n import Messages
from digests.story import Lang


def messages(lang: str) -> Messages:
    return Messages(lang if lang in ("fr", "en") else "en", domain="web", package="bot")  # type: ignore[arg-type]


@cache
def labels(lang: Lang) -> dict[str, str]:
    _t = messages(lang)
    return {
        "language_name": _t("English"),
        "other_language": _t("Version française"),
        "stories": _t("Stories"),
        "story": _t("The story"),
        "days": _t("Day by day"),
        "faq": _t("Questions and answers"),
        "people": _t("People"),
        "roles": _t("Roles over time"),
        "role": _t("Role"),
        "role_start": _t("Start"),
        "role_end": _t("End"),
        "no_roles": _t("No role recorded in the story so far."),
        "previous_day": _t("Previous day"),
        "next_day": _t("Next day"),
        "feeds": _t("Follow this story"),
        "atom": _t("Atom feed"),
        "json_feed": _t("JSON Feed"),
        "picture_alt": _t("The story's events on a time axis, up to the day shown"),
        "not_started": _t("The story has not started yet."),
        "console": _t("Console"),
        "skip": _t("Skip to the content"),
        "footer": _t("Dépêche: a developing story, day by day."),
    }
