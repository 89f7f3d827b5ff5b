"""Claims whose worker is gone: handing them back to the live workers.

A claimed delivery stays ``sending`` until its worker records the outcome; the claim lease lets
another worker take it over once ``claimed_at`` is older than the lease. When `bot.instances`
learns from the heartbeats that a worker is dead, it asks for its claims here, in the same
transaction that forgets the dead instance, so the outbox stays the one layer writing
``deliveries``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import CursorResult, update
from sqlalchemy.orm import Session

from bot.store import SENDING
from bot.store import Delivery as DeliveryRow

# A claim time older than any lease: the next claim takes the delivery over (and, as for any
# take-over, first asks the platform whether the post already went out).
RELEASED = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def release_claims(session: Session, workers: Sequence[str]) -> int:
    """Make the ``sending`` claims of ``workers`` look expired; return how many there were."""
    if not workers:
        return 0
    result = session.execute(
        update(DeliveryRow)
        .where(DeliveryRow.status == SENDING, DeliveryRow.claimed_by.in_(list(workers)))
        .values(claimed_at=RELEASED)
        .execution_options(synchronize_session=False)
    )
    return int(cast(CursorResult[Any], result).rowcount or 0)
