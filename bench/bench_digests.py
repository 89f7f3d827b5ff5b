"""Story load and digest render times, against the issue's targets, in one run.

    python bench/bench_digests.py [--events 5000] [--people 1000]

Prints, first, the size of every daily digest of the shipped story beside the platform limits:
characters of the post and of its "more" part, news items (lead + items, limit 1 + MAX_ITEMS),
and the parts each platform needs (Discord messages and embeds, largest embed description against
4,096, message characters against 6,000; Slack messages). Then the default story load time
(target < 200 ms), the slowest digest render after load over every day in both languages (target
< 5 ms), and a synthetic story of N events and M people (generated here): load time (target < 3 s)
and per-digest render time. Each time is also printed as a ratio to its target (< 1.00 means
within target). Times are in-process unit measurements (no platform round trip).
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import statistics
import sys
import time
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.discord.embeds import DESCRIPTION_MAX, MESSAGE_CHARS_MAX, embed_units
from bot.discord.embeds import render_document as discord_render
from bot.slack.blocks import render_document as slack_render
from digests.compose import MAX_ITEMS, compose_digest, compose_story_so_far
from digests.i18n import translations
from digests.render import render_text
from digests.story import LANGS, default_story_path, load_story, parse_story


def synthetic_story(events: int, people: int, seed: int = 7) -> str:
    rng = random.Random(seed)
    start = dt.date(2024, 1, 1)
    span_days = max(1, events // 20)
    story = {
        "slug": "synthetic",
        "title": {"fr": "Histoire synthétique", "en": "Synthetic story"},
        "summary": {"fr": "Générée pour mesurer.", "en": "Generated to measure."},
        "sources": [{"id": "src", "title": {"fr": "Source", "en": "Source"}, "publisher": "Bench"}],
        "organisations": [
            {
                "id": f"org-{i}",
                "name": f"Organisation {i}",
                "description": {"fr": "Une organisation.", "en": "An organisation."},
            }
            for i in range(50)
        ],
        "people": [
            {
                "id": f"person-{i}",
                "name": f"Person{i} Surname{i}",
                "aliases": [f"Surname{i}"],
                "bio": {"fr": f"Biographie {i}.", "en": f"Biography {i}."},
                "roles": [
                    {
                        "key": "ceo",
                        "title": {"fr": "PDG", "en": "CEO"},
                        "organisation": f"org-{i % 50}",
                        "since": (start + dt.timedelta(days=i % span_days)).isoformat(),
                    }
                ],
            }
            for i in range(people)
        ],
        "events": [
            {
                "id": f"event-{i}",
                "date": (start + dt.timedelta(days=rng.randrange(span_days))).isoformat(),
                "headline": {"fr": f"Titre {i}", "en": f"Headline {i}"},
                "text": {"fr": f"Il s'est passé la chose {i}.", "en": f"Thing {i} happened."},
                "people": [f"person-{rng.randrange(people)}" for _ in range(2)],
                "organisations": [f"org-{rng.randrange(50)}"],
                "source": "src",
                "quote": f"Citation {i}.",
            }
            for i in range(events)
        ],
    }
    for event in story["events"]:  # no duplicates in a list of people
        event["people"] = sorted(set(event["people"]))
    return yaml.safe_dump(story, allow_unicode=True, sort_keys=False)


def timed(function, *args):  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    result = function(*args)
    return result, time.perf_counter() - started


def calibration() -> float:
    """Seconds for a fixed pure-Python loop (median of 5): the machine's speed right now."""

    def loop() -> int:
        total = 0
        for number in range(200_000):
            total += number % 7
        return total

    return statistics.median(timed(loop)[1] for _ in range(5))


CALIBRATION = 0.0  # set in main()


def report(label: str, seconds: float, target: float) -> None:
    print(
        f"{label:<52} {seconds * 1000:9.2f} ms   target {target * 1000:7.0f} ms"
        f"   ratio {seconds / target:5.2f}   = {seconds / CALIBRATION:6.2f} x calibration"
    )


def sizes(story) -> None:  # type: ignore[no-untyped-def]
    """Per digest: characters, items and parts per platform, beside the limits."""
    print(
        f"{'digest':<16}{'chars':>6}{'more':>6}{'items':>7}{'discord msg/embeds':>20}"
        f"{'max desc':>10}{'msg chars':>11}{'slack msg':>10}"
    )
    for day in story.days:
        for lang in LANGS:
            digest = compose_digest(story, day, lang)
            news = sum(
                len(section.items)
                for section in digest.sections
                if section.kind != "paragraph" or not section.heading
            )
            messages = discord_render(digest)
            embeds = sum(len(message) for message in messages)
            longest = max(len(embed.description or "") for message in messages for embed in message)
            heaviest = max(sum(embed_units(embed) for embed in message) for message in messages)
            more = len(render_text(digest.more)) if digest.more is not None else 0
            print(
                f"{f'{day} {lang}':<16}{len(render_text(digest)):>6}{more:>6}"
                f"{f'{news}/{1 + MAX_ITEMS}':>7}{f'{len(messages)}/{embeds}':>20}"
                f"{f'{longest}/{DESCRIPTION_MAX}':>10}{f'{heaviest}/{MESSAGE_CHARS_MAX}':>11}"
                f"{len(slack_render(digest)):>10}"
            )
    print("limits: items <= 1 + MAX_ITEMS; one Discord message of one embed; one Slack message")
    print()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=5000)
    parser.add_argument("--people", type=int, default=1000)
    args = parser.parse_args()

    for lang in LANGS:  # first use of a locale costs tens of ms: the bot loads them at start
        translations(lang)
        render_text(
            compose_digest(
                load_story(default_story_path()), load_story(default_story_path()).first_day, lang
            )
        )

    sizes(load_story(default_story_path()))
    global CALIBRATION
    CALIBRATION = calibration()
    print(f"calibration: fixed pure-Python loop {CALIBRATION * 1000:.2f} ms (median of 5)")
    loads = [timed(load_story, default_story_path())[1] for _ in range(5)]
    story = load_story(default_story_path())
    report("default story: load (median of 5)", statistics.median(loads), 0.200)

    renders = []
    for day in story.days:
        for lang in LANGS:
            _, seconds = timed(lambda d=day, lg=lang: render_text(compose_digest(story, d, lg)))
            renders.append(seconds)
    so_far = [
        timed(lambda lg=lang: render_text(compose_story_so_far(story, story.last_day, lg)))[1]
        for lang in LANGS
    ]
    report(
        f"default story: slowest of {len(renders)} digests (compose+render)", max(renders), 0.005
    )
    report("default story: story so far (slowest language)", max(so_far), 0.005)

    text = synthetic_story(args.events, args.people)
    synthetic, load_seconds = timed(parse_story, text, "synthetic.yaml")
    report(f"synthetic {args.events} events/{args.people} people: load", load_seconds, 3.0)
    per_digest = []
    for day in synthetic.days:
        for lang in LANGS:
            per_digest.append(
                timed(lambda d=day, lg=lang: render_text(compose_digest(synthetic, d, lg)))[1]
            )
    per_digest.sort()
    p50 = per_digest[len(per_digest) // 2]
    p99 = per_digest[int(len(per_digest) * 0.99) - 1]
    report(f"synthetic: digest p50 over {len(per_digest)} digests", p50, 0.005)
    report("synthetic: digest p99", p99, 0.005)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
