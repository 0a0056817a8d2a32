"""The point books add up (`storage.point_books`): a ledger built through the real movements
(credit, redeem, refund, expiry, a refund after the lot's day, cancel take-back, a refund into a
cancelled reward's lot) adds up on SQLite and PostgreSQL; then each term of it, corrupted in
turn with one SQL statement, is found and named (person, lot or order, the numbers)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import pytest
from sqlalchemy import update

from storage.db import Store, read_session
from storage.models import SettingValue
from storage.point_books import Books, check_books
from tests.storage.conftest import People
from tests.storage.point_ledger import (
    ALICE,
    APRIL,
    BOB,
    DAY2,
    TODAY,
    Ledger,
    Sql,
    build_ledger,
    corrupt,
)
from tests.storage.support import TestDatabase


@pytest.fixture
def ledger(store: Store, people: People) -> Ledger:
    return build_ledger(store, people)


def books(db: TestDatabase, today: date = DAY2) -> Books:
    with read_session(db.engine, snapshot=True) as s:
        return check_books(s, today=today)


# Table-style: each corruption is one or two SQL statements on one row; `first` is the
# difference the check names first, `also` others it must name too.


@dataclass(frozen=True)
class Corruption:
    id: str
    sql: Callable[[Ledger], Sql]
    first: Callable[[Ledger], str]
    also: Callable[[Ledger], list[str]] = lambda _: []


def lot(column: str, change: str, key: str) -> Callable[[Ledger], Sql]:
    return lambda L: [
        (f"UPDATE point_lots SET {column} = {change} WHERE id = :id", {"id": getattr(L, key)})
    ]


CORRUPTIONS = [
    Corruption(
        "credited: the recipient row says 31",
        lambda L: [
            (
                "UPDATE reward_recipients SET points = 31 WHERE member_id = "
                "(SELECT member_id FROM point_lots WHERE id = :id)",
                {"id": L.april_r3},
            )
        ],
        lambda L: (
            f"{APRIL}, reward {L.r3}: the lot records 30 points credited, but the "
            "reward gave them 31"
        ),
        lambda L: [
            f"{APRIL}, reward {L.r3}: credited 31 − spent 0 + refunded 0 − expired 0 − taken "
            "back 0 = 31 points, but the lot records 30 available",
            f"{APRIL}, balance: received 30 points, but their rewards credited 31",
            f"{APRIL}, balance: available 30 points, but their lots add up to 31",
        ],
    ),
    Corruption(
        "credited: a lot grown by 5 points",
        lot("cents", "cents + 500, remaining = remaining + 500", "april_r3"),
        lambda L: (
            f"{APRIL}, reward {L.r3}: the lot records 35 points credited, but the "
            "reward gave them 30"
        ),
        lambda L: [f"{APRIL}, balance: received 35 points, but their rewards credited 30"],
    ),
    Corruption(
        "credited: a refund's lot grown by 10 points",
        lot("cents", "cents + 1000, remaining = remaining + 1000", "alice_late"),
        lambda L: (
            f"{ALICE}, refund lot #{L.alice_late}: the lot records 30 points credited, "
            "but the refund that made it gave 20"
        ),
        lambda L: [
            f"{ALICE}, refund lot #{L.alice_late}: credited 20 − spent 5 + refunded 2 − expired "
            "0 − taken back 0 = 17 points, but the lot records 27 available"
        ],
    ),
    Corruption(
        "credited: a lot nobody delivered",
        lambda L: [
            (
                "UPDATE reward_recipients SET outcome = 'failed' WHERE member_id = "
                "(SELECT member_id FROM point_lots WHERE id = :id)",
                {"id": L.april_r3},
            )
        ],
        lambda L: (
            f"{APRIL}, reward {L.r3}: the lot holds 30 credited points, but the reward "
            "was never delivered to them (failed)"
        ),
    ),
    Corruption(
        "credited: a delivered recipient's lot is gone",
        lambda L: [("DELETE FROM point_lots WHERE id = :id", {"id": L.april_r3})],
        lambda L: (
            f"{APRIL}, reward {L.r3}: was delivered to them (30 points), but no lot "
            "holds those points"
        ),
    ),
    Corruption(
        "spent: a debit of an order grown by 1 point",
        lambda L: [
            (
                "UPDATE point_order_lots SET cents = cents + 100 WHERE order_pk = :o",
                {"o": L.order_pk["ORD-4"]},
            )
        ],
        lambda L: (
            f"{ALICE}, refund lot #{L.alice_late}: credited 20 − spent 6 + refunded 2 − "
            "expired 0 − taken back 0 = 16 points, but the lot records 17 available"
        ),
        lambda L: [f"{ALICE}, order ORD-4: redeemed 5 points, but its lots gave 6"],
    ),
    Corruption(
        "spent: an order's debit moved to someone else's lot",
        lambda L: [
            (
                "UPDATE point_order_lots SET lot_id = :b WHERE order_pk = :o",
                {"b": L.bob_r1, "o": L.order_pk["ORD-4"]},
            )
        ],
        lambda L: (
            f"{ALICE}, refund lot #{L.alice_late}: credited 20 − spent 0 + refunded 0 − "
            "expired 0 − taken back 0 = 20 points, but the lot records 17 available"
        ),
        lambda L: [
            f"{ALICE}, order ORD-4: took points from lot #{L.bob_r1}, which is {BOB}'s, not theirs",
            f"{BOB}, reward {L.r1}: credited 50 − spent 35 + refunded 12 − expired 0 − taken "
            "back 30 = -3 points: below zero",
        ],
    ),
    Corruption(
        "refunded: a lot got 1 point more back",
        lambda L: [
            (
                "UPDATE point_order_lots SET refunded = refunded + 100 WHERE order_pk = :o",
                {"o": L.order_pk["ORD-4"]},
            )
        ],
        lambda L: (
            f"{ALICE}, refund lot #{L.alice_late}: credited 20 − spent 5 + refunded 3 − "
            "expired 0 − taken back 0 = 18 points, but the lot records 17 available"
        ),
        lambda L: [f"{ALICE}, order ORD-4: records 2 points refunded, but its lots got 3 back"],
    ),
    Corruption(
        "refunded: a refund row of 1 point more",
        lambda L: [
            (
                "UPDATE point_refunds SET cents = cents + 100 WHERE order_pk = :o",
                {"o": L.order_pk["ORD-4"]},
            )
        ],
        lambda L: f"{ALICE}, order ORD-4: records 2 points refunded, but its refunds add up to 3",
    ),
    Corruption(
        "refunded: an order refunded more than it redeemed",
        lambda L: [
            ("UPDATE point_orders SET refunded = 600 WHERE id = :o", {"o": L.order_pk["ORD-4"]})
        ],
        lambda L: f"{ALICE}, order ORD-4: refunded 6 points, more than the 5 it redeemed",
        lambda L: [f"{ALICE}, order ORD-4: records 6 points refunded, but its refunds add up to 2"],
    ),
    Corruption(
        "redeemed: an order's amount",
        lambda L: [
            ("UPDATE point_orders SET cents = 6100 WHERE id = :o", {"o": L.order_pk["ORD-1"]})
        ],
        lambda L: f"{ALICE}, order ORD-1: redeemed 61 points, but its lots gave 60",
        lambda L: [f"{ALICE}, balance: redeemed 64 points, but their lots gave 63 net of refunds"],
    ),
    Corruption(
        "expired: 1 point less",
        lot("expired", "expired - 100", "alice_r2"),
        lambda L: (
            f"{ALICE}, reward {L.r2}: credited 100 − spent 60 + refunded 20 − expired 59 "
            "− taken back 0 = 1 point, but the lot records 0 available"
        ),
    ),
    Corruption(
        "expired: the refund after the lot's day, not written on it (as before)",
        lot("expired", "expired - 2000", "alice_r2"),
        lambda L: (
            f"{ALICE}, reward {L.r2}: credited 100 − spent 60 + refunded 20 − expired 40 "
            "− taken back 0 = 20 points, but the lot records 0 available"
        ),
    ),
    Corruption(
        "expired: 1 point more, below zero",
        lot("expired", "expired + 100", "alice_r2"),
        lambda L: (
            f"{ALICE}, reward {L.r2}: credited 100 − spent 60 + refunded 20 − expired 61 "
            "− taken back 0 = -1 point: below zero"
        ),
    ),
    Corruption(
        "taken back: 5 points less",
        lot("taken_back", "taken_back - 500", "bob_r1"),
        lambda L: (
            f"{BOB}, reward {L.r1}: credited 50 − spent 30 + refunded 10 − expired 0 − "
            "taken back 25 = 5 points, but the lot records 0 available"
        ),
    ),
    Corruption(
        "taken back: from a reward nobody cancelled",
        lot("taken_back", "500, remaining = 2500", "april_r3"),
        lambda L: (
            f"{APRIL}, reward {L.r3}: 5 points taken back, but the reward is sent, not cancelled"
        ),
    ),
    Corruption(
        "taken back: below zero",
        lot("taken_back", "-100, remaining = 100", "april_r3"),
        lambda L: f"{APRIL}, reward {L.r3}: taken back is -1 point, below zero",
        lambda L: [
            f"{APRIL}, reward {L.r3}: credited 30 − spent 0 + refunded 0 − expired 0 − taken "
            "back -1 = 31 points, but the lot records 1 available"
        ],
    ),
    Corruption(
        "available: 1 point more",
        lot("remaining", "remaining + 100", "april_r3"),
        lambda L: (
            f"{APRIL}, reward {L.r3}: credited 30 − spent 0 + refunded 0 − expired 0 − "
            "taken back 0 = 30 points, but the lot records 31 available"
        ),
        lambda L: [f"{APRIL}, balance: available 31 points, but their lots add up to 30"],
    ),
    Corruption(
        "adjusted: an added adjustment's lot grown by 5 points",
        lot("cents", "cents + 500, remaining = remaining + 500", "bob_added"),
        lambda L: (
            f"{BOB}, adjustment lot #{L.bob_added}: the lot records 25 points credited, but "
            "the adjustment that made it added 20"
        ),
        lambda L: [
            f"{BOB}, adjustment lot #{L.bob_added}: credited 20 − spent 0 + refunded 0 − "
            "expired 0 − taken back 0 − deducted 5 = 15 points, but the lot records 20 available",
            f"{BOB}, balance: available 20 points, but their lots add up to 15",
        ],
    ),
    Corruption(
        "adjusted: a deduction took 1 point more from its lot than it deducted",
        lambda L: [
            (
                "UPDATE point_adjustment_lots SET cents = cents + 100 WHERE adjustment_id = :a",
                {"a": L.bob_deduction},
            )
        ],
        lambda L: (
            f"{BOB}, adjustment lot #{L.bob_added}: credited 20 − spent 0 + refunded 0 − "
            "expired 0 − taken back 0 − deducted 6 = 14 points, but the lot records 15 available"
        ),
        lambda L: [
            f"{BOB}, adjustment #{L.bob_deduction}: deducted 5 points, but its lots gave 6",
            f"{BOB}, balance: available 15 points, but their lots add up to 14",
        ],
    ),
    Corruption(
        "adjusted: points added with no adjustment recorded",
        lambda L: [
            ("UPDATE point_adjustments SET lot_id = NULL WHERE lot_id = :l", {"l": L.bob_added})
        ],
        lambda L: (
            f"{BOB}, adjustment lot #{L.bob_added}: the lot records 20 points credited, but no "
            "adjustment recorded adding them"
        ),
    ),
    Corruption(
        "available: below zero",
        lot("remaining", "-100", "bob_r1"),
        lambda L: f"{BOB}, reward {L.r1}: available is -1 point, below zero",
    ),
]


def test_the_books_of_every_movement_add_up(db: TestDatabase, ledger: Ledger) -> None:
    for today in (TODAY, DAY2):
        checked = books(db, today)
        assert checked.differences == ()
        assert checked.add_up and (checked.lots, checked.people) == (6, 3)


def test_an_empty_ledger_adds_up(db: TestDatabase) -> None:
    checked = books(db)
    assert checked.add_up and (checked.lots, checked.people) == (0, 0)


@pytest.mark.parametrize("corruption", CORRUPTIONS, ids=[c.id for c in CORRUPTIONS])
def test_each_corrupted_term_is_found_and_named(
    db: TestDatabase, ledger: Ledger, corruption: Corruption
) -> None:
    corrupt(db, corruption.sql(ledger))
    checked = books(db)
    found = [str(d) for d in checked.differences]
    assert not checked.add_up
    assert found[0] == corruption.first(ledger), found
    for expected in corruption.also(ledger):
        assert expected in found, found


def test_a_missing_lot_is_a_difference_only_where_points_live_in_the_bot(
    db: TestDatabase, ledger: Ledger
) -> None:
    corrupt(db, [("DELETE FROM point_lots WHERE id = :id", {"id": ledger.april_r3})])
    assert not books(db).add_up
    with db.store.session() as s:
        s.exec(update(SettingValue).where(SettingValue.key == "point_system").values(value="plum"))
    assert books(db).add_up
