"""Prints each digest with rich; idempotent through a ledger table (``console_posts``).

The ledger row is written in the same step as the print, so a delivery reclaimed after a crash
is recorded as already published instead of being printed again (a crash *between* the print
and the ledger write can still print twice: stdout cannot be asked what it showed).
"""

from __future__ import annotations

import datetime as dt
import logging

from rich.console import Console
from rich.rule import Rule
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from bot.publishing import Delivery, PublishResult, documents_of
from bot.store import ConsolePost, Store
from digests.render import render_text

_log = logging.getLogger(__name__)


class ConsolePublisher:
    platform = "console"

    def __init__(self, store: Store, *, console: Console | None = None) -> None:
        self.store = store
        # Soft wrapping: rich inserts no line breaks of its own (it would break at the width of
        # the terminal, even at no-break spaces: "novembre\n: OpenAI"); the terminal wraps.
        self.console = console or Console(highlight=False, soft_wrap=True)

    def _message_id(self, delivery: Delivery) -> str:
        return f"console-{delivery.id}"

    async def find_published(self, delivery: Delivery) -> PublishResult | None:
        with self.store.session() as session:
            post = session.get(ConsolePost, delivery.idempotency_key)
        if post is None:
            return None
        return PublishResult((self._message_id(delivery),), recovered=True)

    async def publish(self, delivery: Delivery) -> PublishResult:
        found = await self.find_published(delivery)
        if found is not None:
            return found
        where = delivery.channel_id or "console"
        late = " · late" if delivery.late else ""
        self.console.print(
            Rule(
                f"[bold]Dépêche[/bold] · {where} · {delivery.lang} · {delivery.digest_date.isoformat()}{late}",
                style="cyan",
            )
        )
        for part in documents_of(delivery):  # the post, then what is behind its "more"
            self.console.print(render_text(part), markup=False, highlight=False, soft_wrap=True)
            self.console.print()
        insert = pg_insert if self.store.dialect == "postgresql" else sqlite_insert
        with self.store.session() as session, session.begin():
            session.execute(
                insert(ConsolePost)
                .values(
                    idempotency_key=delivery.idempotency_key,
                    delivery_id=delivery.id,
                    posted_at=dt.datetime.now(dt.UTC),
                )
                .on_conflict_do_nothing()
            )
        return PublishResult((self._message_id(delivery),))

    async def edit(self, original: Delivery, message_ids: tuple[str, ...]) -> PublishResult:
        """A terminal cannot edit what it printed: the corrected post is printed again, marked
        as such."""
        where = original.channel_id or "console"
        self.console.print(
            Rule(
                f"[bold]Dépêche[/bold] · {where} · {original.lang} · "
                f"{original.digest_date.isoformat()} · corrected",
                style="yellow",
            )
        )
        self.console.print(
            render_text(original.document), markup=False, highlight=False, soft_wrap=True
        )
        self.console.print()
        return PublishResult(message_ids)

    async def notify_admins(self, delivery: Delivery, reason: str) -> None:
        self.console.print(
            f"[bold red]Subscription {delivery.subscription_id} paused:[/bold red] {reason}"
        )
