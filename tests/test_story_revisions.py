"""Stories in the store as revisions: publish (validated, every error at once), optimistic
concurrency, file import at start, live refresh per tick, and the CLI (publish, history, diff,
rollback, export)."""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path

import pytest
import time_machine

from bot.cli import main
from bot.platforms import build_context
from bot.settings import Settings
from bot.stories import LiveStories, StaleRevision, StoryRevisions, UnknownRevision
from digests.errors import StoryError
from digests.story import DEFAULT_STORY_SLUG, StoryLibrary, default_story, default_story_path
from digests.story_diff import diff_stories

MINIMAL = Path(__file__).parent / "stories" / "minimal.yaml"
SLUG = "minimal-example"
NOW = dt.datetime(2024, 3, 1, 9, 0, tzinfo=dt.UTC)


def minimal() -> str:
    return MINIMAL.read_text(encoding="utf-8")


def edited(document: str, old: str, new: str) -> str:
    assert old in document
    return document.replace(old, new, 1)


def revisions_of(store: object) -> StoryRevisions:
    return StoryRevisions(store, clock=lambda: NOW)  # type: ignore[arg-type]


def test_publish_numbers_revisions_and_skips_identical_documents(store):
    revisions = revisions_of(store)
    first = revisions.publish(minimal(), author="ada", origin="cli", comment="first")
    assert (first.created, first.info.revision, first.previous) == (True, 1, None)
    again = revisions.publish(minimal(), author="bob", origin="cli")
    assert (again.created, again.info.revision) == (False, 1)
    second = revisions.publish(
        edited(minimal(), "Ada quitte Acme", "Ada quitte Acme (officiel)"),
        author="bob",
        origin="cli",
        comment="precision",
        base=1,
    )
    assert (second.created, second.info.revision, second.previous) == (True, 2, 1)
    history = revisions.history(SLUG)
    assert [(h.revision, h.author, h.comment) for h in history] == [
        (2, "bob", "precision"),
        (1, "ada", "first"),
    ]
    assert history[0].created_at == NOW
    assert revisions.latest_numbers() == {SLUG: 2}


def test_an_invalid_document_is_refused_with_every_error_and_never_stored(store):
    revisions = revisions_of(store)
    revisions.publish(minimal(), author="ada", origin="cli")
    broken = edited(minimal(), "people: [ada]\n", "people: [nobody]\n")
    broken = edited(broken, "date: 2024-03-01", "date: 2024-02-30")
    with pytest.raises(StoryError) as caught:
        revisions.publish(broken, author="ada", origin="cli", file="draft.yaml")
    assert len(caught.value.issues) >= 2
    text = str(caught.value)
    assert "nobody" in text and "date" in text
    assert revisions.latest_numbers() == {SLUG: 1}


def test_publishing_from_a_stale_base_is_refused_and_nothing_is_lost(store):
    revisions = revisions_of(store)
    revisions.publish(minimal(), author="ada", origin="cli")
    mine = edited(minimal(), "Bob steps in", "Bob takes over")
    theirs = edited(minimal(), "Ada leaves Acme", "Ada quits Acme")
    assert revisions.publish(theirs, author="eve", origin="cli", base=1).info.revision == 2
    with pytest.raises(StaleRevision, match=r"at revision 2, but this edit was made on revision 1"):
        revisions.publish(mine, author="ada", origin="cli", base=1)
    assert revisions.latest_numbers() == {SLUG: 2}
    assert "Ada quits Acme" in revisions.document(SLUG)  # the first editor's work is kept


def test_a_document_of_another_story_is_refused_when_a_slug_is_expected(store):
    revisions = revisions_of(store)
    with pytest.raises(StoryError, match="expected 'other'"):
        revisions.publish(minimal(), author="ada", origin="cli", slug="other")


def test_unknown_slug_and_revision_are_one_clear_line(store):
    revisions = revisions_of(store)
    revisions.publish(minimal(), author="ada", origin="cli")
    with pytest.raises(UnknownRevision, match=r"no story 'nope' in the database \(known: "):
        revisions.document("nope")
    with pytest.raises(UnknownRevision, match=r"has no revision 9 \(revisions 1 to 1\)"):
        revisions.document(SLUG, 9)


