"""`depeche digest`: print the digest of a story date."""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any

from bot.commands.common import (
    BadArgument,
    add_story_option,
    parse_date,
    parse_lang,
    story_from_args,
)

if TYPE_CHECKING:
    from digests.documents import Document


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "digest",
        help="print the digest of a story date",
        description="Print the digest of one story date (or the story so far) in French or English.",
    )
    parser.add_argument(
        "--date", type=parse_date, help="story date, YYYY-MM-DD (default: the story's first day)"
    )
    parser.add_argument("--lang", type=parse_lang, default="en", help="fr or en (default: en)")
    parser.add_argument("--format", choices=("text", "markdown", "json"), default="text")
    parser.add_argument(
        "--so-far", action="store_true", help="everything up to the date, for newcomers"
    )
    add_story_option(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from digests.compose import compose_digest, compose_story_so_far
    from digests.formatting import format_long
    from digests.render import render_markdown, render_text

    story = story_from_args(args)
    day = args.date or story.first_day
    document: Document | None
    if args.so_far:
        document = compose_story_so_far(story, day, args.lang)
    else:
        document = compose_digest(story, day, args.lang)
        if document is None:
            days = ", ".join(d.isoformat() for d in story.days)
            raise BadArgument(
                f"no events on {format_long(day, 'en')} in '{story.slug}' (days with events: {days}); "
                "use --so-far for the story up to that date"
            )
    if args.format == "json":
        output = json.dumps(document.to_json(), ensure_ascii=False, indent=2) + "\n"
    elif args.format == "markdown":
        output = render_markdown(document)
    else:
        output = render_text(document)
    sys.stdout.write(output)
    return 0
