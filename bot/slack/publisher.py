"""The Slack publisher: digests as Block Kit messages, idempotent through message metadata.

Every message of a delivery carries ``metadata = {"event_type": "digest_posted",
"event_payload": {"delivery_id": id, "key": "dpc<id>", "part": i, "parts": n, ...}}``. Slack has
no idempotency key, so after a crash `find_published` reads the channel's history (with
``include_all_metadata``) and `publish` posts only the parts that are not there yet.

Rate limits: a proactive limiter per workspace and per channel (`bot.ratelimit.slack_limiter`)
spaces the posts; a 429 anyway holds the channel for ``Retry-After`` seconds and the post is
tried again (twice), then handed back to the delivery engine as a transient error carrying the
Retry-After. Slack's errors fall in four groups:

- the channel's (``not_in_channel``, ``channel_not_found``, ``is_archived``,
  ``restricted_action``...): permanent, the engine pauses the subscription and `notify_admins`
  tells the person who configured it, by direct message (or ephemerally where they asked);
- the token's or the workspace's (``invalid_auth``, ``token_revoked``, ``account_inactive``,
  ``missing_scope``, ``team_access_not_granted``...): nothing is wrong with the channel, so no
  subscription is paused; the error is logged loudly (once a minute) and the delivery retried
  later, which works as soon as an admin fixes the install;
- the message's (``invalid_blocks``, ``msg_blocks_too_long``, metadata refused): posted again
  as plain text, or without metadata, rather than not at all;
- anything else (``fatal_error``, ``internal_error``, 5xx, timeouts): transient.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import re
import time
from collections.abc import Callable
from typing import Any

import aiohttp
from babel.lists import format_list
from slack_sdk.errors import SlackApiError

from bot.metrics import RATELIMITED
from bot.publishing import (
    Delivery,
    PermanentPublishError,
    PublishResult,
    SkippedPublishError,
    TransientPublishError,
    documents_of,
)
from bot.ratelimit import RateLimiter, slack_limiter
from bot.slack.blocks import MAX_BLOCKS, SlackMessage, render_document
from bot.slack.clients import SlackClients
from bot.slack.i18n import messages
from bot.subscriptions.threads import DAILY_THREAD
from digests.documents import Document
from digests.i18n import babel_locale

_log = logging.getLogger(__name__)

EVENT_TYPE = "digest_posted"
HISTORY_PAGE = 200
HISTORY_MAX_PAGES = 10
RETRIES_ON_429 = 2

# The channel's problems, that retrying cannot fix: the subscription is paused, its admin told.
PERMANENT_ERRORS = frozenset(
    {
        "not_in_channel",
        "channel_not_found",
        "is_archived",
        "restricted_action",
        "restricted_action_read_only_channel",
        "restricted_action_thread_only_channel",
        "restricted_action_non_threadable_channel",
        "cannot_reply_to_message",
    }
)
# A member's direct message that cannot be used any more (they left, were deactivated, are a
# bot): a personal subscription is paused, never retried.
DM_ERRORS = frozenset(
    {
        "cannot_dm_bot",
        "user_not_found",
        "user_disabled",
        "account_inactive",
        "is_archived",
        "channel_not_found",
        "not_in_channel",
    }
)
# The token's, the app's or the workspace's problems: every channel of the workspace fails the
# same way and none of them is to blame. Retried later (an admin can fix the install), never a
# pause.
GLOBAL_ERRORS = frozenset(
    {
        "invalid_auth",
        "not_authed",
        "account_inactive",
        "token_revoked",
        "token_expired",
        "no_permission",
        "missing_scope",
        "not_allowed_token_type",
        "ekm_access_denied",
        "team_access_not_granted",
        "org_login_required",
        "team_added_to_org",
        "enterprise_is_restricted",
        "access_denied",
    }
)
# chat.update of a message that was deleted, or that the bot cannot edit: nothing to correct.
GONE_ERRORS = frozenset({"message_not_found", "cant_update_message", "edit_window_closed"})
GLOBAL_RETRY_AFTER = 300.0  # seconds before a delivery blocked by a token problem is retried
# The message's problems: Slack refused our blocks or our metadata, not the channel.
BLOCKS_ERRORS = frozenset(
    {"invalid_blocks", "invalid_blocks_format", "msg_blocks_too_long", "msg_too_long"}
)
METADATA_ERRORS = frozenset(
    {"invalid_metadata_format", "invalid_metadata_schema", "metadata_too_large", "metadata_must_be_sent_from_app"}
)  # fmt: skip

_REASONS = {
    "not_in_channel": "the bot is not a member of channel {channel}: invite it (/invite @Dépêche), then /digest resume",
    "channel_not_found": "channel {channel} does not exist any more or the bot cannot see it",
    "is_archived": "channel {channel} is archived",
    "restricted_action": "posting in channel {channel} is restricted (only admins or some members may post there)",
    "restricted_action_read_only_channel": "channel {channel} is read-only",
    "restricted_action_thread_only_channel": "channel {channel} only accepts replies in threads",
}
_CODE_RE = re.compile(r"^slack ([a-z_]+):")


def reason_for(code: str, channel: str) -> str:
    """The English reason stored with the paused subscription (``status`` shows it)."""
    text = _REASONS.get(code, "Slack refused the post")
    return f"slack {code}: " + text.format(channel=channel)


def error_code(error: SlackApiError) -> str:
    try:
        return str(error.response.get("error") or "")
    except Exception:
        return ""


def retry_after_of(error: SlackApiError) -> float:
    try:
        value = error.response.headers.get("Retry-After") or error.response.headers.get(
            "retry-after"
        )
        return max(0.0, float(value))
    except (TypeError, ValueError, AttributeError):
        return 1.0


class _GlobalErrorLog:
    """Logs a token/workspace problem loudly, at most once a minute per (workspace, code)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._last: dict[tuple[str, str], float] = {}

    def __call__(self, workspace_id: str, code: str) -> None:
        now = self.clock()
        key = (workspace_id, code)
        if now - self._last.get(key, -1e9) < 60.0:
            return
        self._last[key] = now
        _log.error(
            "Slack refuses the bot token for workspace %s (%s): no digest can be posted there "
            "until the app is reinstalled or its token/scopes fixed (SLACK_BOT_TOKEN, "
            "config/slack-manifest.yaml). Deliveries are kept and retried; no subscription "
            "is paused.",
            workspace_id,
            code,
        )


