"""The bot's own point system (StoreFront): credits, redemptions, refunds, expiry, take-backs.

Amounts are whole hundredths of a point ("cents"). A person's points are lots (`PointLot`), one
per delivered reward, each with its expiry; a redemption takes from the lots that expire first
and records which (`PointOrderLot`), so a refund gives back to those lots and a cancel takes
back only what is left of its reward's lots.

Every change is one transaction with its audit event, made while holding the person's row
(`FOR UPDATE` on PostgreSQL; on SQLite the transaction's `BEGIN IMMEDIATE` already lets one
writer in, so no statement is spent on it), so two redemptions at once never both spend the
same points, and no balance goes below zero (a CHECK stands behind the arithmetic). A lot
counts until the day before its `expires_on`.

A redemption, what Xoxoday's store waits on at checkout, is kept to few statements, built once
and run on the session's connection: the order looked up, the person's live lots read (as
rows, not ORM objects), the order inserted, one UPDATE per lot it takes from, its
`PointOrderLot` rows in one INSERT, and the audit event (its chain's head read, then
inserted). A balance is two statements.

Each movement is written on the lot it touches, so every lot's books add up: credited
(`cents`) − spent (its `PointOrderLot.cents`) + refunded (their `refunded`) − `expired` −
`taken_back` = `remaining`. `storage.point_books` checks that.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import bindparam, func, or_, update
from sqlmodel import Session, col, select

from storage import audit
from storage._sql import dialect_name
from storage.audit import SYSTEM, AuditAction
from storage.errors import StorageError
from storage.models import (
    Member,
    PointAdjustment,
    PointAdjustmentLot,
    PointLot,
    PointOrder,
    PointOrderLot,
    PointRefund,
    Reward,
)
from storage.reward_views import details_by_id
from storage.rewards import RewardDetails, record_delivery
from storage.states import LotSource, RewardStatus
from storage.transitions import add_months
from storage.types import utcnow

CENTS = 100
# Points a refund gives back after the lot they came from expired: usable this long.
REFUND_GRACE = timedelta(days=30)
CREDITED_MESSAGE = "Credited to the company's point system."


def points_text(cents: int) -> str:
    """Cents as Xoxoday writes points: "700", "348.5", "0.05"."""
    whole, part = divmod(abs(cents), CENTS)
    sign = "-" if cents < 0 else ""
    if part == 0:
        return f"{sign}{whole}"
    return f"{sign}{whole}.{part:02d}".rstrip("0")


def points_value(cents: int) -> int | Decimal:
    """Cents as a number of points: an int when whole, else a Decimal such as 348.5."""
    if cents % CENTS == 0:
        return cents // CENTS
    return (Decimal(cents) / CENTS).quantize(Decimal("0.01")).normalize()


class PointsRefused(StorageError):
    """A redemption or refund the ledger will not make; nothing changed. `text` says why in
    words Xoxoday's store can show."""

    def __init__(self, text: str, *, code: str) -> None:
        super().__init__(text)
        self.text = text
        self.code = code


@dataclass(frozen=True, slots=True)
class PointBalance:
    received: int  # cents credited by rewards, ever
    redeemed: int  # cents spent in the store, net of refunds
    available: int  # cents that can be spent today
    next_expiry: date | None  # the earliest day some of the available points expire
    expiring: int  # cents that expire on that day


@dataclass(frozen=True, slots=True)
class PointFigures:
    received: int  # cents credited by rewards, ever
    redeemed: int  # cents spent in the store, net of refunds
    available: int  # cents that can be spent today


@dataclass(frozen=True, slots=True)
class Redeemed:
    order_id: str
    cents: int
    balance_after: int
    repeat: bool  # the same redemption was already recorded: nothing changed now


@dataclass(frozen=True, slots=True)
class Refunded:
    order_id: str
    cents: int
    balance_after: int
    repeat: bool


@dataclass(frozen=True, slots=True)
class RewardPoints:
    """One recipient's points from one reward: credited, left to spend, spent."""

    member_id: int
    cents: int
    remaining: int

    @property
    def spent(self) -> int:
        return self.cents - self.remaining


@dataclass(frozen=True, slots=True)
class Expired:
    member_id: int
    cents: int
    lots: tuple[int, ...]


