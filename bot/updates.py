"""What the delivery worker does with a correction or a breaking alert from the outbox.

`UpdatePlanner.plan` turns a claimed ``correction`` or ``breaking`` row into a `Plan`: the
`Delivery` to publish (a notice, an alert) or to edit in place (``edit``: the message ids of
the post corrected), or the reason to skip it. The worker then publishes or edits it through
the platform's publisher, with the same retries, rate budget and exactly-once reconciliation
as posts (`bot.delivery`).

- a correction in ``edit`` mode: the post corrected (its own id, channel and day, so its
  Discord footer marker and Slack metadata stay its own) with the day's digest as the story
  now reads and the line saying what changed (`digests.corrections`), at the time the revision
  was published, in the subscriber's time zone and language;
- in ``notice`` mode: a short follow-up post, a reply to the post corrected;
- ``off`` (switched off after it was enqueued): skipped;
- a breaking alert: the event's headline, one line, and the day's page when the bot has a
  public address. An event no longer breaking (or removed) by then: skipped.

Documents are composed once per (revision pair, day, language, minute) and shared by every
channel, like digests.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from bot.links import day_url
from bot.outbox import Claimed
from bot.publishing import Delivery
from bot.schedule import zone_of
from bot.store import BREAKING, CORRECTION
from digests.corrections import (
    breaking_alert,
    corrected_document,
    correction_line,
    correction_notice,
    day_changes,
)
from digests.documents import Document
from digests.story import Lang, Story, StoryLibrary
from digests.story_diff import StoryDiff, diff_stories

UPDATE_KINDS = (CORRECTION, BREAKING)
CACHE_SIZE = 512


class StoryVersions(Protocol):
    """Compiled revisions of stories (`bot.stories.LiveStories`)."""

    def compiled(self, slug: str, revision: int) -> Story: ...

    def revision_for(self, story: Story) -> int | None: ...


@dataclass(frozen=True)
class Plan:
    delivery: Delivery | None  # None: skip, for ``skip``
    edit: tuple[str, ...] = ()  # edit these messages of the post instead of posting
    skip: str = ""


def _lang(value: str) -> Lang:
    return "fr" if value == "fr" else "en"


class UpdatePlanner:
    def __init__(
        self,
        library: StoryLibrary,
        versions: StoryVersions | None,
        digest: Callable[[str, dt.date, str, str, str], Document | None],
        *,
        public_url: str = "",
    ) -> None:
        self.library = library
        self.versions = versions
        self.digest = digest  # the day's digest as the story now reads (the worker's cache)
        self.public_url = public_url
        self._diffs: dict[tuple[str, int, int], StoryDiff] = {}
        self._documents: dict[tuple[object, ...], tuple[object, Document]] = {}

    def _diff(self, slug: str, base: int, revision: int) -> StoryDiff:
        key = (slug, base, revision)
        diff = self._diffs.get(key)
        if diff is None:
            assert self.versions is not None
            diff = diff_stories(
                self.versions.compiled(slug, base), self.versions.compiled(slug, revision)
            )
            if len(self._diffs) >= CACHE_SIZE:
                self._diffs.clear()
            self._diffs[key] = diff
        return diff

    def _remember(
        self, anchor: object, key: tuple[object, ...], make: Callable[[], Document]
    ) -> Document:
        """A document made once per ``anchor`` object (the digest or story it comes from:
        kept in the cache, so its id is not reused while the entry lives) and ``key``."""
        full = (id(anchor), *key)
        cached = self._documents.get(full)
        if cached is not None and cached[0] is anchor:
            return cached[1]
        document = make()
        if len(self._documents) >= CACHE_SIZE:
            self._documents.clear()
        self._documents[full] = (anchor, document)
        return document

    def plan(self, item: Claimed) -> Plan:
        if item.kind == BREAKING:
            return self._alert(item)
        return self._correction(item)

    def _correction(self, item: Claimed) -> Plan:
        if item.corrections == "off":
            return Plan(None, skip="corrections are off for this subscription")
        if not item.message_ids or item.parent_id is None:
            return Plan(None, skip="the post to correct has no message")
        if self.versions is None or item.story_revision is None or item.base_revision is None:
            return Plan(None, skip="story revisions are not available")
        lang = _lang(item.lang)
        day = item.story_date
        changes = day_changes(
            self._diff(item.story_slug, item.base_revision, item.story_revision), day
        )
        published = item.scheduled_for or dt.datetime.now(dt.UTC)
        when = published.astimezone(zone_of(item.timezone)).replace(second=0, microsecond=0)
        line = correction_line(changes, when, lang)
        digest = self.digest(item.story_slug, day, item.lang, item.cadence, item.format)
        if digest is None:  # every event of the day was removed: say so, with the line
            from bot.delivery import no_news_document

            digest = no_news_document(lang, item.story_slug, day)
        if item.corrections == "notice":
            document = self._remember(
                digest,
                ("notice", line),
                lambda: correction_notice(digest, line, lang, story_slug=item.story_slug, day=day),
            )
            notice = dataclasses.replace(item.delivery(document), reply_to=item.message_ids[0])
            return Plan(notice)
        document = self._remember(digest, ("edit", line), lambda: corrected_document(digest, line))
        original = dataclasses.replace(item.delivery(document), id=item.parent_id)
        return Plan(original, edit=item.message_ids)

    def _alert(self, item: Claimed) -> Plan:
        story = self.library.get(item.story_slug)
        event = next((e for e in story.events if e.id == item.event_id), None)
        if event is None or not event.breaking:
            return Plan(None, skip="the event is no longer breaking news")
        lang = _lang(item.lang)
        url = day_url(self.public_url, item.story_slug, lang, event.date.first) or ""
        document = self._remember(
            story,
            ("breaking", event.id, lang, url),
            lambda: breaking_alert(event, lang, story_slug=item.story_slug, url=url),
        )
        return Plan(item.delivery(document))


__all__ = ["UPDATE_KINDS", "Plan", "StoryVersions", "UpdatePlanner"]
