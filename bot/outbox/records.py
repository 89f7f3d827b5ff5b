"""The values the outbox hands out and takes back: no ORM object leaves `bot.outbox`."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal

from bot.publishing import Delivery, Mention
from bot.schedule import story_date_for, zone_of
from bot.store import FAILED, SKIPPED, Subscription
from bot.store import Delivery as DeliveryRow
from digests.documents import Document
from digests.story import Lang, Story
from digests.weekdays import ALL_DAYS


@dataclass(frozen=True)
class SubscriptionInfo:
    id: int
    story_slug: str
    platform: str
    workspace_id: str
    channel_id: str
    lang: str
    post_time: str
    timezone: str
    mode: str
    start_date: dt.date | None
    active: bool
    paused_reason: str | None
    managed_by: str
    created_by: str | None
    configured_from: str | None
    next_run_at: dt.datetime | None  # UTC
    admin_lang: str = "en"
    days: int = ALL_DAYS  # days of the week it posts on (digests.weekdays)
    cadence: str = "daily"  # daily | weekly
    format: str = "full"  # full | compact
    thread: str = "none"  # none | daily
    user_id: str | None = None  # a personal subscription's member (channel_id: their DM)
    corrections: str = "edit"  # edit | notice | off: posts already out when a revision changes
    breaking: bool = False  # breaking alerts (live subscriptions only)
    # (subject, target): mention target (a role, a user group) when the day involves subject.
    alerts: tuple[tuple[str, str], ...] = ()

    @property
    def next_run_local(self) -> dt.datetime | None:
        return self.next_run_at.astimezone(zone_of(self.timezone)) if self.next_run_at else None

    @classmethod
    def of(cls, row: Subscription) -> SubscriptionInfo:
        return cls(
            id=row.id,
            story_slug=row.story_slug,
            platform=row.platform,
            workspace_id=row.workspace_id,
            channel_id=row.channel_id,
            lang=row.lang,
            post_time=row.post_time,
            timezone=row.timezone,
            mode=row.mode,
            start_date=row.start_date,
            active=row.active,
            paused_reason=row.paused_reason,
            managed_by=row.managed_by,
            created_by=row.created_by,
            configured_from=row.configured_from,
            next_run_at=row.next_run_at,
            admin_lang=row.admin_lang or "en",
            days=row.days if row.days is not None else ALL_DAYS,
            cadence=row.cadence or "daily",
            format=row.format or "full",
            thread=row.thread or "none",
            user_id=row.user_id,
            corrections=row.corrections or "edit",
            breaking=bool(row.breaking),
            alerts=tuple((alert.subject, alert.target) for alert in row.alerts),
        )


def story_day(
    story: Story,
    now: dt.datetime,
    *,
    mode: str = "live",
    timezone: str = "UTC",
    start_date: dt.date | None = None,
) -> dt.date:
    """THE story day of a subscription at ``now``: its local date in ``timezone`` (live), or
    story day N on ``start_date + N - 1`` (replay). Not clamped to the story's days: callers
    that show a day of the story clamp it (`clamp_day`)."""
    local_day = now.astimezone(zone_of(timezone)).date()
    return story_date_for(mode, local_day, start_date, story)


def subscription_day(info: SubscriptionInfo, story: Story, now: dt.datetime) -> dt.date:
    """`story_day` of a subscription."""
    return story_day(story, now, mode=info.mode, timezone=info.timezone, start_date=info.start_date)


def clamp_day(story: Story, day: dt.date) -> dt.date:
    """``day`` within the story's first and last days (no spoilers, nothing before it)."""
    return min(max(day, story.first_day), story.last_day)


