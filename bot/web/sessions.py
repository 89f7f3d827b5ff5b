"""Sessions in signed cookies, CSRF tokens and a small rate limiter for forms.

The cookie holds ``base64url(json).signature`` (HMAC-SHA256 with the web secret); it is
HttpOnly, SameSite=Lax and Secure when the public URL is https. A form carries a CSRF token
derived from the session id (HMAC again): a POST without the right token is refused, and so is
one whose Origin header names another site.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from bot.web.state import STATE, WebState

COOKIE = "depeche_session"
MAX_AGE = 8 * 3600


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def sign(secret: bytes, payload: dict[str, Any]) -> str:
    body = _b64(json.dumps(payload, separators=(",", ":"), sort_keys=True).encode())
    mac = hmac.new(secret, body.encode(), hashlib.sha256).digest()
    return f"{body}.{_b64(mac)}"


def unsign(secret: bytes, value: str, *, now: float | None = None) -> dict[str, Any] | None:
    """The payload of a cookie we signed and that has not expired, else None."""
    try:
        body, mac = value.split(".", 1)
        expected = hmac.new(secret, body.encode(), hashlib.sha256).digest()
        if not hmac.compare_digest(_unb64(mac), expected):
            return None
        payload = json.loads(_unb64(body))
    except (ValueError, TypeError):
        return None
    if not isinstance(payload, dict) or not isinstance(payload.get("sid"), str):
        return None
    if float(payload.get("exp", 0)) < (time.time() if now is None else now):
        return None
    return payload


@dataclass
class Session:
    sid: str
    data: dict[str, Any] = field(default_factory=dict)
    fresh: bool = False  # to be sent back (new, or changed)

    def csrf_token(self, secret: bytes) -> str:
        return hmac.new(secret, f"csrf:{self.sid}".encode(), hashlib.sha256).hexdigest()


# aiohttp >= 3.13 wants typed request keys (a plain string warns); older ones take a string.
SESSION_KEY: Any = (
    web.RequestKey("depeche_session", Session) if hasattr(web, "RequestKey") else "depeche_session"
)


def session_of(request: web.Request) -> Session:
    """The request's session (a new one when the cookie is absent, forged or expired)."""
    cached = request.get(SESSION_KEY)
    if isinstance(cached, Session):
        return cached
    state = request.app[STATE]
    payload = unsign(state.secret, request.cookies.get(COOKIE, ""))
    if payload is None:
        session = Session(secrets.token_urlsafe(24), fresh=True)
    else:
        session = Session(payload["sid"], dict(payload.get("data") or {}))
    request[SESSION_KEY] = session
    return session


def save(request: web.Request, response: web.StreamResponse) -> None:
    """Send the session cookie back if it is new or changed."""
    session = request.get(SESSION_KEY)
    if not isinstance(session, Session) or not session.fresh:
        return
    state: WebState = request.app[STATE]
    value = sign(
        state.secret, {"sid": session.sid, "data": session.data, "exp": time.time() + MAX_AGE}
    )
    response.set_cookie(
        COOKIE,
        value,
        max_age=MAX_AGE,
        path="/",
        httponly=True,
        samesite="Lax",
        secure=state.public_url.startswith("https://"),
    )


def check_csrf(request: web.Request, form: Any) -> None:
    """Refuse (403) a form without this session's token, or posted from another origin."""
    state = request.app[STATE]
    origin = request.headers.get("Origin")
    if origin and origin != "null":
        own = {str(request.url.origin())}
        if state.public_url:
            own.add(state.public_url)
        if origin.rstrip("/") not in own:
            raise web.HTTPForbidden(text="cross-site form refused\n")
    session = session_of(request)
    given = str(form.get("csrf", ""))
    if session.fresh or not hmac.compare_digest(
        given.encode(), session.csrf_token(state.secret).encode()
    ):
        raise web.HTTPForbidden(text="missing or wrong CSRF token: reload the page\n")
