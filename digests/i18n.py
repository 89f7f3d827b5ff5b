"""UI strings through gettext catalogs managed with Babel's tooling.

Catalogs live in ``<package>/locale/<lang>/LC_MESSAGES/<domain>.po``: one domain per area
(``digests``, ``whois``, ``bot``, ``discord``, ``slack``) so each area owns its file. Message ids
are English; the ``fr`` catalog translates them, the ``en`` catalog may stay empty (an
untranslated message falls back to its id).

We compile the ``.po`` files in memory with Babel when first used instead of shipping ``.mo``
binaries: one source of truth, nothing to forget to rebuild. ``make i18n`` runs
``pybabel extract/update`` to keep catalogs in step with the code.
"""

from __future__ import annotations

import io
from functools import cache
from importlib import resources
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

from digests.story import Lang

LOCALES: dict[str, str] = {"fr": "fr_FR", "en": "en_US"}


def babel_locale(lang: Lang) -> str:
    """The Babel locale used to format dates, lists and numbers for a story language."""
    return LOCALES[lang]


def catalog_path(package: str, domain: str, lang: str) -> Path:
    return Path(str(resources.files(package) / "locale" / lang / "LC_MESSAGES" / f"{domain}.po"))


@cache
def translations(lang: Lang, domain: str = "digests", package: str = "digests") -> NullTranslations:
    """gettext translations for ``lang`` in ``domain`` (compiled once per process)."""
    path = catalog_path(package, domain, lang)
    if not path.is_file():
        return NullTranslations()
    with path.open("rb") as po_file:
        catalog = read_po(po_file, locale=LOCALES.get(lang, lang), domain=domain)
    buffer = io.BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    buffer.seek(0)
    return Translations(fp=buffer, domain=domain)


class Messages:
    """Bound gettext functions for one language and domain: ``_t = Messages("fr"); _t("Day %(n)s")``.

    Name the bound object ``_t``: catalog extraction looks for calls to that name (see
    ``scripts/update_catalogs.py``), so it must not be a name ordinary code uses.
    """

    def __init__(self, lang: Lang, domain: str = "digests", package: str = "digests") -> None:
        self.lang = lang
        self._translations = translations(lang, domain, package)

    def __call__(self, message: str, **values: object) -> str:
        text = self._translations.gettext(message)
        return text % values if values else text

    def plural(self, singular: str, plural: str, n: int, **values: object) -> str:
        text = self._translations.ngettext(singular, plural, n)
        return text % {"n": n, **values}


def N_(message: str) -> str:
    """Mark a string for extraction without translating it yet (translated where shown)."""
    return message