def hold_member(session: Session, member_id: int) -> None:
    """Take the person's row for the rest of the transaction (see the module doc): `FOR
    UPDATE` on PostgreSQL. SQLite's transactions hold the database's write lock from their
    `BEGIN IMMEDIATE`, so there is nothing to take (a person who is not there fails the
    foreign keys of whatever is written for them)."""
    if dialect_name(session) != "postgresql":
        return
    query = select(Member.id).where(Member.id == member_id).with_for_update()
    if session.exec(query).first() is None:
        raise PointsRefused("That person is not known here.", code="unknown_person")


def _live(today: date) -> Any:
    return or_(col(PointLot.expires_on).is_(None), col(PointLot.expires_on) > today)


# What a redemption and a balance run, built once (bound per call) and executed on the
# session's connection: Xoxoday's store waits on them at checkout, and building a statement
# costs more than running it.
_LOTS = PointLot.__table__  # type: ignore[attr-defined]
_ORDERS = PointOrder.__table__  # type: ignore[attr-defined]
_ORDER_LOTS = PointOrderLot.__table__  # type: ignore[attr-defined]
_LIVE = or_(_LOTS.c.expires_on.is_(None), _LOTS.c.expires_on > bindparam("today"))
_ORDER_BY_ID = select(_ORDERS.c.member_id, _ORDERS.c.cents, _ORDERS.c.balance_after).where(
    _ORDERS.c.order_id == bindparam("order_id")
)
# The lots in the order redemptions use them: the ones that expire first, then the oldest.
_SPENDABLE = (
    select(_LOTS.c.id, _LOTS.c.remaining)
    .where(_LOTS.c.member_id == bindparam("member_id"))
    .where(_LOTS.c.remaining > 0)
    .where(_LIVE)
    .order_by(_LOTS.c.expires_on.is_(None), _LOTS.c.expires_on, _LOTS.c.id)
)
_INSERT_ORDER = _ORDERS.insert().returning(_ORDERS.c.id)
_SPEND_LOT = (
    _LOTS.update()
    .where(_LOTS.c.id == bindparam("lot"))
    .values(
        remaining=_LOTS.c.remaining - bindparam("take"),
        updated_at=bindparam("now", type_=_LOTS.c.updated_at.type),
    )
)
_INSERT_ORDER_LOTS = _ORDER_LOTS.insert()


def figure_columns(member_id: Any) -> tuple[Any, Any, Any]:
    """Received, redeemed and available (on the day bound as `today`) of the person
    `member_id` (a bound parameter, or a column of an enclosing query), as scalar subqueries."""
    received = (
        select(func.coalesce(func.sum(_LOTS.c.cents), 0))
        .where(_LOTS.c.member_id == member_id)
        .where(_LOTS.c.source == LotSource.REWARD.value)
        .scalar_subquery()
    )
    redeemed = (
        select(func.coalesce(func.sum(_ORDERS.c.cents - _ORDERS.c.refunded), 0))
        .where(_ORDERS.c.member_id == member_id)
        .scalar_subquery()
    )
    available = (
        select(func.coalesce(func.sum(_LOTS.c.remaining), 0))
        .where(_LOTS.c.member_id == member_id)
        .where(_LOTS.c.remaining > 0)
        .where(_LIVE)
        .scalar_subquery()
    )
    return received, redeemed, available


_RECEIVED, _REDEEMED, _AVAILABLE = figure_columns(bindparam("member_id"))
_TOTALS = select(_RECEIVED, _REDEEMED)
_LIVE_BY_DAY = (
    select(_LOTS.c.expires_on, func.sum(_LOTS.c.remaining))
    .where(_LOTS.c.member_id == bindparam("member_id"))
    .where(_LOTS.c.remaining > 0)
    .where(_LIVE)
    .group_by(_LOTS.c.expires_on)
)


# --- credits ----------------------------------------------------------------------------------


def credit_reward(session: Session, *, reward_id: int) -> RewardDetails:
    """A claimed (`sending`) reward is delivered into the ledger: sent, and one lot per
    recipient with the reward's expiry, in the caller's transaction."""
    record_delivery(
        session, reward_id=reward_id, outcome=RewardStatus.SENT, message=CREDITED_MESSAGE
    )
    # The claim loaded the recipients into this session before their outcomes were updated
    # in SQL: read them again.
    session.expire_all()
    done = details_by_id(session, reward_id)
    now = utcnow()
    lots = []
    for line in done.recipients:
        hold_member(session, line.recipient.member_id)
        expires_on = (
            add_months(now.date(), done.reward.expiry_months) if done.reward.expiry_months else None
        )
        lot = PointLot(
            member_id=line.recipient.member_id,
            reward_id=done.id,
            source=LotSource.REWARD.value,
            cents=line.points * CENTS,
            remaining=line.points * CENTS,
            expires_on=expires_on,
            created_at=now,
            updated_at=now,
        )
        session.add(lot)
        lots.append(lot)
    session.flush()
    audit.append(
        session,
        actor=SYSTEM,
        action=AuditAction.POINTS_CREDITED,
        subject_type="reward",
        subject_id=done.short_id,
        after={
            "credits": [
                {"member_id": lot.member_id, "points": points_text(lot.cents), "lot": lot.id}
                for lot in lots
            ],
            "expires_on": lots[0].expires_on if lots else None,
        },
    )
    return done


