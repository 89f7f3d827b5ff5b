"""Subscriptions administration: one service for every platform and for the CLI.

Platform adapters translate a slash command into one call here and the result (or the
`AdminError`, whose message is already translated into ``actor.lang``) into a reply::

    admin = AdminService(store, library, publishers=registry, worker=worker)
    admin.register_channel_validator("discord", lambda workspace_id, channel_id: ...)
    info, created = await admin.subscribe(
        SubscriptionSpec(platform="discord", workspace_id=guild, channel_id=channel,
                         lang="fr", post_time="08:00", timezone="Europe/Paris"),
        Actor(user_id=user, via="chat", where=channel, lang="fr"),
    )

Every method is ``async`` (a channel validator may call the platform). Subscriptions managed by
``config/subscriptions.toml`` (``managed_by="file"``) cannot be changed from chat: the refusal
says which file to edit.
"""

from __future__ import annotations

import builtins
import datetime as dt
import inspect
import logging
import re
import tomllib
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo

from bot.outbox import (
    DeliveryInfo,
    NewPost,
    Outbox,
    OutboxSummary,
    Ref,
    StatusReport,
    SubscriptionFields,
    SubscriptionInfo,
    Target,
    subscription_day,
)
from bot.outbox import story_day as story_day_now
from bot.publishing import PublisherRegistry
from bot.schedule import langs_of, story_date_for, utcnow, zone_of
from bot.store import MANUAL, SCHEDULED, Store
from bot.subscription_updates import (
    corrections_problem,
    parse_switch,
)
from bot.subscriptions.options import (
    DAILY,
    FULL,
    InvalidOption,
    check_options,
)
from bot.subscriptions.text import describe, format_status, render_list
from bot.subscriptions.threads import NONE as NONE_THREAD
from bot.subscriptions.threads import check_thread
from bot.timezones import canonical_zone, suggest_timezones, unknown_zone
from digests.documents import Document
from digests.errors import DepecheError
from digests.i18n import Messages
from digests.options import OptionError, parse_time_option
from digests.story import Lang, StoryLibrary
from digests.weekdays import ALL_DAYS

_log = logging.getLogger(__name__)

PLATFORMS = ("discord", "slack", "console")
SEND_NOW_WAIT = 10.0  # seconds a send-now waits for its posts before answering
LANG_CHOICES = ("fr", "en", "both")
MODES = ("live", "replay")

ChannelValidator = Callable[[str, str], bool | Awaitable[bool]]
"""``(workspace_id, channel_id) -> bool``: does the bot see that channel (and may it post)?"""

ChannelTenants = Callable[[str, str], Collection[str] | Awaitable[Collection[str] | None] | None]
"""``(workspace_id, channel_id) -> the tenants the platform places the channel in`` (Discord: the
channel's guild id; Slack: its ``context_team_id`` and ``shared_team_ids``), or None when the bot
cannot see the channel. ``workspace_id`` only says which token to ask with: the answer must come
from the platform, never from the request. See `AdminService.check_tenant`."""


def messages(lang: str) -> Messages:
    return Messages(lang if lang in ("fr", "en") else "en", domain="bot", package="bot")  # type: ignore[arg-type]


# --------------------------------------------------------------------------- errors


class AdminError(DepecheError):
    """A refused admin operation; ``str(error)`` is the translated message for the user."""

    code = "invalid"

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class InvalidValue(AdminError):
    code = "invalid_value"


class UnknownTimezone(AdminError):
    code = "unknown_timezone"

    @property
    def suggestions(self) -> list[str]:
        return list(self.details.get("suggestions", []))


class InvalidTime(AdminError):
    code = "invalid_time"


class UnknownChannel(AdminError):
    code = "unknown_channel"


class ForeignChannel(UnknownChannel):
    """The channel is not in the server/workspace the request comes from (or cannot be seen)."""

    code = "foreign_channel"


class ReplayStartInPast(AdminError):
    code = "replay_start_in_past"


class FileManaged(AdminError):
    code = "file_managed"


class SubscriptionNotFound(AdminError):
    code = "not_found"


class UnknownStory(AdminError):
    code = "unknown_story"


class UnknownStoryDate(AdminError):
    code = "unknown_story_date"


# --------------------------------------------------------------------------- values


