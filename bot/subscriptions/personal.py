"""Personal subscriptions: a member's own digest, by direct message, at their time, in their
time zone and language (``/digest me`` on Discord and Slack). One per member and story.

The adapters open the DM channel (Discord: ``POST /users/@me/channels``; Slack:
``conversations.open``) and call `PersonalSubscriptions`; storage is the outbox's, checks are
the admin service's (time, time zone, story), so every rule of channel subscriptions holds:
exactly-once delivery, DST, catch-up, the rate budget. A DM that fails for good (DMs closed, a
member gone) pauses the subscription with the reason; `describe_personal` tells the member in
their language, and ``/digest me`` again resumes it.

On Discord a DM belongs to no server: personal subscriptions have ``workspace_id = ""`` (one
per member across servers). On Slack they belong to the workspace (its token posts them).
"""

from __future__ import annotations

import builtins
from dataclasses import dataclass

from bot.admin import Actor, AdminService, SubscriptionSpec, messages
from bot.outbox import SubscriptionFields, SubscriptionInfo
from bot.subscriptions.options import COMPACT, DAILY, FULL, WEEKLY
from digests.weekdays import ALL_DAYS, describe_days

DISCORD_WORKSPACE = ""  # Discord DMs are in no server


@dataclass(frozen=True)
class PersonalRequest:
    """``/digest me [time] [timezone] [language]``, with the defaults already chosen by the
    adapter (the member's locale; on Slack their time zone)."""

    platform: str
    workspace_id: str
    user_id: str
    dm_channel_id: str
    lang: str | None  # fr | en; None: keep the current one, else `default_lang`
    post_time: str | None = None  # None: keep the current one (08:00 for a new one)
    timezone: str | None = None  # None: keep the current one, else `default_timezone`
    default_timezone: str = "Europe/Paris"
    default_lang: str = "en"
    story_slug: str | None = None
    # None: keep the current value (every day, daily, full for a new one); checked as text.
    days: str | None = None
    cadence: str | None = None
    format: str | None = None


class PersonalSubscriptions:
    """Subscribe, unsubscribe and show a member's personal subscriptions."""

    def __init__(self, admin: AdminService) -> None:
        self.admin = admin
        self.outbox = admin.outbox

    async def mine(
        self, platform: str, workspace_id: str, user_id: str
    ) -> builtins.list[SubscriptionInfo]:
        return await self.outbox.personal(platform, workspace_id, user_id)

    async def subscribe(
        self, request: PersonalRequest, actor: Actor
    ) -> tuple[SubscriptionInfo, bool]:
        """Create or change the member's subscription to the story; a paused one resumes (the
        member asking again is the sign their DMs work again). -> ``(info, created)``."""
        slug = request.story_slug or self.admin.library.default_slug
        days: object = request.days
        if days is None and request.cadence == DAILY:
            days = ALL_DAYS  # back to daily: every day again, as for channels
        current = next(
            (
                info
                for info in await self.mine(request.platform, request.workspace_id, request.user_id)
                if info.story_slug == slug
            ),
            None,
        )
        spec = self.admin.validate(
            SubscriptionSpec(
                platform=request.platform,
                workspace_id=request.workspace_id,
                channel_id=request.dm_channel_id,
                lang=request.lang or (current.lang if current else request.default_lang),
                post_time=request.post_time or (current.post_time if current else "08:00"),
                timezone=request.timezone
                or (current.timezone if current else request.default_timezone),
                story_slug=slug,
                days=days or (current.days if current else ALL_DAYS),
                cadence=request.cadence or (current.cadence if current else DAILY),
                format=request.format or (current.format if current else FULL),
            ),
            actor,
        )
        info, created = await self.outbox.upsert(
            SubscriptionFields(
                platform=spec.platform,
                workspace_id=spec.workspace_id,
                channel_id=spec.channel_id,
                lang=spec.lang,
                story_slug=spec.story_slug or slug,
                post_time=spec.post_time,
                timezone=spec.timezone,
                mode="live",
                start_date=None,
                managed_by="chat",
                configured_from=f"dm:{request.user_id}",
                admin_lang=actor.lang,
                created_by=request.user_id,
                days=spec.days,
                cadence=spec.cadence,
                format=spec.format,
                user_id=request.user_id,
            ),
            self.admin.clock(),
        )
        if not info.active:
            [info] = await self.outbox.resume([info.id], self.admin.clock())
        return info, created

    async def unsubscribe(
        self, platform: str, workspace_id: str, user_id: str
    ) -> builtins.list[SubscriptionInfo]:
        """Stop every personal subscription of the member; -> those removed."""
        rows = await self.mine(platform, workspace_id, user_id)
        if rows:
            await self.outbox.delete(row.id for row in rows)
        return rows


def describe_personal(info: SubscriptionInfo, lang: str) -> str:
    """The member's subscription in a sentence, in ``lang``; a pause says why and what to do."""
    _t = messages(lang)
    language = _t("in French") if info.lang == "fr" else _t("in English")
    days = describe_days(info.days, "fr" if lang == "fr" else "en")
    text = _t(
        "Your digest by direct message: %(days)s at %(time)s (%(tz)s), %(language)s.",
        days=days,
        time=info.post_time,
        tz=info.timezone,
        language=language,
    )
    options = [_t("weekly roll-up")] if info.cadence == WEEKLY else []
    options += [_t("compact")] if info.format == COMPACT else []
    if options:  # the days are said above
        text += " " + _t("Options: %(options)s.", options=", ".join(options))
    if info.active:
        nxt = info.next_run_local
        if nxt is not None:
            text += " " + _t("Next: %(when)s.", when=nxt.strftime("%Y-%m-%d %H:%M"))
        return text
    return text + " " + pause_text(info.paused_reason or "", lang)


def pause_text(reason: str, lang: str) -> str:
    """Why a personal subscription is paused, for the member."""
    _t = messages(lang)
    if "50007" in reason:
        why = _t(
            "It is paused: Discord does not let me send you direct messages (your privacy "
            "settings, or we no longer share a server)."
        )
    elif reason.startswith("slack "):
        why = _t("It is paused: Slack no longer lets me send you direct messages.")
    else:
        why = _t("It is paused (%(reason)s).", reason=reason)
    return why + " " + _t("Once that is fixed, run /digest me again to resume it.")


def resumed_text(reason: str, lang: str) -> str:
    """Said when ``/digest me`` resumes a subscription paused by a failed DM."""
    _t = messages(lang)
    if "50007" in reason:
        why = _t("It had stopped: Discord did not let me send you direct messages.")
    elif reason.startswith("slack "):
        why = _t("It had stopped: Slack did not let me send you direct messages.")
    else:
        why = _t("It had stopped (%(reason)s).", reason=reason)
    return why + " " + _t("It is back on; if that happens again, it will stop again.")