# --- reading ----------------------------------------------------------------------------------


def balance(session: Session, *, member_id: int, today: date) -> PointBalance:
    """Two statements: the totals (received, redeemed) and the live lots by expiry day."""
    session.flush()  # anything the caller changed through the ORM counts
    conn = session.connection()
    totals = conn.execute(_TOTALS, {"member_id": member_id}).one()
    by_day = conn.execute(_LIVE_BY_DAY, {"member_id": member_id, "today": today}).all()
    available = sum(int(cents) for _, cents in by_day)
    dated = [(day, int(cents)) for day, cents in by_day if day is not None]
    next_expiry = min((day for day, _ in dated), default=None)
    expiring = sum(cents for day, cents in dated if day == next_expiry)
    return PointBalance(
        received=int(totals[0]),
        redeemed=int(totals[1]),
        available=available,
        next_expiry=next_expiry,
        expiring=expiring,
    )


def reward_points(session: Session, *, reward_id: int) -> list[RewardPoints]:
    """What each recipient of a reward got in the ledger and has left of it."""
    lots = session.exec(
        select(PointLot).where(PointLot.reward_id == reward_id).order_by(col(PointLot.id))
    ).all()
    return [RewardPoints(lot.member_id, lot.cents, lot.remaining) for lot in lots]


def find_order(session: Session, *, order_id: str) -> PointOrder | None:
    return session.exec(select(PointOrder).where(PointOrder.order_id == order_id)).first()


def recent_orders(session: Session, *, member_id: int, limit: int = 5) -> list[PointOrder]:
    return list(
        session.exec(
            select(PointOrder)
            .where(PointOrder.member_id == member_id)
            .order_by(col(PointOrder.created_at).desc(), col(PointOrder.id).desc())
            .limit(limit)
        ).all()
    )


# --- redemptions and refunds ------------------------------------------------------------------


def redeem(
    session: Session,
    *,
    member_id: int,
    order_id: str,
    cents: int,
    today: date,
    token_id: int | None = None,
    details: Mapping[str, Any] | None = None,
) -> Redeemed:
    """Debit `cents` for Xoxoday's order `order_id`, from the lots that expire first.

    The same order again (same person, same amount) answers as the first time and debits
    nothing; the same order id with another amount or person is refused. Raises PointsRefused
    (nothing changed) when the points are not there."""
    if cents <= 0:
        raise PointsRefused("The amount to redeem must be more than 0.", code="bad_amount")
    hold_member(session, member_id)
    conn = session.connection()
    known = conn.execute(_ORDER_BY_ID, {"order_id": order_id}).first()
    if known is not None:
        known_member, known_cents, known_after = known
        if known_member == member_id and known_cents == cents:
            return Redeemed(order_id, cents, known_after, repeat=True)
        if known_member != member_id:  # someone else's: say nothing about it
            raise PointsRefused(
                f"Order id {order_id} is already used; a new order needs a new id.",
                code="order_conflict",
            )
        raise PointsRefused(
            f"Order {order_id} was already redeemed for {points_text(known_cents)} points; "
            "a different amount under the same order id is refused.",
            code="order_conflict",
        )
    lots = conn.execute(_SPENDABLE, {"member_id": member_id, "today": today}).all()
    available = sum(remaining for _, remaining in lots)
    if cents > available:
        raise PointsRefused(
            f"Not enough points: {points_text(available)} available, the order needs "
            f"{points_text(cents)}.",
            code="insufficient_points",
        )
    now = utcnow()
    kept = audit.jsonable(dict(details)) if details else None
    order_pk = conn.execute(
        _INSERT_ORDER,
        {
            "order_id": order_id,
            "member_id": member_id,
            "cents": cents,
            "refunded": 0,
            "token_id": token_id,
            "details": kept,
            "balance_after": available - cents,
            "created_at": now,
            "updated_at": now,
        },
    ).scalar_one()
    left, taken, parts = cents, [], []
    for lot_id, remaining in lots:
        if left == 0:
            break
        take = min(remaining, left)
        conn.execute(_SPEND_LOT, {"lot": lot_id, "take": take, "now": now})
        parts.append({"order_pk": order_pk, "lot_id": lot_id, "cents": take, "refunded": 0})
        taken.append({"lot": lot_id, "points": points_text(take)})
        left -= take
    conn.execute(_INSERT_ORDER_LOTS, parts)
    audit.append(
        session,
        actor="xoxoday",
        action=AuditAction.POINTS_REDEEMED,
        subject_type="point_order",
        subject_id=order_id,
        after={
            "member_id": member_id,
            "points": points_text(cents),
            "from_lots": taken,
            "balance_after": points_text(available - cents),
            "details": kept,
        },
    )
    return Redeemed(order_id, cents, available - cents, repeat=False)


