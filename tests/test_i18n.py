"""Every UI string used in the code has a French translation in its gettext catalog."""

from __future__ import annotations

from scripts.update_catalogs import DOMAINS, extract, missing_translations


def test_every_message_has_a_french_translation() -> None:
    assert missing_translations() == []


def test_extraction_finds_the_digest_strings() -> None:
    # Guards the check above against silently extracting nothing.
    ids = {message.id for message in extract("digests") if message.id}
    assert {"Also today", "Who's who", "Previously"} <= ids
    assert set(DOMAINS) >= {"digests", "whois", "bot", "discord", "slack"}


def test_french_catalog_is_used_at_run_time() -> None:
    from digests.i18n import Messages

    assert Messages("fr")("Also today") == "Aussi aujourd’hui"
    assert Messages("en")("Also today") == "Also today"


def test_french_core_catalogs_use_the_typographic_apostrophe() -> None:
    # French typography wants ’ (U+2019): a straight ' in a translation shows in every answer.
    from babel.messages.pofile import read_po

    from digests.i18n import catalog_path

    for domain in ("digests", "whois"):
        with catalog_path("digests", domain, "fr").open("rb") as po_file:
            catalog = read_po(po_file, locale="fr_FR", domain=domain)
        straight = [
            m.string for m in catalog if m.id and isinstance(m.string, str) and "'" in m.string
        ]
        assert straight == [], domain
