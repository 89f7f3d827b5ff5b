"""UI strings of the Slack adapter: gettext domain ``slack`` in ``bot/locale/<lang>/LC_MESSAGES``.

Message ids are English; ``bot/locale/fr/LC_MESSAGES/slack.po`` translates them (managed with
``pybabel extract/update``, see ``docs/slack.md``).
"""

from __future__ import annotations

from digests.i18n import Messages


def messages(lang: str) -> Messages:
    return Messages(lang if lang in ("fr", "en") else "en", domain="slack", package="bot")  # type: ignore[arg-type]


def _(message: str) -> str:
    """Mark a string for extraction; translate it where it is shown with `messages(lang)`."""
    return message


# Delivery statuses shown by /digest send-now (translated where shown).
STATUS_WORDS = (_("pending"), _("sending"), _("sent"), _("failed"), _("skipped"))