@dataclass(frozen=True)
class Actor:
    """Who asks, from where, in which language the answer (and later notices) should be."""

    user_id: str | None = None
    via: Literal["chat", "cli", "file"] = "chat"
    where: str | None = None  # channel id the command came from / "file:<path>" / "cli"
    lang: Lang = "en"


CLI = Actor(via="cli", where="cli", lang="en")


@dataclass(frozen=True)
class SubscriptionSpec:
    platform: str
    workspace_id: str
    channel_id: str
    lang: str = "fr"
    post_time: str = "08:00"
    timezone: str = "Europe/Paris"
    mode: str = "live"
    start_date: dt.date | None = None
    story_slug: str | None = None
    days: Any = ALL_DAYS  # a mask, or text/list for bot.subscriptions.options.days_option
    cadence: str = DAILY
    thread: str = NONE_THREAD  # none | daily (bot.subscriptions.threads)
    format: str = FULL
    # None: keep the subscription's setting (the default for a new one): see
    # `bot.subscription_updates`.
    corrections: str | None = None
    breaking: bool | None = None


__all__ = [
    "CLI",
    "Actor",
    "AdminError",
    "AdminService",
    "DeliveryInfo",
    "Ref",
    "StatusReport",
    "SubscriptionInfo",
    "SubscriptionSpec",
    "Target",
    "describe",
    "format_status",
    "render_list",
]


# --------------------------------------------------------------------------- validation


def check_timezone(name: str, lang: str = "en") -> str:
    """The canonical IANA name, or `UnknownTimezone` with close names."""
    canonical = canonical_zone(name)
    if canonical is not None:
        return canonical
    suggestions = suggest_timezones(name)
    raise UnknownTimezone(unknown_zone(name, lang, suggestions), suggestions=suggestions)


def check_time(value: str, lang: str = "en") -> str:
    """A post time from any surface, by the core parser shared with the chat platforms."""
    try:
        return parse_time_option(value, lang)
    except OptionError as error:
        raise InvalidTime(str(error)) from None


_SLACK_CHANNEL = re.compile(r"[CGD][A-Z0-9]{2,30}")
_SLACK_TEAM = re.compile(r"[TE][A-Z0-9]{2,30}")
_PRINTABLE = re.compile(r"[^\x00-\x1f\x7f-\x9f]{1,100}")


def _quoted(value: str, limit: int = 40) -> str:
    return repr(value if len(value) <= limit else value[:limit] + "…")


def check_target(
    platform: str,
    workspace_id: str,
    channel_id: str,
    *,
    names: tuple[str, str] = ("--workspace", "--channel"),
) -> None:
    """Ids typed by an operator (CLI, subscriptions file) must look like the platform's ids:
    Discord snowflakes (numbers), Slack team/channel ids (T.../C..., G..., D...), printable
    console names. Chat commands get ids from the platform and skip this. Raises
    `InvalidValue` (English: operators' tools) naming the option or key; values are quoted with
    control characters escaped and cut when long."""
    workspace_name, channel_name = names
    if platform == "discord":
        for name, value, what in (
            (workspace_name, workspace_id, "the server (guild) id"),
            (channel_name, channel_id, "the channel id"),
        ):
            if not value:
                raise InvalidValue(f"discord needs {name}: {what}, a number")
            if not (value.isascii() and value.isdigit() and len(value) <= 20):
                raise InvalidValue(
                    f"{name} {_quoted(value)} is not a Discord id ({what}: a number such as "
                    "123456789012345678)"
                )
    elif platform == "slack":
        if not workspace_id:
            raise InvalidValue(f"slack needs {workspace_name}: the team id (T0123ABCD)")
        if not _SLACK_TEAM.fullmatch(workspace_id):
            raise InvalidValue(
                f"{workspace_name} {_quoted(workspace_id)} is not a Slack team id (like T0123ABCD)"
            )
        if not channel_id:
            raise InvalidValue(f"slack needs {channel_name}: the channel id (C0123ABCD)")
        if not _SLACK_CHANNEL.fullmatch(channel_id):
            raise InvalidValue(
                f"{channel_name} {_quoted(channel_id)} is not a Slack channel id (C..., G... or "
                "D... followed by letters and digits, like C0123ABCD; not a name)"
            )
    else:
        if workspace_id and not _PRINTABLE.fullmatch(workspace_id):
            raise InvalidValue(
                f"{workspace_name} {_quoted(workspace_id)}: use up to 100 printable characters"
            )
        if not _PRINTABLE.fullmatch(channel_id):
            raise InvalidValue(
                f"{channel_name} {_quoted(channel_id)}: use 1 to 100 printable characters"
            )


