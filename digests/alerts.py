"""Alerts on a person or organisation: which of a story's people and organisations a day's
digest involves, and how a reader names one.

Pure: the bot attaches alerts to subscriptions and mentions a role or a user group when the
digest it posts involves an alert's subject (an event of the day names them).

>>> from digests.story import default_story
>>> story = default_story()
>>> resolve_subject(story, "sam altman"), resolve_subject(story, "Nobody")
('sam-altman', None)
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import Iterable

from digests.story import Lang, Story

MAX_CHOICES = 25  # Discord's autocomplete limit


def _key(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return " ".join("".join(c for c in decomposed if not unicodedata.combining(c)).split())


def subjects(story: Story, lang: Lang = "en") -> list[tuple[str, str]]:
    """(id, name) of every person and organisation of the story, people first."""
    people = [(person.id, person.name) for person in story.people]
    organisations = [(org.id, org.name_in(lang)) for org in story.organisations]
    return people + organisations


def resolve_subject(story: Story, text: str) -> str | None:
    """The id of the person or organisation ``text`` names (its id, name, local name or an
    alias, ignoring case and accents), or None."""
    wanted = _key(text)
    if not wanted:
        return None
    for person in story.people:
        if wanted in {_key(person.id), _key(person.name), *(_key(a) for a in person.aliases)}:
            return person.id
    for org in story.organisations:
        names = {_key(org.id), _key(org.name), *(_key(a) for a in org.aliases)}
        names |= {_key(org.name_in("fr")), _key(org.name_in("en"))}
        if wanted in names:
            return org.id
    return None


def subject_name(story: Story, subject: str, lang: Lang) -> str:
    """How a reader names the subject (its id if the story no longer has it)."""
    person = story.person_by_id.get(subject)
    if person is not None:
        return person.name
    org = story.organisation_by_id.get(subject)
    return org.name_in(lang) if org is not None else subject


def involved(story: Story, days: Iterable[dt.date]) -> set[str]:
    """Ids of the people and organisations named by the events of ``days``."""
    found: set[str] = set()
    for day in days:
        for event in story.events_on(day):
            found.update(event.people)
            found.update(event.organisations)
    return found


def choices(story: Story, current: str, lang: Lang) -> list[tuple[str, str]]:
    """(name, id) of the subjects whose name contains ``current``, at most 25 (autocomplete)."""
    wanted = _key(current)
    return [
        (name, subject)
        for subject, name in subjects(story, lang)
        if not wanted or wanted in _key(name) or wanted in _key(subject)
    ][:MAX_CHOICES]
