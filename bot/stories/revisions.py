"""Stories in the database, as numbered revisions: the one module that owns ``story_revisions``.

A revision is the story's YAML document exactly as published, validated first with the same
validator as ``depeche story check`` (`digests.story.parse_story`): a document that does not
validate is refused with every problem at once and never becomes a revision. Publishing from a
base revision that is no longer the latest is refused (`StaleRevision`): nothing is lost, the
editor merges and publishes again. The unique (slug, revision) pair makes that true across
instances, not only in one process.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from bot.store import Store, StoryRevision
from digests.errors import DepecheError, StoryError, StoryIssue
from digests.story import Story, parse_story
from digests.storyfile import DEFAULT_STORY_MAX_BYTES, read_story_text

_log = logging.getLogger(__name__)

AUTHOR_MAX = 128
ORIGIN_MAX = 255
COMMENT_MAX = 500


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def digest_of(document: str) -> str:
    return hashlib.sha256(document.encode("utf-8")).hexdigest()


class StaleRevision(DepecheError):
    """Publishing from a base revision that is no longer the latest (another editor was first)."""

    def __init__(self, slug: str, base: int, latest: int) -> None:
        self.slug, self.base, self.latest = slug, base, latest
        super().__init__(
            f"story '{slug}' is at revision {latest}, but this edit was made on revision {base}: "
            f"nothing was published. Look at what changed (depeche story diff {slug} {base} "
            f"{latest}), merge, and publish again from revision {latest}"
        )


class UnknownRevision(DepecheError):
    """A slug or a revision number that is not in the store."""


@dataclass(frozen=True, slots=True)
class RevisionInfo:
    slug: str
    revision: int
    digest: str
    author: str
    origin: str
    comment: str | None
    created_at: dt.datetime


@dataclass(frozen=True, slots=True)
class Published:
    """The outcome of a publish: the latest revision, and whether this call created it
    (False when the document was identical to the latest revision)."""

    info: RevisionInfo
    created: bool
    previous: int | None


def _info(row: StoryRevision) -> RevisionInfo:
    return RevisionInfo(
        row.slug, row.revision, row.digest, row.author, row.origin, row.comment, row.created_at
    )


def _cut(value: str | None, limit: int) -> str | None:
    if value is None:
        return None
    value = value.strip()
    return value[:limit] if value else None


class StoryRevisions:
    """Publish, read and list story revisions. Blocking (SQL): call from a thread in async code."""

    def __init__(self, store: Store, *, clock: Callable[[], dt.datetime] = _utcnow) -> None:
        self.store = store
        self.clock = clock

    # ----------------------------------------------------------------------- writing

    def publish(
        self,
        document: str,
        *,
        author: str,
        origin: str,
        comment: str | None = None,
        base: int | None = None,
        file: str = "<published>",
        slug: str | None = None,
    ) -> Published:
        """Validate ``document`` and store it as the next revision of its story.

        ``base``: the revision the edit started from; if the latest is another one, the
        publish is refused with `StaleRevision`. ``slug``: when given, the document must be that
        story's. Raises `StoryError` (every problem at once) for an invalid document."""
        story = parse_story(document, file)
        if slug is not None and story.slug != slug:
            raise StoryError([StoryIssue(file, "slug", f"is '{story.slug}', expected '{slug}'")])
        digest = digest_of(document)
        for _attempt in range(3):
            try:
                with self.store.session() as session, session.begin():
                    latest = session.scalars(
                        select(StoryRevision)
                        .where(StoryRevision.slug == story.slug)
                        .order_by(StoryRevision.revision.desc())
                        .limit(1)
                    ).first()
                    current = latest.revision if latest is not None else 0
                    if base is not None and base != current:
                        raise StaleRevision(story.slug, base, current)
                    if latest is not None and latest.digest == digest:
                        return Published(_info(latest), created=False, previous=current)
                    row = StoryRevision(
                        slug=story.slug,
                        revision=current + 1,
                        document=document,
                        digest=digest,
                        author=_cut(author, AUTHOR_MAX) or "unknown",
                        origin=_cut(origin, ORIGIN_MAX) or "unknown",
                        comment=_cut(comment, COMMENT_MAX),
                        created_at=self.clock(),
                    )
                    session.add(row)
                    session.flush()
                    info = _info(row)
            except IntegrityError:
                # Another instance published revision current+1 between our read and our write.
                if base is not None:
                    raise StaleRevision(story.slug, base, base + 1) from None
                continue
            _log.info(
                "story %s: revision %d published by %s (%s)",
                info.slug,
                info.revision,
                info.author,
                info.origin,
            )
            return Published(info, created=True, previous=current or None)
        raise DepecheError(f"story '{story.slug}': too many concurrent publishes, try again")

    def rollback(self, slug: str, revision: int, *, author: str, origin: str) -> Published:
        """A new revision whose document is revision ``revision``'s."""
        old = self.document(slug, revision)
        latest = self.latest(slug)
        return self.publish(
            old,
            author=author,
            origin=origin,
            comment=f"rollback to revision {revision}",
            base=latest.revision,
            file=f"{slug}@{revision}",
            slug=slug,
        )

    def import_files(
        self,
        paths: Iterable[Path],
        *,
        author: str = "depeche",
        max_bytes: int = DEFAULT_STORY_MAX_BYTES,
    ) -> list[str]:
        """Import story files at start: a file whose content is not yet a revision of its story
        becomes a new revision (logged). An invalid file is logged and never goes live; a file
        identical to any earlier revision is not imported again (so restarting an instance with
        an older copy of a file does not undo what editors published since)."""
        messages: list[str] = []
        for path in paths:
            try:
                document = read_story_text(path, max_bytes=max_bytes)
                story = parse_story(document, str(path))
            except StoryError as error:
                _log.warning("story file ignored: %s", error)
                continue
            except (MemoryError, RecursionError) as error:
                _log.warning("story file ignored: %s: %s", path, type(error).__name__)
                continue
            if self._has_digest(story.slug, digest_of(document)):
                continue
            result = self.publish(
                document,
                author=author,
                origin=f"file:{path.name}",
                comment=f"imported from {path.name}",
                file=str(path),
            )
            if result.created:
                message = (
                    f"story {story.slug}: {path.name} imported as revision {result.info.revision}"
                )
                _log.info("%s", message)
                messages.append(message)
        return messages

    # ----------------------------------------------------------------------- reading

    def _has_digest(self, slug: str, digest: str) -> bool:
        with self.store.session() as session:
            found = session.scalar(
                select(StoryRevision.id)
                .where(StoryRevision.slug == slug, StoryRevision.digest == digest)
                .limit(1)
            )
        return found is not None

    def latest_numbers(self) -> dict[str, int]:
        """Each story's latest revision number: the cheap query every instance polls per tick."""
        with self.store.session() as session:
            rows = session.execute(
                select(StoryRevision.slug, func.max(StoryRevision.revision)).group_by(
                    StoryRevision.slug
                )
            ).all()
        return {slug: int(number) for slug, number in rows}

    def latest(self, slug: str) -> RevisionInfo:
        history = self.history(slug, limit=1)
        if not history:
            raise self._unknown_slug(slug)
        return history[0]

    def history(self, slug: str, *, limit: int | None = None) -> list[RevisionInfo]:
        """Revisions of ``slug``, newest first."""
        with self.store.session() as session:
            query = (
                select(StoryRevision)
                .where(StoryRevision.slug == slug)
                .order_by(StoryRevision.revision.desc())
            )
            if limit is not None:
                query = query.limit(limit)
            return [_info(row) for row in session.scalars(query)]

    def published_at(self, slug: str, revision: int) -> dt.datetime:
        """When revision ``revision`` of ``slug`` was published."""
        with self.store.session() as session:
            when = session.scalar(
                select(StoryRevision.created_at).where(
                    StoryRevision.slug == slug, StoryRevision.revision == revision
                )
            )
        if when is None:
            raise UnknownRevision(f"story '{slug}' has no revision {revision}")
        return when

    def document(self, slug: str, revision: int | None = None) -> str:
        """The YAML document of a revision (the latest when ``revision`` is None)."""
        with self.store.session() as session:
            query = select(StoryRevision.document).where(StoryRevision.slug == slug)
            if revision is None:
                query = query.order_by(StoryRevision.revision.desc()).limit(1)
            else:
                query = query.where(StoryRevision.revision == revision)
            document = session.scalar(query)
        if document is None:
            if revision is None or not self.history(slug, limit=1):
                raise self._unknown_slug(slug)
            latest = self.latest(slug).revision
            raise UnknownRevision(
                f"story '{slug}' has no revision {revision} (revisions 1 to {latest})"
            )
        return document

    def story(self, slug: str, revision: int | None = None) -> Story:
        """A revision compiled into a `Story` (not cached: see `bot.stories.live`)."""
        number = revision if revision is not None else self.latest(slug).revision
        return parse_story(self.document(slug, number), f"{slug}@{number}")

    def slugs(self) -> list[str]:
        return sorted(self.latest_numbers())

    def _unknown_slug(self, slug: str) -> UnknownRevision:
        known = ", ".join(self.slugs()) or "none"
        return UnknownRevision(f"no story '{slug}' in the database (known: {known})")
