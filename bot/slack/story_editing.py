"""Editing the story from Slack: ``/story add-event|correct|draft|publish|discard|editors``.

Translates Slack payloads into `bot.stories.editing.StoryEditing` calls and back, nothing more.
The event form is a modal; its errors are shown in the modal itself (``response_action:
errors``), each under its field. Editors: workspace admins and owners, and the users they name
with ``/story editors add @user``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from typing import Any

from babel.dates import format_date
from slack_sdk.errors import SlackApiError

from bot.slack.blocks import SlackMessage, render_reply, text_message
from bot.slack.clients import SlackClients
from bot.slack.i18n import messages
from bot.slack.users import SlackUser, UserDirectory
from bot.stories.editing import (
    FIELDS,
    EditingError,
    Editor,
    EventForm,
    FormErrors,
    StoryEditing,
)
from digests.compose import compose_digest
from digests.i18n import babel_locale
from digests.story import LANGS, Lang, Story

_log = logging.getLogger(__name__)

CALLBACK_ID = "depeche_story_event"
ACTION = "value"
ACTIONS = ("add-event", "correct", "draft", "publish", "discard", "editors")
PEOPLE_OPTIONS_MAX = 100  # Slack's limit per select
MODAL_DEADLINE = 2.5
_USER = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>|^@?([UW][A-Z0-9]{2,})$")


def _lang(value: str) -> Lang:
    return "fr" if value == "fr" else "en"


def _plain(text: str, limit: int = 75) -> dict[str, Any]:
    return {"type": "plain_text", "text": text[:limit], "emoji": False}


def editor_of(user: SlackUser, lang: str) -> Editor:
    return Editor("slack", user.team_id, user.id, _lang(lang), is_admin=user.is_admin)


# --------------------------------------------------------------------------- the modal


def event_view(story: Story, form: EventForm, *, lang: str, channel_id: str) -> dict[str, Any]:
    _t = messages(lang)
    metadata = {"slug": story.slug, "lang": lang, "event": form.event_id, "channel": channel_id}

    def text_input(
        block: str,
        label: str,
        value: str,
        *,
        limit: int,
        multiline: bool = False,
        optional: bool = False,
        hint: str | None = None,
    ) -> dict[str, Any]:
        element: dict[str, Any] = {
            "type": "plain_text_input",
            "action_id": ACTION,
            "max_length": limit,
            "multiline": multiline,
        }
        if value:
            element["initial_value"] = value[:limit]
        block_json: dict[str, Any] = {
            "type": "input",
            "block_id": block,
            "label": _plain(label),
            "element": element,
            "optional": optional,
        }
        if hint:
            block_json["hint"] = _plain(hint, 150)
        return block_json

    people = [(p.id, p.name) for p in story.people][:PEOPLE_OPTIONS_MAX]
    chosen = {part.strip() for part in form.people.split(",") if part.strip()}
    initial = [
        {"text": _plain(name), "value": pid}
        for pid, name in people
        if pid in chosen or name in chosen
    ]
    people_element: dict[str, Any] = {
        "type": "multi_static_select",
        "action_id": ACTION,
        "placeholder": _plain(_t("People of the story")),
        "options": [{"text": _plain(name), "value": pid} for pid, name in people],
    }
    if initial:
        people_element["initial_options"] = initial
    title = _t("Correct an event") if form.event_id else _t("Add an event")
    blocks = [
        text_input(
            "date",
            _t("Date"),
            form.date,
            limit=30,
            hint=_t("YYYY-MM-DD, or YYYY-MM-DD..YYYY-MM-DD when the date is approximate"),
        ),
        text_input("headline_fr", _t("Headline in French"), form.headline_fr, limit=200),
        text_input("headline_en", _t("Headline in English"), form.headline_en, limit=200),
        text_input("text_fr", _t("Text in French"), form.text_fr, limit=2000, multiline=True),
        text_input("text_en", _t("Text in English"), form.text_en, limit=2000, multiline=True),
        {
            "type": "input",
            "block_id": "people",
            "label": _plain(_t("People")),
            "element": people_element,
            "optional": True,
        },
        text_input(
            "source_url", _t("Source (web address)"), form.source_url, limit=500, optional=True
        ),
    ]
    return {
        "type": "modal",
        "callback_id": CALLBACK_ID,
        "private_metadata": json.dumps(metadata),
        "title": _plain(title, 24),
        "submit": _plain(_t("Save to draft"), 24),
        "close": _plain(_t("Cancel"), 24),
        "blocks": blocks,
    }


def submitted_form(view: dict[str, Any], event_id: str | None) -> EventForm:
    values = (view.get("state") or {}).get("values") or {}

    def pick(block: str) -> str:
        element = (values.get(block) or {}).get(ACTION) or {}
        if "selected_options" in element:
            return ", ".join(
                str(option.get("value") or "") for option in element.get("selected_options") or []
            )
        return str(element.get("value") or "")

    return EventForm(**{name: pick(name) for name in FIELDS}, event_id=event_id)


def _metadata(view: dict[str, Any]) -> dict[str, Any]:
    try:
        data = json.loads(view.get("private_metadata") or "{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


# --------------------------------------------------------------------------- the handlers


class SlackStoryEditing:
    def __init__(
        self, *, editing: StoryEditing, users: UserDirectory, clients: SlackClients
    ) -> None:
        self.editing = editing
        self.users = users
        self.clients = clients

    async def command(
        self,
        *,
        user: SlackUser,
        lang: str,
        slug: str,
        text: str,
        channel_id: str,
        trigger_id: str | None,
    ) -> list[SlackMessage]:
        """``text`` is what follows ``/story``; it starts with one of `ACTIONS`."""
        _t = messages(lang)
        action, _, rest = text.strip().partition(" ")
        rest = rest.strip()
        editor = editor_of(user, lang)
        try:
            if action == "editors":
                return await self._editors(editor, rest)
            await asyncio.to_thread(self.editing.require_editor, editor)
            if action == "add-event":
                story = await asyncio.to_thread(self.editing.working_story, editor, slug)
                form = EventForm()
                return await self._open(story, form, editor, channel_id, trigger_id)
            if action == "correct":
                if not rest:
                    return [text_message(await self._event_list(editor, slug))]
                form = await asyncio.to_thread(self.editing.event_form, editor, slug, rest)
                story = await asyncio.to_thread(self.editing.working_story, editor, slug)
                return await self._open(story, form, editor, channel_id, trigger_id)
            if action == "draft":
                return await self._preview(editor, slug)
            if action == "publish":
                result = await asyncio.to_thread(self.editing.publish, editor, slug, rest or None)
                return [
                    text_message(
                        _t(
                            "Published: revision %(n)s of the story. Every instance serves it "
                            "from its next tick.",
                            n=result.info.revision,
                        )
                    )
                ]
            if action == "discard":
                dropped = await asyncio.to_thread(self.editing.discard, editor, slug)
                return [
                    text_message(_t("Draft discarded.") if dropped else _t("There was no draft."))
                ]
        except EditingError as error:
            return [text_message(str(error))]
        return [text_message(self.usage(lang))]

    @staticmethod
    def usage(lang: str) -> str:
        _t = messages(lang)
        return _t(
            "Usage:\n"
            "/story — the story so far\n"
            "/story add-event — add an event to the draft (editors)\n"
            "/story correct EVENT — correct an event (editors)\n"
            "/story draft — preview the draft\n"
            "/story publish [comment] — publish the draft\n"
            "/story discard — discard the draft\n"
            "/story editors [add|remove @user] — who may edit (admins)"
        )

    async def _open(
        self,
        story: Story,
        form: EventForm,
        editor: Editor,
        channel_id: str,
        trigger_id: str | None,
    ) -> list[SlackMessage]:
        lang = editor.lang
        if not trigger_id:
            return [text_message(self.usage(lang))]
        view = event_view(story, form, lang=lang, channel_id=channel_id)
        client = self.clients.for_team(editor.workspace_id)
        try:
            await client.views_open(trigger_id=trigger_id, view=view)
        except SlackApiError as error:
            _log.warning("views.open failed: %s", error)
            _t = messages(lang)
            return [text_message(_t("Slack did not open the form; please try again."))]
        return []

    async def _event_list(self, editor: Editor, slug: str) -> str:
        _t = messages(editor.lang)
        choices = await asyncio.to_thread(self.editing.event_choices, editor, slug, "")
        lines = [f"{event_id} — {label}" for event_id, label in choices[:15]]
        return _t("Which event? /story correct EVENT, for example:") + "\n" + "\n".join(lines)

    async def _editors(self, editor: Editor, rest: str) -> list[SlackMessage]:
        _t = messages(editor.lang)
        verb, _, who = rest.partition(" ")
        if verb in ("add", "remove"):
            match = _USER.search(who.strip())
            if not match:
                return [text_message(_t("Name a user: /story editors add @user"))]
            user_id = match.group(1) or match.group(2)
            changed = await asyncio.to_thread(
                self.editing.set_editor, editor, "user", user_id, add=verb == "add"
            )
            mention = f"<@{user_id}>"
            if verb == "add":
                text = _t("%(user)s can now edit the story.", user=mention)
            else:
                text = _t("%(user)s can no longer edit the story.", user=mention)
            if not changed:
                text = _t("Nothing to change.")
            return [SlackMessage(text=text, blocks=[_section(text)])]
        if verb:
            return [text_message(self.usage(editor.lang))]
        if not editor.is_admin:
            await asyncio.to_thread(self.editing.require_editor, editor)
        rows = await asyncio.to_thread(self.editing.editors, "slack", editor.workspace_id)
        names = ", ".join(f"<@{ref}>" for kind, ref in rows if kind == "user")
        text = _t("Story editors: workspace admins and owners") + (f", {names}" if names else "")
        return [SlackMessage(text=text, blocks=[_section(text)])]

    async def _preview(self, editor: Editor, slug: str) -> list[SlackMessage]:
        preview = await asyncio.to_thread(self.editing.preview, editor, slug)
        lang = editor.lang
        _t = messages(lang)
        locale = babel_locale(lang)
        lines = [_t("Draft (from revision %(n)s):", n=preview.base_revision)]
        sign = {"added": "+", "removed": "−", "changed": "~"}
        for change in preview.diff.events:
            event = change.after or change.before
            assert event is not None
            when = format_date(event.date.first, "long", locale=locale)
            lines.append(f"{sign[change.kind]} {when} · {event.headline(lang)}")
        if not preview.diff.events:
            lines.append(_t("No event changes."))
        days = preview.changed_days
        if days:
            lines.append(
                _t(
                    "Days whose digest changes: %(days)s",
                    days=", ".join(format_date(d, "long", locale=locale) for d in days),
                )
            )
        replies = [text_message("\n".join(lines))]
        # The digests as they will read, in both languages (a response_url takes 5 posts).
        for day in days[:2]:
            for digest_lang in LANGS:
                document = compose_digest(preview.after, day, digest_lang)
                if document is not None:
                    replies.extend(render_reply(document)[:1])
        return replies[:5]

    # ----------------------------------------------------------------------- the form

    async def view_submission(self, ack: Any, body: dict[str, Any], view: dict[str, Any]) -> None:
        meta = _metadata(view)
        lang = _lang(str(meta.get("lang") or "en"))
        _t = messages(lang)
        team_id = str((body.get("team") or {}).get("id") or view.get("team_id") or "")
        user_id = str((body.get("user") or {}).get("id") or "")
        loop = asyncio.get_running_loop()
        deadline = loop.time() + MODAL_DEADLINE
        try:
            user = await asyncio.wait_for(self.users.get(team_id, user_id), MODAL_DEADLINE / 2)
        except TimeoutError:
            user = SlackUser(user_id, team_id, lang=lang, known=False)
        editor = editor_of(user, lang)
        slug = str(meta.get("slug") or "")
        event_id = meta.get("event") if isinstance(meta.get("event"), str) else None
        form = submitted_form(view, event_id)
        channel = str(meta.get("channel") or "")
        saving = asyncio.ensure_future(
            asyncio.to_thread(self.editing.save_event, editor, slug, form)
        )
        try:
            saved = await asyncio.wait_for(asyncio.shield(saving), max(0.1, deadline - loop.time()))
        except FormErrors as error:
            errors = {
                (name if name in FIELDS else "date"): message[:150]
                for name, message in error.errors.items()
            }
            await ack(response_action="errors", errors=errors)
            return
        except EditingError as error:
            await ack(response_action="errors", errors={"date": str(error)[:150]})
            return
        except TimeoutError:
            # Slack closes a form not answered within 3 s: close it now, and say the outcome
            # in the channel once the save is done (it is not abandoned halfway).
            await ack()
            try:
                saved = await saving
            except EditingError as error:
                await self._tell(team_id, channel, user_id, str(error))
                return
        else:
            await ack()
        text = (
            _t("Event added to the draft (%(id)s).", id=saved.event_id)
            if saved.created
            else _t("Event corrected in the draft (%(id)s).", id=saved.event_id)
        )
        text += " " + _t("/story draft to preview it, /story publish to publish it.")
        await self._tell(team_id, channel, user_id, text)

    async def _tell(self, team_id: str, channel: str, user_id: str, text: str) -> None:
        if not channel:
            return
        try:
            await self.clients.for_team(team_id).chat_postEphemeral(
                channel=channel, user=user_id, text=text
            )
        except SlackApiError as error:
            _log.info("could not tell %s about their edit: %s", user_id, error)


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text[:3000]}}