@dataclass(frozen=True)
class DeliveryInfo:
    id: int
    digest_date: dt.date
    story_date: dt.date | None
    lang: str
    status: str
    late: bool
    attempts: int
    last_error: str | None
    scheduled_for: dt.datetime
    sent_at: dt.datetime | None
    message_ids: tuple[str, ...]
    kind: str = "scheduled"  # scheduled | manual | correction | breaking

    @classmethod
    def of(cls, row: DeliveryRow) -> DeliveryInfo:
        return cls(
            id=row.id,
            digest_date=row.digest_date,
            story_date=row.story_date,
            lang=row.lang,
            status=row.status,
            late=row.late,
            attempts=row.attempts,
            last_error=row.last_error,
            scheduled_for=row.scheduled_for,
            sent_at=row.sent_at,
            message_ids=tuple(row.message_ids or ()),
            kind=row.kind,
        )


@dataclass(frozen=True)
class StatusReport:
    subscription: SubscriptionInfo
    recent: tuple[DeliveryInfo, ...]
    sent: int
    failed: int
    skipped: int
    pending: int

    @property
    def failures(self) -> tuple[DeliveryInfo, ...]:
        return tuple(d for d in self.recent if d.status == FAILED)

    @property
    def skips(self) -> tuple[DeliveryInfo, ...]:
        return tuple(d for d in self.recent if d.status == SKIPPED)


@dataclass(frozen=True)
class Claimed:
    """One outbox row claimed by a worker (``status = 'sending'``, ``claimed_by`` = it)."""

    id: int
    subscription_id: int
    platform: str
    workspace_id: str
    channel_id: str
    lang: str
    story_slug: str
    digest_date: dt.date
    story_date: dt.date
    late: bool
    attempts: int
    cadence: str = "daily"  # what to compose: the day's digest, or the week's roll-up
    format: str = "full"  # full | compact
    thread: str = "none"  # none | daily: where the post and its "more" part go
    user_id: str | None = None  # set for a personal subscription's DM
    kind: str = "scheduled"
    # A correction: the post it corrects and that post's messages; the revision it brings and
    # the one it corrects. A breaking alert: its event. ``scheduled_for``: when it was due (a
    # correction: when its revision was published).
    parent_id: int | None = None
    message_ids: tuple[str, ...] = ()
    story_revision: int | None = None
    base_revision: int | None = None
    event_id: str | None = None
    scheduled_for: dt.datetime | None = None
    corrections: str = "edit"  # the subscription's setting
    timezone: str = "UTC"  # the subscription's
    alerts: tuple[tuple[str, str], ...] = ()  # the subscription's (subject, target) alerts

    def delivery(self, document: Document, mentions: tuple[Mention, ...] = ()) -> Delivery:
        """What the publisher gets for this claimed outbox row."""
        lang: Lang = "fr" if self.lang == "fr" else "en"
        return Delivery(
            id=self.id,
            subscription_id=self.subscription_id,
            platform=self.platform,
            workspace_id=self.workspace_id,
            channel_id=self.channel_id,
            lang=lang,
            story_slug=self.story_slug,
            digest_date=self.digest_date,
            document=document,
            late=self.late,
            attempt=self.attempts,
            story_date=self.story_date,
            thread=self.thread,
            user_id=self.user_id,
            mentions=mentions,
        )


@dataclass(frozen=True)
class Outcome:
    """What became of a claimed delivery, recorded by `Outbox.record` (only while the worker
    still holds the claim). ``retry``: back to pending at ``retry_at``. ``pause``: the
    subscription is paused with this reason in the same transaction."""

    delivery_id: int
    status: Literal["sent", "failed", "skipped", "retry"]
    message_ids: tuple[str, ...] = ()
    error: str | None = None
    retry_at: dt.datetime | None = None
    pause_subscription: int | None = None
    story_revision: int | None = None  # a post: the story revision its document came from


@dataclass(frozen=True)
class OutboxSummary:
    """The outbox at a glance, for metrics: deliveries by (platform, status), retries by
    platform (attempts beyond the first), posts due now and when the oldest of them was due."""

    counts: dict[tuple[str, str], int]
    retries: dict[str, int]
    due: int
    oldest_due: dt.datetime | None
