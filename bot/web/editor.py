"""The story editor's pages: the workspace's draft, add or correct an event, the draft's digest
per day and language, publish (with a comment) or discard, and the story's history — all
through `bot.stories.editing.StoryEditing`, the service chat and the CLI use (no SQL here).

Who may edit is decided by the platform on every request, as in chat: on Discord, Manage Server
(or owner, Administrator) or a role the server's admins named (the member's roles asked with the
bot's token); on Slack, the workspace's admins and owners or the users its admins named. The
browser names the workspace in the URL, and nothing more: a workspace the user does not belong
to is refused like a non-editor. In the console run the operator on loopback edits the
``console/local`` draft. Every form has a CSRF token; every answer to a POST is a redirect to a
path of ours or the page with the problems, the values kept.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from aiohttp import web
from babel.dates import format_datetime

from bot.stories.editing import (
    FIELDS,
    DraftOutdated,
    DraftPreview,
    EditingError,
    Editor,
    EventForm,
    FormErrors,
    NoDraft,
    NotAnEditor,
    StoryEditing,
)
from bot.stories.revisions import UnknownRevision
from bot.web.console import console_lang
from bot.web.labels import labels, messages
from bot.web.render import document_html, render_page
from bot.web.sessions import check_csrf, save, session_of
from bot.web.signin import Account, SignInError, account_of, manages, member_roles, user_guilds
from bot.web.state import STATE, WebState
from digests.compose import compose_digest
from digests.errors import StoryError
from digests.formatting import format_long
from digests.i18n import babel_locale
from digests.story import Lang, Story

FIELD_MAX = 4000  # per form field (the service has its own, smaller, limits)
LOCAL = ("console", "local")  # the console run's draft


@dataclass(frozen=True)
class Place:
    """A story in a workspace, as named by the URL."""

    platform: str
    workspace: str
    story: Story

    @property
    def base(self) -> str:
        return f"/console/editor/{self.platform}/{quote(self.workspace)}/{self.story.slug}/"


class Refused(Exception):
    def __init__(self, message: str, status: int = 403) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


def editor_labels(lang: Lang) -> dict[str, str]:
    _t = messages(lang)
    return {
        "editing": _t("Story editing"),
        "draft": _t("Draft"),
        "draft_from": _t("Draft from revision %(n)s."),
        "no_draft": _t("No draft: you are editing revision %(n)s, the latest."),
        "no_changes": _t("No event changes."),
        "changed_days": _t("Days whose digest changes"),
        "add": _t("Add an event"),
        "correct": _t("Correct an event"),
        "correcting": _t("Correcting: %(headline)s"),
        "choose": _t("Choose"),
        "date": _t("Date"),
        "date_help": _t("YYYY-MM-DD, or YYYY-MM-DD..YYYY-MM-DD when approximate"),
        "headline_fr": _t("Headline in French"),
        "headline_en": _t("Headline in English"),
        "text_fr": _t("Text in French"),
        "text_en": _t("Text in English"),
        "people": _t("People (comma-separated)"),
        "source_url": _t("Source URL"),
        "save": _t("Save to the draft"),
        "publish": _t("Publish"),
        "comment": _t("Comment"),
        "discard": _t("Discard the draft"),
        "history": _t("History"),
        "revision": _t("Revision"),
        "when": _t("When"),
        "author": _t("Author"),
        "origin": _t("From"),
        "preview": _t("Preview"),
        "preview_of": _t("The draft's digest of %(day)s"),
        "no_event_day": _t("The draft has no event on this day."),
        "back_draft": _t("Back to the draft"),
        "back_console": _t("Back to the console"),
        "edit_story": _t("Edit the story"),
        "form_errors": _t("The event was not saved: see the problems below."),
    }


def notice_text(lang: Lang, key: str, revision: str) -> str:
    _t = messages(lang)
    if key == "published" and revision.isdigit():
        return _t("Published: revision %(n)s of the story.", n=revision)
    return {
        "saved": _t("Event saved to the draft."),
        "discarded": _t("Draft discarded."),
    }.get(key, "")


# --------------------------------------------------------------------------- who edits


def _service(state: WebState) -> StoryEditing:
    if state.context.editing is None:
        raise web.HTTPNotFound(text="story editing is not available here\n")
    return state.context.editing


def place_of(request: web.Request) -> Place:
    state = request.app[STATE]
    try:
        story = state.context.library.get(request.match_info["slug"])
    except StoryError:
        raise web.HTTPNotFound(text="no such story\n") from None
    return Place(request.match_info["platform"], request.match_info["workspace"], story)


async def editor_of(request: web.Request, place: Place, lang: Lang) -> Editor:
    """The editor the platform says this request comes from, for the URL's workspace; refused
    (before any draft is read) when the user is not one of its editors."""
    state = request.app[STATE]
    _t = messages(lang)
    not_editor = Refused(_t("Only this workspace's admins and the editors they name can edit."))
    if state.console:
        if (place.platform, place.workspace) != LOCAL:
            raise web.HTTPNotFound()
        return Editor(*LOCAL, user_id="web console", lang=lang, is_admin=True)
    account = account_of(request)
    if account is None:
        raise Refused(_t("Sign in first."), status=401)
    try:
        editor = await _platform_editor(state, account, place, lang)
    except SignInError as error:
        state.accounts.pop(session_of(request).sid, None)
        raise Refused(str(error), status=401) from None
    if editor is None:
        raise not_editor
    if not await asyncio.to_thread(_service(state).is_editor, editor):
        raise not_editor
    return editor


async def _platform_editor(
    state: WebState, account: Account, place: Place, lang: Lang
) -> Editor | None:
    if account.platform == "slack":
        if place.platform != "slack" or place.workspace != account.team_id:
            return None
        from bot.web.slack_signin import managed_workspaces

        admin = place.workspace in await managed_workspaces(state, account)
        return Editor("slack", place.workspace, account.user_id, lang, is_admin=admin)
    if place.platform != "discord":
        return None
    guild = next(
        (g for g in await user_guilds(state, account) if str(g.get("id")) == place.workspace),
        None,
    )
    if guild is None:
        return None
    if manages(guild):
        return Editor("discord", place.workspace, account.user_id, lang, is_admin=True)
    roles = await member_roles(state, place.workspace, account.user_id) or ()
    return Editor("discord", place.workspace, account.user_id, lang, role_ids=roles)


async def editable_workspaces(
    state: WebState, account: Account | None, managed: dict[tuple[str, str], str] | None
) -> list[tuple[str, str, str]]:
    """(platform, workspace, name) the console lists with an "Edit the story" link."""
    if state.context.editing is None:
        return []
    if account is None:
        return [(*LOCAL, "")] if managed is None else []
    editing = state.context.editing
    found = [(platform, ws, name) for (platform, ws), name in (managed or {}).items()]
    if account.platform == "slack" and ("slack", account.team_id) not in (managed or {}):
        editor = Editor("slack", account.team_id, account.user_id)
        if await asyncio.to_thread(editing.is_editor, editor):
            found.append(("slack", account.team_id, account.team_name))
    if account.platform == "discord":
        # Servers the user is in without managing them, where the admins named editor roles:
        # the member's roles there, asked with the bot's token.
        try:
            guilds = {
                str(g["id"]): str(g.get("name") or g["id"])
                for g in await user_guilds(state, account)
                if ("discord", str(g["id"])) not in (managed or {})
            }
        except SignInError:
            guilds = {}
        named = await asyncio.to_thread(editing.editor_roles, "discord", sorted(guilds))
        for guild_id, roles in named.items():
            if set(await member_roles(state, guild_id, account.user_id) or ()) & roles:
                found.append(("discord", guild_id, guilds[guild_id]))
    return sorted(found)


# --------------------------------------------------------------------------- pages


def _common(lang: Lang, place: Place, title: str) -> dict[str, Any]:
    other: Lang = "en" if lang == "fr" else "fr"
    return {
        "lang": lang,
        "t": labels(lang),
        "e": editor_labels(lang),
        "page_title": f"{title} — {place.story.meta.title(lang)}",
        "console_url": f"/console/?lang={lang}",
        "other_lang": other,
        "place": place,
        "story_title": place.story.meta.title(lang),
    }


def _html(request: web.Request, page: str, status: int = 200) -> web.Response:
    response = web.Response(text=page, content_type="text/html", charset="utf-8", status=status)
    save(request, response)
    return response


def _refused(request: web.Request, lang: Lang, place: Place, refused: Refused) -> web.Response:
    page = render_page(
        "editor.html",
        **_common(lang, place, editor_labels(lang)["editing"]),
        other_url=f"{place.base}?lang={'en' if lang == 'fr' else 'fr'}",
        error=refused.message,
        refused=True,
    )
    return _html(request, page, refused.status)


def _change_lines(preview: DraftPreview, lang: Lang) -> list[str]:
    sign = {"added": "+", "removed": "−", "changed": "~"}
    lines = []
    for change in preview.diff.events:
        event = change.after or change.before
        assert event is not None
        lines.append(f"{sign[change.kind]} {format_long(event.date.first, lang)} · "
                     f"{event.headline(lang)}")  # fmt: skip
    return lines


async def _draft_page(
    request: web.Request,
    place: Place,
    editor: Editor,
    *,
    form: EventForm | None = None,
    errors: dict[str, str] | None = None,
    error: str = "",
    status: int = 200,
) -> web.Response:
    state = request.app[STATE]
    service = _service(state)
    lang = editor.lang
    slug = place.story.slug
    story = await asyncio.to_thread(service.working_story, editor, slug)  # UnknownRevision
    preview: DraftPreview | None = None
    if await asyncio.to_thread(service.has_draft, editor, slug):
        preview = await asyncio.to_thread(service.preview, editor, slug)
    latest = (await asyncio.to_thread(service.history, editor, slug, limit=1))[0].revision
    correct = request.query.get("correct", "")
    if form is None and correct:
        try:
            form = await asyncio.to_thread(service.event_form, editor, slug, correct[:100])
        except EditingError as problem:
            error, status = str(problem), 404
    values = (form or EventForm()).values()
    page = render_page(
        "editor.html",
        **_common(lang, place, editor_labels(lang)["editing"]),
        other_url=f"{place.base}?lang={'en' if lang == 'fr' else 'fr'}",
        csrf=session_of(request).csrf_token(state.secret),
        preview=preview,
        changes=_change_lines(preview, lang) if preview else [],
        days=[
            (d.isoformat(), format_long(d, lang)) for d in (preview.changed_days if preview else ())
        ],
        latest=latest,
        events=[
            (e.id, f"{e.date.first.isoformat()} · {e.headline(lang)}"[:120])
            for e in reversed(story.timeline)
        ],
        values=values,
        event_id=(form.event_id if form else None) or "",
        fields=FIELDS,
        errors=errors or {},
        error=error,
        notice=notice_text(lang, request.query.get("done", ""), request.query.get("rev", "")),
    )
    return _html(request, page, status)


async def draft(request: web.Request) -> web.Response:
    lang = console_lang(request)
    place = place_of(request)
    try:
        editor = await editor_of(request, place, lang)
    except Refused as refused:
        return _refused(request, lang, place, refused)
    return await _draft_page(request, place, editor)


def _limit(request: web.Request) -> None:
    if not request.app[STATE].forms.allow(request.remote or "?"):
        raise web.HTTPTooManyRequests(text="too many requests: wait a minute\n")


async def _posted(request: web.Request) -> tuple[Any, Lang, Place]:
    _limit(request)
    form = await request.post()
    check_csrf(request, form)
    lang: Lang = "fr" if form.get("lang") == "fr" else "en"
    return form, lang, place_of(request)


def _field(form: Any, name: str) -> str:
    value = form.get(name, "")
    return value[:FIELD_MAX] if isinstance(value, str) else ""


async def save_event(request: web.Request) -> web.StreamResponse:
    form, lang, place = await _posted(request)
    try:
        editor = await editor_of(request, place, lang)
    except Refused as refused:
        return _refused(request, lang, place, refused)
    event = EventForm(
        **{name: _field(form, name) for name in FIELDS},
        event_id=_field(form, "event_id")[:100] or None,
    )
    service = _service(request.app[STATE])
    try:
        await asyncio.to_thread(service.save_event, editor, place.story.slug, event)
    except FormErrors as problems:
        return await _draft_page(
            request,
            place,
            editor,
            form=event,
            errors=problems.errors,
            error=editor_labels(lang)["form_errors"],
            status=400,
        )
    except EditingError as problem:
        return await _draft_page(request, place, editor, form=event, error=str(problem), status=400)
    raise web.HTTPSeeOther(f"{place.base}?lang={lang}&done=saved")


async def publish(request: web.Request) -> web.StreamResponse:
    form, lang, place = await _posted(request)
    try:
        editor = await editor_of(request, place, lang)
    except Refused as refused:
        return _refused(request, lang, place, refused)
    comment = _field(form, "comment").strip()[:500] or None
    service = _service(request.app[STATE])
    try:
        result = await asyncio.to_thread(service.publish, editor, place.story.slug, comment)
    except DraftOutdated as outdated:
        return await _draft_page(request, place, editor, error=str(outdated), status=409)
    except (NoDraft, NotAnEditor, EditingError, StoryError) as problem:
        return await _draft_page(request, place, editor, error=str(problem), status=400)
    raise web.HTTPSeeOther(
        f"{place.base}history?lang={lang}&done=published&rev={result.info.revision}"
    )


async def discard(request: web.Request) -> web.StreamResponse:
    _form, lang, place = await _posted(request)
    try:
        editor = await editor_of(request, place, lang)
    except Refused as refused:
        return _refused(request, lang, place, refused)
    await asyncio.to_thread(_service(request.app[STATE]).discard, editor, place.story.slug)
    raise web.HTTPSeeOther(f"{place.base}?lang={lang}&done=discarded")


async def preview(request: web.Request) -> web.Response:
    """The draft's digest for ``day`` in ``digest`` (fr/en), as it will read once published."""
    lang = console_lang(request)
    place = place_of(request)
    try:
        editor = await editor_of(request, place, lang)
    except Refused as refused:
        return _refused(request, lang, place, refused)
    _t = messages(lang)
    digest_lang: Lang = "en" if request.query.get("digest") == "en" else "fr"
    service = _service(request.app[STATE])
    try:
        day = dt.date.fromisoformat(request.query.get("day", "")[:10])
        draft_preview = await asyncio.to_thread(service.preview, editor, place.story.slug)
    except ValueError:
        return await _draft_page(
            request,
            place,
            editor,
            error=_t("Not a date: %(value)s.", value=request.query.get("day", "")[:40]),
            status=400,
        )
    except EditingError as problem:
        return await _draft_page(request, place, editor, error=str(problem), status=400)
    document = compose_digest(draft_preview.after, day, digest_lang)
    e = editor_labels(lang)
    page = render_page(
        "editor_preview.html",
        **_common(lang, place, e["preview"]),
        other_url=f"{place.base}preview?day={day.isoformat()}&digest={digest_lang}"
        f"&lang={'en' if lang == 'fr' else 'fr'}",
        heading=e["preview_of"] % {"day": format_long(day, lang)},
        document=document,
        html=document_html(document, heading_level=3) if document else "",
        digest_lang=digest_lang,
        days=[(d.isoformat(), format_long(d, lang)) for d in draft_preview.changed_days],
    )
    return _html(request, page)


