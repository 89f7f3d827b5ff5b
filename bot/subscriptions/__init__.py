"""Subscription options beyond the daily schedule (days, cadence, format) and personal
subscriptions: validation and display shared by chat, the CLI and the configuration file.
Storage stays in `bot.outbox`."""
