"""A fake Discord (REST API + gateway websocket) for tests.

The REAL discord.py client runs against it: point ``discord.http.Route.BASE`` at
:attr:`FakeDiscord.api_url` and ``DiscordWebSocket.DEFAULT_GATEWAY`` at
:attr:`FakeDiscord.ws_url` (see :func:`discord_pointed_at`), then log in with
:attr:`FakeDiscord.token`.

What it implements (enough for a bot that posts messages and answers slash commands):

* REST under ``/api/v10``: users/@me, oauth2/applications/@me, gateway(/bot), application
  command sync (global and guild), channels, channel messages (with ``enforce_nonce``),
  guilds, guild channels/members, interaction callbacks and interaction webhooks
  (follow-ups, ``@original``).
* Gateway: HELLO, IDENTIFY, READY, GUILD_CREATE, heartbeats, RESUME (with replay of missed
  events), REQUEST_GUILD_MEMBERS, and the transport compression discord.py asks for
  (``zlib-stream``; ``zstd-stream`` when the ``zstandard`` module is importable here).
* Rate limits, on by default: a global limit per bot token (sliding window, interaction
  endpoints exempt) and fixed-window route buckets (per channel message creation 5 per 5 s),
  with Discord's 429 body and ``X-RateLimit-*`` / ``Retry-After`` / ``Via`` headers.
* A test API: :meth:`FakeDiscord.dispatch_command`, :meth:`FakeDiscord.dispatch_autocomplete`,
  :class:`FakeInteraction` waiters, :meth:`FakeDiscord.messages`, :meth:`FakeDiscord.fail_next`,
  :meth:`FakeDiscord.drop_websocket`, :attr:`FakeDiscord.requests`.

Every JSON answer carries ``Content-Type: application/json`` exactly: discord.py only parses a
body as JSON when the header is that exact string (``json_or_text``), so aiohttp's
``json_response`` (which appends ``; charset=utf-8``) would hand discord.py a ``str``.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import fnmatch
import hashlib
import itertools
import json
import math
import re
import secrets
import time
import warnings
import zlib
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from aiohttp import WSMsgType, web

# discord.py imports the stdlib ``audioop`` module, deprecated since Python 3.11: with
# ``filterwarnings = error`` the first ``import discord`` would fail. Import it once here with
# that one warning silenced, so tests that use the fake can import discord freely.
with warnings.catch_warnings():
    warnings.filterwarnings("ignore", "'audioop' is deprecated", DeprecationWarning)
    import discord  # noqa: F401

try:  # zstd-stream is only requested by discord.py when it can decompress it
    import zstandard as _zstandard  # type: ignore[import-not-found]
except ImportError:  # pragma: no cover - depends on the environment
    _zstandard = None

__all__ = [
    "ALL_PERMISSIONS",
    "DEFAULT_BOT_PERMISSIONS",
    "FakeDiscord",
    "FakeInteraction",
    "FaultRule",
    "InteractionCallback",
    "ManualClock",
    "OptionValue",
    "RateLimitHit",
    "RecordedRequest",
    "add_default_guild",
    "discord_pointed_at",
    "running_client",
]

DISCORD_EPOCH_MS = 1420070400000
API_PREFIX = "/api/v10"
ALL_PERMISSIONS = (1 << 53) - 1
ADMINISTRATOR = 1 << 3
#: view channel, send messages, embed links, attach files, read history, use app commands
DEFAULT_BOT_PERMISSIONS = (1 << 10) | (1 << 11) | (1 << 14) | (1 << 15) | (1 << 16) | (1 << 31)
#: view channel, send messages, read history, use application commands
DEFAULT_EVERYONE_PERMISSIONS = (1 << 10) | (1 << 11) | (1 << 16) | (1 << 31)
ATTACHMENT_SIZE_LIMIT = 10 * 1024 * 1024

# gateway opcodes
OP_DISPATCH, OP_HEARTBEAT, OP_IDENTIFY, OP_PRESENCE, OP_RESUME = 0, 1, 2, 3, 6
OP_RECONNECT, OP_REQUEST_MEMBERS, OP_INVALID_SESSION, OP_HELLO, OP_HEARTBEAT_ACK = 7, 8, 9, 10, 11

# application command option types
OPT_SUB_COMMAND, OPT_SUB_COMMAND_GROUP, OPT_STRING, OPT_INTEGER, OPT_BOOLEAN = 1, 2, 3, 4, 5
OPT_USER, OPT_CHANNEL, OPT_ROLE, OPT_MENTIONABLE, OPT_NUMBER = 6, 7, 8, 9, 10

MESSAGE_FLAG_EPHEMERAL = 1 << 6
HAS_THREAD = 1 << 5  # message flag: a thread was started from this message
# Channel types: threads, forum and media channels (whose posts are threads).
PUBLIC_THREAD, PRIVATE_THREAD, FORUM, MEDIA = 11, 12, 15, 16
REQUIRE_TAG = 1 << 4  # forum flag: a post must carry a tag
MESSAGE_FLAG_LOADING = 1 << 7


# --------------------------------------------------------------------------------------------
# small value types
# --------------------------------------------------------------------------------------------


class ManualClock:
    """A clock for deterministic tests: ``clock()`` returns the current value; ``advance()``."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class OptionValue(NamedTuple):
    """An option value with an explicit Discord option type (when no synced schema says it)."""

    type: int
    value: Any


@dataclass
class RecordedRequest:
    """One REST request the fake received (``path`` is relative to ``/api/v10``)."""

    method: str
    path: str
    query: dict[str, str]
    json: Any
    headers: dict[str, str]
    at: float
    status: int = 0
    files: list[dict[str, Any]] = field(default_factory=list)

    @property
    def route(self) -> str:
        return f"{self.method} {self.path}"


@dataclass
class RateLimitHit:
    """A 429 the fake answered (from its limiter or from :meth:`FakeDiscord.fail_next`)."""

    method: str
    path: str
    scope: str
    retry_after: float
    is_global: bool
    injected: bool


@dataclass
class FaultRule:
    """A pending injected failure, see :meth:`FakeDiscord.fail_next`."""

    method: str | None
    pattern: str
    status: int | None
    body: Any
    headers: dict[str, str]
    remaining: int
    delay: float
    hits: int = 0

    def matches(self, method: str, path: str) -> bool:
        if self.remaining <= 0:
            return False
        if self.method is not None and self.method != method:
            return False
        return fnmatch.fnmatchcase(path, self.pattern)


@dataclass
class InteractionCallback:
    """One ``POST /interactions/{id}/{token}/callback`` (type 4 message, 5 deferral, 8 choices...)."""

    type: int
    data: dict[str, Any] | None
    query: dict[str, str]
    at: float

    @property
    def flags(self) -> int:
        return int((self.data or {}).get("flags") or 0)

    @property
    def ephemeral(self) -> bool:
        return bool(self.flags & MESSAGE_FLAG_EPHEMERAL)

    @property
    def choices(self) -> list[dict[str, Any]]:
        return list((self.data or {}).get("choices") or [])


class FakeInteraction:
    """An INTERACTION_CREATE the fake dispatched, with everything the bot answered to it."""

    def __init__(self, fake: FakeDiscord, payload: dict[str, Any], created_at: float) -> None:
        self._fake = fake
        self.payload = payload
        self.id = int(payload["id"])
        self.token: str = payload["token"]
        self.type: int = payload["type"]
        self.created_at = created_at
        self.callbacks: list[InteractionCallback] = []
        self.followups: list[dict[str, Any]] = []
        self.edits: list[dict[str, Any]] = []
        self.original: dict[str, Any] | None = None

    def __repr__(self) -> str:
        return f"<FakeInteraction id={self.id} type={self.type} callbacks={len(self.callbacks)}>"

    @property
    def acknowledged(self) -> bool:
        return bool(self.callbacks)

    async def wait_callback(self, timeout: float = 5.0) -> InteractionCallback:
        """The first callback (the initial response), waiting for it if needed."""
        return await self._fake.wait_until(
            lambda: self.callbacks[0] if self.callbacks else None,
            timeout=timeout,
            what=f"a callback for interaction {self.id}",
        )

    async def wait_followup(self, n: int = 1, timeout: float = 5.0) -> dict[str, Any]:
        """The ``n``-th follow-up message (1-based), waiting for it if needed."""
        return await self._fake.wait_until(
            lambda: self.followups[n - 1] if len(self.followups) >= n else None,
            timeout=timeout,
            what=f"follow-up #{n} for interaction {self.id}",
        )

    async def wait_edit(self, n: int = 1, timeout: float = 5.0) -> dict[str, Any]:
        """The body of the ``n``-th edit of ``@original`` (1-based), waiting for it if needed."""
        return await self._fake.wait_until(
            lambda: self.edits[n - 1] if len(self.edits) >= n else None,
            timeout=timeout,
            what=f"edit #{n} of the original response of interaction {self.id}",
        )


@dataclass
class _Bucket:
    limit: int
    window: float
    count: int = 0
    reset_at: float = 0.0


@dataclass
class _RouteDecision:
    allowed: bool
    headers: dict[str, str]
    retry_after: float = 0.0


class _RateLimiter:
    """Global sliding-window limit per bot token plus fixed-window route buckets."""

    def __init__(
        self,
        *,
        clock: Callable[[], float],
        wall_clock: Callable[[], float],
        global_limit: tuple[int, float] | None,
        route_limits: Mapping[str, tuple[int, float]],
        default_route_limit: tuple[int, float] | None,
    ) -> None:
        self.clock = clock
        self.wall_clock = wall_clock
        self.global_limit = global_limit
        self.route_limits = dict(route_limits)
        self.default_route_limit = default_route_limit
        self._global: dict[str, deque[float]] = {}
        self._buckets: dict[tuple[str, str], _Bucket] = {}

    def check_global(self, token: str) -> float | None:
        """``None`` when allowed (and counted), else the seconds to wait."""
        if self.global_limit is None:
            return None
        limit, window = self.global_limit
        now = self.clock()
        log = self._global.setdefault(token, deque())
        while log and log[0] <= now - window:
            log.popleft()
        if len(log) >= limit:
            return max(log[0] + window - now, 0.001)
        log.append(now)
        return None

    def limit_for(self, template: str) -> tuple[int, float] | None:
        return self.route_limits.get(template, self.default_route_limit)

    def take(self, template: str, major: str) -> _RouteDecision | None:
        spec = self.limit_for(template)
        if spec is None:
            return None
        limit, window = spec
        now = self.clock()
        bucket = self._buckets.get((template, major))
        if bucket is None or now >= bucket.reset_at:
            bucket = _Bucket(limit=limit, window=window, count=0, reset_at=now + window)
            self._buckets[(template, major)] = bucket
        reset_after = max(bucket.reset_at - now, 0.001)
        allowed = bucket.count < limit
        if allowed:
            bucket.count += 1
        headers = {
            "X-RateLimit-Limit": str(limit),
            "X-RateLimit-Remaining": str(max(limit - bucket.count, 0)),
            "X-RateLimit-Reset": f"{self.wall_clock() + reset_after:.3f}",
            "X-RateLimit-Reset-After": f"{reset_after:.3f}",
            "X-RateLimit-Bucket": hashlib.sha1(template.encode()).hexdigest()[:16],
        }
        return _RouteDecision(allowed=allowed, headers=headers, retry_after=reset_after)


@dataclass
class _Session:
    id: str
    shard: tuple[int, int]
    intents: int | None
    seq: int = 0
    conn: _Connection | None = None
    sent: list[dict[str, Any]] = field(default_factory=list)


