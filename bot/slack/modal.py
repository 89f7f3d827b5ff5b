"""The ``/digest`` modal: subscribe a channel with pickers instead of arguments.

Static selects only (no options endpoint to host): the language, a post time every half hour,
and a time zone from a curated list grouped by region (the user's own zone first). Slack allows
100 options per select and per option group, which the list respects.
"""

from __future__ import annotations

import json
from typing import Any

from bot.slack.i18n import messages

CALLBACK_ID = "depeche_subscribe"
BLOCK_CHANNEL, BLOCK_LANG, BLOCK_TIME, BLOCK_TZ = "channel", "lang", "time", "tz"
BLOCK_DAYS, BLOCK_CADENCE, BLOCK_FORMAT = "days", "cadence", "format"
ACTION = "value"

TIMES = tuple(f"{hour:02d}:{minute:02d}" for hour in range(24) for minute in (0, 30))
TIMEZONES: dict[str, tuple[str, ...]] = {
    "Europe": (
        "Europe/Paris", "Europe/Brussels", "Europe/Luxembourg", "Europe/Zurich", "Europe/Monaco",
        "Europe/London", "Europe/Dublin", "Europe/Lisbon", "Europe/Madrid", "Europe/Berlin",
        "Europe/Amsterdam", "Europe/Rome", "Europe/Vienna", "Europe/Stockholm", "Europe/Oslo",
        "Europe/Copenhagen", "Europe/Helsinki", "Europe/Warsaw", "Europe/Prague", "Europe/Athens",
        "Europe/Bucharest", "Europe/Istanbul", "Europe/Kyiv", "Europe/Moscow",
    ),
    "America": (
        "America/Montreal", "America/Toronto", "America/New_York", "America/Chicago",
        "America/Denver", "America/Phoenix", "America/Los_Angeles", "America/Vancouver",
        "America/Anchorage", "America/Halifax", "America/St_Johns", "America/Mexico_City",
        "America/Bogota", "America/Lima", "America/Santiago", "America/Sao_Paulo",
        "America/Argentina/Buenos_Aires", "America/Martinique", "America/Guadeloupe",
        "America/Cayenne", "America/Port-au-Prince", "Pacific/Honolulu",
    ),
    "Africa": (
        "Africa/Casablanca", "Africa/Algiers", "Africa/Tunis", "Africa/Dakar", "Africa/Abidjan",
        "Africa/Lagos", "Africa/Kinshasa", "Africa/Douala", "Africa/Cairo", "Africa/Nairobi",
        "Africa/Johannesburg", "Indian/Reunion", "Indian/Mayotte", "Indian/Mauritius",
    ),
    "Asia / Pacific": (
        "Asia/Dubai", "Asia/Tehran", "Asia/Karachi", "Asia/Kolkata", "Asia/Dhaka",
        "Asia/Bangkok", "Asia/Ho_Chi_Minh", "Asia/Singapore", "Asia/Hong_Kong", "Asia/Shanghai",
        "Asia/Taipei", "Asia/Seoul", "Asia/Tokyo", "Asia/Jerusalem", "Asia/Beirut",
        "Australia/Perth", "Australia/Adelaide", "Australia/Brisbane", "Australia/Sydney",
        "Pacific/Noumea", "Pacific/Tahiti", "Pacific/Auckland",
    ),
    "UTC": ("UTC",),
}  # fmt: skip


def _text(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text[:75], "emoji": False}


def _option(label: str, value: str) -> dict[str, Any]:
    return {"text": _text(label), "value": value}


