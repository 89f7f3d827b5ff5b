"""Hypothesis: any valid story renders every day, in both languages, without error."""

from __future__ import annotations

import datetime as dt

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from digests.compose import compose_digest, compose_faq, compose_story_so_far, compose_timeline
from digests.render import render_markdown, render_text
from digests.story import LANGS, parse_story
from digests.typography import french_spacing

words = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1, max_size=40
).filter(lambda s: s.strip())


def bilingual() -> st.SearchStrategy[dict[str, str]]:
    return st.fixed_dictionaries({"fr": words, "en": words})


@st.composite
def stories(draw: st.DrawFn) -> str:
    start = draw(st.dates(min_value=dt.date(1990, 1, 1), max_value=dt.date(2090, 1, 1)))
    people_count = draw(st.integers(1, 6))
    people = []
    for index in range(people_count):
        roles = []
        if draw(st.booleans()):
            since = start + dt.timedelta(days=draw(st.integers(0, 5)))
            role = {
                "key": "ceo",
                "title": draw(bilingual()),
                "organisation": "org",
                "since": since.isoformat(),
            }
            if draw(st.booleans()):
                role["until"] = (since + dt.timedelta(days=draw(st.integers(1, 5)))).isoformat()
            roles.append(role)
        people.append(
            {"id": f"p{index}", "name": draw(words), "bio": draw(bilingual()), "roles": roles}
        )
    events = []
    for index in range(draw(st.integers(1, 12))):
        first = start + dt.timedelta(days=draw(st.integers(0, 9)))
        if draw(st.booleans()):
            date: object = first.isoformat()
        else:
            date = {
                "from": first.isoformat(),
                "to": (first + dt.timedelta(days=draw(st.integers(1, 3)))).isoformat(),
                "precision": "approximate",
                "label": draw(bilingual()),
            }
        involved = draw(st.lists(st.integers(0, people_count - 1), max_size=3, unique=True))
        events.append(
            {
                "id": f"e{index}",
                "date": date,
                "headline": draw(bilingual()),
                "text": draw(bilingual()),
                "people": [f"p{i}" for i in involved],
                "organisations": ["org"],
                "quote": draw(words),
                "source": "src",
            }
        )
    story = {
        "slug": "generated",
        "title": draw(bilingual()),
        "summary": draw(bilingual()),
        "sources": [{"id": "src", "title": draw(bilingual()), "publisher": draw(words)}],
        "organisations": [{"id": "org", "name": draw(words), "description": draw(bilingual())}],
        "people": people,
        "events": events,
        "faq": [{"question": draw(bilingual()), "answer": draw(bilingual())}],
        "context": [
            {"id": "c", "text": draw(bilingual()), "quote": draw(words), "amount_usd": 1.5e9}
        ],
    }
    return yaml.safe_dump(story, allow_unicode=True, sort_keys=False)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(stories())
def test_generated_stories_render_in_both_languages(text: str) -> None:
    story = parse_story(text, "generated.yaml")
    day = story.first_day
    while day <= story.last_day:
        for lang in LANGS:
            document = compose_digest(story, day, lang)
            assert (document is None) == (not story.events_on(day))
            if document is not None:
                rendered = render_text(document)
                headline = story.events_on(day)[0].headline(lang)
                assert (french_spacing(headline) if lang == "fr" else headline) in rendered
                render_markdown(document)
            render_text(compose_story_so_far(story, day, lang))
        day += dt.timedelta(days=1)
    for lang in LANGS:
        render_text(compose_timeline(story, lang))
        render_markdown(compose_faq(story, lang))
