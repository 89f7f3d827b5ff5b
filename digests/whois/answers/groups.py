"""Groups the source does not name: "who are the three senior scientists who resigned?".

A fact without a subject but with a ``group`` ("three key senior scientists") says someone did it
whom the source does not name. A question that describes such a group, or asks who did
something only such a group did, is answered with that: the source does not name them. Never
with a named person who is not one of them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

from digests.documents import Item, Section, Span
from digests.i18n import Messages
from digests.story import Lang
from digests.textnorm import normalise
from digests.whois import lexicon as lex
from digests.whois.known import known
from digests.whois.model import Entity, Query, Triple, WhoAnswer
from digests.whois.normalise import stem
from digests.whois.phrasing import when
from digests.whois.render import document

if TYPE_CHECKING:
    from digests.whois.index import StoryIndex

_NUMBERS = {
    "one": "1",
    "two": "2",
    "three": "3",
    "four": "4",
    "five": "5",
    "un": "1",
    "deux": "2",
    "trois": "3",
    "quatre": "4",
    "cinq": "5",
}
_MIN_SHARED = 2  # words of a group's description a question must share to be about it
# Words that say nothing about which group is meant ("the other employees" = "employees").
_GENERIC = frozenset({"other", "others", "autre", "autres", "some", "certains", "certaines"})
# Before a description, these make the group a point of reference, not the one asked about:
# "who resigned at the same time as the three scientists?" asks for Brockman.
_COMPANION = frozenset(
    {"with", "alongside", "as", "like", "besides", "avec", "que", "comme", "outre", "than"}
)
_SKIP = frozenset(
    {"the", "a", "an", "les", "le", "la", "l", "des", "de", "d", "ces", "those", "these", "its",
     "ses", "leurs", "their", "other", "autres", *_NUMBERS, "3", "2", "1", "4", "5"}
)  # fmt: skip
_WH = frozenset({"who", "whom", "qui", "which", "what", "quoi"})
_AUX = frozenset({"did", "do", "does", "will", "would", "have", "has", "had", "could", "might"})
_INVERTED = frozenset({"ils", "elles", "il", "elle"})


@dataclass(frozen=True, slots=True)
class Group:
    """An unnamed group of a story: the fact it did and the stems of its description."""

    triple: Triple
    stems: frozenset[str]


@dataclass(frozen=True, slots=True)
class Described:
    """The unnamed groups a question describes, and the part the description plays in it:
    "asked" (who are they?), "reference" (who left *with* them?) or "subject" (whom did they
    join?)."""

    triples: list[Triple]
    part: str


# Words for the same kind of people, reduced to one ("staff" = "employees").
_SAME_KIND = {
    **dict.fromkeys(
        ("staff", "staffers", "employee", "employees", "employe", "employes", "salarie",
         "salaries", "personnel", "workers"),
        "employee",
    ),
    **dict.fromkeys(
        ("scientist", "scientists", "scientifique", "scientifiques", "researcher",
         "researchers", "chercheur", "chercheurs", "chercheuse", "chercheuses"),
        "scientist",
    ),
    **dict.fromkeys(("former", "ex", "ancien", "anciens", "anciennes"), "former"),
}  # fmt: skip


def _stem_of(token: str) -> str | None:
    token = _NUMBERS.get(token, token)
    if token.isdigit():
        return token
    if len(token) < 2 or token in lex.TEXT_STOPWORDS or token in _GENERIC:
        return None
    return _SAME_KIND.get(token) or stem(token)


def _shared(stems: frozenset[str], asked: set[str]) -> int:
    """How much of a group's description the question repeats; a count ("the three ...") is
    worth two words, since no one person is "three"."""
    common = stems & asked
    return len(common) + sum(1 for s in common if s.isdigit() and s != "1")


def build_groups(ix: StoryIndex) -> list[Group]:
    """Every unnamed group of the story, with the words that describe it (both languages)."""
    # Names are not description; a word that is only part of a name ("employees" of "OpenAI
    # employees") is, since it says what the group is.
    names = {
        p
        for p, tags in ix.phrases.items()
        if any(t[0] == "ent" and t[1][1] != "part" for t in tags)
    }
    groups = []
    for triples in ix.triples.values():
        for triple in triples:
            if triple.group_id() is None:
                continue
            words = normalise(f"{triple.group.fr} {triple.group.en}").split()
            stems = {s for w in words if w not in names and (s := _stem_of(w)) is not None}
            groups.append(Group(triple, frozenset(stems)))
    return groups


def _part(q: Query, first: int, last: int) -> str:
    """What the description at ``first``..``last`` is in the question (see `Described`)."""
    toks = q.tokens
    before = first - 1
    while before >= 0 and toks[before] in _SKIP:
        before -= 1
    window = toks[max(0, before - 4) : before + 1]
    if before >= 0 and (toks[before] in _COMPANION or "meme temps" in " ".join(window)):
        return "reference"
    if before >= 1 and toks[before] in _AUX and toks[before - 1] in _WH:
        return "subject"  # "who did the three scientists follow?"
    if before == 0 and toks[0] == "qui" and any(t in _INVERTED for t in toks[last + 1 : last + 4]):
        return "subject"  # "qui les ex-employés vont-ils rejoindre ?"
    return "asked"


def described_group(
    ix: StoryIndex,
    q: Query,
    accepted: list[tuple[Entity, float, int]],
    as_of: dt.date,
    minimum: int = _MIN_SHARED,
) -> Described | None:
    """The unnamed groups the question describes ("les 3 cadres scientifiques"), best first.

    Words of a confident name are not description; a loose match ("employees" for "OpenAI
    staff") is, since the group may be the very thing that word describes."""
    if not ix.groups:
        return None
    named: set[int] = set()
    for entity, score, _start in accepted:
        if score < 0.9:
            continue
        for ev in q.evidence.get(entity.index, []):
            named.update(range(ev.start, ev.end))
    asked: dict[str, list[int]] = {}
    for i, token in enumerate(q.tokens):
        if i not in named and (s := _stem_of(token)) is not None:
            asked.setdefault(s, []).append(i)
    scored = [
        (_shared(group.stems, set(asked)), group)
        for group in ix.groups
        if known(group.triple.date, as_of)
    ]
    best = max((n for n, _ in scored), default=0)
    if best < minimum:
        return None
    groups = [group for n, group in scored if n == best]
    positions = sorted(i for s in groups[0].stems & asked.keys() for i in asked[s])
    return Described([g.triple for g in groups], _part(q, positions[0], positions[-1]))


def group_answer(
    ix: StoryIndex, echo: str, lang: Lang, triples: list[Triple], as_of: dt.date
) -> WhoAnswer:
    """The source does not name them: what it says they did, and nothing about anyone else."""
    _t = Messages(lang, domain="whois")
    first = triples[0]
    description = first.group(lang)
    items = [
        Item(
            (Span(triple.event.headline(lang)),) if triple.event else (),
            when(ix, triple.date, lang, _t) if triple.date is not None else None,
        )
        for triple in dict.fromkeys(triples)
        if triple.event is not None
    ]
    sentence = _t("The story does not name them: %(group)s.", group=description)
    sections = [
        Section(_t("Answer"), (Item((Span(sentence, "strong"),)),), "paragraph"),
        Section(_t("What the story says"), tuple(items[:8])),
    ]
    doc = document(
        ix,
        lang,
        description[:1].upper() + description[1:],
        sections,
        None,
        {"found": True, "intent": "event", "question": echo},
    )
    return WhoAnswer(echo, lang, True, (), doc, (), "event")
