"""Keep the gettext catalogs in step with the code, with Babel's own extraction and update.

    python scripts/update_catalogs.py          # extract, then update every catalog
    python scripts/update_catalogs.py --check  # exit 1 if a message lacks a French translation

Each domain owns the catalogs of one area of the code (see DOMAINS); English catalogs may stay
empty because message ids are English.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_file
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parents[1]
# The code names its bound `Messages` object `_t` (or `_`), and `_m(lang, text)` translates once.
# Extraction matches call names only, so a keyword must never be a name ordinary code uses for
# something else: a one-letter keyword such as `m` also caught `int(m["id"]) for m in page`.
KEYWORDS = {"_": None, "_t": None, "_m": (2,), "N_": None, "gettext": None, "ngettext": (1, 2)}

# domain -> (package whose locale/ directory holds the catalogs, source globs)
DOMAINS: dict[str, tuple[str, tuple[str, ...]]] = {
    "digests": (
        "digests",
        ("digests/compose.py", "digests/formatting.py", "digests/options.py", "digests/render.py"),
    ),
    "whois": ("digests", ("digests/whois/**/*.py",)),
    "bot": (
        "bot",
        (
            "bot/*.py",
            "bot/commands/*.py",
            "bot/console/*.py",
            "bot/store/*.py",
            "bot/stories/*.py",
            "bot/subscriptions/*.py",
        ),
    ),
    "discord": ("bot", ("bot/discord/**/*.py",)),
    "slack": ("bot", ("bot/slack/**/*.py",)),
    "web": ("bot", ("bot/web/**/*.py",)),
}
LANGS = ("fr", "en")


def sources(globs: tuple[str, ...]) -> Iterator[Path]:
    for pattern in globs:
        yield from sorted(ROOT.glob(pattern))


def extract(domain: str) -> Catalog:
    template = Catalog(domain=domain, project="depeche")
    for path in sources(DOMAINS[domain][1]):
        for lineno, message, comments, context in extract_from_file(
            "python", str(path), keywords=KEYWORDS, comment_tags=("TRANSLATORS:",)
        ):
            template.add(
                message,
                None,
                [(str(path.relative_to(ROOT)), lineno)],
                auto_comments=comments,
                context=context,
            )
    return template


def catalog_file(domain: str, lang: str) -> Path:
    package = DOMAINS[domain][0]
    return ROOT / package / "locale" / lang / "LC_MESSAGES" / f"{domain}.po"


def update(domain: str) -> None:
    template = extract(domain)
    if not len(template):
        return
    for lang in LANGS:
        path = catalog_file(domain, lang)
        if path.is_file():
            with path.open("rb") as handle:
                catalog = read_po(handle, locale=lang, domain=domain)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            catalog = Catalog(locale=lang, domain=domain, project="depeche")
        catalog.update(template, no_fuzzy_matching=True)
        catalog.obsolete.clear()
        with path.open("wb") as handle:
            write_po(handle, catalog, width=100, omit_header=False, include_lineno=False)


def source_line(file: str, line: int) -> str:
    """The stripped line of code a message was extracted from, to show the offending call."""
    lines = (ROOT / file).read_text(encoding="utf-8").splitlines()
    return lines[line - 1].strip() if 0 < line <= len(lines) else "?"


def missing_translations() -> list[str]:
    """Messages used in the code that the French catalog does not translate (or marks fuzzy)."""
    problems = []
    for domain in DOMAINS:
        template = extract(domain)
        if not len(template):
            continue
        path = catalog_file(domain, "fr")
        if not path.is_file():
            problems.append(
                f"{path.relative_to(ROOT)}: missing catalog for {len(template)} messages"
            )
            continue
        with path.open("rb") as handle:
            catalog = read_po(handle, locale="fr", domain=domain)
        for message in template:
            if not message.id:
                continue
            translated = catalog.get(message.id)
            strings = translated.string if translated is not None else None
            ok = all(strings) if isinstance(strings, tuple | list) else bool(strings)
            if translated is None or not ok or translated.fuzzy:
                where = "; ".join(
                    f"{file}:{line}: {source_line(file, line)}" for file, line in message.locations
                )
                problems.append(
                    f"{path.relative_to(ROOT)}: no French for {message.id!r} at {where}"
                )
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--check", action="store_true", help="only report missing French translations"
    )
    args = parser.parse_args()
    if not args.check:
        for domain in DOMAINS:
            update(domain)
    problems = missing_translations()
    for problem in problems:
        print(problem, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