async def history(request: web.Request) -> web.Response:
    lang = console_lang(request)
    place = place_of(request)
    try:
        editor = await editor_of(request, place, lang)
    except Refused as refused:
        return _refused(request, lang, place, refused)
    service = _service(request.app[STATE])
    revisions = await asyncio.to_thread(service.history, editor, place.story.slug)
    locale = babel_locale(lang)
    rows = [
        {
            "revision": info.revision,
            "when": format_datetime(info.created_at, "medium", tzinfo=dt.UTC, locale=locale),
            "author": info.author,
            "origin": info.origin,
            "comment": info.comment or "",
        }
        for info in revisions
    ]
    e = editor_labels(lang)
    page = render_page(
        "editor_history.html",
        **_common(lang, place, e["history"]),
        other_url=f"{place.base}history?lang={'en' if lang == 'fr' else 'fr'}",
        rows=rows,
        notice=notice_text(lang, request.query.get("done", ""), request.query.get("rev", "")),
    )
    return _html(request, page)


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def guarded(handler: Handler) -> Handler:
    """A story that has no revision in the database yet (not imported) gets a clear page."""

    @functools.wraps(handler)
    async def wrapper(request: web.Request) -> web.StreamResponse:
        try:
            return await handler(request)
        except UnknownRevision:
            lang = console_lang(request)
            message = messages(lang)("This story has no published revision yet.")
            return _refused(request, lang, place_of(request), Refused(message, 404))

    return wrapper


def add_routes(app: web.Application) -> None:
    base = "/console/editor/{platform:discord|slack|console}/{workspace:[A-Za-z0-9]{1,32}}/{slug:[a-z0-9-]{1,64}}/"
    app.router.add_get(base, guarded(draft), name="editor_draft")
    app.router.add_post(base + "events", guarded(save_event), name="editor_save")
    app.router.add_post(base + "publish", guarded(publish), name="editor_publish")
    app.router.add_post(base + "discard", guarded(discard), name="editor_discard")
    app.router.add_get(base + "preview", guarded(preview), name="editor_preview")
    app.router.add_get(base + "history", guarded(history), name="editor_history")
