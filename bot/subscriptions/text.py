"""Subscriptions as text, in the reader's language: one line per subscription (`describe`,
shown by ``list``), a status report (`format_status`) and a listing (`render_list`). Shared by
chat, the CLI and the web console; `bot.admin` re-exports them."""

from __future__ import annotations

from collections.abc import Iterable

from bot.outbox import StatusReport, SubscriptionInfo
from bot.store import FAILED, PENDING, SKIPPED
from bot.subscription_updates import describe_updates, kind_label
from bot.subscriptions.alerts import describe_alerts
from bot.subscriptions.options import describe_options
from bot.subscriptions.threads import describe_thread
from digests.i18n import Messages
from digests.story import Lang


def messages(lang: str) -> Messages:
    return Messages(lang if lang in ("fr", "en") else "en", domain="bot", package="bot")  # type: ignore[arg-type]


def describe(info: SubscriptionInfo, lang: str = "en") -> str:
    """One line per subscription, translated."""
    _t = messages(lang)
    where = (
        f"{info.platform}:{info.workspace_id + '/' if info.workspace_id else ''}{info.channel_id}"
    )
    mode = _t("live") if info.mode == "live" else _t("replay from %(start)s", start=info.start_date)
    state = (
        _t("active") if info.active else _t("paused (%(reason)s)", reason=info.paused_reason or "")
    )
    nxt = info.next_run_local
    when = nxt.strftime("%Y-%m-%d %H:%M %Z") if nxt and info.active else "—"
    managed = (
        _t(", managed by %(file)s", file=(info.configured_from or "").removeprefix("file:"))
        if info.managed_by == "file"
        else ""
    )
    language: Lang = "fr" if lang == "fr" else "en"
    options = describe_options(info.days, info.cadence, info.format, language)
    options += describe_thread(info.thread, language)
    if info.user_id is not None:
        options += _t(", personal (direct message)")
    options += describe_alerts(info.alerts, language)
    return _t(
        "#%(id)s %(where)s [%(lang)s] %(time)s %(tz)s, %(mode)s, story %(story)s: %(state)s; next post %(next)s%(managed)s",
        id=info.id,
        where=where,
        lang=info.lang,
        time=info.post_time,
        tz=info.timezone,
        mode=mode + options,
        story=info.story_slug,
        state=state,
        next=when,
        managed=managed,
    ) + describe_updates(info, lang)


def format_status(report: StatusReport, lang: str = "en") -> str:
    _t = messages(lang)
    lines = [describe(report.subscription, lang)]
    lines.append(
        _t(
            "Posted: %(sent)s, pending: %(pending)s, failed: %(failed)s, skipped: %(skipped)s.",
            sent=report.sent,
            pending=report.pending,
            failed=report.failed,
            skipped=report.skipped,
        )
    )
    for d in report.recent:
        status = _t(d.status)
        late = _t(" (late)") if d.late else ""
        reason = (
            f" — {d.last_error}" if d.last_error and d.status in (FAILED, SKIPPED, PENDING) else ""
        )
        what = kind_label(d.kind, lang)
        lines.append(f"  {d.digest_date.isoformat()} [{d.lang}]{what} {status}{late}{reason}")
    return "\n".join(lines)


def render_list(infos: Iterable[SubscriptionInfo], lang: str = "en") -> str:
    lines = [describe(info, lang) for info in infos]
    return "\n".join(lines) if lines else messages(lang)("No subscriptions.")
