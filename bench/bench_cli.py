"""How fast each `depeche` command starts and finishes, as a ratio to `import digests`.

    python bench/bench_cli.py [--runs 7] [--also OTHER_CHECKOUT]

Each command is the real program (``python -m bot ...``, a new process each time, as a user
types it) run from the project directory on a fresh SQLite database; the baseline is
``python -c "import digests"`` with the same interpreter, measured in the same run. Runs are
interleaved (one of each command per round) so that a change in the machine's load touches
every command alike; each figure is the median wall time of ``--runs`` rounds. ``--also DIR``
measures another checkout of the project in the same rounds (e.g. the commit before a change).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

COMMANDS: list[tuple[str, ...]] = [
    ("--help",),
    ("digest", "--date", "2023-11-17"),
    ("faq", "--lang", "fr"),
    ("story", "show"),
    ("who", "who is Sam Altman?"),
    ("story", "list"),
    ("subscriptions", "list"),  # needs the database: SQLAlchemy + Alembic, for contrast
]
BASELINE = ("-c", "import digests")


def timed(argv: list[str], root: Path, env: dict[str, str]) -> float:
    started = time.perf_counter()
    done = subprocess.run(
        argv,
        cwd=root,
        env={**env, "PYTHONPATH": str(root)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        timeout=300,
    )
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed ({done.returncode}): {done.stderr[-500:]!r}")
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=7, help="rounds (median of these)")
    parser.add_argument("--also", type=Path, help="another checkout to measure in the same rounds")
    args = parser.parse_args()
    roots = [ROOT] + ([args.also.resolve()] if args.also else [])
    with tempfile.TemporaryDirectory(prefix="bench-cli-") as tmp:
        env = {
            **{
                k: v
                for k, v in os.environ.items()
                if not k.startswith(("SLACK_", "DISCORD_", "DEPECHE_", "DATABASE_URL"))
            },
            "DATABASE_URL": f"sqlite:///{Path(tmp) / 'bench.sqlite3'}",
            "XDG_DATA_HOME": tmp,
        }
        python = sys.executable
        jobs: list[tuple[str, Path, list[str]]] = [
            ("import digests (baseline)", ROOT, [python, *BASELINE])
        ]
        for root in roots:
            label = "" if root == ROOT else f" [{root.name}]"
            for command in COMMANDS:
                jobs.append(
                    (f"depeche {' '.join(command)}{label}", root, [python, "-m", "bot", *command])
                )
        kept = []
        for job in jobs:  # warm-up: bytecode caches, the database's migrations
            name, root, argv = job
            try:
                timed(argv, root, env)
            except SystemExit as failure:
                if root == ROOT:
                    raise
                print(f"skipped {name}: {failure}"[:200])  # e.g. a command that checkout lacks
                continue
            kept.append(job)
        jobs = kept
        times: dict[str, list[float]] = {name: [] for name, _, _ in jobs}
        for _ in range(args.runs):
            for name, root, argv in jobs:
                times[name].append(timed(argv, root, env))
    baseline = statistics.median(times[jobs[0][0]])
    print(
        f"CLI wall time, median of {args.runs} interleaved runs (python {sys.version.split()[0]})"
    )
    print(f"{'command':<52} {'median':>8} {'ratio to import digests':>24}")
    for name, _, _ in jobs:
        median = statistics.median(times[name])
        print(f"{name:<52} {median * 1000:>6.0f}ms {median / baseline:>23.1f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
