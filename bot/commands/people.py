"""`rewardbot people import FILE`: the dates celebrations are paid on (birthdays, start dates).

The file is a CSV with a header row: `person` (a Slack user id or an email), `birthday`
(month-day, like 03-14; a year, when given, is dropped and never stored) and `start_date`
(YYYY-MM-DD). Every row is checked first: one bad row rejects the whole file, listing every
problem by row; else each person is added, or updated when already there (importing the same
file again changes nothing; people not in the file keep their dates). People named by email
are matched to Slack when they are celebrated. Audited (the counts, not the dates).
"""

from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from bot.commands import state_dir

if TYPE_CHECKING:
    from bot.rewards.celebrations import ImportResult


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "people",
        help="celebrations: import people's birthdays and start dates",
        description="The dates the company's celebrations (birthdays, work anniversaries, "
        "welcomes) are paid on.",
    )
    sub = parser.add_subparsers(dest="people_command", metavar="ACTION", required=True)
    imp = sub.add_parser(
        "import",
        help="add or update people's dates from a CSV (rejected whole when a row is wrong)",
        description="CSV columns (header row first): person (Slack user id or email), "
        "birthday (MM-DD, e.g. 03-14), start_date (YYYY-MM-DD). One bad row rejects the "
        "file, with every problem listed by row; nothing is stored then.",
    )
    imp.add_argument("file", type=Path, metavar="FILE", help="the CSV file")
    state_dir.add_flag(imp)
    imp.set_defaults(func=run_import)


def run_import(args: argparse.Namespace) -> int:
    from bot.rewards.celebrations import ImportResult, import_file
    from bot.rewards.people_import import MAX_BYTES, too_big
    from storage import clock
    from storage.db import store_from_settings
    from storage.migrations import ensure_current

    path: Path = args.file
    try:
        with path.open("rb") as f:
            data = f.read(MAX_BYTES + 1)  # a larger file is refused, never read whole
    except OSError as err:
        print(f"rewardbot: can't read {path}: {err.strerror or err}", file=sys.stderr)
        return 1
    if len(data) > MAX_BYTES:
        return _rejected(path, ImportResult(file=too_big(path.stat().st_size)))
    settings = state_dir.settings_for(args)
    store = store_from_settings(settings)
    try:
        ensure_current(store.engine)
        done = import_file(store, data, actor=f"cli:{_who()}", today=clock.now().date())
        if done.file.ok:
            from bot.commands.storefront import _anchor

            _anchor(store, settings)  # the import's audit event, outside the database now
    finally:
        store.dispose()
    if not done.file.ok:
        return _rejected(path, done)
    from bot.rewards.people_dm import summary

    print(summary(done, path.name))  # what an admin reads after dropping the file in the DM
    return 0


def _rejected(path: Path, done: ImportResult) -> int:
    from bot.rewards.people_dm import rejected_head, rejected_tail

    print(rejected_head(path.name), file=sys.stderr)
    print(done.file.report(), file=sys.stderr)
    print(rejected_tail(done), file=sys.stderr)
    return 1


def _who() -> str:
    try:
        return getpass.getuser()[:40] or "someone"
    except (KeyError, OSError):
        return "someone"
