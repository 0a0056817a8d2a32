"""`rewardbot`: the command line. Each subcommand lives in `bot.commands.<name>`."""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence

from bot.settings import ConfigError
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
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except (ConfigError, SetupError) as err:  # what the operator fixes: one line, no traceback
        print(f"rewardbot: configuration error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
