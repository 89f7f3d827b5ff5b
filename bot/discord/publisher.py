"""The Discord publisher: posts a delivery's document with Discord's REST API.

- **Exactly once.** Every message of a delivery carries a deterministic nonce
  (``delivery.idempotency_key`` + part index, at most 25 characters) with ``enforce_nonce``:
  when a retry after a crash posts the same part again within Discord's nonce window, Discord
  returns the message already created instead of a duplicate. Past that window,
  `find_published` looks at the channel's recent history for our messages with that nonce or
  the same embeds, and `publish` only posts the parts that are missing.
- **Under the limits.** A proactive `RateLimiter` (global bucket + one per channel, see
  `bot.ratelimit`) spaces requests before they go; the ``X-RateLimit-*`` headers of each answer
  tighten a channel's bucket when Discord says it is exhausted. A 429 anyway becomes
  `TransientPublishError` with Discord's ``retry_after`` (the delivery worker retries later).
- **Errors.** 403 (50001 Missing Access, 50013 Missing Permissions) and 404 (10003 Unknown
  Channel) are `PermanentPublishError`: the worker pauses the subscription and calls
  `notify_admins`, which posts in the channel where the subscription was configured, or the
  server's system channel. 5xx, timeouts and network errors are transient.
- ``allowed_mentions`` is none on everything sent.

The publisher talks to the REST API with its own aiohttp session (no gateway needed): it works
as soon as `depeche run` starts, and in several processes at once.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, cast

import aiohttp
import discord
from babel.lists import format_list

from bot.discord import threads
from bot.discord.embeds import (
    Messages,
    footer_markers,
    marker_units,
    notice,
    render_document,
    with_marker,
)
from bot.discord.rest import DEFAULT_API_URL, NO_MENTIONS, DiscordAPIError, DiscordREST
from bot.metrics import RATELIMITED
from bot.publishing import (
    Delivery,
    PermanentPublishError,
    PublishResult,
    SkippedPublishError,
    TransientPublishError,
    documents_of,
)
from bot.ratelimit import RateLimiter, discord_limiter
from bot.subscriptions.threads import DAILY_THREAD
from digests.documents import Document
from digests.i18n import Messages as Catalog
from digests.i18n import babel_locale

_log = logging.getLogger(__name__)

NONCE_MAX = 25
SERVER_ERROR_RETRIES = 2  # quick retries of a message POST after a 5xx or a network error
SERVER_ERROR_BACKOFF = 0.5  # seconds, doubled each time

# Discord JSON error codes we act on.
MISSING_ACCESS = 50001
MISSING_PERMISSIONS = 50013
UNKNOWN_CHANNEL = 10003
CANNOT_DM = 50007  # Cannot send messages to this user (DMs closed, no shared server)
UNKNOWN_MESSAGE = 10008


def part_nonce(key: str, index: int) -> str:
    """The nonce of part ``index`` of a delivery: ``dpc42.0``; hashed if it would exceed 25."""
    nonce = f"{key}.{index}"
    if len(nonce) <= NONCE_MAX:
        return nonce
    return "h" + hashlib.sha256(nonce.encode()).hexdigest()[: NONCE_MAX - 1]


PICTURE_NAME = "timeline.png"
PictureSource = Callable[[str, dt.date, str], bytes | None]
"""``(story slug, story day, language) -> PNG`` of the day's timeline (None: none). Blocking:
called in a thread."""

MARKER_PREFIX = "Dépêche #"
MARKER_RESERVE = 64  # footer units kept for the delivery marker (it takes about 30)
DISCORD_EPOCH_MS = 1_420_070_400_000


def delivery_marker(delivery: Delivery, index: int) -> str:
    """The marker in the footer of part ``index`` of a delivery: ``Dépêche #42.0-3fa9``.

    Real Discord does not return nonces when reading a channel's history, and forgets them
    after a few minutes: this marker is how we recognise our own posts after a long crash. The
    short tag (channel, story, day, language) keeps a reused delivery id (a wiped database)
    from matching an old post."""
    seed = "|".join(
        (delivery.channel_id, delivery.story_slug, delivery.digest_date.isoformat(), delivery.lang)
    )
    tag = hashlib.sha256(seed.encode()).hexdigest()[:4]
    return f"{MARKER_PREFIX}{delivery.id}.{index}-{tag}"


def snowflake_at(moment: dt.datetime) -> int:
    """The smallest Discord snowflake of ``moment`` (for ``before``/``after`` in history reads)."""
    ms = int(moment.timestamp() * 1000) - DISCORD_EPOCH_MS
    return max(ms, 0) << 22


def fingerprint(embeds: list[dict[str, Any]]) -> tuple[tuple[str, str], ...]:
    """What identifies one of our messages in a channel's history (titles and descriptions)."""
    return tuple(
        ((e.get("title") or "").strip(), (e.get("description") or "").strip()) for e in embeds
    )