class _Connection:
    """One gateway websocket, with the transport compression the client asked for."""

    def __init__(self, ws: web.WebSocketResponse, request: web.Request) -> None:
        self.ws = ws
        self.transport = request.transport
        self.query = dict(request.query)
        self.compress = self.query.get("compress")
        self.session: _Session | None = None
        self._lock = asyncio.Lock()
        self._zlib: Any = None
        self._zstd: Any = None
        if self.compress == "zlib-stream":
            self._zlib = zlib.compressobj()
        elif self.compress == "zstd-stream":
            if _zstandard is None:
                raise ValueError("zstd-stream asked but the zstandard module is not importable")
            self._zstd = _zstandard.ZstdCompressor().compressobj()

    async def send(self, payload: dict[str, Any]) -> None:
        raw = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
        async with self._lock:
            if self.ws.closed or self.transport is None or self.transport.is_closing():
                return  # dispatches stay in the session buffer and are replayed on RESUME
            try:
                if self._zlib is not None:
                    frame = self._zlib.compress(raw) + self._zlib.flush(zlib.Z_SYNC_FLUSH)
                    await self.ws.send_bytes(frame)
                elif self._zstd is not None:  # pragma: no cover - needs zstandard
                    flush_block = _zstandard.COMPRESSOBJ_FLUSH_BLOCK
                    await self.ws.send_bytes(
                        self._zstd.compress(raw) + self._zstd.flush(flush_block)
                    )
                else:
                    await self.ws.send_str(raw.decode())
            except ConnectionResetError:
                pass  # the peer went away meanwhile: same as above


class _HTTPError(Exception):
    def __init__(self, status: int, code: int, message: str, extra: dict[str, Any] | None = None):
        super().__init__(message)
        self.status = status
        self.body: dict[str, Any] = {"message": message, "code": code, **(extra or {})}


def _unknown(what: str, code: int) -> _HTTPError:
    return _HTTPError(404, code, f"Unknown {what}")


def _pinged(body: Mapping[str, Any]) -> tuple[list[str], bool]:
    """Which roles a message really pings, and whether it pings @everyone/@here, as Discord
    decides from its content and ``allowed_mentions`` (absent: everything in the content)."""
    content = str(body.get("content") or "")
    written = list(dict.fromkeys(re.findall(r"<@&(\d+)>", content)))
    allowed = body.get("allowed_mentions")
    if not isinstance(allowed, dict):
        return written, "@everyone" in content or "@here" in content
    parse = list(allowed.get("parse") or [])
    if "roles" in parse and "roles" in allowed:
        raise _invalid_form(
            "allowed_mentions", "MESSAGE_ALLOWED_MENTIONS_PARSE_EXCLUSIVE",
            'parse:["roles"] and roles: [ids] are mutually exclusive.',
        )  # fmt: skip
    if "roles" in parse:
        roles = written
    else:
        listed = {str(role) for role in allowed.get("roles") or []}
        roles = [role for role in written if role in listed]
    everyone = "everyone" in parse and ("@everyone" in content or "@here" in content)
    return roles, everyone


def _invalid_form(field_name: str, code: str, message: str) -> _HTTPError:
    errors = {field_name: {"_errors": [{"code": code, "message": message}]}}
    return _HTTPError(400, 50035, "Invalid Form Body", {"errors": errors})


_ROUTES: list[tuple[str, str]] = [
    ("GET", "/users/@me"),
    ("GET", "/users/{user_id}"),
    ("POST", "/users/@me/channels"),
    ("GET", "/oauth2/applications/@me"),
    ("GET", "/gateway"),
    ("GET", "/gateway/bot"),
    ("GET", "/applications/{application_id}/commands"),
    ("PUT", "/applications/{application_id}/commands"),
    ("POST", "/applications/{application_id}/commands"),
    ("GET", "/applications/{application_id}/guilds/{guild_id}/commands"),
    ("PUT", "/applications/{application_id}/guilds/{guild_id}/commands"),
    ("POST", "/applications/{application_id}/guilds/{guild_id}/commands"),
    ("GET", "/channels/{channel_id}"),
    ("GET", "/channels/{channel_id}/messages"),
    ("POST", "/channels/{channel_id}/messages"),
    ("POST", "/channels/{channel_id}/threads"),
    ("POST", "/channels/{channel_id}/messages/{message_id}/threads"),
    ("GET", "/guilds/{guild_id}/threads/active"),
    ("GET", "/channels/{channel_id}/messages/{message_id}"),
    ("PATCH", "/channels/{channel_id}/messages/{message_id}"),
    ("DELETE", "/channels/{channel_id}/messages/{message_id}"),
    ("GET", "/guilds/{guild_id}"),
    ("GET", "/guilds/{guild_id}/channels"),
    ("GET", "/guilds/{guild_id}/members/{user_id}"),
    ("POST", "/interactions/{interaction_id}/{interaction_token}/callback"),
    ("POST", "/webhooks/{webhook_id}/{webhook_token}"),
    ("GET", "/webhooks/{webhook_id}/{webhook_token}/messages/{message_id}"),
    ("PATCH", "/webhooks/{webhook_id}/{webhook_token}/messages/{message_id}"),
    ("DELETE", "/webhooks/{webhook_id}/{webhook_token}/messages/{message_id}"),
]

_MAJOR_PARAMETERS = ("channel_id", "guild_id", "webhook_id", "webhook_token")


def _compile(template: str) -> re.Pattern[str]:
    pattern = re.escape(template)
    pattern = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", pattern)
    return re.compile(f"^{pattern}$")


_COMPILED_ROUTES = [(m, t, _compile(t)) for m, t in _ROUTES]


def _match_route(method: str, path: str) -> tuple[str, dict[str, str]] | None:
    for m, template, regex in _COMPILED_ROUTES:
        if m != method:
            continue
        found = regex.match(path)
        if found:
            return f"{m} {template}", found.groupdict()
    return None


# --------------------------------------------------------------------------------------------
# the fake
# --------------------------------------------------------------------------------------------