def test_files_are_imported_at_start_and_a_changed_file_becomes_a_new_revision(
    store, tmp_path, caplog
):
    caplog.set_level("INFO")
    directory = tmp_path / "stories"
    directory.mkdir()
    (directory / "minimal.yaml").write_text(minimal(), encoding="utf-8")
    (directory / "broken.yaml").write_text("slug: [", encoding="utf-8")
    revisions = revisions_of(store)

    live = LiveStories.start(revisions, directory)
    assert revisions.latest_numbers() == {DEFAULT_STORY_SLUG: 1, SLUG: 1}
    assert live.served == {DEFAULT_STORY_SLUG: 1, SLUG: 1}
    assert "story file ignored" in caplog.text and "broken.yaml" in caplog.text
    assert revisions.history(DEFAULT_STORY_SLUG)[0].origin == f"file:{default_story_path().name}"

    # Restart with the same files: nothing new.
    LiveStories.start(revisions, directory)
    assert revisions.latest_numbers() == {DEFAULT_STORY_SLUG: 1, SLUG: 1}

    # A changed file becomes a new revision, logged.
    caplog.clear()
    changed = edited(minimal(), "Bob steps in", "Bob takes the helm")
    (directory / "minimal.yaml").write_text(changed, encoding="utf-8")
    live = LiveStories.start(revisions, directory)
    assert revisions.latest_numbers()[SLUG] == 2
    assert "minimal.yaml imported as revision 2" in caplog.text
    assert live.library.get(SLUG).events[1].headline.en == "Bob takes the helm"

    # An instance restarted with the old copy of the file does not undo revision 2.
    (directory / "minimal.yaml").write_text(minimal(), encoding="utf-8")
    live = LiveStories.start(revisions, directory)
    assert revisions.latest_numbers()[SLUG] == 2
    assert live.library.get(SLUG).events[1].headline.en == "Bob takes the helm"


def test_refresh_serves_a_new_revision_and_caches_compiled_stories_per_revision(store):
    from digests.whois import index_for

    revisions = revisions_of(store)
    revisions.publish(minimal(), author="ada", origin="cli")
    library = StoryLibrary([default_story()])
    live = LiveStories(revisions, library)
    assert live.refresh() == [(SLUG, 1)]
    first = library.get(SLUG)
    assert live.refresh() == []  # nothing new: same object, same who-is-who index
    assert library.get(SLUG) is first
    assert index_for(library.get(SLUG)) is index_for(first)

    revisions.publish(
        edited(minimal(), "name: Bob Martin", "name: Robert Martin"), author="x", origin="cli"
    )
    assert live.refresh() == [(SLUG, 2)]
    second = library.get(SLUG)
    assert second is not first and second.person_by_id["bob"].name == "Robert Martin"
    assert live.compiled(SLUG, 1) is first  # older revisions stay cached
    assert index_for(second) is not index_for(first)


def test_a_stored_revision_that_no_longer_validates_never_goes_live(store, caplog):
    from sqlalchemy import update

    from bot.store import StoryRevision

    revisions = revisions_of(store)
    revisions.publish(minimal(), author="ada", origin="cli")
    library = StoryLibrary([default_story()])
    live = LiveStories(revisions, library)
    live.refresh()
    revisions.publish(edited(minimal(), "Bob steps in", "Bob again"), author="x", origin="cli")
    with store.session() as session, session.begin():  # as if a newer validator refused it
        session.execute(
            update(StoryRevision)
            .where(StoryRevision.revision == 2)
            .values(document=edited(minimal(), "people: [bob]", "people: [nobody]"))
        )
    assert live.refresh() == []
    assert library.get(SLUG).events[1].headline.en == "Bob steps in"
    assert "revision 2 does not validate, still serving revision 1" in caplog.text
    assert live.refresh() == []  # and it is not retried at every tick


async def test_runner_serves_a_revision_published_elsewhere_at_its_next_tick(tmp_path):
    url = f"sqlite:///{tmp_path / 'bot.sqlite3'}"
    settings = Settings(database_url=url, stories_dir=tmp_path / "none")
    with time_machine.travel(NOW, tick=False):
        context = build_context(settings, options=argparse.Namespace())
        try:
            assert context.library.default.meta.title.en == default_story().meta.title.en
            document = context.stories.revisions.document(DEFAULT_STORY_SLUG)  # type: ignore[union-attr]
            other = StoryRevisions(context.store)
            new_title = "The OpenAI crisis (updated)"
            other.publish(
                edited(document, '  en: "Crisis at OpenAI"', f'  en: "{new_title}"'),
                author="editor",
                origin="cli",
                base=1,
            )
            assert context.library.default.meta.title.en != new_title  # not before the tick
            await context.runner.step()
            assert context.library.default.meta.title.en == new_title
        finally:
            context.store.dispose()


