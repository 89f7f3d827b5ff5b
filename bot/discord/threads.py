"""Discord threads and forums for digests: where a delivery's messages go.

- A **text channel** with ``thread = daily``: the post goes in the channel, then starts a thread
  (``POST /channels/{cid}/messages/{mid}/threads``, the thread's id is the message's) named
  after the story and the day; the "more" part goes in the thread.
- A **forum** (or media) channel takes posts as threads: ``POST /channels/{forum}/threads`` with
  the first message, titled the same way, with the forum's tags that name the story or the
  language (``applied_tags``); the rest of the post and its "more" part go in that thread.
  Nothing to configure: Discord refuses a plain message in a forum (50008), the publisher then
  reads the channel once and remembers it is a forum.

Exactly once: messages carry nonces and footer markers as in a channel. Starting a thread twice
from the same message answers 160004 (the thread exists, its id is the message's). A forum
post has no nonce: after a crash the publisher looks for its own thread of that title among the
guild's active threads, and recognises the first message by its marker.

Permissions: no right to start threads (403 50013 / 50001) pauses the subscription with a
reason that names the missing right; a forum that requires a tag none of whose tags fits is
paused too, with what to do.
"""

from __future__ import annotations

import unicodedata
from typing import TYPE_CHECKING, Any

import aiohttp

from bot.discord.embeds import footer_markers
from bot.discord.rest import NO_MENTIONS, DiscordAPIError
from bot.publishing import Delivery, PermanentPublishError, TransientPublishError
from digests.formatting import format_long

if TYPE_CHECKING:
    from bot.discord.publisher import DiscordPublisher

FORUM_TYPES = frozenset({15, 16})  # forum, media
TEXT_TYPES = frozenset({0, 5})  # text, announcement
NAME_MAX = 100  # a thread's name
ARCHIVE_MINUTES = 1440  # a day: the next digest starts the next thread
MAX_TAGS = 5
THREAD_EXISTS = 160004  # "A thread has already been created for this message"
TAG_REQUIRED = 40067  # "A tag is required to create a forum post in this channel"
NOT_TEXT = 50008  # "Cannot send messages in a non-text channel"

# Failure codes the publisher keeps to tell admins what is wrong (`notify_admins`).
THREAD_DENIED = "thread"
FORUM_TAG = "forum-tag"

_LANGUAGE_NAMES = {
    "fr": ("fr", "francais", "french", "vf"),
    "en": ("en", "english", "anglais", "vo"),
}


def thread_title(delivery: Delivery) -> str:
    """``Crise chez OpenAI — 17 novembre 2023``: the story and the day, in the subscription's
    language (Babel), at most 100 characters."""
    day = delivery.story_date or delivery.digest_date
    title = f"{delivery.document.title} — {format_long(day, delivery.lang)}"
    return title if len(title) <= NAME_MAX else title[: NAME_MAX - 1] + "…"


