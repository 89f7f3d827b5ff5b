"""Living stories: revisions in the database, served live by every instance."""

from bot.stories.live import LiveStories
from bot.stories.revisions import (
    Published,
    RevisionInfo,
    StaleRevision,
    StoryRevisions,
    UnknownRevision,
)

__all__ = [
    "LiveStories",
    "Published",
    "RevisionInfo",
    "StaleRevision",
    "StoryRevisions",
    "UnknownRevision",
]
