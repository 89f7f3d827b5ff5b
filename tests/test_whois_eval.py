"""The who-is-who evaluation set: >= 95% top-1 accuracy, every unknown refused."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from digests.story import default_story
from digests.whois import index_for

EVAL = Path(__file__).with_name("whois_eval.yaml")


def _cases() -> list[dict]:
    return yaml.safe_load(EVAL.read_text(encoding="utf-8"))["questions"]


def _top(case: dict) -> str | None:
    answer = index_for(default_story()).answer(case["q"], case["lang"])
    return answer.matches[0].id if answer.found and answer.matches else None


def test_eval_set_is_big_and_covers_every_category() -> None:
    cases = _cases()
    assert len(cases) >= 150
    assert {c["lang"] for c in cases} == {"fr", "en"}
    categories = {c["cat"] for c in cases}
    assert {
        "name",
        "typo",
        "order",
        "role",
        "role-date",
        "event",
        "relation",
        "organisation",
        "unknown",
        "trap",
    } <= categories
    assert sum(c["expect"] is None for c in cases) >= 20


def test_top1_accuracy_at_least_95_percent() -> None:
    cases = [c for c in _cases() if c["expect"] is not None]
    failures = [(c["q"], c["expect"], _top(c)) for c in cases if _top(c) != c["expect"]]
    accuracy = 1 - len(failures) / len(cases)
    assert accuracy >= 0.95, f"top-1 accuracy {accuracy:.1%}; failures: {failures}"


@pytest.mark.parametrize("case", [c for c in _cases() if c["expect"] is None], ids=lambda c: c["q"])
def test_unknowns_are_refused(case: dict) -> None:
    answer = index_for(default_story()).answer(case["q"], case["lang"])
    assert answer.found is False
    assert all(m.score == 0.0 for m in answer.matches)  # only suggestions, never answers
