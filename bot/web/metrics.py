"""Prometheus metrics of the web side, and the text exposition of every registered metric.

Metrics live in one registry per process (`bot.metrics.REGISTRY`): the engine and the
adapters record theirs there (429s, tick, digest render and interaction durations).
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

from bot.metrics import REGISTRY

__all__ = ["REGISTRY"]

REQUESTS = Counter(
    "depeche_web_requests",
    "HTTP requests answered by the web side, by route and status",
    ["route", "status"],
    registry=REGISTRY,
)
RENDER_SECONDS = Histogram(
    "depeche_web_render_seconds",
    "Time to render a page or picture",
    ["page"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
    registry=REGISTRY,
)
STORIES = Gauge("depeche_stories", "Stories loaded", registry=REGISTRY)
READY = Gauge(
    "depeche_ready",
    "1 when the part is ready (database, each platform)",
    ["part"],
    registry=REGISTRY,
)

DELIVERIES = Gauge(
    "depeche_deliveries",
    "Deliveries in the outbox by platform and status (sent, pending, sending, failed, skipped)",
    ["platform", "status"],
    registry=REGISTRY,
)
RETRIES = Gauge(
    "depeche_delivery_retries",
    "Publish attempts beyond the first, by platform (outbox totals)",
    ["platform"],
    registry=REGISTRY,
)
OUTBOX_DUE = Gauge("depeche_outbox_due", "Posts due now and not yet sent", registry=REGISTRY)
OUTBOX_OLDEST = Gauge(
    "depeche_outbox_oldest_due_seconds",
    "How long the oldest post due now has been waiting (0 when none)",
    registry=REGISTRY,
)
