"""A fake Slack for tests: Web API, ``response_url`` endpoints and Socket Mode, on 127.0.0.1:0.

The real ``slack_sdk`` clients and ``slack_bolt`` apps run against it unchanged::

    async with FakeSlack() as fake:
        client = AsyncWebClient(token=fake.bot_token, base_url=fake.api_url)
        await client.chat_postMessage(channel=fake.channel_id, text="Bonjour")
        assert fake.messages(fake.channel_id)[0].text == "Bonjour"

Routes
    ``/api/{method}``      Web API (GET or POST, query string, form-encoded or JSON body)
    ``/response/{id}``     ``response_url`` of slash commands and interactions (5 uses)
    ``/socket?ticket=...``  Socket Mode websocket (URL handed out by ``apps.connections.open``)

Behaviour mirrors what Slack documents: errors are HTTP 200 with ``{"ok": false, "error": ...}``;
rate limits are HTTP 429 with an integer ``Retry-After`` header and ``error: "ratelimited"``;
JSON bodies must carry the token in the ``Authorization`` header.  Everything a test may want to
wait for is exposed as an awaitable stream (``next_message``, ``next_response``, ``next_ack``...)
built on futures: no polling.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import itertools
import json
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar
from urllib.parse import urlencode

from aiohttp import WSMsgType, web
from slack_sdk.signature import SignatureVerifier

__all__ = [
    "DEFAULT_APP_ID",
    "DEFAULT_APP_TOKEN",
    "DEFAULT_BOT_TOKEN",
    "DEFAULT_CHANNEL_ID",
    "DEFAULT_SIGNING_SECRET",
    "DEFAULT_TEAM_ID",
    "DEFAULT_USER_ID",
    "Ack",
    "ApiCall",
    "Channel",
    "Ephemeral",
    "FakeSlack",
    "ManualClock",
    "Message",
    "ResponseUrlPost",
    "SignedRequest",
    "Team",
    "User",
    "sign_request",
    "signed_interaction",
    "signed_slash_command",
    "slash_command_payload",
]

DEFAULT_TEAM_ID = "T0FAKE0001"
DEFAULT_TEAM_DOMAIN = "depeche-test"
DEFAULT_BOT_TOKEN = "xoxb-fake-T0FAKE0001-bot"
DEFAULT_BOT_USER_ID = "U0FAKEBOT1"
DEFAULT_BOT_ID = "B0FAKEBOT1"
DEFAULT_APP_ID = "A0FAKEAPP1"
DEFAULT_APP_TOKEN = "xapp-1-A0FAKEAPP1-fake"
DEFAULT_SIGNING_SECRET = "fake-signing-secret"
DEFAULT_CHANNEL_ID = "C0FAKE0001"
DEFAULT_USER_ID = "U0FAKEUSR1"

# Channel errors that a test may configure per channel (Slack answers them with HTTP 200).
CHANNEL_ERRORS = frozenset(
    {"not_in_channel", "channel_not_found", "is_archived", "restricted_action"}
)
# Methods that act on a channel and so are subject to the channel's configured error.
_CHANNEL_METHODS = frozenset(
    {
        "chat.postMessage",
        "chat.postEphemeral",
        "chat.update",
        "conversations.history",
        "conversations.info",
        "conversations.replies",
    }
)
_JSON_FIELDS = ("blocks", "attachments", "metadata", "view")
_MAX_BLOCKS = 50
_MAX_SECTION_TEXT = 3000
_MAX_HEADER_TEXT = 150
_MAX_CONTEXT_ELEMENTS = 10
_MAX_FIELDS = 10
_MAX_FIELD_TEXT = 2000

T = TypeVar("T")


# --------------------------------------------------------------------------------------------
# clocks and limits


class ManualClock:
    """A clock for the rate limiter that only moves when told (``clock=ManualClock()``)."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class _TokenBucket:
    """``rate`` tokens per second, at most ``burst`` stored; one token per request."""

    def __init__(self, rate: float, burst: float, clock: Callable[[], float]) -> None:
        self.rate = rate
        self.burst = burst
        self.clock = clock
        self.tokens = burst
        self.stamp = clock()

    def wait(self) -> float:
        """Seconds until a token is available (0 if one is), without taking it."""
        now = self.clock()
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        return 0.0 if self.tokens >= 1 else (1 - self.tokens) / self.rate

    def take(self) -> None:
        self.tokens -= 1


class _Stream(Generic[T]):
    """Recorded items plus futures-based waiting for the next unconsumed one."""

    def __init__(self) -> None:
        self.items: list[T] = []
        self._consumed: set[int] = set()
        self._waiters: list[asyncio.Future[None]] = []

    def push(self, item: T) -> None:
        self.items.append(item)
        waiters, self._waiters = self._waiters, []
        for fut in waiters:
            if not fut.done():
                fut.set_result(None)

    async def next(self, predicate: Callable[[T], bool] | None, timeout: float, what: str) -> T:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            for index, item in enumerate(self.items):
                if index not in self._consumed and (predicate is None or predicate(item)):
                    self._consumed.add(index)
                    return item
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(f"fake Slack: no {what} within {timeout} s")
            fut: asyncio.Future[None] = loop.create_future()
            self._waiters.append(fut)
            try:
                await asyncio.wait_for(fut, remaining)
            except TimeoutError:
                raise TimeoutError(f"fake Slack: no {what} within {timeout} s") from None
            finally:
                if fut in self._waiters:
                    self._waiters.remove(fut)


# --------------------------------------------------------------------------------------------
# model


@dataclass
class Team:
    id: str
    name: str
    domain: str
    bot_token: str
    bot_user_id: str
    bot_id: str
    scopes: str = "chat:write,commands,users:read,channels:history,channels:read,channels:join"


@dataclass
class User:
    id: str
    team_id: str
    name: str = "someone"
    real_name: str = "Someone"
    is_admin: bool = False
    is_owner: bool = False
    is_bot: bool = False
    locale: str | None = "en-US"  # None: no "locale" key, as for some accounts
    tz: str | None = "Europe/Paris"  # None: no tz fields, as for bots
    tz_label: str = "Central European Time"
    tz_offset: int = 3600
    is_primary_owner: bool | None = None  # None: same as is_owner
    is_restricted: bool = False  # multi-channel guest
    is_ultra_restricted: bool = False  # single-channel guest
    deleted: bool = False

    def to_api(self, include_locale: bool) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": self.id,
            "team_id": self.team_id,
            "name": self.name,
            "deleted": self.deleted,
            "real_name": self.real_name,
            "is_admin": self.is_admin,
            "is_owner": self.is_owner,
            "is_primary_owner": self.is_owner
            if self.is_primary_owner is None
            else self.is_primary_owner,
            "is_restricted": self.is_restricted,
            "is_ultra_restricted": self.is_ultra_restricted,
            "is_bot": self.is_bot,
            "is_app_user": False,
            "profile": {
                "real_name": self.real_name,
                "display_name": self.name,
                "team": self.team_id,
            },
        }
        if self.tz is not None:
            data.update(tz=self.tz, tz_label=self.tz_label, tz_offset=self.tz_offset)
        if include_locale and self.locale is not None:
            data["locale"] = self.locale
        return data


@dataclass(frozen=True)
class _OpenIdGrant:
    team_id: str
    user_id: str
    client_id: str
    redirect_uri: str
    nonce: str | None


@dataclass
class Message:
    channel: str
    ts: str
    text: str | None
    blocks: list[dict[str, Any]] | None
    metadata: dict[str, Any] | None
    team_id: str
    user: str
    bot_id: str | None
    thread_ts: str | None = None
    edited: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    def to_api(self, *, include_metadata: bool, app_id: str) -> dict[str, Any]:
        data: dict[str, Any] = {
            "type": "message",
            "user": self.user,
            "text": self.text or "",
            "ts": self.ts,
            "team": self.team_id,
        }
        if self.bot_id:
            data["bot_id"] = self.bot_id
            data["app_id"] = app_id
        if self.blocks is not None:
            data["blocks"] = self.blocks
        if self.thread_ts:
            data["thread_ts"] = self.thread_ts
        if self.edited:
            data["edited"] = {"user": self.user, "ts": self.ts}
        if include_metadata and self.metadata is not None:
            data["metadata"] = self.metadata
        return data


@dataclass
class Ephemeral:
    channel: str
    user: str
    message_ts: str
    text: str | None
    blocks: list[dict[str, Any]] | None
    team_id: str


