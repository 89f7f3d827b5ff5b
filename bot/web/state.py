"""What every web handler shares, stored once in the application (``app[STATE]``)."""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field

from aiohttp import web

from bot.platforms import PlatformContext
from bot.web.picture import PictureCache
from digests.story import Story

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
    pictures: PictureCache = field(default_factory=PictureCache)

    def now(self) -> dt.datetime:
        return self.context.admin.clock()

    def published_until(self, story: Story) -> dt.date | None:
        """The story's last published day: its last day, or today if the story is still
        running; None before its first day. No page ever shows a later day."""
        today = self.now().astimezone(dt.UTC).date()
        if today < story.first_day:
            return None
        return min(story.last_day, today)


STATE: web.AppKey[WebState] = web.AppKey("depeche_state", WebState)
