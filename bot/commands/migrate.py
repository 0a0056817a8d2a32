"""`rewardbot migrate`: upgrade the database schema to the newest revision."""

from __future__ import annotations

import argparse

from bot.settings import load_settings


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "migrate",
        help="upgrade the database schema (DATABASE_URL) to the newest revision",
        description="Upgrade the database schema (DATABASE_URL) to the newest revision.",
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="change nothing; exit 1 when the database is behind this version of rewardbot",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from storage.db import make_engine
    from storage.migrations import BEHIND_MESSAGE, current_state, upgrade

    settings = load_settings()
    engine = make_engine(settings.DATABASE_URL)
    try:
        before = current_state(engine)
        if before.unknown:
            print(
                f"the database is at revision {', '.join(before.unknown)}, which this version "
                "of rewardbot does not know (it was migrated by a newer release)"
            )
            return 1
        if args.check:
            if before.is_current:
                print(f"the database is up to date (revision {_rev(before.current)})")
                return 0
            print(BEHIND_MESSAGE)
            return 1
        if before.is_current:
            print(f"the database is already up to date (revision {_rev(before.current)})")
            return 0
        after = upgrade(engine)
        print(f"the database was upgraded from {_rev(before.current)} to {_rev(after.current)}")
        return 0
    finally:
        engine.dispose()


def _rev(revisions: tuple[str, ...]) -> str:
    return ", ".join(revisions) or "an empty database"
