"""The contract between the delivery engine and each platform's publisher.

The delivery engine (``bot/delivery.py``) claims a delivery from the outbox and hands it to the
publisher of its platform. Publishers must be *idempotent per delivery*: publishing the same
delivery twice (after a crash left it in ``sending``) must not create a second post. Discord
gets that from a deterministic nonce with ``enforce_nonce``; Slack from message metadata looked
up in ``conversations.history``; the console from the ledger.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from digests.documents import Document
from digests.errors import DepecheError
from digests.story import Lang


@dataclass(frozen=True, slots=True)
class Mention:
    """A role (Discord) or user group (Slack) to mention, and the names that made it fire."""

    target: str
    names: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Delivery:
    """One digest, in one language, for one channel; the unit of exactly-once delivery."""

    id: int
    subscription_id: int
    platform: str
    workspace_id: str
    channel_id: str
    lang: Lang
    story_slug: str
    digest_date: dt.date
    document: Document
    late: bool = False
    attempt: int = 1
    # The story day the document covers. ``digest_date`` is the subscriber's local day of the
    # post (the outbox key); they differ in replay mode. None from older callers.
    story_date: dt.date | None = None
    # "daily": the post starts a thread for the day (Discord) and its "more" part goes in it;
    # Slack always answers its post in the post's thread. A Discord forum is always threaded.
    thread: str = "none"
    # The member of a personal subscription (the channel is their DM): nobody else is told
    # when it fails, and DM errors (closed DMs, a user gone) pause it.
    user_id: str | None = None
    # A follow-up of an earlier post (a correction notice): the platform id of that post's
    # first message; the publisher links the new post to it (a Discord reply, a Slack thread
    # reply also sent to the channel).
    reply_to: str | None = None
    # Alerts that fire today: whom the post mentions (a Discord role, a Slack user group) and
    # why (the names of the people or organisations of the day it was set on).
    mentions: tuple[Mention, ...] = ()

    @property
    def idempotency_key(self) -> str:
        """Stable across restarts and processes; at most 25 characters (Discord nonce limit)."""
        return f"dpc{self.id}"


def documents_of(delivery: Delivery) -> list[Document]:
    """What a delivery posts: its document, then the document's "more" part (the overflow of a
    post kept short on purpose) when there is something behind it. Publishers post the "more"
    part as a follow-up (Discord) or a reply in the post's thread (Slack), within the same
    delivery: same idempotency, its message ids recorded with the post's."""
    more = delivery.document.more
    if more is None or not more.sections:
        return [delivery.document]
    return [delivery.document, more]


@dataclass(frozen=True, slots=True)
class PublishResult:
    """Platform message ids, in posting order (a long digest may take several messages)."""

    message_ids: tuple[str, ...]
    recovered: bool = False  # True when found already posted rather than posted now


class PublishError(DepecheError):
    """A publish attempt failed."""


class TransientPublishError(PublishError):
    """Worth retrying later (429, 5xx, timeout). ``retry_after`` in seconds when the platform says."""

    def __init__(self, reason: str, *, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


class PermanentPublishError(PublishError):
    """Retrying cannot help (missing permission, unknown or archived channel): pause the
    subscription with ``reason`` and tell the admins."""

    def __init__(self, reason: str, *, code: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.code = code


class SkippedPublishError(PublishError):
    """Nothing to do any more, and nothing wrong with the subscription (the message to correct
    was deleted): the delivery is recorded ``skipped`` with ``reason``."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@runtime_checkable
class Publisher(Protocol):
    platform: str

    async def publish(self, delivery: Delivery) -> PublishResult:
        """Post the delivery's document. Idempotent per ``delivery.idempotency_key``."""
        ...

    async def find_published(self, delivery: Delivery) -> PublishResult | None:
        """For a delivery left in ``sending`` by a crash: the messages already posted, if any."""
        ...

    async def notify_admins(self, delivery: Delivery, reason: str) -> None:
        """Tell the people who configured the subscription that it was paused, and why."""
        ...


@runtime_checkable
class Editor(Protocol):
    """Optional for a publisher: edits posts already out (corrections)."""

    async def edit(self, original: Delivery, message_ids: tuple[str, ...]) -> PublishResult:
        """Make the messages ``message_ids`` of the post ``original`` (its id, channel, day)
        show ``original.document``. Idempotent: the same edit twice shows the same post.
        `SkippedPublishError` when the message was deleted."""
        ...


@runtime_checkable
class Paced(Protocol):
    """Optional for a publisher: its pace, so the worker keeps just enough in flight."""

    def pace(self) -> tuple[float | None, float | None]:
        """(requests per second allowed, observed round trip in seconds; None: unknown)."""
        ...


@dataclass
class PublisherRegistry:
    """Publishers by platform name; the run command registers whichever platforms are configured."""

    publishers: dict[str, Publisher] = field(default_factory=dict)

    def register(self, publisher: Publisher) -> None:
        self.publishers[publisher.platform] = publisher

    def get(self, platform: str) -> Publisher | None:
        return self.publishers.get(platform)