@dataclass(frozen=True)
class Contact:
    """Where and in which language to tell a subscription's admins about a problem."""

    configured_from: str | None
    admin_lang: str = "en"


ContactLookup = Callable[[int], Contact | None]


def alert_roles(delivery: Delivery) -> list[str]:
    """Role ids the delivery's alerts mention: snowflakes only, never the server's own id
    (that is @everyone)."""
    return [
        mention.target
        for mention in delivery.mentions
        if mention.target.isdigit() and mention.target != delivery.workspace_id
    ]


def alert_content(delivery: Delivery, roles: list[str]) -> str:
    """``<@&123> In today's news: Satya Nadella.`` in the subscription's language."""
    _ = _catalog(delivery.lang)
    names = [
        name for mention in delivery.mentions if mention.target in roles for name in mention.names
    ]
    shown = format_list(list(dict.fromkeys(names)), locale=babel_locale(delivery.lang))
    pings = " ".join(f"<@&{role}>" for role in roles)
    return f"{pings} " + _(
        "In today’s news: %(names)s.", names=discord.utils.escape_markdown(shown)
    )


def _catalog(lang: str) -> Catalog:
    return Catalog(lang if lang in ("fr", "en") else "en", domain="discord", package="bot")  # type: ignore[arg-type]


_RENDERED: dict[tuple[int, int], tuple[Document, list[list[dict[str, Any]]]]] = {}
_RENDERED_MAX = 256


def rendered(document: Document, footer_reserve: int) -> list[list[dict[str, Any]]]:
    """``document`` rendered as embed dicts, once per document object (the delivery worker
    shares one document per story, day and language among every channel). Never modify the
    result: `with_marker` copies what it changes."""
    key = (id(document), footer_reserve)
    cached = _RENDERED.get(key)
    if cached is not None and cached[0] is document:
        return cached[1]
    messages = [
        [cast(dict[str, Any], embed.to_dict()) for embed in message]
        for message in render_document(document, footer_reserve=footer_reserve)
    ]
    if len(_RENDERED) >= _RENDERED_MAX:
        _RENDERED.clear()
    _RENDERED[key] = (document, messages)  # the document is kept: its id is not reused
    return messages