# --------------------------------------------------------------------------- the service


@dataclass
class AdminService:
    store: Store
    library: StoryLibrary
    publishers: PublisherRegistry | None = None
    worker: Any = None  # bot.delivery.DeliveryWorker, for send-now
    clock: Callable[[], dt.datetime] = utcnow
    channel_validators: dict[str, ChannelValidator] = field(default_factory=dict)
    channel_tenants: dict[str, ChannelTenants] = field(default_factory=dict)
    outbox: Outbox = field(init=False)

    def __post_init__(self) -> None:
        self.outbox = Outbox(self.store)

    def register_channel_validator(self, platform: str, validator: ChannelValidator) -> None:
        self.channel_validators[platform] = validator

    def register_channel_tenants(self, platform: str, lookup: ChannelTenants) -> None:
        """The platform's answer to "which server/workspace is this channel in?"."""
        self.channel_tenants[platform] = lookup

    # -------------------------------------------------------------- the tenant boundary

    async def check_tenant(
        self, platform: str, workspace_id: str, channel_id: str, actor: Actor
    ) -> None:
        """THE tenant check (docs/security.md): every admin action on a channel passes here.

        Refuses unless the platform places ``channel_id`` in ``workspace_id`` (the server or
        workspace the request comes from). Which tenant the channel is in is asked of the
        platform, never taken from the request; a channel the bot cannot see, or a failed
        lookup, is refused too. Subscriptions from the configuration file are the operator's,
        and a platform that does not run in this process (the CLI) has no lookup: both pass."""
        lookup = self.channel_tenants.get(platform)
        if lookup is None or actor.via == "file":
            return
        try:
            found = lookup(workspace_id, channel_id)
            tenants = await found if inspect.isawaitable(found) else found
        except Exception as error:  # the platform could not answer: refuse, do not guess
            _log.warning("tenant check of %s channel %s failed: %r", platform, channel_id, error)
            tenants = None
        if tenants is not None and workspace_id in tenants:
            return
        _log.info(
            "refused %s channel %s to %s user %s of %s (channel in %s)",
            platform,
            channel_id,
            actor.via,
            actor.user_id,
            workspace_id,
            sorted(tenants) if tenants is not None else "none visible",
        )
        raise ForeignChannel(
            messages(actor.lang)(
                "Unknown channel %(channel)s: it is not a channel of this server or workspace that I can see.",
                channel=_quoted(channel_id),
            )
        )

    async def _authorize(self, ref: Ref | SubscriptionSpec, actor: Actor) -> None:
        """`check_tenant` for a channel named by a request; subscription ids come only from
        the operator's command line (chat and web always name a channel)."""
        if isinstance(ref, Target | SubscriptionSpec):
            await self.check_tenant(ref.platform, ref.workspace_id, ref.channel_id, actor)

    # -------------------------------------------------------------- helpers

    async def _check_channel(
        self, platform: str, workspace_id: str, channel_id: str, lang: str
    ) -> None:
        validator = self.channel_validators.get(platform)
        if validator is None:
            return
        ok = validator(workspace_id, channel_id)
        if inspect.isawaitable(ok):
            ok = await ok
        if not ok:
            raise UnknownChannel(
                messages(lang)(
                    "Unknown channel %(channel)s: I cannot see it or I am not allowed to post there.",
                    channel=channel_id,
                )
            )

    def _validate(
        self, spec: SubscriptionSpec, actor: Actor, *, check_start: bool
    ) -> SubscriptionSpec:
        _t = messages(actor.lang)
        if spec.platform not in PLATFORMS:
            raise InvalidValue(
                _t(
                    "Unknown platform %(value)s (choose from %(choices)s).",
                    value=repr(spec.platform),
                    choices=", ".join(PLATFORMS),
                )
            )
        if spec.lang not in LANG_CHOICES:
            raise InvalidValue(
                _t(
                    "Unknown language %(value)s (choose from %(choices)s).",
                    value=repr(spec.lang),
                    choices=", ".join(LANG_CHOICES),
                )
            )
        if spec.mode not in MODES:
            raise InvalidValue(
                _t(
                    "Unknown mode %(value)s (choose from %(choices)s).",
                    value=repr(spec.mode),
                    choices=", ".join(MODES),
                )
            )
        if not spec.channel_id:
            raise InvalidValue(_t("A channel is required."))
        problem = corrections_problem(spec.corrections, actor.lang)
        if problem:
            raise InvalidValue(problem)
        tz = check_timezone(spec.timezone, actor.lang)
        post_time = check_time(spec.post_time, actor.lang)
        try:
            days, cadence, format = check_options(spec.days, spec.cadence, spec.format, actor.lang)
            thread = check_thread(spec.thread, actor.lang)
        except InvalidOption as error:
            raise InvalidValue(error.message) from None
        try:
            story = self.library.get(spec.story_slug)
        except DepecheError:
            raise UnknownStory(
                _t(
                    "Unknown story %(slug)s (known: %(known)s).",
                    slug=repr(spec.story_slug),
                    known=", ".join(self.library.slugs()),
                )
            ) from None
        start = spec.start_date
        if spec.mode == "replay":
            today = self.clock().astimezone(ZoneInfo(tz)).date()
            if start is None:
                start = today
            elif check_start and start < today:
                raise ReplayStartInPast(
                    _t(
                        "The replay cannot start in the past (%(start)s): choose today (%(today)s) or a later day.",
                        start=start.isoformat(),
                        today=today.isoformat(),
                    )
                )
        else:
            start = None
        return replace(
            spec,
            timezone=tz,
            post_time=post_time,
            story_slug=story.slug,
            start_date=start,
            days=days,
            cadence=cadence,
            format=format,
            thread=thread,
        )

    def validate(self, spec: SubscriptionSpec, actor: Actor) -> SubscriptionSpec:
        """``spec`` checked and normalised as `subscribe` does (for `bot.subscriptions`)."""
        return self._validate(spec, actor, check_start=True)

    def _refuse_file_managed(self, row: SubscriptionInfo, actor: Actor) -> None:
        if row.managed_by == "file" and actor.via != "file":
            where = (row.configured_from or "file:config/subscriptions.toml").removeprefix("file:")
            raise FileManaged(
                messages(actor.lang)(
                    "This subscription is managed by the configuration file %(file)s: change it there, then restart the bot.",
                    file=where,
                )
            )

    async def _rows(self, ref: Ref, lang: str) -> builtins.list[SubscriptionInfo]:
        rows = await self.outbox.find(ref)
        if not rows:
            if isinstance(ref, int):
                raise SubscriptionNotFound(messages(lang)("No subscription #%(id)s.", id=ref))
            raise SubscriptionNotFound(messages(lang)("No subscription found for this channel."))
        return rows

    # -------------------------------------------------------------- operations

    async def subscribe(
        self, spec: SubscriptionSpec, actor: Actor
    ) -> tuple[SubscriptionInfo, bool]:
        """Create the subscription, or update the one for the same platform/workspace/channel/
        language. Returns ``(info, created)``."""
        spec = self._validate(spec, actor, check_start=actor.via != "file")
        await self._authorize(spec, actor)
        if actor.via != "file":
            await self._check_channel(spec.platform, spec.workspace_id, spec.channel_id, actor.lang)
        info, created = await self.outbox.upsert(
            SubscriptionFields(
                platform=spec.platform,
                workspace_id=spec.workspace_id,
                channel_id=spec.channel_id,
                lang=spec.lang,
                story_slug=spec.story_slug or self.library.default_slug,
                post_time=spec.post_time,
                timezone=spec.timezone,
                mode=spec.mode,
                start_date=spec.start_date,
                managed_by="file" if actor.via == "file" else "chat",
                configured_from=actor.where,
                admin_lang=actor.lang,
                created_by=actor.user_id,
                days=spec.days,
                cadence=spec.cadence,
                format=spec.format,
                thread=spec.thread,
                corrections=spec.corrections,
                breaking=spec.breaking,
            ),
            self.clock(),
            check=lambda row: self._refuse_file_managed(row, actor),
        )
        _log.info(
            "subscription %d %s via %s", info.id, "created" if created else "updated", actor.via
        )
        return info, created

    async def update(
        self, ref: Ref, actor: Actor, **changes: Any
    ) -> builtins.list[SubscriptionInfo]:
        """Change some fields (``post_time``, ``timezone``, ``mode``, ``start_date``,
        ``story_slug``, ``days``, ``cadence``, ``format``, ``thread``) of existing subscriptions. Going
        back to ``daily`` from ``weekly`` without ``days`` posts every day again."""
        if changes.get("cadence") == DAILY and "days" not in changes:
            changes = {**changes, "days": ALL_DAYS}
        await self._authorize(ref, actor)
        rows = await self._rows(ref, actor.lang)
        for row in rows:
            self._refuse_file_managed(row, actor)
        if _threaded(changes) and any(row.user_id is not None for row in rows):
            raise InvalidValue(
                messages(actor.lang)("A personal digest is a direct message: it has no threads.")
            )
        specs = [
            SubscriptionSpec(
                platform=row.platform,
                workspace_id=row.workspace_id,
                channel_id=row.channel_id,
                lang=row.lang,
                post_time=row.post_time,
                timezone=row.timezone,
                mode=row.mode,
                start_date=row.start_date,
                story_slug=row.story_slug,
                days=row.days,
                cadence=row.cadence,
                format=row.format,
                thread=row.thread,
                corrections=row.corrections,
                breaking=row.breaking,
            )
            for row in rows
        ]
        out = []
        for spec in specs:
            info, _ = await self.subscribe(replace(spec, **changes), actor)
            out.append(info)
        return out

    async def unsubscribe(self, ref: Ref, actor: Actor) -> builtins.list[SubscriptionInfo]:
        await self._authorize(ref, actor)
        rows = await self._rows(ref, actor.lang)
        for row in rows:
            self._refuse_file_managed(row, actor)
        await self.outbox.delete(row.id for row in rows)
        return rows

    async def pause(
        self, ref: Ref, actor: Actor, reason: str | None = None
    ) -> builtins.list[SubscriptionInfo]:
        await self._authorize(ref, actor)
        _t = messages(actor.lang)
        rows = await self._rows(ref, actor.lang)
        for row in rows:
            if actor.via == "chat":
                self._refuse_file_managed(row, actor)
        return await self.outbox.pause(
            [row.id for row in rows],
            reason or _t("paused by %(who)s", who=actor.user_id or actor.via),
            self.clock(),
        )

    async def resume(self, ref: Ref, actor: Actor) -> builtins.list[SubscriptionInfo]:
        """Reactivate; the next post is the next scheduled time (missed days are not caught up)."""
        await self._authorize(ref, actor)
        rows = await self._rows(ref, actor.lang)
        for row in rows:
            if actor.via == "chat":
                self._refuse_file_managed(row, actor)
        return await self.outbox.resume([row.id for row in rows], self.clock())

    async def list(
        self,
        *,
        platform: str | None = None,
        workspace_id: str | None = None,
        channel_id: str | None = None,
    ) -> builtins.list[SubscriptionInfo]:
        return await self.outbox.subscriptions(
            platform=platform, workspace_id=workspace_id, channel_id=channel_id
        )

    async def status(
        self, ref: Ref, actor: Actor = CLI, *, recent: int = 10
    ) -> builtins.list[StatusReport]:
        await self._authorize(ref, actor)
        rows = await self._rows(ref, actor.lang)
        return await self.outbox.status([row.id for row in rows], recent=recent)

    async def outbox_summary(self) -> OutboxSummary:
        """Read-only figures for /metrics (one grouped query and one aggregate)."""
        return await self.outbox.summary(self.clock())

    async def preview(
        self, ref: Ref | SubscriptionSpec, actor: Actor = CLI, *, day: dt.date | None = None
    ) -> builtins.list[Document]:
        """The documents the subscription would post on local ``day`` (default today)."""
        from digests.compose import compose_story_so_far
        from digests.rollup import compose_post

        await self._authorize(ref, actor)
        if isinstance(ref, SubscriptionSpec):
            spec = self._validate(ref, actor, check_start=False)
            story_slug, mode, start, tz, lang = (
                spec.story_slug,
                spec.mode,
                spec.start_date,
                spec.timezone,
                spec.lang,
            )
            cadence, format = spec.cadence, spec.format
        else:
            row = (await self._rows(ref, actor.lang))[0]
            story_slug, mode, start, tz, lang = (
                row.story_slug,
                row.mode,
                row.start_date,
                row.timezone,
                row.lang,
            )
            cadence, format = row.cadence, row.format
        story = self.library.get(story_slug)
        if day is None:
            story_day = story_day_now(story, self.clock(), mode=mode, timezone=tz, start_date=start)
        else:
            story_day = story_date_for(mode, day, start, story)
        documents = []
        for one in langs_of(lang):
            document = compose_post(
                story,
                story_day,
                one,  # type: ignore[arg-type]
                cadence=cadence,
                format=format,
            )
            if document is None:
                document = compose_story_so_far(
                    story,
                    min(max(story_day, story.first_day), story.last_day),
                    one,  # type: ignore[arg-type]
                )
            documents.append(document)
        return documents

    async def send_now(
        self, ref: Ref, actor: Actor, day: dt.date | None = None
    ) -> builtins.list[DeliveryInfo]:
        """Post a digest now, through the outbox (rate limiting, retries, idempotent publish).

        Without ``day``: today's digest, as today's scheduled post — it is never posted twice
        (when today's post is already enqueued or sent, its delivery is returned).

        With ``day`` (a story date): that day's digest, as a *manual* delivery (``kind``
        ``manual``), which never collides with the scheduled post. Manual deliveries are unique
        per subscription, language, story date and local day of the send: the same date sent
        again the same day is posted once (its delivery is returned); another date, or the same
        date on another day, posts again. A date without story events is refused.

        A running worker is woken at once and awaited for at most ``SEND_NOW_WAIT`` seconds;
        without one (the command line), the outbox is worked here until idle.
        """
        await self._authorize(ref, actor)
        now = self.clock()
        posts: builtins.list[NewPost] = []
        for row in await self._rows(ref, actor.lang):
            if actor.via == "chat":
                self._refuse_file_managed(row, actor)
            story = self.library.get(row.story_slug)
            local_day = now.astimezone(zone_of(row.timezone)).date()
            if day is None:
                story_day, kind = subscription_day(row, story, now), SCHEDULED
            else:
                if not story.events_on(day):
                    raise UnknownStoryDate(
                        messages(actor.lang)(
                            "No story events on %(date)s: the story runs from %(first)s "
                            "to %(last)s.",
                            date=day.isoformat(),
                            first=story.first_day.isoformat(),
                            last=story.last_day.isoformat(),
                        ),
                        date=day,
                    )
                story_day, kind = day, MANUAL
            posts.extend(
                NewPost(row.id, row.platform, local_day, story_day, lang, kind)
                for lang in langs_of(row.lang)
            )
        ids = await self.outbox.enqueue_posts(posts, now)
        worker = self.worker
        if worker is not None and getattr(worker, "serving", False):
            worker.wake()
            await worker.wait_for(ids, SEND_NOW_WAIT)
        elif worker is not None:
            await worker.run_until_idle(now)
        return await self.outbox.deliveries(ids)

    # -------------------------------------------------------------- the file

    async def _check_file_start(self, spec: SubscriptionSpec) -> None:
        """A replay ``start`` in the file must be today or later, as on the CLI — unless this
        very start was already applied (the replay is under way: restarting the bot must not
        fail). ``start`` in live mode is refused: it would be ignored."""
        if spec.start_date is None:
            return
        if spec.mode != "replay":
            raise InvalidValue('start only applies to mode = "replay"')
        try:
            tz = ZoneInfo(check_timezone(spec.timezone))
        except AdminError:
            return  # subscribe() reports the time zone
        today = self.clock().astimezone(tz).date()
        if spec.start_date >= today:
            return
        applied = await self.outbox.file_replay_start(
            spec.platform, spec.workspace_id, spec.channel_id, spec.lang
        )
        if applied != spec.start_date:
            raise ReplayStartInPast(
                f"replay start {spec.start_date.isoformat()} is in the past (today is "
                f"{today.isoformat()} in {spec.timezone}): choose today or a later day"
            )

    async def apply_file(self, path: str | Path) -> builtins.list[SubscriptionInfo]:
        """Apply ``config/subscriptions.toml`` idempotently (``managed_by="file"``); file-managed
        subscriptions no longer in the file are removed. A missing file changes nothing.

        Entries are checked as on the CLI (`check_target`: real platform ids; a replay start not
        in the past). A past start is accepted only when that entry was already applied with
        this start (the replay is under way), so a restart never fails on it. Errors name the
        file and the entry: ``config/subscriptions.toml: subscription[1] (discord:1/2 [fr]): ...``.
        """
        path = Path(path)
        if not path.is_file():
            return []
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as error:
            raise InvalidValue(f"{path}: {error}") from None
        actor = Actor(via="file", where=f"file:{path}", lang="en")
        applied: builtins.list[SubscriptionInfo] = []
        for index, entry in enumerate(data.get("subscription", [])):
            try:
                spec = spec_from_mapping(entry)
                check_target(
                    spec.platform,
                    spec.workspace_id,
                    spec.channel_id,
                    names=("workspace", "channel"),
                )
                await self._check_file_start(spec)
                info, _ = await self.subscribe(spec, actor)
                info = await self._file_alerts(info, entry.get("alerts", []), actor)
            except (AdminError, KeyError, TypeError, ValueError) as error:
                raise InvalidValue(
                    f"{path}: subscription[{index}]{_entry_label(entry)}: {error}"
                ) from None
            applied.append(info)
        for row in await self.outbox.delete_file_managed({info.id for info in applied}):
            _log.info("subscription %d removed from %s: deleting it", row.id, path)
        return applied

    async def _file_alerts(
        self, info: SubscriptionInfo, entries: Any, actor: Actor
    ) -> SubscriptionInfo:
        """The entry's ``alerts`` (exactly those: bot.alerts)."""
        from bot.alerts import AlertAdmin  # it builds on this service

        if not isinstance(entries, list):
            raise InvalidValue("alerts must be a list of {who = ..., role = ...} tables")
        if not entries and not info.alerts:
            return info
        return await AlertAdmin(self).apply(info, entries, actor)


