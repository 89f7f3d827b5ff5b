"""Serve the latest revision of every story, on every instance, within one tick.

`LiveStories.refresh` asks the database for each story's latest revision number (one cheap
``GROUP BY`` query); when a number moved, it compiles that revision (once per revision: compiled
stories are cached by slug and revision number, and the who-is-who index, keyed by the story
object, follows) and makes the shared `StoryLibrary` serve it. The runner calls it before each
tick, so a revision published on any instance (or with ``depeche story publish``) is served by
all of them at their next tick, without a restart.

A stored revision that no longer compiles (a stricter validator after an upgrade) is logged and
skipped: the previous revision stays live.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections import OrderedDict
from pathlib import Path

from bot.stories.revisions import StoryRevisions
from digests.errors import StoryError
from digests.story import Story, StoryLibrary, story_files
from digests.storyfile import DEFAULT_STORY_MAX_BYTES

_log = logging.getLogger(__name__)

CACHE_SIZE = 32


class LiveStories:
    def __init__(self, revisions: StoryRevisions, library: StoryLibrary) -> None:
        self.revisions = revisions
        self.library = library
        self.served: dict[str, int] = {}
        self._broken: set[tuple[str, int]] = set()
        self._cache: OrderedDict[tuple[str, int], Story] = OrderedDict()
        self._numbers: dict[int, tuple[Story, int]] = {}  # id(story) -> (story, revision)
        self._times: dict[tuple[str, int], dt.datetime] = {}
        self._lock = threading.Lock()

    @classmethod
    def start(
        cls,
        revisions: StoryRevisions,
        stories_dir: str | Path | None,
        *,
        max_bytes: int = DEFAULT_STORY_MAX_BYTES,
    ) -> LiveStories:
        """At start: import the shipped story and the directory's files as revisions, then
        serve the database's latest revision of every story."""
        revisions.import_files(story_files(stories_dir), max_bytes=max_bytes)
        library = StoryLibrary.load(stories_dir, max_bytes=max_bytes)
        live = cls(revisions, library)
        live.refresh()
        return live

    def compiled(self, slug: str, revision: int) -> Story:
        """Revision ``revision`` of ``slug`` as a `Story`, compiled once per revision."""
        key = (slug, revision)
        with self._lock:
            story = self._cache.get(key)
            if story is not None:
                self._cache.move_to_end(key)
                return story
        story = self.revisions.story(slug, revision)
        with self._lock:
            self._cache[key] = story
            self._numbers[id(story)] = (story, revision)
            while len(self._cache) > CACHE_SIZE:
                _key, evicted = self._cache.popitem(last=False)
                if self.served.get(evicted.slug) != _key[1]:  # the served one stays known
                    self._numbers.pop(id(evicted), None)
        return story

    def revision_for(self, story: Story) -> int | None:
        """The revision number of a compiled story (None: a story from the files only)."""
        found = self._numbers.get(id(story))
        return found[1] if found is not None and found[0] is story else None

    def published_at(self, slug: str, revision: int) -> dt.datetime:
        """When a revision was published (cached: it never changes). Blocking (SQL)."""
        key = (slug, revision)
        when = self._times.get(key)
        if when is None:
            when = self._times[key] = self.revisions.published_at(slug, revision)
        return when

    def refresh(self) -> list[tuple[str, int]]:
        """Serve every story's latest revision; returns the (slug, revision) pairs newly served.
        Blocking (SQL): the runner calls it in a thread."""
        changed: list[tuple[str, int]] = []
        for slug, number in sorted(self.revisions.latest_numbers().items()):
            if self.served.get(slug) == number or (slug, number) in self._broken:
                continue
            try:
                story = self.compiled(slug, number)
            except StoryError as error:
                self._broken.add((slug, number))
                _log.error(
                    "story %s: revision %d does not validate, still serving revision %s: %s",
                    slug,
                    number,
                    self.served.get(slug, "from the files"),
                    error,
                )
                continue
            self.library.put(story)
            previous = self.served.get(slug)
            self.served[slug] = number
            changed.append((slug, number))
            if previous is not None:
                _log.info("story %s: now serving revision %d (was %d)", slug, number, previous)
            else:
                _log.debug("story %s: serving revision %d", slug, number)
        return changed

    def revision_of(self, slug: str) -> int | None:
        """The revision this instance serves for ``slug`` (None: from the files only)."""
        return self.served.get(slug)