class DiscordPublisher:
    """`bot.publishing.Publisher` for Discord (``platform = "discord"``)."""

    platform = "discord"

    def __init__(
        self,
        *,
        token: str,
        api_url: str = DEFAULT_API_URL,
        limiter: RateLimiter | None = None,
        contacts: ContactLookup | None = None,
        session: aiohttp.ClientSession | None = None,
        history_limit: int = 100,
        history_pages: int = 3,
        pictures: PictureSource | None = None,
    ) -> None:
        self.rest = DiscordREST(token=token, api_url=api_url, session=session)
        self.limiter = limiter or discord_limiter()
        self.contacts = contacts
        self.history_limit = max(1, min(history_limit, 100))
        self.history_pages = max(1, history_pages)
        self._me: str | None = None
        self._found: dict[int, dict[int, str]] = {}  # delivery id -> part index -> message id
        self._failures: dict[int, str] = {}  # delivery id -> why it was paused (a code)
        self.threads = threads.ThreadPoster(self)  # forum posts and daily threads
        self._round_trip: float | None = None  # moving average of a request's round trip
        self.pictures = pictures  # the day's timeline picture, attached to daily digests

    def pace(self) -> tuple[float | None, float | None]:
        """(requests per second allowed, observed round trip in seconds): how many
        deliveries the worker keeps in flight (`bot.publishing.Paced`)."""
        return self.limiter.global_rate, self._round_trip

    def __repr__(self) -> str:
        return f"<DiscordPublisher {self.rest.api_url}>"

    async def close(self) -> None:
        await self.rest.close()

    # ------------------------------------------------------------------ low level

    async def _call(
        self, method: str, path: str, *, channel_id: str | None = None, **kwargs: Any
    ) -> Any:
        """One request through the limiter (message creation also takes the channel's bucket)."""
        key = f"channel:{channel_id}" if channel_id is not None else None
        await self.limiter.acquire(key)
        started = time.monotonic()
        try:
            body, headers = await self.rest.request(method, path, **kwargs)
        except DiscordAPIError as error:
            if error.status == 429:
                RATELIMITED.labels("discord", "global" if error.is_global else "channel").inc()
                self.limiter.penalize(key, error.retry_after or 1.0, is_global=error.is_global)
            raise
        elapsed = time.monotonic() - started
        previous = self._round_trip
        self._round_trip = elapsed if previous is None else 0.9 * previous + 0.1 * elapsed
        if key is not None and headers.get("X-RateLimit-Remaining") == "0":
            try:
                reset_after = float(headers.get("X-RateLimit-Reset-After") or 0)
            except ValueError:
                reset_after = 0.0
            if reset_after > 0:
                self.limiter.penalize(key, reset_after)
        return body

    async def create_message(
        self,
        channel_id: str,
        payload: dict[str, Any],
        files: Sequence[tuple[str, bytes, str]] = (),
        *,
        roles: list[str] | None = None,
    ) -> dict[str, Any]:
        """POST one message, ``allowed_mentions`` none but ``roles`` (an alert's roles: only
        those may be pinged); Discord errors mapped to publish errors."""
        allowed = {**NO_MENTIONS, "roles": roles} if roles else NO_MENTIONS
        payload = {**payload, "allowed_mentions": allowed}
        # A 5xx or a network error may come after Discord created the message: retrying the
        # same nonce (enforce_nonce) returns that message instead of a second one.
        for attempt in range(SERVER_ERROR_RETRIES + 1):
            last = attempt == SERVER_ERROR_RETRIES
            try:
                body = await self._call(
                    "POST",
                    f"/channels/{channel_id}/messages",
                    channel_id=channel_id,
                    json=payload,
                    files=files,
                )
                break
            except DiscordAPIError as error:
                if error.status >= 500 and not last and payload.get("enforce_nonce"):
                    await asyncio.sleep(SERVER_ERROR_BACKOFF * 2**attempt)
                    continue
                raise self._publish_error(error, channel_id) from None
            except (aiohttp.ClientError, TimeoutError) as error:
                if not last and payload.get("enforce_nonce"):
                    await asyncio.sleep(SERVER_ERROR_BACKOFF * 2**attempt)
                    continue
                raise TransientPublishError(
                    f"network error talking to Discord: {type(error).__name__}"
                ) from None
        if not isinstance(body, dict) or "id" not in body:
            raise TransientPublishError("Discord answered without a message")
        return body

    async def edit_message(
        self, channel_id: str, message_id: str, payload: dict[str, Any]
    ) -> dict[str, Any]:
        """PATCH one message (the channel's bucket, like posts), ``allowed_mentions`` none. A
        deleted message (10008 Unknown Message) is `SkippedPublishError`."""
        payload = {**payload, "allowed_mentions": NO_MENTIONS}
        try:
            body = await self._call(
                "PATCH",
                f"/channels/{channel_id}/messages/{message_id}",
                channel_id=channel_id,
                json=payload,
            )
        except DiscordAPIError as error:
            if error.status == 404 and error.code == UNKNOWN_MESSAGE:
                raise SkippedPublishError(
                    f"Discord 404 Unknown Message ({error.code}): message {message_id} "
                    f"was deleted, nothing to correct"
                ) from None
            raise self._publish_error(error, channel_id) from None
        except (aiohttp.ClientError, TimeoutError) as error:
            raise TransientPublishError(
                f"network error talking to Discord: {type(error).__name__}"
            ) from None
        return body if isinstance(body, dict) else {}

    async def edit(self, original: Delivery, message_ids: tuple[str, ...]) -> PublishResult:
        """Edit the messages of the post ``original`` to show ``original.document`` (each part
        keeps the post's own footer marker), where they are: the channel, or the thread of the
        post (a forum post, or the "more" part of ``thread = daily``: Discord gives a thread
        the id of the message it starts from). A longer document posts its extra parts after."""
        parts = self.parts(original)
        in_channel = len(parts)
        if await self.threads.is_forum(original.channel_id, ask=False):
            in_channel = 0
        elif original.thread == DAILY_THREAD:
            in_channel = self.post_parts(original)
        ids: list[str] = []
        for index, embeds in enumerate(parts):
            where = original.channel_id
            if index >= in_channel and (message_ids or ids):
                where = (message_ids or tuple(ids))[0]
            if index < len(message_ids):
                if index == 0 and self.pictures is not None and original.document.kind == "digest":
                    # the day's picture stays attached (an edit keeps attachments): shown again
                    image = {"url": f"attachment://{PICTURE_NAME}"}
                    embeds = [{**embeds[0], "image": image}, *embeds[1:]] if embeds else embeds
                await self.edit_message(where, message_ids[index], {"embeds": embeds})
                ids.append(message_ids[index])
                continue
            payload = {
                "embeds": embeds,
                "nonce": part_nonce(original.idempotency_key, index),
                "enforce_nonce": True,
            }
            ids.append(str((await self.create_message(where, payload))["id"]))
        return PublishResult(tuple(ids))

    @staticmethod
    def _publish_error(error: DiscordAPIError, channel_id: str) -> Exception:
        if error.status == 429:
            return TransientPublishError(
                f"Discord rate limit ({error.message})", retry_after=error.retry_after
            )
        if error.status == 403 and error.code == CANNOT_DM:
            return PermanentPublishError(
                f"Discord 403 Cannot send messages to this user ({CANNOT_DM}): their direct "
                "messages are closed to the bot, or they share no server with it",
                code=str(CANNOT_DM),
            )
        if error.status == 403:
            what = "Missing Permissions" if error.code == MISSING_PERMISSIONS else "Missing Access"
            return PermanentPublishError(
                f"Discord 403 {what} ({error.code}): the bot cannot post in channel {channel_id}",
                code=str(error.code or 403),
            )
        if error.status == 404:
            return PermanentPublishError(
                f"Discord 404 Unknown Channel ({error.code}): channel {channel_id} does not exist any more",
                code=str(error.code or 404),
            )
        if error.status == 400 and error.code == threads.NOT_TEXT:
            return PermanentPublishError(
                f"Discord 400 ({error.code}): channel {channel_id} does not take messages "
                "(not a text channel)",
                code=str(error.code),
            )
        if error.status == 401:
            _log.error("Discord refused the bot token (401): check DISCORD_TOKEN")
        return TransientPublishError(f"Discord {error.status} {error.message} ({error.code})")

    async def bot_user_id(self) -> str | None:
        if self._me is None:
            try:
                body = await self._call("GET", "/users/@me")
                self._me = str(body["id"])
            except (DiscordAPIError, aiohttp.ClientError, TimeoutError, KeyError, TypeError):
                return None
        return self._me

    # ------------------------------------------------------------------ the Publisher protocol

    @staticmethod
    def parts(delivery: Delivery) -> list[list[dict[str, Any]]]:
        """The messages of a delivery as embed dicts, each marked with `delivery_marker`: the
        post itself, then its "more" part (`Document.more`) as follow-up messages, numbered on
        from the post's (one nonce and one marker each: exactly once, like the post). The
        document is rendered once for every channel that gets it (`rendered`); only the
        marker differs."""
        reserve = max(marker_units(delivery_marker(delivery, 99)) + 8, MARKER_RESERVE)
        messages = [
            message
            for document in documents_of(delivery)
            for message in rendered(document, reserve)
        ]
        return [
            with_marker(embeds, delivery_marker(delivery, index))
            for index, embeds in enumerate(messages)
        ]

    @staticmethod
    def post_parts(delivery: Delivery) -> int:
        """How many of `parts` are the post itself; the rest are its "more" follow-ups."""
        reserve = max(marker_units(delivery_marker(delivery, 99)) + 8, MARKER_RESERVE)
        return len(rendered(delivery.document, reserve))

    async def _history(
        self, delivery: Delivery, channel_id: str | None = None
    ) -> list[dict[str, Any]]:
        """The channel's recent messages, newest first: up to ``history_pages`` pages, not older
        than the day before the delivery's day (nothing of ours can be older)."""
        floor = snowflake_at(
            dt.datetime.combine(delivery.digest_date, dt.time(), tzinfo=dt.UTC)
            - dt.timedelta(days=2)
        )
        messages: list[dict[str, Any]] = []
        before: str | None = None
        for _page in range(self.history_pages):
            params: dict[str, Any] = {"limit": self.history_limit}
            if before is not None:
                params["before"] = before
            page = await self._call(
                "GET", f"/channels/{channel_id or delivery.channel_id}/messages", params=params
            )
            if not isinstance(page, list) or not page:
                break
            messages += [m for m in page if isinstance(m, dict) and "id" in m]
            oldest = min(int(m["id"]) for m in page if isinstance(m, dict) and "id" in m)
            if len(page) < self.history_limit or oldest <= floor:
                break
            before = str(oldest)
        return messages

    async def _existing(
        self,
        delivery: Delivery,
        parts: list[list[dict[str, Any]]],
        channel_id: str | None = None,
    ) -> dict[int, str]:
        """Part index -> id of our messages already in the channel: by the delivery marker in
        the footer (what real Discord returns), else the nonce (if echoed), else the content."""
        me = await self.bot_user_id()
        try:
            history = await self._history(delivery, channel_id)
        except (DiscordAPIError, aiohttp.ClientError, TimeoutError):
            return {}
        markers = {delivery_marker(delivery, i): i for i in range(len(parts))}
        nonces = {part_nonce(delivery.idempotency_key, i): i for i in range(len(parts))}
        prints = {fingerprint(part): i for i, part in enumerate(parts)}
        found: dict[int, str] = {}
        for message in history:
            author = message.get("author") or {}
            if me is not None and str(author.get("id")) != me:
                continue
            if me is None and not author.get("bot"):
                continue
            embeds = message.get("embeds") or []
            marks = footer_markers(embeds)
            index = next((markers[m] for m in marks if m in markers), None)
            if index is None and any(m.startswith(MARKER_PREFIX) for m in marks):
                continue  # another delivery of ours
            if index is None:  # posted before markers existed: the nonce (if echoed), the content
                index = nonces.get(str(message.get("nonce") or ""))
            if index is None:
                index = prints.get(fingerprint(embeds))
            if index is not None and index not in found:
                found[index] = str(message["id"])
        return found

    async def find_published(self, delivery: Delivery) -> PublishResult | None:
        parts = self.parts(delivery)
        found = await self._existing(delivery, parts)
        if 0 in found and delivery.thread == DAILY_THREAD and len(found) < len(parts):
            # The thread started from the post has the post's id: the "more" part is there.
            found = {**await self._existing(delivery, parts, found[0]), **found}
        elif not found and await self.threads.is_forum(delivery.channel_id):
            thread = await self.threads.find_forum_thread(delivery)
            if thread is not None:
                found = await self._existing(delivery, parts, thread)
        if found and len(found) == len(parts):
            self._found.pop(delivery.id, None)
            return PublishResult(tuple(found[i] for i in range(len(parts))), recovered=True)
        if found:
            self._found[delivery.id] = found  # publish() posts only the missing parts
        return None

    async def publish(self, delivery: Delivery) -> PublishResult:
        """The post in the channel (or a forum thread of its own), then its "more" part: in
        the channel, or in the day's thread (``thread = daily``, forums)."""
        parts = self.parts(delivery)
        posts = self.post_parts(delivery)
        found = self._found.pop(delivery.id, {})
        ids = dict(found)
        try:
            if await self.threads.is_forum(delivery.channel_id, ask=False):
                where = await self.threads.forum_post(delivery, parts, ids)
            else:
                try:
                    await self._post_parts(delivery, delivery.channel_id, parts, range(posts), ids)
                except PermanentPublishError as error:
                    if error.code != str(threads.NOT_TEXT) or not await self.threads.is_forum(
                        delivery.channel_id
                    ):
                        raise
                    where = await self.threads.forum_post(
                        delivery, parts, ids
                    )  # a forum: learnt now
                else:
                    where = delivery.channel_id
                    if delivery.thread == DAILY_THREAD:
                        where = await self.threads.start_thread(delivery, ids[0])
            await self._post_parts(delivery, where, parts, range(len(parts)), ids)
        except PermanentPublishError as error:
            self._failures[delivery.id] = error.code
            raise
        return PublishResult(tuple(ids[i] for i in range(len(parts))), recovered=bool(found))

    async def _post_parts(
        self,
        delivery: Delivery,
        channel_id: str,
        parts: list[list[dict[str, Any]]],
        indices: range,
        ids: dict[int, str],
    ) -> None:
        """Post the parts of ``indices`` not in ``ids`` yet, in order, each with its nonce."""
        for index in indices:
            if index in ids:
                continue
            payload: dict[str, Any] = {
                "embeds": parts[index],
                "nonce": part_nonce(delivery.idempotency_key, index),
                "enforce_nonce": True,
            }
            if delivery.reply_to and index == 0:  # a follow-up: a reply to the post it is about
                payload["message_reference"] = {
                    "message_id": delivery.reply_to,
                    "fail_if_not_exists": False,
                }
            files = await self._picture(delivery, payload) if index == 0 else ()
            roles = alert_roles(delivery) if index == 0 else []
            if roles:  # the post's first message pings the alerts' roles, and only them
                payload["content"] = alert_content(delivery, roles)
            message = await (
                self.create_message(channel_id, payload, files, roles=roles)
                if files or roles
                else self.create_message(channel_id, payload)
            )
            ids[index] = str(message["id"])

    async def _picture(
        self, delivery: Delivery, payload: dict[str, Any]
    ) -> tuple[tuple[str, bytes, str], ...]:
        """The day's timeline picture for a daily digest's first message: attached, and shown
        as the first embed's image (``attachment://``). Nothing when there is none."""
        if (
            self.pictures is None
            or delivery.document.kind != "digest"
            or delivery.story_date is None
            or not payload["embeds"]
        ):
            return ()
        png = await asyncio.to_thread(
            self.pictures, delivery.story_slug, delivery.story_date, delivery.lang
        )
        if png is None:
            return ()
        first = {**payload["embeds"][0], "image": {"url": f"attachment://{PICTURE_NAME}"}}
        payload["embeds"] = [first, *payload["embeds"][1:]]
        payload["attachments"] = [{"id": 0, "filename": PICTURE_NAME}]
        return ((PICTURE_NAME, png, "image/png"),)

    async def notify_admins(self, delivery: Delivery, reason: str) -> None:
        if delivery.user_id is not None:  # a member's DM: their own business, shown by /digest me
            self._failures.pop(delivery.id, None)
            _log.info("personal subscription %d paused (%s)", delivery.subscription_id, reason)
            return
        contact = self.contacts(delivery.subscription_id) if self.contacts else None
        lang = (contact.admin_lang if contact else None) or delivery.lang
        _ = _catalog(lang)
        failure = self._failures.pop(delivery.id, "")
        code = int(failure) if failure.isdigit() else 0
        channel = f"<#{delivery.channel_id}>"
        if failure == threads.THREAD_DENIED:
            why = _(
                "I am not allowed to start threads in %(channel)s (Missing Permissions): I need "
                "Create Public Threads and Send Messages in Threads there.",
                channel=channel,
            )
        elif failure == threads.FORUM_TAG:
            why = _(
                "The forum %(channel)s requires a tag on every post and none of its tags names "
                "the story or the language: add a tag such as “fr”, “English” or the story’s "
                "title, or make tags optional.",
                channel=channel,
            )
        elif code == MISSING_ACCESS:
            why = _(
                "I cannot see the channel %(channel)s any more (Missing Access).", channel=channel
            )
        elif code == MISSING_PERMISSIONS:
            why = _(
                "I am not allowed to post in %(channel)s (Missing Permissions): I need View Channel, "
                "Send Messages and Embed Links there.",
                channel=channel,
            )
        elif code == UNKNOWN_CHANNEL:
            why = _("The channel %(channel)s does not exist any more.", channel=channel)
        else:
            why = reason
        text = "\n".join(
            [
                why,
                _("The daily digest for this channel is paused."),
                _("Fix the problem, then run /digest-admin resume."),
            ]
        )
        embeds = [embed.to_dict() for embed in notice(_("Daily digest paused"), text, trusted=True)]
        candidates: list[str] = []
        where = contact.configured_from if contact else None
        if where and where.isdigit():
            candidates.append(where)
        system = await self._system_channel(delivery.workspace_id)
        if system:
            candidates.append(system)
        for channel_id in dict.fromkeys(c for c in candidates if c != delivery.channel_id):
            payload = {
                "embeds": embeds,
                "nonce": part_nonce(delivery.idempotency_key, 99),
                "enforce_nonce": True,
            }
            try:
                await self.create_message(channel_id, payload)
                _log.info(
                    "admins of subscription %d told in channel %s",
                    delivery.subscription_id,
                    channel_id,
                )
                return
            except (PermanentPublishError, TransientPublishError) as error:
                _log.info("could not tell admins in channel %s: %s", channel_id, error)
        _log.warning(
            "subscription %d paused (%s) and no channel to tell its admins",
            delivery.subscription_id,
            reason,
        )

    async def _system_channel(self, guild_id: str) -> str | None:
        if not guild_id:
            return None
        try:
            guild = await self._call("GET", f"/guilds/{guild_id}")
        except (DiscordAPIError, aiohttp.ClientError, TimeoutError):
            return None
        value = (guild or {}).get("system_channel_id")
        return str(value) if value else None

    async def channel_visible(self, channel_id: str) -> bool:
        """Can the bot see this channel (REST)? Used when the gateway cache cannot say."""
        try:
            await self._call("GET", f"/channels/{channel_id}")
            return True
        except DiscordAPIError:
            return False
        except (aiohttp.ClientError, TimeoutError):
            return True  # do not refuse a subscription because of a network blip