@dataclass
class Channel:
    id: str
    team_id: str
    name: str
    is_private: bool = False
    is_member: bool = True
    error: str | None = None
    messages: list[Message] = field(default_factory=list)
    user: str | None = None  # a direct message (im) with this user

    def to_api(self) -> dict[str, Any]:
        if self.user is not None:
            return {
                "id": self.id,
                "is_im": True,
                "user": self.user,
                "is_archived": self.error == "is_archived",
                "created": 1700000000,
                "context_team_id": self.team_id,
            }
        return {
            "id": self.id,
            "name": self.name,
            "is_channel": not self.is_private,
            "is_group": False,
            "is_im": False,
            "is_private": self.is_private,
            "is_archived": self.error == "is_archived",
            "is_member": self.is_member,
            "created": 1700000000,
            "context_team_id": self.team_id,
        }


@dataclass
class ApiCall:
    """One Web API request as received (token removed from params and headers)."""

    method: str
    http_method: str
    params: dict[str, Any]
    headers: dict[str, str]
    team_id: str | None
    content_type: str
    status: int = 0
    response: dict[str, Any] | None = None


@dataclass
class ResponseUrlPost:
    """A POST to a ``response_url``."""

    id: str
    response_type: str  # "ephemeral" (Slack's default) or "in_channel"
    text: str | None
    blocks: list[dict[str, Any]] | None
    replace_original: bool
    delete_original: bool
    body: dict[str, Any]
    channel: str | None
    status: int


@dataclass
class Ack:
    """What a Socket Mode client acknowledged an envelope with."""

    envelope_id: str
    payload: dict[str, Any] | None
    raw: dict[str, Any]


@dataclass
class SignedRequest:
    """A body and the headers Slack would send with it, signed with a signing secret."""

    body: str
    headers: dict[str, str]
    payload: dict[str, Any]
    timestamp: int


@dataclass
class _ResponseUrl:
    id: str
    team_id: str
    channel: str | None
    user: str | None
    uses_left: int


@dataclass
class _Fault:
    status: int | None
    error: str | None
    delay: float | None
    retry_after: int
    count: int


@dataclass
class _Connection:
    ws: web.WebSocketResponse
    request: web.Request
    id: int


# --------------------------------------------------------------------------------------------
# signing helpers (module level so a test can use them without a server)


def sign_request(
    signing_secret: str,
    body: str,
    *,
    timestamp: int | None = None,
    content_type: str = "application/x-www-form-urlencoded",
) -> dict[str, str]:
    """Headers Slack sends with a request body: ``X-Slack-Signature`` and its timestamp."""
    ts = int(time.time()) if timestamp is None else int(timestamp)
    signature = SignatureVerifier(signing_secret).generate_signature(timestamp=str(ts), body=body)
    return {
        "Content-Type": content_type,
        "X-Slack-Request-Timestamp": str(ts),
        "X-Slack-Signature": signature,
    }


def slash_command_payload(
    *,
    command: str = "/who",
    text: str = "",
    team_id: str = DEFAULT_TEAM_ID,
    team_domain: str = DEFAULT_TEAM_DOMAIN,
    channel_id: str = DEFAULT_CHANNEL_ID,
    channel_name: str = "general",
    user_id: str = DEFAULT_USER_ID,
    user_name: str = "someone",
    api_app_id: str = DEFAULT_APP_ID,
    response_url: str = "https://hooks.invalid/commands/x",
    trigger_id: str | None = None,
    **extra: str,
) -> dict[str, str]:
    """The fields of a slash command, as Slack sends them (all strings)."""
    payload = {
        "token": "verification-token-deprecated",
        "team_id": team_id,
        "team_domain": team_domain,
        "channel_id": channel_id,
        "channel_name": channel_name,
        "user_id": user_id,
        "user_name": user_name,
        "command": command,
        "text": text,
        "api_app_id": api_app_id,
        "is_enterprise_install": "false",
        "response_url": response_url,
        "trigger_id": trigger_id or f"{int(time.time())}.{abs(hash(text)) % 10**9}.fake",
    }
    payload.update(extra)
    return payload


def signed_slash_command(
    signing_secret: str, *, timestamp: int | None = None, **fields: Any
) -> SignedRequest:
    """A form-encoded, signed slash command (see :func:`slash_command_payload` for ``fields``)."""
    payload = slash_command_payload(**fields)
    body = urlencode(payload)
    ts = int(time.time()) if timestamp is None else int(timestamp)
    return SignedRequest(
        body=body,
        headers=sign_request(signing_secret, body, timestamp=ts),
        payload=payload,
        timestamp=ts,
    )


def signed_interaction(
    signing_secret: str, payload: Mapping[str, Any], *, timestamp: int | None = None
) -> SignedRequest:
    """A signed interactivity request: form field ``payload`` holding the JSON payload."""
    body = urlencode({"payload": json.dumps(payload)})
    ts = int(time.time()) if timestamp is None else int(timestamp)
    return SignedRequest(
        body=body,
        headers=sign_request(signing_secret, body, timestamp=ts),
        payload=dict(payload),
        timestamp=ts,
    )


def _is_reply(message: Message) -> bool:
    return message.thread_ts is not None and message.thread_ts != message.ts


def _in_channel(message: Message) -> bool:
    return not _is_reply(message) or _truthy(message.extra.get("reply_broadcast", False))


def _truthy(value: Any) -> bool:
    return str(value).lower() in {"1", "true", "yes"}


def _json_or_self(value: Any) -> Any:
    if isinstance(value, str | bytes):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


# --------------------------------------------------------------------------------------------
# the server


