"""The day page under load, against a static file served by the same server, in one run.

    python bench/bench_web.py [--requests 2000] [--concurrency 16] [--rounds 2]

End to end: a real `depeche run` process (console run, web side on a free loopback port,
SQLite in a temporary directory) answers; this process is the client (aiohttp, keep-alive,
``--concurrency`` requests in flight). Rounds alternate the static stylesheet
(``/static/style.css``, the baseline: aiohttp's static file handler in the same server, same
middleware) and a story day page (``/en/<story>/2023-11-18/``: story -> digest -> HTML), so
both see the same machine load. Prints p50/p99 latency and requests/s of each and their ratios
(day / static for latency, static / day for throughput: 1.0 = as fast as a static file).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parents[1]
DAY_PAGE = "/en/openai-crisis-2023/2023-11-18/"
STATIC = "/static/style.css"


def start_server(directory: Path) -> tuple[subprocess.Popen[str], str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DISCORD_TOKEN", "SLACK_BOT_TOKEN")}
    env.update(
        DATABASE_URL=f"sqlite:///{directory / 'bench.sqlite3'}",
        DEPECHE_WEB_PORT="0",
        DEPECHE_TIMEZONE="UTC",
        PYTHONUNBUFFERED="1",
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "run", "--no-console-subscription"],
        cwd=directory,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdout is not None
    for line in process.stdout:
        match = re.search(r"Web \(.*?\): (http://\S+)", line)
        if match:
            return process, match.group(1).rstrip("/")
    raise SystemExit("bench_web: depeche run printed no web URL")


async def load(
    session: aiohttp.ClientSession, url: str, requests: int, concurrency: int
) -> tuple[list[float], float]:
    """Latencies (s) of ``requests`` GETs with ``concurrency`` in flight, and the wall time."""
    latencies: list[float] = []
    remaining = requests

    async def one_client() -> None:
        nonlocal remaining
        while remaining > 0:
            remaining -= 1
            started = time.perf_counter()
            async with session.get(url) as response:
                await response.read()
                if response.status != 200:
                    raise SystemExit(f"bench_web: {url} answered {response.status}")
            latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(one_client() for _ in range(concurrency)))
    return latencies, time.perf_counter() - started


def p(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


async def measure(base: str, args: argparse.Namespace) -> dict[str, tuple[list[float], float]]:
    results: dict[str, tuple[list[float], float]] = {"static": ([], 0.0), "day": ([], 0.0)}
    connector = aiohttp.TCPConnector(limit=args.concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:
        for path in (STATIC, DAY_PAGE):  # warm-up: caches, Babel locales, templates
            await load(session, base + path, 100, args.concurrency)
        for _ in range(args.rounds):
            for name, path in (("static", STATIC), ("day", DAY_PAGE)):
                latencies, wall = await load(session, base + path, args.requests, args.concurrency)
                results[name][0].extend(latencies)
                results[name] = (results[name][0], results[name][1] + wall)
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        process, base = start_server(Path(tmp))
        try:
            results = asyncio.run(measure(base, args))
        finally:
            process.send_signal(signal.SIGTERM)
            process.communicate(timeout=60)
    n = args.requests * args.rounds
    print(
        f"bench_web: end to end, `depeche run` process (console run) <- aiohttp client, "
        f"{n} requests per target, {args.concurrency} in flight, {args.rounds} alternating rounds"
    )
    figures = {}
    for name, (latencies, wall) in results.items():
        figures[name] = (p(latencies, 50), p(latencies, 99), len(latencies) / wall)
        label = f"day page {DAY_PAGE}" if name == "day" else f"static file {STATIC}"
        print(
            f"  {label:48s} p50 {figures[name][0] * 1000:7.2f} ms  p99 "
            f"{figures[name][1] * 1000:7.2f} ms  {figures[name][2]:8.0f} req/s"
        )
    print(
        f"  day / static: p99 latency x{figures['day'][1] / figures['static'][1]:.2f}, "
        f"throughput x{figures['day'][2] / figures['static'][2]:.2f} "
        f"(static / day requests/s = {figures['static'][2] / figures['day'][2]:.2f})"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
