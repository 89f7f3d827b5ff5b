"""The outbox: the ONE layer that reads and writes ``subscriptions`` and ``deliveries``.

- the tick enqueues scheduled posts (`Outbox.enqueue_due`, in committed chunks);
- the admin service enqueues send-now posts (`Outbox.enqueue_posts`) and manages
  subscriptions (`upsert`, `pause`, `resume`, `delete`, `find`, `status`);
- the delivery worker claims (`claim`) and records outcomes (`record`: sent, retry, failed,
  skipped, and pausing a subscription on a permanent error);
- adapters ask for a channel's subscriptions and "the story day of this subscription now"
  (`subscription_day`).

Its database calls leave the event loop here (`asyncio.to_thread`); nothing else in the bot
writes SQL on those two tables.
"""

from __future__ import annotations

from bot.outbox.outbox import NewPost, Outbox, Ref, SubscriptionFields, Target
from bot.outbox.records import (
    Claimed,
    DeliveryInfo,
    OutboxSummary,
    Outcome,
    StatusReport,
    SubscriptionInfo,
    clamp_day,
    story_day,
    subscription_day,
)
from bot.outbox.tick import CHUNK_SIZE, TickResult

__all__ = [
    "CHUNK_SIZE",
    "Claimed",
    "DeliveryInfo",
    "NewPost",
    "Outbox",
    "OutboxSummary",
    "Outcome",
    "Ref",
    "StatusReport",
    "SubscriptionFields",
    "SubscriptionInfo",
    "Target",
    "TickResult",
    "clamp_day",
    "story_day",
    "subscription_day",
]
