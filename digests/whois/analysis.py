"""Question analysis: tokens, date and tags (a `Query`), and the question's shape."""

from __future__ import annotations

from typing import TYPE_CHECKING

from digests.textnorm import (
    MAX_INPUT,
    normalise,
    strip_mentions,
)
from digests.whois import lexicon as lex
from digests.whois.dates import parse_date
from digests.whois.model import MAX_TOKENS, Entity, Query
from digests.whois.normalise import cased_tokens, token_spans
from digests.whois.tagging import separable, tag_fuzzy, tag_phrases

if TYPE_CHECKING:
    from digests.whois.index import StoryIndex

BOARD_WORDS = {"board", "conseil", "ca", "directors", "administration"}
MEMBER_WORDS = {
    "on", "member", "members", "membre", "membres", "sits", "sit", "siege", "siegent", "seat",
    "seats", "au", "composition", "compose",
}  # fmt: skip
NOMINAL_BEFORE = {
    "the", "a", "an", "his", "her", "their", "its", "s", "la", "le", "sa", "son", "leur", "l",
    "des", "de", "du", "d", "aux", "au", "une", "un", "les", "ses", "this", "that", "cette",
    "being",
}  # fmt: skip
NOT_PASSIVE = frozenset(
    {"ready", "willing", "prepared", "about", "likely", "pret", "prets", "prete", "pretes", "set"}
)
WH = frozenset({"who", "qui", "whom", "and", "et", "so", "alors", "then", "donc"})
AUX = frozenset({"a", "has", "had", "did", "have", "ont", "avait", "just", "also", "then"})
COPULA = frozenset({"is", "was", "are", "were", "s", "est", "etait", "c", "sont"})
LEAD = frozenset({"avec", "with", "par", "by", "pour", "for", "de", "a"})


def french_auxiliary(tokens: list[str], position: int) -> bool:
    """ "a" after "qui", "n'" or a pronoun is the French auxiliary ("qui a démissionné"), not the
    English article ("a firing")."""
    return tokens[position] == "a" and position > 0 and tokens[position - 1] in _BEFORE_AUX


_BEFORE_AUX = frozenset({"qui", "n", "ne", "il", "elle", "on", "t", "y", "l", "ce", "c"})


def parse(ix: StoryIndex, question: str) -> Query:
    text = strip_mentions(question[: MAX_INPUT * 4])[:MAX_INPUT]
    tokens = normalise(text).split()[:MAX_TOKENS]
    cased: list[str] | None = cased_tokens(text)[:MAX_TOKENS]
    if (
        cased is None
        or len(cased) != len(tokens)
        or any(c.lower() != t for c, t in zip(cased, tokens, strict=False))
    ):
        cased = None
    letters = [c for c in text if c.isalpha()]
    mixed = any(c.isupper() for c in letters) and any(c.islower() for c in letters)
    q = Query(text, tokens, cased, mixed)
    q.explained = [False] * len(tokens)
    q.fuzzy_hit = [False] * len(tokens)
    spans = token_spans(text)
    q.spans = spans if len(spans) == len(normalise(text).split()) else None
    parse_date(ix, q)
    tag_phrases(ix, q)
    separable(ix, q)
    tag_fuzzy(ix, q)
    # "who is considering ...": "is" + -ing is a progressive, not a passive; "who is ready to
    # quit", "qui est prêt à ...": an adjective, the subject does the rest.
    if "passive" in q.markers:
        q.markers["passive"] = [
            p
            for p in q.markers["passive"]
            if not (
                p + 1 < len(tokens)
                and (tokens[p + 1].endswith("ing") or tokens[p + 1] in NOT_PASSIVE)
            )
        ]
        if not q.markers["passive"]:
            del q.markers["passive"]
    # A predicate after an article or a possessive is a noun ("the board's resignation").
    for position, _pred, noun in q.preds:
        if noun or (
            position > 0
            and tokens[position - 1] in NOMINAL_BEFORE
            and not french_auxiliary(tokens, position - 1)
        ):
            q.nominal.add(position)
    # "Who is on OpenAI's board?", "qui siège au CA ?": membership of a board is a role.
    if not any(not weak for _, _, weak in q.roles) and "board-member" in ix.role_holders:
        board = [i for i, t in enumerate(tokens) if t in BOARD_WORDS and q.explained[i]]
        if board and any(t in MEMBER_WORDS for t in tokens):
            q.roles.append((board[0], "board-member", False))
    return q


def verb_slot(ix: StoryIndex, q: Query) -> int:
    """The position of the main verb of a "who ..." question (after auxiliaries)."""
    toks = q.tokens
    i = 0
    while i < len(toks) and (toks[i] in WH or toks[i] in LEAD):
        i += 1
    while i < len(toks) and (toks[i] in AUX or toks[i] in ("does", "do")):
        i += 1
    return i


def question_shape(ix: StoryIndex, q: Query) -> str:
    """What follows "who": a report verb ("who said that..."), a copula ("who is"), other;
    "none" when the question does not ask "who" at all ("Did Mira approve ...?")."""
    toks = q.tokens
    if not any(t in ("who", "qui", "whom") for t in toks[:3]):
        return "none"
    i = 0
    while i < len(toks) and (toks[i] in WH or toks[i] in LEAD):
        i += 1
    if i < len(toks) and toks[i] in COPULA:
        nxt = toks[i + 1] if i + 1 < len(toks) else ""
        return "other" if nxt.endswith("ing") else "identity"
    while i < len(toks) and toks[i] in AUX:
        i += 1
    if i < len(toks) and toks[i] in lex.REPORT_VERBS and len(toks) - i >= 3:
        return "report"
    return "other"


def content_word(ix: StoryIndex, q: Query, position: int) -> bool:
    token = q.tokens[position]
    if token in lex.STOPWORDS or token in lex.TEXT_STOPWORDS:
        return False
    if len(token) < 3 or not token.isalpha():
        return False
    return not (q.mixed_case and q.cased is not None and q.cased[position][:1].isupper())


def boss_question(
    ix: StoryIndex, q: Query, accepted: list[tuple[Entity, float, int]]
) -> Entity | None:
    """The person in "the boss of <person>" / "<person>'s boss", if the question says that."""
    toks = q.tokens
    bosses = [i for i, t in enumerate(toks) if t in lex.BOSS_WORDS]
    if not bosses or any(not weak for _, key, weak in q.roles if key != "ceo"):
        return None
    between_ok = {"of", "de", "d", "the", "la", "le", "l", "du", "s"}
    for entity, _score, start in accepted:
        if entity.kind != "person":
            continue
        end = max(
            (ev.end for ev in q.evidence.get(entity.index, []) if ev.start == start),
            default=start + 1,
        )
        for b in bosses:
            if start > b and all(t in between_ok for t in toks[b + 1 : start]) and start - b <= 3:
                return entity
            if end <= b and toks[end:b] == ["s"]:
                return entity
    return None
