"""French typography for generated and story text: the spaces a French reader expects.

>>> french_spacing("Note : « bonjour » ; 95 % ?")
'Note\xa0: «\xa0bonjour\xa0»\u202f; 95\u202f%\u202f?'
>>> french_spacing("à 08:00, voir https://example.org")
'à 08:00, voir https://example.org'
"""

from __future__ import annotations

import re

NBSP = "\u00a0"  # before a colon, inside guillemets
NNBSP = "\u202f"  # narrow: before ; ? ! and %

_BEFORE_COLON = re.compile(r"[ \u00a0\u202f]+:(?=\s|$)")
_BEFORE_HIGH_PUNCT = re.compile(r"(?<=\S)[ \u00a0\u202f]+([;?!])")
_BEFORE_PERCENT = re.compile(r"(?<=\d)[ \u00a0\u202f]*%")
_AFTER_OPEN_QUOTE = re.compile(r"«[ \u00a0\u202f]*")
_BEFORE_CLOSE_QUOTE = re.compile(r"[ \u00a0\u202f]*»")


def french_spacing(text: str) -> str:
    """Unbreakable spaces where French typography puts them, so lines never start with ':' or '»'.

    Only spaces already written are made unbreakable (and guillemets get theirs); nothing is
    added before a colon that has none, so URLs and times ("08:00") are left alone.
    """
    text = _BEFORE_COLON.sub(NBSP + ":", text)
    text = _BEFORE_HIGH_PUNCT.sub(lambda match: NNBSP + match.group(1), text)
    text = _BEFORE_PERCENT.sub(NNBSP + "%", text)
    text = _AFTER_OPEN_QUOTE.sub("«" + NBSP, text)
    return _BEFORE_CLOSE_QUOTE.sub(NBSP + "»", text)
