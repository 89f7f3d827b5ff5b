"""Who is asking: language, time zone and admin rights of Slack users, cached.

``users.info`` with ``include_locale`` gives the user's Slack locale (``fr-FR``, ``en-US``...),
their time zone and whether they are a workspace admin or owner. Answers are cached per
(team, user) for ``ttl`` seconds (ten minutes: a demoted admin or a changed language is seen
soon, and ``users.info``'s Tier 4 limit is never approached), and concurrent look-ups of one
user share a single call. Guests (``is_restricted``/``is_ultra_restricted``), deactivated
accounts and bots are never admins, whatever other flags say; a missing or unknown ``tz``
(bots have none) is None.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import aiohttp
from slack_sdk.errors import SlackApiError

from bot.slack.clients import SlackClients

_log = logging.getLogger(__name__)


def lang_of_locale(locale: str | None) -> str:
    """``fr`` for any French locale (``fr-FR``, ``fr_CA``, ``fr``), ``en`` otherwise.

    >>> lang_of_locale("fr-CA"), lang_of_locale("de-DE"), lang_of_locale(None)
    ('fr', 'en', 'en')
    """
    return "fr" if (locale or "").lower().replace("_", "-").split("-")[0] == "fr" else "en"


def valid_tz(name: object) -> str | None:
    """An IANA zone name Python knows, else None (bots have no ``tz``)."""
    if not isinstance(name, str) or not name:
        return None
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None
    return name


@dataclass(frozen=True)
class SlackUser:
    id: str
    team_id: str
    lang: str = "en"
    tz: str | None = None
    is_admin: bool = False
    known: bool = True  # False when users.info failed (defaults used)


class UserDirectory:
    def __init__(
        self,
        clients: SlackClients,
        *,
        admin_users: tuple[str, ...] = (),
        ttl: float = 600.0,
        max_entries: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.clients = clients
        self.admin_users = frozenset(admin_users)
        self.ttl = ttl
        self.max_entries = max_entries
        self.clock = clock
        self._cache: OrderedDict[tuple[str, str], tuple[float, SlackUser]] = OrderedDict()
        self._inflight: dict[tuple[str, str], asyncio.Future[SlackUser]] = {}
        self.lookups = 0

    async def get(self, team_id: str, user_id: str) -> SlackUser:
        key = (team_id, user_id)
        hit = self._cache.get(key)
        if hit is not None and hit[0] > self.clock():
            self._cache.move_to_end(key)
            return hit[1]
        pending = self._inflight.get(key)
        if pending is not None:
            return await asyncio.shield(pending)
        future: asyncio.Future[SlackUser] = asyncio.get_running_loop().create_future()
        self._inflight[key] = future
        try:
            user = await self._fetch(team_id, user_id)
            future.set_result(user)
            return user
        except BaseException as error:
            future.set_exception(error)
            future.exception()  # retrieved: no "never retrieved" warning
            raise
        finally:
            del self._inflight[key]

    async def _fetch(self, team_id: str, user_id: str) -> SlackUser:
        self.lookups += 1
        try:
            response = await self.clients.for_team(team_id).users_info(
                user=user_id, include_locale=True
            )
        except (SlackApiError, TimeoutError, OSError, aiohttp.ClientError) as error:
            _log.warning("users.info %s failed: %s", user_id, error)
            # Not cached: the next command asks again.
            return SlackUser(user_id, team_id, is_admin=user_id in self.admin_users, known=False)
        data = response.get("user") or {}
        workspace_admin = bool(
            data.get("is_admin") or data.get("is_owner") or data.get("is_primary_owner")
        ) and not (
            data.get("is_restricted")
            or data.get("is_ultra_restricted")
            or data.get("deleted")
            or data.get("is_bot")
        )
        user = SlackUser(
            id=user_id,
            team_id=team_id,
            lang=lang_of_locale(data.get("locale")),
            tz=valid_tz(data.get("tz")),
            is_admin=workspace_admin or user_id in self.admin_users,
        )
        self._cache[(team_id, user_id)] = (self.clock() + self.ttl, user)
        while len(self._cache) > self.max_entries:
            self._cache.popitem(last=False)
        return user
