"""The SQL store: models, engines, migrations. SQLite by default, PostgreSQL for many instances."""

from bot.store.engine import (
    DatabaseURLError,
    Store,
    check_url,
    connecting,
    make_engine,
    normalise_url,
)
from bot.store.models import (
    FAILED,
    MANUAL,
    PENDING,
    SCHEDULED,
    SENDING,
    SENT,
    SKIPPED,
    Base,
    ConsolePost,
    Delivery,
    Instance,
    RateBudget,

    StoryRevision,
    Subscription,
)

__all__ = [
    "FAILED",
    "MANUAL",
    "PENDING",
    "SCHEDULED",
    "SENDING",
    "SENT",
    "SKIPPED",
    "Base",
    "ConsolePost",
    "DatabaseURLError",
    "Delivery",
    "Instance",
    "RateBudget",
    "Store",
    "StoryRevision",
    "Subscription",
    "check_url",
    "connecting",
    "make_engine",
    "normalise_url",
]
