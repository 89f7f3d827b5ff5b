"""The story editor's pages over a real server and store: the draft, add and correct events with
every problem shown by field, the draft's digest per day and language, publish with a comment
(and the clear refusal when someone published first), discard and history — all through
StoryEditing; CSRF-protected; and, signed in with Slack, only the workspace's admins and named
editors may edit, only their own workspace's draft."""

from __future__ import annotations

import re
from html import unescape

import aiohttp

from bot.stories.editing import Editor, EventForm
from digests.story import default_story_path
from tests.web_env import LIB, SLUG, Site
from tests.web_slack_env import ALICE, BOB, CAROL, TEAM_A, TEAM_B, sign_in

STORY = LIB.get(SLUG)
LOCAL = f"/console/editor/console/local/{SLUG}/"


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([0-9a-f]{64})"', html)
    assert found, "no CSRF token in the page"
    return found.group(1)


async def post(site: Site, path: str, data: dict[str, str]) -> tuple[int, str, str]:
    async with site.session.post(site.url + path, data=data, allow_redirects=False) as r:
        return r.status, await r.text(), r.headers.get("Location", "")


def event_fields(**changes: str) -> dict[str, str]:
    """The form of the story's first event, with ``changes`` (test data: never published)."""
    first = STORY.events_on(STORY.first_day)[0]
    fields = {
        "date": STORY.first_day.isoformat(),
        "headline_fr": first.headline("fr"),
        "headline_en": first.headline("en"),
        "text_fr": first.text.fr,
        "text_en": first.text.en,
        "people": "",
        "source_url": "",
    }
    return {**fields, **changes}


def imported(site: Site) -> None:
    """The shipped story as revision 1, as `depeche run` imports it at start."""
    assert site.context.editing is not None
    site.context.editing.revisions.import_files([default_story_path()])


async def test_add_preview_publish_and_history_in_the_console_run(site: Site) -> None:
    status, html, _ = await site.get(LOCAL + "?lang=en")
    assert status == 404 and "This story has no published revision yet." in html
    imported(site)
    status, html, _ = await site.get("/console/?lang=en")
    assert f'href="{LOCAL}?lang=en"' in html and "Edit the story" in html
    status, html, _ = await site.get(LOCAL + "?lang=en")
    assert status == 200 and "No draft: you are editing revision 1, the latest." in html
    token = csrf_of(html)

    # Every problem at once, by field, the values kept; the draft untouched.
    bad = event_fields(date="2023-13-45", headline_en="", people="Nobody Known")
    status, html, _ = await post(site, LOCAL + "events", {"csrf": token, "lang": "en", **bad})
    assert status == 400 and "The event was not saved" in html
    assert 'id="e-date"' in html and 'id="e-headline_en"' in html and 'id="e-people"' in html
    assert "Not in the story: Nobody Known." in html
    assert bad["headline_fr"] in unescape(html)  # what was typed is kept
    assert not await _has_draft(site)

    # Add an event (the first day's, told again as a test event).
    good = event_fields(headline_en="Test event for the editor", people="Sam Altman")
    status, _, location = await post(site, LOCAL + "events", {"csrf": token, "lang": "en", **good})
    assert status == 303 and location == LOCAL + "?lang=en&done=saved"
    _, html, _ = await site.get(location)
    assert "Event saved to the draft." in html and "Draft from revision 1." in html
    assert "+ November 17, 2023 · Test event for the editor" in html
    day = STORY.first_day.isoformat()
    assert f"preview?day={day}&amp;digest=fr" in html

    # Its digest, per day and language, as it will read.
    status, html, _ = await site.get(LOCAL + f"preview?day={day}&digest=en&lang=en")
    assert status == 200 and "Test event for the editor" in html and 'lang="en"' in html
    status, html, _ = await site.get(LOCAL + f"preview?day={day}&digest=fr&lang=fr")
    assert status == 200 and good["headline_fr"] in unescape(html)
    status, html, _ = await site.get(LOCAL + "preview?day=soon&lang=en")
    assert status == 400 and "Not a date: soon." in html and "Traceback" not in html

    # Publish with a comment: revision 2, in the history.
    status, _, location = await post(
        site, LOCAL + "publish", {"csrf": token, "lang": "en", "comment": "Web test"}
    )
    assert status == 303 and location == LOCAL + "history?lang=en&done=published&rev=2"
    _, html, _ = await site.get(location)
    assert "Published: revision 2 of the story." in html
    row = html[html.index('id="revision-2"') :]
    assert "console:web console" in row and "Web test" in row
    assert not await _has_draft(site)


