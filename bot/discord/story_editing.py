"""Editing the story from Discord: ``/story-edit add-event|correct|draft|publish|discard`` and
``/digest-admin editors``.

Translates interactions into `bot.stories.editing.StoryEditing` calls and back, nothing more.
(``/story`` is the members' "story so far" command; a Discord command cannot also hold
sub-commands, hence ``/story-edit``.) Editors: members with Manage Server, and the roles the
admins name with ``/digest-admin editors role:``, in that server only.

A Discord modal holds at most five inputs: the date and the four texts (headline and text, in
French and in English). People (autocompleted from the story) and the source address are options
of the command. A form with errors gets an ephemeral reply listing every error, with a button
that reopens the form with the values kept.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace
from typing import Any

import discord
from babel.dates import format_date
from discord import app_commands
from discord.app_commands import Choice

from bot.discord.commands import CHOICES_MAX, is_admin, story_context
from bot.discord.embeds import notice, render_document
from bot.discord.interactions import (
    NotAnAdmin,
    client_of,
    defer,
    lang_of,
    reply,
    reply_text,
    ui,
)
from bot.stories.editing import (
    EditingError,
    Editor,
    EventForm,
    FormErrors,
    StoryEditing,
)
from digests.compose import compose_digest
from digests.i18n import N_, babel_locale
from digests.story import LANGS

_log = logging.getLogger(__name__)

FIELD_LABELS = {
    "date": N_("Date"),
    "headline_fr": N_("Headline in French"),
    "headline_en": N_("Headline in English"),
    "text_fr": N_("Text in French"),
    "text_en": N_("Text in English"),
    "people": N_("People"),
    "source_url": N_("Source"),
    "form": N_("Story"),
}


class NoEditing(EditingError):
    """Story editing is not wired in this process (no database service)."""


def editing_of(interaction: discord.Interaction[Any]) -> StoryEditing:
    editing = getattr(client_of(interaction).services, "editing", None)
    if editing is None:
        _ = ui(lang_of(interaction))
        raise NoEditing(_("Story editing is not available here."))
    return editing  # type: ignore[no-any-return]


def editor_of(interaction: discord.Interaction[Any]) -> Editor:
    member = interaction.user
    roles = tuple(str(role.id) for role in getattr(member, "roles", ()))
    permissions = interaction.permissions
    return Editor(
        "discord",
        str(interaction.guild_id or ""),
        str(member.id),
        lang_of(interaction),
        is_admin=bool(permissions.manage_guild or permissions.administrator),
        role_ids=roles,
    )


async def _slug(interaction: discord.Interaction[Any]) -> str:
    story, _sub, _today = await story_context(interaction, None)
    return story.slug


# --------------------------------------------------------------------------- the form


class EventModal(discord.ui.Modal):
    """Date + the four texts. ``form`` carries the command's options and the event id."""

    def __init__(self, *, slug: str, form: EventForm, lang: str) -> None:
        _ = ui(lang)
        title = _("Correct an event") if form.event_id else _("Add an event")
        super().__init__(title=title[:45], timeout=900)
        self.slug, self.form, self.lang = slug, form, lang
        self.date: discord.ui.TextInput[EventModal] = discord.ui.TextInput(
            label=_("Date")[:45],
            placeholder=_("YYYY-MM-DD, or YYYY-MM-DD..YYYY-MM-DD if approximate")[:100],
            default=form.date or None,
            max_length=30,
        )
        self.headline_fr: discord.ui.TextInput[EventModal] = discord.ui.TextInput(
            label=_("Headline in French")[:45], default=form.headline_fr or None, max_length=200
        )
        self.headline_en: discord.ui.TextInput[EventModal] = discord.ui.TextInput(
            label=_("Headline in English")[:45], default=form.headline_en or None, max_length=200
        )
        self.text_fr: discord.ui.TextInput[EventModal] = discord.ui.TextInput(
            label=_("Text in French")[:45],
            style=discord.TextStyle.paragraph,
            default=form.text_fr or None,
            max_length=2000,
        )
        self.text_en: discord.ui.TextInput[EventModal] = discord.ui.TextInput(
            label=_("Text in English")[:45],
            style=discord.TextStyle.paragraph,
            default=form.text_en or None,
            max_length=2000,
        )
        for item in (self.date, self.headline_fr, self.headline_en, self.text_fr, self.text_en):
            self.add_item(item)

    def submitted(self) -> EventForm:
        return replace(
            self.form,
            date=self.date.value,
            headline_fr=self.headline_fr.value,
            headline_en=self.headline_en.value,
            text_fr=self.text_fr.value,
            text_en=self.text_en.value,
        )

    async def on_submit(self, interaction: discord.Interaction[Any]) -> None:
        form = self.submitted()
        _ = ui(self.lang)
        editing = editing_of(interaction)
        try:
            saved = await asyncio.to_thread(
                editing.save_event, editor_of(interaction), self.slug, form
            )
        except FormErrors as error:
            lines = [
                f"**{_(FIELD_LABELS.get(name, name))}** — {message}"
                for name, message in error.errors.items()
            ]
            await interaction.response.send_message(
                embeds=notice(_("The event was not saved"), "\n".join(lines), trusted=True),
                view=ReopenView(slug=self.slug, form=form, lang=self.lang),
                ephemeral=True,
                allowed_mentions=discord.AllowedMentions.none(),
            )
            return
        except EditingError as error:
            await reply_text(interaction, _("Cannot do that"), str(error))
            return
        title = (
            _("Event added to the draft (%(id)s).", id=saved.event_id)
            if saved.created
            else _("Event corrected in the draft (%(id)s).", id=saved.event_id)
        )
        await reply_text(
            interaction,
            title,
            _("/story-edit draft to preview it, /story-edit publish to publish it."),
        )

    async def on_error(  # type: ignore[override]
        self, interaction: discord.Interaction[Any], error: Exception
    ) -> None:
        _log.error("story form failed", exc_info=error)
        if not interaction.response.is_done():
            _ = ui(self.lang)
            await interaction.response.send_message(
                _("Sorry, something went wrong. Please try again later."), ephemeral=True
            )


