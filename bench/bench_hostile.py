"""Hostile story files cost no more than a real one: `depeche story check` end to end.

    python bench/bench_hostile.py [--runs 5]

Runs the real command (a new `python -m bot` process each time, as an operator would) on the
shipped story (the baseline), on a 600-byte alias bomb of 10^10 nodes, on a recursive alias, on a
symlink to /dev/zero and on a file over the size limit, and prints the median wall time of each
and its ratio to the baseline (a ratio near or under 1.00 means "refused as fast as a real story
is checked"). Before the fix the bomb never finished and /dev/zero ran out of memory. Each
process is limited to 60 s of CPU and 1 GiB of memory, so a regression shows as a failure.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from digests.story import default_story_path  # noqa: E402


def limits() -> None:
    resource.setrlimit(resource.RLIMIT_CPU, (60, 60))
    resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))


def check(path: Path, env: dict[str, str]) -> tuple[float, int]:
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "bot", "story", "check", str(path)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        preexec_fn=limits,
        check=False,
    )
    return time.perf_counter() - started, done.returncode


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    runs = parser.parse_args().runs
    directory = Path(tempfile.mkdtemp(prefix="depeche-hostile-"))
    try:
        shipped = directory / "shipped.yaml"
        shutil.copy(default_story_path(), shipped)
        bomb = directory / "bomb.yaml"
        lines = ["a0: &a0 [" + ", ".join(["lol"] * 10) + "]"]
        lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 10)]
        bomb.write_text("slug: bomb\n" + "\n".join(lines) + "\n", encoding="utf-8")
        loop = directory / "loop.yaml"
        loop.write_text("slug: loop\nevents: &e [*e]\n", encoding="utf-8")
        zero = directory / "zero.yaml"
        zero.symlink_to("/dev/zero")
        big = directory / "big.yaml"
        big.write_bytes(b"# " + b"x" * (5 * 1024 * 1024) + b"\n")
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        cases = [
            ("shipped story (baseline)", shipped, 0),
            ("alias bomb, 10^10 nodes", bomb, 2),
            ("recursive alias", loop, 2),
            ("symlink to /dev/zero", zero, 2),
            ("5 MiB file (limit 4 MiB)", big, 2),
        ]
        baseline = None
        print(f"depeche story check, median of {runs} runs, each a new process:")
        for name, path, expected in cases:
            times = []
            for _ in range(runs):
                seconds, code = check(path, env)
                if code != expected:
                    print(f"{name}: exit code {code}, expected {expected}")
                    return 1
                times.append(seconds)
            median = statistics.median(times)
            baseline = baseline or median
            print(
                f"  {name:28} {median * 1000:7.0f} ms   ratio to baseline {median / baseline:.2f}"
            )
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