def _key(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    kept = "".join(c for c in decomposed if c.isalnum() or c.isspace() or c == "-")
    return " ".join(kept.replace("-", " ").split())


def pick_tags(forum: dict[str, Any], delivery: Delivery) -> list[str]:
    """Ids of the forum's tags that name the story (its title or slug) or the post's language
    (``fr``, ``Français``, ``French``...), at most five. Moderated tags are left alone: only
    members with Manage Threads may apply them."""
    wanted = {_key(delivery.document.title), _key(delivery.story_slug)}
    wanted |= set(_LANGUAGE_NAMES.get(delivery.lang, ()))
    tags = []
    for tag in forum.get("available_tags") or []:
        if not isinstance(tag, dict) or tag.get("moderated"):
            continue
        if _key(str(tag.get("name") or "")) in wanted and tag.get("id"):
            tags.append(str(tag["id"]))
    return tags[:MAX_TAGS]


def thread_error(error: DiscordAPIError, channel_id: str) -> PermanentPublishError | None:
    """The pause for a refused thread or forum post, or None when it is not about threads."""
    if error.status == 403:
        return PermanentPublishError(
            f"Discord 403 Missing Permissions ({error.code}): the bot cannot start threads in "
            f"channel {channel_id} (it needs Create Public Threads and Send Messages in Threads)",
            code=THREAD_DENIED,
        )
    if error.status == 400 and error.code == TAG_REQUIRED:
        return PermanentPublishError(
            f"Discord 400 ({error.code}): forum {channel_id} requires a tag on every post and "
            "none of its tags names the story or the language",
            code=FORUM_TAG,
        )
    return None


def forum_candidates(threads: Any, forum_id: str, owner: str | None, title: str) -> list[str]:
    """Ids of active threads of ``forum_id`` that we opened with this title (newest first)."""
    found = []
    for thread in (threads or {}).get("threads") or []:
        if not isinstance(thread, dict):
            continue
        if str(thread.get("parent_id")) != forum_id or thread.get("name") != title:
            continue
        if owner is not None and str(thread.get("owner_id")) != owner:
            continue
        found.append(str(thread["id"]))
    return sorted(found, key=int, reverse=True)


class ThreadPoster:
    """The publisher's thread and forum requests (through its limiter and REST client)."""

    def __init__(self, publisher: DiscordPublisher) -> None:
        self.publisher = publisher
        self._channels: dict[str, dict[str, Any]] = {}  # channel id -> GET /channels payload

    async def start_thread(self, delivery: Delivery, message_id: str) -> str:
        """The day's thread from the post's first message (its id is the message's)."""
        body = {
            "name": thread_title(delivery),
            "auto_archive_duration": ARCHIVE_MINUTES,
        }
        path = f"/channels/{delivery.channel_id}/messages/{message_id}/threads"
        try:
            answer = await self.publisher._call("POST", path, json=body)
        except DiscordAPIError as error:
            if error.status == 400 and error.code == THREAD_EXISTS:
                return message_id  # started before a crash: same id
            raise self._error(error, delivery.channel_id) from None
        except (aiohttp.ClientError, TimeoutError) as error:
            raise TransientPublishError(
                f"network error starting a thread: {type(error).__name__}"
            ) from None
        return str((answer or {}).get("id") or message_id)

    async def forum_post(
        self, delivery: Delivery, parts: list[list[dict[str, Any]]], ids: dict[int, str]
    ) -> str:
        """A forum post of its own for the digest: its first message opens the thread (same
        id); the thread is where the rest goes. Already there (``ids[0]``): that thread."""
        if 0 in ids:
            return ids[0]
        forum = await self.channel_info(delivery.channel_id) or {}
        from bot.discord.publisher import alert_content, alert_roles

        first: dict[str, Any] = {"embeds": parts[0], "allowed_mentions": NO_MENTIONS}
        roles = alert_roles(delivery)
        if roles:  # the forum post's first message pings the alerts' roles, and only them
            first["content"] = alert_content(delivery, roles)
            first["allowed_mentions"] = {**NO_MENTIONS, "roles": roles}
        body = {
            "name": thread_title(delivery),
            "auto_archive_duration": ARCHIVE_MINUTES,
            "applied_tags": pick_tags(forum, delivery),
            "message": first,
        }
        try:
            answer = await self.publisher._call(
                "POST",
                f"/channels/{delivery.channel_id}/threads",
                channel_id=delivery.channel_id,
                json=body,
            )
        except DiscordAPIError as error:
            raise self._error(error, delivery.channel_id) from None
        except (aiohttp.ClientError, TimeoutError) as error:
            raise TransientPublishError(
                f"network error opening a forum post: {type(error).__name__}"
            ) from None
        if not isinstance(answer, dict) or "id" not in answer:
            raise TransientPublishError("Discord answered without a thread")
        thread = str(answer["id"])
        message = answer.get("message")
        ids[0] = str(message["id"]) if isinstance(message, dict) and "id" in message else thread
        return thread

    def _error(self, error: DiscordAPIError, channel_id: str) -> Exception:
        return thread_error(error, channel_id) or self.publisher._publish_error(error, channel_id)

    async def channel_info(self, channel_id: str) -> dict[str, Any] | None:
        """The channel as Discord describes it (type, a forum's tags), read once per process."""
        known = self._channels.get(channel_id)
        if known is not None:
            return known
        try:
            payload = await self.publisher._call("GET", f"/channels/{channel_id}")
        except (DiscordAPIError, aiohttp.ClientError, TimeoutError):
            return None
        if not isinstance(payload, dict):
            return None
        if len(self._channels) >= 10_000:
            self._channels.clear()
        self._channels[channel_id] = payload
        return payload

    async def is_forum(self, channel_id: str, *, ask: bool = True) -> bool:
        """Is it a forum? ``ask=False``: only if already known (no request on the fast path)."""
        info = self._channels.get(channel_id) if not ask else await self.channel_info(channel_id)
        return info is not None and info.get("type") in FORUM_TYPES

    async def find_forum_thread(self, delivery: Delivery) -> str | None:
        """After a crash: the forum post we opened for this delivery, if any (its title among
        the guild's active threads, then its first message's marker)."""
        if not delivery.workspace_id:
            return None
        try:
            active = await self.publisher._call(
                "GET", f"/guilds/{delivery.workspace_id}/threads/active"
            )
        except (DiscordAPIError, aiohttp.ClientError, TimeoutError):
            return None
        me = await self.publisher.bot_user_id()
        title = thread_title(delivery)
        from bot.discord.publisher import delivery_marker  # the publisher imports this module

        marker = delivery_marker(delivery, 0)
        for thread in forum_candidates(active, delivery.channel_id, me, title):
            try:
                first = await self.publisher._call("GET", f"/channels/{thread}/messages/{thread}")
            except (DiscordAPIError, aiohttp.ClientError, TimeoutError):
                continue
            if isinstance(first, dict) and marker in footer_markers(first.get("embeds") or []):
                return thread
        return None