def _plain_metadata(payload: dict[str, Any]) -> dict[str, str | int | float | bool]:
    """Slack accepts strings, numbers and booleans in ``event_payload``: no nulls."""
    plain: dict[str, str | int | float | bool] = {}
    for key, value in payload.items():
        if value is None:
            continue
        if isinstance(value, (bool, int, float, str)):
            plain[key] = value
        elif isinstance(value, (dt.date, dt.datetime)):
            plain[key] = value.isoformat()
        else:
            plain[key] = str(value)
    return plain


def _collect(found: dict[int, str], messages: list[dict[str, Any]], key: str) -> None:
    """``{part: ts}`` of the messages carrying our metadata for delivery ``key``."""
    for message in messages:
        metadata: dict[str, Any] = message.get("metadata") or {}
        payload: dict[str, Any] = metadata.get("event_payload") or {}
        if metadata.get("event_type") == EVENT_TYPE and payload.get("key") == key:
            try:
                found.setdefault(int(payload.get("part", 1)), str(message["ts"]))
            except (TypeError, ValueError, KeyError):
                continue


_SUBTEAM_RE = re.compile(r"^S[A-Z0-9]{2,}$")


def alert_groups(delivery: Delivery) -> list[str]:
    """User group ids the delivery's alerts mention (``S0123ABCD`` only: never a channel- or
    workspace-wide mention)."""
    return [m.target for m in delivery.mentions if _SUBTEAM_RE.match(m.target)]


def with_alert(message: SlackMessage, delivery: Delivery) -> SlackMessage:
    """The post's first message with the alerts' user groups mentioned on top, and why."""
    groups = alert_groups(delivery)
    if not groups:
        return message
    _t = messages(delivery.lang)
    names = [name for m in delivery.mentions if m.target in groups for name in m.names]
    shown = format_list(list(dict.fromkeys(names)), locale=babel_locale(delivery.lang))
    from bot.slack.blocks import escape_mrkdwn, section_block

    line = (
        " ".join(f"<!subteam^{group}>" for group in groups)
        + " "
        + escape_mrkdwn(_t("In today’s news: %(names)s.", names=shown))
    )
    blocks = [section_block(line), *message.blocks][:MAX_BLOCKS]
    if len(message.blocks) >= MAX_BLOCKS:  # no room for one more block: the text carries it
        blocks = message.blocks
    return SlackMessage(text=f"{line}\n{message.text}", blocks=blocks)


SubscriberLookup = Callable[[int], "tuple[str | None, str | None, str] | None"]
"""``subscription_id -> (created_by user id, configured_from channel, admin language)``."""


