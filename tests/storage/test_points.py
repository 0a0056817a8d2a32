"""The bot's own point ledger (StoreFront): credits, redemptions, refunds, expiry, take-backs,
on SQLite and PostgreSQL, including 50 redemptions of one person at once."""

from __future__ import annotations

import threading
from datetime import date, timedelta

import pytest
from sqlalchemy import func
from sqlmodel import select

from storage import audit, point_system, points, rewards
from storage import storefront_secrets as secrets
from storage.db import Store
from storage.models import Member, PointLot, PointOrder
from storage.point_books import check_books
from storage.points import PointsRefused, points_text
from storage.states import PointSystem, RewardStatus, SecretKind
from storage.types import utcnow
from tests.storage.conftest import People

TODAY = utcnow().date()


def give(store: Store, people: People, *pairs: tuple[Member, int], months: int = 12) -> int:
    """A reward delivered into the ledger (claimed and credited in one transaction)."""
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
        assert done.status is RewardStatus.SENT
        assert {r.outcome.value for r in done.recipients} == {"sent"}
        return done.id


def available(store: Store, member: Member, today: date = TODAY) -> int:
    with store.read_session() as s:
        return points.balance(s, member_id=member.id, today=today).available


def redeem(store: Store, member: Member, order: str, cents: int, today: date = TODAY):
    with store.session() as s:
        return points.redeem(s, member_id=member.id, order_id=order, cents=cents, today=today)


def refund(store: Store, member: Member, order: str, cents: int, key: str | None = None):
    with store.session() as s:
        return points.refund(
            s,
            member_id=member.id,
            order_id=order,
            cents=cents,
            refund_key=key or f"{order}:{cents}",
            today=TODAY,
        )


def test_points_text_writes_points_as_xoxoday_does() -> None:
    assert [points_text(c) for c in (70000, 34850, 5, 0, 12345)] == [
        "700",
        "348.5",
        "0.05",
        "0",
        "123.45",
    ]


def test_a_credited_reward_is_sent_and_each_recipient_has_a_lot(
    store: Store, people: People
) -> None:
    reward_id = give(store, people, (people.alice, 100), (people.bob, 50))
    assert available(store, people.alice) == 10000
    assert available(store, people.bob) == 5000
    with store.read_session() as s:
        bal = points.balance(s, member_id=people.alice.id, today=TODAY)
        lots = s.exec(select(PointLot).where(PointLot.reward_id == reward_id)).all()
        short_id = rewards.details_by_id(s, reward_id).short_id
        events = [e for e in audit.events_for(s, subject_type="reward", subject_id=short_id)]
    assert bal.received == 10000 and bal.redeemed == 0
    assert bal.next_expiry == rewards.add_months(TODAY, 12) and bal.expiring == 10000
    assert {lot.expires_on for lot in lots} == {rewards.add_months(TODAY, 12)}
    credited = [e for e in events if e.action == "points.credited"]
    assert len(credited) == 1 and credited[0].after is not None
    assert sorted(c["points"] for c in credited[0].after["credits"]) == ["100", "50"]


def test_a_redemption_takes_the_points_that_expire_first(store: Store, people: People) -> None:
    late = give(store, people, (people.alice, 100), months=12)
    early = give(store, people, (people.alice, 100), months=3)
    done = redeem(store, people.alice, "ORD-1", 15050)  # 150.5 points
    assert done.balance_after == 4950 and not done.repeat
    with store.read_session() as s:
        early_lot = s.exec(select(PointLot).where(PointLot.reward_id == early)).one()
        late_lot = s.exec(select(PointLot).where(PointLot.reward_id == late)).one()
    assert early_lot.remaining == 0
    assert late_lot.remaining == 4950
    assert available(store, people.alice) == 4950


