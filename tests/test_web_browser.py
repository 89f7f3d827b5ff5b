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


async def test_story_editor_in_chromium(site: Site, tmp_path: Path) -> None:
    """An editor adds an event (a mistake first, shown by its field), previews the day's
    digest in both languages, publishes with a comment and finds it in the history."""
    from playwright.async_api import async_playwright

    from digests.story import default_story_path

    assert site.context.editing is not None
    site.context.editing.revisions.import_files([default_story_path()])
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
            await page.goto(f"{site.url}/console/?lang=fr")
            await page.get_by_role("link", name="Crise chez OpenAI").click()
            await page.wait_for_url(f"**/console/editor/console/local/{SLUG}/?lang=fr")
            assert "Pas de brouillon" in await page.locator("section.draft").inner_text()

            # Correct the story's first event: the form comes filled in.
            story = site.context.library.get(SLUG)
            first = story.events_on(story.first_day)[0]
            await page.locator("select[name=correct]").select_option(first.id)
            await page.get_by_role("button", name="Choisir").click()
            headline = page.locator("#f-headline_en")
            original = await headline.input_value()
            original_date = await page.locator("#f-date").input_value()
            assert original and original_date
            await page.locator("#f-date").fill("2023-11-31")
            await headline.fill(original + " (test)")
            await page.get_by_role("button", name="Enregistrer dans le brouillon").click()
            assert "n’a pas été enregistré" in await page.locator("p.error").first.inner_text()
            assert await page.locator("#f-date").get_attribute("aria-invalid") == "true"
            assert await headline.input_value() == original + " (test)"  # nothing lost
            await page.screenshot(path=str(shots / "editor-errors-fr.png"), full_page=True)
            await page.locator("#f-date").fill(original_date)
            await page.get_by_role("button", name="Enregistrer dans le brouillon").click()
            assert await page.locator("p.notice").inner_text() == (
                "Événement enregistré dans le brouillon."
            )
            assert (await page.locator("ul.changes li").inner_text()).startswith("~ ")
            await page.screenshot(path=str(shots / "editor-fr.png"), full_page=True)

            await page.get_by_role("link", name="Aperçu (en)").first.click()
            assert "(test)" in await page.locator("article.digest").inner_text()
            await page.screenshot(path=str(shots / "editor-preview-en.png"), full_page=True)
            await page.get_by_role("link", name="Retour au brouillon").click()

            await page.locator("input[name=comment]").fill("Correction de test")
            await page.get_by_role("button", name="Publier").click()
            await page.wait_for_url("**/history?lang=fr&done=published&rev=2")
            assert "révision 2" in await page.locator("p.notice").inner_text()
            assert "Correction de test" in await page.locator("#revision-2").inner_text()
        finally:
            await browser.close()
    # The refused form is answered with 400 on purpose (Chromium logs it); nothing else.
    assert [p for p in problems if "status of 400" not in p] == []
    assert len(problems) <= 1


async def test_slack_sign_in_and_channel_picker_in_chromium(slack_site, tmp_path: Path) -> None:
    """A workspace admin signs in with Slack (through the fake's OpenID pages), sees only their
    workspace, and subscribes a channel picked from Slack's list."""
    from playwright.async_api import async_playwright

    from tests.web_slack_env import ALICE, TEAM_A

    site, fake = slack_site
    fake.add_channel("C0ANEWS", team_id=TEAM_A, name="news")
    fake.add_channel("C0AOPS", team_id=TEAM_A, name="ops")
    fake.openid_login_as = (TEAM_A, ALICE)
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
            await page.goto(f"{site.url}/console/?lang=en")
            await page.get_by_role("link", name="Sign in with Slack").click()
            await page.wait_for_url(f"{site.url}/console/")
            assert "Signed in as Alice Martin" in await page.locator("main").inner_text()
            await page.goto(f"{site.url}/console/?lang=en")
            target = page.locator("select[name=target]")
            assert await target.locator("option").all_inner_texts() == ["#news", "#ops"]
            await target.select_option(f"slack:{TEAM_A}:C0AOPS")
            await page.locator("select[name=sub_lang]").select_option("en")
            await page.locator("select[name=mode]").select_option("live")
            await page.get_by_role("button", name="Subscribe", exact=True).click()
            assert await page.locator("p.notice").inner_text() == "Subscription saved."
            table = await page.locator("table.subscriptions").inner_text()
            assert "Alpha News #ops" in table and "slack:T0ALPHA/C0AOPS" in table
            await page.screenshot(path=str(shots / "console-slack-en.png"), full_page=True)
        finally:
            await browser.close()
    assert problems == []
