"""`rewardbot`: the command line. Each subcommand lives in `bot.commands.<name>`."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from bot import logs
from bot.settings import ConfigError, load_log_format
from storage.errors import SetupError

# Modules under bot.commands, each with `register(subparsers)` that sets `func(args) -> int`.
COMMANDS: tuple[str, ...] = (
    "config",
    "check",
    "serve",
    "plum",
    "sandbox",
    "migrate",
    "audit",
    "clock",
    "jobs",
    "storefront",
    "points",
    "bulk",
    "people",
    "playground",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rewardbot", description="Slack reward bot backed by Xoxoday Plum."
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log at DEBUG level")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f"bot.commands.{name}").register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        logs.configure(fmt=load_log_format(), verbose=args.verbose)  # LOG_FORMAT
        return int(args.func(args) or 0)
    except (ConfigError, SetupError) as err:  # what the operator fixes: one line, no traceback
        print(f"rewardbot: configuration error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
