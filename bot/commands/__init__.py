"""CLI sub-commands: each module exposes ``register(subparsers)`` and is listed in `bot.cli`."""
