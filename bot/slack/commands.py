"""Slash commands and the subscribe modal: Slack payload -> core call -> document -> reply.

Every listener acknowledges first (Slack wants an ack within 3 s), then does the work and
answers through ``respond`` (the command's response_url: ephemeral, at most five messages).
Replies follow the user's Slack locale unless a ``fr``/``en`` argument says otherwise.

Commands (help text = the docstrings below):
    /who <question>          who is who in the story
    /timeline [YYYY-MM-DD]   the story's events, up to a date
    /faq                     frequently asked questions
    /story                   the story so far
    /digest ...              preview, and for admins subscribe/unsubscribe/pause/resume/list/
                             status/send-now; ``/digest`` alone opens the subscribe modal
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import logging
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError

from bot.admin import (
    Actor,
    AdminError,
    AdminService,
    SubscriptionInfo,
    SubscriptionSpec,
    Target,
    describe,
    format_status,
    render_list,
)
from bot.metrics import INTERACTION_SECONDS
from bot.outbox import clamp_day, story_day, subscription_day
from bot.slack import modal, story_editing
from bot.slack.blocks import SlackMessage, render_reply, text_message
from bot.slack.clients import SlackClients
from bot.slack.i18n import messages
from bot.slack.parsing import (
    DigestArgs,
    parse_channel,
    parse_date,
    parse_digest,
    split_reply_lang,
    tokens,
    unescape,
)
from bot.slack.personal import digest_me
from bot.slack.updates import parse_update_words
from bot.slack.users import SlackUser, UserDirectory
from bot.stories.editing import StoryEditing
from bot.subscriptions.options import DAILY, FULL, InvalidOption, check_options
from digests.compose import compose_digest, compose_faq, compose_story_so_far, compose_timeline
from digests.errors import DepecheError
from digests.options import invalid_date, invalid_time
from digests.story import Lang, Story, StoryLibrary
from digests.weekdays import ALL_DAYS

_log = logging.getLogger(__name__)

PLATFORM = "slack"
MAX_QUESTION = 500  # longer /who text is cut (the engine bounds it too)
_GROUP = re.compile(r"^(?:<!subteam\^)?S[A-Z0-9]{2,}(?:\|[^>]*)?>?$")
ADMIN_ACTIONS = (
    "subscribe", "unsubscribe", "pause", "resume", "list", "status", "send-now", "updates",
)  # fmt: skip
MODAL_DEADLINE = 2.5  # seconds left to answer a view_submission with field errors


def _m(lang: str, message: str) -> str:
    """``messages(lang)(message)``, in a form ``pybabel extract -k _m:2`` finds."""
    return messages(lang)(message)


class Usage(DepecheError):
    """Arguments that cannot be used; the message is translated and ends with the usage."""


@dataclass(frozen=True)
class Request:
    team_id: str
    channel_id: str
    user: SlackUser
    lang: str  # the reply language
    text: str
    trigger_id: str | None = None
    channel_name: str = ""  # "directmessage", "mpdm-...", "privategroup" or the channel's name

    @property
    def in_direct_message(self) -> bool:
        return (
            self.channel_id.startswith("D")
            or self.channel_name
            in (
                "directmessage",
                "mpdm",
            )
            or self.channel_name.startswith("mpdm-")
        )

    @property
    def actor(self) -> Actor:
        return Actor(user_id=self.user.id, via="chat", where=self.channel_id, lang=self.lang)  # type: ignore[arg-type]


Handler = Callable[[Request], Awaitable[list[SlackMessage]]]


class SlackCommands:
    def __init__(
        self,
        *,
        admin: AdminService,
        library: StoryLibrary,
        users: UserDirectory,
        clients: SlackClients,
        clock: Callable[[], dt.datetime] | None = None,
        editing: StoryEditing | None = None,
    ) -> None:
        self.admin = admin
        self.library = library
        self.users = users
        self.clients = clients
        self.clock = clock or admin.clock
        self.story_editing = (
            story_editing.SlackStoryEditing(editing=editing, users=users, clients=clients)
            if editing is not None
            else None
        )

    # ------------------------------------------------------------------ wiring

    def register(self, app: AsyncApp) -> None:
        for name, handler, anywhere in (
            ("/who", self.who, False),
            ("/timeline", self.timeline, True),
            ("/faq", self.faq, True),
            # None: /story reads its own text (editing actions keep their words and mentions).
            ("/story", self.story, None),
        ):
            app.command(name)(self._listener(handler, anywhere=anywhere))
        app.command("/digest")(self._digest_listener)
        app.view(modal.CALLBACK_ID)(self._view_submission)
        if self.story_editing is not None:
            app.view(story_editing.CALLBACK_ID)(self.story_editing.view_submission)
        app.error(self._on_error)
        app.use(self._timed)

    @staticmethod
    async def _timed(next: Callable[[], Awaitable[None]]) -> None:
        """Bolt middleware: time from a request's arrival to its listeners' answer."""
        started = time.perf_counter()
        try:
            await next()
        finally:
            INTERACTION_SECONDS.labels("slack").observe(time.perf_counter() - started)

    async def _on_error(self, error: Exception, body: dict[str, Any]) -> None:
        _log.error("unhandled Slack listener error: %s", error, exc_info=error)

    def _listener(
        self, handler: Handler, *, anywhere: bool | None
    ) -> Callable[..., Awaitable[None]]:
        async def listener(ack: Any, command: dict[str, Any], respond: Any) -> None:
            await ack()
            await self._serve(command, respond, handler, anywhere=anywhere)

        listener.__name__ = handler.__name__
        return listener

    async def _request(self, command: dict[str, Any], *, anywhere: bool | None) -> Request:
        """``anywhere``: where a ``fr``/``en`` reply-language word may be (None: left in the
        text, for /digest whose own parser reads it)."""
        team_id = str(command.get("team_id") or "")
        user = await self.users.get(team_id, str(command.get("user_id") or ""))
        raw = str(command.get("text") or "")
        # /digest parses Slack's escapes itself (channels); other commands want plain text.
        forced, text = (
            (None, raw) if anywhere is None else split_reply_lang(unescape(raw), anywhere=anywhere)
        )
        return Request(
            team_id=team_id,
            channel_id=str(command.get("channel_id") or ""),
            user=user,
            lang=forced or user.lang,
            text=text,
            trigger_id=command.get("trigger_id"),
            channel_name=str(command.get("channel_name") or ""),
        )

    async def _serve(
        self, command: dict[str, Any], respond: Any, handler: Handler, *, anywhere: bool | None
    ) -> None:
        lang = "en"
        try:
            request = await self._request(command, anywhere=anywhere)
            lang = request.lang
            replies = await handler(request)
        except (AdminError, Usage) as error:
            replies = [text_message(str(error))]
        except DepecheError as error:
            replies = [text_message(str(error))]
        except Exception:
            _log.exception("%s failed", command.get("command"))
            replies = [
                text_message(_m(lang, "Sorry, something went wrong. Please try again later."))
            ]
        await self._send(respond, replies)

    async def _send(self, respond: Any, replies: list[SlackMessage]) -> None:
        for message in replies[:5]:
            try:
                await respond(text=message.text, blocks=message.blocks, response_type="ephemeral")
            except Exception:
                _log.exception("could not answer through the response_url")
                return

    # ------------------------------------------------------------------ the story of a channel

    async def _subscription(self, request: Request) -> SubscriptionInfo | None:
        infos = await self.admin.list(
            platform=PLATFORM, workspace_id=request.team_id, channel_id=request.channel_id
        )
        return infos[0] if infos else None

    async def _story(self, request: Request) -> tuple[Story, dt.date]:
        """The story the channel follows and its "today": replays do not spoil later days."""
        sub = await self._subscription(request)
        story = self.library.get(sub.story_slug if sub else None)
        if sub is not None:
            return story, clamp_day(story, subscription_day(sub, story, self.clock()))
        try:
            day = story_day(story, self.clock(), timezone=request.user.tz or "UTC")
        except (ValueError, KeyError):  # a time zone this system does not know
            day = story_day(story, self.clock())
        return story, clamp_day(story, day)

    # ------------------------------------------------------------------ member commands

    async def who(self, request: Request) -> list[SlackMessage]:
        """/who <question> — who is who in the story ("who is Mira Murati?", "qui dirige OpenAI ?")."""
        _t = messages(request.lang)
        question = request.text.strip()[:MAX_QUESTION]
        if not question:
            raise Usage(
                _t(
                    "Ask about a person or a role, for example: /who Mira Murati, or /who qui est le PDG d'OpenAI ?"
                )
            )
        story, day = await self._story(request)
        from digests.whois import index_for

        answer = index_for(story).answer(question, request.lang, today=day)  # type: ignore[arg-type]
        return render_reply(answer.document)

    async def timeline(self, request: Request) -> list[SlackMessage]:
        """/timeline [YYYY-MM-DD] — the story's events, up to a date."""
        _t = messages(request.lang)
        story, day = await self._story(request)
        words = tokens(request.text)
        until = day
        if words:
            parsed = parse_date(words[0])
            if parsed is False:
                raise Usage(str(invalid_date(words[0], request.lang)))
            if not parsed or len(words) > 1:
                raise Usage(
                    _t("Usage: /timeline [YYYY-MM-DD] [fr|en], for example /timeline 2023-11-19.")
                )
            until = min(parsed, day) if isinstance(parsed, dt.date) else day
        return render_reply(compose_timeline(story, request.lang, until=until))  # type: ignore[arg-type]

    async def faq(self, request: Request) -> list[SlackMessage]:
        """/faq — frequently asked questions about the story."""
        if request.text.strip():
            raise Usage(_m(request.lang, "Usage: /faq [fr|en]"))
        story, day = await self._story(request)
        # a replay's FAQ waits for the replay's end: its answers give the ending away
        document = compose_faq(story, request.lang, as_of=day)  # type: ignore[arg-type]
        if not document.sections:
            return [text_message(_m(request.lang, "This story has no FAQ."))]
        return render_reply(document)

    async def story(self, request: Request) -> list[SlackMessage]:
        """/story — the story so far, for newcomers; /story add-event|correct|draft|publish|
        discard|editors — editing the story (see `bot.slack.story_editing`)."""
        action = request.text.strip().split(" ", 1)[0]
        if action in story_editing.ACTIONS and self.story_editing is not None:
            sub = await self._subscription(request)
            return await self.story_editing.command(
                user=request.user,
                lang=request.lang,
                slug=sub.story_slug if sub else self.library.default_slug,
                text=request.text,
                channel_id=request.channel_id,
                trigger_id=request.trigger_id,
            )
        forced, text = split_reply_lang(unescape(request.text), anywhere=True)
        request = dataclasses.replace(request, lang=forced or request.lang, text=text)
        if request.text.strip():
            raise Usage(_m(request.lang, "Usage: /story [fr|en]"))
        story, day = await self._story(request)
        return render_reply(compose_story_so_far(story, day, request.lang))  # type: ignore[arg-type]

    # ------------------------------------------------------------------ /digest

    def usage(self, lang: str) -> str:
        _t = messages(lang)
        return (
            _t(
                "Usage:\n"
                "/digest preview [YYYY-MM-DD] [fr|en] — show a digest\n"
                "/digest subscribe [#channel] [fr|en|both] [HH:MM] [Area/City] — post the daily digest in a channel (admins)\n"
                "/digest unsubscribe|pause|resume|status [#channel] (admins)\n"
                "/digest list (admins)\n"
                "/digest send-now [#channel] [YYYY-MM-DD] (admins)\n"
                "/digest alone opens a form to subscribe (admins)."
            )
            + "\n"
            + _t(
                "/digest me [HH:MM] [Area/City] [fr|en] — the digest by direct message, at your time (/digest me off to stop)"
            )
            + "\n"
            + _t(
                "Subscribe options: days=mon-fri (or mon,wed,fri), weekly (a roll-up of the past seven days on one day, e.g. weekly sun), compact (headlines with one line each)."
            )
            + "\n"
            + _t(
                'thread=daily: the digest\'s thread also gets its corrections (its "more" part is always there).'
            )
            + "\n"
            + _t("/digest updates [#channel] corrections:edit|notice|off breaking:on|off (admins)")
        )

    async def _digest_listener(self, ack: Any, command: dict[str, Any], respond: Any) -> None:
        await ack()
        await self._serve(command, respond, self.digest, anywhere=None)

    async def digest(self, request: Request) -> list[SlackMessage]:
        words = request.text.split(None, 1)
        if words and words[0].casefold() in ("alert", "alerte", "alerts", "alertes"):
            if not request.user.is_admin:
                return [self.refusal(request.lang)]
            return await self.alert(request, words[1] if len(words) > 1 else "")
        args = parse_digest(request.text)
        if args.lang in ("fr", "en"):  # fr/en also chooses the reply language
            request = dataclasses.replace(request, lang=args.lang)
        _t = messages(request.lang)
        if args.action is None:
            if not request.user.is_admin:
                return [self.refusal(request.lang)]
            return await self.open_modal(request)
        if args.action in ("unknown", "help"):
            prefix = (
                _t("Unknown action %(action)s.", action=args.unknown[0]) + "\n"
                if args.unknown
                else ""
            )
            return [text_message(prefix + self.usage(request.lang))]
        if args.action == "preview":
            self._check_args(args, request.lang, allowed=("lang", "date"))
            return await self.preview(request, args)
        if args.action == "me":  # every member's own, in a DM
            return await digest_me(self, request, args)
        if args.action in ADMIN_ACTIONS and not request.user.is_admin:
            return [self.refusal(request.lang)]
        if args.channel_name is not None:
            args = dataclasses.replace(
                args, channel=await self.resolve_channel(request, args.channel_name)
            )
        if (
            args.action in ("subscribe", "send-now")
            and args.channel is None
            and request.in_direct_message
        ):
            raise Usage(
                _t(
                    "Digests are posted in channels, not in direct messages: run this command in the channel, or name it, for example /digest subscribe #news."
                )
            )
        if args.action == "subscribe":
            self._check_args(
                args,
                request.lang,
                allowed=(
                    "channel",
                    "lang",
                    "time",
                    "timezone",
                    "days",
                    "cadence",
                    "format",
                    "thread",
                ),
            )
            return await self.subscribe(request, args)
        if args.action == "updates":
            return await self.updates(request, args)
        if args.action == "list":
            self._check_args(args, request.lang, allowed=("lang",))
            infos = await self.admin.list(platform=PLATFORM, workspace_id=request.team_id)
            return [text_message(render_list(infos, request.lang))]
        allowed = ("channel", "lang", "date") if args.action == "send-now" else ("channel", "lang")
        self._check_args(args, request.lang, allowed=allowed)
        target = Target(PLATFORM, request.team_id, args.channel or request.channel_id)
        actor = request.actor
        if args.action == "unsubscribe":
            infos = await self.admin.unsubscribe(target, actor)
            return [
                text_message(_t("Unsubscribed: %(what)s", what=self._lines(infos, request.lang)))
            ]
        if args.action == "pause":
            infos = await self.admin.pause(target, actor)
            return [text_message(_t("Paused: %(what)s", what=self._lines(infos, request.lang)))]
        if args.action == "resume":
            infos = await self.admin.resume(target, actor)
            return [text_message(_t("Resumed: %(what)s", what=self._lines(infos, request.lang)))]
        if args.action == "status":
            reports = await self.admin.status(
                target, actor
            )  # (admin.py's `list` method confuses mypy)
            return [
                text_message("\n\n".join(format_status(report, request.lang) for report in reports))
            ]
        if args.action == "send-now":
            return await self.send_now(request, target, args)
        raise AssertionError(args.action)

    async def resolve_channel(self, request: Request, name: str) -> str:
        """``#name`` typed without Slack's escaping -> the channel id (the current channel, or
        ``conversations.list`` of the channels the bot can see)."""
        if name == request.channel_name.lower() and request.channel_id:
            return request.channel_id
        client = self.clients.for_team(request.team_id)
        cursor: str | None = None
        try:
            for _page in range(20):
                page = await client.conversations_list(
                    types="public_channel,private_channel",
                    exclude_archived=True,
                    limit=1000,
                    cursor=cursor,
                )
                for channel in page.get("channels") or []:
                    if str(channel.get("name") or "").lower() == name:
                        return str(channel["id"])
                cursor = (page.get("response_metadata") or {}).get("next_cursor") or None
                if not cursor:
                    break
        except SlackApiError as error:
            _log.info("conversations.list failed: %s", error.response.get("error"))
        raise Usage(
            _m(
                request.lang,
                "I cannot find that channel. Pick it from the list Slack offers when you type #, or invite me to it first.",
            )
        )

    def _lines(self, infos: list[SubscriptionInfo], lang: str) -> str:
        return "\n" + "\n".join(describe(info, lang) for info in infos)

    def refusal(self, lang: str) -> SlackMessage:
        return text_message(
            _m(
                lang,
                "Sorry, only workspace admins and owners (or the users listed in SLACK_ADMIN_USERS) can manage digest subscriptions. /digest preview works for everyone.",
            )
        )

    async def alert(self, request: Request, text: str) -> list[SlackMessage]:
        """``/digest alert [#channel] <person or organisation> @group [remove]``."""
        from bot.alerts import AlertAdmin

        _t = messages(request.lang)
        channel: str | None = None
        group: str | None = None
        remove = False
        who: list[str] = []
        for raw in text.split():
            if channel is None and (found := parse_channel(raw)):
                channel = found
            elif group is None and raw.startswith(("<!subteam^", "S")) and _GROUP.match(raw):
                group = raw
            elif raw.casefold() in ("remove", "supprimer", "off"):
                remove = True
            else:
                who.append(unescape(raw))
        if not who or (group is None and not remove):
            raise Usage(
                _t(
                    "Usage: /digest alert [#channel] <person or organisation> @user-group [remove] — mention the group when the day's digest involves them."
                )
            )
        target = Target(PLATFORM, request.team_id, channel or request.channel_id)
        service = AlertAdmin(self.admin)
        if remove:
            infos = await service.remove(target, " ".join(who), group, request.actor)
        else:
            assert group is not None
            infos = await service.add(target, " ".join(who), group, request.actor)
        return [text_message(render_list(infos, request.lang))]

    def _check_args(self, args: DigestArgs, lang: str, *, allowed: tuple[str, ...]) -> None:
        _t = messages(lang)
        problems = []
        if args.bad_date:
            problems.append(str(invalid_date(args.bad_date, lang)))
        if args.bad_time:
            problems.append(str(invalid_time(args.bad_time, lang)))
        extra = [
            name
            for name in (
                "channel",
                "lang",
                "time",
                "timezone",
                "date",
                "days",
                "cadence",
                "format",
                "thread",
            )
            if getattr(args, name) and name not in allowed
        ]
        if args.lang == "both" and args.action != "subscribe":
            extra.append("lang")
        if extra or args.unknown:
            shown = list(args.unknown) + [str(getattr(args, name)) for name in extra]
            problems.append(_t("I did not understand: %(words)s.", words=", ".join(shown)))
        if problems:
            raise Usage(" ".join(problems) + "\n" + self.usage(lang))

    async def preview(self, request: Request, args: DigestArgs) -> list[SlackMessage]:
        story, day = await self._story(request)
        lang = request.lang
        if args.date is not None:
            if not story.first_day <= args.date <= story.last_day:
                _t = messages(lang)
                raise Usage(
                    _t(
                        "The story runs from %(first)s to %(last)s: choose a date in between.",
                        first=story.first_day.isoformat(),
                        last=story.last_day.isoformat(),
                    )
                )
            day = args.date
        document = compose_digest(story, day, lang) or compose_story_so_far(story, day, lang)  # type: ignore[arg-type]
        return render_reply(document)

    async def subscribe(self, request: Request, args: DigestArgs) -> list[SlackMessage]:
        _t = messages(request.lang)
        lang = args.lang or request.user.lang
        spec = SubscriptionSpec(
            platform=PLATFORM,
            workspace_id=request.team_id,
            channel_id=args.channel or request.channel_id,
            lang=lang,
            post_time=args.time or "08:00",
            timezone=args.timezone or request.user.tz or "Europe/Paris",
            days=args.days or ALL_DAYS,
            cadence=args.cadence or DAILY,
            format=args.format or FULL,
            thread=args.thread or "none",
        )
        reply_lang: Lang = lang if lang in ("fr", "en") else request.lang  # type: ignore[assignment]
        actor = Actor(
            user_id=request.user.id, via="chat", where=request.channel_id, lang=reply_lang
        )
        info, created = await self.admin.subscribe(spec, actor)
        _t = messages(reply_lang)
        head = _t("Subscribed:") if created else _t("Subscription updated:")
        return [text_message(f"{head}\n{describe(info, reply_lang)}")]

    async def updates(self, request: Request, args: DigestArgs) -> list[SlackMessage]:
        """Corrections and breaking alerts of a channel's subscriptions."""
        _t = messages(request.lang)
        words = parse_update_words(args.unknown)
        if words.empty or words.unknown:
            shown = ", ".join(words.unknown)
            problem = _t("I did not understand: %(words)s.", words=shown) + "\n" if shown else ""
            raise Usage(
                problem
                + _t(
                    "Usage: /digest updates [#channel] [fr|en] corrections:edit|notice|off breaking:on|off"
                )
            )
        self._check_args(
            dataclasses.replace(args, unknown=()), request.lang, allowed=("channel", "lang")
        )
        target = Target(PLATFORM, request.team_id, args.channel or request.channel_id)
        infos = await self.admin.update(
            target,
            request.actor,
            **{
                name: value
                for name, value in (
                    ("corrections", words.corrections),
                    ("breaking", words.breaking),
                )
                if value is not None
            },
        )
        return [text_message(_t("Updated: %(what)s", what=self._lines(infos, request.lang)))]

    async def send_now(
        self, request: Request, target: Target, args: DigestArgs
    ) -> list[SlackMessage]:
        """Today's digest, or the given story date's (a manual delivery), through the outbox."""
        _t = messages(request.lang)
        deliveries = await self.admin.send_now(target, request.actor, args.date)
        lines = []
        for delivery in deliveries:
            status = _t(delivery.status)
            error = (
                f" — {delivery.last_error}"
                if delivery.last_error and delivery.status != "sent"
                else ""
            )
            day = delivery.story_date if args.date is not None else delivery.digest_date
            lines.append(
                f"{(day or delivery.digest_date).isoformat()} [{delivery.lang}] {status}{error}"
            )
        return [text_message(_t("Send now:") + "\n" + "\n".join(lines))]

    # ------------------------------------------------------------------ the modal

    async def open_modal(self, request: Request) -> list[SlackMessage]:
        if not request.trigger_id:
            return [text_message(self.usage(request.lang))]
        view = modal.subscribe_view(
            lang=request.lang,
            channel_id=request.channel_id,
            team_id=request.team_id,
            user_tz=request.user.tz,
            origin_channel=request.channel_id,
        )
        try:
            await self.clients.for_team(request.team_id).views_open(
                trigger_id=request.trigger_id, view=view
            )
        except SlackApiError as error:
            _log.warning("views.open failed: %s", error)
            return [text_message(self.usage(request.lang))]
        return []

    async def _view_submission(self, ack: Any, body: dict[str, Any], view: dict[str, Any]) -> None:
        """Subscribe from the modal; invalid fields are shown in the modal itself."""
        team_id = str((body.get("team") or {}).get("id") or view.get("team_id") or "")
        user_id = str((body.get("user") or {}).get("id") or "")
        meta = modal.metadata_of(view)
        values = modal.submitted_values(view)
        lang: Lang = "fr" if meta.get("lang") == "fr" else "en"
        _t = messages(lang)
        # One budget for the whole answer: Slack closes the modal with an error after 3 s.
        loop = asyncio.get_running_loop()
        deadline = loop.time() + MODAL_DEADLINE
        try:
            user = await asyncio.wait_for(self.users.get(team_id, user_id), MODAL_DEADLINE / 2)
        except TimeoutError:
            user = SlackUser(user_id, team_id, lang=lang, known=False)
        if not user.is_admin:
            await ack(
                response_action="errors",
                errors={
                    modal.BLOCK_CHANNEL: _t(
                        "Only workspace admins and owners can manage subscriptions."
                    )
                },
            )
            return
        spec = SubscriptionSpec(
            platform=PLATFORM,
            workspace_id=team_id,
            channel_id=values["channel"] or "",
            lang=str(values["lang"] or lang),
            post_time=values["time"] or "08:00",
            timezone=values["tz"] or user.tz or "Europe/Paris",
            days=(values["days"] or "").strip() or ALL_DAYS,
            cadence=values["cadence"] or DAILY,
            format=values["format"] or FULL,
        )
        try:  # shown under the field it is about
            check_options(spec.days, spec.cadence, spec.format, lang)
        except InvalidOption as error:
            await ack(response_action="errors", errors={modal.BLOCK_DAYS: error.message[:150]})
            return
        actor = Actor(
            user_id=user_id, via="chat", where=meta.get("origin") or spec.channel_id, lang=lang
        )
        try:
            info, created = await asyncio.wait_for(
                self.admin.subscribe(spec, actor), max(0.1, deadline - loop.time())
            )
        except AdminError as error:
            block = {
                "unknown_timezone": modal.BLOCK_TZ,
                "invalid_time": modal.BLOCK_TIME,
                "invalid_value": modal.BLOCK_LANG,
            }.get(error.code, modal.BLOCK_CHANNEL)
            await ack(response_action="errors", errors={block: str(error)[:150]})
            return
        except TimeoutError:
            await ack(
                response_action="errors",
                errors={modal.BLOCK_CHANNEL: _t("Slack did not answer in time; please try again.")},
            )
            return
        await ack()
        head = _t("Subscribed:") if created else _t("Subscription updated:")
        confirmation = text_message(f"{head}\n{describe(info, lang)}")
        client = self.clients.for_team(team_id)
        where = meta.get("origin") or info.channel_id
        try:
            await client.chat_postEphemeral(
                channel=where, user=user_id, text=confirmation.text, blocks=confirmation.blocks
            )
        except SlackApiError as error:
            _log.info("could not confirm the subscription to %s: %s", user_id, error)