def test_the_same_order_again_answers_the_same_and_debits_once(
    store: Store, people: People
) -> None:
    give(store, people, (people.alice, 100))
    first = redeem(store, people.alice, "ORD-1", 4000)
    again = redeem(store, people.alice, "ORD-1", 4000)
    assert again.repeat and again.balance_after == first.balance_after == 6000
    assert available(store, people.alice) == 6000
    with pytest.raises(PointsRefused) as refused:
        redeem(store, people.alice, "ORD-1", 4100)
    assert refused.value.code == "order_conflict"
    with pytest.raises(PointsRefused):
        redeem(store, people.bob, "ORD-1", 4000)  # someone else's order id
    assert available(store, people.alice) == 6000


def test_a_redemption_never_goes_below_zero(store: Store, people: People) -> None:
    give(store, people, (people.alice, 10))
    with pytest.raises(PointsRefused) as refused:
        redeem(store, people.alice, "ORD-1", 1001)
    assert refused.value.code == "insufficient_points"
    assert "10 available" in refused.value.text and "10.01" in refused.value.text
    assert available(store, people.alice) == 1000
    with store.read_session() as s:
        assert s.exec(select(func.count()).select_from(PointOrder)).one() == 0
    for bad in (0, -5):
        with pytest.raises(PointsRefused):
            redeem(store, people.alice, "ORD-2", bad)


def test_refunds_are_partial_capped_and_idempotent(store: Store, people: People) -> None:
    give(store, people, (people.alice, 100))
    redeem(store, people.alice, "ORD-1", 6000)
    first = refund(store, people.alice, "ORD-1", 2000)
    assert first.balance_after == 6000 and not first.repeat
    again = refund(store, people.alice, "ORD-1", 2000)
    assert again.repeat and available(store, people.alice) == 6000
    with pytest.raises(PointsRefused) as too_much:
        refund(store, people.alice, "ORD-1", 4001, key="second")
    assert too_much.value.code == "refund_too_large"
    assert "20 already refunded" in too_much.value.text
    refund(store, people.alice, "ORD-1", 4000, key="second")
    assert available(store, people.alice) == 10000
    with store.read_session() as s:
        bal = points.balance(s, member_id=people.alice.id, today=TODAY)
    assert bal.redeemed == 0
    with pytest.raises(PointsRefused) as unknown:
        refund(store, people.alice, "ORD-404", 100)
    assert unknown.value.code == "no_order"
    with pytest.raises(PointsRefused):
        refund(store, people.bob, "ORD-1", 100, key="bob")  # not bob's order


def test_points_expire_and_a_late_refund_comes_back_for_a_while(
    store: Store, people: People
) -> None:
    give(store, people, (people.alice, 100), months=1)
    redeem(store, people.alice, "ORD-1", 3000)
    expiry = rewards.add_months(TODAY, 1)
    assert available(store, people.alice, today=expiry - timedelta(days=1)) == 7000
    assert available(store, people.alice, today=expiry) == 0  # gone on its day
    with store.session() as s:
        expired = points.expire_lots(s, today=expiry)
    assert [(e.member_id, e.cents) for e in expired] == [(people.alice.id, 7000)]
    with store.session() as s:
        assert points.expire_lots(s, today=expiry) == []  # once
        back = points.refund(
            s,
            member_id=people.alice.id,
            order_id="ORD-1",
            cents=3000,
            refund_key="r",
            today=expiry,
        )
    assert back.balance_after == 3000
    with store.read_session() as s:
        bal = points.balance(s, member_id=people.alice.id, today=expiry)
    assert bal.available == 3000 and bal.next_expiry == expiry + points.REFUND_GRACE
    with store.read_session() as s:
        lots = s.exec(select(PointLot).order_by(PointLot.id)).all()
    # The refund came back to its lot after the lot's day: it expired there, and a new lot
    # carries it (so each lot's books add up).
    assert [(lot.source, lot.cents, lot.expired, lot.remaining) for lot in lots] == [
        ("reward", 10000, 10000, 0),
        ("refund", 3000, 0, 3000),
    ]


def test_a_cancel_takes_back_only_what_is_left(store: Store, people: People) -> None:
    reward_id = give(store, people, (people.alice, 100), (people.bob, 50))
    redeem(store, people.alice, "ORD-1", 4000)
    with store.session() as s:
        taken = points.take_back_reward(s, reward_id=reward_id)
    assert {(t.member_id, t.cents, t.remaining, t.spent) for t in taken} == {
        (people.alice.id, 10000, 6000, 4000),
        (people.bob.id, 5000, 5000, 0),
    }
    assert available(store, people.alice) == 0 and available(store, people.bob) == 0
    refund(store, people.alice, "ORD-1", 4000)  # a refund after the cancel still comes back
    assert available(store, people.alice) == 4000