# --------------------------------------------------------------------------- the CLI


@pytest.fixture
def cli_db(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("DEPECHE_CONFIG", str(_empty_config(tmp_path)))
    return url


def _empty_config(tmp_path: Path) -> Path:
    path = tmp_path / "settings.toml"
    path.write_text("", encoding="utf-8")
    return path


def test_cli_publish_history_diff_rollback_export(cli_db, tmp_path, capsys):
    first = tmp_path / "v1.yaml"
    first.write_text(minimal(), encoding="utf-8")
    assert main(["story", "publish", str(first), "--comment", "first", "--author", "ada"]) == 0
    assert capsys.readouterr().out == f"{SLUG}: published revision 1\n"

    second = tmp_path / "v2.yaml"
    text = edited(minimal(), "Bob steps in", "Bob takes over")
    text = edited(
        text,
        "faq:",
        (
            "  - id: ada-returns\n    date: 2024-03-05\n"
            '    headline: {fr: "Ada revient", en: "Ada returns"}\n'
            '    text: {fr: "Ada revient.", en: "Ada is back."}\n'
            '    people: [ada]\n    quote: "Ada revient."\nfaq:'
        ),
    )
    second.write_text(text, encoding="utf-8")
    assert main(["story", "publish", str(second), "--base", "1", "--author", "bob"]) == 0
    assert capsys.readouterr().out == (
        f"{SLUG}: published revision 2 — 1 event added, 1 event changed\n"
    )

    # Same base again: refused, one clear message, exit 2.
    assert main(["story", "publish", str(first), "--base", "1"]) == 2
    err = capsys.readouterr().err
    assert "is at revision 2, but this edit was made on revision 1" in err
    assert err.count("\n") == 1

    assert main(["story", "history", SLUG]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split()[0] == "2" and "bob (cli)" in out[0]
    assert out[1].split()[0] == "1" and "ada (cli) — first" in out[1]

    assert main(["story", "diff", SLUG, "1", "2"]) == 0
    out = capsys.readouterr().out
    assert "+ event ada-returns (2024-03-05) added: Ada returns" in out
    assert "~ event bob-steps-in (2024-03-02) changed: Bob takes over" in out
    assert "    headline.en: 'Bob steps in' -> 'Bob takes over'" in out

    assert main(["story", "rollback", SLUG, "1"]) == 0
    assert capsys.readouterr().out == f"{SLUG}: published revision 3, equal to revision 1\n"
    assert main(["story", "diff", SLUG, "1", "3"]) == 0
    assert "no difference" in capsys.readouterr().out

    # Export re-imports to an identical revision.
    exported = tmp_path / "exported.yaml"
    assert main(["story", "export", SLUG, "--revision", "2", "-o", str(exported)]) == 0
    assert exported.read_text(encoding="utf-8") == text
    assert main(["story", "export", SLUG]) == 0
    assert capsys.readouterr().out == minimal()
    assert main(["story", "publish", str(exported), "--base", "3"]) == 0
    assert capsys.readouterr().out.startswith(f"{SLUG}: published revision 4")
    assert main(["story", "publish", str(exported)]) == 0
    assert capsys.readouterr().out == (f"{SLUG}: unchanged — {exported} is revision 4 already\n")


def test_cli_invalid_file_lists_every_error_and_publishes_nothing(cli_db, tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    broken = edited(minimal(), "people: [ada]\n", "people: [nobody]\n")
    broken = edited(broken, "source: article", "source: nowhere")
    bad.write_text(broken, encoding="utf-8")
    assert main(["story", "publish", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "2 errors in story file" in err and "nobody" in err and "nowhere" in err
    assert main(["story", "history", SLUG]) == 2
    assert f"no story '{SLUG}' in the database" in capsys.readouterr().err


def test_cli_bad_arguments_are_one_line(cli_db, capsys):
    with pytest.raises(SystemExit) as exited:
        main(["story", "diff", SLUG, "1", "zero"])
    assert exited.value.code == 2
    assert "'zero' is not a revision number" in capsys.readouterr().err
    assert main(["story", "publish", "/nonexistent.yaml"]) == 2
    assert "file not found" in capsys.readouterr().err


def test_diff_lists_days_that_changed():
    from digests.story import parse_story

    a = parse_story(minimal())
    b = parse_story(edited(minimal(), "date: 2024-03-01", "date: 2024-03-05"))
    diff = diff_stories(a, b)
    assert [c.fields for c in diff.events] == [("date",)]
    assert diff.changed_days == (dt.date(2024, 3, 1), dt.date(2024, 3, 5))


# --------------------------------------------------------------------------- several instances


@pytest.mark.postgres
async def test_three_instances_on_postgresql_serve_a_cli_revision_within_one_tick(
    pg_server, tmp_path, monkeypatch, capsys
):
    """Three instances (each its own engine and connection pool, in this process) on one
    PostgreSQL database; a revision published with the CLI is served by each at its next tick:
    the digest preview and /who show it."""
    from digests.compose import compose_digest
    from digests.render import render_text
    from digests.whois import answer

    url = pg_server.create_database()
    directory = tmp_path / "stories"
    directory.mkdir()
    (directory / "minimal.yaml").write_text(minimal(), encoding="utf-8")
    settings = Settings(database_url=url, stories_dir=directory)
    contexts = [build_context(settings, options=argparse.Namespace()) for _ in range(3)]
    try:
        for context in contexts:
            assert context.stories is not None and context.stories.served[SLUG] == 1
        # Another instance (or host) restarting with the same file adds nothing.
        assert StoryRevisions(contexts[0].store).latest_numbers()[SLUG] == 1

        monkeypatch.setenv("DATABASE_URL", url)
        monkeypatch.setenv("DEPECHE_CONFIG", str(_empty_config(tmp_path)))
        new = tmp_path / "v2.yaml"
        new.write_text(
            edited(
                edited(minimal(), "name: Bob Martin", "name: Robert Martin"),
                "Bob steps in",
                "Robert steps in",
            ),
            encoding="utf-8",
        )
        assert main(["story", "publish", str(new), "--base", "1"]) == 0
        assert "published revision 2" in capsys.readouterr().out

        day = dt.date(2024, 3, 2)
        for context in contexts:
            with time_machine.travel(NOW, tick=False):
                await context.runner.step()
            story = context.library.get(SLUG)
            assert context.stories is not None and context.stories.served[SLUG] == 2
            preview = compose_digest(story, day, "en")
            assert preview is not None and "Robert steps in" in render_text(preview)
            who = answer(story, "who is Robert Martin?", "en", today=day)
            assert who.found and "Robert Martin" in who.text

        # An invalid revision never goes live: refused at publish, nothing changes anywhere.
        bad = tmp_path / "bad.yaml"
        bad.write_text(edited(minimal(), "people: [bob]", "people: [nobody]"), encoding="utf-8")
        assert main(["story", "publish", str(bad), "--base", "2"]) == 2
        assert "nobody" in capsys.readouterr().err
        for context in contexts:
            await context.runner.step()
            assert context.stories is not None and context.stories.served[SLUG] == 2
    finally:
        for context in contexts:
            context.store.dispose()


@pytest.mark.postgres
def test_concurrent_publishes_from_the_same_base_on_postgresql_one_wins(pg_server):
    """Two editors on two instances publish from revision 1 at the same moment: exactly one
    revision 2, the other editor is told; no lost update."""
    import threading

    from bot.store import Store

    url = pg_server.create_database()
    stores = [Store.open(url), Store.open(url)]
    try:
        StoryRevisions(stores[0]).publish(minimal(), author="ada", origin="cli")
        barrier = threading.Barrier(2)
        outcomes: list[object] = []

        def publish(index: int) -> None:
            document = edited(minimal(), "Bob steps in", f"Bob steps in ({index})")
            barrier.wait()
            try:
                result = StoryRevisions(stores[index]).publish(
                    document, author=f"editor{index}", origin="cli", base=1
                )
                outcomes.append(result.info.revision)
            except StaleRevision as error:
                outcomes.append(error)

        threads = [threading.Thread(target=publish, args=(i,)) for i in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(map(type, outcomes), key=str) == sorted([int, StaleRevision], key=str)
        assert StoryRevisions(stores[0]).latest_numbers() == {SLUG: 2}
    finally:
        for store in stores:
            store.dispose()
