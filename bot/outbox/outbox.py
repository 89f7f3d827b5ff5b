"""`Outbox`: the one place that reads and writes the ``subscriptions`` and ``deliveries`` tables.

Every public method is ``async`` and runs its SQL in a worker thread (`asyncio.to_thread`):
the event loop (gateways, heartbeats, interactions) never waits on the database. The
``*_sync`` variants are the same operations for callers already off the loop (the tick thread,
command-line tools).

Claims: one atomic statement moves rows from ``pending`` to ``sending`` and stamps them with
the worker's id (PostgreSQL: ``FOR UPDATE SKIP LOCKED``, so several instances never claim the
same row; SQLite: one ``UPDATE ... RETURNING`` under ``BEGIN IMMEDIATE``). A ``sending`` row
whose claim is older than the lease (a crashed worker) is claimed again. Outcomes are recorded
in batches (`record`): one transaction for every delivery that finished meanwhile, each row
updated only while its worker still holds the claim.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, ParamSpec, TypeVar, cast

from sqlalchemy import CursorResult, bindparam, delete, desc, func, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from bot.outbox.records import (
    Claimed,
    DeliveryInfo,
    OutboxSummary,
    Outcome,
    StatusReport,
    SubscriptionInfo,
)
from bot.outbox.tick import CHUNK_SIZE, TickResult, enqueue_due
from bot.schedule import first_run, zone_of
from bot.store import (
    FAILED,
    MANUAL,
    PENDING,
    SCHEDULED,
    SENDING,
    SENT,
    SKIPPED,
    Store,
    Subscription,
    SubscriptionAlert,
)
from bot.store import Delivery as DeliveryRow
from digests.story import StoryLibrary
from digests.weekdays import ALL_DAYS

P = ParamSpec("P")
T = TypeVar("T")

_CLAIM_PG = """
UPDATE deliveries AS d
SET status = 'sending', claimed_by = :me, claimed_at = :now, attempts = d.attempts + 1
FROM (
    SELECT id FROM deliveries
    WHERE platform IN :platforms
      AND ((status = 'pending' AND next_attempt_at <= :now)
           OR (status = 'sending' AND claimed_at <= :stale AND id NOT IN :busy))
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
           OR (status = 'sending' AND claimed_at <= :stale AND id NOT IN :busy))
    ORDER BY next_attempt_at, id
    LIMIT :limit
)
RETURNING id
"""


def _aware(value: dt.datetime | str | None) -> dt.datetime | None:
    """A datetime read through Core (SQLite may hand back naive UTC or text)."""
    if value is None:
        return None
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


@dataclass(frozen=True)
class Target:
    """Subscriptions of a channel (all languages when ``lang`` is None)."""

    platform: str
    workspace_id: str
    channel_id: str
    lang: str | None = None


Ref = int | Target


@dataclass(frozen=True)
class NewPost:
    """A manual or send-now post to enqueue (`Outbox.enqueue_posts`)."""

    subscription_id: int
    platform: str
    digest_date: dt.date  # the subscriber's local day
    story_date: dt.date
    lang: str
    kind: str = SCHEDULED  # SCHEDULED: today's post (never twice); MANUAL: a given story date


@dataclass(frozen=True)
class SubscriptionFields:
    """What `Outbox.upsert` writes (the subscription's identity is platform, workspace,
    channel and language)."""

    platform: str
    workspace_id: str
    channel_id: str
    lang: str
    story_slug: str
    post_time: str
    timezone: str
    mode: str
    start_date: dt.date | None
    managed_by: str
    configured_from: str | None
    admin_lang: str
    created_by: str | None
    days: int = ALL_DAYS
    cadence: str = "daily"
    format: str = "full"
    thread: str = "none"
    user_id: str | None = None  # personal: one per (platform, workspace, user, story)
    corrections: str | None = None  # None: keep (a new subscription: edit)
    breaking: bool | None = None  # None: keep (a new subscription: off)


class Outbox:
    """Subscriptions and their deliveries, for the tick, the worker, the admin service and
    the adapters."""

    def __init__(self, store: Store) -> None:
        self.store = store

    @property
    def dialect(self) -> str:
        return self.store.dialect

    async def _off_loop(self, function: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        return await asyncio.to_thread(function, *args, **kwargs)

    def _db_time(self, value: dt.datetime) -> dt.datetime | str:
        """Raw SQL bypasses the UTC column type: SQLite stores naive UTC text."""
        value = value.astimezone(dt.UTC)
        if self.dialect == "sqlite":
            return value.strftime("%Y-%m-%d %H:%M:%S.%f")
        return value

    # ------------------------------------------------------------------ the tick

    def enqueue_due_sync(
        self,
        library: StoryLibrary,
        now: dt.datetime,
        *,
        grace: dt.timedelta = dt.timedelta(hours=6),
        no_news_line: bool = False,
        chunk_size: int = CHUNK_SIZE,
        on_chunk: Callable[[TickResult], None] | None = None,
    ) -> TickResult:
        """Scheduled posts due at ``now`` into the outbox, in committed chunks (see
        `bot.outbox.tick`)."""
        return enqueue_due(
            self.store,
            library,
            now,
            grace=grace,
            no_news_line=no_news_line,
            chunk_size=chunk_size,
            on_chunk=on_chunk,
        )

    async def enqueue_due(
        self,
        library: StoryLibrary,
        now: dt.datetime,
        *,
        grace: dt.timedelta = dt.timedelta(hours=6),
        no_news_line: bool = False,
        chunk_size: int = CHUNK_SIZE,
        on_chunk: Callable[[TickResult], None] | None = None,
    ) -> TickResult:
        """`enqueue_due_sync` in a thread; ``on_chunk`` is called on the event loop."""
        loop = asyncio.get_running_loop()
        callback = None
        if on_chunk is not None:
            wake = on_chunk

            def callback(result: TickResult) -> None:
                loop.call_soon_threadsafe(wake, result)

        return await self._off_loop(
            self.enqueue_due_sync,
            library,
            now,
            grace=grace,
            no_news_line=no_news_line,
            chunk_size=chunk_size,
            on_chunk=callback,
        )

    # ------------------------------------------------------------------ manual posts

    def _enqueue_posts(self, posts: Sequence[NewPost], now: dt.datetime) -> list[int]:
        insert = pg_insert if self.dialect == "postgresql" else sqlite_insert
        ids: list[int] = []
        with self.store.session() as session, session.begin():
            for post in posts:
                key = ["subscription_id", "digest_date", "lang"]
                if post.kind == MANUAL:
                    key.insert(2, "story_date")
                session.execute(
                    insert(DeliveryRow)
                    .values(
                        subscription_id=post.subscription_id,
                        platform=post.platform,
                        digest_date=post.digest_date,
                        story_date=post.story_date,
                        lang=post.lang,
                        kind=post.kind,
                        scheduled_for=now,
                        status=PENDING,
                        late=False,
                        attempts=0,
                        next_attempt_at=now,
                        created_at=now,
                    )
                    .on_conflict_do_nothing(
                        index_elements=key, index_where=DeliveryRow.kind == post.kind
                    )
                )
                query = select(DeliveryRow.id).where(
                    DeliveryRow.subscription_id == post.subscription_id,
                    DeliveryRow.digest_date == post.digest_date,
                    DeliveryRow.lang == post.lang,
                    DeliveryRow.kind == post.kind,
                )
                if post.kind == MANUAL:
                    query = query.where(DeliveryRow.story_date == post.story_date)
                ids.append(session.scalars(query).one())
        return ids

    async def enqueue_posts(self, posts: Sequence[NewPost], now: dt.datetime) -> list[int]:
        """Enqueue send-now posts (idempotent per the outbox keys); -> their delivery ids (an
        existing delivery's id when the same post was already enqueued)."""
        return await self._off_loop(self._enqueue_posts, posts, now)

    def _deliveries(self, ids: Sequence[int]) -> list[DeliveryInfo]:
        with self.store.session() as session:
            rows = session.scalars(
                select(DeliveryRow).where(DeliveryRow.id.in_(ids)).order_by(DeliveryRow.id)
            )
            return [DeliveryInfo.of(row) for row in rows]

    async def deliveries(self, ids: Sequence[int]) -> list[DeliveryInfo]:
        return await self._off_loop(self._deliveries, ids)

    # ------------------------------------------------------------------ the worker

    def claim_sync(
        self,
        *,
        worker_id: str,
        platforms: Sequence[str],
        now: dt.datetime,
        lease_seconds: float,
        limit: int,
        busy: Iterable[int] = (),
    ) -> list[Claimed]:
        if not platforms or limit <= 0:
            return []
        statement = text(_CLAIM_PG if self.dialect == "postgresql" else _CLAIM_SQLITE)
        statement = statement.bindparams(
            bindparam("platforms", expanding=True), bindparam("busy", expanding=True)
        )
        params = {
            "me": worker_id,
            "now": self._db_time(now),
            "stale": self._db_time(now - dt.timedelta(seconds=lease_seconds)),
            "limit": limit,
            "platforms": list(platforms),
            "busy": list(busy) or [-1],
        }
        # Before the tick's next chunk: the first posts of a busy minute wait for one chunk,
        # not for the whole due set (bot.store.gate).
        with self.store.gate.priority(), self.store.session() as session, session.begin():
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
                    s.cadence,
                    s.format,
                    s.thread,
                    s.user_id,
                    d.kind,
                    d.parent_id,
                    d.message_ids,
                    d.story_revision,
                    d.base_revision,
                    d.event_id,
                    d.scheduled_for,
                    s.corrections,
                    s.timezone,
                )
                .join_from(DeliveryRow.__table__, Subscription.__table__, d.subscription_id == s.id)
                .where(d.id.in_(ids))
                .order_by(d.next_attempt_at, d.id)
            ).all()
            # The claimed subscriptions' alerts: one query per claim, none per delivery.
            a = SubscriptionAlert.__table__.c
            alerts: dict[int, list[tuple[str, str]]] = {}
            for alert in session.execute(
                select(a.subscription_id, a.subject, a.target)
                .where(a.subscription_id.in_({row.subscription_id for row in rows}))
                .order_by(a.id)
            ):
                alerts.setdefault(alert.subscription_id, []).append((alert.subject, alert.target))
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
                cadence=row.cadence,
                format=row.format,
                thread=row.thread,
                user_id=row.user_id,
                kind=row.kind,
                parent_id=row.parent_id,
                message_ids=tuple(row.message_ids or ()),
                story_revision=row.story_revision,
                base_revision=row.base_revision,
                event_id=row.event_id,
                scheduled_for=_aware(row.scheduled_for),
                corrections=row.corrections,
                timezone=row.timezone,
                alerts=tuple(alerts.get(row.subscription_id, ())),
            )
            for row in rows
        ]

    async def claim(
        self,
        *,
        worker_id: str,
        platforms: Sequence[str],
        now: dt.datetime,
        lease_seconds: float,
        limit: int,
        busy: Iterable[int] = (),
    ) -> list[Claimed]:
        """Claim up to ``limit`` due deliveries of ``platforms`` for ``worker_id``: pending
        ones, and ``sending`` ones whose claim is older than the lease (a crashed worker's),
        except ``busy`` (the caller's own deliveries in flight)."""
        return await self._off_loop(
            self.claim_sync,
            worker_id=worker_id,
            platforms=platforms,
            now=now,
            lease_seconds=lease_seconds,
            limit=limit,
            busy=list(busy),
        )

    def record_sync(
        self, outcomes: Sequence[Outcome], *, worker_id: str, now: dt.datetime
    ) -> list[bool]:
        """Record outcomes in one transaction; each -> whether the worker still held the claim
        (False: another worker reclaimed it after the lease, and its outcome stands)."""
        done: list[bool] = []
        with self.store.gate.priority(), self.store.session() as session, session.begin():
            for outcome in outcomes:
                values: dict[str, Any] = {"last_error": outcome.error}
                if outcome.status == "retry":
                    values.update(status=PENDING, next_attempt_at=outcome.retry_at, claimed_by=None)
                else:
                    values["status"] = {"sent": SENT, "failed": FAILED, "skipped": SKIPPED}[
                        outcome.status
                    ]
                if outcome.status == "sent":
                    values.update(message_ids=list(outcome.message_ids), sent_at=now)
                if outcome.story_revision is not None:
                    values["story_revision"] = outcome.story_revision
                result = session.execute(
                    update(DeliveryRow)
                    .where(
                        DeliveryRow.id == outcome.delivery_id,
                        DeliveryRow.status == SENDING,
                        DeliveryRow.claimed_by == worker_id,
                    )
                    .values(**values)
                    .execution_options(synchronize_session=False)
                )
                done.append(bool(cast(CursorResult[Any], result).rowcount))
                if outcome.pause_subscription is not None:
                    self._pause_rows(
                        session, [outcome.pause_subscription], outcome.error or "", now
                    )
        return done

    async def record(
        self, outcomes: Sequence[Outcome], *, worker_id: str, now: dt.datetime
    ) -> list[bool]:
        return await self._off_loop(self.record_sync, outcomes, worker_id=worker_id, now=now)

    def open_count_sync(self) -> int:
        """Deliveries still to do (pending or sending)."""
        with self.store.session() as session:
            return int(
                session.scalar(
                    select(func.count())
                    .select_from(DeliveryRow)
                    .where(DeliveryRow.status.in_([PENDING, SENDING]))
                )
                or 0
            )

    async def open_count(self) -> int:
        return await self._off_loop(self.open_count_sync)

    def next_attempt_sync(self, platforms: Sequence[str]) -> dt.datetime | None:
        """When the earliest pending delivery of ``platforms`` is due (retries wait)."""
        if not platforms:
            return None
        with self.store.session() as session:
            return session.scalar(
                select(func.min(DeliveryRow.next_attempt_at)).where(
                    DeliveryRow.status == PENDING, DeliveryRow.platform.in_(list(platforms))
                )
            )

    async def next_attempt(self, platforms: Sequence[str]) -> dt.datetime | None:
        return await self._off_loop(self.next_attempt_sync, platforms)

    # ------------------------------------------------------------------ subscriptions

    @staticmethod
    def _select(ref: Ref) -> Any:
        if isinstance(ref, int):
            return select(Subscription).where(Subscription.id == ref)
        query = select(Subscription).where(
            Subscription.platform == ref.platform,
            Subscription.workspace_id == ref.workspace_id,
            Subscription.channel_id == ref.channel_id,
        )
        if ref.lang:
            query = query.where(Subscription.lang == ref.lang)
        return query.order_by(Subscription.id)

    def find_sync(self, ref: Ref) -> list[SubscriptionInfo]:
        with self.store.session() as session:
            return [SubscriptionInfo.of(row) for row in session.scalars(self._select(ref))]

    async def find(self, ref: Ref) -> list[SubscriptionInfo]:
        """The subscriptions ``ref`` names (an id, or a channel and maybe a language)."""
        return await self._off_loop(self.find_sync, ref)

    def get_sync(self, subscription_id: int) -> SubscriptionInfo | None:
        found = self.find_sync(subscription_id)
        return found[0] if found else None

    async def get(self, subscription_id: int) -> SubscriptionInfo | None:
        return await self._off_loop(self.get_sync, subscription_id)

    def _list(
        self, platform: str | None, workspace_id: str | None, channel_id: str | None
    ) -> list[SubscriptionInfo]:
        query = select(Subscription).order_by(
            Subscription.platform,
            Subscription.workspace_id,
            Subscription.channel_id,
            Subscription.lang,
        )
        if platform:
            query = query.where(Subscription.platform == platform)
        if workspace_id is not None:
            query = query.where(Subscription.workspace_id == workspace_id)
        if channel_id is not None:
            query = query.where(Subscription.channel_id == channel_id)
        with self.store.session() as session:
            return [SubscriptionInfo.of(row) for row in session.scalars(query)]

    async def subscriptions(
        self,
        *,
        platform: str | None = None,
        workspace_id: str | None = None,
        channel_id: str | None = None,
    ) -> list[SubscriptionInfo]:
        return await self._off_loop(self._list, platform, workspace_id, channel_id)

    def _personal(self, platform: str, workspace_id: str, user_id: str) -> list[SubscriptionInfo]:
        with self.store.session() as session:
            rows = session.scalars(
                select(Subscription)
                .where(
                    Subscription.platform == platform,
                    Subscription.workspace_id == workspace_id,
                    Subscription.user_id == user_id,
                )
                .order_by(Subscription.story_slug)
            )
            return [SubscriptionInfo.of(row) for row in rows]

    async def personal(
        self, platform: str, workspace_id: str, user_id: str
    ) -> list[SubscriptionInfo]:
        """A member's personal subscriptions (one per story)."""
        return await self._off_loop(self._personal, platform, workspace_id, user_id)

    def _upsert(
        self,
        fields: SubscriptionFields,
        now: dt.datetime,
        check: Callable[[SubscriptionInfo], None] | None,
    ) -> tuple[SubscriptionInfo, bool]:
        with self.store.session() as session, session.begin():
            if fields.user_id is not None:  # a member's own: one per user and story
                identity = select(Subscription).where(
                    Subscription.platform == fields.platform,
                    Subscription.workspace_id == fields.workspace_id,
                    Subscription.user_id == fields.user_id,
                    Subscription.story_slug == fields.story_slug,
                )
            else:
                identity = select(Subscription).where(
                    Subscription.platform == fields.platform,
                    Subscription.workspace_id == fields.workspace_id,
                    Subscription.channel_id == fields.channel_id,
                    Subscription.lang == fields.lang,
                )
            row = session.scalars(identity).one_or_none()
            created = row is None
            if row is None:
                row = Subscription(
                    platform=fields.platform,
                    workspace_id=fields.workspace_id,
                    channel_id=fields.channel_id,
                    lang=fields.lang,
                    active=True,
                    created_at=now,
                    created_by=fields.created_by,
                    user_id=fields.user_id,
                )
                session.add(row)
            elif check is not None:
                check(SubscriptionInfo.of(row))
            schedule = (
                fields.post_time,
                fields.timezone,
                fields.mode,
                fields.start_date,
                fields.story_slug,
                fields.days,
            )
            old = (
                row.post_time,
                row.timezone,
                row.mode,
                row.start_date,
                row.story_slug,
                row.days,
            )
            row.story_slug = fields.story_slug
            row.post_time, row.timezone = fields.post_time, fields.timezone
            row.mode, row.start_date = fields.mode, fields.start_date
            row.days, row.cadence, row.format = fields.days, fields.cadence, fields.format
            row.thread = fields.thread
            # A personal subscription follows its member's DM channel and language.
            row.channel_id, row.lang = fields.channel_id, fields.lang
            row.managed_by = fields.managed_by
            row.configured_from = fields.configured_from
            row.admin_lang = fields.admin_lang
            if fields.corrections is not None:
                row.corrections = fields.corrections
            elif created:
                row.corrections = "edit"
            if fields.breaking is not None:
                row.breaking = fields.breaking
            elif created:
                row.breaking = False
            row.updated_at = now
            if created or schedule != old or row.next_run_at is None:
                row.next_run_at = first_run(
                    post_time=fields.post_time,
                    tz=fields.timezone,
                    mode=fields.mode,
                    start_date=fields.start_date,
                    now=now,
                    days=fields.days,
                )
            session.flush()
            return SubscriptionInfo.of(row), created

    async def upsert(
        self,
        fields: SubscriptionFields,
        now: dt.datetime,
        *,
        check: Callable[[SubscriptionInfo], None] | None = None,
    ) -> tuple[SubscriptionInfo, bool]:
        """Create the subscription or update the one with the same identity (``check`` may
        refuse the existing one by raising); a changed schedule gets a new next run."""
        return await self._off_loop(self._upsert, fields, now, check)

    def _delete(self, ids: Iterable[int]) -> None:
        with self.store.session() as session, session.begin():
            session.execute(delete(Subscription).where(Subscription.id.in_(list(ids))))

    async def delete(self, ids: Iterable[int]) -> None:
        """Delete subscriptions (their deliveries go with them)."""
        await self._off_loop(self._delete, list(ids))

    def _delete_file_managed(self, keep: set[int]) -> list[SubscriptionInfo]:
        with self.store.session() as session, session.begin():
            stale = [
                row
                for row in session.scalars(
                    select(Subscription).where(Subscription.managed_by == "file")
                )
                if row.id not in keep
            ]
            infos = [SubscriptionInfo.of(row) for row in stale]
            for row in stale:
                session.delete(row)
        return infos

    async def delete_file_managed(self, keep: set[int]) -> list[SubscriptionInfo]:
        """Delete the file-managed subscriptions not in ``keep``; -> those deleted."""
        return await self._off_loop(self._delete_file_managed, keep)

    @staticmethod
    def _pause_rows(session: Session, ids: Sequence[int], reason: str, now: dt.datetime) -> None:
        session.execute(
            update(Subscription)
            .where(Subscription.id.in_(list(ids)))
            .values(active=False, paused_reason=reason, updated_at=now)
            .execution_options(synchronize_session=False)
        )

    def _pause(self, ids: Sequence[int], reason: str, now: dt.datetime) -> list[SubscriptionInfo]:
        with self.store.session() as session, session.begin():
            self._pause_rows(session, ids, reason, now)
        return self._by_ids(ids)

    async def pause(
        self, ids: Sequence[int], reason: str, now: dt.datetime
    ) -> list[SubscriptionInfo]:
        """Pause subscriptions with a reason (shown by ``status``); nothing is enqueued for a
        paused subscription."""
        return await self._off_loop(self._pause, list(ids), reason, now)

    def _resume(self, ids: Sequence[int], now: dt.datetime) -> list[SubscriptionInfo]:
        with self.store.session() as session, session.begin():
            for row in session.scalars(select(Subscription).where(Subscription.id.in_(ids))):
                row.active = True
                row.paused_reason = None
                row.updated_at = now
                start = row.start_date if row.start_date and row.mode == "replay" else None
                if start is not None and start < now.astimezone(zone_of(row.timezone)).date():
                    start = None  # a replay already under way goes on from its next day
                row.next_run_at = first_run(
                    post_time=row.post_time,
                    tz=row.timezone,
                    mode=row.mode,
                    start_date=start,
                    now=now,
                    days=row.days,
                )
        return self._by_ids(ids)

    async def resume(self, ids: Sequence[int], now: dt.datetime) -> list[SubscriptionInfo]:
        """Reactivate; the next post is the next scheduled time (missed days are not caught up)."""
        return await self._off_loop(self._resume, list(ids), now)

    def _by_ids(self, ids: Sequence[int]) -> list[SubscriptionInfo]:
        with self.store.session() as session:
            rows = session.scalars(
                select(Subscription).where(Subscription.id.in_(list(ids))).order_by(Subscription.id)
            )
            return [SubscriptionInfo.of(row) for row in rows]

    def _file_start(
        self, platform: str, workspace_id: str, channel_id: str, lang: str
    ) -> dt.date | None:
        with self.store.session() as session:
            return session.scalars(
                select(Subscription.start_date).where(
                    Subscription.platform == platform,
                    Subscription.workspace_id == workspace_id,
                    Subscription.channel_id == channel_id,
                    Subscription.lang == lang,
                    Subscription.managed_by == "file",
                    Subscription.mode == "replay",
                )
            ).one_or_none()

    async def file_replay_start(
        self, platform: str, workspace_id: str, channel_id: str, lang: str
    ) -> dt.date | None:
        """The replay start applied for this file-managed entry, if any."""
        return await self._off_loop(self._file_start, platform, workspace_id, channel_id, lang)

    def _status(self, ids: Sequence[int], recent: int) -> list[StatusReport]:
        reports = []
        with self.store.session() as session:
            for row in session.scalars(
                select(Subscription).where(Subscription.id.in_(list(ids))).order_by(Subscription.id)
            ):
                counts: dict[str, int] = {
                    status: count
                    for status, count in session.execute(
                        select(DeliveryRow.status, func.count())
                        .where(DeliveryRow.subscription_id == row.id)
                        .group_by(DeliveryRow.status)
                    )
                }
                last = session.scalars(
                    select(DeliveryRow)
                    .where(DeliveryRow.subscription_id == row.id)
                    .order_by(desc(DeliveryRow.scheduled_for), DeliveryRow.lang)
                    .limit(recent)
                )
                reports.append(
                    StatusReport(
                        subscription=SubscriptionInfo.of(row),
                        recent=tuple(DeliveryInfo.of(d) for d in last),
                        sent=counts.get(SENT, 0),
                        failed=counts.get(FAILED, 0),
                        skipped=counts.get(SKIPPED, 0),
                        pending=counts.get(PENDING, 0),
                    )
                )
        return reports

    async def status(self, ids: Sequence[int], *, recent: int = 10) -> list[StatusReport]:
        """Counts by status and the ``recent`` latest deliveries of each subscription."""
        return await self._off_loop(self._status, list(ids), recent)

    # ------------------------------------------------------------------ metrics

    def _summary(self, now: dt.datetime) -> OutboxSummary:
        with self.store.session() as session:
            extra = (
                func.max(DeliveryRow.attempts - 1, 0)
                if self.dialect == "sqlite"
                else func.greatest(DeliveryRow.attempts - 1, 0)
            )
            rows = session.execute(
                select(
                    DeliveryRow.platform, DeliveryRow.status, func.count(), func.sum(extra)
                ).group_by(DeliveryRow.platform, DeliveryRow.status)
            ).all()
            due, oldest = session.execute(
                select(func.count(), func.min(DeliveryRow.next_attempt_at)).where(
                    DeliveryRow.status == PENDING, DeliveryRow.next_attempt_at <= now
                )
            ).one()
        retries: dict[str, int] = {}
        for platform, _status, _count, more in rows:
            retries[platform] = retries.get(platform, 0) + int(more or 0)
        if isinstance(oldest, str):  # SQLite aggregates bypass the column type
            oldest = dt.datetime.fromisoformat(oldest).replace(tzinfo=dt.UTC)
        elif oldest is not None and oldest.tzinfo is None:
            oldest = oldest.replace(tzinfo=dt.UTC)
        return OutboxSummary(
            counts={(platform, status): int(count) for platform, status, count, _ in rows},
            retries=retries,
            due=int(due or 0),
            oldest_due=oldest,
        )

    async def summary(self, now: dt.datetime) -> OutboxSummary:
        """Deliveries by platform and status, retries, posts due and the oldest due (metrics)."""
        return await self._off_loop(self._summary, now)
