"""Forgiving parsing of slash command text (pure functions; the commands translate failures).

Slack sends channels picked from the autocomplete as ``<#C0123|general>`` (or ``<#C0123|>``)
when the command is declared with ``should_escape: true`` (see ``config/slack-manifest.yaml``).
When an app's commands are not escaped, the same channel arrives as plain ``#general``: it is
kept as a *name* (``DigestArgs.channel_name``) that the commands resolve to an id. A bare
channel id works too. Whatever the setting, Slack HTML-escapes ``&``, ``<`` and ``>`` in the
text (``&amp;``, ``&lt;``, ``&gt;``); `unescape` turns escaped text back into what was typed
(``<@U1|bob>`` -> ``@bob``, ``<!channel>`` -> ``@channel``, ``<https://x|x>`` -> ``x``).

>>> args = parse_digest("subscribe <#C0123ABCD|news> both 7h30 Europe/Paris")
>>> args.channel, args.lang, args.time, args.timezone
('C0123ABCD', 'both', '07:30', 'Europe/Paris')
>>> args = parse_digest("subscribe en days=mon-fri compact")
>>> args.days, args.cadence, args.format
('mon-fri', None, 'compact')
>>> args = parse_digest("subscribe weekly dimanche 18h")
>>> args.days, args.cadence, args.time
('dimanche', 'weekly', '18:00')
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from digests.options import (
    OptionError,
    looks_like_date,
    looks_like_time,
    parse_date_option,
    parse_time_option,
)
from digests.weekdays import parse_days

LANG_WORDS = {
    "fr": "fr", "french": "fr", "français": "fr", "francais": "fr", "fra": "fr",
    "en": "en", "english": "en", "anglais": "en", "eng": "en",
    "both": "both", "les-deux": "both", "deux": "both", "fr+en": "both", "en+fr": "both", "bilingue": "both", "bilingual": "both",
}  # fmt: skip
ACTIONS = {
    "preview": "preview", "apercu": "preview", "aperçu": "preview", "voir": "preview",
    "subscribe": "subscribe", "sub": "subscribe", "abonner": "subscribe", "abonnement": "subscribe", "s'abonner": "subscribe",
    "unsubscribe": "unsubscribe", "unsub": "unsubscribe", "desabonner": "unsubscribe", "désabonner": "unsubscribe", "se-desabonner": "unsubscribe",
    "pause": "pause", "suspendre": "pause", "stop": "pause",
    "resume": "resume", "reprendre": "resume", "restart": "resume",
    "list": "list", "liste": "list", "ls": "list",
    "status": "status", "statut": "status", "etat": "status", "état": "status",
    "send-now": "send-now", "sendnow": "send-now", "send_now": "send-now", "send": "send-now", "envoyer": "send-now", "maintenant": "send-now",
    "help": "help", "aide": "help", "?": "help",
    "me": "me", "moi": "me",
    "updates": "updates", "corrections": "updates", "alertes": "updates", "correctifs": "updates",
}  # fmt: skip

CADENCE_WORDS = {
    "daily": "daily", "quotidien": "daily", "quotidienne": "daily", "chaque-jour": "daily",
    "weekly": "weekly", "hebdo": "weekly", "hebdomadaire": "weekly",
}  # fmt: skip
FORMAT_WORDS = {"compact": "compact", "full": "full", "complet": "full", "complete": "full"}
# key=value options: days=mon-fri, cadence=weekly, format=compact (and their French names).
OPTION_KEYS = {
    "days": "days", "jours": "days", "day": "days", "jour": "days",
    "cadence": "cadence", "rythme": "cadence",
    "format": "format",
}  # fmt: skip

_THREAD_RE = re.compile(r"^(?:thread|fil)(?:=(.*))?$", re.IGNORECASE)
_CHANNEL_RE = re.compile(r"^<#([CGD][A-Z0-9]{2,})(?:\|[^>]*)?>$")
_CHANNEL_NAME_RE = re.compile(r"^#([a-z0-9][a-z0-9_\-]{0,79})$", re.IGNORECASE)
_ESCAPED_RE = re.compile(r"<([^<>]*)>")
_CHANNEL_ID_RE = re.compile(r"^[CG][A-Z0-9]{6,}$")
_TZ_RE = re.compile(
    r"^[A-Za-z_]+(?:/[A-Za-z0-9_+\-]+)+$|^(?:UTC|GMT|Etc/[A-Za-z0-9+\-]+)$", re.IGNORECASE
)


def tokens(text: str) -> list[str]:
    return [token for token in (text or "").split() if token]


def unescape_entities(text: str) -> str:
    """Undo Slack's HTML escaping of ``&``, ``<``, ``>`` (``&amp;`` last, so ``&amp;lt;``
    stays ``&lt;``)."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _readable(inner: str) -> str:
    """The text shown for one ``<...>`` Slack escape."""
    target, _, label = inner.partition("|")
    if target.startswith("@"):  # <@U123|bob> (or <@U123>)
        return "@" + (label or target[1:])
    if target.startswith("#"):  # <#C123|general>
        return "#" + (label or target[1:])
    if target.startswith("!"):  # <!channel>, <!here>, <!subteam^S1|@team>, <!date^...|text>
        if label:
            return label
        return "@" + target[1:].split("^", 1)[0]
    return label or target  # <https://x|label>, <mailto:a@b|a@b>, <https://x>