def test_the_point_system_is_kept_once_rewards_exist(store: Store, people: People) -> None:
    with store.session() as s:
        assert point_system.settle(s, wanted=PointSystem.STOREFRONT)
    with store.session() as s:
        assert point_system.settle(s, wanted=PointSystem.PLUM)  # no rewards yet: may change
        assert point_system.settle(s, wanted=PointSystem.STOREFRONT)
    give(store, people, (people.alice, 10))
    with store.session() as s, pytest.raises(point_system.PointSystemMismatch) as err:
        point_system.settle(s, wanted=PointSystem.PLUM)
    assert err.value.recorded is PointSystem.STOREFRONT and err.value.rewards == 1
    with store.session() as s:
        assert not point_system.settle(s, wanted=PointSystem.STOREFRONT)
        assert point_system.recorded(s) is PointSystem.STOREFRONT


def test_fifty_redemptions_at_once_never_overdraw(store: Store, people: People) -> None:
    give(store, people, (people.alice, 100))  # 100 points; 50 orders of 7 points each
    outcomes: list[str] = []
    lock = threading.Lock()
    start = threading.Barrier(50)

    def one(n: int) -> None:
        start.wait()
        try:
            redeem(store, people.alice, f"ORD-{n}", 700)
            result = "ok"
        except PointsRefused as err:
            result = err.code
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=one, args=(n,)) for n in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes.count("ok") == 14  # 14 × 7 = 98 ≤ 100 < 105
    assert outcomes.count("insufficient_points") == 36
    assert available(store, people.alice) == 200
    with store.read_session() as s:
        assert s.exec(select(func.sum(PointOrder.cents))).one() == 9800


def test_fifty_repeats_of_one_order_at_once_debit_once(store: Store, people: People) -> None:
    give(store, people, (people.alice, 100))
    start = threading.Barrier(50)
    answers: list[int] = []

    def one() -> None:
        start.wait()
        answers.append(redeem(store, people.alice, "ORD-SAME", 2500).balance_after)

    threads = [threading.Thread(target=one) for _ in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert answers == [7500] * 50
    assert available(store, people.alice) == 7500


def adjust(store: Store, member: Member, cents: int, key: str, today: date = TODAY):
    with store.session() as s:
        return points.adjust(
            s,
            member_id=member.id,
            cents=cents,
            reason="by hand",
            actor="UADMIN",
            request_key=key,
            today=today,
        )


def test_an_adjustment_adds_a_lot_or_deducts_from_the_lots_that_expire_first(
    store: Store, people: People
) -> None:
    give(store, people, (people.alice, 100), months=12)
    give(store, people, (people.alice, 50), months=1)
    added = adjust(store, people.alice, 2000, "a1")
    assert (added.cents, added.balance_after, added.repeat) == (2000, 17000, False)
    deducted = adjust(store, people.alice, -6000, "a2")
    assert (deducted.cents, deducted.balance_after) == (-6000, 11000)
    with store.read_session() as s:
        lots = s.exec(select(PointLot).order_by(PointLot.id)).all()
        events = [
            e.action for e in audit.events_for(s, subject_type="member", subject_id=people.alice.id)
        ]
    # The one-month lot (50) is taken first, then 10 of the twelve-month one.
    assert [(lot.source, lot.cents, lot.remaining) for lot in lots] == [
        ("reward", 10000, 9000),
        ("reward", 5000, 0),
        ("adjustment", 2000, 2000),
    ]
    assert events == ["points.adjusted", "points.adjusted"]
    assert available(store, people.alice) == 11000


def test_a_deduction_never_goes_below_zero_and_a_repeat_adjusts_once(
    store: Store, people: People
) -> None:
    give(store, people, (people.alice, 30))
    with pytest.raises(PointsRefused) as refused:
        adjust(store, people.alice, -3100, "too-much")
    assert refused.value.code == "insufficient_points"
    assert refused.value.text == "Not enough points: 30 available, the deduction needs 31."
    assert available(store, people.alice) == 3000
    first = adjust(store, people.alice, -1000, "once")
    again = adjust(store, people.alice, -1000, "once")
    assert (first.balance_after, again.balance_after, again.repeat) == (2000, 2000, True)
    assert available(store, people.alice) == 2000


def test_deductions_and_redemptions_at_once_never_overdraw(store: Store, people: People) -> None:
    """25 deductions by admins and 25 store orders of one person at once: together they
    never take more than the 100 points there are, and the books add up."""
    give(store, people, (people.alice, 100))  # 50 movements of 7 points each
    outcomes: list[str] = []
    lock = threading.Lock()
    start = threading.Barrier(50)

    def one(n: int) -> None:
        start.wait()
        try:
            if n % 2:
                redeem(store, people.alice, f"ORD-{n}", 700)
            else:
                adjust(store, people.alice, -700, f"adj-{n}")
            result = "ok"
        except PointsRefused as err:
            result = err.code
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=one, args=(n,)) for n in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes.count("ok") == 14  # 14 × 7 = 98 ≤ 100 < 105
    assert outcomes.count("insufficient_points") == 36
    assert available(store, people.alice) == 200
    with store.read_session() as s:
        assert s.exec(select(func.min(PointLot.remaining))).one() >= 0
        assert check_books(s, today=TODAY).add_up