class ReopenView(discord.ui.View):
    """The button under a refused form: reopens it with the values kept."""

    def __init__(self, *, slug: str, form: EventForm, lang: str) -> None:
        super().__init__(timeout=900)
        self.slug, self.form, self.lang = slug, form, lang
        _ = ui(lang)
        button: discord.ui.Button[ReopenView] = discord.ui.Button(
            label=_("Fix the form")[:80], style=discord.ButtonStyle.primary
        )
        button.callback = self.reopen  # type: ignore[method-assign]
        self.add_item(button)

    async def reopen(self, interaction: discord.Interaction[Any]) -> None:
        await interaction.response.send_modal(
            EventModal(slug=self.slug, form=self.form, lang=self.lang)
        )


# --------------------------------------------------------------------------- commands


async def people_choices(interaction: discord.Interaction[Any], current: str) -> list[Choice[str]]:
    """The story's people; a comma-separated list keeps what is before the last comma."""
    try:
        story, _sub, _today = await story_context(interaction, None)
    except Exception:
        return []
    head, _sep, tail = current.rpartition(",")
    prefix = f"{head.strip()}, " if head.strip() else ""
    found = StoryEditing.people_choices(story, tail)
    return [
        Choice(name=(prefix + name)[:100], value=(prefix + name)[:100])
        for _pid, name in found[:CHOICES_MAX]
    ]


async def event_choices(interaction: discord.Interaction[Any], current: str) -> list[Choice[str]]:
    try:
        editing = editing_of(interaction)
        slug = await _slug(interaction)
        found = await asyncio.wait_for(
            asyncio.to_thread(editing.event_choices, editor_of(interaction), slug, current[:100]),
            2.0,
        )
    except Exception:
        return []
    return [Choice(name=label[:100] or event_id, value=event_id) for event_id, label in found]