async def channel_guild(publisher: DiscordPublisher, channel_id: str) -> str | None:
    """The id of the server a channel belongs to, from Discord (REST, with the bot's token):
    ``""`` for a channel outside any server (a DM), None if the bot cannot see it. Network
    errors propagate: the caller must not guess."""
    try:
        payload = await publisher._call("GET", f"/channels/{channel_id}")
    except DiscordAPIError:
        return None
    return str(payload.get("guild_id") or "") if isinstance(payload, dict) else None


async def post_messages(
    publisher: DiscordPublisher, channel_id: str, messages: Messages, *, key: str
) -> list[str]:
    """Post rendered messages in order (ad-hoc posts outside the outbox), nonce ``key.i``."""
    ids = []
    for index, embeds in enumerate(messages):
        payload = {
            "embeds": [e.to_dict() for e in embeds],
            "nonce": part_nonce(key, index),
            "enforce_nonce": True,
        }
        ids.append(str((await publisher.create_message(channel_id, payload))["id"]))
        await asyncio.sleep(0)
    return ids


__all__ = [
    "Contact",
    "DiscordAPIError",
    "DiscordPublisher",
    "DiscordREST",
    "delivery_marker",
    "discord",
    "fingerprint",
    "part_nonce",
    "post_messages",
]
