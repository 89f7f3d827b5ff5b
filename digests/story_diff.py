"""What changed between two revisions of a story: per event, then per section.

Pure: two `Story` objects in, a `StoryDiff` out. The CLI prints it (`depeche story diff`), the
chat draft preview shows it, and corrections use `StoryDiff.changed_days` to find the days whose
digests read differently.

>>> from digests.story import default_story
>>> story = default_story()
>>> diff_stories(story, story).is_empty
True
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Literal

from digests.story import Event, Story

ChangeKind = Literal["added", "removed", "changed"]
# Sections whose items carry an id; faq entries (no id) are compared as a whole list.
_ID_SECTIONS = ("people", "organisations", "quotes", "scenarios", "context")


@dataclass(frozen=True, slots=True)
class EventChange:
    """One event added, removed or changed; ``fields`` names what changed (``text.fr``...)."""

    kind: ChangeKind
    event_id: str
    before: Event | None
    after: Event | None
    fields: tuple[str, ...] = ()

    @property
    def days(self) -> set[dt.date]:
        """The story days whose digest this change touches (old and new date)."""
        return {event.date.first for event in (self.before, self.after) if event is not None}


@dataclass(frozen=True, slots=True)
class SectionChange:
    section: str
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    changed: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class StoryDiff:
    events: tuple[EventChange, ...]
    sections: tuple[SectionChange, ...]
    meta: tuple[str, ...]  # changed top-level fields: title, summary, sources...

    @property
    def is_empty(self) -> bool:
        return not (self.events or self.sections or self.meta)

    @property
    def changed_days(self) -> tuple[dt.date, ...]:
        """Days with an event added, removed or changed, in order."""
        days: set[dt.date] = set()
        for change in self.events:
            days |= change.days
        return tuple(sorted(days))


def _flatten(value: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _flatten(item, f"{prefix}.{key}" if prefix else str(key))
    else:
        yield prefix, value


def _changed_fields(before: Any, after: Any) -> tuple[str, ...]:
    """Dotted names of the fields that differ (``headline.en``, ``date``, ``people``)."""
    old = dict(_flatten(before.model_dump(mode="json", exclude_none=True)))
    new = dict(_flatten(after.model_dump(mode="json", exclude_none=True)))
    names: list[str] = []
    for name in [*old, *(key for key in new if key not in old)]:
        if old.get(name) != new.get(name):
            top = name.split(".")[0]
            # A date is one thing to a reader, whatever its inner shape.
            names.append(top if top == "date" else name)
    return tuple(dict.fromkeys(names))


def _by_id(items: Iterable[Any]) -> dict[str, Any]:
    return {item.id: item for item in items}


def diff_stories(before: Story, after: Story) -> StoryDiff:
    """Per event (in the new story's order, removed ones last), then the other sections."""
    old_events, new_events = _by_id(before.events), _by_id(after.events)
    events: list[EventChange] = []
    for event in after.timeline:
        previous = old_events.get(event.id)
        if previous is None:
            events.append(EventChange("added", event.id, None, event))
        elif previous != event:
            events.append(
                EventChange("changed", event.id, previous, event, _changed_fields(previous, event))
            )
    for event in before.timeline:
        if event.id not in new_events:
            events.append(EventChange("removed", event.id, event, None))

    sections: list[SectionChange] = []
    for name in _ID_SECTIONS:
        old, new = _by_id(getattr(before, name)), _by_id(getattr(after, name))
        change = SectionChange(
            name,
            added=tuple(key for key in new if key not in old),
            removed=tuple(key for key in old if key not in new),
            changed=tuple(key for key in new if key in old and old[key] != new[key]),
        )
        if change.added or change.removed or change.changed:
            sections.append(change)
    if before.faq != after.faq:
        sections.append(SectionChange("faq", changed=("faq",)))
    meta = _changed_fields(before.meta, after.meta)
    return StoryDiff(
        tuple(events), tuple(sections), tuple(dict.fromkeys(m.split(".")[0] for m in meta))
    )


def render_diff(diff: StoryDiff, *, before: str = "A", after: str = "B") -> str:
    """A readable, per-event account of ``diff`` (English; for the command line)."""
    if diff.is_empty:
        return f"no difference between {before} and {after}\n"
    lines: list[str] = []
    sign = {"added": "+", "removed": "-", "changed": "~"}
    for change in diff.events:
        event = change.after or change.before
        assert event is not None
        lines.append(
            f"{sign[change.kind]} event {change.event_id} ({event.date.first.isoformat()}) "
            f"{change.kind}: {event.headline.en}"
        )
        if change.kind == "changed" and change.before is not None and change.after is not None:
            for name in change.fields:
                lines.append(
                    f"    {name}: {_show(change.before, name)} -> {_show(change.after, name)}"
                )
    for section in diff.sections:
        parts = [
            f"{label} {', '.join(ids)}"
            for label, ids in (
                ("added", section.added),
                ("removed", section.removed),
                ("changed", section.changed),
            )
            if ids
        ]
        lines.append(f"~ {section.section}: {'; '.join(parts)}")
    if diff.meta:
        lines.append(f"~ story: {', '.join(diff.meta)} changed")
    return "\n".join(lines) + "\n"


def _show(event: Event, name: str) -> str:
    if name == "date":
        date = event.date
        if date.on is not None:
            return date.on.isoformat()
        return f"{date.first.isoformat()}..{date.last.isoformat()} ({date.precision})"
    value: Any = event.model_dump(mode="json", exclude_none=True)
    for part in name.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    if value is None:
        return "(none)"
    text = (
        value
        if isinstance(value, str)
        else ", ".join(map(str, value))
        if isinstance(value, list)
        else str(value)
    )
    return repr(text if len(text) <= 80 else text[:79] + "…")


__all__ = ["EventChange", "SectionChange", "StoryDiff", "diff_stories", "render_diff"]
