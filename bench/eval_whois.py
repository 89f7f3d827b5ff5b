"""Score the who-is-who engine on a held-out question file (issue 13).

    python bench/eval_whois.py [tests/whois_heldout.yaml ...] [--failures]

Each question is asked to the engine of the default story; questions with ``lang: auto`` are asked
through the real CLI (`python -m bot who --json`, one process for all of them, no --lang), so the
language of the answer is the CLI's own choice. The file format is described at the top of
tests/whois_heldout.yaml. Prints, per file, the pass rate per category and overall, and with
``--failures`` every failed question with what went wrong.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import unicodedata
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from digests.story import default_story  # noqa: E402
from digests.whois import index_for  # noqa: E402

DEFAULT_FILES = [ROOT / "tests" / "whois_heldout.yaml"]
# What an answer about a group the article does not name must say (one of these, folded).
UNNAMED_PHRASES = (
    "does not name",
    "do not name",
    "not named",
    "unnamed",
    "ne nomme pas",
    "ne les nomme pas",
    "ne donne pas leur nom",
    "ne donne pas leurs noms",
    "pas nommes",
    "sans les nommer",
)


def fold(text: str) -> str:
    """Lower case, no accents, one apostrophe shape, single spaces."""
    text = unicodedata.normalize("NFKD", text.replace("’", "'").replace("\u202f", " "))
    text = "".join(c for c in text if not unicodedata.combining(c))
    return " ".join(text.casefold().replace("\u00a0", " ").split())


def load(path: Path) -> list[dict[str, Any]]:
    cases: list[dict[str, Any]] = yaml.safe_load(path.read_text(encoding="utf-8"))["questions"]
    return cases


def _cli_answers(questions: list[str]) -> list[dict[str, Any]]:
    """Ask questions through the CLI without --lang, one JSON object per line."""
    if not questions:
        return []
    run = subprocess.run(
        [sys.executable, "-m", "bot", "who", "--json"],
        input="\n".join(questions) + "\n",
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=600,
        check=False,
    )
    lines = [line for line in run.stdout.splitlines() if line.strip()]
    if run.returncode != 0 or len(lines) != len(questions):
        raise SystemExit(f"the CLI failed ({run.returncode}): {run.stderr.strip()[:500]}")
    return [json.loads(line) for line in lines]


def _engine_answer(case: dict[str, Any]) -> dict[str, Any]:
    result = index_for(default_story()).answer(case["q"], case["lang"])
    data = result.to_json()
    data["match_kinds"] = [m.kind for m in result.matches if m.score > 0]
    return data


def check(case: dict[str, Any], got: dict[str, Any]) -> list[str]:
    """Why an answer fails its case (an empty list: it passes)."""
    problems: list[str] = []
    text = fold(str(got.get("text", "")))
    matches = [m for m in got.get("matches", []) if m.get("score", 0) > 0]
    top = matches[0] if got.get("found") and matches else None
    if "expect" in case:
        expect = case["expect"]
        if expect is None:
            if got.get("found"):
                problems.append(f"should refuse, answered {top['id'] if top else '?'}")
        elif expect == "unnamed":
            if top is not None and top.get("kind") == "person":
                problems.append(f"answered a named person ({top['id']}) for an unnamed group")
            if not any(phrase in text for phrase in UNNAMED_PHRASES):
                problems.append("does not say the article does not name them")
        elif top is None or top["id"] != expect:
            problems.append(f"top {top['id'] if top else None!r} (found={got.get('found')})")
    for wanted in case.get("mention", []):
        if fold(wanted) not in text:
            problems.append(f"does not mention {wanted!r}")
    for unwanted in case.get("absent", []):
        if fold(unwanted) in text:
            problems.append(f"mentions {unwanted!r}")
    if case.get("answer_lang") and got.get("lang") != case["answer_lang"]:
        problems.append(f"answered in {got.get('lang')!r}")
    return problems


def score(cases: list[dict[str, Any]]) -> list[tuple[dict[str, Any], list[str]]]:
    auto = [c for c in cases if c["lang"] == "auto"]
    cli = dict(zip((id(c) for c in auto), _cli_answers([c["q"] for c in auto]), strict=True))
    out = []
    for case in cases:
        got = cli[id(case)] if case["lang"] == "auto" else _engine_answer(case)
        out.append((case, check(case, got)))
    return out


def report(name: str, results: Iterable[tuple[dict[str, Any], list[str]]], failures: bool) -> float:
    per: dict[str, list[bool]] = defaultdict(list)
    rows = list(results)
    for case, problems in rows:
        per[case["cat"]].append(not problems)
    passed = sum(not p for _, p in rows)
    print(f"{name}: {passed}/{len(rows)} = {passed / len(rows):.1%}")
    for cat, oks in sorted(per.items()):
        print(f"  {cat:13s} {sum(oks):3d}/{len(oks):3d} = {sum(oks) / len(oks):6.1%}")
    if failures:
        for case, problems in rows:
            if problems:
                print(
                    f"  FAIL [{case['cat']}] {case['q']!r} ({case['lang']}): {'; '.join(problems)}"
                )
    return passed / len(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("files", nargs="*", type=Path, default=DEFAULT_FILES)
    parser.add_argument("--failures", action="store_true", help="list every failed question")
    args = parser.parse_args(argv)
    for path in args.files:
        report(path.name, score(load(path)), args.failures)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
