"""Editing stories from chat: one service for Discord, Slack and the command line.

Editors work on a **draft** per workspace and story (shared by that workspace's editors, kept in
the database so any instance can take the next command): add an event, correct one, preview the
draft, publish it (a new revision, from the draft's base revision: refused if someone published
since), or discard it. Every method checks that the caller is an editor of *their* workspace:
its admins (Discord: Manage Server; Slack: workspace admins and owners) and the roles (Discord)
or users (Slack) its admins name. Drafts and editor lists are per workspace: an editor of one
server never sees nor touches another server's.

Messages for users are translated (``bot`` catalog). Blocking (SQL): adapters call the methods
with ``asyncio.to_thread``.
"""

from __future__ import annotations

import datetime as dt
import re
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from sqlalchemy import delete, select

from bot.admin import messages
from bot.store import Store, StoryDraft, StoryEditor
from bot.stories.revisions import (
    Published,
    RevisionInfo,
    StaleRevision,
    StoryRevisions,
    digest_of,
)
from digests.errors import DepecheError, StoryError
from digests.story import Lang, Story, dump_story_data, parse_story, story_data
from digests.story_diff import StoryDiff, diff_stories

HEADLINE_MAX = 200
TEXT_MAX = 2000
URL_MAX = 500
CHOICES_MAX = 25
PARSED_CACHE = 8
FIELDS = ("date", "headline_fr", "headline_en", "text_fr", "text_en", "people", "source_url")
EditorKind = Literal["role", "user"]


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


# --------------------------------------------------------------------------- values and errors


@dataclass(frozen=True)
class Editor:
    """Who edits: platform, workspace (guild / team), user, language, and what the platform
    says of them (``is_admin``: Manage Server / workspace admin; ``role_ids`` on Discord)."""

    platform: str
    workspace_id: str
    user_id: str
    lang: Lang = "en"
    is_admin: bool = False
    role_ids: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        return f"{self.platform}:{self.user_id}"[:128]


@dataclass(frozen=True)
class EventForm:
    """The add/correct form, as typed. ``event_id`` is set when correcting an event."""

    date: str = ""
    headline_fr: str = ""
    headline_en: str = ""
    text_fr: str = ""
    text_en: str = ""
    people: str = ""  # ids or names, comma-separated
    source_url: str = ""
    event_id: str | None = None

    def values(self) -> dict[str, str]:
        return {name: str(getattr(self, name)) for name in FIELDS}


class EditingError(DepecheError):
    """A refused edit; ``str(error)`` is translated for the user."""

    code = "invalid"


class NotAnEditor(EditingError):
    code = "not_editor"


class NoDraft(EditingError):
    code = "no_draft"


class UnknownEvent(EditingError):
    code = "unknown_event"


class DraftOutdated(EditingError):
    code = "outdated"


class FormErrors(EditingError):
    """Every problem of a submitted form, by field (``FIELDS``, or ``form`` for the whole)."""

    code = "form"

    def __init__(self, errors: dict[str, str]) -> None:
        self.errors = errors
        super().__init__("\n".join(errors.values()))


@dataclass(frozen=True)
class SavedEvent:
    event_id: str
    created: bool  # False: an existing event was corrected
    base_revision: int


@dataclass(frozen=True)
class DraftPreview:
    slug: str
    base_revision: int
    before: Story
    after: Story
    diff: StoryDiff = field(repr=False)

    @property
    def changed_days(self) -> tuple[dt.date, ...]:
        return self.diff.changed_days


# --------------------------------------------------------------------------- parsing the form

_DATE = r"\d{4}-\d{2}-\d{2}"
_WINDOW = re.compile(rf"^\s*({_DATE})\s*(?:\.\.|/|→|->)\s*({_DATE})\s*$")
_IDENT = re.compile(r"[^a-z0-9]+")


def _parse_date(text: str, _t: Callable[..., str]) -> tuple[Any, str | None]:
    """``2024-03-05`` (exact) or ``2024-03-02..2024-03-04`` (an approximate window)."""
    text = text.strip()
    window = _WINDOW.match(text)
    try:
        if window:
            start = dt.date.fromisoformat(window.group(1))
            end = dt.date.fromisoformat(window.group(2))
            if end < start:
                return None, _t("The window ends before it starts.")
            if end == start:
                return start.isoformat(), None
            return {
                "from": start.isoformat(),
                "to": end.isoformat(),
                "precision": "approximate",
            }, None
        if re.fullmatch(_DATE, text):
            return dt.date.fromisoformat(text).isoformat(), None
    except ValueError:
        return None, _t("This date does not exist.")
    return None, _t(
        "Write the date as YYYY-MM-DD, or a window YYYY-MM-DD..YYYY-MM-DD when it is approximate."
    )


