"""The workspaces a multi-workspace Slack bot is installed in, and what happens when one leaves."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from bot.admin import Actor, AdminService, messages
from bot.slack.install import EncryptedInstallationStore, TokenKeyError

_log = logging.getLogger(__name__)

# Who pauses a workspace's subscriptions when Slack says the app is gone.
SYSTEM = Actor(user_id=None, via="cli", where="slack", lang="en")


class Workspaces:
    """The workspaces a multi-workspace bot is installed in.

    Keeps the clients' team -> token map in step with the installation store (at start, after
    each install, and every ``refresh_seconds`` for installs finished on another instance), and
    handles ``app_uninstalled`` / ``tokens_revoked``: the installation is deleted, the token is
    dropped (never used again, for that workspace or any other), and the workspace's
    subscriptions are paused with the reason, so ``status`` says why nothing is posted.
    """

    def __init__(
        self,
        installations: EncryptedInstallationStore,
        *,
        tokens: dict[str, str],
        admin: AdminService,
        refresh_seconds: float = 60.0,
    ) -> None:
        self.installations = installations
        self.tokens = tokens
        self.admin = admin
        self.refresh_seconds = refresh_seconds
        # A SLACK_BOT_TOKEN beside OAuth serves its own workspace only (found by auth.test).
        self.fixed: dict[str, str] = {}
        self._refresh_failing = False
        installations.on_saved = self.refresh

    async def refresh(self) -> None:
        current = {**self.fixed, **await self.installations.bot_tokens()}
        self.tokens.clear()
        self.tokens.update(current)

    async def keep_fresh(self) -> None:
        """Refresh forever (until cancelled); one log line when it starts or stops failing."""
        while True:
            try:
                await self.refresh()
            except TokenKeyError as error:
                if not self._refresh_failing:
                    _log.error("Slack: %s", error)
                self._refresh_failing = True
            except Exception as error:  # the database may be away for a while
                if not self._refresh_failing:
                    _log.warning("Slack: cannot read the installed workspaces: %s", error)
                self._refresh_failing = True
            else:
                if self._refresh_failing:
                    _log.info("Slack: installed workspaces read again")
                self._refresh_failing = False
            await asyncio.sleep(self.refresh_seconds)

    def register(self, app: Any) -> None:
        app.event("app_uninstalled")(self._on_uninstalled)
        app.event("tokens_revoked")(self._on_tokens_revoked)

    async def _on_uninstalled(self, body: dict[str, Any]) -> None:
        await self.remove(str(body.get("team_id") or ""), reason="uninstalled")

    async def _on_tokens_revoked(self, body: dict[str, Any], event: dict[str, Any]) -> None:
        # Only the bot's tokens matter: user tokens are never stored (bot-only installation).
        if (event.get("tokens") or {}).get("bot"):
            await self.remove(str(body.get("team_id") or ""), reason="revoked")

    async def remove(self, team_id: str, *, reason: str) -> None:
        if not team_id:
            return
        await self.installations.async_delete_all(enterprise_id=None, team_id=team_id)
        self.tokens.pop(team_id, None)
        self.fixed.pop(team_id, None)
        paused = 0
        for info in await self.admin.list(platform="slack", workspace_id=team_id):
            if not info.active:
                continue
            _t = messages("fr" if info.lang == "fr" else "en")
            text = (
                _t("the app was uninstalled from this workspace")
                if reason == "uninstalled"
                else _t("the app's access to this workspace was revoked")
            )
            await self.admin.pause(info.id, SYSTEM, reason=text)
            paused += 1
        _log.warning(
            "Slack: workspace %s %s the app; %d subscription(s) paused",
            team_id,
            "uninstalled" if reason == "uninstalled" else "revoked the tokens of",
            paused,
        )
