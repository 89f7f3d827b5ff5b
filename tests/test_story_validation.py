"""Malformed story files: each one gets its precise message, with the field path and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from digests.errors import StoryError
from digests.story import load_story, parse_story

MINIMAL = (Path(__file__).parent / "stories" / "minimal.yaml").read_text(encoding="utf-8")


def problems(text: str) -> list[str]:
    with pytest.raises(StoryError) as caught:
        parse_story(text, "story.yaml")
    return [str(issue) for issue in caught.value.issues]


def test_minimal_story_is_valid() -> None:
    story = parse_story(MINIMAL, "minimal.yaml")
    assert story.slug == "minimal-example"
    assert [d.isoformat() for d in story.days] == ["2024-03-01", "2024-03-02"]


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        pytest.param(
            "person: ada",
            "person: zed",
            "story.yaml:36: people[1].relations[0].person: unknown person id 'zed'",
            id="unknown-person-in-relation",
        ),
        pytest.param(
            "    people: [bob]\n",
            "    people: [bob, carol]\n",
            "story.yaml:51: events[1].people[1]: unknown person id 'carol'",
            id="unknown-person-in-event",
        ),
        pytest.param(
            "date: 2024-03-01",
            "date: 2024-02-30",
            "story.yaml:39: events[0].date.on: '2024-02-30' is not a date that exists (use YYYY-MM-DD)",
            id="date-that-does-not-exist",
        ),
        pytest.param(
            'bio: {fr: "Ingénieur.", en: "Engineer."}',
            'bio: {fr: "Ingénieur."}',
            "story.yaml:28: people[1].bio.en: missing translation (en)",
            id="missing-english",
        ),
        pytest.param(
            '    headline: {fr: "Ada quitte Acme", en: "Ada leaves Acme"}',
            '    headline: {en: "Ada leaves Acme"}',
            "story.yaml:40: events[0].headline.fr: missing translation (fr)",
            id="missing-french",
        ),
        pytest.param(
            "  - id: bob-steps-in",
            "  - id: ada-leaves",
            "story.yaml:47: events[1].id: duplicate id 'ada-leaves' (already used at events[0])",
            id="duplicate-event-id",
        ),
        pytest.param(
            "events:\n",
            "  - id: acme\n    name: Acme Person\n    bio: {fr: Personne, en: Person}\nevents:\n",
            "story.yaml:37: people[2].id: duplicate id 'acme' (already used at organisations[0])",
            id="person-id-clashes-with-organisation",
        ),
        pytest.param(
            "        since: 2024-03-02\n",
            "        since: 2024-03-02\n        until: 2024-02-01\n",
            "story.yaml:35: people[1].roles[0].until: role ends (2024-02-01) before it starts (2024-03-02)",
            id="role-ends-before-it-starts",
        ),
        pytest.param(
            "        until: 2024-03-02\n",
            "        until: 2024-03-02\n      - key: ceo\n        title: {fr: PDG, en: CEO}\n"
            "        organisation: acme\n        since: 2024-01-01\n",
            "story.yaml:26: people[0].roles[1]: overlaps roles[0]: the same role 'ceo' cannot be held twice at once",
            id="overlapping-roles",
        ),
        pytest.param(
            "from: 2024-03-02, to: 2024-03-04, precision: approximate",
            "from: 2024-03-04, to: 2024-03-05, precision: weekend",
            "story.yaml:48: events[1].date: a weekend window must start on a Friday or Saturday and last at most 3 days",
            id="weekend-that-is-not-a-weekend",
        ),
        pytest.param(
            "        organisation: acme\n        interim: true",
            "        organisation: acmee\n        interim: true",
            "story.yaml:32: people[1].roles[0].organisation: unknown organisation id 'acmee'",
            id="unknown-organisation-in-role",
        ),
        pytest.param(
            "    source: article\n",
            "    source: blog\n",
            "story.yaml:45: events[0].source: unknown source id 'blog'",
            id="unknown-source",
        ),
        pytest.param(
            '    quote: "Ada annonce son départ."\n',
            "",
            "story.yaml:38: events[0].quote: missing (required)",
            id="event-without-source-quote",
        ),
        pytest.param(
            "slug: minimal-example",
            "slug: Minimal Example",
            "story.yaml:1: slug: String should match pattern '^[a-z0-9][a-z0-9-]*$'",
            id="bad-slug",
        ),
        pytest.param(
            "    aliases: [Ada, Lovelace]\n",
            "    aliases: [Ada, Lovelace]\n    nickname: Countess\n",
            "story.yaml:20: people[0].nickname: unknown field",
            id="unknown-field",
        ),
    ],
)
def test_malformed_story_reports_precise_error(old: str, new: str, expected: str) -> None:
    assert old in MINIMAL, f"test fixture drifted: {old!r}"
    assert problems(MINIMAL.replace(old, new, 1)) == [expected]


def test_every_error_is_reported_at_once() -> None:
    text = (
        MINIMAL.replace("person: ada", "person: zed")
        .replace('bio: {fr: "Ingénieur.", en: "Engineer."}', 'bio: {fr: "Ingénieur."}')
        .replace("date: 2024-03-01", "date: 2024-13-01")
    )
    found = problems(text)
    assert len(found) == 3
    assert any("missing translation (en)" in p for p in found)
    assert any(
        "unknown person id 'zed'" in p for p in found
    )  # checked although people[1] is invalid
    assert any("'2024-13-01' is not a date" in p for p in found)


def test_not_yaml() -> None:
    # The wording comes from libyaml (or PyYAML without it); the location and the cause are ours.
    [problem] = problems("slug: [unclosed\n")
    assert problem.startswith("story.yaml:2: not valid YAML: ")
    assert "expected ',' or ']'" in problem


def test_not_a_mapping() -> None:
    assert problems("- just\n- a list\n") == [
        "story.yaml:1: a story file must be a mapping (slug, title, ...)"
    ]


def test_duplicate_yaml_key() -> None:
    text = MINIMAL.replace("source_language: fr\n", "source_language: fr\nsource_language: en\n")
    assert problems(text) == ["story.yaml:7: source_language: duplicate key"]


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(StoryError, match="file not found"):
        load_story(tmp_path / "nope.yaml")


def test_organisation_relations_and_unnamed_groups() -> None:
    text = MINIMAL.replace(
        '    description: {fr: "Une entreprise.", en: "A company."}\n',
        '    description: {fr: "Une entreprise.", en: "A company."}\n'
        "    relations: [{type: shareholder_of, organisation: globex}]\n",
        1,
    )
    assert problems(text) == [
        "story.yaml:16: organisations[0].relations[0].organisation: unknown organisation id 'globex'"
    ]
    grouped = MINIMAL.replace(
        "facts: [{predicate: resigned, subject: ada}]",
        'facts: [{predicate: resigned, group: {fr: "trois ingénieurs", en: "three engineers"}}]',
    )
    story = parse_story(grouped, "story.yaml")
    fact = next(f for e in story.timeline for f in e.facts)
    assert fact.subject is None and fact.group is not None and fact.group("en") == "three engineers"
