"""Dépêche adapters: the CLI, settings, store, scheduler and the Discord/Slack/console platforms."""
