"""`depeche who "QUESTION" --lang fr|en [--json]`: who is who in a story.

Without a question, reads one question per line from standard input and writes one result per
line (one JSON object per line with ``--json``), so questions can be scripted and evaluated in bulk.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any

from bot.commands.common import add_story_option, parse_date, parse_lang, story_from_args

if TYPE_CHECKING:
    from digests.story import Lang
    from digests.whois import WhoAnswer


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "who",
        help="answer a who-is-who question about the story",
        description="Answer a French or English question about the story's people, roles, "
        "events and organisations. Without QUESTION, read one question per line from stdin.",
    )
    parser.add_argument(
        "question", nargs="?", metavar="QUESTION", help="the question (default: read stdin)"
    )
    parser.add_argument(
        "--lang",
        type=parse_lang,
        default=None,
        help="fr or en (default: the language of each question; en when it cannot tell)",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object per answer")
    parser.add_argument(
        "--date",
        type=parse_date,
        help="answer as of this story date, YYYY-MM-DD, when the question gives none "
        "(default: the story's last day)",
    )
    add_story_option(parser)
    parser.set_defaults(handler=run)


def _format(answer: WhoAnswer, as_json: bool, one_line: bool) -> str:
    if as_json:
        return json.dumps(answer.to_json(), ensure_ascii=False)
    text = answer.text.rstrip("\n")
    if one_line:
        return " | ".join(
            line.strip() for line in text.split("\n") if line.strip() and set(line) != {"="}
        )
    return text


def _lang(args: argparse.Namespace, question: str) -> Lang:
    """The --lang given, else the question's own language (English when it cannot tell)."""
    from digests.whois import question_language

    if args.lang is not None:
        return args.lang  # type: ignore[no-any-return]
    return question_language(question) or "en"


def run(args: argparse.Namespace) -> int:
    from digests.whois import index_for

    story = story_from_args(args)
    index = index_for(story)
    if args.question is not None:
        answer = index.answer(args.question, _lang(args, args.question), today=args.date)
        sys.stdout.write(_format(answer, args.json, one_line=False) + "\n")
        return 0
    for line in sys.stdin:
        question = line.rstrip("\r\n")
        answer = index.answer(question, _lang(args, question), today=args.date)
        sys.stdout.write(_format(answer, args.json, one_line=True) + "\n")
        sys.stdout.flush()
    return 0
