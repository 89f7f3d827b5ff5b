"""`depeche faq [--lang fr|en] [--story SLUG]`: the story's frequently asked questions.

The same document as the chat's ``/faq`` (`digests.compose.compose_faq`), rendered for the
terminal, as Markdown or as JSON.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from bot.commands.common import add_story_option, parse_lang, story_from_args


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "faq",
        help="print the story's frequently asked questions (as /faq in chat)",
        description="Print the frequently asked questions of a story, in French or English: "
        "the same answers as the /faq command on Discord and Slack.",
    )
    parser.add_argument("--lang", type=parse_lang, default="en", help="fr or en (default: en)")
    parser.add_argument("--format", choices=("text", "markdown", "json"), default="text")
    add_story_option(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from digests.compose import compose_faq
    from digests.render import render_markdown, render_text

    document = compose_faq(story_from_args(args), args.lang)
    if args.format == "json":
        output = json.dumps(document.to_json(), ensure_ascii=False, indent=2) + "\n"
    elif args.format == "markdown":
        output = render_markdown(document)
    else:
        output = render_text(document)
    sys.stdout.write(output)
    return 0