def _entry_label(entry: Any) -> str:
    if not isinstance(entry, dict) or "platform" not in entry or "channel" not in entry:
        return ""
    workspace = f"{entry.get('workspace')}/" if entry.get("workspace") else ""
    label = f"{entry['platform']}:{workspace}{entry['channel']} [{entry.get('lang', 'fr')}]"
    return f" ({_quoted(label, 80)[1:-1]})"


def spec_from_mapping(entry: dict[str, Any]) -> SubscriptionSpec:
    known = {
        "platform", "workspace", "channel", "lang", "time", "tz", "mode", "start", "story",
        "days", "cadence", "format", "thread", "alerts",
        "corrections", "breaking",
    }  # fmt: skip
    unknown = set(entry) - known
    if unknown:
        raise ValueError(
            f"unknown key(s) {', '.join(sorted(unknown))} (known: {', '.join(sorted(known))})"
        )
    start = entry.get("start")
    if isinstance(start, str):
        start = dt.date.fromisoformat(start)
    breaking = parse_switch(entry.get("breaking", False))
    if breaking is None:
        raise ValueError(f"breaking must be on or off (or true/false), not {entry['breaking']!r}")
    return SubscriptionSpec(
        platform=entry["platform"],
        workspace_id=str(entry.get("workspace", "")),
        channel_id=str(entry["channel"]),
        lang=entry.get("lang", "fr"),
        post_time=entry.get("time", "08:00"),
        timezone=entry.get("tz", "Europe/Paris"),
        mode=entry.get("mode", "live"),
        start_date=start,
        story_slug=entry.get("story"),
        days=entry.get("days", ALL_DAYS),
        cadence=entry.get("cadence", DAILY),
        format=entry.get("format", FULL),
        thread=entry.get("thread", NONE_THREAD),
        corrections=str(entry.get("corrections", "edit")),
        breaking=breaking,
    )


def _threaded(changes: dict[str, Any]) -> bool:
    """Do these changes ask for a daily thread? (A bad value is refused by `subscribe`.)"""
    try:
        return "thread" in changes and check_thread(changes["thread"]) != NONE_THREAD
    except InvalidOption:
        return False
