"""Alerts on a person or organisation: the admin operations, one service for chat, the CLI
and the configuration file (beside `bot.admin.AdminService`, which it uses for rights).

An alert attaches to a subscription a subject of its story (a person or an organisation) and
a target: a Discord role id or a Slack user group id. When the day's post involves the subject,
the post mentions the target — and nothing else: Discord's ``allowed_mentions`` names that role
alone, Slack gets ``<!subteam^ID>``; never @everyone, @here or <!channel>.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from typing import Any

from bot.admin import Actor, AdminService, InvalidValue, messages
from bot.outbox import Ref, SubscriptionInfo
from bot.outbox.alerts import Alerts
from digests.alerts import resolve_subject

_log = logging.getLogger(__name__)

_ROLE_RE = re.compile(r"^(?:<@&)?(\d{15,21})>?$")
_GROUP_RE = re.compile(r"^(?:<!subteam\^)?(S[A-Z0-9]{2,})(?:\|[^>]*)?>?$")


def alert_target(platform: str, workspace_id: str, value: str, lang: str) -> str:
    """The role or user group id in ``value`` (``123…``, ``<@&123…>``, ``S0123``,
    ``<!subteam^S0123|@team>``); `InvalidValue` in ``lang`` for anything else, and for the
    server's own id (Discord's @everyone role)."""
    _t = messages(lang)
    text = str(value).strip()
    if platform == "discord":
        found = _ROLE_RE.match(text)
        if found and found.group(1) != workspace_id:
            return found.group(1)
        raise InvalidValue(
            _t(
                "Alerts mention a role: give a role of this server (not @everyone), not %(value)s.",
                value=repr(text),
            )
        )
    if platform == "slack":
        found = _GROUP_RE.match(text)
        if found:
            return found.group(1)
        raise InvalidValue(
            _t(
                "Alerts mention a user group (an id like S0123ABCD), not %(value)s.",
                value=repr(text),
            )
        )
    raise InvalidValue(_t("Alerts exist on Discord and Slack only."))


class AlertAdmin:
    """Add, remove and list the alerts of a channel's subscriptions."""

    def __init__(self, admin: AdminService) -> None:
        self.admin = admin
        self.alerts = Alerts(admin.store)

    async def _rows(self, ref: Ref, actor: Actor) -> list[SubscriptionInfo]:
        await self.admin._authorize(ref, actor)
        rows = await self.admin._rows(ref, actor.lang)
        for row in rows:
            self.admin._refuse_file_managed(row, actor)
        return rows

    def _subject(self, rows: list[SubscriptionInfo], who: str, lang: str) -> str:
        subjects = {resolve_subject(self.admin.library.get(row.story_slug), who) for row in rows}
        if len(subjects) == 1 and None not in subjects:
            return str(subjects.pop())
        raise InvalidValue(
            messages(lang)(
                "No person or organisation %(value)s in the story (try a name as /who shows it).",
                value=repr(who.strip()),
            )
        )

    async def add(self, ref: Ref, who: str, target: str, actor: Actor) -> list[SubscriptionInfo]:
        """Alert the subscriptions of ``ref`` on ``who``, mentioning ``target``."""
        rows = await self._rows(ref, actor)
        if any(row.user_id is not None for row in rows):  # a member's own digest, in a DM
            raise InvalidValue(
                messages(actor.lang)("Alerts are for channels, not personal digests.")
            )
        subject = self._subject(rows, who, actor.lang)
        mention = alert_target(rows[0].platform, rows[0].workspace_id, target, actor.lang)
        added = await self.alerts.add(
            [row.id for row in rows], subject, mention, actor.user_id, self.admin.clock()
        )
        _log.info("alert on %s for %s added to %d subscription(s)", subject, mention, added)
        return await self.admin.outbox.find(ref)

    async def remove(
        self, ref: Ref, who: str | None, target: str | None, actor: Actor
    ) -> list[SubscriptionInfo]:
        """Remove the alerts of ``ref`` on ``who`` (all: None) for ``target`` (all: None)."""
        rows = await self._rows(ref, actor)
        subject = self._subject(rows, who, actor.lang) if who else None
        mention = (
            alert_target(rows[0].platform, rows[0].workspace_id, target, actor.lang)
            if target
            else None
        )
        removed = await self.alerts.remove([row.id for row in rows], subject, mention)
        if not removed:
            raise InvalidValue(messages(actor.lang)("No such alert on this subscription."))
        return await self.admin.outbox.find(ref)

    async def apply(
        self, info: SubscriptionInfo, entries: Iterable[Any], actor: Actor
    ) -> SubscriptionInfo:
        """The configuration file's ``alerts = [{who = "…", role = "…"}]`` (``group`` on Slack):
        exactly those alerts on the subscription."""
        story = self.admin.library.get(info.story_slug)
        wanted = []
        for entry in entries:
            if not isinstance(entry, dict) or "who" not in entry:
                raise InvalidValue(
                    messages(actor.lang)(
                        "An alert needs who and a role (Discord) or group (Slack): %(value)s.",
                        value=repr(entry),
                    )
                )
            subject = resolve_subject(story, str(entry["who"]))
            if subject is None:
                self._subject([info], str(entry["who"]), actor.lang)  # raises the clear error
            target = entry.get("role", entry.get("group", ""))
            wanted.append(
                (
                    str(subject),
                    alert_target(info.platform, info.workspace_id, str(target), actor.lang),
                )
            )
        await self.alerts.replace(info.id, wanted, actor.user_id, self.admin.clock())
        found = await self.admin.outbox.get(info.id)
        return found or info
