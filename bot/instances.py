"""Live instances: each `depeche run` process beats a heartbeat in the ``instances`` table, and
hands the claims of an instance that stopped beating back to the others.

A delivery claimed by a worker stays ``sending`` until that worker records the outcome; the
claim lease (``DEPECHE_LEASE_SECONDS``, 300 s) lets another worker take it over when the
claimer never comes back. A claim lease must be long (a live worker may hold a claim while it
waits for the rate limit, and taking it over early means a second attempt), so the lease alone
would leave a killed instance's posts waiting five minutes. Heartbeats say sooner, and only for
the dead: every ``interval`` seconds (5) each live instance records that it is alive and looks
for instances not seen for ``dead_after`` seconds (15). Their ``sending`` claims are released
(their lease is made to look expired, so the next claim takes them over, and the re-attempt
first asks the platform whether the post went out), their rows are deleted, and ``on_released``
wakes this instance's worker. A killed instance's posts are therefore back in a live worker's
hands within ``dead_after + interval`` (20 s) — its share of the rate budget needs nothing:
see `bot.budget`, an instance that sends nothing reserves nothing.

An instance that stopped cleanly deletes its row (`leave`). Ids are the delivery workers' ids
(``deliveries.claimed_by``).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, cast

from sqlalchemy import Table, delete, select
from sqlalchemy.dialects import postgresql, sqlite

from bot.outbox.leases import release_claims
from bot.store import Instance, Store

_log = logging.getLogger(__name__)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def beat(store: Store, instance_id: str, now: dt.datetime, *, started_at: dt.datetime) -> None:
    """Record that ``instance_id`` is alive at ``now`` (insert or update its row)."""
    table = cast(Table, Instance.__table__)
    values = {
        "id": instance_id,
        "host": socket.gethostname()[:255],
        "pid": os.getpid(),
        "started_at": started_at,
        "seen_at": now,
    }
    statement: Any
    if store.dialect == "postgresql":
        statement = postgresql.insert(table).values(**values)
    else:
        statement = sqlite.insert(table).values(**values)
    statement = statement.on_conflict_do_update(index_elements=[table.c.id], set_={"seen_at": now})
    with store.engine.begin() as connection:
        connection.execute(statement)


def live_instances(store: Store, now: dt.datetime, dead_after: float) -> list[str]:
    """Ids of the instances seen within ``dead_after`` seconds of ``now``."""
    since = now - dt.timedelta(seconds=dead_after)
    with store.session() as session:
        return list(
            session.scalars(
                select(Instance.id).where(Instance.seen_at > since).order_by(Instance.id)
            )
        )


def release_dead(store: Store, now: dt.datetime, dead_after: float) -> tuple[list[str], int]:
    """Release the ``sending`` claims of the instances not seen for ``dead_after`` seconds and
    forget them; return their ids and the number of claims released."""
    since = now - dt.timedelta(seconds=dead_after)
    with store.session() as session, session.begin():
        dead = list(session.scalars(select(Instance.id).where(Instance.seen_at <= since)))
        if not dead:
            return [], 0
        released = release_claims(session, dead)
        session.execute(
            delete(Instance)
            .where(Instance.id.in_(dead), Instance.seen_at <= since)
            .execution_options(synchronize_session=False)
        )
    return dead, released


def leave(store: Store, instance_id: str) -> None:
    with store.session() as session, session.begin():
        session.execute(
            delete(Instance)
            .where(Instance.id == instance_id)
            .execution_options(synchronize_session=False)
        )


@dataclass
class InstanceRegistry:
    """This instance's heartbeat, and the release of dead instances' claims (`run`)."""

    store: Store
    instance_id: str
    interval: float = 5.0
    dead_after: float = 15.0
    clock: Callable[[], dt.datetime] = utcnow
    on_released: Callable[[int], object] | None = None
    started_at: dt.datetime = field(default_factory=utcnow)

    def __post_init__(self) -> None:
        if self.dead_after <= self.interval:
            raise ValueError("dead_after must be longer than the heartbeat interval")

    def step(self, now: dt.datetime | None = None) -> int:
        """One heartbeat and one look for dead instances; return the claims released."""
        now = now or self.clock()
        beat(self.store, self.instance_id, now, started_at=self.started_at)
        dead, released = release_dead(self.store, now, self.dead_after)
        if dead:
            _log.warning(
                "instance(s) %s stopped beating: %d claimed deliveries handed back",
                ", ".join(dead),
                released,
            )
        return released

    def live(self, now: dt.datetime | None = None) -> list[str]:
        return live_instances(self.store, now or self.clock(), self.dead_after)

    async def run(self) -> None:
        """Beat every ``interval`` seconds until cancelled; then leave."""
        try:
            while True:
                try:
                    released = await asyncio.to_thread(self.step)
                except Exception as error:  # the database is away: try again next beat
                    _log.warning("heartbeat failed: %s", type(error).__name__)
                    released = 0
                if released and self.on_released is not None:
                    self.on_released(released)
                await asyncio.sleep(self.interval)
        finally:
            try:
                await asyncio.shield(asyncio.to_thread(leave, self.store, self.instance_id))
            except Exception as error:  # cancelled or the database is away: rows expire anyway
                _log.debug("could not unregister instance: %s", type(error).__name__)
