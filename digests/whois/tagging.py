"""Tagging: the longest known phrases of a question (names, role titles, predicates, markers),
separable verbs ("pushed Altman out") and fuzzy matches of typos against the vocabulary.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rapidfuzz import fuzz, process

from digests.whois import lexicon as lex
from digests.whois.model import Evidence, Query
from digests.whois.normalise import fuzzy_cutoff

if TYPE_CHECKING:
    from digests.whois.index import StoryIndex


def tag_phrases(ix: StoryIndex, q: Query) -> None:
    toks = q.tokens
    n = len(toks)
    i = 0
    while i < n:
        if q.explained[i]:
            i += 1
            continue
        tags = None
        size = 0
        for size in range(min(ix.max_phrase, n - i), 0, -1):
            if any(q.explained[i : i + size]):
                continue
            tags = ix.phrases.get(" ".join(toks[i : i + size]))
            if tags:
                break
        if not tags:
            i += 1
            continue
        entity_tags = [t for t in tags if t[0] == "ent"]
        other_tags = [t for t in tags if t[0] != "ent"]
        if size == 1 and entity_tags and any(t[0] != "stop" for t in other_tags):
            # A word that is both vocabulary and a partial name: vocabulary wins unless it
            # is written like a name in a mixed-case question.
            partial = all(
                t[1][1] in ("first", "last", "alias", "part", "acro") for t in entity_tags
            )
            capitalised = (
                q.mixed_case and q.cased is not None and q.cased[i][:1].isupper() and i > 0
            )
            if partial and not capitalised:
                entity_tags = []
        if entity_tags:
            other_tags = [t for t in other_tags if t[0] != "stop"]
        for kind, value in [*entity_tags, *other_tags]:
            if kind == "ent":
                index, how = value
                if how == "acro" and not (q.cased is not None and q.cased[i].isupper()):
                    continue
                q.evidence.setdefault(index, []).append(
                    Evidence(i, i + size, "full" if how == "acro" else how, 1.0)
                )
            elif kind == "role":
                q.roles.append((i, value, False))
            elif kind == "weak":
                q.roles.append((i, value, True))
            elif kind == "pred":
                q.preds.append((i, value, " ".join(toks[i : i + size]) in lex.PREDICATE_NOUNS))
            elif kind != "stop":
                q.markers.setdefault(kind, []).append(i)
        for position in range(i, i + size):
            q.explained[position] = True
        i += size


def separable(ix: StoryIndex, q: Query) -> None:
    """Verbs whose particle follows the object ("pushed Altman out"), and "work ... with"."""
    toks = q.tokens
    tagged = {p for p, _, _ in q.preds}
    for i, token in enumerate(toks):
        if i in tagged:
            continue
        for verb, rest, pred in lex.SEPARABLE:
            if verb != token:
                continue
            for j in range(i + 2, min(i + 6, len(toks) - len(rest) + 1)):
                if tuple(toks[j : j + len(rest)]) == rest and all(q.explained[i + 1 : j]):
                    q.preds.append((i, pred, False))
                    for position in (i, *range(j, j + len(rest))):
                        q.explained[position] = True
                    tagged.add(i)
                    break
            if i in tagged:
                break
    if not any(pred == "works_with" for _, pred, _ in q.preds) and any(
        t in lex.WITH_WORDS for t in toks
    ):
        verb_at = next((i for i, t in enumerate(toks) if t in lex.WORK_VERBS), None)
        if verb_at is not None:
            q.preds.append((verb_at, "works_with", False))
            q.explained[verb_at] = True


def tag_fuzzy(ix: StoryIndex, q: Query) -> None:
    for position, token in enumerate(q.tokens):
        if q.explained[position] or len(token) < 4 or not token.isalpha():
            continue
        letter = token[0] if ix.fuzzy_by_letter else ""
        bucket = ix.fuzzy_buckets.get((letter, min(len(token), ix.fuzzy_max_length)))
        if not bucket:
            continue
        hits = process.extract(
            token, bucket, scorer=fuzz.ratio, score_cutoff=fuzzy_cutoff(len(token)), limit=4
        )
        if not hits:
            continue
        best = hits[0][1]
        for candidate, score, _ in hits:
            if score < best:
                break
            for kind, value in ix.fuzzy_vocab[candidate]:
                if kind == "ent":
                    index, how = value
                    q.evidence.setdefault(index, []).append(
                        Evidence(position, position + 1, how, 0.97 * score / 100)
                    )
                elif kind == "role":
                    q.roles.append((position, value, False))
                elif kind == "pred":
                    q.preds.append((position, value, candidate in lex.PREDICATE_NOUNS))
        q.explained[position] = True
        q.fuzzy_hit[position] = True
