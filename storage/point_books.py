"""Do the bot's point books add up? (`rewardbot points verify`, the `points-verify` job.)

`check_books` reads the StoreFront point ledger (`storage.points`) and returns every place
where it does not add up. Each term comes from the record of its movement, never from the
`remaining` column it checks:

- credited: a reward's lot from the reward's recipient row (`points`, delivered or cancelled
  since); a late refund's lot from the `points.refunded` audit event that made it;
- spent and refunded: the lot's `point_order_lots` rows (what each order took from it and what
  came back to it);
- expired and taken back: the lot's own `expired` and `taken_back` (a refund that comes back
  after the lot's day expires in it; one into a cancelled reward's lot is taken back);
- adjusted: an admin's added points credit an `adjustment` lot (its `point_adjustments` row);
  a deduction takes from lots (its `point_adjustment_lots` rows), each deduction's parts adding
  up to what it deducted.

For every lot, credited − spent + refunded − expired − taken back − deducted must equal its
`remaining`,
with no term and no result below zero; points are taken back only from a cancelled reward's
lot. For every order, its lots gave what it redeemed, and its refunds (the refund rows, and what
its lots got back) add up to what it records as refunded, never more than it redeemed. For every
person, the balance Xoxoday's store reads (`storage.points.balance`: received, redeemed,
available) must match their lots. In a StoreFront ledger every delivered recipient has a lot.

It only reads; run it in one snapshot (`read_session(engine, snapshot=True)`) so the tables it
adds up are seen at one instant. Amounts are hundredths of a point, shown as points.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any, Protocol

from sqlalchemy import func
from sqlmodel import Session, col, select

from storage import point_system
from storage.audit import AuditAction
from storage.models import (
    AuditEvent,
    Member,
    PointAdjustment,
    PointAdjustmentLot,
    PointLot,
    PointOrder,
    PointOrderLot,
    PointRefund,
    Reward,
    RewardRecipient,
)
from storage.points import CENTS, balance, points_text
from storage.states import LotSource, PointSystem, RecipientOutcome, RewardStatus

DELIVERED = (RecipientOutcome.SENT.value, RecipientOutcome.CANCELLED.value)


def _pts(cents: int) -> str:
    """Cents as points with their unit: "1 point", "0.5 points", "348.5 points"."""
    return f"{points_text(cents)} point" + ("" if abs(cents) == CENTS else "s")


class _Differ(Protocol):
    def __call__(self, member_id: int, subject: str, problem: str) -> None: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class Difference:
    """One place where the books do not add up: whose, which lot or order, and the numbers."""

    member_id: int
    person: str  # "alice (U012AB)"
    subject: str  # "reward R7K2Q9", "refund lot #12", "order 1234", "balance"
    problem: str  # the numbers, in points

    def __str__(self) -> str:
        return f"{self.person}, {self.subject}: {self.problem}"


@dataclass(frozen=True, slots=True, kw_only=True)
class LotBooks:
    """One lot's terms, each from its own record; `derived` is what should be available."""

    lot_id: int
    member_id: int
    subject: str
    credited: int
    spent: int
    refunded: int
    expired: int
    taken_back: int
    remaining: int  # the column checked
    deducted: int = 0  # what admins' deductions took from it
    live: bool  # counts in today's balance (no expiry, or not yet its day)
    from_reward: bool

    @property
    def derived(self) -> int:
        return (
            self.credited
            - self.spent
            + self.refunded
            - self.expired
            - self.taken_back
            - self.deducted
        )

    def sum_text(self) -> str:
        p = points_text
        adjusted = f" − deducted {p(self.deducted)}" if self.deducted else ""
        return (
            f"credited {p(self.credited)} − spent {p(self.spent)} + refunded "
            f"{p(self.refunded)} − expired {p(self.expired)} − taken back "
            f"{p(self.taken_back)}{adjusted} = {_pts(self.derived)}"
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Books:
    lots: int  # lots checked
    people: int  # people who hold them (or orders)
    differences: tuple[Difference, ...]

    @property
    def add_up(self) -> bool:
        return not self.differences


def check_books(session: Session, *, today: date) -> Books:
    """Every difference in the point ledger, person by person (in member id order): their
    lots, then their orders, then their balance. `today` decides which lots the balance
    counts (as `storage.points.balance` does); it changes nothing else."""
    lots = list(session.exec(select(PointLot).order_by(col(PointLot.id))).all())
    orders = list(session.exec(select(PointOrder).order_by(col(PointOrder.id))).all())
    by_lot = _order_lot_sums(session, col(PointOrderLot.lot_id))
    by_order = _order_lot_sums(session, col(PointOrderLot.order_pk))
    refunds = {
        int(pk): int(total)
        for pk, total in session.exec(
            select(PointRefund.order_pk, func.sum(PointRefund.cents)).group_by(
                col(PointRefund.order_pk)
            )
        ).all()
    }
    rewards = _rewards_of(session, {lot.reward_id for lot in lots if lot.reward_id is not None})
    recipients = _recipients(session)
    regranted = _late_refund_lots(session)
    cross = _lots_of_others(session)
    adjustments = list(session.exec(select(PointAdjustment).order_by(col(PointAdjustment.id))))
    added = {a.lot_id: a for a in adjustments if a.lot_id is not None}
    deducted = _deducted(session)
    storefront = point_system.recorded(session) is PointSystem.STOREFRONT

    people: dict[int, list[Difference]] = {}
    member_ids = {lot.member_id for lot in lots} | {order.member_id for order in orders}
    member_ids |= {a.member_id for a in adjustments}
    if storefront:
        member_ids |= {m for (_, m), (_, outcome) in recipients.items() if outcome in DELIVERED}
    names = _names(session, member_ids)

    def differ(member_id: int, subject: str, problem: str) -> None:
        people.setdefault(member_id, []).append(
            Difference(
                member_id=member_id,
                person=names.get(member_id, f"member {member_id}"),
                subject=subject,
                problem=problem,
            )
        )

    books: dict[int, list[LotBooks]] = {}
    held: set[tuple[int, int]] = set()
    for lot in lots:
        assert lot.id is not None
        reward = rewards.get(lot.reward_id) if lot.reward_id is not None else None
        from_reward = lot.source == LotSource.REWARD.value
        from_adjustment = lot.source == LotSource.ADJUSTMENT.value
        if reward is not None:
            subject = f"reward {reward.short_id}"
        elif from_adjustment:
            subject = f"adjustment lot #{lot.id}"
        else:
            subject = f"refund lot #{lot.id}"
        if lot.reward_id is not None:
            held.add((lot.reward_id, lot.member_id))
        if from_reward and lot.reward_id is not None:
            recipient = recipients.get((lot.reward_id, lot.member_id))
            credited = _credited_by_reward(lot, recipient=recipient, subject=subject, differ=differ)
        elif from_adjustment:
            credited = _credited_by_adjustment(
                lot, made=added.get(lot.id), subject=subject, differ=differ
            )
        else:
            credited = _credited_by_refund(
                lot, made=regranted.get(lot.id), subject=subject, differ=differ
            )
        spent, refunded = by_lot.get(lot.id, (0, 0))
        terms = LotBooks(
            lot_id=lot.id,
            member_id=lot.member_id,
            subject=subject,
            credited=credited,
            spent=spent,
            refunded=refunded,
            expired=lot.expired,
            taken_back=lot.taken_back,
            remaining=lot.remaining,
            deducted=deducted.by_lot.get(lot.id, 0),
            live=lot.expires_on is None or lot.expires_on > today,
            from_reward=from_reward,
        )
        books.setdefault(lot.member_id, []).append(terms)
        _check_lot(terms, reward=reward, differ=differ)

    if storefront:
        missing = sorted(
            (key, points)
            for key, (points, outcome) in recipients.items()
            if outcome in DELIVERED and key not in held
        )
        shorts = _short_ids(session, {reward_id for (reward_id, _), _ in missing})
        for (reward_id, member_id), points in missing:
            differ(
                member_id,
                f"reward {shorts.get(reward_id, reward_id)}",
                f"was delivered to them ({_pts(points * CENTS)}), but no lot holds those points",
            )

    for made in adjustments:
        _check_adjustment(made, parts=deducted.by_adjustment.get(made.id or 0, 0), differ=differ)

    for order in orders:
        assert order.id is not None
        _check_order(
            order,
            took=by_order.get(order.id, (0, 0)),
            refund_rows=refunds.get(order.id, 0),
            others=cross.get(order.id, ()),
            names=names,
            differ=differ,
        )

    for member_id in sorted(member_ids):
        _check_balance(
            session,
            member_id=member_id,
            lots=books.get(member_id, []),
            today=today,
            differ=differ,
        )

    ordered = tuple(d for member_id in sorted(people) for d in people[member_id])
    return Books(lots=len(lots), people=len(member_ids), differences=ordered)


# --- the terms ------------------------------------------------------------------------------


def _order_lot_sums(session: Session, key: Any) -> dict[int, tuple[int, int]]:
    rows = session.exec(
        select(key, func.sum(PointOrderLot.cents), func.sum(PointOrderLot.refunded)).group_by(key)
    ).all()
    return {int(k): (int(spent), int(back)) for k, spent, back in rows}


@dataclass(frozen=True, slots=True)
class _Deducted:
    by_lot: dict[int, int]  # lot id -> cents deductions took from it
    by_adjustment: dict[int, int]  # adjustment id -> cents its parts took


def _deducted(session: Session) -> _Deducted:
    by_lot: dict[int, int] = {}
    by_adjustment: dict[int, int] = {}
    rows = session.exec(
        select(
            PointAdjustmentLot.adjustment_id, PointAdjustmentLot.lot_id, PointAdjustmentLot.cents
        )
    ).all()
    for adjustment_id, lot_id, cents in rows:
        by_lot[int(lot_id)] = by_lot.get(int(lot_id), 0) + int(cents)
        by_adjustment[int(adjustment_id)] = by_adjustment.get(int(adjustment_id), 0) + int(cents)
    return _Deducted(by_lot=by_lot, by_adjustment=by_adjustment)


def _rewards_of(session: Session, reward_ids: set[int]) -> dict[int, Reward]:
    if not reward_ids:
        return {}
    found = session.exec(select(Reward).where(col(Reward.id).in_(reward_ids))).all()
    return {r.id: r for r in found if r.id is not None}


def _short_ids(session: Session, reward_ids: set[int]) -> dict[int, str]:
    if not reward_ids:
        return {}
    rows = session.exec(
        select(Reward.id, Reward.short_id).where(col(Reward.id).in_(list(reward_ids)))
    ).all()
    return {int(i): s for i, s in rows if i is not None}


def _recipients(session: Session) -> dict[tuple[int, int], tuple[int, str]]:
    """(reward id, member id) -> (points, outcome) of every recipient."""
    rows = session.exec(
        select(
            RewardRecipient.reward_id,
            RewardRecipient.member_id,
            RewardRecipient.points,
            RewardRecipient.outcome,
        )
    ).all()
    return {(int(r), int(m)): (int(p), str(o)) for r, m, p, o in rows}


def _late_refund_lots(session: Session) -> dict[int, int]:
    """Lot id -> cents of each lot a refund made (its points came back after their lot's
    day), as the refund's audit event recorded it."""
    events = session.exec(
        select(AuditEvent.after)
        .where(AuditEvent.subject_type == "point_order")
        .where(AuditEvent.action == AuditAction.POINTS_REFUNDED.value)
    ).all()
    made: dict[int, int] = {}
    for after in events:
        given = after.get("to_lots") if isinstance(after, Mapping) else None
        for part in given if isinstance(given, list) else []:
            if not isinstance(part, Mapping) or part.get("new_lot") is not True:
                continue
            lot_id, cents = part.get("lot"), _cents_of(part.get("points"))
            if isinstance(lot_id, int) and cents is not None:
                made[lot_id] = made.get(lot_id, 0) + cents
    return made


def _cents_of(text: object) -> int | None:
    """Points as `points_text` writes them ("348.5") in cents (34850); None for anything else."""
    if not isinstance(text, str):
        return None
    try:
        amount = Decimal(text) * CENTS
    except InvalidOperation:
        return None
    return int(amount) if amount.is_finite() and amount == int(amount) else None


def _lots_of_others(session: Session) -> dict[int, tuple[tuple[int, int], ...]]:
    """Order pk -> (lot id, its owner) for order-lot rows whose lot is not the order's
    person's."""
    rows = session.exec(
        select(PointOrderLot.order_pk, PointLot.id, PointLot.member_id)
        .join(PointLot, col(PointLot.id) == col(PointOrderLot.lot_id))
        .join(PointOrder, col(PointOrder.id) == col(PointOrderLot.order_pk))
        .where(col(PointLot.member_id) != col(PointOrder.member_id))
    ).all()
    out: dict[int, tuple[tuple[int, int], ...]] = {}
    for order_pk, lot_id, owner in rows:
        out[int(order_pk)] = (*out.get(int(order_pk), ()), (int(lot_id or 0), int(owner)))
    return out


def _names(session: Session, member_ids: set[int]) -> dict[int, str]:
    if not member_ids:
        return {}
    found = session.exec(select(Member).where(col(Member.id).in_(member_ids))).all()
    out = {}
    for member in found:
        assert member.id is not None
        uid = member.slack_user_id
        out[member.id] = uid if member.name == uid else f"{member.name} ({uid})"
    return out


# --- the checks -----------------------------------------------------------------------------


def _credited_by_reward(
    lot: PointLot, *, recipient: tuple[int, str] | None, subject: str, differ: _Differ
) -> int:
    """What the reward's recipient row says the lot was credited (the lot's own `cents` when
    there is no such row, which is itself a difference)."""
    if recipient is None:
        differ(
            lot.member_id,
            subject,
            f"the lot records {_pts(lot.cents)} credited, but they are not a "
            "recipient of this reward",
        )
        return lot.cents
    points, outcome = recipient
    credited = points * CENTS
    if outcome not in DELIVERED:
        differ(
            lot.member_id,
            subject,
            f"the lot holds {points_text(lot.cents)} credited points, but the reward was never "
            f"delivered to them ({outcome.replace('_', ' ')})",
        )
    if lot.cents != credited:
        differ(
            lot.member_id,
            subject,
            f"the lot records {_pts(lot.cents)} credited, but the reward gave "
            f"them {points_text(credited)}",
        )
    return credited


def _credited_by_refund(lot: PointLot, *, made: int | None, subject: str, differ: _Differ) -> int:
    if made is None:
        differ(
            lot.member_id,
            subject,
            f"the lot records {_pts(lot.cents)} credited, but no refund recorded making it",
        )
        return lot.cents
    if lot.cents != made:
        differ(
            lot.member_id,
            subject,
            f"the lot records {_pts(lot.cents)} credited, but the refund that "
            f"made it gave {points_text(made)}",
        )
    return made


def _credited_by_adjustment(
    lot: PointLot, *, made: PointAdjustment | None, subject: str, differ: _Differ
) -> int:
    if made is None or made.cents <= 0:
        differ(
            lot.member_id,
            subject,
            f"the lot records {_pts(lot.cents)} credited, but no adjustment recorded adding them",
        )
        return lot.cents
    if made.member_id != lot.member_id or lot.cents != made.cents:
        differ(
            lot.member_id,
            subject,
            f"the lot records {_pts(lot.cents)} credited, but the adjustment that "
            f"made it added {points_text(made.cents)}",
        )
    return made.cents


def _check_adjustment(made: PointAdjustment, *, parts: int, differ: _Differ) -> None:
    subject = f"adjustment #{made.id}"
    if made.cents < 0 and parts != -made.cents:
        differ(
            made.member_id,
            subject,
            f"deducted {_pts(-made.cents)}, but its lots gave {points_text(parts)}",
        )
    if made.cents > 0 and (parts or made.lot_id is None):
        differ(
            made.member_id,
            subject,
            f"added {_pts(made.cents)}, but "
            + ("took points from lots" if parts else "no lot holds them"),
        )


def _check_lot(terms: LotBooks, *, reward: Reward | None, differ: _Differ) -> None:
    below = [
        (name, value)
        for name, value in (
            ("credited", terms.credited),
            ("spent", terms.spent),
            ("refunded", terms.refunded),
            ("expired", terms.expired),
            ("taken back", terms.taken_back),
            ("available", terms.remaining),
        )
        if value < 0
    ]
    for name, value in below:
        differ(terms.member_id, terms.subject, f"{name} is {_pts(value)}, below zero")
    if terms.derived < 0:
        differ(terms.member_id, terms.subject, f"{terms.sum_text()}: below zero")
    elif terms.derived != terms.remaining:
        differ(
            terms.member_id,
            terms.subject,
            f"{terms.sum_text()}, but the lot records {points_text(terms.remaining)} available",
        )
    if terms.refunded > terms.spent:
        differ(
            terms.member_id,
            terms.subject,
            f"refunded {_pts(terms.refunded)}, more than the "
            f"{points_text(terms.spent)} spent from it",
        )
    if terms.taken_back > 0:
        if reward is None:
            differ(
                terms.member_id,
                terms.subject,
                f"{_pts(terms.taken_back)} taken back from a refund's lot, which no cancel does",
            )
        elif reward.status != RewardStatus.CANCELLED.value:
            differ(
                terms.member_id,
                terms.subject,
                f"{_pts(terms.taken_back)} taken back, but the reward is "
                f"{reward.status.replace('_', ' ')}, not cancelled",
            )


def _check_order(
    order: PointOrder,
    *,
    took: tuple[int, int],
    refund_rows: int,
    others: tuple[tuple[int, int], ...],
    names: Mapping[int, str],
    differ: _Differ,
) -> None:
    p = points_text
    subject = f"order {order.order_id}"
    spent, back = took
    if order.refunded < 0:
        differ(order.member_id, subject, f"refunded is {_pts(order.refunded)}, below zero")
    if order.refunded > order.cents:
        differ(
            order.member_id,
            subject,
            f"refunded {_pts(order.refunded)}, more than the {p(order.cents)} it redeemed",
        )
    if spent != order.cents:
        differ(
            order.member_id,
            subject,
            f"redeemed {_pts(order.cents)}, but its lots gave {p(spent)}",
        )
    if refund_rows != order.refunded:
        differ(
            order.member_id,
            subject,
            f"records {_pts(order.refunded)} refunded, but its refunds add up to {p(refund_rows)}",
        )
    if back != order.refunded:
        differ(
            order.member_id,
            subject,
            f"records {_pts(order.refunded)} refunded, but its lots got {p(back)} back",
        )
    for lot_id, owner in others:
        differ(
            order.member_id,
            subject,
            f"took points from lot #{lot_id}, which is "
            f"{names.get(owner, f'member {owner}')}'s, not theirs",
        )


def _check_balance(
    session: Session,
    *,
    member_id: int,
    lots: list[LotBooks],
    today: date,
    differ: _Differ,
) -> None:
    """The figures the store's balance call answers, against the person's lots."""
    p = points_text
    shown = balance(session, member_id=member_id, today=today)
    received = sum(lot.credited for lot in lots if lot.from_reward)
    redeemed = sum(lot.spent - lot.refunded for lot in lots)
    available = sum(lot.derived for lot in lots if lot.live)
    if shown.received != received:
        differ(
            member_id,
            "balance",
            f"received {_pts(shown.received)}, but their rewards credited {p(received)}",
        )
    if shown.redeemed != redeemed:
        differ(
            member_id,
            "balance",
            f"redeemed {_pts(shown.redeemed)}, but their lots gave {p(redeemed)} net of refunds",
        )
    if shown.available != available:
        differ(
            member_id,
            "balance",
            f"available {_pts(shown.available)}, but their lots add up to {p(available)}",
        )