def refund(
    session: Session,
    *,
    member_id: int,
    order_id: str,
    cents: int,
    refund_key: str,
    today: date,
    comments: str | None = None,
) -> Refunded:
    """Give back `cents` of order `order_id` to the lots it took from (the longest-lived
    first; points whose lot has expired since expire there and come back in a new lot for
    REFUND_GRACE; points of a reward cancelled since are taken back, as the cancel took what
    was left then). Partial refunds add up to at most what the order redeemed; the same
    refund again (same `refund_key`) answers as the first time. Raises PointsRefused (nothing
    changed) otherwise."""
    if cents <= 0:
        raise PointsRefused("The amount to refund must be more than 0.", code="bad_amount")
    hold_member(session, member_id)
    order = find_order(session, order_id=order_id)
    if order is None or order.id is None or order.member_id != member_id:
        raise PointsRefused(f"There is no order {order_id} for this person.", code="no_order")
    done = session.exec(select(PointRefund).where(PointRefund.refund_key == refund_key)).first()
    if done is not None:
        return Refunded(order_id, done.cents, done.balance_after, repeat=True)
    if order.refunded + cents > order.cents:
        already = f" ({points_text(order.refunded)} already refunded)" if order.refunded else ""
        raise PointsRefused(
            f"A refund of {points_text(cents)} points is more than order {order_id} redeemed: "
            f"{points_text(order.cents)}{already}.",
            code="refund_too_large",
        )
    rows = session.exec(
        select(PointOrderLot, PointLot)
        .join(PointLot, col(PointLot.id) == col(PointOrderLot.lot_id))
        .where(PointOrderLot.order_pk == order.id)
        .order_by(col(PointLot.expires_on).is_(None).desc(), col(PointLot.expires_on).desc())
    ).all()
    now = utcnow()
    cancelled = _cancelled_rewards(session, [lot.reward_id for _, lot in rows])
    left, given, lapsed = cents, [], 0
    for part, lot in rows:
        if left == 0:
            break
        back = min(part.cents - part.refunded, left)
        if back <= 0:
            continue
        session.exec(
            update(PointOrderLot)
            .where(col(PointOrderLot.order_pk) == part.order_pk)
            .where(col(PointOrderLot.lot_id) == part.lot_id)
            .values(refunded=PointOrderLot.refunded + back)
        )
        if lot.reward_id in cancelled:  # the cancel would have taken them back: it does now
            _change_lot(session, lot, remaining=0, taken_back=back)
            given.append({"lot": lot.id, "points": points_text(back), "taken_back": True})
        elif lot.expires_on is not None and lot.expires_on <= today:
            # Back after the lot's day: they expire in it as they arrive, and a new lot
            # carries them for REFUND_GRACE (below), so every lot's books still add up.
            _change_lot(session, lot, remaining=0, expired=back)
            given.append({"lot": lot.id, "points": points_text(back), "expired": True})
            lapsed += back
        else:
            _change_lot(session, lot, remaining=back)
            given.append({"lot": lot.id, "points": points_text(back)})
        left -= back
    if lapsed:
        lot = PointLot(
            member_id=member_id,
            source=LotSource.REFUND.value,
            cents=lapsed,
            remaining=lapsed,
            expires_on=today + REFUND_GRACE,
            created_at=now,
            updated_at=now,
        )
        session.add(lot)
        session.flush()
        given.append({"lot": lot.id, "points": points_text(lapsed), "new_lot": True})
    after = balance(session, member_id=member_id, today=today).available
    session.exec(
        update(PointOrder)
        .where(col(PointOrder.id) == order.id)
        .values(refunded=PointOrder.refunded + cents, updated_at=now)
    )
    session.add(
        PointRefund(
            refund_key=refund_key,
            order_pk=order.id,
            cents=cents,
            balance_after=after,
            comments=comments,
            created_at=now,
        )
    )
    session.flush()
    audit.append(
        session,
        actor="xoxoday",
        action=AuditAction.POINTS_REFUNDED,
        subject_type="point_order",
        subject_id=order_id,
        after={
            "member_id": member_id,
            "points": points_text(cents),
            "to_lots": given,
            "refunded_in_all": points_text(order.refunded + cents),
            "balance_after": points_text(after),
        },
        reason=comments or None,
    )
    return Refunded(order_id, cents, after, repeat=False)


