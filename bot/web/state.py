"""What every web handler shares, stored once in the application (``app[STATE]``)."""

from __future__ import annotations

import datetime as dt
import secrets
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from bot.platforms import PlatformContext
from bot.web.picture import SHARED, PictureCache
from bot.web.ratelimit import RateLimiter
from digests.story import Story


class PageCache:
    """Rendered pages by key, for one story revision each (the `Story` object is kept with
    its page, so a reloaded story never hits an old page); least recently used dropped."""

    def __init__(self, size: int = 512) -> None:
        self.size = size
        self._items: OrderedDict[Hashable, tuple[Story, str]] = OrderedDict()

    def get(self, key: Hashable, story: Story) -> str | None:
        hit = self._items.get(key)
        if hit is None or hit[0] is not story:
            return None
        self._items.move_to_end(key)
        return hit[1]

    def put(self, key: Hashable, story: Story, page: str) -> None:
        self._items[key] = (story, page)
        while len(self._items) > self.size:
            self._items.popitem(last=False)


EARLIEST_ZONE_OFFSET = dt.timedelta(hours=14)  # Pacific/Kiritimati, the first to see a date

ReadinessCheck = Callable[[], bool]
"""``() -> bool``: is this part (a platform connection) ready? Must not block."""


@dataclass
class WebState:
    """The platform context plus what only the web side needs.

    ``console`` turns on the admin console without sign-in: only for the console run (no
    platform configured), where the server listens on the loopback interface only.
    """

    context: PlatformContext
    console: bool = False
    public_url: str = ""
    secret: bytes = field(default_factory=lambda: secrets.token_bytes(32))
    readiness: dict[str, ReadinessCheck] = field(default_factory=dict)
    pictures: PictureCache = field(default_factory=lambda: SHARED)
    pages: PageCache = field(default_factory=PageCache)
    signin: bool = False  # "Sign in with Discord" configured: the console is served to members
    slack_signin: bool = False  # "Sign in with Slack" configured
    slack_access: Any = None  # slack_signin.SlackAccess, made on first use
    accounts: dict[str, Any] = field(default_factory=dict)  # session id -> signin.Account
    logins: RateLimiter = field(default_factory=lambda: RateLimiter(limit=10, window=60.0))
    forms: RateLimiter = field(default_factory=lambda: RateLimiter(limit=30, window=60.0))

    def now(self) -> dt.datetime:
        return self.context.admin.clock()

    def published_until(self, story: Story) -> dt.date | None:
        """The story's last published day: its last day, or today if the story is still
        running; None before its first day. No page ever shows a later day.

        "Today" is the date in the earliest time zone (UTC+14): a live subscription there gets
        the day's digest first, and the page and picture it links to must already answer."""
        today = (self.now().astimezone(dt.UTC) + EARLIEST_ZONE_OFFSET).date()
        if today < story.first_day:
            return None
        return min(story.last_day, today)


STATE: web.AppKey[WebState] = web.AppKey("depeche_state", WebState)