def subscribe_view(
    *, lang: str, channel_id: str, team_id: str, user_tz: str | None, origin_channel: str
) -> dict[str, Any]:
    _t = messages(lang)
    langs = [("fr", _t("French")), ("en", _t("English")), ("both", _t("French and English"))]
    groups: dict[str, tuple[str, ...]] = dict(TIMEZONES)
    known = {zone for zones in TIMEZONES.values() for zone in zones}
    if user_tz and user_tz not in known:
        groups = {_t("Your time zone"): (user_tz,), **groups}
    initial_tz = user_tz if user_tz else "Europe/Paris"
    cadences = [
        ("daily", _t("Daily: the day's digest")),
        ("weekly", _t("Weekly: a roll-up of the past seven days")),
    ]
    formats = [
        ("full", _t("Full: the day's digest")),
        ("compact", _t("Compact: headlines, one line each")),
    ]
    return {
        "type": "modal",
        "callback_id": CALLBACK_ID,
        "private_metadata": json.dumps({"team": team_id, "origin": origin_channel, "lang": lang}),
        "title": _text(_t("Daily digest")),
        "submit": _text(_t("Subscribe")),
        "close": _text(_t("Cancel")),
        "blocks": [
            {
                "type": "input",
                "block_id": BLOCK_CHANNEL,
                "label": _text(_t("Channel")),
                "element": {
                    "type": "conversations_select",
                    "action_id": ACTION,
                    "initial_conversation": channel_id,
                    "filter": {"include": ["public", "private"], "exclude_bot_users": True},
                },
            },
            {
                "type": "input",
                "block_id": BLOCK_LANG,
                "label": _text(_t("Language")),
                "element": {
                    "type": "static_select",
                    "action_id": ACTION,
                    "options": [_option(label, value) for value, label in langs],
                    "initial_option": _option(dict(langs)[lang], lang),
                },
            },
            {
                "type": "input",
                "block_id": BLOCK_TIME,
                "label": _text(_t("Time of the post")),
                "element": {
                    "type": "static_select",
                    "action_id": ACTION,
                    "options": [_option(time, time) for time in TIMES],
                    "initial_option": _option("08:00", "08:00"),
                },
            },
            {
                "type": "input",
                "block_id": BLOCK_TZ,
                "label": _text(_t("Time zone")),
                "element": {
                    "type": "static_select",
                    "action_id": ACTION,
                    "option_groups": [
                        {"label": _text(name), "options": [_option(zone, zone) for zone in zones]}
                        for name, zones in groups.items()
                    ],
                    "initial_option": _option(initial_tz, initial_tz),
                },
            },
            {
                "type": "input",
                "block_id": BLOCK_DAYS,
                "optional": True,
                "label": _text(_t("Days of the week")),
                "hint": _text(_t("Empty: every day. For example mon-fri or mon,wed,fri.")),
                "element": {
                    "type": "plain_text_input",
                    "action_id": ACTION,
                    "max_length": 100,
                    "placeholder": _text("mon-fri"),
                },
            },
            {
                "type": "input",
                "block_id": BLOCK_CADENCE,
                "label": _text(_t("Cadence")),
                "element": {
                    "type": "static_select",
                    "action_id": ACTION,
                    "options": [_option(label, value) for value, label in cadences],
                    "initial_option": _option(cadences[0][1], cadences[0][0]),
                },
            },
            {
                "type": "input",
                "block_id": BLOCK_FORMAT,
                "label": _text(_t("Format")),
                "element": {
                    "type": "static_select",
                    "action_id": ACTION,
                    "options": [_option(label, value) for value, label in formats],
                    "initial_option": _option(formats[0][1], formats[0][0]),
                },
            },
        ],
    }


def submitted_values(view: dict[str, Any]) -> dict[str, str | None]:
    """``{"channel", "lang", "time", "tz", "days", "cadence", "format"}`` from a
    view_submission's state."""
    values = (view.get("state") or {}).get("values") or {}

    def pick(block: str) -> str | None:
        element = (values.get(block) or {}).get(ACTION) or {}
        if "selected_conversation" in element:
            return element.get("selected_conversation")
        option = element.get("selected_option") or {}
        return option.get("value") or element.get("value")

    return {
        "channel": pick(BLOCK_CHANNEL),
        "lang": pick(BLOCK_LANG),
        "time": pick(BLOCK_TIME),
        "tz": pick(BLOCK_TZ),
        "days": pick(BLOCK_DAYS),
        "cadence": pick(BLOCK_CADENCE),
        "format": pick(BLOCK_FORMAT),
    }


def metadata_of(view: dict[str, Any]) -> dict[str, Any]:
    try:
        data = json.loads(view.get("private_metadata") or "{}")
        return data if isinstance(data, dict) else {}
    except ValueError:
        return {}