class FakeDiscord:
    """A fake Discord REST API and gateway on ``127.0.0.1`` (ephemeral port).

    Use as ``async with FakeDiscord(...) as fake:`` or ``await fake.start()`` / ``await fake.close()``.
    All keyword-only; times are seconds except ``heartbeat_interval_ms``.
    """

    def __init__(
        self,
        *,
        token: str = "fake-bot-token",
        application_id: int = 1_300_000_000_000_000_001,
        bot_user_id: int | None = None,
        bot_name: str = "Dépêche",
        application_flags: int = 0,
        shard_count: int = 1,
        heartbeat_interval_ms: int = 41_250,
        rate_limits: bool = True,
        global_limit: tuple[int, float] = (50, 1.0),
        channel_message_limit: tuple[int, float] = (5, 5.0),
        route_limits: Mapping[str, tuple[int, float]] | None = None,
        default_route_limit: tuple[int, float] | None = (50, 1.0),
        nonce_ttl: float = 300.0,
        history_nonces: bool = False,
        interaction_response_deadline: float | None = 3.0,
        interaction_token_ttl: float = 15 * 60.0,
        latency: float = 0.0,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.token = token
        # A simulated network: every REST answer takes ``latency`` seconds (a round trip), half
        # before the request is counted and handled, half after.
        self.latency = latency
        self.application_id = application_id
        self.bot_user: dict[str, Any] = self._user_payload(
            bot_user_id or application_id, bot_name, bot=True
        )
        self.application_flags = application_flags
        self.shard_count = shard_count
        self.heartbeat_interval_ms = heartbeat_interval_ms
        self.nonce_ttl = nonce_ttl
        # Real Discord echoes a nonce in the POST answer and the MESSAGE_CREATE event only,
        # never when the history is read (GET .../messages): True echoes it there too.
        self.history_nonces = history_nonces
        self.interaction_response_deadline = interaction_response_deadline
        self.interaction_token_ttl = interaction_token_ttl
        self.clock = clock
        self.wall_clock = wall_clock
        limits = {"POST /channels/{channel_id}/messages": channel_message_limit}
        limits.update(route_limits or {})
        self.rate_limits_enabled = rate_limits
        self.limiter = _RateLimiter(
            clock=clock,
            wall_clock=wall_clock,
            global_limit=global_limit,
            route_limits=limits,
            default_route_limit=default_route_limit,
        )

        # state a test can read
        self.guilds: dict[int, dict[str, Any]] = {}
        self.channels: dict[int, dict[str, Any]] = {}
        self.users: dict[int, dict[str, Any]] = {int(self.bot_user["id"]): self.bot_user}
        self.commands: dict[int | None, list[dict[str, Any]]] = {}
        self.requests: list[RecordedRequest] = []
        self.rate_limit_hits: list[RateLimitHit] = []
        self.interactions: dict[int, FakeInteraction] = {}
        self.identifies: list[dict[str, Any]] = []
        self.resumes: list[dict[str, Any]] = []
        self.gateway_received: list[dict[str, Any]] = []
        self.connections: list[dict[str, str]] = []  # query of every gateway connection
        self.heartbeats = 0
        self.sessions: dict[str, _Session] = {}

        self._messages: dict[int, list[dict[str, Any]]] = {}
        self._message_index: dict[int, dict[str, Any]] = {}
        self._nonces: dict[tuple[int, str], tuple[float, dict[str, Any]]] = {}
        self._denied: dict[int, int] = {}
        self._no_threads: set[int] = set()
        self.dm_channels: dict[int, int] = {}  # user id -> their DM channel with the bot
        self._dms_closed: set[int] = set()  # users who do not accept DMs from the bot
        self._faults: list[FaultRule] = []
        self._live: set[_Connection] = set()
        self._last_snowflake = 0
        self._counter = itertools.count(1)
        self._changed = asyncio.Event()
        self._closing = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self.port = 0

        # OAuth2 ("Sign in with Discord"): the registered client, the users who may sign in
        # (their guilds with permissions), and who the authorize page signs in next.
        self.oauth_client: tuple[str, str] = ("web-client-id", "web-client-secret")
        self.oauth_users: dict[int, dict[str, Any]] = {}
        self.oauth_login_as: int | None = None
        self.oauth_codes: dict[str, tuple[int, str]] = {}
        self.oauth_tokens: dict[str, int] = {}

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> FakeDiscord:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_get("/gateway", self._gateway_handler)
        app.router.add_get("/oauth2/authorize", self._oauth_authorize)
        app.router.add_route("*", "/{tail:.*}", self._rest_handler)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert server is not None and server.sockets  # type: ignore[attr-defined]
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]
        return self

    async def close(self) -> None:
        self._closing.set()
        for conn in list(self._live):
            with contextlib.suppress(Exception):
                await conn.ws.close(code=1001, message=b"fake shutting down")
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeDiscord:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_url(self) -> str:
        """The value for ``discord.http.Route.BASE``."""
        return self.base_url + API_PREFIX

    @property
    def ws_url(self) -> str:
        """The value for ``DiscordWebSocket.DEFAULT_GATEWAY`` (and ``GET /gateway/bot``)."""
        return f"ws://127.0.0.1:{self.port}/gateway"

    # -- waiting -----------------------------------------------------------------------------

    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    async def wait_until(
        self, predicate: Callable[[], Any], *, timeout: float = 5.0, what: str = "a condition"
    ) -> Any:
        """Return ``predicate()`` once truthy; re-evaluated whenever the fake's state changes."""
        try:
            async with asyncio.timeout(timeout):
                while True:
                    result = predicate()
                    if result:
                        return result
                    await self._changed.wait()
        except TimeoutError:
            raise TimeoutError(
                f"fake Discord: timed out after {timeout}s waiting for {what}"
            ) from None

    async def wait_for_request(
        self, pattern: str, *, count: int = 1, timeout: float = 5.0
    ) -> list[RecordedRequest]:
        """Wait until ``count`` requests match ``pattern`` (see :meth:`requests_for`) and answered."""

        def done() -> list[RecordedRequest] | None:
            found = [r for r in self.requests_for(pattern) if r.status]
            return found if len(found) >= count else None

        return await self.wait_until(done, timeout=timeout, what=f"{count} request(s) {pattern!r}")

    async def wait_for_messages(
        self, channel_id: int, count: int = 1, *, timeout: float = 5.0
    ) -> list[dict[str, Any]]:
        def done() -> list[dict[str, Any]] | None:
            found = self.messages(channel_id)
            return found if len(found) >= count else None

        return await self.wait_until(
            done, timeout=timeout, what=f"{count} message(s) in channel {channel_id}"
        )

    async def wait_for_session(self, shard_id: int = 0, *, timeout: float = 5.0) -> str:
        """Wait until a shard has an open gateway session; returns the session id."""

        def live() -> str | None:
            for s in self.sessions.values():
                if s.shard[0] == shard_id and s.conn is not None and not s.conn.ws.closed:
                    return s.id
            return None

        return await self.wait_until(
            live, timeout=timeout, what=f"a gateway session for shard {shard_id}"
        )

    # -- configuration -------------------------------------------------------------------------

    def snowflake(self) -> int:
        ms = int(self.wall_clock() * 1000) - DISCORD_EPOCH_MS
        value = max(ms << 22 | (next(self._counter) & 0xFFF), self._last_snowflake + 1)
        self._last_snowflake = value
        return value

    @staticmethod
    def _user_payload(user_id: int, name: str, *, bot: bool = False) -> dict[str, Any]:
        return {
            "id": str(user_id),
            "username": name,
            "discriminator": "0",
            "global_name": None if bot else name,
            "avatar": None,
            "bot": bot,
            "system": False,
            "public_flags": 0,
            "flags": 0,
        }

    def add_guild(
        self,
        guild_id: int | None = None,
        name: str = "Serveur de test",
        *,
        channels: Sequence[Mapping[str, Any]] = ({"name": "général"},),
        roles: Sequence[Mapping[str, Any]] = (),
        members: Sequence[Mapping[str, Any]] = (),
        system_channel_id: int | None = None,
        owner_id: int | None = None,
        preferred_locale: str = "fr",
        everyone_permissions: int = DEFAULT_EVERYONE_PERMISSIONS,
        bot_permissions: int = DEFAULT_BOT_PERMISSIONS,
    ) -> dict[str, Any]:
        """Add a guild the bot is in; returns its GUILD_CREATE-style payload (kept live).

        ``channels``: dicts with at least ``name`` (``id`` and ``type`` 0 default). ``roles``:
        dicts with ``name`` and optional ``id``/``permissions`` (int). ``members``: dicts with
        ``id``, ``username`` and optional ``roles`` (ids), ``permissions``. The @everyone role
        and a managed bot role with ``bot_permissions`` are added automatically. Must be called
        before the client connects for GUILD_CREATE to carry it.
        """
        gid = guild_id or self.snowflake()
        role_payloads = [
            self._role_payload(
                gid, {"id": gid, "name": "@everyone", "permissions": everyone_permissions}, 0
            )
        ]
        for i, role in enumerate(roles, start=1):
            role_payloads.append(self._role_payload(gid, role, i))
        bot_role_id = self.snowflake()
        role_payloads.append(
            self._role_payload(
                gid,
                {
                    "id": bot_role_id,
                    "name": self.bot_user["username"],
                    "permissions": bot_permissions,
                    "managed": True,
                    "tags": {"bot_id": self.bot_user["id"]},
                },
                len(role_payloads),
            )
        )
        channel_payloads = [self._channel_payload(gid, c, i) for i, c in enumerate(channels)]
        for c in channel_payloads:
            self.channels[int(c["id"])] = c
            self._messages.setdefault(int(c["id"]), [])
        now_iso = _iso(self.wall_clock())
        member_payloads = [
            {
                "user": self.bot_user,
                "roles": [str(bot_role_id)],
                "joined_at": now_iso,
                "deaf": False,
                "mute": False,
                "flags": 0,
                "pending": False,
                "nick": None,
                "avatar": None,
                "premium_since": None,
                "communication_disabled_until": None,
            }
        ]
        for m in members:
            uid = int(m["id"])
            user = self._user_payload(uid, m.get("username", f"user{uid}"), bot=bool(m.get("bot")))
            self.users[uid] = user
            payload = {
                **member_payloads[0],
                "user": user,
                "roles": [str(r) for r in m.get("roles", [])],
            }
            if "permissions" in m:
                payload["_permissions"] = int(m["permissions"])
            member_payloads.append(payload)
        first_human = next((int(m["id"]) for m in members if not m.get("bot")), None)
        guild = {
            "id": str(gid),
            "name": name,
            "icon": None,
            "splash": None,
            "discovery_splash": None,
            "banner": None,
            "description": None,
            "owner_id": str(owner_id or first_human or 1),
            "afk_channel_id": None,
            "afk_timeout": 300,
            "verification_level": 0,
            "default_message_notifications": 1,
            "explicit_content_filter": 0,
            "mfa_level": 0,
            "nsfw_level": 0,
            "premium_tier": 0,
            "premium_subscription_count": 0,
            "premium_progress_bar_enabled": False,
            "system_channel_id": str(system_channel_id or channel_payloads[0]["id"])
            if channel_payloads
            else None,
            "system_channel_flags": 0,
            "rules_channel_id": None,
            "public_updates_channel_id": None,
            "safety_alerts_channel_id": None,
            "vanity_url_code": None,
            "preferred_locale": preferred_locale,
            "features": [],
            "roles": role_payloads,
            "emojis": [],
            "stickers": [],
            "application_id": None,
            "max_members": 500000,
            "max_video_channel_users": 25,
            # GUILD_CREATE-only fields
            "joined_at": now_iso,
            "large": False,
            "unavailable": False,
            "member_count": len(member_payloads),
            "voice_states": [],
            "members": member_payloads,
            "channels": channel_payloads,
            "threads": [],
            "presences": [],
            "stage_instances": [],
            "guild_scheduled_events": [],
            "soundboard_sounds": [],
            "lazy": True,
        }
        self.guilds[gid] = guild
        return guild

    def _role_payload(self, gid: int, spec: Mapping[str, Any], position: int) -> dict[str, Any]:
        role = {
            "id": str(spec.get("id") or self.snowflake()),
            "name": spec["name"],
            "permissions": str(int(spec.get("permissions", 0))),
            "position": spec.get("position", position),
            "color": 0,
            "colors": {"primary_color": 0, "secondary_color": None, "tertiary_color": None},
            "hoist": False,
            "icon": None,
            "unicode_emoji": None,
            "managed": bool(spec.get("managed", False)),
            "mentionable": False,
            "flags": 0,
        }
        if "tags" in spec:
            role["tags"] = dict(spec["tags"])
        return role

    def _channel_payload(self, gid: int, spec: Mapping[str, Any], position: int) -> dict[str, Any]:
        ctype = int(spec.get("type", 0))
        channel: dict[str, Any] = {
            "id": str(spec.get("id") or self.snowflake()),
            "type": ctype,
            "guild_id": str(gid),
            "name": spec["name"],
            "position": spec.get("position", position),
            "permission_overwrites": list(spec.get("permission_overwrites", [])),
            "parent_id": str(spec["parent_id"]) if spec.get("parent_id") else None,
            "nsfw": False,
            "flags": 0,
        }
        if ctype in (0, 5):  # text, announcement
            channel.update(topic=spec.get("topic"), rate_limit_per_user=0, last_message_id=None)
        elif ctype in (2, 13):  # voice, stage
            channel.update(bitrate=64000, user_limit=0, rtc_region=None, rate_limit_per_user=0)
        elif ctype in (FORUM, MEDIA):  # posts are threads; tags; flag 16: a tag is required
            channel.update(
                topic=spec.get("topic"),
                rate_limit_per_user=0,
                last_message_id=None,
                default_auto_archive_duration=1440,
                default_reaction_emoji=None,
                default_sort_order=None,
                default_forum_layout=0,
                available_tags=[
                    {
                        "id": str(tag.get("id") or self.snowflake()),
                        "name": tag["name"],
                        "moderated": bool(tag.get("moderated", False)),
                        "emoji_id": None,
                        "emoji_name": None,
                    }
                    for tag in spec.get("tags", [])
                ],
                flags=REQUIRE_TAG if spec.get("require_tag") else 0,
            )
        return channel

    def deny_threads(self, channel_id: int) -> None:
        """The bot may post in the channel but not start threads there (no Create Public
        Threads): thread creation answers 403 50013 Missing Permissions."""
        self._no_threads.add(int(channel_id))

    def threads(self, parent_id: int) -> list[dict[str, Any]]:
        """Threads (forum posts included) created under a channel, oldest first."""
        return [
            c
            for c in self.channels.values()
            if c.get("type") in (PUBLIC_THREAD, PRIVATE_THREAD)
            and c.get("parent_id") == str(parent_id)
        ]

    def deny_channel(self, channel_id: int, code: int = 50001) -> None:
        """Make a channel answer 403: ``50001`` Missing Access (every route of that channel),
        ``50013`` Missing Permissions (only message creation and edition)."""
        if code not in (50001, 50013):
            raise ValueError(f"code must be 50001 or 50013, not {code}")
        self._denied[int(channel_id)] = code

    def allow_channel(self, channel_id: int) -> None:
        self._denied.pop(int(channel_id), None)

    def close_dms(self, user_id: int) -> None:
        """The user no longer accepts DMs from the bot (privacy settings, or they left every
        server it shares with them): posting in their DM answers 403 50007, as Discord does.
        Opening the DM channel still works (Discord only refuses the message)."""
        self._dms_closed.add(int(user_id))

    def dm_messages(self, user_id: int) -> list[dict[str, Any]]:
        """Messages the bot sent to a user by DM."""
        channel = self.dm_channels.get(int(user_id))
        return self.messages(channel) if channel is not None else []

    def fail_next(
        self,
        route_pattern: str,
        status: int | None = None,
        body: Any = None,
        headers: Mapping[str, str] | None = None,
        count: int = 1,
        *,
        delay: float = 0.0,
        retry_after: float = 0.05,
        is_global: bool = False,
    ) -> FaultRule:
        """Answer the next ``count`` requests matching ``route_pattern`` with ``status``.

        ``route_pattern`` is ``"METHOD /glob"`` or ``"/glob"`` (any method), a shell glob on the
        path under ``/api/v10`` without its query, e.g. ``"POST /channels/*/messages"``.
        ``status=None`` with ``delay`` only delays (a timeout); a ``delay`` also applies before an
        injected status. A 429 gets Discord's body (``retry_after``, ``global``) and headers
        unless given; a ``str`` body is sent as ``text/html`` (what Cloudflare does).
        """
        method, _, pattern = route_pattern.partition(" ")
        if not pattern:
            method, pattern = "", method
        rule = FaultRule(
            method=method.upper() or None,
            pattern=pattern,
            status=status,
            body=body,
            headers=dict(headers or {}),
            remaining=count,
            delay=delay,
        )
        if status == 429:
            rule.headers = {
                "Retry-After": str(max(1, math.ceil(retry_after))),
                "X-RateLimit-Scope": "global" if is_global else "user",
                **({"X-RateLimit-Global": "true"} if is_global else {}),
                **rule.headers,
            }
            if body is None:
                rule.body = {
                    "message": "You are being rate limited.",
                    "retry_after": retry_after,
                    "global": is_global,
                }
        elif status is not None and body is None:
            rule.body = _default_error_body(status)
        self._faults.append(rule)
        return rule

    # -- reading state -----------------------------------------------------------------------

    def messages(self, channel_id: int) -> list[dict[str, Any]]:
        """Messages that landed in a channel, oldest first (ephemeral ones never land)."""
        return list(self._messages.get(int(channel_id), []))

    def requests_for(self, pattern: str) -> list[RecordedRequest]:
        """Recorded requests matching ``"METHOD /glob"`` or ``"/glob"``."""
        method, _, glob = pattern.partition(" ")
        if not glob:
            method, glob = "", method
        return [
            r
            for r in self.requests
            if (not method or r.method == method.upper()) and fnmatch.fnmatchcase(r.path, glob)
        ]

    @property
    def count_429(self) -> int:
        return len(self.rate_limit_hits)

    def count_status(self, status: int) -> int:
        return sum(1 for r in self.requests if r.status == status)

    def limited_requests(self) -> list[RecordedRequest]:
        """The requests bound by the bot's global limit (every REST request but interaction
        callbacks and webhooks), in arrival order."""
        return [r for r in self.requests if not r.path.startswith(("/interactions/", "/webhooks/"))]

    def per_second(self) -> dict[int, int]:
        """How many globally limited requests arrived in each second of ``clock`` (int(at))."""
        counts: dict[int, int] = {}
        for request in self.limited_requests():
            second = int(request.at)
            counts[second] = counts.get(second, 0) + 1
        return counts

    def max_in_window(self, window: float = 1.0) -> int:
        """The most globally limited requests that arrived within any ``window`` seconds
        (a sliding window: stricter than `per_second`)."""
        times = sorted(r.at for r in self.limited_requests())
        best = start = 0
        for end, at in enumerate(times):
            while at - times[start] >= window:
                start += 1
            best = max(best, end - start + 1)
        return best

    # -- REST --------------------------------------------------------------------------------

    async def _rest_handler(self, request: web.Request) -> web.StreamResponse:
        path = request.path
        if not path.startswith(API_PREFIX + "/"):
            return _json_response(404, {"message": "404: Not Found", "code": 0})
        rel = path[len(API_PREFIX) :]
        body_json, files = await _read_body(request)
        if self.latency:
            await asyncio.sleep(self.latency / 2)
        rec = RecordedRequest(
            method=request.method,
            path=rel,
            query=dict(request.query),
            json=body_json,
            headers=dict(request.headers),
            at=self.clock(),
            files=files,
        )
        self.requests.append(rec)
        try:
            response = await self._answer(request, rec)
        except _HTTPError as exc:
            response = _json_response(exc.status, exc.body)
        response.headers.setdefault("Via", "1.1 google")
        rec.status = response.status
        self._notify()
        if self.latency:
            await asyncio.sleep(self.latency / 2)
        return response

    async def _answer(self, request: web.Request, rec: RecordedRequest) -> web.StreamResponse:
        method, rel = rec.method, rec.path
        for rule in self._faults:
            if rule.matches(method, rel):
                rule.remaining -= 1
                rule.hits += 1
                if rule.delay:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._closing.wait(), rule.delay)
                if rule.status is None:
                    break
                if rule.status == 429:
                    self.rate_limit_hits.append(
                        RateLimitHit(
                            method,
                            rel,
                            rule.headers.get("X-RateLimit-Scope", "user"),
                            float((rule.body or {}).get("retry_after", 0))
                            if isinstance(rule.body, dict)
                            else 0.0,
                            rule.headers.get("X-RateLimit-Global") == "true",
                            injected=True,
                        )
                    )
                if isinstance(rule.body, str):
                    return web.Response(
                        status=rule.status,
                        body=rule.body.encode(),
                        headers={"Content-Type": "text/html", **rule.headers},
                    )
                return _json_response(rule.status, rule.body, rule.headers)

        if rel == "/oauth2/token" or request.headers.get("Authorization", "").startswith("Bearer "):
            return await self._oauth_api(request, rec)

        matched = _match_route(method, rel)
        if matched is None:
            return _json_response(404, {"message": "404: Not Found", "code": 0})
        template, params = matched

        interaction_route = rel.startswith(("/interactions/", "/webhooks/"))
        if not interaction_route and request.headers.get("Authorization") != f"Bot {self.token}":
            return _json_response(401, {"message": "401: Unauthorized", "code": 0})

        rl_headers: dict[str, str] = {}
        if self.rate_limits_enabled and not interaction_route:
            retry = self.limiter.check_global(self.token)
            if retry is not None:
                return self._too_many(method, rel, retry, "global", {"X-RateLimit-Global": "true"})
            major = "+".join(params[k] for k in _MAJOR_PARAMETERS if k in params)
            decision = self.limiter.take(template, major)
            if decision is not None:
                rl_headers = decision.headers
                if not decision.allowed:
                    return self._too_many(method, rel, decision.retry_after, "user", rl_headers)

        handler = getattr(self, "_h_" + re.sub(r"\W+", "_", template).strip("_").lower())
        status, payload = await handler(rec, **params)
        if status == 204:
            return web.Response(status=204, headers=rl_headers)
        return _json_response(status, payload, rl_headers)

    def _too_many(
        self, method: str, rel: str, retry_after: float, scope: str, headers: Mapping[str, str]
    ) -> web.Response:
        retry_after = round(max(retry_after, 0.001), 3)
        is_global = scope == "global"
        self.rate_limit_hits.append(
            RateLimitHit(method, rel, scope, retry_after, is_global, injected=False)
        )
        body = {
            "message": "You are being rate limited.",
            "retry_after": retry_after,
            "global": is_global,
        }
        all_headers = {
            **headers,
            "Retry-After": str(max(1, math.ceil(retry_after))),
            "X-RateLimit-Scope": scope,
        }
        if "X-RateLimit-Remaining" in all_headers:
            all_headers["X-RateLimit-Remaining"] = "0"
        return _json_response(429, body, all_headers)

    # OAuth2: sign in with Discord (authorization code grant; scopes identify, guilds)

    def add_oauth_user(
        self, user_id: int, name: str, guilds: list[tuple[int, str, int, bool]]
    ) -> None:
        """A user who may sign in, with their guilds as (id, name, permissions, owner)."""
        self.oauth_users[user_id] = {
            "user": self._user_payload(user_id, name),
            "guilds": [
                {"id": str(gid), "name": gname, "permissions": str(perms), "owner": owner}
                for gid, gname, perms, owner in guilds
            ],
        }

    async def _oauth_authorize(self, request: web.Request) -> web.StreamResponse:
        """The consent page, approved at once for ``oauth_login_as``."""
        query = request.query
        self.requests.append(
            RecordedRequest(
                "GET", "/oauth2/authorize", dict(query), None, dict(request.headers), self.clock()
            )
        )
        if query.get("client_id") != self.oauth_client[0] or query.get("response_type") != "code":
            return web.Response(status=400, text="invalid client_id or response_type")
        redirect = query.get("redirect_uri", "")
        if self.oauth_login_as is None:
            target = f"{redirect}?error=access_denied&state={query.get('state', '')}"
            raise web.HTTPFound(target)
        code = f"code-{next(self._counter)}"
        self.oauth_codes[code] = (self.oauth_login_as, redirect)
        raise web.HTTPFound(f"{redirect}?code={code}&state={query.get('state', '')}")

    async def _oauth_api(self, request: web.Request, rec: RecordedRequest) -> web.Response:
        if rec.path == "/oauth2/token" and rec.method == "POST":
            form = await request.post()
            if (form.get("client_id"), form.get("client_secret")) != self.oauth_client:
                return _json_response(401, {"error": "invalid_client"})
            grant = self.oauth_codes.pop(str(form.get("code", "")), None)
            if form.get("grant_type") != "authorization_code" or grant is None:
                return _json_response(400, {"error": "invalid_grant"})
            if grant[1] != form.get("redirect_uri"):
                return _json_response(
                    400, {"error": "invalid_grant", "error_description": "redirect_uri"}
                )
            token = f"user-token-{next(self._counter)}"
            self.oauth_tokens[token] = grant[0]
            return _json_response(
                200,
                {
                    "access_token": token,
                    "token_type": "Bearer",
                    "expires_in": 604800,
                    "scope": "identify guilds",
                },
            )
        user_id = self.oauth_tokens.get(request.headers["Authorization"].removeprefix("Bearer "))
        if user_id is None or user_id not in self.oauth_users:
            return _json_response(401, {"message": "401: Unauthorized", "code": 0})
        if rec.method == "GET" and rec.path == "/users/@me":
            return _json_response(200, self.oauth_users[user_id]["user"])
        if rec.method == "GET" and rec.path == "/users/@me/guilds":
            return _json_response(200, self.oauth_users[user_id]["guilds"])
        return _json_response(404, {"message": "404: Not Found", "code": 0})

    # users / application / gateway

    async def _h_get_users_me(self, rec: RecordedRequest) -> tuple[int, Any]:
        return 200, {
            **self.bot_user,
            "verified": True,
            "mfa_enabled": False,
            "locale": "en-US",
            "email": None,
            "premium_type": 0,
            "bio": "",
        }

    async def _h_get_users_user_id(self, rec: RecordedRequest, user_id: str) -> tuple[int, Any]:
        user = self.users.get(_int(user_id))
        if user is None:
            raise _unknown("User", 10013)
        return 200, user

    async def _h_post_users_me_channels(self, rec: RecordedRequest) -> tuple[int, Any]:
        """Create DM: the same channel for the same recipient (Discord returns the existing one);
        an unknown user or a bot -> 400 50033 Invalid Recipient(s)."""
        body = rec.json if isinstance(rec.json, dict) else {}
        uid = _int(body.get("recipient_id"))
        user = self.users.get(uid)
        if user is None or user.get("bot"):
            raise _HTTPError(400, 50033, "Invalid Recipient(s)")
        cid = self.dm_channels.get(uid)
        if cid is None:
            cid = self.snowflake()
            self.dm_channels[uid] = cid
            self.channels[cid] = {
                "id": str(cid),
                "type": 1,
                "last_message_id": None,
                "flags": 0,
                "recipients": [user],
            }
        return 200, dict(self.channels[cid])

    async def _h_get_oauth2_applications_me(self, rec: RecordedRequest) -> tuple[int, Any]:
        owner = self._user_payload(1, "owner")
        return 200, {
            "id": str(self.application_id),
            "name": self.bot_user["username"],
            "icon": None,
            "description": "",
            "summary": "",
            "type": None,
            "rpc_origins": [],
            "bot_public": True,
            "bot_require_code_grant": False,
            "owner": owner,
            "team": None,
            "verify_key": "0" * 64,
            "flags": self.application_flags,
            "bot": self.bot_user,
            "interactions_endpoint_url": None,
            "redirect_uris": [],
            "tags": [],
            "approximate_guild_count": len(self.guilds),
        }

    async def _h_get_gateway(self, rec: RecordedRequest) -> tuple[int, Any]:
        return 200, {"url": self.ws_url}

    async def _h_get_gateway_bot(self, rec: RecordedRequest) -> tuple[int, Any]:
        return 200, {
            "url": self.ws_url,
            "shards": self.shard_count,
            "session_start_limit": {
                "total": 1000,
                "remaining": 999,
                "reset_after": 86_400_000,
                "max_concurrency": 1,
            },
        }

    # application commands

    def _store_command(self, guild_id: int | None, spec: Mapping[str, Any]) -> dict[str, Any]:
        existing = {c["name"]: c for c in self.commands.get(guild_id, [])}
        old = existing.get(spec["name"])
        command = {
            "type": 1,
            "description": "",
            "options": [],
            "default_member_permissions": None,
            "nsfw": False,
            **spec,
            "id": old["id"] if old else str(self.snowflake()),
            "application_id": str(self.application_id),
            "version": str(self.snowflake()),
        }
        if guild_id is not None:
            command["guild_id"] = str(guild_id)
        return command

    def _validate_commands(self, specs: Any) -> None:
        if not isinstance(specs, list):
            raise _invalid_form("_root", "BASE_TYPE_LIST", "Must be an array.")
        if len(specs) > 100:
            raise _invalid_form("_root", "BASE_TYPE_MAX_LENGTH", "Must be 100 or fewer in length.")
        for spec in specs:
            name = spec.get("name", "")
            if not 1 <= len(name) <= 32:
                raise _invalid_form(
                    "name", "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 32 in length."
                )
            if spec.get("type", 1) == 1 and not 1 <= len(spec.get("description", "")) <= 100:
                raise _invalid_form(
                    "description", "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length."
                )

    def _check_app(self, application_id: str) -> None:
        if _int(application_id) != self.application_id:
            raise _HTTPError(403, 50001, "Missing Access")

    async def _h_get_applications_application_id_commands(
        self, rec: RecordedRequest, application_id: str
    ) -> tuple[int, Any]:
        self._check_app(application_id)
        return 200, self.commands.get(None, [])

    async def _h_put_applications_application_id_commands(
        self, rec: RecordedRequest, application_id: str, guild_id: str | None = None
    ) -> tuple[int, Any]:
        self._check_app(application_id)
        gid = _int(guild_id) if guild_id else None
        if gid is not None and gid not in self.guilds:
            raise _HTTPError(403, 50001, "Missing Access")
        self._validate_commands(rec.json)
        self.commands[gid] = [self._store_command(gid, spec) for spec in rec.json]
        return 200, self.commands[gid]

    async def _h_post_applications_application_id_commands(
        self, rec: RecordedRequest, application_id: str, guild_id: str | None = None
    ) -> tuple[int, Any]:
        self._check_app(application_id)
        gid = _int(guild_id) if guild_id else None
        self._validate_commands([rec.json])
        command = self._store_command(gid, rec.json)
        self.commands[gid] = [c for c in self.commands.get(gid, []) if c["name"] != command["name"]]
        self.commands[gid].append(command)
        return 200, command

    async def _h_get_applications_application_id_guilds_guild_id_commands(
        self, rec: RecordedRequest, application_id: str, guild_id: str
    ) -> tuple[int, Any]:
        self._check_app(application_id)
        return 200, self.commands.get(_int(guild_id), [])

    async def _h_put_applications_application_id_guilds_guild_id_commands(
        self, rec: RecordedRequest, application_id: str, guild_id: str
    ) -> tuple[int, Any]:
        return await self._h_put_applications_application_id_commands(rec, application_id, guild_id)

    async def _h_post_applications_application_id_guilds_guild_id_commands(
        self, rec: RecordedRequest, application_id: str, guild_id: str
    ) -> tuple[int, Any]:
        return await self._h_post_applications_application_id_commands(
            rec, application_id, guild_id
        )

    # channels and messages

    def _channel(self, channel_id: str, *, sending: bool = False) -> dict[str, Any]:
        cid = _int(channel_id)
        channel = self.channels.get(cid)
        if channel is None:
            raise _unknown("Channel", 10003)
        code = self._denied.get(cid)
        if code == 50001 or (code == 50013 and sending):
            raise _HTTPError(
                403, code, "Missing Access" if code == 50001 else "Missing Permissions"
            )
        return channel

    async def _h_get_channels_channel_id(
        self, rec: RecordedRequest, channel_id: str
    ) -> tuple[int, Any]:
        return 200, self._public_channel(self._channel(channel_id))

    async def _h_get_channels_channel_id_messages(
        self, rec: RecordedRequest, channel_id: str
    ) -> tuple[int, Any]:
        self._channel(channel_id)
        found = list(reversed(self._messages.get(_int(channel_id), [])))  # newest first
        if "before" in rec.query:
            found = [m for m in found if int(m["id"]) < int(rec.query["before"])]
        if "after" in rec.query:
            found = [m for m in found if int(m["id"]) > int(rec.query["after"])]
        limit = max(1, min(int(rec.query.get("limit", 50)), 100))
        return 200, [self._as_read(m) for m in found[:limit]]

    def _as_read(self, message: dict[str, Any]) -> dict[str, Any]:
        """A stored message as GET returns it (no nonce, unless ``history_nonces``)."""
        if self.history_nonces or "nonce" not in message:
            return message
        return {k: v for k, v in message.items() if k != "nonce"}

    async def _h_get_channels_channel_id_messages_message_id(
        self, rec: RecordedRequest, channel_id: str, message_id: str
    ) -> tuple[int, Any]:
        self._channel(channel_id)
        message = self._message_index.get(_int(message_id))
        if message is None or message["channel_id"] != channel_id:
            raise _unknown("Message", 10008)
        return 200, self._as_read(message)

    async def _h_post_channels_channel_id_messages(
        self, rec: RecordedRequest, channel_id: str
    ) -> tuple[int, Any]:
        channel = self._channel(channel_id, sending=True)
        if channel.get("type") in (FORUM, MEDIA, 4):  # posts in a forum are threads
            raise _HTTPError(400, 50008, "Cannot send messages in a non-text channel")
        if channel.get("thread_metadata", {}).get("archived"):
            raise _HTTPError(400, 50083, "Thread is archived")
        if channel.get("type") == 1 and any(
            int(user["id"]) in self._dms_closed for user in channel.get("recipients", [])
        ):
            raise _HTTPError(403, 50007, "Cannot send messages to this user")
        body = rec.json if isinstance(rec.json, dict) else {}
        _validate_message(body, files=rec.files)
        nonce = body.get("nonce")
        author_id = int(self.bot_user["id"])
        now = self.clock()
        if nonce is not None:
            nonce = str(nonce)
            if len(nonce) > 25:
                raise _invalid_form(
                    "nonce", "BASE_TYPE_BAD_LENGTH", "Must be 25 or fewer in length."
                )
            if body.get("enforce_nonce"):
                seen = self._nonces.get((author_id, nonce))
                if seen is not None and now - seen[0] < self.nonce_ttl:
                    return 200, seen[1]
        message = self._create_message(channel, body, files=rec.files)
        if nonce is not None and body.get("enforce_nonce"):
            self._nonces[(author_id, nonce)] = (now, message)
        return 200, message

    async def _h_patch_channels_channel_id_messages_message_id(
        self, rec: RecordedRequest, channel_id: str, message_id: str
    ) -> tuple[int, Any]:
        self._channel(channel_id, sending=True)
        message = self._message_index.get(_int(message_id))
        if message is None or message["channel_id"] != channel_id:
            raise _unknown("Message", 10008)
        return 200, self._edit_message(message, rec.json or {}, rec.files)

    async def _h_delete_channels_channel_id_messages_message_id(
        self, rec: RecordedRequest, channel_id: str, message_id: str
    ) -> tuple[int, Any]:
        self._channel(channel_id)
        message = self._message_index.pop(_int(message_id), None)
        if message is None:
            raise _unknown("Message", 10008)
        self._messages[_int(channel_id)].remove(message)
        return 204, None

    # threads and forum posts

    def _thread_name(self, body: Mapping[str, Any]) -> str:
        name = body.get("name")
        if not isinstance(name, str) or not 1 <= len(name) <= 100:
            raise _invalid_form(
                "name", "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length."
            )
        return name

    def _new_thread(
        self, parent: dict[str, Any], name: str, body: Mapping[str, Any], thread_id: int
    ) -> dict[str, Any]:
        archive = int(
            body.get("auto_archive_duration") or parent.get("default_auto_archive_duration") or 1440
        )
        if archive not in (60, 1440, 4320, 10080):
            raise _invalid_form(
                "auto_archive_duration",
                "BASE_TYPE_CHOICES",
                "Value must be one of {60, 1440, 4320, 10080}.",
            )
        thread: dict[str, Any] = {
            "id": str(thread_id),
            "type": PUBLIC_THREAD,
            "guild_id": parent.get("guild_id"),
            "parent_id": parent["id"],
            "owner_id": self.bot_user["id"],
            "name": name,
            "last_message_id": None,
            "message_count": 0,
            "member_count": 1,
            "rate_limit_per_user": 0,
            "flags": 0,
            "thread_metadata": {
                "archived": False,
                "auto_archive_duration": archive,
                "archive_timestamp": _iso(self.wall_clock()),
                "locked": False,
                "create_timestamp": _iso(self.wall_clock()),
            },
            "applied_tags": [],
        }
        self.channels[thread_id] = thread
        return thread

    def _check_thread_rights(self, channel_id: str) -> dict[str, Any]:
        parent = self._channel(channel_id, sending=True)
        if int(parent["id"]) in self._no_threads:
            raise _HTTPError(403, 50013, "Missing Permissions")
        return parent

    async def _h_post_channels_channel_id_threads(
        self, rec: RecordedRequest, channel_id: str
    ) -> tuple[int, Any]:
        """A forum post (a thread and its first message, whose id is the thread's), or a
        thread without a starter message in a text channel."""
        parent = self._check_thread_rights(channel_id)
        body = rec.json if isinstance(rec.json, dict) else {}
        name = self._thread_name(body)
        if parent.get("type") not in (FORUM, MEDIA):
            if "message" in body:
                raise _HTTPError(400, 50024, "Cannot execute action on this channel type")
            thread = self._new_thread(parent, name, body, self.snowflake())
            return 201, self._public_channel(thread)
        first = body.get("message")
        if not isinstance(first, dict):
            raise _invalid_form("message", "BASE_TYPE_REQUIRED", "This field is required")
        _validate_message(first, files=rec.files)
        known = {tag["id"]: tag for tag in parent.get("available_tags", [])}
        tags = [str(tag) for tag in body.get("applied_tags") or []]
        if len(tags) > 5:
            raise _invalid_form(
                "applied_tags", "BASE_TYPE_MAX_LENGTH", "Must be 5 or fewer in length."
            )
        if any(tag not in known for tag in tags):
            raise _invalid_form("applied_tags", "FORUM_TAG_INVALID", "Unknown tag")
        if any(known[tag]["moderated"] for tag in tags):  # needs Manage Threads: the bot has not
            raise _HTTPError(403, 50013, "Missing Permissions")
        if parent.get("flags", 0) & REQUIRE_TAG and not tags:
            raise _HTTPError(400, 40067, "A tag is required to create a forum post in this channel")
        thread_id = self.snowflake()
        thread = self._new_thread(parent, name, body, thread_id)
        thread["applied_tags"] = tags
        message = self._create_message(thread, first, files=rec.files, message_id=thread_id)
        thread["message_count"] = 1
        return 201, {**self._public_channel(thread), "message": message}

    async def _h_post_channels_channel_id_messages_message_id_threads(
        self, rec: RecordedRequest, channel_id: str, message_id: str
    ) -> tuple[int, Any]:
        """A thread started from a message: its id is the message's."""
        parent = self._check_thread_rights(channel_id)
        if parent.get("type") not in (0, 5):
            raise _HTTPError(400, 50024, "Cannot execute action on this channel type")
        message = self._message_index.get(_int(message_id))
        if message is None or message["channel_id"] != parent["id"]:
            raise _unknown("Message", 10008)
        if "thread" in message:
            raise _HTTPError(400, 160004, "A thread has already been created for this message")
        body = rec.json if isinstance(rec.json, dict) else {}
        thread = self._new_thread(parent, self._thread_name(body), body, int(message["id"]))
        message["thread"] = self._public_channel(thread)
        message["flags"] = int(message.get("flags") or 0) | HAS_THREAD
        return 201, self._public_channel(thread)

    async def _h_get_guilds_guild_id_threads_active(
        self, rec: RecordedRequest, guild_id: str
    ) -> tuple[int, Any]:
        self._guild(guild_id)
        threads = [
            self._public_channel(c)
            for c in self.channels.values()
            if c.get("type") in (PUBLIC_THREAD, PRIVATE_THREAD)
            and c.get("guild_id") == guild_id
            and not c["thread_metadata"]["archived"]
        ]
        return 200, {"threads": threads, "members": []}

    def _create_message(
        self,
        channel: dict[str, Any] | None,
        body: Mapping[str, Any],
        *,
        files: Sequence[Mapping[str, Any]] = (),
        channel_id: str | None = None,
        extra: Mapping[str, Any] | None = None,
        store: bool = True,
        message_id: int | None = None,
    ) -> dict[str, Any]:
        mid = message_id if message_id is not None else self.snowflake()
        cid = channel["id"] if channel else channel_id
        message: dict[str, Any] = {
            "id": str(mid),
            "type": 0,
            "channel_id": cid,
            "author": self.bot_user,
            "content": body.get("content") or "",
            "timestamp": _iso(self.wall_clock()),
            "edited_timestamp": None,
            "tts": bool(body.get("tts", False)),
            "mention_everyone": False,
            "mentions": [],
            "mention_roles": [],
            "attachments": self._attachments(files),
            "embeds": list(body.get("embeds") or []),
            "components": list(body.get("components") or []),
            "pinned": False,
            "flags": int(body.get("flags") or 0),
        }
        message["mention_roles"], message["mention_everyone"] = _pinged(body)
        if body.get("nonce") is not None:
            message["nonce"] = str(body["nonce"])
        if body.get("message_reference"):
            message["message_reference"] = body["message_reference"]
        message.update(extra or {})
        if store and cid is not None:
            self._messages.setdefault(int(cid), []).append(message)
            self._message_index[mid] = message
            if channel is not None and "last_message_id" in channel:
                channel["last_message_id"] = str(mid)
        return message

    def _attachments(self, files: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        out = []
        for f in files:
            aid = self.snowflake()
            out.append(
                {
                    "id": str(aid),
                    "filename": f["filename"],
                    "size": f["size"],
                    "url": f"{self.base_url}/attachments/{aid}/{f['filename']}",
                    "proxy_url": f"{self.base_url}/attachments/{aid}/{f['filename']}",
                    "content_type": f.get("content_type"),
                }
            )
        return out

    def _edit_message(
        self,
        message: dict[str, Any],
        body: Mapping[str, Any],
        files: Sequence[Mapping[str, Any]] = (),
    ) -> dict[str, Any]:
        _validate_message(
            {**{"content": message["content"], "embeds": message["embeds"]}, **body}, files=files
        )
        for key in ("content", "embeds", "components"):
            if key in body:
                message[key] = (
                    body[key] if body[key] is not None else ([] if key != "content" else "")
                )
        if "flags" in body and body["flags"] is not None:
            message["flags"] = int(body["flags"]) | (message["flags"] & MESSAGE_FLAG_EPHEMERAL)
        message["flags"] &= ~MESSAGE_FLAG_LOADING
        if files:
            message["attachments"] = message["attachments"] + self._attachments(files)
        message["edited_timestamp"] = _iso(self.wall_clock())
        return message

    def _public_channel(self, channel: dict[str, Any]) -> dict[str, Any]:
        return dict(channel)

    # guilds

    def _guild(self, guild_id: str) -> dict[str, Any]:
        guild = self.guilds.get(_int(guild_id))
        if guild is None:
            raise _unknown("Guild", 10004)
        return guild

    async def _h_get_guilds_guild_id(self, rec: RecordedRequest, guild_id: str) -> tuple[int, Any]:
        guild = self._guild(guild_id)
        gateway_only = {
            "joined_at",
            "large",
            "unavailable",
            "member_count",
            "voice_states",
            "members",
            "channels",
            "threads",
            "presences",
            "stage_instances",
            "guild_scheduled_events",
            "soundboard_sounds",
            "lazy",
        }
        return 200, {k: v for k, v in guild.items() if k not in gateway_only}

    async def _h_get_guilds_guild_id_channels(
        self, rec: RecordedRequest, guild_id: str
    ) -> tuple[int, Any]:
        return 200, [self._public_channel(c) for c in self._guild(guild_id)["channels"]]

    async def _h_get_guilds_guild_id_members_user_id(
        self, rec: RecordedRequest, guild_id: str, user_id: str
    ) -> tuple[int, Any]:
        for m in self._guild(guild_id)["members"]:
            if m["user"]["id"] == user_id:
                return 200, _public_member(m)
        raise _unknown("Member", 10007)

    # interactions

    def _interaction_by_token(self, token: str) -> FakeInteraction:
        for interaction in self.interactions.values():
            if interaction.token == token:
                if self.clock() - interaction.created_at > self.interaction_token_ttl:
                    raise _HTTPError(401, 50027, "Invalid Webhook Token")
                return interaction
        raise _unknown("Webhook", 10015)

    async def _h_post_interactions_interaction_id_interaction_token_callback(
        self, rec: RecordedRequest, interaction_id: str, interaction_token: str
    ) -> tuple[int, Any]:
        interaction = self.interactions.get(_int(interaction_id))
        if interaction is None or interaction.token != interaction_token:
            raise _unknown("interaction", 10062)
        if interaction.callbacks:
            raise _HTTPError(400, 40060, "Interaction has already been acknowledged.")
        deadline = self.interaction_response_deadline
        if deadline is not None and self.clock() - interaction.created_at > deadline:
            raise _unknown("interaction", 10062)
        body = rec.json if isinstance(rec.json, dict) else {}
        cb_type = int(body.get("type", 0))
        data = body.get("data")
        if cb_type == 8:
            choices = (data or {}).get("choices") or []
            if len(choices) > 25:
                raise _invalid_form(
                    "data.choices", "BASE_TYPE_BAD_LENGTH", "Must be 25 or fewer in length."
                )
        interaction.callbacks.append(InteractionCallback(cb_type, data, rec.query, self.clock()))
        self._notify()

        meta: dict[str, Any] = {"id": str(interaction.id), "type": interaction.type}
        resource: dict[str, Any] = {"type": cb_type}
        if cb_type in (4, 5):
            msg_body = dict(data or {}) if cb_type == 4 else {"flags": (data or {}).get("flags", 0)}
            if cb_type == 4:
                _validate_message(msg_body, files=rec.files)
            flags = int(msg_body.get("flags") or 0)
            if cb_type == 5:
                flags |= MESSAGE_FLAG_LOADING
            msg_body["flags"] = flags
            message = self._create_message(
                None,
                msg_body,
                files=rec.files if cb_type == 4 else (),
                channel_id=interaction.payload.get("channel_id"),
                extra=self._interaction_message_extra(interaction),
                store=not flags & MESSAGE_FLAG_EPHEMERAL,
            )
            interaction.original = message
            resource["message"] = message
            meta.update(
                response_message_id=message["id"],
                response_message_loading=cb_type == 5,
                response_message_ephemeral=bool(flags & MESSAGE_FLAG_EPHEMERAL),
            )
        elif cb_type == 7 and interaction.payload.get("message"):
            original = interaction.payload["message"]
            resource["message"] = self._edit_message(original, data or {}, rec.files)
        if rec.query.get("with_response") not in ("1", "true", "True"):
            return 204, None
        return 200, {"interaction": meta, "resource": resource}

    def _interaction_message_extra(self, interaction: FakeInteraction) -> dict[str, Any]:
        user = interaction.payload.get("member", {}).get("user") or interaction.payload.get("user")
        return {
            "application_id": str(self.application_id),
            "webhook_id": str(self.application_id),
            "interaction_metadata": {
                "id": str(interaction.id),
                "type": interaction.type,
                "user": user,
                "authorizing_integration_owners": interaction.payload.get(
                    "authorizing_integration_owners", {}
                ),
            },
        }

    def _check_webhook(self, webhook_id: str, webhook_token: str) -> FakeInteraction:
        if _int(webhook_id) != self.application_id:
            raise _unknown("Webhook", 10015)
        interaction = self._interaction_by_token(webhook_token)
        if not interaction.callbacks:
            raise _unknown("Webhook", 10015)
        return interaction

    async def _h_post_webhooks_webhook_id_webhook_token(
        self, rec: RecordedRequest, webhook_id: str, webhook_token: str
    ) -> tuple[int, Any]:
        interaction = self._check_webhook(webhook_id, webhook_token)
        body = rec.json if isinstance(rec.json, dict) else {}
        _validate_message(body, files=rec.files)
        flags = int(body.get("flags") or 0)
        message = self._create_message(
            None,
            body,
            files=rec.files,
            channel_id=interaction.payload.get("channel_id"),
            extra=self._interaction_message_extra(interaction),
            store=not flags & MESSAGE_FLAG_EPHEMERAL,
        )
        interaction.followups.append(message)
        self._notify()
        if rec.query.get("wait") in ("1", "true", "True"):
            return 200, message
        return 204, None

    def _webhook_message(self, interaction: FakeInteraction, message_id: str) -> dict[str, Any]:
        if message_id == "@original":
            if interaction.original is None:
                raise _unknown("Message", 10008)
            return interaction.original
        for m in interaction.followups:
            if m["id"] == message_id:
                return m
        raise _unknown("Message", 10008)

    async def _h_get_webhooks_webhook_id_webhook_token_messages_message_id(
        self, rec: RecordedRequest, webhook_id: str, webhook_token: str, message_id: str
    ) -> tuple[int, Any]:
        interaction = self._check_webhook(webhook_id, webhook_token)
        return 200, self._webhook_message(interaction, message_id)

    async def _h_patch_webhooks_webhook_id_webhook_token_messages_message_id(
        self, rec: RecordedRequest, webhook_id: str, webhook_token: str, message_id: str
    ) -> tuple[int, Any]:
        interaction = self._check_webhook(webhook_id, webhook_token)
        message = self._webhook_message(interaction, message_id)
        body = rec.json if isinstance(rec.json, dict) else {}
        if message_id == "@original":
            interaction.edits.append(body)
        updated = self._edit_message(message, body, rec.files)
        self._notify()
        return 200, updated

    async def _h_delete_webhooks_webhook_id_webhook_token_messages_message_id(
        self, rec: RecordedRequest, webhook_id: str, webhook_token: str, message_id: str
    ) -> tuple[int, Any]:
        interaction = self._check_webhook(webhook_id, webhook_token)
        message = self._webhook_message(interaction, message_id)
        stored = self._messages.get(_int(message["channel_id"]), [])
        if message in stored:
            stored.remove(message)
        self._message_index.pop(int(message["id"]), None)
        return 204, None

    # -- gateway -----------------------------------------------------------------------------

    async def _gateway_handler(self, request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse(max_msg_size=0)
        await ws.prepare(request)
        self.connections.append(dict(request.query))
        if request.query.get("encoding", "json") != "json":
            await ws.close(code=4002, message=b"only json encoding is supported by the fake")
            return ws
        try:
            conn = _Connection(ws, request)
        except ValueError as exc:
            await ws.close(code=4000, message=str(exc).encode())
            return ws
        self._live.add(conn)
        self._notify()
        try:
            await conn.send(
                {
                    "op": OP_HELLO,
                    "d": {"heartbeat_interval": self.heartbeat_interval_ms},
                    "s": None,
                    "t": None,
                }
            )
            async for msg in ws:
                if msg.type in (WSMsgType.TEXT, WSMsgType.BINARY):
                    await self._on_gateway_message(conn, json.loads(msg.data))
        finally:
            self._live.discard(conn)
            if conn.session is not None and conn.session.conn is conn:
                conn.session.conn = None
            self._notify()
        return ws

    async def _on_gateway_message(self, conn: _Connection, msg: dict[str, Any]) -> None:
        op, d = msg.get("op"), msg.get("d")
        self.gateway_received.append(msg)
        if op == OP_HEARTBEAT:
            self.heartbeats += 1
            await conn.send({"op": OP_HEARTBEAT_ACK, "d": None, "s": None, "t": None})
        elif op == OP_IDENTIFY:
            await self._identify(conn, d or {})
        elif op == OP_RESUME:
            await self._resume(conn, d or {})
        elif op == OP_REQUEST_MEMBERS:
            await self._request_members(conn, d or {})
        elif op == OP_PRESENCE:
            pass
        self._notify()

    async def _identify(self, conn: _Connection, d: dict[str, Any]) -> None:
        if d.get("token") != self.token:
            await conn.ws.close(code=4004, message=b"Authentication failed.")
            return
        shard = tuple(d.get("shard") or (0, 1))
        if shard[1] != self.shard_count or not 0 <= shard[0] < shard[1]:
            await conn.ws.close(code=4010, message=b"Invalid shard.")
            return
        self.identifies.append(d)
        session = _Session(
            id=secrets.token_hex(16), shard=(int(shard[0]), int(shard[1])), intents=d.get("intents")
        )
        session.conn = conn
        conn.session = session
        self.sessions[session.id] = session
        guilds = [g for gid, g in self.guilds.items() if self._shard_of(gid) == session.shard[0]]
        ready = {
            "v": 10,
            "user": {**self.bot_user, "verified": True, "mfa_enabled": False},
            "guilds": [{"id": g["id"], "unavailable": True} for g in guilds],
            "session_id": session.id,
            "session_type": "normal",
            "resume_gateway_url": self.ws_url,
            "shard": list(session.shard),
            "application": {"id": str(self.application_id), "flags": self.application_flags},
            "private_channels": [],
            "relationships": [],
            "user_settings": {},
            "presences": [],
            "geo_ordered_rtc_regions": ["rotterdam"],
            "guild_join_requests": [],
            "_trace": ["fake-discord"],
        }
        await self._send_dispatch(session, "READY", ready)
        for g in guilds:
            await self._send_dispatch(session, "GUILD_CREATE", _gateway_guild(g))

    async def _resume(self, conn: _Connection, d: dict[str, Any]) -> None:
        session = self.sessions.get(d.get("session_id") or "")
        if session is None or d.get("token") != self.token:
            await conn.send({"op": OP_INVALID_SESSION, "d": False, "s": None, "t": None})
            return
        self.resumes.append(d)
        old = session.conn
        session.conn = conn
        conn.session = session
        if old is not None and old is not conn and not old.ws.closed:
            with contextlib.suppress(Exception):
                await old.ws.close(code=4000, message=b"session resumed elsewhere")
        last = int(d.get("seq") or 0)
        for payload in session.sent:
            if payload["s"] > last:
                await conn.send(payload)
        await self._send_dispatch(session, "RESUMED", {"_trace": ["fake-discord"]})

    async def _request_members(self, conn: _Connection, d: dict[str, Any]) -> None:
        if conn.session is None:
            return
        guild = self.guilds.get(_int(d.get("guild_id")))
        if guild is None:
            return
        members = [_public_member(m) for m in guild["members"]]
        if d.get("user_ids"):
            wanted = {str(u) for u in d["user_ids"]}
            members = [m for m in members if m["user"]["id"] in wanted]
        elif d.get("query"):
            members = [m for m in members if m["user"]["username"].startswith(d["query"])]
        if d.get("limit"):
            members = members[: d["limit"]]
        chunk = {
            "guild_id": guild["id"],
            "members": members,
            "chunk_index": 0,
            "chunk_count": 1,
            "not_found": [],
        }
        if d.get("nonce"):
            chunk["nonce"] = d["nonce"]
        await self._send_dispatch(conn.session, "GUILD_MEMBERS_CHUNK", chunk)

    def _shard_of(self, guild_id: int | None) -> int:
        return 0 if guild_id is None else (guild_id >> 22) % self.shard_count

    async def _send_dispatch(self, session: _Session, event: str, data: Any) -> None:
        session.seq += 1
        payload = {"op": OP_DISPATCH, "t": event, "s": session.seq, "d": data}
        session.sent.append(payload)
        if session.conn is not None:
            await session.conn.send(payload)

    def _latest_session(self, shard_id: int) -> _Session:
        candidates = [s for s in self.sessions.values() if s.shard[0] == shard_id]
        if not candidates:
            raise RuntimeError(
                f"fake Discord: no gateway session for shard {shard_id}; is the client connected?"
            )
        return candidates[-1]

    async def dispatch(
        self, event: str, data: Any, *, guild_id: int | None = None, shard_id: int | None = None
    ) -> None:
        """Send a gateway DISPATCH ``event`` to the session of the guild's shard (buffered while
        the websocket is down and replayed on RESUME, as Discord does)."""
        session = self._latest_session(
            shard_id if shard_id is not None else self._shard_of(guild_id)
        )
        await self._send_dispatch(session, event, data)

    async def send_op(self, op: int, d: Any = None, *, shard_id: int = 0) -> None:
        """Send a raw opcode (e.g. 7 RECONNECT, 9 INVALID_SESSION) on a shard's live websocket."""
        session = self._latest_session(shard_id)
        if session.conn is None:
            raise RuntimeError(f"fake Discord: shard {shard_id} is not connected")
        await session.conn.send({"op": op, "d": d, "s": None, "t": None})

    async def drop_websocket(self, shard_id: int | None = None, *, code: int | None = None) -> int:
        """Close gateway websockets abruptly (``code=None``: abort the TCP connection, no close
        frame) or with a close ``code``; returns how many were dropped. Sessions survive, so the
        client can RESUME."""
        dropped = 0
        for conn in list(self._live):
            if shard_id is not None and (conn.session is None or conn.session.shard[0] != shard_id):
                continue
            dropped += 1
            if conn.session is not None and conn.session.conn is conn:
                conn.session.conn = None
            if code is None:
                if conn.transport is not None:
                    conn.transport.abort()
            else:
                await conn.ws.close(code=code, message=b"dropped by the test")
        return dropped

    # -- interactions (test API) -------------------------------------------------------------

    def _find_command(self, name: str, guild_id: int | None) -> dict[str, Any] | None:
        for key in (guild_id, None):
            for command in self.commands.get(key, []):
                if command["name"] == name and command.get("type", 1) == 1:
                    return command
        return None

    def _member_permissions(self, guild: dict[str, Any], member: dict[str, Any]) -> int:
        if "_permissions" in member:
            return int(member["_permissions"])
        if member["user"]["id"] == guild["owner_id"]:
            return ALL_PERMISSIONS
        roles = {r["id"]: int(r["permissions"]) for r in guild["roles"]}
        perms = roles.get(guild["id"], 0)
        for rid in member["roles"]:
            perms |= roles.get(str(rid), 0)
        return ALL_PERMISSIONS if perms & ADMINISTRATOR else perms

    def _member(self, guild: dict[str, Any], user_id: int | None) -> dict[str, Any]:
        humans = [m for m in guild["members"] if not m["user"].get("bot")]
        if user_id is None:
            if humans:
                return humans[0]
            user_id = 1
        for m in guild["members"]:
            if m["user"]["id"] == str(user_id):
                return m
        user = self.users.get(user_id) or self._user_payload(user_id, f"user{user_id}")
        self.users[user_id] = user
        member = {**guild["members"][0], "user": user, "roles": []}
        guild["members"].append(member)
        guild["member_count"] = len(guild["members"])
        return member

    def _build_options(
        self,
        values: Mapping[str, Any] | Sequence[Mapping[str, Any]] | None,
        schema: Sequence[Mapping[str, Any]],
        guild: dict[str, Any] | None,
        resolved: dict[str, dict[str, Any]],
        focused: str | None,
    ) -> list[dict[str, Any]]:
        if values is None:
            values = {}
        if not isinstance(values, Mapping):  # already Discord-shaped option dicts
            return [dict(v) for v in values]
        by_name = {o["name"]: o for o in schema}
        out = []
        for name, value in values.items():
            if isinstance(value, OptionValue):
                otype, raw = value.type, value.value
            elif name in by_name:
                otype, raw = int(by_name[name]["type"]), value
            elif isinstance(value, bool):
                otype, raw = OPT_BOOLEAN, value
            elif isinstance(value, int):
                otype, raw = OPT_INTEGER, value
            elif isinstance(value, float):
                otype, raw = OPT_NUMBER, value
            else:
                otype, raw = OPT_STRING, value
            if otype in (OPT_USER, OPT_CHANNEL, OPT_ROLE, OPT_MENTIONABLE):
                raw = str(raw)
                if focused is None:
                    self._resolve(otype, raw, guild, resolved)
            option = {"name": name, "type": otype, "value": raw}
            if name == focused:
                option["focused"] = True
            out.append(option)
        return out

    def _resolve(
        self,
        otype: int,
        value: str,
        guild: dict[str, Any] | None,
        resolved: dict[str, dict[str, Any]],
    ) -> None:
        vid = int(value)
        if otype in (OPT_CHANNEL,) or (otype == OPT_MENTIONABLE and vid in self.channels):
            channel = self.channels.get(vid)
            if channel is None:
                raise ValueError(f"fake Discord: unknown channel {vid} for a channel option")
            perms = (
                ALL_PERMISSIONS
                if guild is None
                else self._member_permissions(guild, guild["members"][0])
            )
            resolved.setdefault("channels", {})[value] = {
                **{
                    k: channel[k]
                    for k in ("id", "type", "name", "parent_id", "nsfw", "position", "flags")
                    if k in channel
                },
                "topic": channel.get("topic"),
                "rate_limit_per_user": channel.get("rate_limit_per_user", 0),
                "last_message_id": channel.get("last_message_id"),
                "permissions": str(perms),
                "guild_id": channel["guild_id"],
            }
            return
        if otype == OPT_ROLE or (
            otype == OPT_MENTIONABLE and guild and any(r["id"] == value for r in guild["roles"])
        ):
            role = next((r for r in (guild or {}).get("roles", []) if r["id"] == value), None)
            if role is None:
                raise ValueError(f"fake Discord: unknown role {vid} for a role option")
            resolved.setdefault("roles", {})[value] = role
            return
        user = self.users.get(vid) or self._user_payload(vid, f"user{vid}")
        resolved.setdefault("users", {})[value] = user
        if guild is not None:
            member = next((m for m in guild["members"] if m["user"]["id"] == value), None)
            if member is not None:
                public = _public_member(member)
                public.pop("user")
                public["permissions"] = str(self._member_permissions(guild, member))
                resolved.setdefault("members", {})[value] = public

    def build_interaction(
        self,
        itype: int,
        command: str,
        options: Mapping[str, Any] | Sequence[Mapping[str, Any]] | None = None,
        *,
        focused: str | None = None,
        guild_id: int | None = None,
        channel_id: int | None = None,
        user_id: int | None = None,
        locale: str = "fr",
        guild_locale: str | None = None,
        member_permissions: int | None = None,
        app_permissions: int | None = None,
        dm: bool = False,
    ) -> dict[str, Any]:
        """Build a complete INTERACTION_CREATE payload (see :meth:`dispatch_command`)."""
        path = command.split()
        guild: dict[str, Any] | None = None
        if not dm:
            if guild_id is None:
                if channel_id is not None and int(channel_id) in self.channels:
                    guild_id = int(self.channels[int(channel_id)]["guild_id"])
                elif self.guilds:
                    guild_id = next(iter(self.guilds))
                else:
                    raise ValueError(
                        "fake Discord: no guild configured; add_guild() first or pass dm=True"
                    )
            guild = self.guilds[guild_id]
            if channel_id is None:
                text = [c for c in guild["channels"] if c["type"] in (0, 5)]
                channel_id = int(text[0]["id"])
        registered = self._find_command(path[0], guild_id)
        schema: list[dict[str, Any]] = list(registered.get("options", [])) if registered else []
        resolved: dict[str, dict[str, Any]] = {}

        def nest(level: int, schema: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
            if level == len(path):
                return self._build_options(options, schema, guild, resolved, focused)
            name = path[level]
            sub = next((o for o in schema if o["name"] == name), None)
            sub_type = (
                int(sub["type"])
                if sub
                else (OPT_SUB_COMMAND if level == len(path) - 1 else OPT_SUB_COMMAND_GROUP)
            )
            return [
                {
                    "name": name,
                    "type": sub_type,
                    "options": nest(level + 1, (sub or {}).get("options", [])),
                }
            ]

        data: dict[str, Any] = {
            "id": registered["id"] if registered else str(_stable_id(path[0])),
            "name": path[0],
            "type": 1,
            "options": nest(1, schema),
        }
        if registered and registered.get("guild_id"):
            data["guild_id"] = registered["guild_id"]
        if resolved:
            data["resolved"] = resolved

        payload: dict[str, Any] = {
            "id": str(self.snowflake()),
            "application_id": str(self.application_id),
            "type": itype,
            "data": data,
            "token": "aW50ZXJhY3Rpb246" + secrets.token_urlsafe(48),
            "version": 1,
            "locale": locale,
            "entitlements": [],
            "entitlement_sku_ids": [],
            "attachment_size_limit": ATTACHMENT_SIZE_LIMIT,
        }
        if guild is not None:
            assert guild_id is not None and channel_id is not None
            member = self._member(guild, user_id)
            perms = (
                member_permissions
                if member_permissions is not None
                else self._member_permissions(guild, member)
            )
            bot_perms = (
                app_permissions
                if app_permissions is not None
                else self._member_permissions(guild, guild["members"][0])
            )
            channel = self.channels[int(channel_id)]
            payload.update(
                guild_id=str(guild_id),
                channel_id=str(channel_id),
                channel={**channel, "permissions": str(perms)},
                guild={
                    "id": str(guild_id),
                    "locale": guild["preferred_locale"],
                    "features": guild["features"],
                },
                guild_locale=guild_locale or guild["preferred_locale"],
                member={**_public_member(member), "permissions": str(perms)},
                app_permissions=str(bot_perms),
                authorizing_integration_owners={"0": str(guild_id)},
                context=0,
            )
        else:
            uid = user_id or 1
            user = self.users.get(uid) or self._user_payload(uid, f"user{uid}")
            self.users[uid] = user
            dm_id = str(channel_id or self.snowflake())
            payload.update(
                channel_id=dm_id,
                channel={
                    "id": dm_id,
                    "type": 1,
                    "last_message_id": None,
                    "flags": 0,
                    "recipients": [user],
                },
                user=user,
                app_permissions=str(
                    app_permissions if app_permissions is not None else DEFAULT_BOT_PERMISSIONS
                ),
                authorizing_integration_owners={"0": str(uid)},
                context=1,
            )
        return payload

    async def dispatch_interaction(self, payload: dict[str, Any]) -> FakeInteraction:
        """Register and send a ready-made INTERACTION_CREATE payload; returns its handle."""
        interaction = FakeInteraction(self, payload, self.clock())
        self.interactions[interaction.id] = interaction
        gid = payload.get("guild_id")
        await self.dispatch("INTERACTION_CREATE", payload, guild_id=int(gid) if gid else None)
        return interaction

    async def dispatch_command(
        self,
        command: str,
        options: Mapping[str, Any] | Sequence[Mapping[str, Any]] | None = None,
        **kwargs: Any,
    ) -> FakeInteraction:
        """Send a slash command (type 2). ``command`` is the path as a user types it:
        ``"digest"``, ``"digest-admin subscribe"`` (subcommand) or ``"a b c"`` (group + sub).
        ``options`` maps option names to values; types come from the synced command schema,
        else from the Python type (or pass :class:`OptionValue`). Channel/user/role options get
        ``data.resolved`` entries. Keywords: ``guild_id``, ``channel_id``, ``user_id``,
        ``locale``, ``guild_locale``, ``member_permissions``, ``app_permissions``, ``dm``.
        """
        return await self.dispatch_interaction(
            self.build_interaction(2, command, options, **kwargs)
        )

    async def dispatch_autocomplete(
        self,
        command: str,
        options: Mapping[str, Any] | Sequence[Mapping[str, Any]] | None,
        focused: str,
        **kwargs: Any,
    ) -> FakeInteraction:
        """Send an autocomplete interaction (type 4) with ``focused`` marked; the answer is a
        type 8 callback whose ``choices`` the handle exposes."""
        return await self.dispatch_interaction(
            self.build_interaction(4, command, options, focused=focused, **kwargs)
        )


# --------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return -1


def _stable_id(name: str) -> int:
    return (int(hashlib.sha1(name.encode()).hexdigest()[:12], 16) << 22) | 1


def _iso(ts: float) -> str:
    return datetime.datetime.fromtimestamp(ts, datetime.UTC).isoformat()


def _public_member(member: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in member.items() if not k.startswith("_")}


def _gateway_guild(guild: Mapping[str, Any]) -> dict[str, Any]:
    data = dict(guild)
    data["members"] = [_public_member(m) for m in guild["members"]]
    return data


def _json_response(
    status: int, payload: Any, headers: Mapping[str, str] | None = None
) -> web.Response:
    # NOT web.json_response: discord.py needs the header to be exactly "application/json".
    return web.Response(
        status=status,
        body=json.dumps(payload, ensure_ascii=False).encode(),
        headers={**(headers or {}), "Content-Type": "application/json"},
    )


def _default_error_body(status: int) -> dict[str, Any]:
    return {
        400: {"message": "400: Bad Request", "code": 0},
        401: {"message": "401: Unauthorized", "code": 0},
        403: {"message": "Missing Access", "code": 50001},
        404: {"message": "404: Not Found", "code": 0},
        500: {"message": "500: Internal Server Error", "code": 0},
        502: {"message": "502: Bad Gateway", "code": 0},
        503: {"message": "503: Service Unavailable", "code": 0},
    }.get(status, {"message": f"{status}", "code": 0})


async def _read_body(request: web.Request) -> tuple[Any, list[dict[str, Any]]]:
    if not request.can_read_body:
        return None, []
    if request.content_type.startswith("multipart/"):
        form = await request.post()
        files = []
        payload: Any = None
        for name, value in form.items():
            if name == "payload_json":  # a plain field, or a part typed application/json
                raw = value.file.read() if hasattr(value, "file") else str(value)
                payload = json.loads(raw)
            elif hasattr(value, "file"):
                content = value.file.read()
                files.append(
                    {
                        "field": name,
                        "filename": value.filename,
                        "size": len(content),
                        "content_type": value.content_type,
                        "content": content,
                    }
                )
        return payload, files
    raw = await request.read()
    if not raw:
        return None, []
    try:
        return json.loads(raw), []
    except ValueError:
        return raw.decode(errors="replace"), []


def _validate_message(body: Mapping[str, Any], *, files: Sequence[Any] = ()) -> None:
    content = body.get("content") or ""
    embeds = body.get("embeds") or []
    if (
        not content
        and not embeds
        and not files
        and not body.get("components")
        and not body.get("sticker_ids")
        and not body.get("poll")
    ):
        raise _HTTPError(400, 50006, "Cannot send an empty message")
    if len(content) > 2000:
        raise _invalid_form("content", "BASE_TYPE_BAD_LENGTH", "Must be 2000 or fewer in length.")
    if len(embeds) > 10:
        raise _invalid_form("embeds", "BASE_TYPE_BAD_LENGTH", "Must be 10 or fewer in length.")
    total = 0
    for i, embed in enumerate(embeds):
        limits = {"title": 256, "description": 4096}
        for key, limit in limits.items():
            value = embed.get(key) or ""
            total += len(value)
            if len(value) > limit:
                raise _invalid_form(
                    f"embeds.{i}.{key}",
                    "BASE_TYPE_BAD_LENGTH",
                    f"Must be {limit} or fewer in length.",
                )
        fields = embed.get("fields") or []
        if len(fields) > 25:
            raise _invalid_form(
                f"embeds.{i}.fields", "BASE_TYPE_BAD_LENGTH", "Must be 25 or fewer in length."
            )
        for j, f in enumerate(fields):
            for key, limit in (("name", 256), ("value", 1024)):
                value = f.get(key) or ""
                total += len(value)
                if len(value) > limit:
                    raise _invalid_form(
                        f"embeds.{i}.fields.{j}.{key}",
                        "BASE_TYPE_BAD_LENGTH",
                        f"Must be {limit} or fewer in length.",
                    )
        footer = (embed.get("footer") or {}).get("text") or ""
        author = (embed.get("author") or {}).get("name") or ""
        total += len(footer) + len(author)
        if len(footer) > 2048:
            raise _invalid_form(
                f"embeds.{i}.footer.text",
                "BASE_TYPE_BAD_LENGTH",
                "Must be 2048 or fewer in length.",
            )
    if total > 6000:
        raise _invalid_form(
            "embeds", "MAX_EMBED_SIZE_EXCEEDED", "Embed size exceeds maximum size of 6000"
        )


# --------------------------------------------------------------------------------------------
# a default guild for tests
# --------------------------------------------------------------------------------------------

GUILD_ID = 1_100_000_000_000_000_001
GENERAL_CHANNEL_ID = 1_100_000_000_000_000_011
ANNOUNCES_CHANNEL_ID = 1_100_000_000_000_000_012
VOICE_CHANNEL_ID = 1_100_000_000_000_000_013
MODERATORS_ROLE_ID = 1_100_000_000_000_000_021
OWNER_USER_ID = 1_100_000_000_000_000_031
MEMBER_USER_ID = 1_100_000_000_000_000_032
MANAGE_GUILD = 1 << 5


def add_default_guild(fake: FakeDiscord, guild_id: int = GUILD_ID) -> dict[str, Any]:
    """Add the standard test guild: text channels #général (system channel) and #annonces, a
    voice channel, a "Modérateurs" role (Manage Server), the owner ``alice`` and ``bob``."""
    return fake.add_guild(
        guild_id,
        "Serveur de test",
        channels=[
            {"id": GENERAL_CHANNEL_ID, "name": "général"},
            {"id": ANNOUNCES_CHANNEL_ID, "name": "annonces", "type": 5},
            {"id": VOICE_CHANNEL_ID, "name": "vocal", "type": 2},
        ],
        roles=[{"id": MODERATORS_ROLE_ID, "name": "Modérateurs", "permissions": MANAGE_GUILD}],
        members=[
            {"id": OWNER_USER_ID, "username": "alice", "roles": [MODERATORS_ROLE_ID]},
            {"id": MEMBER_USER_ID, "username": "bob"},
        ],
        system_channel_id=GENERAL_CHANNEL_ID,
        owner_id=OWNER_USER_ID,
    )


# --------------------------------------------------------------------------------------------
# pointing discord.py at the fake
# --------------------------------------------------------------------------------------------


@contextlib.contextmanager
def discord_pointed_at(fake: FakeDiscord) -> Iterator[None]:
    """Point discord.py's class attributes at the fake, restoring them afterwards.

    ``Route.BASE`` drives every REST URL (webhooks and interaction callbacks included);
    ``DiscordWebSocket.DEFAULT_GATEWAY`` is where a plain ``Client`` connects (an
    ``AutoShardedClient`` asks ``GET /gateway/bot``, which answers :attr:`FakeDiscord.ws_url`).
    """
    import yarl
    from discord.gateway import DiscordWebSocket
    from discord.http import Route

    old_base, old_gateway = Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY
    Route.BASE = fake.api_url
    DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(fake.ws_url)
    try:
        yield
    finally:
        Route.BASE = old_base
        DiscordWebSocket.DEFAULT_GATEWAY = old_gateway


@contextlib.asynccontextmanager
async def running_client(
    client: Any,
    fake: FakeDiscord,
    *,
    timeout: float = 5.0,
    guild_ready_timeout: float | None = 0.05,
) -> AsyncIterator[Any]:
    """Log ``client`` in to ``fake``, connect it, wait for ``on_ready`` and close it on exit.

    discord.py waits ``guild_ready_timeout`` (2 s by default) after the last GUILD_CREATE before
    ``ready``; unless ``None`` this sets the client's private ``_connection.guild_ready_timeout``
    so tests do not pay it. The caller must have pointed discord.py at the fake
    (:func:`discord_pointed_at`, or the ``discord_routes`` fixture).
    """
    if guild_ready_timeout is not None:
        client._connection.guild_ready_timeout = guild_ready_timeout
    await client.login(fake.token)
    task = asyncio.create_task(client.connect(reconnect=True), name="fake-discord-client")
    try:
        ready = asyncio.create_task(client.wait_until_ready())
        done, _ = await asyncio.wait(
            {ready, task}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED
        )
        if ready not in done:
            ready.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await ready
            if task in done:
                task.result()  # re-raise the connection error
            raise TimeoutError(f"discord client not ready after {timeout}s")
        yield client
    finally:
        await client.close()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, timeout)
