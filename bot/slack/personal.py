"""``/digest me``: a member's own digest by direct message (see `bot.subscriptions.personal`).

``/digest me [HH:MM] [Area/City] [fr|en]`` subscribes (or changes); the defaults are the
member's own, from ``users.info``: their time zone and their Slack language. ``/digest me off``
stops it; ``/digest me`` alone shows it (or subscribes with the defaults, or resumes one that
a closed DM paused). The DM channel comes from ``conversations.open``.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from slack_sdk.errors import SlackApiError

from bot.admin import Actor
from bot.slack.blocks import SlackMessage, text_message
from bot.slack.i18n import messages
from bot.slack.parsing import DigestArgs
from bot.subscriptions.personal import (
    PersonalRequest,
    PersonalSubscriptions,
    describe_personal,
    resumed_text,
)

if TYPE_CHECKING:
    from bot.slack.commands import Request, SlackCommands

_log = logging.getLogger(__name__)

PLATFORM = "slack"
STOP_WORDS = frozenset(
    {"off", "stop", "arret", "arrêt", "arreter", "arrêter", "non", "unsubscribe"}
)
STATUS_WORDS = frozenset({"status", "statut", "etat", "état"})


async def digest_me(
    commands: SlackCommands, request: Request, args: DigestArgs
) -> list[SlackMessage]:
    from bot.slack.commands import Usage

    _t = messages(request.lang)
    words = {word.casefold() for word in args.unknown}
    stop = bool(words) and words <= STOP_WORDS
    show = bool(words) and words <= STATUS_WORDS
    if words and not (stop or show):
        raise Usage(
            _t("I did not understand: %(words)s.", words=", ".join(args.unknown))
            + "\n"
            + commands.usage(request.lang)
        )
    extra = [str(getattr(args, name)) for name in ("channel", "date") if getattr(args, name)]
    if extra or args.lang == "both":
        shown = extra + (["both"] if args.lang == "both" else [])
        raise Usage(
            _t("I did not understand: %(words)s.", words=", ".join(shown))
            + "\n"
            + commands.usage(request.lang)
        )
    personal = PersonalSubscriptions(commands.admin)
    user = request.user
    if stop:
        removed = await personal.unsubscribe(PLATFORM, request.team_id, user.id)
        return [
            text_message(
                _t("You will no longer get the digest by direct message.")
                if removed
                else _t("You had no personal digest.")
            )
        ]
    mine = await personal.mine(PLATFORM, request.team_id, user.id)
    asked = args.time or args.timezone or args.lang or args.days or args.cadence or args.format
    if show or (mine and not asked and all(info.active for info in mine)):
        if not mine:
            return [text_message(_t("You have no personal digest: /digest me subscribes you."))]
        return [text_message("\n".join(describe_personal(info, request.lang) for info in mine))]
    try:
        opened = await commands.clients.for_team(request.team_id).conversations_open(users=user.id)
        dm_channel = str(opened["channel"]["id"])
    except SlackApiError as error:
        code = str(error.response.get("error") or "")
        _log.info("conversations.open for %s failed: %s", user.id, code)
        return [
            text_message(
                _t(
                    "I cannot send you direct messages (Slack says %(code)s), so I cannot send you the digest.",
                    code=code or "error",
                )
            )
        ]
    info, created = await personal.subscribe(
        PersonalRequest(
            platform=PLATFORM,
            workspace_id=request.team_id,
            user_id=user.id,
            dm_channel_id=dm_channel,
            lang=args.lang if args.lang in ("fr", "en") else None,
            default_lang=user.lang if user.lang in ("fr", "en") else "en",
            post_time=args.time,
            timezone=args.timezone,
            default_timezone=user.tz or "Europe/Paris",
            days=args.days,
            cadence=args.cadence,
            format=args.format,
        ),
        Actor(user_id=user.id, via="chat", where=dm_channel, lang=request.lang),  # type: ignore[arg-type]
    )
    head = _t("Subscribed:") if created else _t("Subscription updated:")
    text = f"{head}\n{describe_personal(info, request.lang)}"
    paused = next(
        (row for row in mine if not row.active and row.story_slug == info.story_slug), None
    )
    if paused is not None:
        text += "\n" + resumed_text(paused.paused_reason or "", request.lang)
    return [text_message(text)]
