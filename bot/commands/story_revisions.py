"""`depeche story publish|history|diff|rollback|export`: story revisions in the database.

    depeche story publish FILE [--comment TEXT] [--base N]
    depeche story history SLUG
    depeche story diff SLUG A B
    depeche story rollback SLUG REV
    depeche story export SLUG [--revision N] [--output FILE]

Every running instance serves a newly published revision at its next tick. Heavy imports
(SQLAlchemy, the store) happen inside the handlers: ``depeche --help`` stays fast.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.stories import StoryRevisions


def _revision_number(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number < 1:
        raise argparse.ArgumentTypeError(f"{value!r} is not a revision number (1, 2, 3...)")
    return number


def register_actions(actions: Any) -> None:
    """Add the revision actions to the ``depeche story`` parser's sub-commands."""
    publish = actions.add_parser(
        "publish",
        help="validate a story file and publish it as the story's next revision",
        description="Validate FILE (every problem at once) and publish it as the next revision "
        "of its story. Running instances serve it at their next tick.",
    )
    publish.add_argument("file", metavar="FILE")
    publish.add_argument("--comment", help="what changed (shown by history)")
    publish.add_argument(
        "--base",
        type=_revision_number,
        metavar="N",
        help="the revision this file was edited from: refused if the story has moved on since",
    )
    publish.add_argument("--author", help="who publishes (default: your user name)")
    publish.set_defaults(handler=_publish)

    history = actions.add_parser("history", help="list a story's revisions, newest first")
    history.add_argument("slug", metavar="SLUG")
    history.set_defaults(handler=_history)

    diff = actions.add_parser("diff", help="what changed between two revisions, per event")
    diff.add_argument("slug", metavar="SLUG")
    diff.add_argument("a", type=_revision_number, metavar="A")
    diff.add_argument("b", type=_revision_number, metavar="B")
    diff.set_defaults(handler=_diff)

    rollback = actions.add_parser("rollback", help="publish a new revision equal to an earlier one")
    rollback.add_argument("slug", metavar="SLUG")
    rollback.add_argument("revision", type=_revision_number, metavar="REV")
    rollback.add_argument("--author", help="who rolls back (default: your user name)")
    rollback.set_defaults(handler=_rollback)

    export = actions.add_parser(
        "export", help="print a revision's YAML (re-publishing it gives an identical revision)"
    )
    export.add_argument("slug", metavar="SLUG")
    export.add_argument("--revision", type=_revision_number, metavar="N", help="default: latest")
    export.add_argument("--output", "-o", metavar="FILE", help="write to FILE instead of stdout")
    export.set_defaults(handler=_export)


def _open() -> StoryRevisions:
    from bot.settings import load_settings
    from bot.store import Store
    from bot.stories import StoryRevisions

    return StoryRevisions(Store.open(load_settings().effective_database_url))


def _author(args: argparse.Namespace) -> str:
    if args.author:
        return str(args.author)
    import getpass

    try:
        return getpass.getuser()
    except Exception:  # no user name in this environment
        return "cli"


def _publish(args: argparse.Namespace) -> int:
    from pathlib import Path

    from bot.settings import load_settings
    from digests.storyfile import read_story_text

    path = Path(args.file)
    # The same checks as at start: a regular UTF-8 file within DEPECHE_STORY_MAX_BYTES.
    document = read_story_text(path, max_bytes=load_settings().story_max_bytes)
    revisions = _open()
    try:
        result = revisions.publish(
            document,
            author=_author(args),
            origin="cli",
            comment=args.comment,
            base=args.base,
            file=str(path),
        )
        info = result.info
        if not result.created:
            print(f"{info.slug}: unchanged — {path} is revision {info.revision} already")
            return 0
        summary = ""
        if result.previous is not None:
            summary = " — " + _summary(revisions, info.slug, result.previous, info.revision)
        print(f"{info.slug}: published revision {info.revision}{summary}")
    finally:
        revisions.store.dispose()
    return 0


def _summary(revisions: StoryRevisions, slug: str, a: int, b: int) -> str:
    from digests.story_diff import diff_stories

    diff = diff_stories(revisions.story(slug, a), revisions.story(slug, b))
    counts = {kind: 0 for kind in ("added", "changed", "removed")}
    for change in diff.events:
        counts[change.kind] += 1
    parts = [
        f"{count} event{'s' if count != 1 else ''} {kind}"
        for kind, count in counts.items()
        if count
    ]
    if diff.sections or diff.meta:
        parts.append("other sections changed")
    return ", ".join(parts) or "no visible change"


def _history(args: argparse.Namespace) -> int:
    revisions = _open()
    try:
        rows = revisions.history(args.slug)
        if not rows:
            raise revisions._unknown_slug(args.slug)
        for info in rows:
            when = info.created_at.strftime("%Y-%m-%d %H:%M UTC")
            comment = f" — {info.comment}" if info.comment else ""
            print(f"{info.revision:>4}  {when}  {info.author} ({info.origin}){comment}")
    finally:
        revisions.store.dispose()
    return 0


def _diff(args: argparse.Namespace) -> int:
    from digests.story_diff import diff_stories, render_diff

    revisions = _open()
    try:
        before = revisions.story(args.slug, args.a)
        after = revisions.story(args.slug, args.b)
        sys.stdout.write(
            render_diff(
                diff_stories(before, after),
                before=f"revision {args.a}",
                after=f"revision {args.b}",
            )
        )
    finally:
        revisions.store.dispose()
    return 0


def _rollback(args: argparse.Namespace) -> int:
    revisions = _open()
    try:
        result = revisions.rollback(args.slug, args.revision, author=_author(args), origin="cli")
        if not result.created:
            print(
                f"{args.slug}: unchanged — the latest revision ({result.info.revision}) "
                f"is already equal to revision {args.revision}"
            )
        else:
            print(
                f"{args.slug}: published revision {result.info.revision}, "
                f"equal to revision {args.revision}"
            )
    finally:
        revisions.store.dispose()
    return 0


def _export(args: argparse.Namespace) -> int:
    revisions = _open()
    try:
        document = revisions.document(args.slug, args.revision)
    finally:
        revisions.store.dispose()
    if args.output:
        from pathlib import Path

        Path(args.output).write_text(document, encoding="utf-8")
    else:
        sys.stdout.write(document)
    return 0
