"""Text normalisation for matching user input against story names, and mention safety.

Matching works on a *normalised* form: NFKC, control and zero-width characters removed,
casefolded, accents stripped, punctuation turned into spaces, spaces collapsed.

>>> normalise("  Qui est   Sam ALTMAN ?\u200b ")
'qui est sam altman'
>>> normalise("Évincé d’OpenAI, l'ex-PDG")
'evince d openai l ex pdg'
>>> strip_mentions("<@123> @everyone who is <!channel> Sam?")
'who is Sam?'
>>> neutralise("hello @everyone and <!here>")
'hello everyone and here'
"""

from __future__ import annotations

import re
import unicodedata

# Discord: <@123>, <@!123>, <@&123>, <#123>, <:emoji:123>, <a:emoji:123>, <t:123:R>, <id:customize>
# Slack: <@U123>, <@U123|name>, <#C123|name>, <!channel>, <!here>, <!everyone>, <!subteam^S1|@team>,
#        <!date^...|text>, <https://...|label>
_MARKUP = re.compile(r"<(?:[@#!&]|a?:|t:|id:)[^<>\n]{0,200}>")
_MASS_MENTION = re.compile(
    r"@+[\s\u00ad\u200b-\u200f\u2060-\u2064\ufeff]*(?=(?:everyone|here|channel)\b)", re.IGNORECASE
)
_MASS_WORD = re.compile(r"@+(everyone|here|channel)\b", re.IGNORECASE)
_ANGLE_MARKUP = re.compile(r"<([!@#&]+)")
_SPACES = re.compile(r"\s+")
_NON_WORD = re.compile(r"[^0-9a-z]+")

MAX_INPUT = 500  # characters of a question we look at; the rest is ignored


def clean(text: str) -> str:
    """NFKC, without control, format (zero-width, bidi) or private-use characters, spaces collapsed.

    Case and accents are kept: this is the form we may show back to a user.
    """
    text = unicodedata.normalize("NFKC", text[: MAX_INPUT * 4])
    out = []
    for char in text:
        category = unicodedata.category(char)
        if category[0] == "C":  # Cc control, Cf format (zero-width, bidi), Co, Cs, Cn
            out.append(" " if char in "\t\n\r\x0b\x0c" else "")
        elif category in ("Zl", "Zp"):
            out.append(" ")
        else:
            out.append(char)
    return _SPACES.sub(" ", "".join(out)).strip()


def strip_mentions(text: str) -> str:
    """Remove platform mention markup and mass mentions (``<@1>``, ``<!channel>``, ``@here``)."""
    text = _MARKUP.sub(" ", clean(text))
    text = _MASS_WORD.sub(" ", text)
    return _SPACES.sub(" ", text).strip()


def neutralise(text: str) -> str:
    """Make text safe to post: no mass mention and no mention markup can survive.

    Unlike `strip_mentions` the words stay: ``@everyone`` becomes ``everyone``, ``<!here>`` becomes
    ``here``, ``<@123>`` becomes ``123``.
    """
    if "@" not in text and "<" not in text:
        return text
    previous = None
    while previous != text:  # '@@everyone', '<<!here>>'... until nothing is left to remove
        previous = text
        text = _MARKUP.sub(lambda m: m.group(0)[1:-1].lstrip("@#!&"), text)
        text = _MASS_MENTION.sub("", text)
        text = _ANGLE_MARKUP.sub("<", text)
    return text


def fold(text: str) -> str:
    """Casefold and strip accents (keeps punctuation and spacing)."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c)).replace("ß", "ss")


def normalise(text: str) -> str:
    """The matching form: folded, only ASCII letters and digits separated by single spaces.

    Letters outside ASCII after folding (CJK, emoji...) are dropped: names in our stories are
    Latin-script; an alias in another script is matched on its cleaned form instead.
    """
    return _NON_WORD.sub(" ", fold(clean(text))).strip()


def tokens(text: str) -> list[str]:
    normalised = normalise(text)
    return normalised.split() if normalised else []


def starts_with_vowel(text: str) -> bool:
    """True when French elides the article before this word: d'OpenAI, l'IA (but de Microsoft)."""
    folded = fold(text.lstrip())
    return bool(folded) and folded[0] in "aeiouyh"
