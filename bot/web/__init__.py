"""The web side: reader pages, feeds, the timeline picture, the admin console, health and
metrics — one aiohttp application on one port, on the bot's event loop.

``depeche run`` serves it beside the platforms; ``depeche web`` serves it alone. Modules:

- `state`: what the handlers share (`WebState`: the platform context, the clock, readiness);
- `app`: the application factory, security headers, `start_site`;
- `reader`: story, day, FAQ and person pages; `feeds`: Atom and JSON Feed;
- `picture`: the timeline PNG; `health`: /healthz, /readyz, /metrics;
- ``sessions` and `console`: the admin console (signed cookies, CSRF tokens).
"""

from __future__ import annotations

from bot.web.app import WebServer, create_app, start_site
from bot.web.state import WebState

__all__ = ["WebServer", "WebState", "create_app", "start_site"]
