"""`rewardbot points verify`: do the bot's point books add up? (points in the bot, StoreFront)

It reads the ledger DATABASE_URL names (or the playground's, `--state-dir`) and never writes to
it: a ledger that is not there is named, not created. Exit 0 when every lot, order and balance
adds up (`storage.point_books`), or when points live at Xoxoday (nothing to add up here); exit 1
naming the first difference and counting the others, or when there is no ledger to read.
"""

from __future__ import annotations

import argparse
import sys

from bot.commands import state_dir

PLUM_NOTE = (
    "points live at Xoxoday here (REWARD_POINT_SYSTEM=plum): the bot keeps no point ledger, so "
    "there are no books to add up (Xoxoday's dashboard has them)"
)
WHAT_TO_DO = (
    "nothing was changed. Don't edit the ledger by hand: keep a copy of the database and send "
    "this output to whoever supports your rewardbot"
)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "points",
        help="points in the bot (StoreFront): check that the point books add up",
        description="The bot's own point ledger (REWARD_POINT_SYSTEM=storefront).",
    )
    sub = parser.add_subparsers(dest="points_command", metavar="ACTION", required=True)
    verify = sub.add_parser(
        "verify",
        help="check that every lot, order and balance adds up (exit 1 at the first difference)",
        description="For every person and every lot: credited − spent + refunded − expired − "
        "taken back = available, never below zero; each order's refunds at most what it "
        "redeemed; each balance the sum of its lots. Exit 1 naming the first difference. "
        "Read-only: a missing ledger is named, never created.",
    )
    verify.add_argument(
        "--all", action="store_true", help="print every difference, not only the first"
    )
    state_dir.add_flag(verify)
    verify.set_defaults(func=run_verify)


def run_verify(args: argparse.Namespace) -> int:
    from sqlmodel import select

    from storage import point_system
    from storage.db import read_session
    from storage.existing import NoLedger, existing_ledger
    from storage.models import PointLot
    from storage.point_books import check_books
    from storage.states import PointSystem
    from storage.types import utcnow

    settings = state_dir.settings_for(args)
    try:
        with (
            existing_ledger(settings.DATABASE_URL) as engine,
            read_session(engine, snapshot=True) as session,
        ):
            in_the_bot = (
                settings.storefront
                or point_system.recorded(session) is PointSystem.STOREFRONT
                or session.exec(select(PointLot.id).limit(1)).first() is not None
            )
            if not in_the_bot:
                print(PLUM_NOTE)
                return 0
            books = check_books(session, today=utcnow().date())
    except NoLedger as err:
        print(f"rewardbot: {err}", file=sys.stderr)
        return 1
    if books.add_up:
        print(adds_up(lots=books.lots, people=books.people))
        return 0
    first, *others = books.differences
    shown = books.differences if args.all else (first,)
    print("the point books do NOT add up:", file=sys.stderr)
    for difference in shown:
        print(f"  {difference}", file=sys.stderr)
    if others and not args.all:
        more = "difference" if len(others) == 1 else "differences"
        print(f"  … and {len(others)} other {more} (--all lists them)", file=sys.stderr)
    print(WHAT_TO_DO, file=sys.stderr)
    return 1


def adds_up(*, lots: int, people: int) -> str:
    """The count as English: "12 lots of 5 people add up", "1 lot of 1 person adds up"."""
    lot_word = "lot" if lots == 1 else "lots"
    person_word = "person" if people == 1 else "people"
    verb = "adds up" if lots == 1 else "add up"
    return f"{lots} {lot_word} of {people} {person_word} {verb}"
