"""Operators' endpoints: ``/healthz`` (the process answers), ``/readyz`` (the database is
reachable and each configured platform is connected), ``/metrics`` (Prometheus text format,
optionally behind ``DEPECHE_METRICS_TOKEN``)."""

from __future__ import annotations

import asyncio
import hmac
import logging

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

from bot.web.metrics import (
    DELIVERIES,
    OUTBOX_DUE,
    OUTBOX_OLDEST,
    READY,
    REGISTRY,
    RETRIES,
    STORIES,
)
from bot.web.state import STATE, WebState

_log = logging.getLogger(__name__)
DB_TIMEOUT = 3.0


async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


def _ping(state: WebState) -> None:
    with state.context.store.engine.connect() as connection:
        connection.execute(text("SELECT 1"))


async def check_ready(state: WebState) -> dict[str, bool]:
    parts: dict[str, bool] = {}
    try:
        await asyncio.wait_for(asyncio.to_thread(_ping, state), DB_TIMEOUT)
        parts["database"] = True
    except Exception as error:  # any failure means "not ready", reported as such
        _log.warning("readyz: database not reachable (%s)", type(error).__name__)
        parts["database"] = False
    for name, check in state.readiness.items():
        try:
            parts[name] = bool(check())
        except Exception:
            parts[name] = False
    for name, ok in parts.items():
        READY.labels(part=name).set(1 if ok else 0)
    return parts


async def readyz(request: web.Request) -> web.Response:
    parts = await check_ready(request.app[STATE])
    ready = all(parts.values())
    return web.json_response(
        {"status": "ready" if ready else "not ready", "checks": parts}, status=200 if ready else 503
    )


async def metrics(request: web.Request) -> web.Response:
    state = request.app[STATE]
    token = state.context.settings.web.metrics_token
    if token is not None and token.get_secret_value():
        expected = f"Bearer {token.get_secret_value()}"
        given = request.headers.get("Authorization", "")
        if not hmac.compare_digest(given.encode(), expected.encode()):
            raise web.HTTPUnauthorized(text="a bearer token is required for /metrics\n")
    STORIES.set(len(state.context.library))
    await check_ready(state)
    await _outbox(state)
    return web.Response(
        body=generate_latest(REGISTRY), headers={"Content-Type": CONTENT_TYPE_LATEST}
    )


async def _outbox(state: WebState) -> None:
    try:
        summary = await state.context.admin.outbox_summary()
    except Exception as error:  # metrics must answer even when the database does not
        _log.warning("metrics: outbox not readable (%s)", type(error).__name__)
        return
    DELIVERIES.clear()
    for (platform, status), count in summary.counts.items():
        DELIVERIES.labels(platform=platform, status=status).set(count)
    RETRIES.clear()
    for platform, retries in summary.retries.items():
        RETRIES.labels(platform=platform).set(retries)
    OUTBOX_DUE.set(summary.due)
    age = (state.now() - summary.oldest_due).total_seconds() if summary.oldest_due else 0.0
    OUTBOX_OLDEST.set(max(0.0, age))


def add_routes(app: web.Application) -> None:
    app.router.add_get("/healthz", healthz, name="healthz")
    app.router.add_get("/readyz", readyz, name="readyz")
    app.router.add_get("/metrics", metrics, name="metrics")
