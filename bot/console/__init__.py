"""The console publisher: digests printed to standard output (no platform token needed)."""

from bot.console.publisher import ConsolePublisher

__all__ = ["ConsolePublisher"]