class FakeSlack:
    """A fake Slack workspace set (Web API + response_url + Socket Mode) for tests.

    Args (keyword-only):
        clock: monotonic clock of the rate limiter (default ``time.monotonic``; see ManualClock).
        wall_clock: source of message timestamps (``ts``), default ``time.time``.
        channel_rate / channel_burst: ``chat.postMessage`` token bucket per channel
            (default 1 msg/s, burst 1); ``channel_rate=None`` turns it off.
        workspace_rate / workspace_burst: ``chat.postMessage`` bucket per team (default off).
        app_token: the app-level token accepted by ``apps.connections.open``.
        app_id: the app's id, reported in payloads and messages.
        strict_channels: if False (default) an unknown channel id is created on first use;
            if True it answers ``channel_not_found``.
        default_team: create team ``DEFAULT_TEAM_ID`` with ``DEFAULT_BOT_TOKEN``, channel
            ``DEFAULT_CHANNEL_ID`` and user ``DEFAULT_USER_ID``.
        response_url_uses: how many times a response_url works (Slack: 5).
    """

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
        channel_rate: float | None = 1.0,
        channel_burst: float = 1.0,
        workspace_rate: float | None = None,
        workspace_burst: float = 20.0,
        app_token: str = DEFAULT_APP_TOKEN,
        app_id: str = DEFAULT_APP_ID,
        strict_channels: bool = False,
        default_team: bool = True,
        response_url_uses: int = 5,
        host: str = "127.0.0.1",
    ) -> None:
        self.clock = clock
        self.wall_clock = wall_clock
        self.channel_rate = channel_rate
        self.channel_burst = channel_burst
        self.workspace_rate = workspace_rate
        self.workspace_burst = workspace_burst
        self.app_token = app_token
        self.app_id = app_id
        self.strict_channels = strict_channels
        self.response_url_uses = response_url_uses
        self.host = host

        self.teams: dict[str, Team] = {}
        self.tokens: dict[str, str] = {}  # bot token -> team id
        self.users: dict[str, User] = {}
        self.channels: dict[str, Channel] = {}
        self.dm_channels: dict[tuple[str, str], str] = {}  # (team, user) -> D... channel
        self.views: list[dict[str, Any]] = []
        self.calls: list[ApiCall] = []
        self.ratelimited_count = 0
        self.connection_count = 0  # websocket connections accepted so far

        self._channel_buckets: dict[str, _TokenBucket] = {}
        self._team_buckets: dict[str, _TokenBucket] = {}
        self._faults: dict[str, list[_Fault]] = {}
        self._response_urls: dict[str, _ResponseUrl] = {}
        self._ids = itertools.count(1)
        self._last_ts = 0.0
        self._tickets: set[str] = set()
        self._connections: list[_Connection] = []
        self._ack_futures: dict[str, asyncio.Future[Ack]] = {}

        self._messages: _Stream[Message] = _Stream()
        self._ephemerals: _Stream[Ephemeral] = _Stream()
        self._responses: _Stream[ResponseUrlPost] = _Stream()
        self._acks: _Stream[Ack] = _Stream()
        self._calls: _Stream[ApiCall] = _Stream()
        self._connects: _Stream[int] = _Stream()
        self._updates: _Stream[Message] = _Stream()
        # "Add to Slack" (OAuth v2): the app's credentials, its redirect URL, codes issued.
        self.oauth_clients: dict[str, str] = {}  # client id -> client secret
        self.oauth_redirect_url: str | None = None
        self._oauth_codes: dict[str, tuple[str, str]] = {}  # code -> (team id, user id)
        # "Sign in with Slack" (OpenID Connect): who approves on Slack's page (team id, user
        # id; None = the user cancels), codes issued, user tokens (xoxp-) and whom they name.
        self.openid_login_as: tuple[str, str] | None = (DEFAULT_TEAM_ID, DEFAULT_USER_ID)
        self.openid_redirect_urls: set[str] = set()
        self._openid_codes: dict[str, _OpenIdGrant] = {}
        self.user_tokens: dict[str, tuple[str, str]] = {}  # xoxp- token -> (team id, user id)

        self._runner: web.AppRunner | None = None
        self._closing = False
        self.port = 0

        if default_team:
            self.add_team(
                DEFAULT_TEAM_ID,
                bot_token=DEFAULT_BOT_TOKEN,
                domain=DEFAULT_TEAM_DOMAIN,
                bot_user_id=DEFAULT_BOT_USER_ID,
                bot_id=DEFAULT_BOT_ID,
            )
            self.add_channel(DEFAULT_CHANNEL_ID, team_id=DEFAULT_TEAM_ID, name="general")
            self.add_user(DEFAULT_USER_ID, team_id=DEFAULT_TEAM_ID, name="someone")

    # ---------------------------------------------------------------- lifecycle

    async def start(self) -> FakeSlack:
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._handle_api)
        app.router.add_post("/response/{rid}", self._handle_response_url)
        app.router.add_get("/socket", self._handle_socket)
        app.router.add_get("/oauth/v2/authorize", self._handle_authorize)
        app.router.add_get("/openid/connect/authorize", self._handle_openid_authorize)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, 0)
        await site.start()
        self.port = self._runner.addresses[0][1]
        return self

    async def close(self) -> None:
        self._closing = True
        for conn in list(self._connections):
            with contextlib.suppress(Exception):
                await conn.ws.close(code=1001, message=b"server shutdown")
        for fut in self._ack_futures.values():
            fut.cancel()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeSlack:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # ---------------------------------------------------------------- addresses

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def api_url(self) -> str:
        """``base_url`` for slack_sdk clients (ends with ``/api/`` as slack_sdk requires)."""
        return f"{self.url}/api/"

    @property
    def bot_token(self) -> str:
        return DEFAULT_BOT_TOKEN

    @property
    def team_id(self) -> str:
        return DEFAULT_TEAM_ID

    @property
    def channel_id(self) -> str:
        return DEFAULT_CHANNEL_ID

    @property
    def user_id(self) -> str:
        return DEFAULT_USER_ID

    # ---------------------------------------------------------------- configuration

    def add_team(
        self,
        team_id: str,
        *,
        bot_token: str | None = None,
        name: str | None = None,
        domain: str | None = None,
        bot_user_id: str | None = None,
        bot_id: str | None = None,
    ) -> Team:
        team = Team(
            id=team_id,
            name=name or f"Workspace {team_id}",
            domain=domain or team_id.lower(),
            bot_token=bot_token or f"xoxb-fake-{team_id}-bot",
            bot_user_id=bot_user_id or f"U{team_id[1:]}BOT",
            bot_id=bot_id or f"B{team_id[1:]}BOT",
        )
        self.teams[team_id] = team
        self.tokens[team.bot_token] = team_id
        return team

    def add_user(self, user_id: str, *, team_id: str = DEFAULT_TEAM_ID, **fields: Any) -> User:
        user = User(id=user_id, team_id=team_id, **fields)
        self.users[user_id] = user
        return user

    def add_channel(
        self,
        channel_id: str,
        *,
        team_id: str = DEFAULT_TEAM_ID,
        name: str | None = None,
        is_private: bool = False,
        is_member: bool = True,
        error: str | None = None,
    ) -> Channel:
        channel = Channel(
            id=channel_id,
            team_id=team_id,
            name=name or channel_id.lower(),
            is_private=is_private,
            is_member=is_member,
        )
        self.channels[channel_id] = channel
        if error is not None:
            self.set_channel_error(channel_id, error)
        return channel

    def set_channel_error(self, channel_id: str, error: str | None) -> None:
        """Make every call on this channel fail with ``error`` (None clears it).

        ``not_in_channel`` is cleared by ``conversations.join``.
        """
        if error is not None and error not in CHANNEL_ERRORS:
            raise ValueError(
                f"unknown channel error {error!r}; expected one of {sorted(CHANNEL_ERRORS)}"
            )
        channel = self.channels.get(channel_id) or self.add_channel(channel_id)
        channel.error = error
        channel.is_member = error != "not_in_channel"

    def fail_next(
        self,
        method: str,
        *,
        status: int | None = None,
        error: str | None = None,
        delay: float | None = None,
        count: int = 1,
        retry_after: int = 1,
    ) -> None:
        """Inject a fault into the next ``count`` calls of ``method`` (e.g. ``"chat.postMessage"``).

        - ``status=429``: rate limited (``Retry-After: retry_after``, counted in ``ratelimited_count``);
        - ``status=500`` (or any other >= 400): that status with ``{"ok": false, "error": "fatal_error"}``;
        - ``error="..."`` alone: HTTP 200 ``{"ok": false, "error": error}``;
        - ``delay=s`` alone: the server waits ``s`` seconds and then handles the call normally (the
          client may have timed out meanwhile, yet the message is posted, as with real Slack).
          With ``status``/``error`` too, it waits and then fails.
        With no argument at all, the fault is a 500.
        """
        if status is None and error is None and delay is None:
            status = 500
        self._faults.setdefault(method, []).append(
            _Fault(status=status, error=error, delay=delay, retry_after=retry_after, count=count)
        )

    # ---------------------------------------------------------------- inspection

    def messages(self, channel: str) -> list[Message]:
        """Messages posted in ``channel``, oldest first (as edited by chat.update)."""
        ch = self.channels.get(channel)
        return list(ch.messages) if ch else []

    def posts(self, channel: str) -> list[Message]:
        """What ``channel`` itself shows, oldest first: its messages without thread replies
        (but with the replies also sent to the channel)."""
        return [m for m in self.messages(channel) if _in_channel(m)]

    @property
    def all_messages(self) -> list[Message]:
        return list(self._messages.items)

    @property
    def ephemerals(self) -> list[Ephemeral]:
        return list(self._ephemerals.items)

    @property
    def responses(self) -> list[ResponseUrlPost]:
        return list(self._responses.items)

    @property
    def acks(self) -> list[Ack]:
        return list(self._acks.items)

    def calls_to(self, method: str) -> list[ApiCall]:
        return [c for c in self.calls if c.method == method]

    @property
    def open_connections(self) -> int:
        return sum(1 for c in self._connections if not c.ws.closed)

    async def next_message(
        self,
        channel: str | None = None,
        *,
        timeout: float = 5.0,
        predicate: Callable[[Message], bool] | None = None,
    ) -> Message:
        """The next posted message not yet returned by this method (optionally in ``channel``)."""

        def match(m: Message) -> bool:
            return (channel is None or m.channel == channel) and (predicate is None or predicate(m))

        return await self._messages.next(match, timeout, "message")

    async def next_update(self, *, timeout: float = 5.0) -> Message:
        """The next message edited with chat.update (the message after the edit)."""
        return await self._updates.next(None, timeout, "chat.update")

    async def next_ephemeral(
        self, *, timeout: float = 5.0, predicate: Callable[[Ephemeral], bool] | None = None
    ) -> Ephemeral:
        return await self._ephemerals.next(predicate, timeout, "ephemeral message")

    async def next_response(
        self, *, timeout: float = 5.0, predicate: Callable[[ResponseUrlPost], bool] | None = None
    ) -> ResponseUrlPost:
        """The next POST to a response_url."""
        return await self._responses.next(predicate, timeout, "response_url post")

    async def next_ack(self, *, timeout: float = 5.0) -> Ack:
        return await self._acks.next(None, timeout, "Socket Mode ack")

    async def next_call(self, method: str | None = None, *, timeout: float = 5.0) -> ApiCall:
        """The next Web API call (answered) not yet returned by this method."""
        return await self._calls.next(
            None if method is None else (lambda c: c.method == method), timeout, f"call to {method}"
        )

    async def wait_connected(self, *, count: int = 1, timeout: float = 5.0) -> None:
        """Wait until ``count`` websocket connections have been accepted in all (not just open)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while self.connection_count < count:
            await self._connects.next(
                None, max(0.0, deadline - loop.time()), "Socket Mode connection"
            )

    # ---------------------------------------------------------------- payload builders

    def response_url(
        self,
        *,
        team_id: str = DEFAULT_TEAM_ID,
        channel: str | None = DEFAULT_CHANNEL_ID,
        user: str | None = DEFAULT_USER_ID,
    ) -> str:
        """A fresh response_url on this fake, usable ``response_url_uses`` times."""
        rid = f"R{next(self._ids):06d}"
        self._response_urls[rid] = _ResponseUrl(rid, team_id, channel, user, self.response_url_uses)
        return f"{self.url}/response/{rid}"

    def slash_command(
        self,
        command: str = "/who",
        text: str = "",
        *,
        team_id: str = DEFAULT_TEAM_ID,
        channel_id: str = DEFAULT_CHANNEL_ID,
        user_id: str = DEFAULT_USER_ID,
        **extra: str,
    ) -> dict[str, str]:
        """A slash command payload whose response_url points at this fake."""
        team = self.teams.get(team_id)
        channel = self.channels.get(channel_id)
        user = self.users.get(user_id)
        fields: dict[str, Any] = {
            "command": command,
            "text": text,
            "team_id": team_id,
            "channel_id": channel_id,
            "user_id": user_id,
            "api_app_id": self.app_id,
            "team_domain": team.domain if team else team_id.lower(),
            "channel_name": channel.name if channel else channel_id.lower(),
            "user_name": user.name if user else user_id.lower(),
            "response_url": self.response_url(team_id=team_id, channel=channel_id, user=user_id),
            "trigger_id": f"{next(self._ids)}.{int(self.wall_clock())}.fake",
        }
        fields.update(extra)
        return slash_command_payload(**fields)

    def signed_slash_command(
        self,
        signing_secret: str = DEFAULT_SIGNING_SECRET,
        command: str = "/who",
        text: str = "",
        *,
        timestamp: int | None = None,
        **fields: Any,
    ) -> SignedRequest:
        """A signed, form-encoded HTTP slash command whose response_url points at this fake."""
        payload = self.slash_command(command, text, **fields)
        body = urlencode(payload)
        ts = int(time.time()) if timestamp is None else int(timestamp)
        return SignedRequest(
            body=body,
            headers=sign_request(signing_secret, body, timestamp=ts),
            payload=payload,
            timestamp=ts,
        )

    def block_actions(
        self,
        actions: list[dict[str, Any]],
        *,
        team_id: str = DEFAULT_TEAM_ID,
        channel_id: str = DEFAULT_CHANNEL_ID,
        user_id: str = DEFAULT_USER_ID,
        message: dict[str, Any] | None = None,
        **extra: Any,
    ) -> dict[str, Any]:
        """A ``block_actions`` interaction payload (``actions``: dicts with action_id, value...)."""
        payload: dict[str, Any] = {
            "type": "block_actions",
            "api_app_id": self.app_id,
            "team": {
                "id": team_id,
                "domain": self.teams[team_id].domain if team_id in self.teams else "",
            },
            "user": {"id": user_id, "team_id": team_id, "username": "someone", "name": "someone"},
            "channel": {"id": channel_id, "name": "general"},
            "container": {"type": "message", "channel_id": channel_id, "is_ephemeral": False},
            "trigger_id": f"{next(self._ids)}.{int(self.wall_clock())}.fake",
            "response_url": self.response_url(team_id=team_id, channel=channel_id, user=user_id),
            "actions": [
                {"type": "button", "block_id": "b", "action_ts": str(self.wall_clock()), **a}
                for a in actions
            ],
            "token": "verification-token-deprecated",
            "is_enterprise_install": False,
        }
        if message is not None:
            payload["message"] = message
        payload.update(extra)
        return payload

    def view_submission(
        self,
        view: dict[str, Any],
        values: dict[str, Any],
        *,
        team_id: str = DEFAULT_TEAM_ID,
        user_id: str = DEFAULT_USER_ID,
        **extra: Any,
    ) -> dict[str, Any]:
        """A ``view_submission`` payload for ``view`` (e.g. one recorded by views.open)."""
        submitted = {
            "id": view.get("id", f"V{next(self._ids):08d}"),
            "team_id": team_id,
            "app_id": self.app_id,
            **view,
            "state": {"values": values},
        }
        payload: dict[str, Any] = {
            "type": "view_submission",
            "api_app_id": self.app_id,
            "team": {
                "id": team_id,
                "domain": self.teams[team_id].domain if team_id in self.teams else "",
            },
            "user": {"id": user_id, "team_id": team_id, "username": "someone", "name": "someone"},
            "view": submitted,
            "trigger_id": f"{next(self._ids)}.{int(self.wall_clock())}.fake",
            "response_urls": [],
            "token": "verification-token-deprecated",
            "is_enterprise_install": False,
        }
        payload.update(extra)
        return payload

    def event_callback(
        self, event: dict[str, Any], *, team_id: str = DEFAULT_TEAM_ID
    ) -> dict[str, Any]:
        """An Events API ``event_callback`` body wrapping ``event``."""
        team = self.teams.get(team_id)
        return {
            "token": "verification-token-deprecated",
            "team_id": team_id,
            "api_app_id": self.app_id,
            "event": event,
            "type": "event_callback",
            "event_id": f"Ev{next(self._ids):08d}",
            "event_time": int(self.wall_clock()),
            "authorizations": [
                {
                    "enterprise_id": None,
                    "team_id": team_id,
                    "user_id": team.bot_user_id if team else "",
                    "is_bot": True,
                    "is_enterprise_install": False,
                }
            ],
            "is_ext_shared_channel": False,
        }

    # ---------------------------------------------------------------- Socket Mode, test side

    async def send_envelope(
        self,
        type: str,
        payload: dict[str, Any],
        *,
        envelope_id: str | None = None,
        accepts_response_payload: bool | None = None,
        wait_ack: bool = True,
        timeout: float = 5.0,
        **extra: Any,
    ) -> Ack | None:
        """Send a Socket Mode envelope to the newest open connection and (by default) await its ack.

        ``type``: ``slash_commands``, ``interactive`` or ``events_api``. Waits for a connection
        first. Raises ``TimeoutError`` if there is no connection or no ack within ``timeout``.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        conn = await self._current_connection(timeout)
        eid = envelope_id or f"env-{next(self._ids):08d}"
        if accepts_response_payload is None:
            accepts_response_payload = (
                type == "slash_commands" or payload.get("type") == "view_submission"
            )
        envelope: dict[str, Any] = {
            "envelope_id": eid,
            "payload": payload,
            "type": type,
            "accepts_response_payload": accepts_response_payload,
            **extra,
        }
        if type == "events_api":
            envelope.setdefault("retry_attempt", 0)
            envelope.setdefault("retry_reason", "")
        fut: asyncio.Future[Ack] = loop.create_future()
        self._ack_futures[eid] = fut
        await conn.ws.send_str(json.dumps(envelope))
        if not wait_ack:
            return None
        try:
            return await asyncio.wait_for(fut, max(0.0, deadline - loop.time()))
        except TimeoutError:
            raise TimeoutError(
                f"fake Slack: envelope {eid} ({type}) not acknowledged within {timeout} s"
            ) from None
        finally:
            self._ack_futures.pop(eid, None)

    async def send_slash_command(
        self, command: str = "/who", text: str = "", *, timeout: float = 5.0, **fields: Any
    ) -> Ack:
        """Send a slash command over Socket Mode and return the ack (``ack.payload`` holds the reply)."""
        ack = await self.send_envelope(
            "slash_commands", self.slash_command(command, text, **fields), timeout=timeout
        )
        assert ack is not None
        return ack

    async def send_disconnect(
        self, reason: str = "refresh_requested", *, timeout: float = 5.0
    ) -> None:
        """Send ``{"type": "disconnect", "reason": reason}`` (Slack: ``refresh_requested``, ``warning``,
        ``link_disabled``, ``too_many_websockets``). The connection stays open, as with Slack."""
        conn = await self._current_connection(timeout)
        await conn.ws.send_str(
            json.dumps(
                {"type": "disconnect", "reason": reason, "debug_info": {"host": "fake-slack"}}
            )
        )

    async def drop_connections(self, *, abrupt: bool = True) -> None:
        """Close every open websocket: ``abrupt`` cuts the TCP connection without a close frame,
        otherwise a normal close frame (1001) is sent."""
        for conn in list(self._connections):
            if abrupt:
                transport = conn.request.transport
                if transport is not None:
                    transport.abort()
            else:
                await conn.ws.close(code=1001, message=b"going away")

    async def _current_connection(self, timeout: float) -> _Connection:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            open_conns = [c for c in self._connections if not c.ws.closed]
            if open_conns:
                return open_conns[-1]
            await self._connects.next(
                None, max(0.0, deadline - loop.time()), "Socket Mode connection"
            )

    # ---------------------------------------------------------------- HTTP handlers

    async def _read_params(self, request: web.Request) -> tuple[dict[str, Any], str | None, bool]:
        """Merged query + body parameters, the token, and whether the body was JSON."""
        params: dict[str, Any] = dict(request.query)
        is_json = False
        if request.can_read_body:
            if request.content_type == "application/json":
                is_json = True
                raw = await request.text()
                body = json.loads(raw) if raw.strip() else {}
                if not isinstance(body, dict):
                    raise web.HTTPBadRequest(text="invalid_json")
                params.update(body)
            else:
                form = await request.post()
                params.update({k: v for k, v in form.items() if isinstance(v, str)})
        token: str | None = None
        auth = request.headers.get("Authorization", "")
        if auth.lower().startswith("bearer "):
            token = auth[7:].strip()
        body_token = params.pop("token", None)
        if token is None and body_token is not None and not is_json:
            token = str(body_token)
        for name in _JSON_FIELDS:
            if name in params:
                params[name] = _json_or_self(params[name])
        return params, token, is_json

    def _json(
        self,
        call: ApiCall,
        data: dict[str, Any],
        *,
        status: int = 200,
        headers: Mapping[str, str] | None = None,
    ) -> web.Response:
        call.status = status
        call.response = data
        self._calls.push(call)
        return web.json_response(data, status=status, headers=headers)

    def _ratelimited(self, call: ApiCall, retry_after: float) -> web.Response:
        self.ratelimited_count += 1
        seconds = max(0, math.ceil(retry_after))
        return self._json(
            call,
            {"ok": False, "error": "ratelimited"},
            status=429,
            headers={"Retry-After": str(seconds)},
        )

    async def _handle_api(self, request: web.Request) -> web.StreamResponse:
        method = request.match_info["method"]
        params, token, _is_json = await self._read_params(request)
        headers = {k: v for k, v in request.headers.items() if k.lower() != "authorization"}
        call = ApiCall(
            method=method,
            http_method=request.method,
            params=params,
            headers=headers,
            team_id=self.tokens.get(token or ""),
            content_type=request.content_type,
        )
        self.calls.append(call)

        fault = self._take_fault(method)
        if fault is not None:
            if fault.delay:
                await asyncio.sleep(fault.delay)
            if fault.status == 429:
                return self._ratelimited(call, fault.retry_after)
            if fault.status is not None and fault.status >= 400:
                return self._json(
                    call, {"ok": False, "error": fault.error or "fatal_error"}, status=fault.status
                )
            if fault.error is not None:
                return self._json(call, {"ok": False, "error": fault.error})

        if method == "oauth.v2.access":  # authenticated by the app's client id and secret
            return self._json(call, self._oauth_v2_access(request, params))
        if method == "openid.connect.token":  # likewise
            return self._json(call, self._openid_connect_token(request, params))
        if method == "openid.connect.userInfo":  # authenticated by the user's token
            return self._json(call, self._openid_connect_user_info(token))

        # authentication
        if method == "apps.connections.open":
            if token is None:
                return self._json(call, {"ok": False, "error": "not_authed"})
            if token != self.app_token:
                error = "not_allowed_token_type" if token in self.tokens else "invalid_auth"
                return self._json(call, {"ok": False, "error": error})
            ticket = hashlib.sha256(f"{next(self._ids)}{self.wall_clock()}".encode()).hexdigest()[
                :24
            ]
            self._tickets.add(ticket)
            return self._json(
                call, {"ok": True, "url": f"ws://{self.host}:{self.port}/socket?ticket={ticket}"}
            )
        if token is None:
            return self._json(call, {"ok": False, "error": "not_authed"})
        if token == self.app_token:
            return self._json(call, {"ok": False, "error": "not_allowed_token_type"})
        team_id = self.tokens.get(token)
        if team_id is None:
            return self._json(call, {"ok": False, "error": "invalid_auth"})
        team = self.teams[team_id]

        handler = getattr(self, "_api_" + method.replace(".", "_"), None)
        if handler is None:
            return self._json(call, {"ok": False, "error": "unknown_method"})

        channel: Channel | None = None
        if method in _CHANNEL_METHODS or method == "conversations.join":
            channel_id = params.get("channel")
            if not channel_id:
                return self._json(call, {"ok": False, "error": "channel_not_found"})
            channel = self._channel_for(str(channel_id), team_id)
            if channel is None:
                return self._json(call, {"ok": False, "error": "channel_not_found"})
            if (
                channel.error is not None
                and method != "conversations.join"
                and not (channel.error == "not_in_channel" and method == "conversations.info")
            ):
                return self._json(call, {"ok": False, "error": channel.error})

        if method == "chat.postMessage" and channel is not None:
            wait = self._rate_limit(team_id, channel.id)
            if wait > 0:
                return self._ratelimited(call, wait)

        result = handler(call, team, params, channel)
        extra_headers = {"X-OAuth-Scopes": team.scopes} if method == "auth.test" else None
        return self._json(call, result, headers=extra_headers)

    # ---------------------------------------------------------------- OAuth v2 install

    def register_oauth_app(self, client_id: str, client_secret: str, redirect_url: str) -> None:
        """The app's credentials and the redirect URL set in its settings (Slack's app page)."""
        self.oauth_clients[client_id] = client_secret
        self.oauth_redirect_url = redirect_url

    async def _handle_authorize(self, request: web.Request) -> web.StreamResponse:
        """Slack's "Add to Slack" page, already approved: the test names who approves with the
        extra query parameters ``team`` and ``user`` (default: the default team and user)."""
        query = request.query
        if query.get("client_id") not in self.oauth_clients:
            return web.Response(status=400, text="invalid_client_id")
        if not query.get("scope") or not query.get("state"):
            return web.Response(status=400, text="missing scope or state")
        team_id = query.get("team", DEFAULT_TEAM_ID)
        if team_id not in self.teams:
            return web.Response(status=400, text="unknown team")
        code = hashlib.sha256(f"code{next(self._ids)}{team_id}".encode()).hexdigest()[:20]
        self._oauth_codes[code] = (team_id, query.get("user", DEFAULT_USER_ID))
        target = query.get("redirect_uri") or self.oauth_redirect_url
        if not target:
            return web.Response(status=400, text="no redirect URL configured")
        raise web.HTTPFound(f"{target}?{urlencode({'code': code, 'state': query['state']})}")

    def _oauth_v2_access(self, request: web.Request, params: dict[str, Any]) -> dict[str, Any]:
        client_id, client_secret = params.get("client_id"), params.get("client_secret")
        auth = request.headers.get("Authorization", "")
        if auth.lower().startswith("basic "):
            decoded = base64.b64decode(auth[6:].strip()).decode("utf-8", "replace")
            client_id, _, client_secret = decoded.partition(":")
        if client_id not in self.oauth_clients:
            return {"ok": False, "error": "invalid_client_id"}
        if self.oauth_clients[client_id] != client_secret:
            return {"ok": False, "error": "bad_client_secret"}
        grant = self._oauth_codes.pop(str(params.get("code") or ""), None)
        if grant is None:
            return {"ok": False, "error": "invalid_code"}
        team = self.teams[grant[0]]
        return {
            "ok": True,
            "access_token": team.bot_token,
            "token_type": "bot",
            "scope": team.scopes,
            "bot_user_id": team.bot_user_id,
            "app_id": self.app_id,
            "team": {"id": team.id, "name": team.name},
            "enterprise": None,
            "is_enterprise_install": False,
            "authed_user": {"id": grant[1]},
        }

    # ---------------------------------------------------------------- Sign in with Slack (OIDC)

    def register_openid_app(self, client_id: str, client_secret: str, redirect_url: str) -> None:
        """The app's credentials and one of the redirect URLs allowed in its settings."""
        self.oauth_clients[client_id] = client_secret
        self.openid_redirect_urls.add(redirect_url)

    async def _handle_openid_authorize(self, request: web.Request) -> web.StreamResponse:
        """Slack's "Sign in with Slack" page, answered at once for ``openid_login_as`` (None:
        the user cancels). Like Slack, a bad client or redirect URL is an error page, never a
        redirect; a missing ``openid`` scope is an error sent back to the redirect URL."""
        query = request.query
        if query.get("client_id") not in self.oauth_clients:
            return web.Response(status=400, text="invalid_client_id")
        redirect = query.get("redirect_uri", "")
        if redirect not in self.openid_redirect_urls:
            return web.Response(status=400, text="bad_redirect_uri")
        state = query.get("state", "")
        if query.get("response_type") != "code":
            raise web.HTTPFound(
                f"{redirect}?{urlencode({'error': 'unsupported_response_type', 'state': state})}"
            )
        if "openid" not in query.get("scope", "").split():
            raise web.HTTPFound(
                f"{redirect}?{urlencode({'error': 'invalid_scope', 'state': state})}"
            )
        if self.openid_login_as is None:
            raise web.HTTPFound(
                f"{redirect}?{urlencode({'error': 'access_denied', 'state': state})}"
            )
        team_id, user_id = self.openid_login_as
        code = hashlib.sha256(f"oidc{next(self._ids)}{user_id}".encode()).hexdigest()[:24]
        self._openid_codes[code] = _OpenIdGrant(
            team_id, user_id, str(query["client_id"]), redirect, query.get("nonce")
        )
        raise web.HTTPFound(f"{redirect}?{urlencode({'code': code, 'state': state})}")

    def _openid_connect_token(self, request: web.Request, params: dict[str, Any]) -> dict[str, Any]:
        client_id, client_secret = params.get("client_id"), params.get("client_secret")
        auth = request.headers.get("Authorization", "")
        if auth.lower().startswith("basic "):
            decoded = base64.b64decode(auth[6:].strip()).decode("utf-8", "replace")
            client_id, _, client_secret = decoded.partition(":")
        if client_id not in self.oauth_clients:
            return {"ok": False, "error": "invalid_client_id"}
        if self.oauth_clients[client_id] != client_secret:
            return {"ok": False, "error": "bad_client_secret"}
        grant = self._openid_codes.pop(str(params.get("code") or ""), None)
        if grant is None or grant.client_id != client_id:
            return {"ok": False, "error": "invalid_code"}
        if params.get("redirect_uri") != grant.redirect_uri:
            return {"ok": False, "error": "bad_redirect_uri"}
        token = f"xoxp-fake-{grant.team_id}-{grant.user_id}-{next(self._ids)}"
        self.user_tokens[token] = (grant.team_id, grant.user_id)
        now = int(self.wall_clock())
        claims: dict[str, Any] = {
            "iss": "https://slack.com",
            "sub": grant.user_id,
            "aud": client_id,
            "exp": now + 3600,
            "iat": now,
            "auth_time": now,
            "https://slack.com/user_id": grant.user_id,
            "https://slack.com/team_id": grant.team_id,
        }
        if grant.nonce is not None:
            claims["nonce"] = grant.nonce
        id_token = ".".join(
            base64.urlsafe_b64encode(part).rstrip(b"=").decode()
            for part in (
                json.dumps({"alg": "RS256", "kid": "fake", "typ": "JWT"}).encode(),
                json.dumps(claims).encode(),
                b"not-a-real-signature",
            )
        )
        return {"ok": True, "access_token": token, "token_type": "Bearer", "id_token": id_token}

    def _openid_connect_user_info(self, token: str | None) -> dict[str, Any]:
        if token is None:
            return {"ok": False, "error": "not_authed"}
        signed_in = self.user_tokens.get(token)
        if signed_in is None:
            return {"ok": False, "error": "invalid_auth"}
        team = self.teams[signed_in[0]]
        user = self.users.get(signed_in[1])
        if user is None or user.deleted:
            return {"ok": False, "error": "account_inactive"}
        return {
            "ok": True,
            "sub": user.id,
            "https://slack.com/user_id": user.id,
            "https://slack.com/team_id": team.id,
            "name": user.real_name,
            "given_name": user.real_name.split(" ")[0],
            "locale": (user.locale or "en-US").replace("_", "-"),
            "https://slack.com/team_name": team.name,
            "https://slack.com/team_domain": team.domain,
        }

    def revoke_user_token(self, token: str) -> None:
        """The user signed out of Slack everywhere, or an admin revoked the token."""
        self.user_tokens.pop(token, None)

    def revoke_team_token(self, team_id: str) -> None:
        """The workspace removed the app: its bot token stops working (``invalid_auth``)."""
        team = self.teams[team_id]
        self.tokens.pop(team.bot_token, None)

    def _take_fault(self, method: str) -> _Fault | None:
        for key in (method, "*"):
            faults = self._faults.get(key)
            if faults:
                fault = faults[0]
                fault.count -= 1
                if fault.count <= 0:
                    faults.pop(0)
                return fault
        return None

    def _channel_for(self, channel_id: str, team_id: str) -> Channel | None:
        if channel_id.startswith("#"):  # Slack also accepts a channel name
            name = channel_id[1:]
            channel_id = next(
                (c.id for c in self.channels.values() if c.name == name and c.team_id == team_id),
                channel_id,
            )
        channel = self.channels.get(channel_id)
        if channel is None:
            if self.strict_channels:
                return None
            channel = self.add_channel(channel_id, team_id=team_id)
        if channel.team_id != team_id:
            return None
        return channel

    def _rate_limit(self, team_id: str, channel_id: str) -> float:
        """0 and a token taken from each bucket, or the wait in seconds (nothing taken): a refused
        request does not use up the workspace allowance."""
        buckets: list[_TokenBucket] = []
        if self.workspace_rate is not None:
            if team_id not in self._team_buckets:
                self._team_buckets[team_id] = _TokenBucket(
                    self.workspace_rate, self.workspace_burst, self.clock
                )
            buckets.append(self._team_buckets[team_id])
        if self.channel_rate is not None:
            if channel_id not in self._channel_buckets:
                self._channel_buckets[channel_id] = _TokenBucket(
                    self.channel_rate, self.channel_burst, self.clock
                )
            buckets.append(self._channel_buckets[channel_id])
        wait = max((b.wait() for b in buckets), default=0.0)
        if wait == 0:
            for bucket in buckets:
                bucket.take()
        return wait

    def _new_ts(self) -> str:
        ts = max(self.wall_clock(), self._last_ts + 0.000001)
        self._last_ts = ts
        return f"{ts:.6f}"

    # ---------------------------------------------------------------- Web API methods

    def _api_auth_test(
        self, call: ApiCall, team: Team, params: dict[str, Any], channel: Channel | None
    ) -> dict[str, Any]:
        return {
            "ok": True,
            "url": f"https://{team.domain}.slack.com/",
            "team": team.name,
            "user": "depeche",
            "team_id": team.id,
            "user_id": team.bot_user_id,
            "bot_id": team.bot_id,
            "is_enterprise_install": False,
        }

    def _api_team_info(
        self, call: ApiCall, team: Team, params: dict[str, Any], channel: Channel | None
    ) -> dict[str, Any]:
        wanted = params.get("team") or team.id
        other = self.teams.get(str(wanted))
        if other is None:
            return {"ok": False, "error": "team_not_found"}
        return {
            "ok": True,
            "team": {
                "id": other.id,
                "name": other.name,
                "domain": other.domain,
                "email_domain": "",
                "icon": {"image_default": True},
            },
        }

    def _check_blocks(self, params: dict[str, Any]) -> str | None:
        """Slack's Block Kit limits: 50 blocks; section text 3000 and fields 10 x 2000; header
        plain_text only, 150 chars; context at most 10 elements; text objects non-empty."""
        blocks = params.get("blocks")
        if blocks is None:
            return None
        if not isinstance(blocks, list) or len(blocks) > _MAX_BLOCKS:
            return "invalid_blocks"

        def text_ok(obj: Any, limit: int, *, plain_only: bool = False) -> bool:
            if not isinstance(obj, dict):
                return False
            kinds = ("plain_text",) if plain_only else ("plain_text", "mrkdwn")
            text = obj.get("text")
            return obj.get("type") in kinds and isinstance(text, str) and 0 < len(text) <= limit

        for block in blocks:
            if not isinstance(block, dict) or "type" not in block:
                return "invalid_blocks"
            kind = block["type"]
            if kind == "section":
                fields = block.get("fields")
                if "text" not in block and not fields:
                    return "invalid_blocks"
                if "text" in block and not text_ok(block["text"], _MAX_SECTION_TEXT):
                    return "invalid_blocks"
                if fields is not None and (
                    not isinstance(fields, list)
                    or len(fields) > _MAX_FIELDS
                    or not all(text_ok(f, _MAX_FIELD_TEXT) for f in fields)
                ):
                    return "invalid_blocks"
            elif kind == "header":
                if not text_ok(block.get("text"), _MAX_HEADER_TEXT, plain_only=True):
                    return "invalid_blocks"
            elif kind == "image":  # Slack fetches the picture from a public http(s) URL
                image_url, alt = block.get("image_url"), block.get("alt_text")
                if (
                    not isinstance(image_url, str)
                    or not image_url.startswith(("https://", "http://"))
                    or len(image_url) > 3000
                    or not isinstance(alt, str)
                    or not 0 < len(alt) <= 2000
                ):
                    return "invalid_blocks"
            elif kind == "context":
                elements = block.get("elements")
                if (
                    not isinstance(elements, list)
                    or not 0 < len(elements) <= _MAX_CONTEXT_ELEMENTS
                    or not all(text_ok(e, _MAX_SECTION_TEXT) for e in elements)
                ):
                    return "invalid_blocks"
        return None

    def _check_metadata(self, params: dict[str, Any]) -> tuple[dict[str, Any] | None, str | None]:
        """``event_type`` a string, ``event_payload`` an object of strings, numbers and booleans
        (nulls are refused, as by Slack)."""
        metadata = params.get("metadata")
        if metadata is None:
            return None, None
        if (
            not isinstance(metadata, dict)
            or not isinstance(metadata.get("event_type"), str)
            or not isinstance(metadata.get("event_payload", {}), dict)
        ):
            return None, "invalid_metadata_format"
        payload = metadata.get("event_payload", {})
        if not all(isinstance(value, (str, int, float, bool)) for value in payload.values()):
            return None, "invalid_metadata_format"
        return {
            "event_type": metadata["event_type"],
            "event_payload": payload,
        }, None

    def _api_chat_postMessage(
        self, call: ApiCall, team: Team, params: dict[str, Any], channel: Channel | None
    ) -> dict[str, Any]:
        assert channel is not None
        text = params.get("text")
        blocks = params.get("blocks")
        if not text and not blocks and not params.get("attachments"):
            return {"ok": False, "error": "no_text"}
        error = self._check_blocks(params)
        if error:
            return {"ok": False, "error": error}
        metadata, error = self._check_metadata(params)
        if error:
            return {"ok": False, "error": error}
        thread_ts = str(params["thread_ts"]) if params.get("thread_ts") else None
        if thread_ts is not None:
            parent = next((m for m in channel.messages if m.ts == thread_ts), None)
            if parent is None:  # Slack: a reply to a message that is not in the channel
                return {"ok": False, "error": "thread_not_found"}
            if parent.thread_ts and parent.thread_ts != parent.ts:
                thread_ts = parent.thread_ts  # a reply to a reply joins the same thread
        known = {"channel", "text", "blocks", "metadata", "thread_ts"}
        message = Message(
            channel=channel.id,
            ts=self._new_ts(),
            text=text,
            blocks=blocks,
            metadata=metadata,
            team_id=team.id,
            user=team.bot_user_id,
            bot_id=team.bot_id,
            thread_ts=thread_ts,
            extra={k: v for k, v in params.items() if k not in known},
        )
        channel.messages.append(message)
        self._messages.push(message)
        return {
            "ok": True,
            "channel": channel.id,
            "ts": message.ts,
            "message": message.to_api(include_metadata=False, app_id=self.app_id),
        }

    def _api_chat_postEphemeral(
        self, call: ApiCall, team: Team, params: dict[str, Any], channel: Channel | None
    ) -> dict[str, Any]:
        assert channel is not None
        user = params.get("user")
        if not user:
            return {"ok": False, "error": "user_not_found"}
        if not params.get("text") and not params.get("blocks") and not params.get("attachments"):
            return {"ok": False, "error": "no_text"}
        error = self._check_blocks(params)
        if error:
            return {"ok": False, "error": error}
        eph = Ephemeral(
            channel=channel.id,
            user=str(user),
            message_ts=self._new_ts(),
            text=params.get("text"),
            blocks=params.get("blocks"),
            team_id=team.id,
        )
        self._ephemerals.push(eph)
        return {"ok": True, "message_ts": eph.message_ts}

    def _api_chat_update(
        self, call: ApiCall, team: Team, params: dict[str, Any], channel: Channel | None
    ) -> dict[str, Any]:
        assert channel is not None
        ts = params.get("ts")
        target = next((m for m in channel.messages if m.ts == ts), None)
        if target is None:
            return {"ok": False, "error": "message_not_found"}
        if target.bot_id != team.bot_id:
            return {"ok": False, "error": "cant_update_message"}
        error = self._check_blocks(params)
        if error:
            return {"ok": False, "error": error}
        metadata, error = self._check_metadata(params)
        if error:
            return {"ok": False, "error": error}
        if "text" in params:
            target.text = params["text"]
        if "blocks" in params:
            target.blocks = params["blocks"]
        if metadata is not None:
            target.metadata = metadata
        target.edited = True
        self._updates.push(target)
        return {
            "ok": True,
            "channel": channel.id,
            "ts": target.ts,
            "text": target.text or "",
            "message": target.to_api(include_metadata=False, app_id=self.app_id),
        }

    def _api_users_info(
        self, call: ApiCall, team: Team, params: dict[str, Any], channel: Channel | None
    ) -> dict[str, Any]:
        user = self.users.get(str(params.get("user")))
        if user is None or user.team_id != team.id:  # another workspace's user is unknown here
            return {"ok": False, "error": "user_not_found"}
        return {"ok": True, "user": user.to_api(_truthy(params.get("include_locale", False)))}

    def _api_conversations_info(
        self, call: ApiCall, team: Team, params: dict[str, Any], channel: Channel | None
    ) -> dict[str, Any]:
        assert channel is not None
        return {"ok": True, "channel": channel.to_api()}

    def _api_conversations_open(
        self, call: ApiCall, team: Team, params: dict[str, Any], channel: Channel | None
    ) -> dict[str, Any]:
        """Open (or find) the bot's direct message with one user, as Slack does: the same
        ``D...`` id every time; a bot -> ``cannot_dm_bot``; a user of another workspace or
        unknown -> ``user_not_found``; a deactivated one -> ``user_disabled``."""
        users = [u for u in str(params.get("users") or "").split(",") if u]
        if not users:
            return {"ok": False, "error": "users_list_not_supplied"}
        if len(users) > 1:
            return {"ok": False, "error": "not_implemented"}  # group DMs: not needed here
        user = self.users.get(users[0])
        if user is None or user.team_id != team.id:
            return {"ok": False, "error": "user_not_found"}
        if user.is_bot:
            return {"ok": False, "error": "cannot_dm_bot"}
        if user.deleted:
            return {"ok": False, "error": "user_disabled"}
        dm_id = self.dm_channels.get((team.id, user.id))
        if dm_id is None:
            dm_id = "D" + hashlib.sha256(f"{team.id}{user.id}".encode()).hexdigest()[:10].upper()
            self.dm_channels[(team.id, user.id)] = dm_id
            self.channels[dm_id] = Channel(id=dm_id, team_id=team.id, name=user.id, user=user.id)
        return {"ok": True, "channel": {"id": dm_id}}

    def deactivate_user(self, user_id: str) -> None:
        """A member deactivated by an admin: conversations.open refuses them, and their direct
        message is archived (posting there answers ``is_archived``)."""
        user = self.users[user_id]
        user.deleted = True
        dm_id = self.dm_channels.get((user.team_id, user_id))
        if dm_id is not None:
            self.channels[dm_id].error = "is_archived"

    def dm_messages(self, user_id: str, team_id: str = DEFAULT_TEAM_ID) -> list[Message]:
        """Messages the bot sent to a user by direct message."""
        dm_id = self.dm_channels.get((team_id, user_id))
        return self.messages(dm_id) if dm_id else []

    def _api_conversations_join(
        self, call: ApiCall, team: Team, params: dict[str, Any], channel: Channel | None
    ) -> dict[str, Any]:
        assert channel is not None
        if channel.error in {"is_archived", "channel_not_found"}:
            return {"ok": False, "error": channel.error}
        if channel.is_private:
            return {"ok": False, "error": "method_not_supported_for_channel_type"}
        if channel.error == "not_in_channel":
            channel.error = None
        channel.is_member = True
        return {"ok": True, "channel": channel.to_api()}

    def _api_conversations_list(
        self, call: ApiCall, team: Team, params: dict[str, Any], channel: Channel | None
    ) -> dict[str, Any]:
        """The team's channels (public ones, and private ones the bot is in), cursor-paged."""
        try:
            limit = max(1, min(1000, int(params.get("limit") or 100)))
            start = int(str(params.get("cursor") or "0").removeprefix("dGVhbTpD"))
        except ValueError:
            return {"ok": False, "error": "invalid_cursor"}
        types = set(str(params.get("types") or "public_channel").split(","))
        exclude_archived = _truthy(params.get("exclude_archived", False))
        visible = [
            c
            for c in self.channels.values()
            if c.team_id == team.id
            and c.error != "channel_not_found"
            and (("private_channel" in types and c.is_private and c.is_member)
                 or ("public_channel" in types and not c.is_private))
            and not (exclude_archived and c.error == "is_archived")
        ]  # fmt: skip
        page = visible[start : start + limit]
        more = start + limit < len(visible)
        return {
            "ok": True,
            "channels": [c.to_api() for c in page],
            "response_metadata": {"next_cursor": f"dGVhbTpD{start + limit}" if more else ""},
        }

    def _api_conversations_history(
        self, call: ApiCall, team: Team, params: dict[str, Any], channel: Channel | None
    ) -> dict[str, Any]:
        assert channel is not None
        try:
            limit = max(1, min(999, int(params.get("limit") or 100)))
            oldest = float(params.get("oldest") or 0)
            latest = float(params["latest"]) if params.get("latest") else math.inf
        except ValueError:
            return {"ok": False, "error": "invalid_arguments"}
        inclusive = _truthy(params.get("inclusive", False))
        include_metadata = _truthy(params.get("include_all_metadata", False))

        def within(m: Message) -> bool:
            ts = float(m.ts)
            if inclusive:
                return oldest <= ts <= latest
            return oldest < ts < latest

        # Like Slack: thread replies are not in the channel's history (conversations.replies),
        # but those also sent to the channel (reply_broadcast) are.
        newest_first = [m for m in reversed(channel.messages) if within(m) and _in_channel(m)]
        start = 0
        cursor = params.get("cursor")
        if cursor:
            try:
                start = int(str(cursor).removeprefix("bmV4dF90czo"))
            except ValueError:
                return {"ok": False, "error": "invalid_cursor"}
        page = newest_first[start : start + limit]
        has_more = start + limit < len(newest_first)
        return {
            "ok": True,
            "messages": [
                m.to_api(include_metadata=include_metadata, app_id=self.app_id) for m in page
            ],
            "has_more": has_more,
            "pin_count": 0,
            "channel_actions_ts": None,
            "channel_actions_count": 0,
            "response_metadata": {"next_cursor": f"bmV4dF90czo{start + limit}" if has_more else ""},
        }

    def _api_conversations_replies(
        self, call: ApiCall, team: Team, params: dict[str, Any], channel: Channel | None
    ) -> dict[str, Any]:
        """A thread, oldest first: its parent message, then the replies."""
        assert channel is not None
        ts = str(params.get("ts") or "")
        parent = next((m for m in channel.messages if m.ts == ts), None)
        if parent is None:
            return {"ok": False, "error": "thread_not_found"}
        try:
            limit = max(1, min(1000, int(params.get("limit") or 1000)))
        except ValueError:
            return {"ok": False, "error": "invalid_arguments"}
        include_metadata = _truthy(params.get("include_all_metadata", False))
        thread = [parent] + [m for m in channel.messages if _is_reply(m) and m.thread_ts == ts]
        start = 0
        cursor = params.get("cursor")
        if cursor:
            try:
                start = int(str(cursor).removeprefix("bmV4dF90czo"))
            except ValueError:
                return {"ok": False, "error": "invalid_cursor"}
        page = thread[start : start + limit]
        has_more = start + limit < len(thread)
        return {
            "ok": True,
            "messages": [
                m.to_api(include_metadata=include_metadata, app_id=self.app_id) for m in page
            ],
            "has_more": has_more,
            "response_metadata": {"next_cursor": f"bmV4dF90czo{start + limit}" if has_more else ""},
        }

    def replies(self, channel: str, ts: str) -> list[Message]:
        """The replies in the thread of message ``ts`` of ``channel`` (for tests)."""
        return [m for m in self.messages(channel) if _is_reply(m) and m.thread_ts == ts]

    def _api_views_open(
        self, call: ApiCall, team: Team, params: dict[str, Any], channel: Channel | None
    ) -> dict[str, Any]:
        view = params.get("view")
        if not params.get("trigger_id") and not params.get("interactivity_pointer"):
            return {"ok": False, "error": "invalid_arguments"}
        if not isinstance(view, dict) or view.get("type") not in {"modal", "home"}:
            return {"ok": False, "error": "invalid_arguments"}
        opened = {
            "id": f"V{next(self._ids):08d}",
            "team_id": team.id,
            "app_id": self.app_id,
            "bot_id": team.bot_id,
            "state": {"values": {}},
            "hash": f"{int(self.wall_clock())}.fake",
            "previous_view_id": None,
            "root_view_id": None,
            **view,
            "trigger_id": params.get("trigger_id"),
        }
        opened["root_view_id"] = opened["root_view_id"] or opened["id"]
        self.views.append(opened)
        return {"ok": True, "view": {k: v for k, v in opened.items() if k != "trigger_id"}}

    # ---------------------------------------------------------------- response_url

    async def _handle_response_url(self, request: web.Request) -> web.Response:
        rid = request.match_info["rid"]
        entry = self._response_urls.get(rid)
        if request.content_type == "application/json":
            raw = await request.text()
            body = json.loads(raw) if raw.strip() else {}
        else:
            form = await request.post()
            body = {
                k: _json_or_self(v) if k in _JSON_FIELDS else v
                for k, v in form.items()
                if isinstance(v, str)
            }
            if "payload" in body:
                body = _json_or_self(body["payload"])
        if entry is None:
            status, reply = 404, "no_such_url"
        elif entry.uses_left <= 0:
            status, reply = 404, "used_url"
        else:
            entry.uses_left -= 1
            status, reply = 200, "ok"
        post = ResponseUrlPost(
            id=rid,
            response_type=str(body.get("response_type") or "ephemeral"),
            text=body.get("text"),
            blocks=body.get("blocks"),
            replace_original=_truthy(body.get("replace_original", False)),
            delete_original=_truthy(body.get("delete_original", False)),
            body=body,
            channel=entry.channel if entry else None,
            status=status,
        )
        if (
            status == 200
            and entry is not None
            and entry.channel
            and post.response_type == "in_channel"
        ):
            team = self.teams.get(entry.team_id)
            channel = self.channels.get(entry.channel) or self.add_channel(
                entry.channel, team_id=entry.team_id
            )
            message = Message(
                channel=channel.id,
                ts=self._new_ts(),
                text=post.text,
                blocks=post.blocks,
                metadata=None,
                team_id=entry.team_id,
                user=team.bot_user_id if team else "",
                bot_id=team.bot_id if team else None,
            )
            channel.messages.append(message)
            self._messages.push(message)
        self._responses.push(post)
        return web.Response(status=status, text=reply, content_type="text/html")

    # ---------------------------------------------------------------- Socket Mode

    async def _handle_socket(self, request: web.Request) -> web.StreamResponse:
        ticket = request.query.get("ticket", "")
        if self._closing or ticket not in self._tickets:
            return web.Response(status=401 if not self._closing else 503, text="invalid ticket")
        self._tickets.discard(ticket)
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        self.connection_count += 1
        conn = _Connection(ws=ws, request=request, id=self.connection_count)
        self._connections.append(conn)
        await ws.send_str(
            json.dumps(
                {
                    "type": "hello",
                    "num_connections": self.open_connections,
                    "debug_info": {
                        "host": "fake-slack",
                        "build_number": 1,
                        "approximate_connection_time": 18060,
                    },
                    "connection_info": {"app_id": self.app_id},
                }
            )
        )
        self._connects.push(conn.id)
        try:
            async for msg in ws:
                if msg.type != WSMsgType.TEXT:
                    continue
                try:
                    data = json.loads(msg.data)
                except ValueError:
                    continue
                eid = data.get("envelope_id") if isinstance(data, dict) else None
                if not eid:
                    continue
                ack = Ack(envelope_id=eid, payload=data.get("payload"), raw=data)
                self._acks.push(ack)
                fut = self._ack_futures.get(eid)
                if fut is not None and not fut.done():
                    fut.set_result(ack)
        finally:
            with contextlib.suppress(ValueError):
                self._connections.remove(conn)
        return ws