class StoryEditGroup(app_commands.Group):
    """/story-edit ...: editors only (checked by the service, per server)."""

    def __init__(self) -> None:
        super().__init__(
            name=N_("story-edit"),
            description=N_("Add or correct events of the story (editors)"),
            guild_only=True,
        )

    @app_commands.command(name=N_("add-event"), description=N_("Add an event to the draft"))
    @app_commands.describe(
        date=N_("YYYY-MM-DD, or YYYY-MM-DD..YYYY-MM-DD if approximate"),
        people=N_("People of the story in this event, separated by commas"),
        source=N_("Web address of the source"),
    )
    async def add_event(
        self,
        interaction: discord.Interaction[Any],
        date: app_commands.Range[str, 1, 30] | None = None,
        people: app_commands.Range[str, 1, 300] | None = None,
        source: app_commands.Range[str, 1, 500] | None = None,
    ) -> None:
        editing = editing_of(interaction)
        editor = editor_of(interaction)
        await asyncio.to_thread(editing.require_editor, editor)
        slug = await _slug(interaction)
        form = EventForm(date=date or "", people=people or "", source_url=source or "")
        await interaction.response.send_modal(EventModal(slug=slug, form=form, lang=editor.lang))

    add_event.autocomplete("people")(people_choices)

    @app_commands.command(name=N_("correct"), description=N_("Correct an event of the story"))
    @app_commands.describe(
        event=N_("The event to correct"),
        people=N_("People of the story in this event, separated by commas"),
        source=N_("Web address of the source"),
    )
    async def correct(
        self,
        interaction: discord.Interaction[Any],
        event: app_commands.Range[str, 1, 100],
        people: app_commands.Range[str, 1, 300] | None = None,
        source: app_commands.Range[str, 1, 500] | None = None,
    ) -> None:
        editing = editing_of(interaction)
        editor = editor_of(interaction)
        slug = await _slug(interaction)
        form = await asyncio.to_thread(editing.event_form, editor, slug, event)
        if people is not None:
            form = replace(form, people=people)
        if source is not None:
            form = replace(form, source_url=source)
        await interaction.response.send_modal(EventModal(slug=slug, form=form, lang=editor.lang))

    correct.autocomplete("event")(event_choices)
    correct.autocomplete("people")(people_choices)

    @app_commands.command(name=N_("draft"), description=N_("Preview the draft"))
    async def draft(self, interaction: discord.Interaction[Any]) -> None:
        await defer(interaction)
        editing = editing_of(interaction)
        editor = editor_of(interaction)
        slug = await _slug(interaction)
        preview = await asyncio.to_thread(editing.preview, editor, slug)
        _ = ui(editor.lang)
        locale = babel_locale(editor.lang)
        sign = {"added": "+", "removed": "−", "changed": "~"}
        lines = []
        for change in preview.diff.events:
            event = change.after or change.before
            assert event is not None
            when = format_date(event.date.first, "long", locale=locale)
            lines.append(f"{sign[change.kind]} {when} · {event.headline(editor.lang)}")
        if preview.changed_days:
            days = ", ".join(format_date(d, "long", locale=locale) for d in preview.changed_days)
            lines.append(_("Days whose digest changes: %(days)s", days=days))
        messages = [
            notice(
                _("Draft (from revision %(n)s)", n=preview.base_revision),
                "\n".join(lines) or _("No event changes."),
            )
        ]
        for day in preview.changed_days[:2]:
            for lang in LANGS:
                document = compose_digest(preview.after, day, lang)
                if document is not None:
                    messages.extend(render_document(document)[:1])
        await reply(interaction, messages[:5])

    @app_commands.command(name=N_("publish"), description=N_("Publish the draft"))
    @app_commands.describe(comment=N_("What changed (shown in the history)"))
    async def publish(
        self,
        interaction: discord.Interaction[Any],
        comment: app_commands.Range[str, 1, 300] | None = None,
    ) -> None:
        await defer(interaction)
        editing = editing_of(interaction)
        editor = editor_of(interaction)
        slug = await _slug(interaction)
        result = await asyncio.to_thread(editing.publish, editor, slug, comment)
        _ = ui(editor.lang)
        await reply_text(
            interaction,
            _("Published: revision %(n)s", n=result.info.revision),
            _("Every instance serves it from its next tick."),
        )

    @app_commands.command(name=N_("discard"), description=N_("Discard the draft"))
    async def discard(self, interaction: discord.Interaction[Any]) -> None:
        await defer(interaction)
        editing = editing_of(interaction)
        editor = editor_of(interaction)
        slug = await _slug(interaction)
        dropped = await asyncio.to_thread(editing.discard, editor, slug)
        _ = ui(editor.lang)
        await reply_text(
            interaction, _("Draft discarded.") if dropped else _("There was no draft.")
        )


@app_commands.command(
    name=N_("editors"), description=N_("Name the role whose members may edit the story")
)
@app_commands.describe(
    role=N_("The role of the story editors"),
    remove=N_("Remove this role from the editors instead"),
)
async def editors(
    interaction: discord.Interaction[Any], role: discord.Role, remove: bool = False
) -> None:
    is_admin(interaction)
    await defer(interaction)
    editing = editing_of(interaction)
    editor = editor_of(interaction)
    changed = await asyncio.to_thread(
        editing.set_editor, editor, "role", str(role.id), add=not remove
    )
    _ = ui(editor.lang)
    name = discord.utils.escape_mentions(role.name)[:100]
    if not changed:
        text = _("Nothing to change.")
    elif remove:
        text = _("Members of %(role)s can no longer edit the story.", role=name)
    else:
        text = _("Members of %(role)s can now edit the story.", role=name)
    await reply_text(interaction, _("Story editors"), text)


async def setup(client: Any) -> None:
    """Add /story-edit, and ``editors`` to /digest-admin (loaded after bot.discord.commands)."""
    client.tree.add_command(StoryEditGroup())
    admin = client.tree.get_command("digest-admin")
    if isinstance(admin, app_commands.Group):
        admin.add_command(editors)


__all__ = ["EventModal", "NotAnAdmin", "StoryEditGroup", "editors", "setup"]