# --- adjustments by an admin -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Adjusted:
    cents: int  # added (> 0) or deducted (< 0)
    balance_after: int
    repeat: bool  # the same request was already recorded: nothing changed now


def adjust(
    session: Session,
    *,
    member_id: int,
    cents: int,
    reason: str,
    actor: str,
    request_key: str,
    today: date,
    expires_on: date | None = None,
) -> Adjusted:
    """An admin adds (`cents` > 0: a new lot expiring on `expires_on`) or deducts (`cents` <
    0: from the lots that expire first, as a redemption takes them) points by hand, with a
    reason, audited, in the caller's transaction. Holding the person's row as a redemption
    does, so a deduction and a redemption at once never both spend the same points. The same
    `request_key` again answers as the first time. Raises PointsRefused (nothing changed)
    when a deduction is more than the person has available (`code` "insufficient_points")."""
    if cents == 0:
        raise PointsRefused("An adjustment must add or deduct some points.", code="bad_amount")
    hold_member(session, member_id)
    done = session.exec(
        select(PointAdjustment).where(PointAdjustment.request_key == request_key)
    ).first()
    if done is not None:
        return Adjusted(done.cents, done.balance_after, repeat=True)
    now = utcnow()
    conn = session.connection()
    lots = conn.execute(_SPENDABLE, {"member_id": member_id, "today": today}).all()
    available = sum(int(remaining) for _, remaining in lots)
    if -cents > available:
        raise PointsRefused(
            f"Not enough points: {points_text(available)} available, the deduction needs "
            f"{points_text(-cents)}.",
            code="insufficient_points",
        )
    row = PointAdjustment(
        request_key=request_key,
        member_id=member_id,
        cents=cents,
        reason=reason,
        actor=actor,
        balance_after=available + cents,
        created_at=now,
    )
    moved: list[dict[str, Any]] = []
    if cents > 0:
        lot = PointLot(
            member_id=member_id,
            source=LotSource.ADJUSTMENT.value,
            cents=cents,
            remaining=cents,
            expires_on=expires_on,
            created_at=now,
            updated_at=now,
        )
        session.add(lot)
        session.flush()
        row.lot_id = lot.id
        session.add(row)
        session.flush()
        moved.append({"lot": lot.id, "points": points_text(cents), "new_lot": True})
    else:
        session.add(row)
        session.flush()
        left = -cents
        for lot_id, remaining in lots:
            if left == 0:
                break
            take = min(int(remaining), left)
            _move_lot(session, int(lot_id), remaining=-take, now=now)
            session.add(
                PointAdjustmentLot(adjustment_id=row.id or 0, lot_id=int(lot_id), cents=take)
            )
            moved.append({"lot": int(lot_id), "points": points_text(take)})
            left -= take
        session.flush()
    audit.append(
        session,
        actor=actor,
        action=AuditAction.POINTS_ADJUSTED,
        subject_type="member",
        subject_id=member_id,
        after={
            "adjustment": row.id,
            "points": points_text(cents),
            "lots": moved,
            "balance_after": points_text(available + cents),
        },
        reason=reason,
    )
    return Adjusted(cents, available + cents, repeat=False)


def recent_adjustments(
    session: Session, *, member_id: int, limit: int = 10
) -> list[PointAdjustment]:
    """A person's latest adjustments, newest first (for their history)."""
    return list(
        session.exec(
            select(PointAdjustment)
            .where(PointAdjustment.member_id == member_id)
            .order_by(col(PointAdjustment.created_at).desc(), col(PointAdjustment.id).desc())
            .limit(limit)
        ).all()
    )


# --- expiry and take-backs --------------------------------------------------------------------


