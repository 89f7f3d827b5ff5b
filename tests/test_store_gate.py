"""The SQLite write gate: the delivery worker's claims go before the tick's next chunk, so the
first posts of a minute with 100,000 subscriptions due do not wait for the whole due set."""

from __future__ import annotations

import datetime as dt
import threading
from pathlib import Path

from sqlalchemy import func, select

from bot.outbox import Outbox
from bot.store import SENDING, Delivery, Store
from bot.store.gate import WriteGate
from digests.story import StoryLibrary, default_story
from tests.ledger import add_subscriptions

LIB = StoryLibrary([default_story()])
START = dt.datetime(2023, 11, 17, 0, 0, tzinfo=dt.UTC)
DUE = dt.datetime(2023, 11, 17, 7, 0, tzinfo=dt.UTC)  # 08:00 in Paris


def _sending(store: Store) -> int:
    with store.session() as session:
        query = select(func.count()).select_from(Delivery).where(Delivery.status == SENDING)
        return int(session.scalar(query) or 0)


def wait_for(condition: threading.Event) -> None:
    assert condition.wait(30), "a thread of the test made no progress"


def test_an_announced_priority_writer_goes_before_the_next_bulk_writer() -> None:
    gate = WriteGate()
    order: list[str] = []
    first_inside, release_first = threading.Event(), threading.Event()

    def bulk(name: str, inside: threading.Event | None = None) -> None:
        with gate.bulk():
            order.append(name)
            if inside is not None:
                inside.set()
                wait_for(release_first)

    def priority() -> None:
        with gate.priority():
            order.append("priority")

    first = threading.Thread(target=bulk, args=("bulk 1", first_inside))
    first.start()
    wait_for(first_inside)
    waiting = threading.Thread(target=priority)
    waiting.start()
    while not gate.priority_entries:  # the priority writer has announced itself (and waits)
        threading.Event().wait(0.001)
    second = threading.Thread(target=bulk, args=("bulk 2",))
    second.start()
    release_first.set()
    for thread in (first, waiting, second):
        thread.join(30)
    assert order == ["bulk 1", "priority", "bulk 2"]


def test_the_gate_is_a_no_op_when_disabled() -> None:
    gate = WriteGate(enabled=False)
    with gate.bulk(), gate.priority(), gate.bulk():  # nested: it would deadlock if it locked
        pass


def test_a_claim_made_during_a_chunked_tick_waits_for_one_chunk_only(tmp_path: Path) -> None:
    store = Store.open(f"sqlite:///{tmp_path / 'gate.sqlite3'}")
    try:
        add_subscriptions(store, 60, now=START)
        outbox = Outbox(store)
        chunks_done = 0
        claim_done = threading.Event()
        claimed: list[int] = []
        sending_after_chunk: dict[int, int] = {}

        def claim() -> None:
            try:
                got = outbox.claim_sync(
                    worker_id="w1", platforms=["discord"], now=DUE, lease_seconds=300, limit=5
                )
                claimed.append(len(got))
            finally:
                claim_done.set()

        def on_chunk(result: object) -> None:  # called in the tick's thread after each commit
            nonlocal chunks_done
            chunks_done += 1
            if chunks_done == 1:  # the worker is woken by the first commit and claims
                threading.Thread(target=claim).start()
                while not (store.gate.priority_entries or claim_done.is_set()):
                    claim_done.wait(0.001)
            elif chunks_done == 2:
                sending_after_chunk[2] = _sending(store)

        result = outbox.enqueue_due_sync(LIB, DUE, chunk_size=10, on_chunk=on_chunk)
        wait_for(claim_done)
        assert result.chunks >= 6 and claimed == [5]
        assert store.gate.priority_entries >= 1  # the claim announced itself to the gate
        # ... and so it was committed before the tick's second chunk, not after the whole tick
        assert sending_after_chunk == {2: 5}
    finally:
        store.dispose()
