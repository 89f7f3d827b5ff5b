"""The delivery worker: a continuous loop that claims due deliveries from the outbox, publishes
them, and records the outcome.

It runs beside the tick, never inside it: the tick (and send-now) wake it at once
(`DeliveryWorker.wake`), and it also looks for work every ``poll_seconds`` (retries coming
due, deliveries another instance enqueued). There is no batch barrier: a new delivery is claimed
as soon as a slot frees, and the number of slots follows the platform's limits: enough requests
in flight to reach the publisher's rate at the round trip it observes (`target_in_flight`),
bounded by ``settings.concurrency``.

All database work goes through `bot.outbox.Outbox`, off the event loop; outcomes are recorded
in batches (one transaction for everything that finished meanwhile).

Before any *re*-attempt (crash recovery or retry) the worker asks the publisher whether the
delivery already went out (`Publisher.find_published`: Discord nonce, Slack metadata, console
ledger) and records it as sent instead of posting again. Publishers are idempotent per
`Delivery.idempotency_key` on top of that.

Transient errors: retried with exponential backoff and jitter (or the platform's Retry-After)
up to ``max_attempts``, then ``failed`` with the reason. Permanent errors: ``failed``, the
subscription is paused with the reason (shown by ``status``) and the publisher notifies admins.

Rendering: the document of a (story, story day, language) is composed once and shared by every
channel (`DocumentCache`); publishers render a shared document once per platform too.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
import logging
import math
import random
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace

from bot.links import day_url
from bot.outbox import Claimed, Outbox, Outcome
from bot.outbox.tick import WEEKLY
from bot.publishing import (
    Delivery,
    Editor,
    Mention,
    Paced,
    PermanentPublishError,
    Publisher,
    PublisherRegistry,
    PublishResult,
    SkippedPublishError,
    TransientPublishError,
)
from bot.settings import DeliverySettings
from bot.store import Store
from bot.store.health import is_outage
from bot.updates import UPDATE_KINDS, StoryVersions, UpdatePlanner
from digests.documents import Document, Item, Section, plain
from digests.errors import DepecheError
from digests.story import Lang, Story, StoryLibrary

_log = logging.getLogger(__name__)

__all__ = ["Claimed", "DeliveryWorker", "WorkResult", "no_news_document", "target_in_flight"]

HEADROOM = 1.5  # in flight = rate x round trip x this, + SPARE
SPARE = 2
DEFAULT_ROUND_TRIP = 0.1  # seconds, until the publisher has measured one


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass
class WorkResult:
    claimed: int = 0
    sent: int = 0
    recovered: int = 0
    retried: int = 0
    failed: int = 0
    paused: int = 0
    skipped: int = 0

    def __iadd__(self, other: WorkResult) -> WorkResult:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))
        return self

    def count(self, outcome: str) -> None:
        setattr(self, outcome, getattr(self, outcome) + 1)


def target_in_flight(
    rate: float | None, round_trip: float | None, record_seconds: float, bound: int
) -> int:
    """Deliveries to keep in flight: enough to reach ``rate`` (requests per second) when each
    holds a slot for a round trip plus the time to record it (Little's law), with headroom;
    at most ``bound``. Without a known rate: ``bound``.

    >>> target_in_flight(48, 0.06, 0.01, 64), target_in_flight(48, 0.15, 0.01, 64)
    (8, 14)
    >>> target_in_flight(None, None, 0.0, 4)
    4
    """
    if not rate:
        return bound
    hold = (round_trip if round_trip is not None else DEFAULT_ROUND_TRIP) + record_seconds
    return max(1, min(bound, math.ceil(rate * hold * HEADROOM) + SPARE))


def no_news_document(lang: str, story_slug: str, day: dt.date) -> Document:
    from digests.i18n import Messages

    _t = Messages(lang, domain="bot", package="bot")  # type: ignore[arg-type]
    return Document(
        kind="notice",
        lang=lang,  # type: ignore[arg-type]
        title=_t("No new developments today"),
        sections=(
            Section(
                heading="",
                items=(Item(plain(_t("Nothing new in the story today."))),),
                kind="paragraph",
            ),
        ),
        story_slug=story_slug,
        date=day.isoformat(),
    )


class DocumentCache:
    """Documents composed once per (story revision, story day, language, cadence, format),
    shared by every channel that gets the same post. A newly served revision (another story
    object in the library) is composed anew."""

    def __init__(
        self, library: StoryLibrary, *, no_news_line: bool, public_url: str = "", size: int = 1024
    ) -> None:
        self.library = library
        self.no_news_line = no_news_line
        self.public_url = public_url  # digests link to their day's page there (DEPECHE_PUBLIC_URL)
        self.size = size
        self._documents: dict[
            tuple[str, dt.date, str, str, str], tuple[Story, Document | None]
        ] = {}

    def get(
        self,
        story_slug: str,
        story_date: dt.date,
        lang: str,
        cadence: str = "daily",
        format: str = "full",
    ) -> Document | None:
        return self.get_with_story(story_slug, story_date, lang, cadence, format)[0]

    def get_with_story(
        self,
        story_slug: str,
        story_date: dt.date,
        lang: str,
        cadence: str = "daily",
        format: str = "full",
    ) -> tuple[Document | None, Story]:
        """The document and the story (revision) it was composed from."""
        if cadence == WEEKLY:
            format = "full"  # a roll-up is short already: one document for both formats
        story = self.library.get(story_slug)
        key = (story_slug, story_date, lang, cadence, format)
        cached = self._documents.get(key)
        if cached is not None and cached[0] is story:
            return cached[1], story
        from bot.metrics import DIGEST_RENDER_SECONDS
        from digests.rollup import compose_post

        language: Lang = "fr" if lang == "fr" else "en"
        url = day_url(self.public_url, story_slug, lang, story_date)
        with DIGEST_RENDER_SECONDS.labels(cadence=cadence).time():
            document = compose_post(
                story, story_date, language, cadence=cadence, format=format, url=url
            )
        if document is None and self.no_news_line:
            document = no_news_document(lang, story_slug, story_date)
        if document is not None and document.kind in ("digest", "compact") and url:
            document = replace(document, meta={**document.meta, "url": url})
        if len(self._documents) >= self.size:
            self._documents.clear()
        self._documents[key] = (story, document)
        return document, story


class _Recorder:
    """Outcomes written in batches: whatever finished while the previous batch was being
    written goes in the next transaction (one commit for many posts, none on the loop)."""

    def __init__(self, worker: DeliveryWorker) -> None:
        self.worker = worker
        self._pending: list[tuple[Outcome, asyncio.Future[bool]]] = []
        self._task: asyncio.Task[None] | None = None
        self.seconds = 0.0  # moving average of one batch's write

    async def add(self, outcome: Outcome) -> bool:
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._pending.append((outcome, future))
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._flush())
        return await future

    async def _flush(self) -> None:
        while self._pending:
            batch, self._pending = self._pending, []
            started = time.monotonic()
            try:
                done = await self.worker.outbox.record(
                    [outcome for outcome, _ in batch],
                    worker_id=self.worker.worker_id,
                    now=self.worker.clock(),
                )
            except BaseException as error:
                for _, future in batch:
                    if not future.done():
                        future.set_exception(error)
                if isinstance(error, asyncio.CancelledError):
                    raise
                continue
            elapsed = time.monotonic() - started
            self.seconds = elapsed if not self.seconds else 0.8 * self.seconds + 0.2 * elapsed
            for (outcome, future), ok in zip(batch, done, strict=True):
                if not future.done():
                    future.set_result(ok)
                self.worker._finished(outcome.delivery_id)


@dataclass
class DeliveryWorker:
    store: Store
    library: StoryLibrary
    publishers: PublisherRegistry
    settings: DeliverySettings = field(default_factory=DeliverySettings)
    no_news_line: bool = False
    clock: Callable[[], dt.datetime] = utcnow
    public_url: str = ""  # digests link to their day's page there (DEPECHE_PUBLIC_URL)
    worker_id: str = field(default_factory=lambda: uuid.uuid4().hex[:16])
    rng: random.Random = field(default_factory=random.Random)
    outbox: Outbox = field(init=False)
    documents: DocumentCache = field(init=False)
    serving: bool = field(default=False, init=False)
    stats: WorkResult = field(default_factory=WorkResult, init=False)
    # Story revisions (`bot.stories.LiveStories`): each post records the revision it shows,
    # and corrections compare revisions. None: posts are never corrected.
    versions: StoryVersions | None = None

    def __post_init__(self) -> None:
        self.outbox = Outbox(self.store)
        self.documents = DocumentCache(
            self.library, no_news_line=self.no_news_line, public_url=self.public_url
        )
        self.updates = UpdatePlanner(
            self.library, self.versions, self.documents.get, public_url=self.public_url
        )
        self._wake = asyncio.Event()
        self._recorder = _Recorder(self)
        self._waiters: dict[int, list[asyncio.Future[None]]] = {}
        self._busy: set[int] = set()  # ids claimed by this worker and not finished
        self._hungry = False  # the last claims filled some platform's slots: more may wait

    # ------------------------------------------------------------------ claiming

    async def claim(
        self, now: dt.datetime, limit: int | None = None, *, platforms: tuple[str, ...] = ()
    ) -> list[Claimed]:
        """Claim due deliveries (never one of this worker's own in flight)."""
        claimed = await self.outbox.claim(
            worker_id=self.worker_id,
            platforms=platforms or tuple(self.publishers.publishers),
            now=now,
            lease_seconds=self.settings.lease_seconds,
            limit=limit or self.settings.batch_size,
            busy=tuple(self._busy),
        )
        self._busy.update(item.id for item in claimed)
        return claimed

    def target_in_flight(self, platform: str) -> int:
        """Slots for one platform: what its publisher's pace needs (the bound when unknown)."""
        publisher = self.publishers.get(platform)
        rate, round_trip = publisher.pace() if isinstance(publisher, Paced) else (None, None)
        return target_in_flight(rate, round_trip, self._recorder.seconds, self.settings.concurrency)

    async def _refill(
        self, in_flight: dict[str, set[asyncio.Task[str]]], now: dt.datetime
    ) -> tuple[int, bool]:
        """Claim for every platform with free slots (each platform its own slots: a busy
        console never takes Discord's); -> (claimed, whether some platform filled its room)."""
        claimed_total, hungry = 0, False
        for platform in tuple(self.publishers.publishers):
            running = in_flight.setdefault(platform, set())
            room = self.target_in_flight(platform) - len(running)
            if room <= 0:
                hungry = True
                continue
            claimed = await self.claim(now, room, platforms=(platform,))
            claimed_total += len(claimed)
            hungry = hungry or len(claimed) == room
            for item in claimed:
                task = asyncio.create_task(self.process(item))
                running.add(task)
                task.add_done_callback(self._on_done)
        return claimed_total, hungry

    def _on_done(self, task: asyncio.Task[str]) -> None:
        if task.cancelled():
            return
        error = task.exception()
        if error is not None:  # recording failed: the lease brings the delivery back
            _log.error("a delivery could not be recorded: %r", error)
        else:
            self.stats.count(task.result())
        if self._hungry:
            self._wake.set()

    # ------------------------------------------------------------------ running

    def wake(self) -> None:
        """New work in the outbox (a tick chunk committed, a send-now): look at once."""
        self._wake.set()

    async def serve(self) -> None:
        """Deliver continuously until cancelled."""
        self.serving = True
        in_flight: dict[str, set[asyncio.Task[str]]] = {}
        try:
            while True:
                for running in in_flight.values():
                    running.difference_update({task for task in running if task.done()})
                self._wake.clear()
                try:
                    claimed, self._hungry = await self._refill(in_flight, self.clock())
                except Exception as error:
                    if is_outage(error):  # the tick's outage log says it once, not per claim
                        _log.debug("claiming deliveries: the database is unreachable")
                    else:
                        _log.exception("claiming deliveries failed; trying again shortly")
                    claimed, self._hungry = 0, False
                if self._hungry and claimed:
                    continue  # the room may have grown (a faster pace): claim again at once
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self.settings.poll_seconds)
        finally:
            self.serving = False
            tasks = [task for running in in_flight.values() for task in running]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    async def run_until_idle(
        self, now: dt.datetime | None = None, *, max_rounds: int = 1_000_000
    ) -> WorkResult:
        """Deliver until nothing is due at ``now`` (retries scheduled later stay queued)."""
        total = WorkResult()
        in_flight: dict[str, set[asyncio.Task[str]]] = {}
        before = dataclasses.replace(self.stats)
        for _ in range(max_rounds):
            claimed, _hungry = await self._refill(in_flight, now or self.clock())
            total.claimed += claimed
            tasks = {task for running in in_flight.values() for task in running}
            if not tasks:
                break
            done, _pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            for running in in_flight.values():
                running.difference_update(done)
            for task in done:
                task.result()  # an error recording an outcome is raised here
        for name in ("sent", "recovered", "retried", "failed", "paused", "skipped"):
            setattr(total, name, getattr(self.stats, name) - getattr(before, name))
        return total

    async def run_once(self, now: dt.datetime | None = None) -> WorkResult:
        """Claim up to each platform's slots once and process them (tests and tools)."""
        claimed = await self.claim(now or self.clock(), self.settings.batch_size)
        result = WorkResult(claimed=len(claimed))
        for outcome in await asyncio.gather(*(self.process(item) for item in claimed)):
            result.count(outcome)
        return result

    async def wait_for(self, ids: Iterable[int], timeout: float) -> None:
        """Until this worker has recorded every delivery of ``ids`` (or ``timeout``)."""
        loop = asyncio.get_running_loop()
        futures = []
        for delivery_id in ids:
            future: asyncio.Future[None] = loop.create_future()
            self._waiters.setdefault(delivery_id, []).append(future)
            futures.append(future)
        if futures:
            await asyncio.wait(futures, timeout=timeout)
        for future in futures:
            future.cancel()

    def _finished(self, delivery_id: int) -> None:
        for future in self._waiters.pop(delivery_id, ()):
            if not future.done():
                future.set_result(None)

    # ------------------------------------------------------------------ one delivery

    def _mentions(self, item: Claimed) -> tuple[Mention, ...]:
        """The subscription's alerts whose person or organisation the post's days involve
        (the story day; the seven days of a weekly roll-up), one mention per target."""
        if not item.alerts:
            return ()
        from digests.alerts import involved, subject_name

        story = self.documents.library.get(item.story_slug)
        span = 7 if item.cadence == WEEKLY else 1
        days = [item.story_date - dt.timedelta(days=back) for back in range(span)]
        today = involved(story, days)
        lang: Lang = "fr" if item.lang == "fr" else "en"
        names: dict[str, list[str]] = {}
        for subject, target in item.alerts:
            if subject in today:
                names.setdefault(target, []).append(subject_name(story, subject, lang))
        return tuple(Mention(target, tuple(found)) for target, found in names.items())

    async def process(self, item: Claimed) -> str:
        """Publish one claimed delivery; return the outcome name (a `WorkResult` field)."""
        try:
            return await self._process(item)
        finally:
            self._busy.discard(item.id)

    def _prepare(self, item: Claimed) -> tuple[Delivery | None, tuple[str, ...], int | None, str]:
        """(what to publish, the messages to edit instead, the story revision it shows, the
        reason to skip it when there is nothing to publish)."""
        if item.kind in UPDATE_KINDS:
            self.updates.versions = self.versions
            plan = self.updates.plan(item)
            return plan.delivery, plan.edit, None, plan.skip
        document, story = self.documents.get_with_story(
            item.story_slug, item.story_date, item.lang, item.cadence, item.format
        )
        if document is None:
            return None, (), None, "no events on this story day"
        revision = self.versions.revision_for(story) if self.versions is not None else None
        return item.delivery(document, self._mentions(item)), (), revision, ""

    async def _process(self, item: Claimed) -> str:
        publisher = self.publishers.get(item.platform)
        assert publisher is not None  # we only claim platforms we have publishers for
        try:
            delivery, edit, revision, skip = self._prepare(item)
        except DepecheError as error:  # unknown story (file removed): nothing will fix it by itself
            return await self._permanent(
                item, None, PermanentPublishError(str(error), code="story"), publisher
            )
        except Exception as error:  # a bug while composing: keep the reason, retry later
            _log.exception("composing delivery %d failed", item.id)
            return await self._transient(item, f"{type(error).__name__}: {error}", None)
        if delivery is None:
            await self._finish(item, "skipped", error=skip)
            return "skipped"
        try:
            if edit:  # a correction: the post's messages edited in place (idempotent)
                if not isinstance(publisher, Editor):
                    raise SkippedPublishError(f"{item.platform} posts cannot be edited")
                edited = await publisher.edit(delivery, edit)
                await self._finish(item, "sent", message_ids=edited.message_ids)
                return "sent"
            if item.attempts > 1:  # crash recovery or retry: it may have gone out already
                found = await publisher.find_published(delivery)
                if found is not None:
                    await self._finish(
                        item, "sent", message_ids=found.message_ids, story_revision=revision
                    )
                    _log.info("delivery %d was already published: recorded, not re-posted", item.id)
                    return "recovered"
            published: PublishResult = await publisher.publish(delivery)
        except SkippedPublishError as error:
            await self._finish(item, "skipped", error=error.reason)
            _log.info("delivery %d skipped: %s", item.id, error.reason)
            return "skipped"
        except PermanentPublishError as error:
            return await self._permanent(item, delivery, error, publisher)
        except TransientPublishError as error:
            return await self._transient(item, error.reason, error.retry_after)
        except Exception as error:  # an unexpected failure is retried, with the reason kept
            _log.exception("publishing delivery %d failed", item.id)
            return await self._transient(item, f"{type(error).__name__}: {error}", None)
        await self._finish(item, "sent", message_ids=published.message_ids, story_revision=revision)
        return "recovered" if published.recovered else "sent"

    # ------------------------------------------------------------------ outcomes

    async def _finish(
        self,
        item: Claimed,
        status: str,
        *,
        message_ids: tuple[str, ...] = (),
        error: str | None = None,
        pause: bool = False,
        story_revision: int | None = None,
    ) -> bool:
        """Record an outcome (batched); False when the claim was lost to another worker."""
        assert status in ("sent", "failed", "skipped")
        return await self._recorder.add(
            Outcome(
                item.id,
                status,  # type: ignore[arg-type]
                message_ids=message_ids,
                error=error,
                pause_subscription=item.subscription_id if pause else None,
                story_revision=story_revision,
            )
        )

    def backoff(self, attempts: int, retry_after: float | None) -> float:
        base = self.settings.backoff_base_seconds * 2 ** (attempts - 1)
        delay = min(self.settings.backoff_max_seconds, base) * self.rng.uniform(0.5, 1.0)  # jitter
        return float(max(delay, retry_after or 0.0))

    async def _transient(self, item: Claimed, reason: str, retry_after: float | None) -> str:
        if item.attempts >= self.settings.max_attempts:
            await self._finish(
                item, "failed", error=f"gave up after {item.attempts} attempts: {reason}"
            )
            _log.warning("delivery %d failed for good: %s", item.id, reason)
            return "failed"
        when = self.clock() + dt.timedelta(seconds=self.backoff(item.attempts, retry_after))
        await self._recorder.add(Outcome(item.id, "retry", error=reason, retry_at=when))
        return "retried"

    async def _permanent(
        self,
        item: Claimed,
        delivery: Delivery | None,
        error: PermanentPublishError,
        publisher: Publisher,
    ) -> str:
        await self._finish(item, "failed", error=error.reason, pause=True)
        _log.warning("subscription %d paused: %s", item.subscription_id, error.reason)
        if delivery is None:  # nothing was composed: the notice carries the reason alone
            lang: Lang = "fr" if item.lang == "fr" else "en"
            delivery = item.delivery(Document(kind="notice", lang=lang, title=error.reason))
        try:
            await publisher.notify_admins(delivery, error.reason)
        except Exception:
            _log.exception("could not notify the admins of subscription %d", item.subscription_id)
        return "paused"