async def _has_draft(site: Site) -> bool:
    editing = site.context.editing
    assert editing is not None
    return editing.has_draft(Editor("console", "local", "web console", is_admin=True), SLUG)


async def test_correct_an_event_and_someone_published_first(site: Site) -> None:
    imported(site)
    editing = site.context.editing
    assert editing is not None
    first = STORY.events_on(STORY.first_day)[0]
    status, html, _ = await site.get(LOCAL + f"?lang=fr&correct={first.id}")
    assert status == 200 and f'name="event_id" value="{first.id}"' in html
    assert "Correction : " in html
    token = csrf_of(html)
    fields = event_fields(headline_en=first.headline("en") + " (test)")
    status, _, _ = await post(
        site, LOCAL + "events", {"csrf": token, "lang": "fr", "event_id": first.id, **fields}
    )
    assert status == 303
    _, html, _ = await site.get(LOCAL + "?lang=en")
    assert f"~ November 17, 2023 · {first.headline('en')} (test)" in html

    # Another workspace's editor publishes first: ours is refused, clearly, and kept.
    other = Editor("discord", "42", "U1", is_admin=True)
    editing.save_event(other, SLUG, EventForm(**event_fields(headline_en="Other test")))
    assert editing.publish(other, SLUG).info.revision == 2
    status, html, _ = await post(site, LOCAL + "publish", {"csrf": token, "lang": "en"})
    assert status == 409 and "Revision 2 of the story was published after this draft" in html
    assert await _has_draft(site)
    status, _, location = await post(site, LOCAL + "discard", {"csrf": token, "lang": "en"})
    assert status == 303 and location.endswith("done=discarded")
    assert not await _has_draft(site)
    status, html, _ = await site.get(LOCAL + "?correct=no-such-event&lang=en")
    assert status == 404 and "No event 'no-such-event' in this story." in unescape(html)


async def test_forms_need_this_sessions_token(site: Site) -> None:
    imported(site)
    await site.get(LOCAL)
    for path in ("events", "publish", "discard"):
        status, body, _ = await post(site, LOCAL + path, {"lang": "en", **event_fields()})
        assert status == 403 and "CSRF" in body
    status, _, _ = await site.get("/console/editor/slack/T0ALPHA/" + SLUG + "/")
    assert status == 404  # the console run edits its own draft only
    status, _, _ = await site.get("/console/editor/console/local/no-story/")
    assert status == 404
    assert not await _has_draft(site)