def expire_lots(session: Session, *, today: date) -> list[Expired]:
    """Points left in lots whose day has come expire (each person's in one audit event)."""
    lots = session.exec(
        select(PointLot)
        .where(PointLot.remaining > 0)
        .where(col(PointLot.expires_on).is_not(None))
        .where(col(PointLot.expires_on) <= today)
        .order_by(col(PointLot.member_id), col(PointLot.id))
    ).all()
    by_member: dict[int, list[PointLot]] = {}
    for lot in lots:
        by_member.setdefault(lot.member_id, []).append(lot)
    out = []
    for member_id, own in by_member.items():
        hold_member(session, member_id)
        cents = 0
        for lot in own:
            session.refresh(lot)
            if lot.remaining <= 0:
                continue
            cents += lot.remaining
            _change_lot(session, lot, remaining=-lot.remaining, expired=lot.remaining)
        if cents:
            audit.append(
                session,
                actor=SYSTEM,
                action=AuditAction.POINTS_EXPIRED,
                subject_type="member",
                subject_id=member_id,
                after={"points": points_text(cents), "lots": [lot.id for lot in own]},
            )
            out.append(Expired(member_id, cents, tuple(lot.id or 0 for lot in own)))
    return out


def take_back_reward(
    session: Session, *, reward_id: int, short_id: str = "", actor: str = SYSTEM
) -> list[RewardPoints]:
    """A cancelled reward's points that are not spent leave its lots (in the caller's
    transaction, beside the cancel's own event); returns what each recipient had and had
    left (now taken back)."""
    lots = session.exec(
        select(PointLot).where(PointLot.reward_id == reward_id).order_by(col(PointLot.id))
    ).all()
    out = []
    for lot in lots:
        hold_member(session, lot.member_id)
        session.refresh(lot)
        before = lot.remaining
        if before:
            _change_lot(session, lot, remaining=-before, taken_back=before)
        out.append(RewardPoints(lot.member_id, lot.cents, before))
    if out:
        audit.append(
            session,
            actor=actor,
            action=AuditAction.POINTS_TAKEN_BACK,
            subject_type="reward",
            subject_id=short_id or reward_id,
            after={
                "taken_back": [
                    {
                        "member_id": t.member_id,
                        "points": points_text(t.remaining),
                        "already_spent": points_text(t.spent),
                    }
                    for t in out
                ]
            },
        )
    return out


def _cancelled_rewards(session: Session, reward_ids: Sequence[int | None]) -> set[int]:
    """Which of these rewards were cancelled (their lots keep no points a refund gives back)."""
    wanted = {r for r in reward_ids if r is not None}
    if not wanted:
        return set()
    rows = session.exec(
        select(Reward.id)
        .where(col(Reward.id).in_(wanted))
        .where(Reward.status == RewardStatus.CANCELLED.value)
    ).all()
    return {r for r in rows if r is not None}


def _change_lot(
    session: Session, lot: PointLot, *, remaining: int, expired: int = 0, taken_back: int = 0
) -> None:
    """Move a loaded lot's amounts (`_move_lot`) and read it again, so the session's copy
    says what the ledger holds."""
    _move_lot(session, lot.id or 0, remaining=remaining, expired=expired, taken_back=taken_back)
    session.refresh(lot)


def _move_lot(
    session: Session,
    lot_id: int,
    *,
    remaining: int,
    expired: int = 0,
    taken_back: int = 0,
    now: Any = None,
) -> None:
    """Move a lot's amounts with one UPDATE of relative values (the CHECK guards the result)."""
    values: dict[str, Any] = {
        "remaining": PointLot.remaining + remaining,
        "updated_at": now or utcnow(),
    }
    if expired:
        values["expired"] = PointLot.expired + expired
    if taken_back:
        values["taken_back"] = PointLot.taken_back + taken_back
    session.execute(update(PointLot).where(col(PointLot.id) == lot_id).values(**values))


def lot_totals(session: Session, member_ids: Sequence[int], *, today: date) -> dict[int, int]:
    """Cents available today for each of these people (for lists and summaries)."""
    if not member_ids:
        return {}
    rows = session.exec(
        select(PointLot.member_id, func.sum(PointLot.remaining))
        .where(col(PointLot.member_id).in_(member_ids))
        .where(PointLot.remaining > 0)
        .where(_live(today))
        .group_by(col(PointLot.member_id))
    ).all()
    return {int(m): int(c) for m, c in rows}
