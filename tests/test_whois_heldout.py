"""The held-out who-is-who sets (issue 13) are well formed: scored by bench/eval_whois.py."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from digests.story import default_story

HERE = Path(__file__).parent
KEYS = {"q", "lang", "expect", "mention", "absent", "answer_lang", "cat"}
CATEGORIES = {"event", "group", "org-relation", "date", "future", "verb", "name", "lang"}
# The third set adds which organisation a person works for, and quotation marks.
CATEGORIES_3 = CATEGORIES | {"org-role", "quote"}


def _cases(name: str) -> list[dict[str, Any]]:
    cases: list[dict[str, Any]] = yaml.safe_load((HERE / name).read_text(encoding="utf-8"))[
        "questions"
    ]
    return cases


@pytest.mark.parametrize(
    ("name", "minimum", "categories"),
    [
        ("whois_heldout.yaml", 150, CATEGORIES),
        ("whois_heldout2.yaml", 60, CATEGORIES),
        ("whois_heldout3.yaml", 60, CATEGORIES_3),
    ],
)
def test_heldout_set_is_big_well_formed_and_covers_the_issue(
    name: str, minimum: int, categories: set[str]
) -> None:
    cases = _cases(name)
    assert len(cases) >= minimum
    assert len({(c["q"], c["lang"]) for c in cases}) == len(cases), "duplicate questions"
    assert {c["cat"] for c in cases} == categories
    assert {c["lang"] for c in cases} == {"fr", "en", "auto"}
    ids = {p.id for p in default_story().people} | {o.id for o in default_story().organisations}
    for case in cases:
        assert set(case) <= KEYS, case
        assert {"expect", "mention", "absent"} & set(case), case
        expect = case.get("expect")
        assert expect is None or expect == "unnamed" or expect in ids, case
        assert (case["lang"] == "auto") == ("answer_lang" in case), case
