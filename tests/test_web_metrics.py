"""/metrics figures from the outbox, read through the admin service, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import re

from bot.admin import CLI, AdminService, SubscriptionSpec
from bot.delivery import DeliveryWorker
from bot.publishing import Delivery, PublisherRegistry, PublishResult, TransientPublishError
from digests.story import StoryLibrary, default_story

LIB = StoryLibrary([default_story()])
NOW = dt.datetime(2026, 11, 28, 9, 0, tzinfo=dt.UTC)


class FlakyOnce:
    platform = "discord"

    def __init__(self) -> None:
        self.calls = 0

    async def publish(self, delivery: Delivery) -> PublishResult:
        self.calls += 1
        if self.calls == 1:
            raise TransientPublishError("503 Service Unavailable")
        return PublishResult((f"m{self.calls}",))

    async def find_published(self, delivery: Delivery) -> PublishResult | None:
        return None

    async def notify_admins(self, delivery: Delivery, reason: str) -> None:
        return None


async def test_outbox_summary(store) -> None:
    clock = {"now": NOW}
    registry = PublisherRegistry()
    worker = DeliveryWorker(store, LIB, registry, clock=lambda: clock["now"])
    admin = AdminService(store, LIB, publishers=registry, worker=worker, clock=lambda: clock["now"])
    info, _ = await admin.subscribe(
        SubscriptionSpec(
            platform="discord",
            workspace_id="1",
            channel_id="2",
            lang="both",
            mode="replay",
            start_date=NOW.date(),
        ),
        CLI,
    )
    await admin.send_now(info.id, CLI)  # no publisher registered yet: both stay pending
    summary = await admin.outbox_summary()
    assert summary.counts == {("discord", "pending"): 2}
    assert summary.due == 2 and summary.oldest_due == NOW and summary.retries == {"discord": 0}

    registry.register(FlakyOnce())
    await worker.run_until_idle(NOW)  # one transient failure: retried later
    clock["now"] = NOW + dt.timedelta(seconds=60)
    await worker.run_until_idle(clock["now"])
    summary = await admin.outbox_summary()
    assert summary.counts == {("discord", "sent"): 2}
    assert summary.retries == {"discord": 1} and summary.due == 0 and summary.oldest_due is None


async def test_metrics_page_shows_the_outbox(site) -> None:
    context = site.context
    info, _ = await context.admin.subscribe(
        SubscriptionSpec(platform="slack", workspace_id="T1", channel_id="C1", lang="fr"), CLI
    )
    await context.admin.send_now(info.id, CLI)  # no Slack publisher: pending, due
    site.clock.now += dt.timedelta(seconds=90)
    status, body, _ = await site.get("/metrics")
    assert status == 200
    assert 'depeche_deliveries{platform="slack",status="pending"} 1.0' in body
    assert "depeche_outbox_due 1.0" in body
    age = float(re.search(r"^depeche_outbox_oldest_due_seconds (\S+)$", body, re.M).group(1))  # type: ignore[union-attr]
    assert age == 90.0
