"""The pages and the console in a real browser: Debian's headless Chromium driven by
Playwright (pointed at the system binary; `.ci/run` installs it). Screenshots of the main pages
in both languages go to a temporary directory, or to docs/screenshots/ with
DEPECHE_UPDATE_SCREENSHOTS=1 (the README's pictures)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from bot.console import ConsolePublisher
from tests.web_env import SLUG, Site

CHROMIUM = os.environ.get("DEPECHE_CHROMIUM", "/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
]
ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.xdist_group("browser")


def screenshot_dir(tmp_path: Path) -> Path:
    if os.environ.get("DEPECHE_UPDATE_SCREENSHOTS") == "1":
        return ROOT / "docs" / "screenshots"
    return tmp_path / "screenshots"


async def test_pages_and_console_in_chromium(site: Site, tmp_path: Path) -> None:
    from playwright.async_api import async_playwright

    assert shutil.which(CHROMIUM) or Path(CHROMIUM).is_file(), (
        f"{CHROMIUM} not found: apt-get install chromium chromium-driver (see .ci/run)"
    )
    site.context.publishers.register(ConsolePublisher(site.context.store))
    shots = screenshot_dir(tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    problems: list[str] = []
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = await browser.new_page(viewport={"width": 1200, "height": 900})
            page.set_default_timeout(60_000)
            page.on(
                "console",
                lambda message: problems.append(message.text) if message.type == "error" else None,
            )
            page.on("pageerror", lambda error: problems.append(str(error)))

            for lang, days, who in (
                ("fr", "Jour après jour", "Personnes"),
                ("en", "Day by day", "People"),
            ):
                await page.goto(f"{site.url}/{lang}/{SLUG}/")
                assert await page.locator("h2", has_text=days).count() == 1
                assert await page.locator("h2", has_text=who).count() >= 1
                picture = page.locator("figure img")
                # The timeline picture loaded (CSP allows our own images): natural size is real.
                assert await picture.evaluate("img => img.complete && img.naturalWidth") == 960
                await page.screenshot(path=str(shots / f"story-{lang}.png"), full_page=False)

                await page.locator("ol.days a").nth(1).click()
                await page.wait_for_url(f"**/{lang}/{SLUG}/2023-11-18/")
                assert "2023" in await page.locator("p.subtitle").inner_text()
                await page.screenshot(path=str(shots / f"day-{lang}.png"), full_page=True)

                await page.locator("a[rel=next]").click()
                await page.wait_for_url(f"**/{lang}/{SLUG}/2023-11-19/")

                await page.goto(f"{site.url}/{lang}/{SLUG}/people/sam-altman/")
                assert await page.locator("table.roles tbody tr").count() >= 2
                await page.screenshot(path=str(shots / f"person-{lang}.png"), full_page=True)

            # The console: create, pause, send now — by clicking, as an admin would.
            await page.goto(f"{site.url}/console/?lang=fr")
            await page.locator("select[name=sub_lang]").select_option("fr")
            await page.locator("input[name=time]").fill("07:30")
            await page.get_by_role("button", name="S'abonner").click()
            assert await page.locator("p.notice").inner_text() == "Abonnement enregistré."
            row = page.locator("table.subscriptions tbody tr").first
            assert "07:30 Europe/Paris" in await row.inner_text()
            await row.get_by_role("button", name="Mettre en pause").click()
            assert await page.locator("p.notice").inner_text() == "Abonnement en pause."
            assert "en pause" in await page.locator("td.status").first.inner_text()
            await (
                page.locator("table.subscriptions tbody tr")
                .first.get_by_role("button", name="Reprendre")
                .click()
            )
            await (
                page.locator("table.subscriptions tbody tr")
                .first.get_by_role("button", name="Envoyer maintenant")
                .click()
            )
            assert await page.locator("p.notice").inner_text() == "Récapitulatif envoyé."
            assert (
                "[fr] publié"
                in await page.locator("table.subscriptions tbody tr").first.inner_text()
            )
            await page.screenshot(path=str(shots / "console-fr.png"), full_page=True)
            await page.goto(f"{site.url}/console/?lang=en")
            await page.screenshot(path=str(shots / "console-en.png"), full_page=True)
        finally:
            await browser.close()
    assert problems == []  # no CSP violation, no script error
    for name in ("story-fr", "story-en", "day-fr", "day-en", "person-fr", "console-fr"):
        assert (shots / f"{name}.png").stat().st_size > 10_000, name
