"""Slack Web API clients: one shared aiohttp session, one client per workspace token.

The base URL always comes from settings (``SLACK_API_URL``), so tests and proxies can point the
bot at another server. A single-workspace install has one bot token; ``tokens`` maps further
team ids to their own bot tokens (several installs served by one process).
"""

from __future__ import annotations

from collections.abc import Mapping

import aiohttp
from slack_sdk.web.async_client import AsyncWebClient

DEFAULT_API_URL = "https://slack.com/api/"


def normalise_api_url(url: str | None) -> str:
    """slack_sdk wants the base URL to end with a slash."""
    url = url or DEFAULT_API_URL
    return url if url.endswith("/") else url + "/"


class SlackClients:
    """``for_team(team_id)`` -> an `AsyncWebClient` with that workspace's token."""

    def __init__(
        self,
        token: str | None,
        *,
        api_url: str | None = None,
        tokens: Mapping[str, str] | None = None,
        timeout: int = 30,
        fallback: bool = True,
    ) -> None:
        self.token = token
        # Single-workspace mode falls back to ``token`` for any team; an app installed in many
        # workspaces must not (a workspace's token is never used for another one).
        self.fallback = fallback
        self.api_url = normalise_api_url(api_url)
        self.tokens = dict(tokens or {})
        self.timeout = timeout
        self._session: aiohttp.ClientSession | None = None
        self._clients: dict[str, AsyncWebClient] = {}

    @property
    def session(self) -> aiohttp.ClientSession:
        """Created on first use, inside the running loop; keeps connections alive."""
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=256, limit_per_host=256)
            )
            self._clients.clear()
        return self._session

    def for_token(self, token: str | None) -> AsyncWebClient:
        key = token or ""
        session = self.session
        client = self._clients.get(key)
        if client is None:
            client = self._clients[key] = AsyncWebClient(
                token=token, base_url=self.api_url, session=session, timeout=self.timeout
            )
        return client

    def for_team(self, team_id: str | None) -> AsyncWebClient:
        """The workspace's client; without a token for it (not installed, or uninstalled) a
        client whose calls fail with ``not_authed`` unless single-workspace mode applies."""
        return self.for_token(self.tokens.get(team_id or "", self.token if self.fallback else None))

    @property
    def default(self) -> AsyncWebClient:
        return self.for_token(self.token)

    async def close(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None
        self._clients.clear()
