"""A small Discord REST client (token auth, base URL from settings, JSON in and out) and its
error. The publisher sends every request through its limiter first (see docs/delivery.md)."""

from __future__ import annotations

from collections.abc import Sequence
from json import dumps
from typing import Any

import aiohttp

DEFAULT_API_URL = "https://discord.com/api/v10"
USER_AGENT = "DiscordBot (https://github.com/depeche/depeche, 0.1) Depeche"
NO_MENTIONS: dict[str, Any] = {"parse": [], "replied_user": False}


class DiscordAPIError(Exception):
    """A non-2xx answer from Discord: ``status``, Discord's JSON ``code`` and ``message``."""

    def __init__(
        self,
        status: int,
        code: int,
        message: str,
        retry_after: float | None = None,
        *,
        is_global: bool = False,
        scope: str = "",
    ) -> None:
        super().__init__(f"Discord {status} {message} ({code})")
        self.status, self.code, self.message, self.retry_after = status, code, message, retry_after
        self.is_global = is_global
        self.scope = scope  # X-RateLimit-Scope: user, global or shared (a shared resource)


class DiscordREST:
    """A small REST client: token auth, base URL from settings, JSON in and out."""

    def __init__(
        self,
        *,
        token: str,
        api_url: str = DEFAULT_API_URL,
        session: aiohttp.ClientSession | None = None,
        timeout: float = 20.0,
    ) -> None:
        self.api_url = api_url.rstrip("/")
        self._token = token
        self._session = session
        self._own_session = session is None
        self._timeout = aiohttp.ClientTimeout(total=timeout)

    def __repr__(self) -> str:  # never the token
        return f"<DiscordREST {self.api_url}>"

    async def _get_session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=self._timeout)
            self._own_session = True
        return self._session

    async def close(self) -> None:
        if self._own_session and self._session is not None and not self._session.closed:
            await self._session.close()

    async def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict[str, Any] | None = None,
        files: Sequence[tuple[str, bytes, str]] = (),
    ) -> tuple[Any, dict[str, str]]:
        """The decoded JSON body and headers; `DiscordAPIError` for a non-2xx answer.

        ``files`` (name, content, type): sent as ``multipart/form-data`` with the JSON in
        ``payload_json`` and the files as ``files[n]`` (an embed shows one with
        ``attachment://<name>``)."""
        session = await self._get_session()
        headers = {"Authorization": f"Bot {self._token}", "User-Agent": USER_AGENT}
        data: aiohttp.FormData | None = None
        if files:
            form = aiohttp.FormData()
            form.add_field("payload_json", dumps(json))  # a plain field, as discord.py sends it
            for index, (name, content, content_type) in enumerate(files):
                form.add_field(f"files[{index}]", content, filename=name, content_type=content_type)
            data, json = form, None
        async with session.request(
            method, self.api_url + path, json=json, data=data, params=params, headers=headers
        ) as response:
            raw = await response.read()
            body: Any = None
            if raw and response.content_type == "application/json":
                try:
                    body = await response.json(content_type=None)
                except ValueError:
                    body = None
            answer_headers = {key: value for key, value in response.headers.items()}
            if response.status < 300:
                return body, answer_headers
            retry_after = None
            is_global = False
            scope = response.headers.get("X-RateLimit-Scope", "")
            if response.status == 429:
                if isinstance(body, dict) and "retry_after" in body:
                    retry_after = _seconds(body.get("retry_after"))
                    is_global = bool(body.get("global")) or scope == "global"
                else:  # Cloudflare: an HTML page and a Retry-After header, for the whole IP
                    body = {"message": "rate limited by Cloudflare"}
                    is_global = True
                if retry_after is None:
                    retry_after = _seconds(response.headers.get("Retry-After")) or 60.0
                is_global = is_global or response.headers.get("X-RateLimit-Global") == "true"
            try:
                code = int(body.get("code", 0)) if isinstance(body, dict) else 0
            except (TypeError, ValueError):
                code = 0
            message = (
                str(body.get("message", "")) if isinstance(body, dict) else response.reason or ""
            )
            if response.status == 429:
                message = "global rate limit" if is_global else f"rate limit ({scope or 'user'})"
                if isinstance(body, dict) and "Cloudflare" in str(body.get("message")):
                    message += " (Cloudflare)"
            raise DiscordAPIError(
                response.status, code, message, retry_after, is_global=is_global, scope=scope
            )


def _seconds(value: Any) -> float | None:
    """A ``retry_after`` (float seconds in the body, integer seconds in the header)."""
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        return None
    return seconds if 0 <= seconds < 24 * 3600 else None
