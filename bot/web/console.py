"""The admin console: subscriptions with their status, next post and last deliveries;
pause/resume, unsubscribe, send-now, preview and create — all through `bot.admin.AdminService`
(the same service as chat and the CLI; no SQL here).

Served without sign-in only in the console run, on the loopback interface (`WebState.console`).
Every form carries a CSRF token; every POST answers with a redirect to a fixed path of ours
(never one taken from the request), or with the page and a one-line error.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from bot.admin import (
    Actor,
    AdminError,
    SubscriptionInfo,
    SubscriptionNotFound,
    SubscriptionSpec,
)
from bot.admin import messages as admin_messages
from bot.web.channels import ChannelsUnavailable, channels_of
from bot.web.labels import labels, messages
from bot.web.render import document_html, render_page
from bot.web.sessions import check_csrf, save, session_of
from bot.web.signin import Account, SignInError, account_of, managed_guilds
from bot.web.state import STATE
from digests.story import Lang

ACTIONS = ("pause", "resume", "unsubscribe", "send-now")
NOTICES = ("paused", "resumed", "unsubscribed", "sent", "created")


def console_lang(request: web.Request) -> Lang:
    asked = request.query.get("lang", "")
    if asked in ("fr", "en"):
        return asked  # type: ignore[return-value]
    return "fr" if request.headers.get("Accept-Language", "").startswith("fr") else "en"


Workspace = tuple[str, str]
"""(platform, workspace id): a Discord server or a Slack workspace."""


@dataclass(frozen=True)
class Scope:
    """What this request may see and change: everything (the console run, on loopback), or
    the servers and workspaces the signed-in user manages (asked from the platform for this
    request), by (platform, id) -> name."""

    workspaces: dict[Workspace, str] | None
    account: Account | None = None

    def actor(self, lang: Lang) -> Actor:
        if self.account is None:
            # The console run's operator, on this machine: the same rights as the CLI.
            return Actor(user_id="web console", via="cli", where="web", lang=lang)
        return Actor(user_id=self.account.user_id, via="chat", where="web", lang=lang)

    def allows(self, info: SubscriptionInfo) -> bool:
        return self.workspaces is None or (info.platform, info.workspace_id) in self.workspaces


class SignInNeeded(Exception):
    def __init__(self, message: str = "") -> None:
        super().__init__(message)
        self.message = message


async def scope_of(request: web.Request) -> Scope:
    state = request.app[STATE]
    if state.console:
        return Scope(None)
    account = account_of(request)
    if account is None:
        raise SignInNeeded()
    try:
        if account.platform == "slack":
            from bot.web.slack_signin import managed_workspaces

            teams = await managed_workspaces(state, account)
            return Scope({("slack", team): name for team, name in teams.items()}, account)
        guilds = await managed_guilds(state, account)
        return Scope({("discord", guild): name for guild, name in guilds.items()}, account)
    except SignInError as error:
        state.accounts.pop(session_of(request).sid, None)
        raise SignInNeeded(str(error)) from None


async def _allowed(request: web.Request, scope: Scope, sub_id: int, lang: Lang) -> None:
    """Refuse a subscription outside the scope exactly as a missing one (no probing)."""
    if scope.workspaces is None:
        return
    reports = await request.app[STATE].context.admin.status(sub_id, scope.actor(lang), recent=0)
    if not reports or not scope.allows(reports[0].subscription):
        raise SubscriptionNotFound(admin_messages(lang)("No subscription #%(id)s.", id=sub_id))


def notice_text(lang: Lang, key: str) -> str:
    _t = messages(lang)
    return {
        "paused": _t("Subscription paused."),
        "resumed": _t("Subscription resumed."),
        "unsubscribed": _t("Subscription removed."),
        "sent": _t("Digest sent now."),
        "created": _t("Subscription saved."),
    }.get(key, "")


def console_labels(lang: Lang) -> dict[str, str]:
    _t = messages(lang)
    return {
        "title": _t("Subscriptions"),
        "none": _t("No subscription yet."),
        "channel": _t("Channel"),
        "language": _t("Language"),
        "schedule": _t("Schedule"),
        "mode": _t("Mode"),
        "status": _t("Status"),
        "next": _t("Next post"),
        "last": _t("Last deliveries"),
        "actions": _t("Actions"),
        "active": _t("active"),
        "paused": _t("paused"),
        "live": _t("live"),
        "replay": _t("replay"),
        "pause": _t("Pause"),
        "resume": _t("Resume"),
        "unsubscribe": _t("Unsubscribe"),
        "send_now": _t("Send now"),
        "preview": _t("Preview"),
        "create": _t("New subscription"),
        "save": _t("Subscribe"),
        "time": _t("Time"),
        "timezone": _t("Time zone"),
        "start": _t("Replay start"),
        "story": _t("Story"),
        "both": _t("both"),
        "back": _t("Back to the console"),
        "preview_of": _t("Preview of subscription #%(id)s"),
        "file_managed": _t("managed by the configuration file"),
        "sign_in": _t("Sign in with Discord"),
        "sign_in_slack": _t("Sign in with Slack"),
        "sign_in_why": _t(
            "Sign in to manage the subscriptions of the servers and workspaces you administer."
        ),
        "signed_in": _t("Signed in as %(name)s"),
        "sign_out": _t("Sign out"),
        "servers": _t("Your servers and workspaces"),
        "edit_story": _t("Edit the story"),
        "unreadable": _t("The bot cannot list the channels of: %(names)s."),
    }


def _lang_url(lang: Lang) -> str:
    return f"/console/?lang={lang}"


def _status_rows(report: Any, lang: Lang) -> list[str]:
    _t = admin_messages(lang)  # delivery statuses are the admin service's words
    rows = []
    for delivery in report.recent[:5]:
        line = f"{delivery.digest_date.isoformat()} [{delivery.lang}] {_t(delivery.status)}"
        if delivery.last_error and delivery.status != "sent":
            line += f" — {delivery.last_error[:120]}"
        rows.append(line)
    return rows


async def _page(
    request: web.Request,
    lang: Lang,
    scope: Scope | None,
    *,
    error: str = "",
    status: int = 200,
) -> web.Response:
    state = request.app[STATE]
    admin = state.context.admin
    session = session_of(request)
    subscriptions: list[dict[str, Any]] = []
    if scope is None:
        infos: list[SubscriptionInfo] = []
    elif scope.workspaces is None:
        infos = await admin.list()
    else:
        infos = [
            info
            for platform, workspace in sorted(scope.workspaces)
            for info in await admin.list(platform=platform, workspace_id=workspace)
        ]
    notice = notice_text(lang, request.query.get("done", ""))
    pickers: list[tuple[str, list[tuple[str, str]]]] = []  # (workspace name, [(value, name)])
    unreadable: list[str] = []
    names: dict[str, str] = {}  # "platform:workspace:channel" -> "Workspace #channel"
    for (platform, workspace), name in sorted((scope.workspaces or {}).items()) if scope else ():
        try:
            found = await channels_of(state, platform, workspace)
        except ChannelsUnavailable:
            unreadable.append(name)
            continue
        if found:
            options = [(f"{platform}:{workspace}:{cid}", cname) for cid, cname in found]
            pickers.append((name, options))
            names.update((value, f"{name} {cname}") for value, cname in options)
    for info in infos:
        report = (await admin.status(info.id, Scope(None).actor(lang), recent=5))[0]
        row = _row(info, report, lang)
        row["name"] = names.get(f"{info.platform}:{info.workspace_id}:{info.channel_id}", "")
        subscriptions.append(row)
    editable: list[tuple[str, str, str]] = []
    if scope is not None:
        from bot.web.editor import editable_workspaces

        editable = await editable_workspaces(state, scope.account, scope.workspaces)
    page = render_page(
        "console.html",
        lang=lang,
        t=labels(lang),
        c=console_labels(lang),
        page_title=f"Dépêche — {labels(lang)['console']}",
        other_url=_lang_url("en" if lang == "fr" else "fr"),
        other_lang="en" if lang == "fr" else "fr",
        console_url=_lang_url(lang),
        csrf=session.csrf_token(state.secret),
        subscriptions=subscriptions,
        stories=[(story.slug, story.meta.title(lang)) for story in state.context.library],
        today=state.now().date().isoformat(),
        notice=notice,
        error=error,
        signed_in=scope.account.name if scope and scope.account else "",
        sign_in=scope is None,
        sign_in_discord=state.signin,
        sign_in_slack=state.slack_signin,
        can_create=scope is not None and (scope.workspaces is None or bool(pickers)),
        pickers=pickers,
        unreadable=unreadable,
        guilds=sorted((scope.workspaces or {}).values()) if scope else [],
        editable=[
            (
                f"/console/editor/{platform}/{ws}/{story.slug}/?lang={lang}",
                name,
                story.meta.title(lang),
            )
            for platform, ws, name in editable
            for story in state.context.library
        ],
    )
    response = web.Response(text=page, content_type="text/html", charset="utf-8", status=status)
    save(request, response)
    return response


def _row(info: SubscriptionInfo, report: Any, lang: Lang) -> dict[str, Any]:
    nxt = info.next_run_local
    return {
        "id": info.id,
        "where": f"{info.platform}:{info.workspace_id + '/' if info.workspace_id else ''}{info.channel_id}",
        "lang": info.lang,
        "schedule": f"{info.post_time} {info.timezone}",
        "mode": info.mode,
        "start": info.start_date.isoformat() if info.start_date else "",
        "story": info.story_slug,
        "active": info.active,
        "reason": info.paused_reason or "",
        "next": nxt.strftime("%Y-%m-%d %H:%M %Z") if nxt and info.active else "—",
        "last": _status_rows(report, lang),
        "file": info.managed_by == "file",
    }


async def console_page(request: web.Request) -> web.Response:
    lang = console_lang(request)
    try:
        scope = await scope_of(request)
    except SignInNeeded as needed:
        return await _page(
            request, lang, None, error=needed.message, status=401 if needed.message else 200
        )
    return await _page(request, lang, scope)


def _limit(request: web.Request) -> None:
    if not request.app[STATE].forms.allow(request.remote or "?"):
        raise web.HTTPTooManyRequests(text="too many requests: wait a minute\n")


async def action(request: web.Request) -> web.StreamResponse:
    _limit(request)
    form = await request.post()
    check_csrf(request, form)
    lang: Lang = "fr" if form.get("lang") == "fr" else "en"
    try:
        sub_id = int(request.match_info["id"])
    except ValueError:
        raise web.HTTPNotFound() from None
    admin = request.app[STATE].context.admin
    name = request.match_info["action"]
    try:
        scope = await scope_of(request)
    except SignInNeeded:
        raise web.HTTPForbidden(text="sign in first\n") from None
    actor = scope.actor(lang)
    try:
        await _allowed(request, scope, sub_id, lang)
        if name == "pause":
            await admin.pause(sub_id, actor)
            done = "paused"
        elif name == "resume":
            await admin.resume(sub_id, actor)
            done = "resumed"
        elif name == "unsubscribe":
            await admin.unsubscribe(sub_id, actor)
            done = "unsubscribed"
        else:
            await admin.send_now(sub_id, actor)
            done = "sent"
    except AdminError as error:
        return await _page(request, lang, scope, error=str(error), status=400)
    raise web.HTTPSeeOther(f"/console/?lang={lang}&done={done}")


async def create(request: web.Request) -> web.StreamResponse:
    _limit(request)
    form = await request.post()
    check_csrf(request, form)
    lang: Lang = "fr" if form.get("lang") == "fr" else "en"
    _t = messages(lang)
    try:
        scope = await scope_of(request)
    except SignInNeeded:
        raise web.HTTPForbidden(text="sign in first\n") from None
    platform, workspace, channel = "console", "", str(form.get("channel", "")).strip()[:100]
    if scope.workspaces is not None:
        # A channel of a server or workspace the user manages *now*, among the channels the
        # platform lists for it *now*: nothing of it is taken from the browser.
        platform, _, rest = str(form.get("target", "")).partition(":")
        workspace, _, channel = rest.partition(":")
        refused = _t("Not a channel of your servers or workspaces that the bot can see.")
        if (platform, workspace) not in scope.workspaces:
            return await _page(request, lang, scope, error=refused, status=400)
        try:
            listed = dict(await channels_of(request.app[STATE], platform, workspace))
        except ChannelsUnavailable:
            listed = {}
        if channel not in listed:
            return await _page(request, lang, scope, error=refused, status=400)
    start: dt.date | None = None
    if form.get("mode") == "replay" and str(form.get("start", "")).strip():
        try:
            start = dt.date.fromisoformat(str(form["start"]).strip())
        except ValueError:
            return await _page(
                request,
                lang,
                scope,
                error=_t("Not a date: %(value)s.", value=str(form["start"])[:40]),
                status=400,
            )
    spec = SubscriptionSpec(
        platform=platform,
        workspace_id=workspace,
        channel_id=channel,
        lang=str(form.get("sub_lang", "")),
        post_time=str(form.get("time", "")).strip()[:10],
        timezone=str(form.get("timezone", "")).strip()[:64],
        mode=str(form.get("mode", "")),
        start_date=start,
        story_slug=str(form.get("story", "")) or None,
    )
    try:
        await request.app[STATE].context.admin.subscribe(spec, scope.actor(lang))
    except AdminError as error:
        return await _page(request, lang, scope, error=str(error), status=400)
    raise web.HTTPSeeOther(f"/console/?lang={lang}&done=created")


async def preview(request: web.Request) -> web.Response:
    lang = console_lang(request)
    state = request.app[STATE]
    try:
        scope = await scope_of(request)
    except SignInNeeded as needed:
        return await _page(request, lang, None, error=needed.message, status=401)
    try:
        sub_id = int(request.match_info["id"])
        await _allowed(request, scope, sub_id, lang)
        documents = await state.context.admin.preview(sub_id, scope.actor(lang))
    except (ValueError, AdminError) as error:
        message = str(error) if isinstance(error, AdminError) else messages(lang)("Not found")
        return await _page(request, lang, scope, error=message, status=404)
    c = console_labels(lang)
    page = render_page(
        "preview.html",
        lang=lang,
        t=labels(lang),
        c=c,
        page_title=c["preview_of"] % {"id": sub_id},
        heading=c["preview_of"] % {"id": sub_id},
        console_url=_lang_url(lang),
        other_url=f"/console/subscriptions/{sub_id}/preview?lang={'en' if lang == 'fr' else 'fr'}",
        other_lang="en" if lang == "fr" else "fr",
        documents=[(d, document_html(d, heading_level=3)) for d in documents],
    )
    return web.Response(text=page, content_type="text/html", charset="utf-8")


def add_routes(app: web.Application) -> None:
    app.router.add_get("/console/", console_page, name="console")
    app.router.add_post("/console/subscriptions", create, name="console_create")
    app.router.add_post(
        "/console/subscriptions/{id:\\d+}/{action:pause|resume|unsubscribe|send-now}",
        action,
        name="console_action",
    )
    app.router.add_get("/console/subscriptions/{id:\\d+}/preview", preview, name="console_preview")
    from bot.web import editor

    editor.add_routes(app)
