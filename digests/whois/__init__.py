"""Who is who: answer free-text French and English questions about a story's people.

A deterministic pipeline over the story data (no language model, no network). Each stage is one
module, with typed data between them (`model`):

- `normalise`  the question's words, with their case and their place in the typed text;
- `dates`      date expressions ("18 novembre 2023", "18/11", "le 18", "samedi", "the day after");
- `tagging`    the longest known phrases: names, role titles, predicates, markers; fuzzy typos;
- `mentions`   which entities the question names, and names it gives that the story lacks;
- `analysis`   the question's shape (who did what, who is, who said) and its date;
- `answers/`   one module per family of answers: `identity`, `role_at_date`, `who_did_what`,
               `sources` (who reported a fact), `statements` (what a person said),
               `organisation_of` (which company a person is with, where they went), `relations`,
               `groups`, `refusals`; `engine` routes a question to them;
- `phrasing` and `render`  bilingual sentences and the platform-neutral document.

`index` holds what is built once per story revision (`index_for` caches it); `texts` indexes the
story's own texts for questions the vocabulary does not cover; `suggest` is autocomplete.

Public API: `WhoIndex.build(story)`, `index.answer(question, lang, today=None) -> WhoAnswer`,
`index.suggest(prefix, lang, limit=25) -> list[Suggestion]`, `index_for(story)` (cached), and the
shortcuts `answer(story, ...)` and `suggest(story, ...)`.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading

from digests.story import Lang, Story
from digests.whois import completion as _completion
from digests.whois.answers.refusals import usage
from digests.whois.engine import answer_question
from digests.whois.index import StoryIndex
from digests.whois.model import SUGGESTION_LIMIT, Match, Suggestion, WhoAnswer
from digests.whois.normalise import question_language

_log = logging.getLogger(__name__)


class WhoIndex:
    """The who-is-who engine of one story revision: answers and autocomplete."""

    def __init__(self, story: Story) -> None:
        self.index = StoryIndex(story)
        self.story = story

    @classmethod
    def build(cls, story: Story) -> WhoIndex:
        return cls(story)

    def answer(self, question: str, lang: Lang = "en", today: dt.date | None = None) -> WhoAnswer:
        """Answer one question; never raises on any input (bad input gets a usage answer)."""
        lang = "fr" if lang == "fr" else "en"
        if not isinstance(question, str):
            question = ""
        try:
            return answer_question(self.index, question, lang, today)
        except Exception:  # pragma: no cover - a last line of defence, tested by property tests
            _log.exception("who-is-who failed on %r", question[:200])
            return usage(self.index, question, lang)

    def suggest(
        self, prefix: str, lang: Lang = "en", limit: int = SUGGESTION_LIMIT
    ) -> list[Suggestion]:
        """Ranked names for a partial input (autocomplete): never raises, at most ``limit``."""
        return _completion.suggest(self.index, prefix, lang, limit)


_CACHE: dict[tuple[str, int], tuple[Story, WhoIndex]] = {}
_CACHE_LOCK = threading.Lock()
_CACHE_SIZE = 16


def index_for(story: Story) -> WhoIndex:
    """The engine of a story, built once per story object (a story revision is a new object)."""
    key = (story.slug, id(story))
    with _CACHE_LOCK:
        cached = _CACHE.get(key)
        if cached is not None and cached[0] is story:
            return cached[1]
    index = WhoIndex.build(story)
    with _CACHE_LOCK:
        if len(_CACHE) >= _CACHE_SIZE:
            _CACHE.pop(next(iter(_CACHE)))
        _CACHE[key] = (story, index)
    return index


def answer(
    story: Story, question: str, lang: Lang = "en", today: dt.date | None = None
) -> WhoAnswer:
    """Shortcut: `index_for(story).answer(...)`."""
    return index_for(story).answer(question, lang, today)


def suggest(
    story: Story, prefix: str, lang: Lang = "en", limit: int = SUGGESTION_LIMIT
) -> list[Suggestion]:
    """Shortcut: `index_for(story).suggest(...)`."""
    return index_for(story).suggest(prefix, lang, limit)


__all__ = [
    "Match",
    "Suggestion",
    "WhoAnswer",
    "WhoIndex",
    "answer",
    "index_for",
    "question_language",
    "suggest",
]
