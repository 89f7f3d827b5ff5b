"""Story files: load, validate (reporting every error at once) and expose an immutable `Story`.

A story is a YAML file with French and English side by side for every user-visible string.
The format is documented in ``docs/story-format.md``; the shipped default story lives in
``digests/stories/``.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StringConstraints,
    ValidationError,
    model_validator,
)

from digests.errors import StoryError, StoryIssue
from digests.storyfile import DEFAULT_STORY_MAX_BYTES, check_node_budget, read_story_text

Lang = Literal["fr", "en"]
LANGS: tuple[Lang, ...] = ("fr", "en")
DEFAULT_STORY_SLUG = "openai-crisis-2023"

Identifier = Annotated[
    str,
    StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]*$", max_length=64),
]
NonEmpty = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


class Text(_Model):
    """A user-visible string in both languages; both are required."""

    fr: NonEmpty
    en: NonEmpty

    def __call__(self, lang: Lang) -> str:
        return self.fr if lang == "fr" else self.en


Precision = Literal["day", "weekend", "approximate"]


def _coerce_story_date(value: Any) -> Any:
    """Accept a bare date (``2023-11-17``) as shorthand for an exact day."""
    if isinstance(value, dt.date | str) and not isinstance(value, dt.datetime):
        return {"on": value}
    return value


class StoryDate(_Model):
    """A date as precise as the source allows.

    ``on`` alone is an exact day. ``from``/``to`` is a window, with ``precision`` saying what kind
    (``weekend``, or ``approximate`` when the source gives no date and we record the window it
    implies). ``label`` says in words how the source puts it ("a few days after 17 November").
    """

    on: dt.date | None = None
    start: dt.date | None = Field(default=None, alias="from")
    end: dt.date | None = Field(default=None, alias="to")
    precision: Precision = "day"
    label: Text | None = None

    @model_validator(mode="after")
    def _check_shape(self) -> StoryDate:
        if self.on is not None:
            if self.start is not None or self.end is not None:
                raise ValueError("give either 'on' or 'from'/'to', not both")
            if self.precision == "weekend":
                raise ValueError("a weekend needs 'from' and 'to'")
            return self
        if self.start is None or self.end is None:
            raise ValueError("a date needs 'on' (exact day) or both 'from' and 'to' (a window)")
        if self.end < self.start:
            raise ValueError(f"window ends ({self.end}) before it starts ({self.start})")
        if self.precision == "day" and self.start != self.end:
            raise ValueError("a window of several days needs precision 'weekend' or 'approximate'")
        if self.precision == "weekend" and (
            self.start.weekday() not in (4, 5) or (self.end - self.start).days > 2
        ):
            raise ValueError(
                "a weekend window must start on a Friday or Saturday and last at most 3 days"
            )
        return self

    @property
    def first(self) -> dt.date:
        """The first day of the window (the day an event is reported on)."""
        return self.on if self.on is not None else self.start  # type: ignore[return-value]

    @property
    def last(self) -> dt.date:
        return self.on if self.on is not None else self.end  # type: ignore[return-value]

    @property
    def is_exact(self) -> bool:
        return self.precision == "day"


OptionalStoryDate = Annotated[StoryDate | None, BeforeValidator(_coerce_story_date)]
RequiredStoryDate = Annotated[StoryDate, BeforeValidator(_coerce_story_date)]


class Source(_Model):
    id: Identifier
    title: Text
    publisher: NonEmpty | None = None
    url: str | None = None
    language: Lang = "fr"


class Role(_Model):
    """A time-ranged fact: ``title`` at ``organisation`` from ``since`` until ``until``.

    ``until`` is the day the role ended: from that day on the person no longer holds it.
    ``key`` is a stable tag for the kind of role (``ceo``, ``president``...) used to answer
    "who is the CEO of ..." questions; ``interim`` marks an acting holder.
    """

    key: Identifier
    title: Text
    organisation: Identifier | None = None
    since: OptionalStoryDate = None
    until: OptionalStoryDate = None
    interim: bool = False
    planned: bool = False
    note: Text | None = None

    def held_on(self, day: dt.date) -> bool:
        started = self.since is None or self.since.first <= day
        ended = self.until is not None and self.until.first <= day
        return started and not ended


RelationType = Literal["recruited_by", "replaced", "succeeded_by", "works_with", "cofounded_with"]


class Relation(_Model):
    type: RelationType
    person: Identifier
    text: Text | None = None
    date: OptionalStoryDate = None


class Person(_Model):
    id: Identifier
    name: NonEmpty
    aliases: tuple[NonEmpty, ...] = ()
    bio: Text
    roles: tuple[Role, ...] = ()
    relations: tuple[Relation, ...] = ()

    def roles_on(self, day: dt.date) -> list[Role]:
        return [role for role in self.roles if role.held_on(day)]


OrganisationRelationType = Literal["partner_of", "shareholder_of", "rival_of"]


class OrganisationRelation(_Model):
    """``type`` links this organisation to ``organisation``: Microsoft ``shareholder_of`` OpenAI.
    ``partner_of`` and ``rival_of`` go both ways."""

    type: OrganisationRelationType
    organisation: Identifier
    text: Text | None = None


class Organisation(_Model):
    """``name`` is the proper name ("OpenAI"); ``local_name`` translates a common-noun name
    ("conseil d'administration d'OpenAI" / "OpenAI board") where one is needed."""

    id: Identifier
    name: NonEmpty
    local_name: Text | None = None
    aliases: tuple[NonEmpty, ...] = ()
    description: Text
    relations: tuple[OrganisationRelation, ...] = ()

    def name_in(self, lang: Lang) -> str:
        return self.local_name(lang) if self.local_name is not None else self.name


Predicate = Literal[
    "fired",
    "resigned",
    "appointed",
    "negotiated",
    "joined",
    "will_lead",
    "declared",
    "regretted",
    "explained",
    "signed",
    "speculated",
    "threatened",
    "warned",
    "announced",
    "approved",
    "disapproved",
    "convinced",
    "reported",
    "demanded",
    "advocated",
    "wanted",
    "instigated",
]


class Fact(_Model):
    """A structured statement about an event: ``subject`` ``predicate`` (``by``) (``object``).

    Subjects and agents are person or organisation ids. These facts let the who-is-who engine
    answer "who was fired by the board?" without parsing prose.
    """

    predicate: Predicate
    subject: Identifier | None = None
    by: Identifier | None = None
    object: Identifier | None = None
    role: Identifier | None = None
    # Who did it when the source does not name them ("three key senior scientists"): the
    # who-is-who engine then says so instead of naming someone else.
    group: Text | None = None


class Event(_Model):
    """One news item: a fact, which may draw on several sentences of the source.

    ``quote`` is the main sentence of the source, ``more_quotes`` the others the item also
    draws on (all verbatim). Events of one day that share a ``statement`` (the same post, the
    same interview, the same report) are shown as one item in digests.
    """

    id: Identifier
    date: RequiredStoryDate
    headline: Text
    text: Text
    people: tuple[Identifier, ...] = ()
    organisations: tuple[Identifier, ...] = ()
    facts: tuple[Fact, ...] = ()
    source: Identifier | None = None
    quote: NonEmpty = Field(description="The sentence of the source this event comes from.")
    more_quotes: tuple[NonEmpty, ...] = ()
    statement: Identifier | None = None
    note: Text | None = None
    # Published on its day, it goes out at once as a short alert to live subscriptions that
    # opted in (``breaking = on``). Only an event of one exact day can be "today's".
    breaking: StrictBool = False

    @model_validator(mode="after")
    def _breaking_needs_one_day(self) -> Event:
        if self.breaking and not (self.date.on is not None or self.date.first == self.date.last):
            raise ValueError("a breaking event needs an exact date (one day), not a window")
        return self

    @property
    def source_sentences(self) -> tuple[str, ...]:
        """Every sentence of the source this item draws on, main one first."""
        return (self.quote, *self.more_quotes)


class Quote(_Model):
    """What a person said. ``speech: indirect`` when the source only reports it ("Nadella said
    he had not been given a reason"): such words are never shown between quotation marks."""

    id: Identifier
    person: Identifier
    text: Text
    speech: Literal["direct", "indirect"] = "direct"
    original: NonEmpty | None = None
    date: OptionalStoryDate = None
    context: Text | None = None
    source: Identifier | None = None


class FaqEntry(_Model):
    question: Text
    answer: Text


class Scenario(_Model):
    """A possible outcome. ``text`` reads as one sentence of "what next" (the scenarios of a
    story are shown together, in order); ``as_of`` is the day the source sets them out."""

    id: Identifier
    title: Text
    text: Text
    as_of: OptionalStoryDate = None


class ContextFact(_Model):
    """Background the story needs that is not a dated event (a valuation, a partnership)."""

    id: Identifier
    text: Text
    # With a headline, analysis is a news item of its day's digest; without, a background line.
    headline: Text | None = None
    people: tuple[Identifier, ...] = ()
    organisations: tuple[Identifier, ...] = ()
    quote: NonEmpty
    more_quotes: tuple[NonEmpty, ...] = ()
    amount_usd: float | None = None
    facts: tuple[Fact, ...] = ()  # who did what in it, for who-is-who questions
    # When the source's analysis becomes known: shown from that day on (in that day's digest as
    # analysis, in the story so far after it). None: background true from the story's start.
    as_of: OptionalStoryDate = None

    def known_on(self, day: dt.date) -> bool:
        return self.as_of is None or self.as_of.first <= day

    @property
    def source_sentences(self) -> tuple[str, ...]:
        return (self.quote, *self.more_quotes)


class StoryNote(Text):
    """A note about the story as a whole; with ``as_of``, it is only shown from that day on
    (a note must never mention what happens later)."""

    as_of: OptionalStoryDate = None


class DayRecap(_Model):
    """One short sentence saying what happened on a day, for the "Previously" reminder."""

    date: dt.date
    recap: Text


class StoryMeta(_Model):
    slug: Identifier
    title: Text
    summary: Text
    source_language: Lang = "fr"
    sources: tuple[Source, ...] = Field(min_length=1)
    notes: tuple[StoryNote, ...] = ()


SECTIONS: dict[str, type[_Model]] = {
    "people": Person,
    "organisations": Organisation,
    "events": Event,
    "quotes": Quote,
    "faq": FaqEntry,
    "scenarios": Scenario,
    "context": ContextFact,
    "days": DayRecap,
}


@dataclass(frozen=True)
class Story:
    """An immutable, validated story. Build one with `load_story` or `parse_story`."""

    meta: StoryMeta
    people: tuple[Person, ...]
    organisations: tuple[Organisation, ...]
    events: tuple[Event, ...]
    quotes: tuple[Quote, ...]
    faq: tuple[FaqEntry, ...]
    scenarios: tuple[Scenario, ...]
    context: tuple[ContextFact, ...]
    days_recaps: tuple[DayRecap, ...] = ()
    path: str = "<memory>"

    @property
    def slug(self) -> str:
        return self.meta.slug

    @cached_property
    def person_by_id(self) -> dict[str, Person]:
        return {person.id: person for person in self.people}

    @cached_property
    def organisation_by_id(self) -> dict[str, Organisation]:
        return {org.id: org for org in self.organisations}

    @cached_property
    def source_by_id(self) -> dict[str, Source]:
        return {source.id: source for source in self.meta.sources}

    @cached_property
    def timeline(self) -> tuple[Event, ...]:
        """Events in story order: by first day, then as listed in the file (stable sort)."""
        return tuple(sorted(self.events, key=lambda event: event.date.first))

    @cached_property
    def _events_by_day(self) -> dict[dt.date, tuple[Event, ...]]:
        days: dict[dt.date, list[Event]] = {}
        for event in self.timeline:
            days.setdefault(event.date.first, []).append(event)
        return {day: tuple(events) for day, events in days.items()}

    @cached_property
    def days(self) -> tuple[dt.date, ...]:
        """Every date that has at least one event, in order."""
        return tuple(sorted(self._events_by_day))

    @property
    def first_day(self) -> dt.date:
        return self.days[0]

    @property
    def last_day(self) -> dt.date:
        return self.days[-1]

    def events_on(self, day: dt.date) -> tuple[Event, ...]:
        return self._events_by_day.get(day, ())

    def recap_of(self, day: dt.date) -> Text | None:
        """The story's one-sentence summary of ``day`` (None when the file gives none)."""
        for recap in self.days_recaps:
            if recap.date == day:
                return recap.recap
        return None

    def events_until(self, day: dt.date) -> tuple[Event, ...]:
        return tuple(event for event in self.timeline if event.date.first <= day)

    def day_number(self, day: dt.date) -> int:
        """Day 1 is the story's first day; calendar days, not event days."""
        return (day - self.first_day).days + 1

    def name_of(self, entity_id: str) -> str:
        if entity_id in self.person_by_id:
            return self.person_by_id[entity_id].name
        if entity_id in self.organisation_by_id:
            return self.organisation_by_id[entity_id].name
        raise KeyError(entity_id)


# --------------------------------------------------------------------------- loading


def _format_path(loc: Sequence[str | int]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


class _Lines:
    """Maps a field path to its line in the YAML text, from PyYAML's node tree."""

    def __init__(self, root: yaml.Node | None) -> None:
        self._root = root

    def line(self, loc: Sequence[str | int]) -> int | None:
        node = self._root
        if node is None:
            return None
        best = node.start_mark.line + 1
        for part in loc:
            child: yaml.Node | None = None
            if isinstance(node, yaml.MappingNode):
                for key, value in node.value:
                    if isinstance(key, yaml.ScalarNode) and key.value == str(part):
                        child = value
                        best = key.start_mark.line + 1
                        break
            elif (
                isinstance(node, yaml.SequenceNode)
                and isinstance(part, int)
                and 0 <= part < len(node.value)
            ):
                child = node.value[part]
                best = child.start_mark.line + 1
            if child is None:
                return best
            node = child
        return best

    def duplicate_keys(self) -> Iterator[tuple[tuple[str | int, ...], str, int]]:
        """PyYAML keeps the last of two equal keys silently; we report them instead.

        A node reached again through an alias is not walked again (once is enough to report
        its keys, and walking aliases over and over is what an alias bomb exploits)."""
        visited: set[int] = set()

        def walk(
            node: yaml.Node, loc: tuple[str | int, ...]
        ) -> Iterator[tuple[tuple[str | int, ...], str, int]]:
            if id(node) in visited:
                return
            visited.add(id(node))
            if isinstance(node, yaml.MappingNode):
                seen: set[str] = set()
                for key, value in node.value:
                    name = str(key.value)
                    if name in seen:
                        yield loc, name, key.start_mark.line + 1
                    seen.add(name)
                    yield from walk(value, (*loc, name))
            elif isinstance(node, yaml.SequenceNode):
                for index, item in enumerate(node.value):
                    yield from walk(item, (*loc, index))

        if self._root is not None:
            yield from walk(self._root, ())


_PYDANTIC_MESSAGE_FIXES = (
    (re.compile(r"^Value error, "), ""),
    (re.compile(r"^Field required$"), "missing (required)"),
    (re.compile(r"^Extra inputs are not permitted$"), "unknown field"),
)


def _clean_message(message: str) -> str:
    for pattern, replacement in _PYDANTIC_MESSAGE_FIXES:
        message = pattern.sub(replacement, message)
    return message


def _translation_hint(loc: tuple[str | int, ...], message: str) -> str:
    if loc and loc[-1] in LANGS and message == "missing (required)":
        return f"missing translation ({loc[-1]})"
    return message


def _drop_union_noise(loc: tuple[str | int, ...]) -> tuple[str | int, ...]:
    """Pydantic puts validator/union branch names in locations; users need the field path."""
    noise = {"function-before[_coerce_story_date(), nullable[StoryDate]]", "nullable[StoryDate]"}
    out: list[str | int] = []
    for part in loc:
        if isinstance(part, str) and (
            part in noise or part.startswith("function-") or part == "StoryDate"
        ):
            continue
        out.append(part)
    return tuple(out)


class _Collector:
    def __init__(self, file: str, lines: _Lines) -> None:
        self.file = file
        self.lines = lines
        self.issues: list[StoryIssue] = []

    def add(self, loc: Sequence[str | int], message: str) -> None:
        self.issues.append(
            StoryIssue(self.file, _format_path(loc), message, self.lines.line(tuple(loc)))
        )

    def validate(self, model: type[_Model], data: Any, loc: tuple[str | int, ...]) -> Any | None:
        try:
            return model.model_validate(data)
        except ValidationError as error:
            for item in error.errors():
                full = (*loc, *_drop_union_noise(tuple(item["loc"])))
                if item["type"].startswith("date") and isinstance(item.get("input"), str):
                    message = f"'{item['input']}' is not a date that exists (use YYYY-MM-DD)"
                else:
                    message = _translation_hint(full, _clean_message(item["msg"]))
                self.add(full, message)
            return None


# libyaml's parser when available: ten times faster on large stories.
_BaseLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _StoryLoader(_BaseLoader):  # type: ignore[valid-type,misc]
    """SafeLoader that leaves dates as strings, so a date that does not exist (2023-02-30)
    is reported by validation with its field path instead of crashing the YAML parser."""


_StoryLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def story_data(text: str) -> Any:
    """The raw data of a story document, read as `parse_story` reads it (dates stay strings);
    raises `yaml.YAMLError` on invalid YAML. For editors that change a document and validate
    the result with `parse_story`."""
    return yaml.load(text, Loader=_StoryLoader)  # a SafeLoader subclass


def dump_story_data(data: Any) -> str:
    """YAML text for story data (UTF-8 text kept readable, keys in their order)."""
    return str(yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=100))


def parse_story(text: str, file: str = "<string>") -> Story:
    """Parse and validate a story from YAML text; raise `StoryError` listing every problem."""
    try:
        loader = _StoryLoader(text)
        try:
            # One parse: the node tree gives line numbers, the same tree gives the data.
            root = loader.get_single_node()
            if root is not None:
                check_node_budget(root, file)  # before anything walks the aliases
            data = loader.construct_document(root) if root is not None else None
        finally:
            loader.dispose()
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(error, "problem", None) or str(error)
        raise StoryError([StoryIssue(file, "", f"not valid YAML: {problem}", line)]) from None

    lines = _Lines(root)
    errors = _Collector(file, lines)
    if not isinstance(data, dict):
        raise StoryError(
            [StoryIssue(file, "", "a story file must be a mapping (slug, title, ...)", 1)]
        )

    for loc, key, line in lines.duplicate_keys():
        errors.issues.append(StoryIssue(file, _format_path((*loc, key)), "duplicate key", line))

    meta_fields = {key: value for key, value in data.items() if key not in SECTIONS}
    meta: StoryMeta | None = errors.validate(StoryMeta, meta_fields, ())

    sections: dict[str, list[Any]] = {}
    for name, model in SECTIONS.items():
        raw = data.get(name, [])
        if raw is None:
            raw = []
        if not isinstance(raw, list):
            errors.add((name,), "must be a list")
            raw = []
        parsed = []
        for index, item in enumerate(raw):
            value = errors.validate(model, item, (name, index))
            if value is not None:
                parsed.append((index, value))
        sections[name] = parsed

    _check_references(errors, meta, sections, data)
    if errors.issues or meta is None:
        raise StoryError(sorted(errors.issues, key=lambda issue: (issue.line or 0, issue.path)))

    def values(name: str) -> tuple[Any, ...]:
        return tuple(value for _, value in sections[name])

    return Story(
        meta=meta,
        people=values("people"),
        organisations=values("organisations"),
        events=values("events"),
        quotes=values("quotes"),
        faq=values("faq"),
        scenarios=values("scenarios"),
        context=values("context"),
        days_recaps=values("days"),
        path=file,
    )


def _raw_ids(data: dict[str, Any], section: str) -> set[str]:
    """Ids present in the raw data, so a bad item elsewhere does not cascade into 'unknown id'."""
    items = data.get(section) or []
    if not isinstance(items, list):
        return set()
    return {
        item["id"] for item in items if isinstance(item, dict) and isinstance(item.get("id"), str)
    }


def _check_references(
    errors: _Collector,
    meta: StoryMeta | None,
    sections: dict[str, list[Any]],
    data: dict[str, Any],
) -> None:
    person_ids = _raw_ids(data, "people")
    org_ids = _raw_ids(data, "organisations")
    entity_ids = person_ids | org_ids
    raw_sources = data.get("sources") or []
    source_ids = (
        {
            item["id"]
            for item in raw_sources
            if isinstance(item, dict) and isinstance(item.get("id"), str)
        }
        if isinstance(raw_sources, list)
        else set()
    )

    # Duplicate ids: people and organisations share one namespace because facts refer to both.
    seen: dict[str, tuple[str | int, ...]] = {}
    # In file order, so the second of two equal ids is the one reported.
    for section in [name for name in data if name in SECTIONS]:
        items = data.get(section) or []
        if not isinstance(items, list):
            continue
        for index, item in enumerate(items):
            if not isinstance(item, dict) or not isinstance(item.get("id"), str):
                continue
            key = item["id"]
            namespace = "entity" if section in ("people", "organisations") else section
            previous = seen.get(f"{namespace}:{key}")
            if previous is not None:
                errors.add(
                    (section, index, "id"),
                    f"duplicate id '{key}' (already used at {_format_path(previous)})",
                )
            else:
                seen[f"{namespace}:{key}"] = (section, index)
    if meta is not None:
        seen_sources: set[str] = set()
        for index, source in enumerate(meta.sources):
            if source.id in seen_sources:
                errors.add(("sources", index, "id"), f"duplicate id '{source.id}'")
            seen_sources.add(source.id)

    def expect(ids: set[str], value: Any, loc: tuple[str | int, ...], kind: str) -> None:
        if isinstance(value, str) and value not in ids:
            errors.add(loc, f"unknown {kind} id '{value}'")

    # References are checked on the raw data, so an item with another error (a missing
    # translation, say) still has its references checked: every problem is reported at once.
    def raw_items(section: str) -> Iterator[tuple[int, dict[str, Any]]]:
        items = data.get(section) or []
        if isinstance(items, list):
            for index, item in enumerate(items):
                if isinstance(item, dict):
                    yield index, item

    def raw_list(item: dict[str, Any], key: str) -> list[Any]:
        value = item.get(key) or []
        return value if isinstance(value, list) else []

    for index, person in raw_items("people"):
        for r, role in enumerate(raw_list(person, "roles")):
            if isinstance(role, dict):
                expect(
                    org_ids,
                    role.get("organisation"),
                    ("people", index, "roles", r, "organisation"),
                    "organisation",
                )
        for r, relation in enumerate(raw_list(person, "relations")):
            if isinstance(relation, dict):
                expect(
                    person_ids,
                    relation.get("person"),
                    ("people", index, "relations", r, "person"),
                    "person",
                )
                if relation.get("person") == person.get("id"):
                    errors.add(
                        ("people", index, "relations", r, "person"),
                        "a person cannot be related to themselves",
                    )
    for index, org in raw_items("organisations"):
        for r, relation in enumerate(raw_list(org, "relations")):
            if isinstance(relation, dict):
                expect(
                    org_ids,
                    relation.get("organisation"),
                    ("organisations", index, "relations", r, "organisation"),
                    "organisation",
                )
                if relation.get("organisation") == org.get("id"):
                    errors.add(
                        ("organisations", index, "relations", r, "organisation"),
                        "an organisation cannot be related to itself",
                    )
    for index, event in raw_items("events"):
        for p, person_id in enumerate(raw_list(event, "people")):
            expect(person_ids, person_id, ("events", index, "people", p), "person")
        for o, org_id in enumerate(raw_list(event, "organisations")):
            expect(org_ids, org_id, ("events", index, "organisations", o), "organisation")
        for f, fact in enumerate(raw_list(event, "facts")):
            if isinstance(fact, dict):
                for field in ("subject", "by", "object"):
                    expect(
                        entity_ids,
                        fact.get(field),
                        ("events", index, "facts", f, field),
                        "person or organisation",
                    )
        expect(source_ids, event.get("source"), ("events", index, "source"), "source")
    for index, quote in raw_items("quotes"):
        expect(person_ids, quote.get("person"), ("quotes", index, "person"), "person")
        expect(source_ids, quote.get("source"), ("quotes", index, "source"), "source")
    for index, fact in raw_items("context"):
        for f, statement in enumerate(raw_list(fact, "facts")):
            if isinstance(statement, dict):
                for field in ("subject", "by", "object"):
                    expect(
                        entity_ids,
                        statement.get(field),
                        ("context", index, "facts", f, field),
                        "person or organisation",
                    )
        for p, person_id in enumerate(raw_list(fact, "people")):
            expect(person_ids, person_id, ("context", index, "people", p), "person")
        for o, org_id in enumerate(raw_list(fact, "organisations")):
            expect(org_ids, org_id, ("context", index, "organisations", o), "organisation")

    for index, person in sections["people"]:
        for r, role in enumerate(person.roles):
            if (
                role.since is not None
                and role.until is not None
                and role.until.last < role.since.first
            ):
                errors.add(
                    ("people", index, "roles", r, "until"),
                    f"role ends ({role.until.last}) before it starts ({role.since.first})",
                )
        _check_role_overlaps(errors, index, person)
    event_days = {event.date.first for _, event in sections["events"]}
    for index, recap in sections["days"]:
        if recap.date not in event_days:
            errors.add(
                ("days", index, "date"), f"no event starts on {recap.date}: nothing to recap"
            )
    if not sections["events"] and not errors.issues:
        errors.add(("events",), "a story needs at least one event")


def _check_role_overlaps(errors: _Collector, index: int, person: Person) -> None:
    """Two ranges of the same role at the same organisation cannot certainly overlap."""
    far_past, far_future = dt.date.min, dt.date.max
    for a in range(len(person.roles)):
        for b in range(a + 1, len(person.roles)):
            first, second = person.roles[a], person.roles[b]
            if (first.key, first.organisation, first.interim) != (
                second.key,
                second.organisation,
                second.interim,
            ):
                continue
            # Certain overlap: each starts (at the latest) before the other ends (at the earliest).
            first_start = first.since.last if first.since else far_past
            second_start = second.since.last if second.since else far_past
            first_end = first.until.first if first.until else far_future
            second_end = second.until.first if second.until else far_future
            if first_start < second_end and second_start < first_end:
                errors.add(
                    ("people", index, "roles", b),
                    f"overlaps roles[{a}]: the same role '{first.key}' cannot be held twice at once",
                )


def load_story(path: str | Path, *, max_bytes: int = DEFAULT_STORY_MAX_BYTES) -> Story:
    """Load a story file; every failure, running out of memory included, is a `StoryError`.

    The file must be a regular file of at most ``max_bytes`` bytes (checked before reading)."""
    path = Path(path)
    try:
        return parse_story(read_story_text(path, max_bytes=max_bytes), str(path))
    except MemoryError:
        raise StoryError([StoryIssue(str(path), "", "out of memory while loading")]) from None
    except RecursionError:
        raise StoryError([StoryIssue(str(path), "", "nested too deeply")]) from None


def story_files(directory: str | Path | None) -> list[Path]:
    """The shipped story's file, then every ``*.yaml``/``*.yml`` in ``directory`` (sorted)."""
    paths = [default_story_path()]
    if directory is not None and Path(directory).is_dir():
        paths.extend(sorted(Path(directory).glob("*.y*ml")))
    return paths


def default_story_path() -> Path:
    return Path(str(resources.files("digests") / "stories" / f"{DEFAULT_STORY_SLUG}.yaml"))


_default_story: Story | None = None


def default_story() -> Story:
    """The story shipped with the package, loaded once per process."""
    global _default_story
    if _default_story is None:
        _default_story = load_story(default_story_path())
    return _default_story


class StoryLibrary:
    """Every story the bot follows, by slug: the shipped one plus valid files from a directory."""

    def __init__(self, stories: Iterable[Story], default_slug: str = DEFAULT_STORY_SLUG) -> None:
        self._stories: dict[str, Story] = {}
        for story in stories:
            self._stories.setdefault(story.slug, story)
        if default_slug not in self._stories:
            raise KeyError(default_slug)
        self.default_slug = default_slug
        self.problems: list[StoryError] = []

    @classmethod
    def load(
        cls, directory: str | Path | None, *, max_bytes: int = DEFAULT_STORY_MAX_BYTES
    ) -> StoryLibrary:
        """Shipped story + every ``*.yaml``/``*.yml`` in ``directory``; invalid files (hostile
        ones included: too big, special files, alias bombs) are kept aside in ``problems`` (and
        reported by the caller) instead of stopping the bot."""
        stories = [default_story()]
        problems: list[StoryError] = []
        if directory is not None and Path(directory).is_dir():
            for path in sorted(Path(directory).glob("*.y*ml")):
                try:
                    stories.append(load_story(path, max_bytes=max_bytes))
                except StoryError as error:
                    problems.append(error)
        library = cls(stories)
        library.problems = problems
        return library

    def put(self, story: Story) -> None:
        """Serve ``story`` for its slug from now on (a new revision, or a new story).

        Copy-on-write: readers iterating the library in another thread keep a consistent view.
        """
        self._stories = {**self._stories, story.slug: story}

    def get(self, slug: str | None = None) -> Story:
        slug = slug or self.default_slug
        try:
            return self._stories[slug]
        except KeyError:
            known = ", ".join(sorted(self._stories))
            raise StoryError(
                [StoryIssue("", "", f"unknown story '{slug}' (known: {known})")]
            ) from None

    @property
    def default(self) -> Story:
        return self._stories[self.default_slug]

    def slugs(self) -> list[str]:
        return sorted(self._stories)

    def __iter__(self) -> Iterator[Story]:
        return iter(self._stories.values())

    def __len__(self) -> int:
        return len(self._stories)
