"""``/digest updates [#channel] corrections:edit|notice|off breaking:on|off`` on Slack: the
living-story settings of a channel's subscriptions, through the admin service (admins only,
checked by the caller). French keywords work too (``correctifs:``, ``alertes:``)."""

from __future__ import annotations

from dataclasses import dataclass

from bot.subscription_updates import parse_switch

CORRECTIONS_KEYS = ("corrections", "correction", "correctifs", "correctif")
BREAKING_KEYS = ("breaking", "alerts", "alertes", "alerte")
CORRECTIONS_VALUES = {
    "edit": "edit", "modifier": "edit", "notice": "notice", "message": "notice",
    "suivi": "notice", "off": "off", "non": "off", "aucun": "off",
}  # fmt: skip
SWITCH_FR = {"oui": "on", "non": "off"}


@dataclass(frozen=True)
class UpdateWords:
    corrections: str | None = None
    breaking: bool | None = None
    unknown: tuple[str, ...] = ()

    @property
    def empty(self) -> bool:
        return self.corrections is None and self.breaking is None


def parse_update_words(words: tuple[str, ...]) -> UpdateWords:
    """``corrections:notice``, ``breaking=on``... -> the settings; the rest is kept unknown."""
    corrections: str | None = None
    breaking: bool | None = None
    unknown: list[str] = []
    for word in words:
        key, separator, value = word.replace("=", ":").partition(":")
        key, value = key.strip().casefold(), value.strip().casefold()
        if separator and key in CORRECTIONS_KEYS and value in CORRECTIONS_VALUES:
            corrections = CORRECTIONS_VALUES[value]
        elif (
            separator
            and key in BREAKING_KEYS
            and (switch := parse_switch(SWITCH_FR.get(value, value))) is not None
        ):
            breaking = switch
        else:
            unknown.append(word)
    return UpdateWords(corrections, breaking, tuple(unknown))


__all__ = ["UpdateWords", "parse_update_words"]
