"""Tables: subscriptions, the deliveries outbox, and the console publisher's ledger."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Double,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Aware UTC datetimes in and out, on SQLite (naive storage) and PostgreSQL (timestamptz)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: object) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(dt.UTC)
        if getattr(dialect, "name", "") == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(
        self, value: dt.datetime | None, dialect: object
    ) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


# Status values of a delivery.
PENDING, SENDING, SENT, FAILED, SKIPPED = "pending", "sending", "sent", "failed", "skipped"
STATUSES = (PENDING, SENDING, SENT, FAILED, SKIPPED)
# Kinds of delivery: the day's scheduled post, or an admin's send-now of a given story date;
# a correction of a post already out (an edit or a notice, once per post and story revision);
# a breaking-news alert (once per subscription, event and language).
SCHEDULED, MANUAL = "scheduled", "manual"
CORRECTION, BREAKING = "correction", "breaking"
POST_KINDS = (SCHEDULED, MANUAL)  # the kinds that post a day's digest (and may be corrected)
# What a subscription does with corrections of its posts already out.
CORRECTION_MODES = ("edit", "notice", "off")


class Subscription(Base):
    __tablename__ = "subscriptions"
    __table_args__ = (
        UniqueConstraint(
            "platform", "workspace_id", "channel_id", "lang", name="uq_subscriptions_target"
        ),
        Index("ix_subscriptions_due", "active", "next_run_at"),
        # A member's personal subscription (in a DM): one per user and story.
        Index(
            "uq_subscriptions_personal",
            "platform",
            "workspace_id",
            "user_id",
            "story_slug",
            unique=True,
            sqlite_where=text("user_id IS NOT NULL"),
            postgresql_where=text("user_id IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    story_slug: Mapped[str] = mapped_column(String(64))
    platform: Mapped[str] = mapped_column(String(16))  # discord | slack | console
    workspace_id: Mapped[str] = mapped_column(String(64))  # guild / team id; "" for console
    channel_id: Mapped[str] = mapped_column(String(64))
    lang: Mapped[str] = mapped_column(String(4))  # fr | en | both
    post_time: Mapped[str] = mapped_column(String(5))  # HH:MM local
    timezone: Mapped[str] = mapped_column(String(64))  # IANA
    mode: Mapped[str] = mapped_column(String(8), default="live")  # live | replay
    start_date: Mapped[dt.date | None] = mapped_column(Date, nullable=True)  # replay: story day 1
    # Days of the week it posts on (a mask, Monday = bit 0; 127 = every day: digests.weekdays).
    days: Mapped[int] = mapped_column(Integer, default=127, server_default="127")
    # daily: the day's digest; weekly: a roll-up of the past seven story days (on its one day).
    cadence: Mapped[str] = mapped_column(String(8), default="daily", server_default="daily")
    # full: the day's digest; compact: headlines with one line each and a link to more.
    format: Mapped[str] = mapped_column(String(8), default="full", server_default="full")
    # none: posts in the channel; daily: each digest starts a thread (Discord) / its "more"
    # part and corrections go in the digest's thread (Slack). A Discord forum channel always
    # gets one post (a thread) per day, whatever this says.
    thread: Mapped[str] = mapped_column(String(8), default="none", server_default="none")
    # The member a personal subscription belongs to (channel_id is their DM); None: a channel's.
    user_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    paused_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    managed_by: Mapped[str] = mapped_column(String(8), default="chat")  # chat | file
    created_by: Mapped[str | None] = mapped_column(String(128), nullable=True)
    # Where it was configured from, so admins can be told about problems: the channel (or
    # "file:<path>", "cli") the command came from, and the language they used.
    configured_from: Mapped[str | None] = mapped_column(String(255), nullable=True)
    admin_lang: Mapped[str] = mapped_column(String(2), default="en")
    next_run_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    # Posts already out when a revision changes their day: edited (edit), followed by a short
    # notice (notice), or left alone (off). Breaking alerts: live subscriptions that opt in.
    corrections: Mapped[str] = mapped_column(String(8), default="edit", server_default="edit")
    breaking: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Loaded with the subscription (one more query per load, none per row): list and status
    # show them.
    alerts: Mapped[list[SubscriptionAlert]] = relationship(
        lazy="selectin",
        order_by="SubscriptionAlert.id",
        passive_deletes=True,
        cascade="all, delete-orphan",
    )


class SubscriptionAlert(Base):
    """Mention ``target`` (a Discord role id, a Slack user group id) in the subscription's post
    when the day's digest involves ``subject`` (a person or organisation id of the story)."""

    __tablename__ = "subscription_alerts"
    __table_args__ = (
        UniqueConstraint("subscription_id", "subject", "target", name="uq_subscription_alerts"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subscription_id: Mapped[int] = mapped_column(
        ForeignKey("subscriptions.id", ondelete="CASCADE"), index=True
    )
    subject: Mapped[str] = mapped_column(String(64))
    target: Mapped[str] = mapped_column(String(64))
    created_by: Mapped[str | None] = mapped_column(String(128), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class Delivery(Base):
    __tablename__ = "deliveries"
    __table_args__ = (
        # The day's scheduled post, once per local day and language (the tick's ON CONFLICT).
        Index(
            "uq_deliveries_scheduled",
            "subscription_id",
            "digest_date",
            "lang",
            unique=True,
            sqlite_where=text("kind = 'scheduled'"),
            postgresql_where=text("kind = 'scheduled'"),
        ),
        # An admin's send-now of a story date, once per local day, story date and language.
        Index(
            "uq_deliveries_manual",
            "subscription_id",
            "digest_date",
            "story_date",
            "lang",
            unique=True,
            sqlite_where=text("kind = 'manual'"),
            postgresql_where=text("kind = 'manual'"),
        ),
        # A correction: once per post corrected and story revision.
        Index(
            "uq_deliveries_correction",
            "parent_id",
            "story_revision",
            unique=True,
            sqlite_where=text("kind = 'correction'"),
            postgresql_where=text("kind = 'correction'"),
        ),
        # A breaking alert: once per subscription, event and language.
        Index(
            "uq_deliveries_breaking",
            "subscription_id",
            "event_id",
            "lang",
            unique=True,
            sqlite_where=text("kind = 'breaking'"),
            postgresql_where=text("kind = 'breaking'"),
        ),
        Index("ix_deliveries_claim", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subscription_id: Mapped[int] = mapped_column(
        ForeignKey("subscriptions.id", ondelete="CASCADE"), index=True
    )
    platform: Mapped[str] = mapped_column(String(16))  # copied from the subscription: cheap claims
    digest_date: Mapped[dt.date] = mapped_column(Date)  # the subscriber's local day of the post
    story_date: Mapped[dt.date | None] = mapped_column(Date, nullable=True)  # story day covered
    lang: Mapped[str] = mapped_column(String(2))
    kind: Mapped[str] = mapped_column(String(16), default=SCHEDULED, server_default=SCHEDULED)
    scheduled_for: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(8), default=PENDING)
    late: Mapped[bool] = mapped_column(Boolean, default=False)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    message_ids: Mapped[list[str] | None] = mapped_column(JSON, nullable=True)
    claimed_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    claimed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # A post: the story revision it shows (None: not known, never corrected). A correction:
    # the revision it brings, ``base_revision`` the one it corrects, ``parent_id`` the post.
    story_revision: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    base_revision: Mapped[int | None] = mapped_column(Integer, nullable=True)
    parent_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    event_id: Mapped[str | None] = mapped_column(String(64), nullable=True)  # a breaking alert's


class ConsolePost(Base):
    """What the console publisher printed, keyed by delivery: its idempotency ledger."""

    __tablename__ = "console_posts"

    idempotency_key: Mapped[str] = mapped_column(String(32), primary_key=True)
    delivery_id: Mapped[int] = mapped_column(Integer)
    posted_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class RateBudget(Base):
    """One rate budget shared by every instance of a bot (see `bot.budget`): a GCRA token
    bucket whose state is the theoretical arrival time of the next request, in epoch seconds.
    ``key`` names the bot by a hash of its token (never the token) and the limit."""

    __tablename__ = "rate_budgets"

    key: Mapped[str] = mapped_column(String(80), primary_key=True)
    tat: Mapped[float] = mapped_column(Double)


class Instance(Base):
    """A running `depeche run` process, with its last heartbeat (see `bot.instances`). Its id
    is its delivery worker's id, the ``claimed_by`` of the deliveries it holds."""

    __tablename__ = "instances"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    host: Mapped[str] = mapped_column(String(255), default="")
    pid: Mapped[int] = mapped_column(Integer, default=0)
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    seen_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)


class StoryRevision(Base):
    """One published revision of a story: the validated YAML document, as published.

    Owned by `bot.stories` (the only module that reads or writes it). Revisions of a slug are
    numbered 1, 2, 3...; the unique (slug, revision) pair is what refuses a second publish from
    the same base, across instances."""

    __tablename__ = "story_revisions"
    __table_args__ = (
        UniqueConstraint("slug", "revision", name="uq_story_revisions_slug_revision"),
        Index("ix_story_revisions_slug_digest", "slug", "digest"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(64))
    revision: Mapped[int] = mapped_column(Integer)
    document: Mapped[str] = mapped_column(Text)  # the story's YAML, exactly as validated
    digest: Mapped[str] = mapped_column(String(64))  # sha256 of the document
    author: Mapped[str] = mapped_column(String(128))
    origin: Mapped[str] = mapped_column(String(255))  # file:<name>, cli, discord:<guild>...
    comment: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class StoryDraft(Base):
    """An unpublished edit of a story, shared by the editors of one workspace (owned by
    `bot.stories.editing`). ``base_revision``: the revision it started from."""

    __tablename__ = "story_drafts"
    __table_args__ = (
        UniqueConstraint("platform", "workspace_id", "slug", name="uq_story_drafts_target"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    workspace_id: Mapped[str] = mapped_column(String(64))
    slug: Mapped[str] = mapped_column(String(64))
    base_revision: Mapped[int] = mapped_column(Integer)
    document: Mapped[str] = mapped_column(Text)
    updated_by: Mapped[str] = mapped_column(String(128))
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class StoryEditor(Base):
    """Who may edit stories from chat in one workspace, besides its admins: a Discord role
    (``kind='role'``) or a Slack user (``kind='user'``)."""

    __tablename__ = "story_editors"
    __table_args__ = (
        UniqueConstraint("platform", "workspace_id", "kind", "ref", name="uq_story_editors_ref"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    workspace_id: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(8))  # role | user
    ref: Mapped[str] = mapped_column(String(64))
    added_by: Mapped[str] = mapped_column(String(128))
    added_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
