"""Dépêche core: stories, digests and who-is-who answers. Pure Python: no platform, no database."""
