"""What the story knew on a day: an answer as of a date shows nothing that came later.

On 16 November, Sam Altman's Microsoft role had not been announced and his firing had not
happened: an answer as of that day lists neither. A role that ends after the day is shown as held,
without its end; a planned role is shown once it was announced.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from digests.story import Event, Role, StoryDate

if TYPE_CHECKING:
    from digests.whois.index import StoryIndex


def hides_future(ix: StoryIndex, as_of: dt.date) -> bool:
    """Is an answer as of this day blind to part of the story (a day before its last)?"""
    return as_of < ix.story.last_day


def known(date: StoryDate | None, as_of: dt.date) -> bool:
    """Had something dated ``date`` happened (or been reported) by ``as_of``? Undated: yes."""
    return date is None or date.first <= as_of


def event_known(event: Event, as_of: dt.date) -> bool:
    return event.date.first <= as_of


def role_as_known(role: Role, as_of: dt.date) -> Role | None:
    """The role as it was known on ``as_of``: None before it began or was announced; an end
    that came later is dropped."""
    if role.since is not None and role.since.first > as_of:
        return None
    if role.until is not None and role.until.first > as_of:
        return role.model_copy(update={"until": None})
    return role
