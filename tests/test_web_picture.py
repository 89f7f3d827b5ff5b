"""The timeline picture: golden checks on the text drawn and on the size, both languages; no
later event ever; PNG as laid out; one render per story revision, date and language."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from PIL import Image

from bot.web.picture import PictureCache, font, layout, render_png
from digests.story import default_story, load_story

STORY = default_story()
DAY2 = dt.date(2023, 11, 18)

GOLDEN_FR = [
    ("Crise chez OpenAI", 24, 18, "title"),
    ("Jour 2 — au 18 novembre 2023", 24, 50, "subtitle"),
    ("17 nov.", 24, 84, "day"),
    ("OpenAI licencie son PDG, Sam Altman", 192, 84, "event"),
    ("Le conseil d’administration dit avoir perdu confiance en Altman", 192, 108, "event"),
    ("Mira Murati assure l’intérim", 192, 132, "event"),
    ("Sutskever avance deux raisons au renvoi d’Altman", 192, 156, "event"),
    ("18 nov.", 24, 192, "today"),
    ("Aujourd’hui", 24, 210, "today"),
    ("Le président d’OpenAI, Greg Brockman, démissionne", 192, 192, "event_today"),
    ("Trois cadres scientifiques clés quittent OpenAI", 192, 216, "event_today"),
    ("Le conseil fait marche arrière et négocie le retour d’Altman", 192, 240, "event_today"),
]
GOLDEN_EN = [
    ("Crisis at OpenAI", 24, 18, "title"),
    ("Day 2 — as of November 18, 2023", 24, 50, "subtitle"),
    ("Nov. 17", 24, 84, "day"),
    ("OpenAI fires CEO Sam Altman", 192, 84, "event"),
    ("Board says it lost confidence in Altman", 192, 108, "event"),
    ("Mira Murati takes over as interim CEO", 192, 132, "event"),
    ("Sutskever gives staff two reasons for Altman’s ouster", 192, 156, "event"),
    ("Nov. 18", 24, 192, "today"),
    ("Today", 24, 210, "today"),
    ("OpenAI President Greg Brockman quits", 192, 192, "event_today"),
    ("Three key senior scientists quit OpenAI", 192, 216, "event_today"),
    ("Board backtracks, seeks Altman’s return", 192, 240, "event_today"),
]


@pytest.mark.parametrize(("lang", "golden"), [("fr", GOLDEN_FR), ("en", GOLDEN_EN)])
def test_golden_text_and_size(lang: str, golden: list[tuple[str, int, int, str]]) -> None:
    plan = layout(STORY, DAY2, lang)  # type: ignore[arg-type]
    assert [(t.text, t.x, t.y, t.font) for t in plan.texts] == golden
    assert plan.size == (960, 304)
    assert len(plan.dots) == 7
    assert [d.today for d in plan.dots] == [False] * 4 + [True] * 3
    assert [d.exact for d in plan.dots] == [True, True, True, False, True, True, False]


def test_french_typography_in_the_picture() -> None:
    texts = [t.text for t in layout(STORY, dt.date(2023, 11, 19), "fr").texts]
    # French quotes get no-break spaces inside, "95 %" a narrow one; accents are kept.
    assert any(text.startswith("Échec") for text in texts)
    last = [t.text for t in layout(STORY, STORY.last_day, "fr").texts]
    assert "95\u202f% des salariés exigent la démission du conseil" in last


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_a_replay_date_shows_no_later_event(lang: str) -> None:
    for day in STORY.days:
        texts = layout(STORY, day, lang).texts  # type: ignore[arg-type]
        drawn = " ".join(t.text for t in texts).replace("\u00a0", " ").replace("\u202f", " ")
        for event in STORY.timeline:
            shown = event.headline(lang)[:60] in drawn  # type: ignore[arg-type]
            assert shown == (event.date.first <= day), (day, event.id)


def test_png_has_the_laid_out_size_and_the_glyphs() -> None:
    plan = layout(STORY, STORY.last_day, "fr")
    png = render_png(plan)
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    image = Image.open(io.BytesIO(png))
    assert image.size == plan.size == (960, 712)
    assert image.format == "PNG"
    # Accented capitals need the real font (DejaVu, from fonts-dejavu-core), not a bitmap one.
    assert "DejaVu" in str(getattr(font("event"), "path", ""))
    # The "today" band is drawn: its colour is in the picture.
    assert (232, 240, 254) in {colour for _, colour in image.getcolors(maxcolors=1 << 16) or []}


def test_cache_renders_once_per_revision_date_and_language(tmp_path) -> None:
    cache = PictureCache(size=3)
    first = cache.get(STORY, DAY2, "fr")
    assert cache.get(STORY, DAY2, "fr") is first and cache.renders == 1
    cache.get(STORY, DAY2, "en")
    cache.get(STORY, STORY.last_day, "fr")
    assert cache.renders == 3
    reloaded = load_story(STORY.path)  # a new revision of the same story file
    cache.get(reloaded, DAY2, "fr")
    assert cache.renders == 4
    cache.get(STORY, DAY2, "fr")  # the oldest entry was dropped (size 3)
    assert cache.renders == 5
