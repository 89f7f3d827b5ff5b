"""Delivery workers: claim due deliveries from the outbox, publish them, record the outcome.

A claim is one atomic statement that moves rows from ``pending`` to ``sending`` and stamps them
with the worker's id (PostgreSQL: ``FOR UPDATE SKIP LOCKED``, so several instances never claim
the same row; SQLite: one ``UPDATE ... RETURNING`` under ``BEGIN IMMEDIATE``). A ``sending`` row
whose claim is older than the lease (a crashed worker) is claimed again.

Before any *re*-attempt (crash recovery or retry) the worker asks the publisher whether the
delivery already went out (`Publisher.find_published`: Discord nonce, Slack metadata, console
ledger) and records it as sent instead of posting again. Publishers are idempotent per
`Delivery.idempotency_key` on top of that.

Transient errors: retried with exponential backoff and jitter (or the platform's Retry-After)
up to ``max_attempts``, then ``failed`` with the reason. Permanent errors: ``failed``, the
subscription is paused with the reason (shown by ``status``) and the publisher notifies admins.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, cast

from sqlalchemy import CursorResult, bindparam, select, text, update

from bot.links import day_url
from bot.publishing import (
    Delivery,
    PermanentPublishError,
    PublisherRegistry,
    PublishResult,
    TransientPublishError,
)
from bot.settings import DeliverySettings
from bot.store import FAILED, PENDING, SENDING, SENT, SKIPPED, Store, Subscription
from bot.store import Delivery as DeliveryRow
from digests.documents import Document, Item, Section, plain
from digests.errors import DepecheError
from digests.story import StoryLibrary

_log = logging.getLogger(__name__)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass
class WorkResult:
    claimed: int = 0
    sent: int = 0
    recovered: int = 0
    retried: int = 0
    failed: int = 0
    paused: int = 0
    skipped: int = 0

    def __iadd__(self, other: WorkResult) -> WorkResult:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))
        return self


_CLAIM_PG = """
UPDATE deliveries AS d
SET status = 'sending', claimed_by = :me, claimed_at = :now, attempts = d.attempts + 1
FROM (
    SELECT id FROM deliveries
    WHERE platform IN :platforms
      AND ((status = 'pending' AND next_attempt_at <= :now)
           OR (status = 'sending' AND claimed_at <= :stale))
    ORDER BY next_attempt_at, id
    LIMIT :limit
    FOR UPDATE SKIP LOCKED
) AS c
WHERE d.id = c.id
RETURNING d.id
"""

_CLAIM_SQLITE = """
UPDATE deliveries
SET status = 'sending', claimed_by = :me, claimed_at = :now, attempts = attempts + 1
WHERE id IN (
    SELECT id FROM deliveries
    WHERE platform IN :platforms
      AND ((status = 'pending' AND next_attempt_at <= :now)
           OR (status = 'sending' AND claimed_at <= :stale))
    ORDER BY next_attempt_at, id
    LIMIT :limit
)
RETURNING id
"""


@dataclass(frozen=True)
class Claimed:
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

    def delivery(self, document: Document) -> Delivery:
        """What the publisher gets for this claimed outbox row."""
        return Delivery(
            id=self.id,
            subscription_id=self.subscription_id,
            platform=self.platform,
            workspace_id=self.workspace_id,
            channel_id=self.channel_id,
            lang=self.lang,  # type: ignore[arg-type]
            story_slug=self.story_slug,
            digest_date=self.digest_date,
            document=document,
            late=self.late,
            attempt=self.attempts,
            story_date=self.story_date,
        )


def no_news_document(lang: str, story_slug: str, day: dt.date) -> Document:
    from digests.i18n import Messages

    _t = Messages(lang, domain="bot", package="bot")  # type: ignore[arg-type]
    return Document(
        kind="notice",
        lang=lang,  # type: ignore[arg-type]
        title=_t("No new developments today"),
        sections=(
            Section(
                heading="",
                items=(Item(plain(_t("Nothing new in the story today."))),),
                kind="paragraph",
            ),
        ),
        story_slug=story_slug,
        date=day.isoformat(),
    )


@dataclass
class DeliveryWorker:
    store: Store
    library: StoryLibrary
    publishers: PublisherRegistry
    settings: DeliverySettings = field(default_factory=DeliverySettings)
    no_news_line: bool = False
    clock: Callable[[], dt.datetime] = utcnow
    public_url: str = ""  # digests link to their day's page there (DEPECHE_PUBLIC_URL)
    worker_id: str = field(default_factory=lambda: uuid.uuid4().hex[:16])
    rng: random.Random = field(default_factory=random.Random)
    _documents: dict[tuple[str, dt.date, str], Document | None] = field(default_factory=dict)

    # ------------------------------------------------------------------ claiming

    def claim(self, now: dt.datetime, limit: int | None = None) -> list[Claimed]:
        platforms = tuple(self.publishers.publishers)
        if not platforms:
            return []
        statement = text(_CLAIM_PG if self.store.dialect == "postgresql" else _CLAIM_SQLITE)
        statement = statement.bindparams(bindparam("platforms", expanding=True))
        params = {
            "me": self.worker_id,
            "now": _db_time(self.store, now),
            "stale": _db_time(self.store, now - dt.timedelta(seconds=self.settings.lease_seconds)),
            "limit": limit or self.settings.batch_size,
            "platforms": list(platforms),
        }
        with self.store.session() as session, session.begin():
            ids = [row[0] for row in session.execute(statement, params)]
            if not ids:
                return []
            d, s = DeliveryRow.__table__.c, Subscription.__table__.c
            rows = session.execute(
                select(
                    d.id,
                    d.subscription_id,
                    d.platform,
                    s.workspace_id,
                    s.channel_id,
                    d.lang,
                    s.story_slug,
                    d.digest_date,
                    d.story_date,
                    d.late,
                    d.attempts,
                )
                .join_from(DeliveryRow.__table__, Subscription.__table__, d.subscription_id == s.id)
                .where(d.id.in_(ids))
                .order_by(d.id)
            ).all()
        return [
            Claimed(
                id=row.id,
                subscription_id=row.subscription_id,
                platform=row.platform,
                workspace_id=row.workspace_id,
                channel_id=row.channel_id,
                lang=row.lang,
                story_slug=row.story_slug,
                digest_date=row.digest_date,
                story_date=row.story_date or row.digest_date,
                late=row.late,
                attempts=row.attempts,
            )
            for row in rows
        ]

    # ------------------------------------------------------------------ running

    async def run_once(self, now: dt.datetime | None = None) -> WorkResult:
        """Claim one batch and process it (``concurrency`` publishes in flight)."""
        now = now or self.clock()
        claimed = self.claim(now)
        result = WorkResult(claimed=len(claimed))
        if not claimed:
            return result
        semaphore = asyncio.Semaphore(self.settings.concurrency)

        async def one(item: Claimed) -> str:
            async with semaphore:
                return await self.process(item)

        for outcome in await asyncio.gather(*(one(item) for item in claimed)):
            setattr(result, outcome, getattr(result, outcome) + 1)
        return result

    async def run_until_idle(
        self, now: dt.datetime | None = None, *, max_rounds: int = 10_000
    ) -> WorkResult:
        """Process batches until nothing is due at ``now`` (retries scheduled later stay queued)."""
        total = WorkResult()
        for _ in range(max_rounds):
            result = await self.run_once(now)
            total += result
            if not result.claimed:
                break
        return total

    def _document(self, item: Claimed) -> Document | None:
        key = (item.story_slug, item.story_date, item.lang)
        if key not in self._documents:
            from digests.compose import compose_digest

            story = self.library.get(item.story_slug)
            document = compose_digest(story, item.story_date, item.lang)  # type: ignore[arg-type]
            if document is None and self.no_news_line:
                document = no_news_document(item.lang, item.story_slug, item.story_date)
            url = day_url(self.public_url, item.story_slug, item.lang, item.story_date)
            if document is not None and document.kind == "digest" and url:
                document = replace(document, meta={**document.meta, "url": url})
            if len(self._documents) > 1024:
                self._documents.clear()
            self._documents[key] = document
        return self._documents[key]

    async def process(self, item: Claimed) -> str:
        """Publish one claimed delivery; return the outcome name (a `WorkResult` field)."""
        publisher = self.publishers.get(item.platform)
        assert publisher is not None  # we only claim platforms we have publishers for
        try:
            document = self._document(item)
        except DepecheError as error:  # unknown story (file removed): nothing will fix it by itself
            return await self._permanent(
                item, None, PermanentPublishError(str(error), code="story")
            )
        except Exception as error:  # a bug while composing: keep the reason, retry later
            _log.exception("composing delivery %d failed", item.id)
            return self._transient(item, f"{type(error).__name__}: {error}", None)
        if document is None:
            self._finish(item, SKIPPED, error="no events on this story day")
            return "skipped"
        delivery = item.delivery(document)
        try:
            if item.attempts > 1:  # crash recovery or retry: it may have gone out already
                found = await publisher.find_published(delivery)
                if found is not None:
                    self._finish(item, SENT, message_ids=found.message_ids)
                    _log.info("delivery %d was already published: recorded, not re-posted", item.id)
                    return "recovered"
            published: PublishResult = await publisher.publish(delivery)
        except PermanentPublishError as error:
            return await self._permanent(item, delivery, error)
        except TransientPublishError as error:
            return self._transient(item, error.reason, error.retry_after)
        except Exception as error:  # an unexpected failure is retried, with the reason kept
            _log.exception("publishing delivery %d failed", item.id)
            return self._transient(item, f"{type(error).__name__}: {error}", None)
        self._finish(item, SENT, message_ids=published.message_ids)
        return "recovered" if published.recovered else "sent"

    # ------------------------------------------------------------------ outcomes

    def _finish(
        self,
        item: Claimed,
        status: str,
        *,
        message_ids: tuple[str, ...] | None = None,
        error: str | None = None,
    ) -> bool:
        now = self.clock()
        values: dict[str, Any] = {"status": status, "last_error": error}
        if status == SENT:
            values.update(message_ids=list(message_ids or ()), sent_at=now)
        with self.store.session() as session, session.begin():
            done = session.execute(
                update(DeliveryRow)
                .where(
                    DeliveryRow.id == item.id,
                    DeliveryRow.status == SENDING,
                    DeliveryRow.claimed_by == self.worker_id,
                )
                .values(**values)
                .execution_options(synchronize_session=False)
            )
        return bool(cast(CursorResult[Any], done).rowcount)

    def backoff(self, attempts: int, retry_after: float | None) -> float:
        base = self.settings.backoff_base_seconds * 2 ** (attempts - 1)
        delay = min(self.settings.backoff_max_seconds, base) * self.rng.uniform(0.5, 1.0)  # jitter
        return float(max(delay, retry_after or 0.0))

    def _transient(self, item: Claimed, reason: str, retry_after: float | None) -> str:
        if item.attempts >= self.settings.max_attempts:
            self._finish(item, FAILED, error=f"gave up after {item.attempts} attempts: {reason}")
            _log.warning("delivery %d failed for good: %s", item.id, reason)
            return "failed"
        when = self.clock() + dt.timedelta(seconds=self.backoff(item.attempts, retry_after))
        with self.store.session() as session, session.begin():
            session.execute(
                update(DeliveryRow)
                .where(
                    DeliveryRow.id == item.id,
                    DeliveryRow.status == SENDING,
                    DeliveryRow.claimed_by == self.worker_id,
                )
                .values(status=PENDING, next_attempt_at=when, last_error=reason, claimed_by=None)
                .execution_options(synchronize_session=False)
            )
        return "retried"

    async def _permanent(
        self, item: Claimed, delivery: Delivery | None, error: PermanentPublishError
    ) -> str:
        self._finish(item, FAILED, error=error.reason)
        with self.store.session() as session, session.begin():
            session.execute(
                update(Subscription)
                .where(Subscription.id == item.subscription_id)
                .values(active=False, paused_reason=error.reason, updated_at=self.clock())
                .execution_options(synchronize_session=False)
            )
        _log.warning("subscription %d paused: %s", item.subscription_id, error.reason)
        publisher = self.publishers.get(item.platform)
        if delivery is None:  # nothing was composed: the notice carries the reason alone
            notice = Document(kind="notice", lang=item.lang, title=error.reason)  # type: ignore[arg-type]
            delivery = item.delivery(notice)
        if publisher is not None:
            try:
                await publisher.notify_admins(delivery, error.reason)
            except Exception:
                _log.exception(
                    "could not notify the admins of subscription %d", item.subscription_id
                )
        return "paused"


def _db_time(store: Store, value: dt.datetime) -> dt.datetime | str:
    """Raw SQL bypasses the UTC column type: SQLite stores naive UTC text, as SQLAlchemy writes it."""
    value = value.astimezone(dt.UTC)
    if store.dialect == "sqlite":
        return value.strftime("%Y-%m-%d %H:%M:%S.%f")
    return value