def test_the_stores_figures_on_a_plain_connection_match_the_balance(
    store: Store, people: People
) -> None:
    """What Xoxoday's store is answered (`find_with_figures`: the token, its person and their
    figures in one statement on `one_read`) is the balance's received, redeemed and
    available, on every day: before, on and after an expiry, with a partial refund."""
    give(store, people, (people.alice, 100), months=1)
    give(store, people, (people.alice, 40), months=12)
    redeem(store, people.alice, "ORD-1", 12050)
    refund(store, people.alice, "ORD-1", 2000)
    with store.session() as s:
        alice = secrets.mint(
            s, member_id=people.alice.id, kind=SecretKind.AUTH_TOKEN, lifetime=timedelta(days=900)
        ).raw
        bob = secrets.mint(
            s, member_id=people.bob.id, kind=SecretKind.AUTH_TOKEN, lifetime=timedelta(hours=1)
        ).raw
    expiry = rewards.add_months(TODAY, 1)
    for day in (TODAY, expiry - timedelta(days=1), expiry, expiry + timedelta(days=400)):
        with store.read_session() as s:
            bal = points.balance(s, member_id=people.alice.id, today=day)
        with store.one_read() as conn:
            found = secrets.find_with_figures(
                conn, raw=alice, kind=SecretKind.AUTH_TOKEN, today=day
            )
        assert found is not None
        holder, got = found
        assert (holder.member_id, holder.slack_user_id) == (
            people.alice.id,
            people.alice.slack_user_id,
        )
        assert (got.received, got.redeemed, got.available) == (
            bal.received,
            bal.redeemed,
            bal.available,
        ), day
    assert (got.received, got.redeemed) == (14000, 10050)
    with store.one_read() as conn:
        found = secrets.find_with_figures(conn, raw=bob, kind=SecretKind.AUTH_TOKEN, today=TODAY)
        assert found is not None and found[1].available == 0 and found[1].received == 0
        assert (
            secrets.find_with_figures(conn, raw="nope", kind=SecretKind.AUTH_TOKEN, today=TODAY)
            is None
        )
        link = secrets.find_with_figures(conn, raw=alice, kind=SecretKind.REDEEM_LINK, today=TODAY)
        assert link is None  # a token is not a Redeem link
    with store.session() as s:
        secrets.revoke(s, member_id=people.bob.id, actor="UADMIN")
    with store.one_read() as conn:
        assert (
            secrets.find_with_figures(conn, raw=bob, kind=SecretKind.AUTH_TOKEN, today=TODAY)
            is None
        )
