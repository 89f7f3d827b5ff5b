"""Alerts of subscriptions (``subscription_alerts``): part of the outbox layer, which owns
everything about subscriptions. Database calls leave the event loop here."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Iterable, Sequence

from sqlalchemy import delete, select

from bot.store import Store, SubscriptionAlert


class Alerts:
    """Add, remove and read the alerts of subscriptions."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def add_sync(
        self,
        subscription_ids: Sequence[int],
        subject: str,
        target: str,
        by: str | None,
        now: dt.datetime,
    ) -> int:
        """Attach the alert to each subscription (once: already there is fine); how many new."""
        added = 0
        with self.store.session() as session, session.begin():
            existing = {
                row[0]
                for row in session.execute(
                    select(SubscriptionAlert.subscription_id).where(
                        SubscriptionAlert.subscription_id.in_(subscription_ids),
                        SubscriptionAlert.subject == subject,
                        SubscriptionAlert.target == target,
                    )
                )
            }
            for subscription_id in subscription_ids:
                if subscription_id in existing:
                    continue
                session.add(
                    SubscriptionAlert(
                        subscription_id=subscription_id,
                        subject=subject,
                        target=target,
                        created_by=by,
                        created_at=now,
                    )
                )
                added += 1
        return added

    async def add(
        self,
        subscription_ids: Sequence[int],
        subject: str,
        target: str,
        by: str | None,
        now: dt.datetime,
    ) -> int:
        return await asyncio.to_thread(self.add_sync, subscription_ids, subject, target, by, now)

    def remove_sync(
        self, subscription_ids: Sequence[int], subject: str | None, target: str | None
    ) -> int:
        """Remove the alerts on ``subject`` (all subjects: None) for ``target`` (all: None)."""
        statement = delete(SubscriptionAlert).where(
            SubscriptionAlert.subscription_id.in_(subscription_ids)
        )
        if subject is not None:
            statement = statement.where(SubscriptionAlert.subject == subject)
        if target is not None:
            statement = statement.where(SubscriptionAlert.target == target)
        with self.store.session() as session, session.begin():
            return int(session.execute(statement).rowcount or 0)  # type: ignore[attr-defined]

    async def remove(
        self, subscription_ids: Sequence[int], subject: str | None, target: str | None
    ) -> int:
        return await asyncio.to_thread(self.remove_sync, subscription_ids, subject, target)

    def replace_sync(
        self,
        subscription_id: int,
        alerts: Iterable[tuple[str, str]],
        by: str | None,
        now: dt.datetime,
    ) -> None:
        """Exactly these (subject, target) alerts on the subscription (the configuration file)."""
        wanted = list(dict.fromkeys(alerts))  # the file's order
        with self.store.session() as session, session.begin():
            rows = session.scalars(
                select(SubscriptionAlert).where(
                    SubscriptionAlert.subscription_id == subscription_id
                )
            ).all()
            have = {(row.subject, row.target): row for row in rows}
            for key, row in have.items():
                if key not in wanted:
                    session.delete(row)
            for subject, target in (key for key in wanted if key not in have):
                session.add(
                    SubscriptionAlert(
                        subscription_id=subscription_id,
                        subject=subject,
                        target=target,
                        created_by=by,
                        created_at=now,
                    )
                )

    async def replace(
        self,
        subscription_id: int,
        alerts: Iterable[tuple[str, str]],
        by: str | None,
        now: dt.datetime,
    ) -> None:
        await asyncio.to_thread(self.replace_sync, subscription_id, list(alerts), by, now)
