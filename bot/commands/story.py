"""`depeche story check FILE`, `show`, `list`; the revision actions (publish, history, diff,
rollback, export) are in `bot.commands.story_revisions`."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from bot.commands.common import add_story_option, parse_lang, story_from_args, story_max_bytes


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "story",
        help="check, show, publish and roll back stories",
        description="Work with story files.",
    )
    actions = parser.add_subparsers(dest="story_command", metavar="ACTION", required=True)

    check = actions.add_parser("check", help="validate a story file and list every problem found")
    check.add_argument("file", metavar="FILE")
    check.set_defaults(handler=check_file)

    show = actions.add_parser("show", help="print a story's timeline")
    show.add_argument("--lang", type=parse_lang, default="en", help="fr or en (default: en)")
    show.add_argument("--format", choices=("text", "markdown"), default="text")
    add_story_option(show)
    show.set_defaults(handler=show_timeline)

    stories = actions.add_parser("list", help="list the stories this bot knows")
    stories.set_defaults(handler=list_stories)

    from bot.commands.story_revisions import register_actions

    register_actions(actions)


def check_file(args: argparse.Namespace) -> int:
    from digests.story import load_story

    # StoryError (every problem, one per line) -> exit 2
    story = load_story(args.file, max_bytes=story_max_bytes())
    print(
        f"{args.file}: OK — story '{story.slug}': {len(story.events)} events over {len(story.days)} days, "
        f"{len(story.people)} people, {len(story.organisations)} organisations"
    )
    return 0


def show_timeline(args: argparse.Namespace) -> int:
    from digests.compose import compose_timeline
    from digests.render import render_markdown, render_text

    document = compose_timeline(story_from_args(args), args.lang)
    sys.stdout.write(
        render_markdown(document) if args.format == "markdown" else render_text(document)
    )
    return 0


def list_stories(args: argparse.Namespace) -> int:
    from bot.commands.common import load_library, load_settings

    settings = load_settings()
    directory = settings.stories_dir
    library = load_library(settings)
    for story in library:
        marker = " (default)" if story.slug == library.default_slug else ""
        print(
            f"{story.slug}{marker}: {story.meta.title.en} — {story.first_day} to {story.last_day}"
        )
    for problem in library.problems:
        print(f"skipped an invalid file in {directory}:\n{problem}", file=sys.stderr)
    return 0