def _identifier(text: str) -> str:
    ident = _IDENT.sub("-", text.casefold()).strip("-")[:48].strip("-")
    return ident or "event"


def _match_people(story: Story, text: str) -> tuple[list[str], list[str]]:
    """Person ids for ``text`` (ids, names or aliases, comma-separated) and what is unknown."""
    lookup: dict[str, str] = {}
    for person in story.people:
        for key in (person.id, person.name, *person.aliases):
            lookup.setdefault(key.casefold().strip(), person.id)
    found: list[str] = []
    unknown: list[str] = []
    for part in re.split(r"[,;\n]", text):
        name = part.strip()
        if not name:
            continue
        person_id = lookup.get(name.casefold())
        if person_id is None:
            unknown.append(name)
        elif person_id not in found:
            found.append(person_id)
    return found, unknown


# --------------------------------------------------------------------------- the service


class StoryEditing:
    def __init__(
        self,
        store: Store,
        revisions: StoryRevisions,
        *,
        on_publish: Callable[[], object] | None = None,
        clock: Callable[[], dt.datetime] = _utcnow,
    ) -> None:
        self.store = store
        self.revisions = revisions
        self.on_publish = on_publish  # e.g. LiveStories.refresh: serve it here at once
        self.clock = clock
        self._parsed: OrderedDict[str, Story] = OrderedDict()
        self._lock = threading.Lock()

    def _parse(self, document: str, file: str) -> Story:
        """`parse_story`, remembered per document (a chat form must answer within 3 s; the
        working copy is parsed when the form opens, then reused when it is submitted)."""
        key = digest_of(document)
        with self._lock:
            story = self._parsed.get(key)
            if story is not None:
                self._parsed.move_to_end(key)
                return story
        story = parse_story(document, file)
        with self._lock:
            self._parsed[key] = story
            while len(self._parsed) > PARSED_CACHE:
                self._parsed.popitem(last=False)
        return story

    # ----------------------------------------------------------------------- editors

    def is_editor(self, editor: Editor) -> bool:
        if editor.is_admin:
            return True
        with self.store.session() as session:
            rows = session.execute(
                select(StoryEditor.kind, StoryEditor.ref).where(
                    StoryEditor.platform == editor.platform,
                    StoryEditor.workspace_id == editor.workspace_id,
                )
            ).all()
        return any(
            (kind == "user" and ref == editor.user_id)
            or (kind == "role" and ref in editor.role_ids)
            for kind, ref in rows
        )

    def require_editor(self, editor: Editor) -> None:
        if not self.is_editor(editor):
            _t = messages(editor.lang)
            raise NotAnEditor(
                _t(
                    "Sorry, only this workspace's admins and the editors they name can edit "
                    "the story."
                )
            )

    def set_editor(self, admin: Editor, kind: EditorKind, ref: str, *, add: bool = True) -> bool:
        """Name (or un-name) an editor role/user in the admin's own workspace; True if changed."""
        _t = messages(admin.lang)
        if not admin.is_admin:
            raise NotAnEditor(_t("Sorry, only this workspace's admins can name story editors."))
        where = (
            StoryEditor.platform == admin.platform,
            StoryEditor.workspace_id == admin.workspace_id,
            StoryEditor.kind == kind,
            StoryEditor.ref == ref,
        )
        with self.store.session() as session, session.begin():
            existing = session.scalar(select(StoryEditor.id).where(*where))
            if add and existing is None:
                session.add(
                    StoryEditor(
                        platform=admin.platform,
                        workspace_id=admin.workspace_id,
                        kind=kind,
                        ref=ref,
                        added_by=admin.label,
                        added_at=self.clock(),
                    )
                )
                return True
            if not add and existing is not None:
                session.execute(delete(StoryEditor).where(*where))
                return True
        return False

    def editors(self, platform: str, workspace_id: str) -> list[tuple[str, str]]:
        with self.store.session() as session:
            rows = session.execute(
                select(StoryEditor.kind, StoryEditor.ref)
                .where(StoryEditor.platform == platform, StoryEditor.workspace_id == workspace_id)
                .order_by(StoryEditor.id)
            ).all()
        return [(kind, ref) for kind, ref in rows]

    def editor_roles(self, platform: str, workspace_ids: list[str]) -> dict[str, set[str]]:
        """The role editors named in each of ``workspace_ids`` (one query), by workspace."""
        if not workspace_ids:
            return {}
        with self.store.session() as session:
            rows = session.execute(
                select(StoryEditor.workspace_id, StoryEditor.ref).where(
                    StoryEditor.platform == platform,
                    StoryEditor.kind == "role",
                    StoryEditor.workspace_id.in_(workspace_ids[:1000]),
                )
            ).all()
        found: dict[str, set[str]] = {}
        for workspace_id, ref in rows:
            found.setdefault(workspace_id, set()).add(ref)
        return found

    # ----------------------------------------------------------------------- drafts

    def _draft_row(self, editor: Editor, slug: str) -> StoryDraft | None:
        with self.store.session() as session:
            return session.scalar(
                select(StoryDraft).where(
                    StoryDraft.platform == editor.platform,
                    StoryDraft.workspace_id == editor.workspace_id,
                    StoryDraft.slug == slug,
                )
            )

    def _working_copy(self, editor: Editor, slug: str) -> tuple[int, str]:
        """(base revision, document): the workspace's draft, or the latest revision."""
        draft = self._draft_row(editor, slug)
        if draft is not None:
            return draft.base_revision, draft.document
        latest = self.revisions.latest(slug)
        return latest.revision, self.revisions.document(slug, latest.revision)

    def working_story(self, editor: Editor, slug: str) -> Story:
        self.require_editor(editor)
        _base, document = self._working_copy(editor, slug)
        return self._parse(document, f"{slug}@draft")

    def has_draft(self, editor: Editor, slug: str) -> bool:
        return self._draft_row(editor, slug) is not None

    def event_form(self, editor: Editor, slug: str, event_id: str) -> EventForm:
        """The form filled in with an event of the draft (or of the latest revision)."""
        story = self.working_story(editor, slug)
        event = next((e for e in story.events if e.id == event_id), None)
        if event is None:
            raise UnknownEvent(
                messages(editor.lang)("No event %(id)s in this story.", id=repr(event_id[:64]))
            )
        date = event.date
        when = (
            date.first.isoformat()
            if date.on is not None
            else f"{date.first.isoformat()}..{date.last.isoformat()}"
        )
        url = ""
        if event.source is not None and event.source in story.source_by_id:
            url = story.source_by_id[event.source].url or ""
        return EventForm(
            date=when,
            headline_fr=event.headline.fr,
            headline_en=event.headline.en,
            text_fr=event.text.fr,
            text_en=event.text.en,
            people=", ".join(story.person_by_id[p].name for p in event.people),
            source_url=url,
            event_id=event.id,
        )

    def save_event(self, editor: Editor, slug: str, form: EventForm) -> SavedEvent:
        """Add the form's event to the draft (or correct ``form.event_id``). Raises
        `FormErrors` with every problem, by field; the draft is unchanged then."""
        self.require_editor(editor)
        _t = messages(editor.lang)
        base, document = self._working_copy(editor, slug)
        story = self._parse(document, f"{slug}@draft")
        data = story_data(document)
        errors: dict[str, str] = {}

        date, problem = _parse_date(form.date, _t)
        if problem:
            errors["date"] = problem
        for name, limit in (
            ("headline_fr", HEADLINE_MAX),
            ("headline_en", HEADLINE_MAX),
            ("text_fr", TEXT_MAX),
            ("text_en", TEXT_MAX),
        ):
            value = getattr(form, name).strip()
            if not value:
                errors[name] = _t("Required, in French and in English.")
            elif len(value) > limit:
                errors[name] = _t("At most %(n)s characters.", n=limit)
        people, unknown = _match_people(story, form.people)
        if unknown:
            errors["people"] = _t(
                "Not in the story: %(names)s.", names=", ".join(name[:40] for name in unknown[:5])
            )
        url = form.source_url.strip()
        if url and (not re.fullmatch(r"https?://[^\s<>\"]+", url) or len(url) > URL_MAX):
            errors["source_url"] = _t("A web address starting with https:// (or http://).")
        events: list[dict[str, Any]] = data.setdefault("events", []) or []
        data["events"] = events
        index = None
        if form.event_id is not None:
            index = next(
                (i for i, item in enumerate(events) if item.get("id") == form.event_id), None
            )
            if index is None:
                raise UnknownEvent(
                    _t("No event %(id)s in this story.", id=repr(form.event_id[:64]))
                )
        if errors:
            raise FormErrors(errors)

        event: dict[str, Any] = dict(events[index]) if index is not None else {}
        if index is None:
            taken = {str(item.get("id")) for item in events}
            ident = base_ident = _identifier(form.headline_en)
            number = 2
            while ident in taken:
                ident = f"{base_ident}-{number}"
                number += 1
            event["id"] = ident
        event["date"] = date
        event["headline"] = {"fr": form.headline_fr.strip(), "en": form.headline_en.strip()}
        event["text"] = {"fr": form.text_fr.strip(), "en": form.text_en.strip()}
        if people:
            event["people"] = people
        else:
            event.pop("people", None)
        if not event.get("quote"):
            event["quote"] = event["text"][story.meta.source_language]
        if url:
            event["source"] = self._source_for(data, url, event)
        if index is None:
            events.append(event)
        else:
            events[index] = event

        new_document = dump_story_data(data)
        try:
            self._parse(new_document, f"{slug}@draft")
        except StoryError as error:
            raise FormErrors(
                {"form": "\n".join(str(issue) for issue in error.issues[:10])}
            ) from None
        self._store_draft(editor, slug, base, new_document)
        return SavedEvent(str(event["id"]), created=index is None, base_revision=base)

    @staticmethod
    def _source_for(data: dict[str, Any], url: str, event: dict[str, Any]) -> str:
        sources: list[dict[str, Any]] = data.setdefault("sources", [])
        for source in sources:
            if source.get("url") == url:
                return str(source["id"])
        taken = {str(source.get("id")) for source in sources}
        number = len(sources) + 1
        while f"web-{number}" in taken:
            number += 1
        sources.append(
            {
                "id": f"web-{number}",
                "title": dict(event["headline"]),
                "url": url,
                "language": "fr",
            }
        )
        return f"web-{number}"

    def _store_draft(self, editor: Editor, slug: str, base: int, document: str) -> None:
        with self.store.session() as session, session.begin():
            row = session.scalar(
                select(StoryDraft).where(
                    StoryDraft.platform == editor.platform,
                    StoryDraft.workspace_id == editor.workspace_id,
                    StoryDraft.slug == slug,
                )
            )
            if row is None:
                row = StoryDraft(
                    platform=editor.platform,
                    workspace_id=editor.workspace_id,
                    slug=slug,
                    base_revision=base,
                )
                session.add(row)
            row.document = document
            row.updated_by = editor.label
            row.updated_at = self.clock()

    def preview(self, editor: Editor, slug: str) -> DraftPreview:
        self.require_editor(editor)
        draft = self._draft_row(editor, slug)
        if draft is None:
            raise NoDraft(
                messages(editor.lang)("There is no draft: add or correct an event first.")
            )
        before = self._parse(
            self.revisions.document(slug, draft.base_revision), f"{slug}@{draft.base_revision}"
        )
        after = self._parse(draft.document, f"{slug}@draft")
        return DraftPreview(slug, draft.base_revision, before, after, diff_stories(before, after))

    def publish(self, editor: Editor, slug: str, comment: str | None = None) -> Published:
        """Publish the draft as the next revision (from its base) and delete it."""
        self.require_editor(editor)
        _t = messages(editor.lang)
        draft = self._draft_row(editor, slug)
        if draft is None:
            raise NoDraft(_t("There is no draft: add or correct an event first."))
        try:
            result = self.revisions.publish(
                draft.document,
                author=editor.label,
                origin=f"{editor.platform}:{editor.workspace_id}",
                comment=comment,
                base=draft.base_revision,
                file=f"{slug}@draft",
                slug=slug,
            )
        except StaleRevision as error:
            raise DraftOutdated(
                _t(
                    "Revision %(latest)s of the story was published after this draft was started "
                    "(from revision %(base)s): nothing was published and the draft is kept. "
                    "Discard it and make your changes again on the latest revision.",
                    latest=error.latest,
                    base=error.base,
                )
            ) from None
        with self.store.session() as session, session.begin():
            session.execute(delete(StoryDraft).where(StoryDraft.id == draft.id))
        if self.on_publish is not None:
            self.on_publish()
        return result

    def history(self, editor: Editor, slug: str, *, limit: int = 50) -> list[RevisionInfo]:
        """The story's latest revisions, newest first (editors only)."""
        self.require_editor(editor)
        return self.revisions.history(slug, limit=limit)

    def discard(self, editor: Editor, slug: str) -> bool:
        self.require_editor(editor)
        with self.store.session() as session, session.begin():
            deleted = session.execute(
                delete(StoryDraft).where(
                    StoryDraft.platform == editor.platform,
                    StoryDraft.workspace_id == editor.workspace_id,
                    StoryDraft.slug == slug,
                )
            )
        return bool(getattr(deleted, "rowcount", 0))

    # ----------------------------------------------------------------------- autocomplete

    def event_choices(self, editor: Editor, slug: str, prefix: str) -> list[tuple[str, str]]:
        """(event id, "date · headline") pairs matching ``prefix``, at most 25; [] for
        non-editors (autocomplete cannot show an error)."""
        if not self.is_editor(editor):
            return []
        story = self.working_story(editor, slug)
        needle = prefix.casefold().strip()
        found = [
            (e.id, f"{e.date.first.isoformat()} · {e.headline(editor.lang)}"[:100])
            for e in reversed(story.timeline)
            if needle in e.id or needle in e.headline(editor.lang).casefold()
        ]
        return found[:CHOICES_MAX]

    @staticmethod
    def people_choices(story: Story, prefix: str) -> list[tuple[str, str]]:
        needle = prefix.casefold().strip()
        found = [
            (p.id, p.name) for p in story.people if needle in p.name.casefold() or needle in p.id
        ]
        return found[:CHOICES_MAX]