def unescape(text: str) -> str:
    """Slash command text as the user typed it: escapes made readable, entities decoded.

    >>> unescape("<@U1|bob> &amp; <!here> &lt;3 <https://x.org|x.org> <#C1|news>")
    '@bob & @here <3 x.org #news'
    """
    return unescape_entities(_ESCAPED_RE.sub(lambda match: _readable(match.group(1)), text or ""))


def parse_channel_name(token: str) -> str | None:
    """``#general`` (commands not escaped by Slack) -> ``general``."""
    match = _CHANNEL_NAME_RE.match(token)
    return match.group(1).lower() if match else None


def parse_channel(token: str) -> str | None:
    match = _CHANNEL_RE.match(token)
    if match:
        return match.group(1)
    if _CHANNEL_ID_RE.match(token):
        return token
    return None


def parse_lang(token: str) -> str | None:
    return LANG_WORDS.get(token.casefold())


def parse_time(token: str) -> str | None:
    """``8``, ``8h``, ``08:00``, ``7h30``, ``7.30``, ``7pm``, ``7:15am`` -> ``HH:MM`` (the core
    parser, `digests.options.parse_time_option`); None when not a valid time."""
    if not looks_like_time(token):
        return None
    try:
        return parse_time_option(token)
    except OptionError:
        return None


def parse_timezone(token: str) -> str | None:
    return token if _TZ_RE.match(token) else None


def parse_date(token: str) -> dt.date | bool | None:
    """A date, None when the token is not date-shaped, False when date-shaped but invalid
    (trailing garbage included: ``2023-11-17x``). The core parser decides."""
    if not looks_like_date(token):
        return None
    try:
        return parse_date_option(token)
    except OptionError:
        return False


@dataclass(frozen=True)
class DigestArgs:
    action: str | None
    channel: str | None = None
    lang: str | None = None
    time: str | None = None
    timezone: str | None = None
    date: dt.date | None = None
    unknown: tuple[str, ...] = ()
    bad_date: str | None = None
    bad_time: str | None = None
    channel_name: str | None = None  # "#general" sent unescaped: resolved by the commands
    # Days of the week (as typed, checked by the admin service), cadence and format words.
    days: str | None = None
    cadence: str | None = None
    format: str | None = None
    thread: str | None = None  # "thread=daily" / "fil=quotidien": checked by the admin service


def parse_digest(text: str) -> DigestArgs:
    """``/digest ACTION [args in any order]``; unknown pieces are kept for the usage message."""
    words = tokens(text)
    if not words:
        return DigestArgs(action=None)
    action = ACTIONS.get(unescape(words[0]).casefold())
    if action is None:
        return DigestArgs(action="unknown", unknown=(unescape(words[0]),))
    channel = lang = time = timezone = None
    date: dt.date | None = None
    unknown: list[str] = []
    bad_date = bad_time = channel_name = thread = None
    options: dict[str, str] = {}
    for raw in words[1:]:
        if channel is None and channel_name is None and (found := parse_channel(raw)):
            channel = found
            continue
        word = unescape(raw)
        if thread is None and (option := _THREAD_RE.match(word)):
            thread = option.group(1) if option.group(1) is not None else "daily"
        elif channel is None and channel_name is None and (found := parse_channel_name(word)):
            channel_name = found
        elif lang is None and (found := parse_lang(word)):
            lang = found
        elif "=" in word and (key := OPTION_KEYS.get(word.split("=", 1)[0].casefold())):
            if key in options:
                unknown.append(word)
            else:
                options[key] = word.split("=", 1)[1]
        elif "cadence" not in options and (found := CADENCE_WORDS.get(word.casefold())):
            options["cadence"] = found
        elif "format" not in options and (found := FORMAT_WORDS.get(word.casefold())):
            options["format"] = found
        elif "days" not in options and _is_days(word):
            options["days"] = word
        elif looks_like_time(word):
            if time is None and (found := parse_time(word)):
                time = found
            else:
                bad_time = word
        elif (parsed := parse_date(word)) is not None:
            if parsed is False:
                bad_date = word
            elif date is None:
                date = parsed  # type: ignore[assignment]
            else:
                unknown.append(word)
        elif timezone is None and (found := parse_timezone(word)):
            timezone = found
        else:
            unknown.append(word)
    return DigestArgs(
        action, channel, lang, time, timezone, date, tuple(unknown), bad_date, bad_time,
        channel_name, options.get("days"), options.get("cadence"), options.get("format"),
        thread,
    )  # fmt: skip


def _is_days(word: str) -> bool:
    """A bare word that names days (``lundi``, ``mon-fri``, ``weekdays``)."""
    try:
        parse_days(word)
    except OptionError:
        return False
    return True


def split_reply_lang(text: str, *, anywhere: bool = False) -> tuple[str | None, str]:
    """A ``fr``/``en`` that chooses the reply language: the first or last word (or any word
    when ``anywhere``), so that "qui est en charge ?" keeps its "en"."""
    words = tokens(text)
    if not words:
        return None, ""
    candidates = range(len(words)) if anywhere else sorted({0, len(words) - 1})
    for index in candidates:
        if words[index].lower() in ("fr", "en") and (len(words) > 1 or anywhere):
            lang = words[index].lower()
            return lang, " ".join(words[:index] + words[index + 1 :])
    return None, " ".join(words)
