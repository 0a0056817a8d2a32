"""A point ledger built through the real movements, for the tests of its books
(`storage.point_books`, `rewardbot points verify`), and a way to corrupt it past its CHECKs:
alice, bob and april, three rewards, four store orders (see `build_ledger`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import text
from sqlmodel import select

from storage import point_system, points, rewards
from storage.db import Store
from storage.models import Member, PointLot, PointOrder
from storage.states import LotSource, PointSystem, RewardStatus
from storage.types import utcnow
from tests.storage.conftest import People
from tests.storage.support import TestDatabase

TODAY = utcnow().date()
DAY2 = rewards.add_months(TODAY, 1)  # the day the one-month reward's points expire

ALICE, BOB, APRIL = "alice (UALICE)", "bob (UBOB)", "april (UAPPROVER)"


@dataclass(frozen=True)
class Ledger:
    r1: str  # short ids: alice 100 and bob 50 for 12 months, cancelled later
    r2: str  # alice 100 for one month
    r3: str  # april 30, untouched
    alice_r1: int  # lot ids
    alice_r2: int
    alice_late: int  # the lot a refund after r2's day made
    bob_r1: int
    april_r3: int
    order_pk: dict[str, int]
    bob_added: int  # the lot an admin's +20 for bob made (then 5 deducted from it)
    bob_deduction: int  # the -5's adjustment id


def give(store: Store, people: People, *pairs: tuple[Member, int], months: int) -> tuple[int, str]:
    with store.session() as s:
        created = rewards.create_reward(
            s,
            giver=people.giver,
            recipients=list(pairs),
            citation="shipped it",
            idempotency_key=f"k-{rewards.new_short_id()}",
            channel_id="C1",
            status=RewardStatus.QUEUED,
            expiry_months=months,
        )
        claimed = rewards.claim_for_delivery(s, reward_id=created.reward.id)
        done = points.credit_reward(s, reward_id=claimed.id)
        return done.id, done.short_id


def redeem(store: Store, member: Member, order: str, cents: int, today: date = TODAY) -> None:
    with store.session() as s:
        points.redeem(s, member_id=member.id, order_id=order, cents=cents, today=today)


def refund(store: Store, member: Member, order: str, cents: int, today: date = TODAY) -> None:
    with store.session() as s:
        points.refund(
            s,
            member_id=member.id,
            order_id=order,
            cents=cents,
            refund_key=f"{order}:{cents}",
            today=today,
        )


def build_ledger(store: Store, people: People) -> Ledger:
    """Every movement once; checked as the ledger wrote them."""
    with store.session() as s:
        point_system.settle(s, wanted=PointSystem.STOREFRONT)
    r1, r1_short = give(store, people, (people.alice, 100), (people.bob, 50), months=12)
    redeem(store, people.alice, "ORD-2", 3000)  # from r1 (the only lot yet)
    r2, r2_short = give(store, people, (people.alice, 100), months=1)
    r3, r3_short = give(store, people, (people.approver, 30), months=12)
    redeem(store, people.alice, "ORD-1", 6000)  # from r2, which expires first
    refund(store, people.alice, "ORD-2", 1000)  # back into r1
    redeem(store, people.bob, "ORD-3", 3000)
    with store.session() as s:  # the cancel: take back what is left, as the cancel service does
        points.take_back_reward(s, reward_id=r1, short_id=r1_short, actor="UADMIN")
        rewards.cancel_reward(s, reward_id=r1, actor="UADMIN", reason="given twice")
    refund(store, people.bob, "ORD-3", 1000)  # into the cancelled reward's lot: taken back
    with store.session() as s:
        assert [e.cents for e in points.expire_lots(s, today=DAY2)] == [4000]
    refund(store, people.alice, "ORD-1", 2000, today=DAY2)  # after r2's day: a new lot
    redeem(store, people.alice, "ORD-4", 500, today=DAY2)  # from that new lot
    refund(store, people.alice, "ORD-4", 200, today=DAY2)  # back into it
    with store.read_session() as s:
        lots = s.exec(select(PointLot).order_by(PointLot.id)).all()
        orders = {o.order_id: o.id for o in s.exec(select(PointOrder)).all()}
    by = {(lot.member_id, lot.reward_id): lot for lot in lots}
    late = [lot for lot in lots if lot.source == LotSource.REFUND.value]
    assert len(lots) == 5 and len(late) == 1
    alice_r2 = by[(people.alice.id, r2)]
    # The movements, as the ledger wrote them (what the check must find again).
    assert (alice_r2.cents, alice_r2.expired, alice_r2.remaining) == (10000, 6000, 0)
    assert (late[0].cents, late[0].remaining) == (2000, 1700)
    assert by[(people.bob.id, r1)].taken_back == 3000
    with store.session() as s:  # an admin adds 20 points for bob, then deducts 5 of them
        points.adjust(
            s,
            member_id=people.bob.id,
            cents=2000,
            reason="welcome bonus",
            actor="UADMIN",
            request_key="adj-1",
            today=DAY2,
        )
        points.adjust(
            s,
            member_id=people.bob.id,
            cents=-500,
            reason="typo in the bonus",
            actor="UADMIN",
            request_key="adj-2",
            today=DAY2,
        )
        made = points.recent_adjustments(s, member_id=people.bob.id)
    assert [(a.cents, a.balance_after) for a in made] == [(-500, 1500), (2000, 2000)]
    return Ledger(
        r1=r1_short,
        r2=r2_short,
        r3=r3_short,
        alice_r1=by[(people.alice.id, r1)].id or 0,
        alice_r2=alice_r2.id or 0,
        alice_late=late[0].id or 0,
        bob_r1=by[(people.bob.id, r1)].id or 0,
        april_r3=by[(people.approver.id, r3)].id or 0,
        order_pk={k: v or 0 for k, v in orders.items()},
        bob_added=made[1].lot_id or 0,
        bob_deduction=made[0].id or 0,
    )


Sql = list[tuple[str, dict[str, Any]]]


CHECKS = {
    "point_lots": "ck_point_lots_remaining_in_range",
    "point_orders": "ck_point_orders_refunded_in_range",
}


def corrupt(db: TestDatabase, statements: Sql) -> None:
    """Run `statements` past the CHECK constraints that stand behind the arithmetic (as a
    bug, or someone with database access, could)."""
    with db.engine.connect() as connection:
        if db.backend == "sqlite":
            connection.exec_driver_sql("PRAGMA ignore_check_constraints = ON")
        else:
            for table, name in CHECKS.items():
                connection.exec_driver_sql(f"ALTER TABLE {table} DROP CONSTRAINT IF EXISTS {name}")
        for sql, params in statements:
            connection.execute(text(sql), params)
        connection.commit()
        if db.backend == "sqlite":
            connection.exec_driver_sql("PRAGMA ignore_check_constraints = OFF")
            connection.commit()
