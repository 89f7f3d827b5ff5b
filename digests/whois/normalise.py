"""Text normalisation for the who-is-who pipeline: tokens as typed, stems, French typography.

Matching itself works on `digests.textnorm.normalise` (casefolded, accents and punctuation off);
this module adds what the pipeline needs on top: the question's words with their case kept, where
each word lies in the typed text, a crude bilingual stem, and the language a question is written in.
"""

from __future__ import annotations

import re
import unicodedata

from digests.story import Lang
from digests.textnorm import fold

_CASED_SPLIT = re.compile(r"[^0-9A-Za-z]+")


def cased_tokens(text: str) -> list[str]:
    """The words of ``text`` with their case kept (accents off), aligned with `normalise`."""
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c)).replace("ß", "ss")
    return [t for t in _CASED_SPLIT.split(stripped) if t]


_SUFFIXES = (
    "ements",
    "ement",
    "ations",
    "ation",
    "edly",
    "ings",
    "ing",
    "ies",
    "ied",
    "ers",
    "ees",
    "ent",
    "er",
    "ee",
    "es",
    "ed",
    "ly",
    "s",
)
_NEGATION_PREFIXES = ("dis", "des")


def stem(token: str) -> str:
    """A crude bilingual stem: one common suffix off, then a final "e" (fired/firing/fire)."""
    for suffix in _SUFFIXES:
        if token.endswith(suffix) and len(token) - len(suffix) >= 3:
            token = token[: -len(suffix)]
            break
    if token.endswith("e") and len(token) > 3:
        token = token[:-1]
    if token.endswith("y") and len(token) > 3:
        token = token[:-1] + "i"  # reunify / reunified
    return token


def features(token: str) -> list[tuple[str, float]]:
    """Comparison features of a word: its stem, a negation-less stem, a 4-letter prefix."""
    base = stem(token)
    out = [("s:" + base, 1.0)]
    for prefix in _NEGATION_PREFIXES:
        if base.startswith(prefix) and len(base) - len(prefix) >= 5:
            out.append(("s:" + base[len(prefix) :], 0.8))
    if len(token) >= 5:
        out.append(("p:" + token[:4], 0.5))
    return out


def token_spans(text: str) -> list[tuple[int, int]]:
    """Where each token of `normalise(text)` lies in ``text`` (to quote the user as typed)."""
    spans: list[tuple[int, int]] = []
    start: int | None = None
    for index, char in enumerate(text):
        folded = fold(char)
        word = bool(folded) and all(c.isascii() and c.isalnum() for c in folded)
        if word and start is None:
            start = index
        elif not word and start is not None and folded != "":
            spans.append((start, index))
            start = None
    if start is not None:
        spans.append((start, len(text)))
    return spans


_FR_TIGHT = re.compile(r"[ \u00a0\u202f]*([;!?])(?=\s|$|[»”)])")
_FR_COLON = re.compile(r"(?<=\S)[ \u00a0\u202f]*:(?=\s|$)")
_FR_OPEN = re.compile(r"«[ \u00a0\u202f]*")
_FR_CLOSE = re.compile(r"[ \u00a0\u202f]*»")


_STRAIGHT_APOSTROPHE = re.compile(r"(?<=\w)'(?=\w)")


def typography(text: str, lang: Lang) -> str:
    """The typographic apostrophe in both languages (a name typed "O'Brien" is shown
    "O’Brien"); French spacing: a narrow no-break space before ; ! ? and inside « », no-break
    before :."""
    if not text:
        return text
    text = _STRAIGHT_APOSTROPHE.sub("’", text)
    if lang != "fr":
        return text
    text = _FR_TIGHT.sub("\u202f\\1", text)
    text = _FR_COLON.sub("\u00a0:", text)
    text = _FR_OPEN.sub("«\u202f", text)
    return _FR_CLOSE.sub("\u202f»", text)


def fuzzy_cutoff(length: int) -> float:
    return 75.0 if length == 4 else 80.0


# --------------------------------------------------------------------------- the index


_FRENCH = frozenset(
    [
        "qui",
        "que",
        "quoi",
        "quel",
        "quelle",
        "quels",
        "quelles",
        "est",
        "etait",
        "sont",
        "etaient",
        "le",
        "la",
        "les",
        "de",
        "du",
        "des",
        "une",
        "et",
        "ou",
        "avec",
        "pour",
        "par",
        "dans",
        "sur",
        "chez",
        "pas",
        "ne",
        "depuis",
        "quand",
        "comment",
        "pourquoi",
        "lequel",
        "laquelle",
        "c",
        "qu",
        "d",
        "l",
        "t",
        "il",
        "elle",
        "ils",
        "elles",
        "leur",
        "son",
        "sa",
        "ses",
        "ce",
        "cette",
        "moi",
        "dis",
        "parle",
        "apres",
        "avant",
        "lendemain",
        "veille",
        "lundi",
        "mardi",
        "mercredi",
        "jeudi",
        "vendredi",
        "samedi",
        "dimanche",
        "janvier",
        "fevrier",
        "avril",
        "mai",
        "juin",
        "juillet",
        "aout",
        "septembre",
        "octobre",
        "novembre",
        "decembre",
        "ete",
        "fait",
        "dit",
        "actuellement",
        "aujourd",
        "hui",
    ]
)
_ENGLISH = frozenset(
    [
        "who",
        "whom",
        "whose",
        "what",
        "which",
        "is",
        "was",
        "are",
        "were",
        "the",
        "of",
        "did",
        "does",
        "do",
        "has",
        "have",
        "had",
        "and",
        "with",
        "for",
        "at",
        "in",
        "by",
        "from",
        "about",
        "tell",
        "me",
        "when",
        "where",
        "why",
        "how",
        "it",
        "its",
        "his",
        "her",
        "their",
        "this",
        "that",
        "after",
        "before",
        "day",
        "next",
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
        "now",
        "currently",
        "today",
    ]
)


def question_language(text: str) -> Lang | None:
    """The language a question is written in, or None when nothing tells (a bare name).

    >>> question_language("Qui a licencié Sam Altman ?"), question_language("who is nadella")
    ('fr', 'en')
    >>> question_language("Sam Altman") is None
    True
    """
    tokens = re.split(r"[^0-9a-z]+", fold(text).lower())
    french = sum(t in _FRENCH for t in tokens)
    english = sum(t in _ENGLISH for t in tokens)
    if any(c in "éèêëàâçùûîïô" for c in text.lower()):
        french += 1
    if french == english:
        return None
    return "fr" if french > english else "en"
