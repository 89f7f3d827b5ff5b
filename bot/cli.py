"""The `depeche` command line (also `python -m bot`).

Exit codes: 0 success, 2 bad input (one line naming what is wrong, no traceback),
1 unexpected failure.
"""

from __future__ import annotations

import argparse
import logging
import re
import sys
from collections.abc import Sequence

from bot.commands import db, digest, faq, run, simulate, story, subscriptions, web, who
from bot.commands import discord as discord_commands
from digests.errors import DepecheError

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_BAD_INPUT = 2

# Each module registers its own sub-commands; the order is the order of `depeche --help`.
# They are small: their heavy imports (SQLAlchemy, APScheduler, discord.py, slack_bolt...) happen
# inside the handlers, so `depeche --help` and the reading commands start fast
# (tests/test_cli_imports.py checks which libraries each command loads).
COMMANDS = (run, digest, story, who, faq, subscriptions, simulate, db, discord_commands, web)

_log = logging.getLogger("depeche")

MESSAGE_MAX = 500
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def clean_message(text: str, limit: int = MESSAGE_MAX) -> str:
    """An error message safe to print on one line: control characters (ANSI escapes, new
    lines, NUL...) shown as ``\\xNN`` instead of being sent to the terminal, and no longer than
    ``limit`` characters (values quoted from the command line may be huge)."""
    text = _CONTROL.sub(lambda match: f"\\x{ord(match.group()):02x}", text)
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return text


class _Parser(argparse.ArgumentParser):
    """argparse exits with 2 on bad arguments already; make the message one clear line."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(
            EXIT_BAD_INPUT,
            f"depeche: error: {clean_message(message)} (see '{self.prog} --help')\n",
        )


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="depeche",
        description="Dépêche keeps Discord servers and Slack workspaces up to date on a "
        "developing news story, in French and English.",
    )
    parser.add_argument(
        "-v",
        "--verbose",
        action="count",
        default=0,
        help="more log details on standard error (-v debug; `depeche run` on the console: "
        "-v info, -vv debug)",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for module in COMMANDS:
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if getattr(args, "verbose", 0) else logging.INFO,
        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    if not getattr(args, "handler", None):
        parser.print_help()
        return EXIT_BAD_INPUT if args.command is None else EXIT_OK
    try:
        return int(args.handler(args) or EXIT_OK)
    except DepecheError as error:
        print(f"depeche: error: {clean_message(str(error))}", file=sys.stderr)
        return int(getattr(error, "exit_code", EXIT_BAD_INPUT))
    except KeyboardInterrupt:
        print("depeche: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return EXIT_OK
    except MemoryError:
        print("depeche: error: out of memory (input too large?)", file=sys.stderr)
        return EXIT_BAD_INPUT
    except Exception:
        _log.exception("unexpected failure")
        return EXIT_FAILURE
