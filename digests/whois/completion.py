"""Autocomplete: ranked names for a partial input, in well under a millisecond."""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from typing import TYPE_CHECKING

from rapidfuzz import fuzz, process

from digests.story import Lang
from digests.textnorm import (
    MAX_INPUT,
    neutralise,
    normalise,
    strip_mentions,
)
from digests.whois import lexicon as lex
from digests.whois.model import SUGGESTION_LIMIT, Suggestion

if TYPE_CHECKING:
    from digests.whois.index import StoryIndex


@dataclass(frozen=True, slots=True)
class Completion:
    """Autocomplete keys of a story: sorted name keys, each with (rank class, entity index)."""

    keys: list[str]
    rows: list[tuple[int, int]]
    order: list[int]  # every entity, most central first (for an empty prefix)
    short: dict[str, list[int]]  # prefixes of 1 to 3 letters, ranked at build time


def build_completion(ix: StoryIndex) -> Completion:
    """Sorted name keys (full names, aliases, name tails) and the short prefixes ranked once."""
    keys: list[tuple[str, int, int]] = []  # key, rank class (0 full, 1 token), entity
    for entity in ix.entities:
        if entity.person is not None:
            texts = [entity.person.name, *entity.person.aliases]
        else:
            org = entity.organisation
            assert org is not None
            texts = [org.name, *org.aliases]
            if org.local_name is not None:
                texts += [org.local_name.fr, org.local_name.en]
        seen: set[str] = set()
        for text_index, text in enumerate(texts):
            full = normalise(text)
            if not full:
                continue
            if full not in seen:
                keys.append((full, 0 if text_index == 0 else 1, entity.index))
                seen.add(full)
            parts = full.split()
            for start in range(1, len(parts)):
                tail = " ".join(parts[start:])
                if tail not in seen and parts[start] not in lex.SHORT_FUNCTION:
                    keys.append((tail, 2, entity.index))
                    seen.add(tail)
    keys.sort()
    order = sorted(
        range(len(ix.entities)),
        key=lambda i: (-ix.entities[i].weight, ix.entities[i].name),
    )
    # Short prefixes have many hits: rank them once, at build time.
    short: dict[str, dict[int, tuple[int, int, str]]] = {}
    for key, rank, entity_index in keys:
        entity = ix.entities[entity_index]
        sort_key = (rank, -entity.weight, entity.name)
        for length in (1, 2, 3):
            if len(key) < length:
                break
            bucket = short.setdefault(key[:length], {})
            previous = bucket.get(entity_index)
            if previous is None or sort_key < previous:
                bucket[entity_index] = sort_key
    short_ranked: dict[str, list[int]] = {
        prefix: [i for i, _ in sorted(bucket.items(), key=lambda kv: kv[1])[:SUGGESTION_LIMIT]]
        for prefix, bucket in short.items()
    }
    return Completion(
        keys=[k for k, _, _ in keys],
        rows=[(rank, entity) for _, rank, entity in keys],
        order=order,
        short=short_ranked,
    )


def suggest(
    ix: StoryIndex, prefix: str, lang: Lang = "en", limit: int = SUGGESTION_LIMIT
) -> list[Suggestion]:
    """Ranked names for a partial input (autocomplete): never raises, at most ``limit``."""
    try:
        limit = max(0, min(int(limit), 100))
        key = normalise(strip_mentions(prefix[: MAX_INPUT * 4]))[:MAX_INPUT]
    except Exception:
        return []
    if limit == 0:
        return []
    if not key:
        chosen = ix.completion.order[:limit]
    elif len(key) <= 3 and limit <= SUGGESTION_LIMIT:
        chosen = ix.completion.short.get(key, [])[:limit]
    else:
        start = bisect.bisect_left(ix.completion.keys, key)
        found: dict[int, tuple[int, int, str]] = {}
        for position in range(start, min(start + 400, len(ix.completion.keys))):
            if not ix.completion.keys[position].startswith(key):
                break
            rank, entity_index = ix.completion.rows[position]
            entity = ix.entities[entity_index]
            sort_key = (rank, -entity.weight, entity.name)
            if entity_index not in found or sort_key < found[entity_index]:
                found[entity_index] = sort_key
        chosen = [i for i, _ in sorted(found.items(), key=lambda kv: kv[1])[:limit]]
        if not chosen and len(key) >= 4 and len(ix.full_names) <= 2000:
            hits = process.extract(
                key,
                ix.full_names,
                scorer=fuzz.partial_ratio,
                score_cutoff=80,
                limit=limit * 2,
            )
            chosen = list(dict.fromkeys(ix.full_owner[h[2]] for h in hits))[:limit]
    return [
        Suggestion(
            ix.entities[i].id,
            neutralise(ix.entities[i].display(lang)),
            ix.entities[i].kind,
        )
        for i in chosen
    ]
