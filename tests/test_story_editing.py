"""The story editing service shared by Discord, Slack and the CLI: editors per workspace, drafts,
the event form (every error at once, by field, in the editor's language), preview, publish
(optimistic concurrency), discard."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from bot.stories import StoryRevisions
from bot.stories.editing import (
    DraftOutdated,
    Editor,
    EventForm,
    FormErrors,
    NoDraft,
    NotAnEditor,
    StoryEditing,
    UnknownEvent,
)

MINIMAL = Path(__file__).parent / "stories" / "minimal.yaml"
SLUG = "minimal-example"
NOW = dt.datetime(2024, 3, 5, 13, 5, tzinfo=dt.UTC)

ADMIN = Editor("discord", "G1", "U-admin", "fr", is_admin=True)
MEMBER = Editor("discord", "G1", "U-member", "fr", role_ids=("R-news",))
STRANGER = Editor("discord", "G1", "U-stranger", "en", role_ids=("R-other",))
OTHER_ADMIN = Editor("discord", "G2", "U-other-admin", "en", is_admin=True)
OTHER_MEMBER = Editor("discord", "G2", "U-member", "en", role_ids=("R-news",))

FORM = EventForm(
    date="2024-03-05",
    headline_fr="Ada revient",
    headline_en="Ada returns",
    text_fr="Ada Lovelace revient chez Acme.",
    text_en="Ada Lovelace returns to Acme.",
    people="Ada Lovelace, bob",
    source_url="https://example.org/ada",
)


@pytest.fixture
def editing(store):
    revisions = StoryRevisions(store, clock=lambda: NOW)
    revisions.publish(MINIMAL.read_text(encoding="utf-8"), author="ops", origin="cli")
    published: list[int] = []
    service = StoryEditing(
        store, revisions, on_publish=lambda: published.append(1), clock=lambda: NOW
    )
    service.published = published  # type: ignore[attr-defined]
    return service


def test_admins_and_named_roles_edit_everyone_else_is_refused_in_their_language(editing):
    with pytest.raises(NotAnEditor, match=r"^Sorry, only this workspace's admins"):
        editing.save_event(STRANGER, SLUG, FORM)
    with pytest.raises(NotAnEditor, match=r"^Désolé, seuls les administrateurs"):
        editing.save_event(MEMBER, SLUG, FORM)
    with pytest.raises(NotAnEditor):
        editing.set_editor(MEMBER, "role", "R-news")  # only admins name editors
    assert editing.set_editor(ADMIN, "role", "R-news") is True
    assert editing.set_editor(ADMIN, "role", "R-news") is False
    assert editing.is_editor(MEMBER) and not editing.is_editor(STRANGER)
    # The role is named in G1 only: the same role id elsewhere gives nothing.
    assert not editing.is_editor(OTHER_MEMBER)
    assert editing.editors("discord", "G2") == []
    saved = editing.save_event(MEMBER, SLUG, FORM)
    assert saved.created and saved.event_id == "ada-returns"
    # G2's admin neither sees nor touches G1's draft.
    with pytest.raises(NoDraft):
        editing.preview(OTHER_ADMIN, SLUG)
    assert editing.discard(OTHER_ADMIN, SLUG) is False
    assert editing.has_draft(MEMBER, SLUG)
    assert editing.set_editor(ADMIN, "role", "R-news", add=False) is True
    assert not editing.is_editor(MEMBER)


def test_every_form_error_at_once_by_field_in_the_editors_language(editing):
    bad = EventForm(
        date="2024-02-30",
        headline_fr="",
        headline_en="x" * 300,
        text_fr="Texte",
        text_en="",
        people="Ada, Nobody Known",
        source_url="javascript:alert(1)",
    )
    with pytest.raises(FormErrors) as caught:
        editing.save_event(ADMIN, SLUG, bad)
    assert caught.value.errors == {
        "date": "Cette date n’existe pas.",
        "headline_fr": "Obligatoire, en français et en anglais.",
        "headline_en": "200 caractères au plus.",
        "text_en": "Obligatoire, en français et en anglais.",
        "people": "Pas dans l’histoire : Nobody Known.",
        "source_url": "Une adresse web commençant par https:// (ou http://).",
    }
    with pytest.raises(FormErrors) as caught:
        editing.save_event(OTHER_ADMIN, SLUG, EventForm(date="soon", **_texts()))
    assert caught.value.errors == {
        "date": "Write the date as YYYY-MM-DD, or a window YYYY-MM-DD..YYYY-MM-DD when it is "
        "approximate."
    }
    assert not editing.has_draft(ADMIN, SLUG)  # nothing saved


def _texts() -> dict[str, str]:
    return {
        "headline_fr": "Titre",
        "headline_en": "Headline",
        "text_fr": "Texte.",
        "text_en": "Text.",
    }


def test_add_correct_preview_publish(editing):
    saved = editing.save_event(ADMIN, SLUG, FORM)
    window = EventForm(date="2024-03-06..2024-03-08", **_texts())
    assert editing.save_event(ADMIN, SLUG, window).event_id == "headline"

    form = editing.event_form(ADMIN, SLUG, "bob-steps-in")
    assert form.date == "2024-03-02..2024-03-04" and form.people == "Bob Martin"
    corrected = editing.save_event(
        ADMIN, SLUG, EventForm(**{**form.__dict__, "headline_en": "Bob takes over"})
    )
    assert not corrected.created and corrected.event_id == "bob-steps-in"
    with pytest.raises(UnknownEvent):
        editing.event_form(ADMIN, SLUG, "nope")

    preview = editing.preview(ADMIN, SLUG)
    assert preview.base_revision == 1
    kinds = {change.event_id: change.kind for change in preview.diff.events}
    assert kinds == {"ada-returns": "added", "headline": "added", "bob-steps-in": "changed"}
    assert preview.changed_days == (
        dt.date(2024, 3, 2),
        dt.date(2024, 3, 5),
        dt.date(2024, 3, 6),
    )
    event = next(e for e in preview.after.events if e.id == saved.event_id)
    assert event.people == ("ada", "bob")
    assert preview.after.source_by_id[event.source].url == "https://example.org/ada"
    window_event = next(e for e in preview.after.events if e.id == "headline")
    assert window_event.date.precision == "approximate"

    choices = editing.event_choices(ADMIN, SLUG, "ada")
    assert [c[0] for c in choices] == ["ada-returns", "ada-leaves"]
    assert editing.event_choices(STRANGER, SLUG, "") == []

    result = editing.publish(ADMIN, SLUG, "Ada is back")
    assert result.created and result.info.revision == 2 and result.info.author == "discord:U-admin"
    assert result.info.origin == "discord:G1" and result.info.comment == "Ada is back"
    assert editing.published == [1]  # the instance serves it at once
    assert not editing.has_draft(ADMIN, SLUG)
    with pytest.raises(NoDraft, match="Il n’y a pas de brouillon"):
        editing.publish(ADMIN, SLUG)


def test_a_draft_from_an_old_base_is_refused_and_kept(editing):
    editing.save_event(ADMIN, SLUG, FORM)
    editing.save_event(OTHER_ADMIN, SLUG, EventForm(date="2024-03-07", **_texts()))
    assert editing.publish(OTHER_ADMIN, SLUG).info.revision == 2
    with pytest.raises(DraftOutdated, match="La révision 2 de l’histoire a été publiée"):
        editing.publish(ADMIN, SLUG)
    assert editing.has_draft(ADMIN, SLUG)  # nothing lost
    assert editing.discard(ADMIN, SLUG) is True
    assert editing.revisions.latest_numbers() == {SLUG: 2}
