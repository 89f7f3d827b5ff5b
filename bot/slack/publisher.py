"""The Slack publisher: digests as Block Kit messages, idempotent through message metadata.

Every message of a delivery carries ``metadata = {"event_type": "digest_posted",
"event_payload": {"delivery_id": id, "key": "dpc<id>", "part": i, "parts": n, ...}}``. Slack has
no idempotency key, so after a crash `find_published` reads the channel's history (with
``include_all_metadata``) and `publish` posts only the parts that are not there yet.

Rate limits: a proactive limiter per workspace and per channel (`bot.ratelimit.slack_limiter`)
spaces the posts; a 429 anyway holds the channel for ``Retry-After`` seconds and the post is
tried again (twice), then handed back to the delivery engine as a transient error carrying the
Retry-After. ``not_in_channel``, ``channel_not_found``, ``is_archived`` (and lost tokens or
scopes) are permanent: the engine pauses the subscription and `notify_admins` tells the person
who configured it, by direct message (or ephemerally in the channel they used).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import re
from collections.abc import Callable
from typing import Any

from slack_sdk.errors import SlackApiError

from bot.publishing import (
    Delivery,
    PermanentPublishError,
    PublishResult,
    TransientPublishError,
)
from bot.ratelimit import RateLimiter, slack_limiter
from bot.slack.blocks import SlackMessage, render_document
from bot.slack.clients import SlackClients
from bot.slack.i18n import messages

_log = logging.getLogger(__name__)

EVENT_TYPE = "digest_posted"
HISTORY_PAGE = 200
HISTORY_MAX_PAGES = 10
RETRIES_ON_429 = 2

# Errors that retrying cannot fix: the subscription is paused and its admin told.
PERMANENT_ERRORS = frozenset(
    {
        "not_in_channel",
        "channel_not_found",
        "is_archived",
        "invalid_auth",
        "account_inactive",
        "token_revoked",
        "no_permission",
        "missing_scope",
        "restricted_action",
        "ekm_access_denied",
        "team_access_not_granted",
        "invalid_blocks",
        "msg_blocks_too_long",
        "invalid_metadata_format",
    }
)

_REASONS = {
    "not_in_channel": "the bot is not a member of channel {channel}: invite it (/invite @Dépêche), then /digest resume",
    "channel_not_found": "channel {channel} does not exist any more or the bot cannot see it",
    "is_archived": "channel {channel} is archived",
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
        self._rendered: dict[int, tuple[Any, list[SlackMessage]]] = {}

    # ------------------------------------------------------------------ rendering

    def render(self, delivery: Delivery) -> list[SlackMessage]:
        """Block Kit messages of the delivery's document. A fan-out posts one document (per
        story day and language) to many channels: it is rendered once, not once per channel,
        which also keeps the event loop free to send on time."""
        document = delivery.document
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
            "event_payload": {
                "delivery_id": delivery.id,
                "key": delivery.idempotency_key,
                "part": part,
                "parts": parts,
                "lang": delivery.lang,
                "story": delivery.story_slug,
                "date": (delivery.story_date or delivery.digest_date).isoformat(),
            },
        }

    # ------------------------------------------------------------------ publishing

    async def publish(self, delivery: Delivery) -> PublishResult:
        rendered = self.render(delivery)
        parts = len(rendered)
        already: dict[int, str] = {}
        if delivery.attempt > 1:  # a retry: some parts may be there already
            already = await self._posted_parts(delivery)
        ids: list[str] = []
        for part, message in enumerate(rendered, start=1):
            if part in already:
                ids.append(already[part])
                continue
            ids.append(await self._post(delivery, message, self.metadata(delivery, part, parts)))
        return PublishResult(tuple(ids), recovered=bool(already) and len(already) == parts)

    async def _post(
        self, delivery: Delivery, message: SlackMessage, metadata: dict[str, Any]
    ) -> str:
        client = self.clients.for_team(delivery.workspace_id)
        channel_key = f"channel:{delivery.workspace_id}/{delivery.channel_id}"
        workspace_key = f"workspace:{delivery.workspace_id}"
        for attempt in range(RETRIES_ON_429 + 1):
            await self.limiter.acquire(workspace_key, channel_key)
            try:
                response = await client.chat_postMessage(
                    channel=delivery.channel_id,
                    text=message.text,
                    blocks=message.blocks,
                    metadata=metadata,
                    unfurl_links=False,
                    unfurl_media=False,
                )
            except SlackApiError as error:
                status = getattr(error.response, "status_code", 0)
                code = error_code(error)
                if status == 429 or code == "ratelimited":
                    self.ratelimited += 1
                    wait = retry_after_of(error)
                    self.limiter.penalize(channel_key, wait)
                    _log.info("slack 429 on %s: retry after %.1f s", delivery.channel_id, wait)
                    if attempt < RETRIES_ON_429:
                        continue
                    raise TransientPublishError("slack ratelimited", retry_after=wait) from None
                if code in PERMANENT_ERRORS:
                    raise PermanentPublishError(
                        reason_for(code, delivery.channel_id), code=code
                    ) from None
                raise TransientPublishError(f"slack {code or status}") from None
            except (TimeoutError, OSError) as error:  # aiohttp errors are OSErrors or timeouts
                raise TransientPublishError(f"slack unreachable: {type(error).__name__}") from None
            self.posted += 1
            return str(response["ts"])
        raise AssertionError("unreachable")

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
                if code in PERMANENT_ERRORS:
                    raise PermanentPublishError(
                        reason_for(code, delivery.channel_id), code=code
                    ) from None
                raise TransientPublishError(f"slack history: {code or 'error'}") from None
            except (TimeoutError, OSError) as error:
                raise TransientPublishError(f"slack unreachable: {type(error).__name__}") from None
            message: dict[str, Any]
            for message in page.get("messages", []):
                metadata: dict[str, Any] = message.get("metadata") or {}
                payload: dict[str, Any] = metadata.get("event_payload") or {}
                if (
                    metadata.get("event_type") == EVENT_TYPE
                    and payload.get("key") == delivery.idempotency_key
                ):
                    try:
                        found.setdefault(int(payload.get("part", 1)), str(message["ts"]))
                    except (TypeError, ValueError, KeyError):
                        continue
            cursor = (page.get("response_metadata") or {}).get("next_cursor") or None
            if not page.get("has_more") or not cursor:
                break
        return found

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
    m = messages(lang)
    channel = f"<#{delivery.channel_id}>"  # our own channel reference, not user text
    match = _CODE_RE.match(reason)
    code = match.group(1) if match else ""
    why = {
        "not_in_channel": m(
            "I am not a member of that channel: invite me with /invite, then run /digest resume there."
        ),
        "channel_not_found": m("that channel no longer exists or I cannot see it."),
        "is_archived": m("that channel is archived."),
    }.get(code, reason)
    from bot.slack.blocks import escape_mrkdwn

    return m(
        "Dépêche paused the digest subscription of %(channel)s: %(why)s",
        channel=channel,
        why=escape_mrkdwn(why)
        if code not in ("not_in_channel", "channel_not_found", "is_archived")
        else why,
    )
