"""How a platform plugs into `depeche run`.

A platform is a package (``bot.discord``, ``bot.slack``) exposing::

    async def start(context: PlatformContext) -> None

`depeche run` calls it when the platform's token is configured (``settings.discord.enabled``,
``settings.slack.enabled``). ``start`` must, before its first long ``await``:

- ``context.publishers.register(publisher)`` — its `bot.publishing.Publisher` (``platform`` =
  ``"discord"``/``"slack"``); the delivery worker only claims deliveries of registered platforms;
- ``context.admin.register_channel_validator(platform, validator)`` — optional;

then run its client (gateway, Socket Mode or HTTP server on ``context.options.port``) until
cancelled: `run` cancels every platform task at shutdown (Ctrl-C / SIGTERM). A failing
``start`` is logged (one line for expected failures, see `describe_failure`) and the other
platforms keep running; when no platform is left, `run` stops with exit code 1. Platform options from the command
line are in ``context.options`` (``slack_mode``: "socket"/"http", ``port``).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import importlib
import logging
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any, Protocol

from bot.admin import AdminService
from bot.delivery import DeliveryWorker
from bot.outbox.corrections import UpdatesOutbox
from bot.publishing import PublisherRegistry
from bot.schedule import Runner, utcnow
from bot.settings import Settings
from bot.store import Store
from bot.stories import LiveStories, StoryRevisions
from bot.stories.editing import StoryEditing
from digests.story import StoryLibrary

_log = logging.getLogger(__name__)

PLATFORM_MODULES: dict[str, str] = {"discord": "bot.discord", "slack": "bot.slack"}


@dataclass
class PlatformContext:
    settings: Settings
    store: Store
    library: StoryLibrary
    publishers: PublisherRegistry
    worker: DeliveryWorker
    admin: AdminService
    runner: Runner
    options: argparse.Namespace = field(default_factory=argparse.Namespace)
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    stories: LiveStories | None = None
    editing: StoryEditing | None = None


class PlatformModule(Protocol):
    start: Callable[[PlatformContext], Coroutine[Any, Any, None]]


def build_context(
    settings: Settings,
    *,
    store: Store | None = None,
    library: StoryLibrary | None = None,
    clock: Callable[[], dt.datetime] = utcnow,
    options: argparse.Namespace | None = None,
) -> PlatformContext:
    """Open the store (migrating it), load the stories, wire worker, admin service and runner.

    Without ``library``: story files are imported as revisions (a changed file becomes a new
    revision) and the library serves each story's latest revision in the database, refreshed
    before every tick. With ``library`` (tests): that library, refreshed from the database too."""
    store = store or Store.open(settings.effective_database_url)
    revisions = StoryRevisions(store, clock=clock)
    if library is None:
        stories = LiveStories.start(
            revisions, settings.stories_dir, max_bytes=settings.story_max_bytes
        )
        library = stories.library
    else:
        stories = LiveStories(revisions, library)
    publishers = PublisherRegistry()
    worker = DeliveryWorker(
        store,
        library,
        publishers,
        settings=settings.delivery,
        no_news_line=settings.schedule.no_news_line,
        clock=clock,
        public_url=settings.web.public_url,
        versions=stories,
    )
    admin = AdminService(store, library, publishers=publishers, worker=worker, clock=clock)
    runner = Runner(
        store,
        library,
        worker,
        grace=dt.timedelta(hours=settings.schedule.grace_hours),
        no_news_line=settings.schedule.no_news_line,
        clock=clock,
        stories=stories,
        updates=UpdatesOutbox(store, stories),
    )
    return PlatformContext(
        settings,
        store,
        library,
        publishers,
        worker,
        admin,
        runner,
        options or argparse.Namespace(),
        stories=stories,
        editing=StoryEditing(store, revisions, on_publish=stories.refresh, clock=clock),
    )


_AUTH_ERRORS = {"invalid_auth", "not_authed", "account_inactive", "token_revoked", "token_expired"}


def describe_failure(
    name: str, error: BaseException, settings: Settings | None = None
) -> str | None:
    """One line for an expected platform failure (bad token, network, configuration), or None
    for anything else (a bug: log it with its traceback). Never contains a token."""
    from digests.errors import DepecheError

    label = {"discord": "Discord", "slack": "Slack"}.get(name, name)
    url = ""
    if settings is not None:
        url = settings.discord.api_url if name == "discord" else settings.slack.api_url
    if isinstance(error, DepecheError):
        return f"{label}: {error}"
    import aiohttp
    import discord
    from slack_sdk.errors import SlackApiError

    if isinstance(error, discord.LoginFailure):
        return (
            f"{label}: DISCORD_TOKEN was refused (401 Unauthorized): check the bot token "
            "(Developer Portal > Bot > Reset Token)"
        )
    if isinstance(error, discord.PrivilegedIntentsRequired):
        return f"{label}: {error}"
    if isinstance(error, discord.GatewayNotFound):
        return f"{label}: cannot reach the Discord gateway"
    if isinstance(error, discord.HTTPException):
        return f"{label}: {url or 'the API'} answered {error.status} {error.text or ''}".rstrip()
    if isinstance(error, SlackApiError):
        code = str(error.response.get("error") or "error") if error.response else "error"
        api_url = str(getattr(error.response, "api_url", "") or "")
        if code in _AUTH_ERRORS:
            token = "SLACK_APP_TOKEN" if "apps.connections" in api_url else "SLACK_BOT_TOKEN"
            return f"{label}: {token} was refused ({code}): check the token"
        return f"{label}: the Slack API answered {code}"
    if isinstance(error, aiohttp.ClientConnectorError):
        reason = _os_reason(error.os_error) if error.os_error else str(error)
        return f"{label}: cannot reach {url or error.host} ({reason.lower()})"
    if isinstance(error, aiohttp.ClientError | asyncio.TimeoutError):
        return f"{label}: cannot reach {url or 'the API'} ({type(error).__name__}: {error})"[:300]
    if isinstance(error, OSError):
        return f"{label}: {_os_reason(error)}"
    return None


def _os_reason(error: OSError) -> str:
    if isinstance(error, ConnectionRefusedError):
        return "connection refused"
    if error.strerror:
        return error.strerror.lower()
    if error.errno:
        import os

        return os.strerror(error.errno).lower()
    return str(error)


def load_platform(name: str) -> PlatformModule:
    module = importlib.import_module(PLATFORM_MODULES[name])
    if not callable(getattr(module, "start", None)):
        raise AttributeError(f"{PLATFORM_MODULES[name]} has no start(context) function")
    return module
