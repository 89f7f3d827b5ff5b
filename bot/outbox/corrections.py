"""Corrections and breaking alerts into the outbox (part of the outbox layer: it writes
``deliveries`` and reads ``subscriptions``).

**Corrections.** Every post records the story revision it shows (``story_revision``). When a
newer revision R is served, `enqueue_corrections` looks at the posts already out of that story
that show an older revision: a post whose day reads differently under R (the days of
`digests.story_diff.StoryDiff.changed_days` between its revision and R) gets one ``correction``
row, unique per (post, R) — whatever instance, crash or tick tries again, it is enqueued once
and delivered through the same claims, rate budget and retries as posts. Every post looked at
is then marked as showing R in the same transaction, so the next scan finds nothing to do
(cheap: an index on ``story_revision``). A post recorded with an older revision after the scan
(a lagging instance) is found by the next tick's scan. Subscriptions with ``corrections = off``
get no row.

**Breaking alerts.** When revision R newly marks an event ``breaking: true`` (added, or flagged)
and the event's day is today for a live subscription with ``breaking = on``, one ``breaking``
row per (subscription, event, language). Replay subscriptions never get one (no spoilers).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from bot.schedule import langs_of, zone_of
from bot.store import BREAKING, CORRECTION, PENDING, POST_KINDS, SENT, Store, Subscription
from bot.store import Delivery as DeliveryRow
from digests.errors import DepecheError
from digests.story import Event, Story
from digests.story_diff import diff_stories

_log = logging.getLogger(__name__)

INSERT_CHUNK = 500


class RevisionSource(Protocol):
    """What the scans need to know about story revisions (`bot.stories.LiveStories`)."""

    def compiled(self, slug: str, revision: int) -> Story: ...

    def published_at(self, slug: str, revision: int) -> dt.datetime: ...


@dataclass(frozen=True)
class ScanResult:
    corrections: int = 0  # correction rows enqueued
    alerts: int = 0  # breaking alert rows enqueued
    looked_at: int = 0  # posts found showing an older revision


def _breaking_events(before: Story | None, after: Story) -> list[Event]:
    """Events ``after`` marks breaking that ``before`` did not."""
    already = {e.id for e in before.events if e.breaking} if before is not None else set()
    return [e for e in after.events if e.breaking and e.id not in already]


class UpdatesOutbox:
    """Enqueues corrections and breaking alerts. Blocking methods end in ``_sync``; the async
    ones run them in a thread (the event loop never waits on the database)."""

    def __init__(self, store: Store, revisions: RevisionSource) -> None:
        self.store = store
        self.revisions = revisions

    def _insert(self) -> Callable[..., Any]:
        return pg_insert if self.store.dialect == "postgresql" else sqlite_insert

    # ------------------------------------------------------------------ corrections

    def _changed_days(self, slug: str, base: int, revision: int) -> set[dt.date]:
        try:
            before = self.revisions.compiled(slug, base)
            after = self.revisions.compiled(slug, revision)
        except DepecheError as error:  # a revision that no longer compiles: nothing to compare
            _log.warning(
                "story %s: cannot compare revisions %d and %d: %s", slug, base, revision, error
            )
            return set()
        return set(diff_stories(before, after).changed_days)

    def enqueue_corrections_sync(self, slug: str, revision: int, now: dt.datetime) -> ScanResult:
        d, s = DeliveryRow.__table__.c, Subscription.__table__.c
        with self.store.session() as session:
            rows = session.execute(
                select(
                    d.id,
                    d.subscription_id,
                    d.platform,
                    d.digest_date,
                    d.story_date,
                    d.lang,
                    d.story_revision,
                    d.message_ids,
                    s.corrections,
                )
                .join_from(DeliveryRow.__table__, Subscription.__table__, d.subscription_id == s.id)
                .where(
                    d.story_revision < revision,
                    d.status == SENT,
                    d.kind.in_(POST_KINDS),
                    s.story_slug == slug,
                )
                .order_by(d.id)
            ).all()
        if not rows:
            return ScanResult()
        # Compiling and comparing revisions reads story_revisions: outside the write
        # transaction (SQLite has one writer; the comparison may take a while).
        changed = {
            base: self._changed_days(slug, base, revision)
            for base in {row.story_revision for row in rows}
        }
        published = self.revisions.published_at(slug, revision)
        with self.store.session() as session, session.begin():
            values = [
                {
                    "subscription_id": row.subscription_id,
                    "platform": row.platform,
                    "digest_date": row.digest_date,
                    "story_date": row.story_date or row.digest_date,
                    "lang": row.lang,
                    "kind": CORRECTION,
                    "scheduled_for": published,
                    "status": PENDING,
                    "late": False,
                    "attempts": 0,
                    "message_ids": list(row.message_ids or ()),
                    "next_attempt_at": now,
                    "created_at": now,
                    "parent_id": row.id,
                    "story_revision": revision,
                    "base_revision": row.story_revision,
                }
                for row in rows
                if row.corrections != "off"
                and row.message_ids
                and (row.story_date or row.digest_date) in changed[row.story_revision]
            ]
            enqueued = 0
            insert = self._insert()
            for start in range(0, len(values), INSERT_CHUNK):
                result = session.execute(
                    insert(DeliveryRow)
                    .values(values[start : start + INSERT_CHUNK])
                    .on_conflict_do_nothing(
                        index_elements=["parent_id", "story_revision"],
                        index_where=DeliveryRow.kind == CORRECTION,
                    )
                )
                enqueued += max(int(getattr(result, "rowcount", 0) or 0), 0)
            # Every post looked at now shows R (corrected, or unchanged under R).
            session.execute(
                update(DeliveryRow)
                .where(
                    DeliveryRow.id.in_([row.id for row in rows]),
                    DeliveryRow.story_revision < revision,
                )
                .values(story_revision=revision)
                .execution_options(synchronize_session=False)
            )
        if enqueued:
            _log.info(
                "story %s revision %d: %d correction(s) of posts already out enqueued",
                slug,
                revision,
                enqueued,
            )
        return ScanResult(corrections=enqueued, looked_at=len(rows))

    # ------------------------------------------------------------------ breaking alerts

    def enqueue_breaking_sync(
        self, slug: str, revision: int, now: dt.datetime, *, since: int | None = None
    ) -> ScanResult:
        """Alerts for the events ``revision`` marks breaking that revision ``since`` (the one
        served before; unknown: the previous one) did not: two revisions published within one
        tick lose no alert."""
        after = self.revisions.compiled(slug, revision)
        before = None
        base = since if since is not None and since < revision else revision - 1
        if base >= 1:
            try:
                before = self.revisions.compiled(slug, base)
            except DepecheError:
                before = None
        events = _breaking_events(before, after)
        if not events:
            return ScanResult()
        s = Subscription.__table__.c
        values = []
        with self.store.session() as session, session.begin():
            subscriptions = session.execute(
                select(s.id, s.platform, s.lang, s.timezone).where(
                    s.story_slug == slug, s.active.is_(True), s.mode == "live", s.breaking.is_(True)
                )
            ).all()
            for sub in subscriptions:
                today = now.astimezone(zone_of(sub.timezone)).date()
                for event in events:
                    if event.date.first != today:
                        continue
                    for lang in langs_of(sub.lang):
                        values.append(
                            {
                                "subscription_id": sub.id,
                                "platform": sub.platform,
                                "digest_date": today,
                                "story_date": today,
                                "lang": lang,
                                "kind": BREAKING,
                                "scheduled_for": now,
                                "status": PENDING,
                                "late": False,
                                "attempts": 0,
                                "next_attempt_at": now,
                                "created_at": now,
                                "story_revision": revision,
                                "event_id": event.id,
                            }
                        )
            enqueued = 0
            insert = self._insert()
            for start in range(0, len(values), INSERT_CHUNK):
                result = session.execute(
                    insert(DeliveryRow)
                    .values(values[start : start + INSERT_CHUNK])
                    .on_conflict_do_nothing(
                        index_elements=["subscription_id", "event_id", "lang"],
                        index_where=DeliveryRow.kind == BREAKING,
                    )
                )
                enqueued += max(int(getattr(result, "rowcount", 0) or 0), 0)
        if enqueued:
            _log.info(
                "story %s revision %d: %d breaking alert(s) enqueued", slug, revision, enqueued
            )
        return ScanResult(alerts=enqueued)

    # ------------------------------------------------------------------ both, per tick

    def scan_sync(
        self,
        served: dict[str, int],
        new: Sequence[tuple[str, int, int | None]],
        now: dt.datetime,
    ) -> ScanResult:
        """Each tick: corrections of posts showing an older revision than the one served;
        breaking alerts of the revisions served since the last tick (``new``)."""
        corrections = alerts = looked_at = 0
        for slug, revision in sorted(served.items()):
            result = self.enqueue_corrections_sync(slug, revision, now)
            corrections += result.corrections
            looked_at += result.looked_at
        for slug, revision, since in new:
            alerts += self.enqueue_breaking_sync(slug, revision, now, since=since).alerts
        return ScanResult(corrections=corrections, alerts=alerts, looked_at=looked_at)

    async def scan(
        self,
        served: dict[str, int],
        new: Sequence[tuple[str, int, int | None]],
        now: dt.datetime,
    ) -> ScanResult:
        return await asyncio.to_thread(self.scan_sync, dict(served), list(new), now)


__all__ = ["RevisionSource", "ScanResult", "UpdatesOutbox"]