async def test_signed_in_with_slack_only_admins_and_named_editors_edit_their_own(
    slack_site,
) -> None:
    site, fake = slack_site
    imported(site)
    editing = site.context.editing
    assert editing is not None
    page_a = f"/console/editor/slack/{TEAM_A}/{SLUG}/"
    page_b = f"/console/editor/slack/{TEAM_B}/{SLUG}/"
    html = await sign_in(site, fake, TEAM_A, ALICE)  # admin of A
    assert f'href="{page_a}?lang=en"' in html and page_b not in html
    status, html, _ = await site.get(page_a + "?lang=en")
    assert status == 200 and "No draft" in html
    token = csrf_of(html)
    # Tampering with the URL: B's draft is refused like a non-editor's, and nothing is saved.
    status, html, _ = await site.get(page_b + "?lang=en")
    assert status == 403 and "Only this workspace's admins" in unescape(html) and "csrf" not in html
    status, _, _ = await post(
        site, page_b + "events", {"csrf": token, "lang": "en", **event_fields()}
    )
    assert status == 403
    assert not editing.has_draft(Editor("slack", TEAM_B, CAROL, is_admin=True), SLUG)

    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as other:
        bob_site = Site(site.server, other, site.clock, site.context)
        html = await sign_in(bob_site, fake, TEAM_B, BOB)  # a plain member of B
        assert page_b not in html
        status, html, _ = await bob_site.get(page_b + "?lang=en")
        assert status == 403
        # B's owner names Bob an editor: he edits B's draft from his next request.
        editing.set_editor(Editor("slack", TEAM_B, CAROL, is_admin=True), "user", BOB)
        status, html, _ = await bob_site.get("/console/?lang=en")
        assert f'href="{page_b}?lang=en"' in html
        status, html, _ = await bob_site.get(page_b + "?lang=en")
        assert status == 200
        fields = event_fields(headline_en="Bob's test event")
        status, _, _ = await post(
            bob_site, page_b + "events", {"csrf": csrf_of(html), "lang": "en", **fields}
        )
        assert status == 303
        assert editing.has_draft(Editor("slack", TEAM_B, BOB), SLUG)
        # Un-named: refused at once.
        editing.set_editor(Editor("slack", TEAM_B, CAROL, is_admin=True), "user", BOB, add=False)
        status, _, _ = await bob_site.get(page_b + "?lang=en")
        assert status == 403


async def test_signed_in_with_discord_manage_server_or_a_named_role_edits(tmp_path) -> None:
    from bot.web import WebServer, WebState
    from tests.fakes.discord_server import FakeDiscord
    from tests.web_env import Clock, make_context

    manage_guild, view = 1 << 5, 1 << 10
    guild, editors_role, user = 300, 777, 601
    fake = await FakeDiscord().start()
    fake.add_guild(
        guild,
        "Server C",
        roles=[{"id": editors_role, "name": "editors"}],
        members=[{"id": user, "username": "eve", "roles": []}],
    )
    fake.add_oauth_user(user, "eve", [(guild, "Server C", view, False)])
    client_id, secret = fake.oauth_client
    context = make_context(
        tmp_path,
        Clock(),
        DISCORD_TOKEN=fake.token,
        DISCORD_CLIENT_ID=client_id,
        DISCORD_CLIENT_SECRET=secret,
        DISCORD_API_URL=fake.base_url + "/api/v10",
        DISCORD_OAUTH_URL=fake.base_url + "/oauth2/authorize",
    )
    state = WebState(context, console=False, signin=True)
    server = await WebServer.start(state, host="127.0.0.1", port=0)
    page = f"/console/editor/discord/{guild}/{SLUG}/"
    try:
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
            site = Site(server, http, Clock(), context)
            imported(site)
            editing = context.editing
            assert editing is not None
            fake.oauth_login_as = user
            async with http.get(site.url + "/auth/discord") as response:
                assert response.status == 200
            status, _, _ = await site.get(page + "?lang=en")
            assert status == 403  # a member without Manage Server nor the named role
            status, _, _ = await site.get(f"/console/editor/discord/999/{SLUG}/?lang=en")
            assert status == 403  # not even a member there
            admin = Editor("discord", str(guild), "1", is_admin=True)
            editing.set_editor(admin, "role", str(editors_role))
            status, _, _ = await site.get(page + "?lang=en")
            assert status == 403  # the role is named, but Eve does not have it yet
            _, html, _ = await site.get("/console/?lang=en")
            assert page not in html
            member = next(m for m in fake.guilds[guild]["members"] if m["user"]["id"] == str(user))
            member["roles"] = [str(editors_role)]
            status, html, _ = await site.get(page + "?lang=en")
            assert status == 200 and "No draft" in html  # her roles, asked with the bot token
            _, html, _ = await site.get("/console/?lang=en")
            assert f'href="{page}?lang=en"' in html and "Server C" in html  # listed for her
            member["roles"] = []
            fake.oauth_users[user]["guilds"][0]["permissions"] = str(manage_guild)
            status, _, _ = await site.get(page + "?lang=en")
            assert status == 200  # Manage Server alone is enough
    finally:
        await server.stop()
        await fake.close()
        context.store.dispose()