class SlackPublisher:
    platform = "slack"

    def __init__(
        self,
        clients: SlackClients,
        *,
        limiter: RateLimiter | None = None,
        subscriber: SubscriberLookup | None = None,
        sleep: Callable[[float], Any] = asyncio.sleep,
    ) -> None:
        self.clients = clients
        self.limiter = limiter or slack_limiter()
        self.subscriber = subscriber
        self.sleep = sleep
        self.posted = 0
        self.ratelimited = 0
        self.global_errors = 0
        self._log_global = _GlobalErrorLog()
        self._rendered: dict[int, tuple[Any, list[SlackMessage]]] = {}

    # ------------------------------------------------------------------ rendering

    def render(self, delivery: Delivery) -> list[SlackMessage]:
        """Block Kit messages of the delivery: the post, then its "more" part (`documents_of`),
        which goes as replies in the post's thread. A fan-out posts one document (per story
        day and language) to many channels: it is rendered once, not once per channel, which
        also keeps the event loop free to send on time."""
        return [
            message for document in documents_of(delivery) for message in self._render(document)
        ]

    def post_parts(self, delivery: Delivery) -> int:
        """How many of `render`'s messages are the post itself (in the channel); the others
        are replies in its thread."""
        return len(self._render(delivery.document))

    def _render(self, document: Document) -> list[SlackMessage]:
        cached = self._rendered.get(id(document))
        if cached is not None and cached[0] is document:
            return cached[1]
        rendered = render_document(document)
        if len(self._rendered) >= 64:
            self._rendered.clear()
        self._rendered[id(document)] = (document, rendered)
        return rendered

    @staticmethod
    def metadata(delivery: Delivery, part: int, parts: int) -> dict[str, Any]:
        return {
            "event_type": EVENT_TYPE,
            "event_payload": _plain_metadata(
                {
                    "delivery_id": delivery.id,
                    "key": delivery.idempotency_key,
                    "part": part,
                    "parts": parts,
                    "lang": delivery.lang,
                    "story": delivery.story_slug,
                    "date": (delivery.story_date or delivery.digest_date).isoformat(),
                }
            ),
        }

    # ------------------------------------------------------------------ publishing

    async def publish(self, delivery: Delivery) -> PublishResult:
        rendered = self.render(delivery)
        parts = len(rendered)
        in_channel = self.post_parts(delivery)
        already: dict[int, str] = {}
        if delivery.attempt > 1:  # a retry: some parts may be there already
            already = await self._posted_parts(delivery)
        ids: list[str] = []
        for part, message in enumerate(rendered, start=1):
            if part in already:
                ids.append(already[part])
                continue
            # The "more" part answers the post in its thread: the channel shows one message.
            thread = ids[0] if part > in_channel and ids else None
            metadata = self.metadata(delivery, part, parts)
            if part == 1 and delivery.mentions:  # an alert fired: the post names the group
                message = with_alert(message, delivery)
            ids.append(await self._post(delivery, message, metadata, thread_ts=thread))
        return PublishResult(tuple(ids), recovered=bool(already) and len(already) == parts)

    async def edit(self, original: Delivery, message_ids: tuple[str, ...]) -> PublishResult:
        """``chat.update`` the messages of the post ``original`` to show its document (each
        keeps the post's own metadata); a longer document posts its extra parts after. A
        message deleted or not ours any more: `SkippedPublishError`."""
        rendered = self.render(original)
        parts = len(rendered)
        in_channel = self.post_parts(original)
        ids: list[str] = []
        for part, message in enumerate(rendered, start=1):
            metadata = self.metadata(original, part, parts)
            if part <= len(message_ids):
                ids.append(await self._post(original, message, metadata, ts=message_ids[part - 1]))
            else:
                thread = ids[0] if part > in_channel and ids else None
                ids.append(await self._post(original, message, metadata, thread_ts=thread))
        return PublishResult(tuple(ids))

    async def _post(
        self,
        delivery: Delivery,
        message: SlackMessage,
        metadata: dict[str, Any],
        *,
        thread_ts: str | None = None,
        ts: str | None = None,
    ) -> str:
        """Post ``message`` (or, with ``ts``, update that message with it)."""
        client = self.clients.for_team(delivery.workspace_id)
        channel_key = f"channel:{delivery.workspace_id}/{delivery.channel_id}"
        workspace_key = f"workspace:{delivery.workspace_id}"
        blocks: list[dict[str, Any]] | None = message.blocks
        meta: dict[str, Any] | None = metadata
        ratelimited = 0
        while True:
            await self.limiter.acquire(workspace_key, channel_key)
            try:
                if ts is not None:
                    response = await client.chat_update(
                        channel=delivery.channel_id,
                        ts=ts,
                        text=message.text,
                        blocks=blocks,
                        metadata=meta,
                    )
                else:
                    thread: dict[str, Any] = {}
                    if thread_ts is not None:
                        thread = {"thread_ts": thread_ts}
                    elif delivery.reply_to:  # a follow-up: in the post's thread and the channel,
                        # or in the thread alone when the subscription keeps the day there
                        broadcast = delivery.thread != DAILY_THREAD
                        thread = {"thread_ts": delivery.reply_to, "reply_broadcast": broadcast}
                    response = await client.chat_postMessage(
                        channel=delivery.channel_id,
                        text=message.text,
                        blocks=blocks,
                        metadata=meta,
                        unfurl_links=False,
                        unfurl_media=False,
                        **thread,
                    )
            except SlackApiError as error:
                status = getattr(error.response, "status_code", 0)
                code = error_code(error)
                if ts is not None and code in GONE_ERRORS:
                    raise SkippedPublishError(
                        f"slack {code}: message {ts} cannot be corrected (deleted, or not ours)"
                    ) from None
                if status == 429 or code == "ratelimited":
                    self.ratelimited += 1
                    RATELIMITED.labels("slack", "channel").inc()
                    wait = retry_after_of(error)
                    self.limiter.penalize(channel_key, wait)
                    _log.info("slack 429 on %s: retry after %.1f s", delivery.channel_id, wait)
                    ratelimited += 1
                    if ratelimited <= RETRIES_ON_429:
                        continue
                    raise TransientPublishError("slack ratelimited", retry_after=wait) from None
                if code in BLOCKS_ERRORS and blocks is not None:
                    _log.warning(
                        "slack %s for delivery %d in %s: posting it as plain text",
                        code, delivery.id, delivery.channel_id,
                    )  # fmt: skip
                    blocks = None
                    continue
                if code in METADATA_ERRORS and meta is not None:
                    _log.warning(
                        "slack %s for delivery %d: posting without metadata (a crash now could "
                        "post it twice)",
                        code, delivery.id,
                    )  # fmt: skip
                    meta = None
                    continue
                raise self._classify(delivery, code, status) from None
            except (TimeoutError, OSError, aiohttp.ClientError) as error:
                raise TransientPublishError(f"slack unreachable: {type(error).__name__}") from None
            self.posted += 1
            return str(response["ts"])

    def _classify(self, delivery: Delivery, code: str, status: int) -> Exception:
        """The engine's error for a refused call (not a 429)."""
        if delivery.user_id is not None and code in DM_ERRORS:
            return PermanentPublishError(
                f"slack {code}: the direct message with {delivery.user_id} cannot be used any "
                "more (the member left, was deactivated, or is a bot)",
                code=code,
            )
        if code in PERMANENT_ERRORS:
            return PermanentPublishError(reason_for(code, delivery.channel_id), code=code)
        if code in GLOBAL_ERRORS:
            self.global_errors += 1
            self._log_global(delivery.workspace_id, code)
            return TransientPublishError(
                f"slack {code}: the bot token of workspace {delivery.workspace_id} is refused",
                retry_after=GLOBAL_RETRY_AFTER,
            )
        return TransientPublishError(f"slack {code or status or 'error'}")

    # ------------------------------------------------------------------ reconciliation

    async def _posted_parts(self, delivery: Delivery) -> dict[int, str]:
        """``{part: ts}`` of this delivery's messages found in the channel history."""
        client = self.clients.for_team(delivery.workspace_id)
        oldest = dt.datetime.combine(
            delivery.digest_date - dt.timedelta(days=1), dt.time(0), tzinfo=dt.UTC
        )
        found: dict[int, str] = {}
        cursor: str | None = None
        for _page in range(HISTORY_MAX_PAGES):
            try:
                page = await client.conversations_history(
                    channel=delivery.channel_id,
                    include_all_metadata=True,
                    oldest=f"{oldest.timestamp():.6f}",
                    limit=HISTORY_PAGE,
                    cursor=cursor,
                )
            except SlackApiError as error:
                code = error_code(error)
                status = getattr(error.response, "status_code", 0)
                if status == 429 or code == "ratelimited":
                    raise TransientPublishError(
                        "slack history: ratelimited", retry_after=retry_after_of(error)
                    ) from None
                raise self._classify(delivery, code, status) from None
            except (TimeoutError, OSError, aiohttp.ClientError) as error:
                raise TransientPublishError(f"slack unreachable: {type(error).__name__}") from None
            _collect(found, page.get("messages", []), delivery.idempotency_key)
            cursor = (page.get("response_metadata") or {}).get("next_cursor") or None
            if not page.get("has_more") or not cursor:
                break
        if 1 in found and len(self.render(delivery)) > self.post_parts(delivery):
            await self._posted_replies(delivery, found[1], found)
        return found

    async def _posted_replies(self, delivery: Delivery, parent: str, found: dict[int, str]) -> None:
        """The "more" parts already in the post's thread (``conversations.history`` does not
        return thread replies), added to ``found``."""
        client = self.clients.for_team(delivery.workspace_id)
        cursor: str | None = None
        for _page in range(HISTORY_MAX_PAGES):
            try:
                page = await client.conversations_replies(
                    channel=delivery.channel_id,
                    ts=parent,
                    include_all_metadata=True,
                    limit=HISTORY_PAGE,
                    cursor=cursor,
                )
            except SlackApiError as error:
                code = error_code(error)
                status = getattr(error.response, "status_code", 0)
                if status == 429 or code == "ratelimited":
                    raise TransientPublishError(
                        "slack replies: ratelimited", retry_after=retry_after_of(error)
                    ) from None
                if code == "thread_not_found":  # the post was deleted: nothing to find below it
                    return
                raise self._classify(delivery, code, status) from None
            except (TimeoutError, OSError, aiohttp.ClientError) as error:
                raise TransientPublishError(f"slack unreachable: {type(error).__name__}") from None
            _collect(found, page.get("messages", []), delivery.idempotency_key)
            cursor = (page.get("response_metadata") or {}).get("next_cursor") or None
            if not page.get("has_more") or not cursor:
                break

    async def find_published(self, delivery: Delivery) -> PublishResult | None:
        """All parts already in the channel -> their ids; otherwise None (`publish` then posts
        only the missing parts)."""
        found = await self._posted_parts(delivery)
        if not found:
            return None
        parts = len(self.render(delivery))
        if sorted(found) != list(range(1, parts + 1)):
            return None
        return PublishResult(tuple(found[part] for part in range(1, parts + 1)), recovered=True)

    # ------------------------------------------------------------------ admins

    async def notify_admins(self, delivery: Delivery, reason: str) -> None:
        """Tell who configured the subscription that it was paused: a DM, else an ephemeral
        message in the channel the command came from."""
        if delivery.user_id is not None:  # a member's own DM: shown by /digest me, not posted
            _log.info("personal subscription %d paused (%s)", delivery.subscription_id, reason)
            return
        who = self.subscriber(delivery.subscription_id) if self.subscriber else None
        if who is None:
            _log.warning(
                "subscription %d paused (%s); nobody to tell", delivery.subscription_id, reason
            )
            return
        user, where, lang = who
        if not user:
            _log.warning(
                "subscription %d paused (%s); it has no chat admin",
                delivery.subscription_id,
                reason,
            )
            return
        text = notice_text(delivery, reason, lang)
        client = self.clients.for_team(delivery.workspace_id)
        try:
            await client.chat_postMessage(channel=user, text=text, unfurl_links=False)
            return
        except SlackApiError as error:
            _log.info("could not DM %s (%s); trying ephemeral", user, error_code(error))
        if where and where != delivery.channel_id:
            try:
                await client.chat_postEphemeral(channel=where, user=user, text=text)
            except SlackApiError as error:
                _log.warning("could not tell %s about the pause: %s", user, error_code(error))


def notice_text(delivery: Delivery, reason: str, lang: str) -> str:
    _t = messages(lang)
    channel = f"<#{delivery.channel_id}>"  # our own channel reference, not user text
    match = _CODE_RE.match(reason)
    code = match.group(1) if match else ""
    why = {
        "not_in_channel": _t(
            "I am not a member of that channel: invite me with /invite, then run /digest resume there."
        ),
        "channel_not_found": _t("that channel no longer exists or I cannot see it."),
        "is_archived": _t("that channel is archived."),
        "restricted_action": _t(
            "posting in that channel is restricted: let me post there, then run /digest resume there."
        ),
        "restricted_action_read_only_channel": _t("that channel is read-only."),
        "restricted_action_thread_only_channel": _t(
            "that channel only accepts replies in threads."
        ),
    }.get(code, reason)
    from bot.slack.blocks import escape_mrkdwn

    return _t(
        "Dépêche paused the digest subscription of %(channel)s: %(why)s",
        channel=channel,
        why=escape_mrkdwn(why),
    )
