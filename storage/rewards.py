"""Rewards: creation (idempotent per Slack request) and every step of a reward's life.

Each step is a compare-and-set (`storage.transitions`) that appends its audit event in the
caller's transaction; the loser of a race gets `AlreadyDecided` carrying the current status.
Read models and lookups live in `storage.reward_views` and are re-exported here.
"""

from __future__ import annotations

import secrets
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, update
from sqlmodel import Session, col, select

from storage import audit, reports
from storage._sql import dialect_name, insert_for, member_id
from storage.audit import SYSTEM, AuditAction
from storage.errors import (
    AlreadyDecided,
    MemberNotFound,
    NotPermitted,
    RewardNotFound,
    StorageError,
)
from storage.models import Member, OnceKey, Reward, RewardRecipient, RewardValue
from storage.reward_views import (
    CreatedReward,
    RecipientDetails,
    RecipientResult,
    RewardDetails,
    details_by_id,
    get_reward,
    get_reward_by_idempotency_key,
    get_reward_by_short_id,
    load_details,
    normalize_short_id,
)
from storage.states import RecipientOutcome, ReportStatus, RewardSource, RewardStatus
from storage.transitions import (
    add_months,
    expiry_date,
    set_recipient_outcomes,
    status_event,
    transition,
)
from storage.types import utcnow

__all__ = [  # the read models and lookups are part of this module's API too
    "CreatedReward",
    "Delivered",
    "RecipientDetails",
    "RecipientResult",
    "RewardDetails",
    "add_months",
    "cancel_reward",
    "claim_for_delivery",
    "claim_many",
    "claim_next_queued",
    "count_deferred",
    "create_reward",
    "defer_delivery",
    "due_queued",
    "expire_pending",
    "get_reward",
    "get_reward_by_idempotency_key",
    "get_reward_by_short_id",
    "hold_queued",
    "insert_reward",
    "load_details",
    "mark_stale_sending_in_doubt",
    "normalize_short_id",
    "record_cancel_refused",
    "record_deliveries",
    "record_delivery",
    "release_deferred",
    "sending_claimants",
    "settle_in_doubt",
]

SHORT_ID_ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"  # no 0/O, 1/I/L, U
SHORT_ID_LENGTH = 6
MAX_VALUE_LENGTH = 64

S = RewardStatus


# ----------------------------------------------------------------------------- creation


def new_short_id() -> str:
    return "".join(secrets.choice(SHORT_ID_ALPHABET) for _ in range(SHORT_ID_LENGTH))


def normalize_values(values: Iterable[str]) -> list[str]:
    out: list[str] = []
    for raw in values:
        value = raw.strip().lstrip("#").lower()
        if not value:
            continue
        if len(value) > MAX_VALUE_LENGTH:
            raise ValueError(f"a value may have at most {MAX_VALUE_LENGTH} characters")
        if value not in out:
            out.append(value)
    return out


def _check_points(points: object) -> int:
    if isinstance(points, bool) or not isinstance(points, int) or points <= 0:
        raise ValueError(f"points must be a positive whole number, got {points!r}")
    return points


def create_reward(
    session: Session,
    *,
    giver: Member | int,
    recipients: Sequence[tuple[Member | int, int]],
    citation: str,
    idempotency_key: str,
    source: RewardSource | str = RewardSource.COMMAND,
    channel_id: str | None = None,
    values: Iterable[str] = (),
    public: bool = True,
    status: RewardStatus | str = RewardStatus.QUEUED,
    expiry_months: int | None = None,
    held_until: datetime | None = None,
) -> CreatedReward:
    """Record a reward (queued, or pending approval) once per idempotency key. With
    `held_until`, the delivery worker does not send it before then (the undo window).

    A second call with the same key returns the first reward with `created=False` and changes
    nothing, whatever else it passes.
    """
    reward_id, created = insert_reward(
        session,
        giver=giver,
        recipients=recipients,
        citation=citation,
        idempotency_key=idempotency_key,
        source=source,
        channel_id=channel_id,
        values=values,
        public=public,
        status=status,
        expiry_months=expiry_months,
        held_until=held_until,
    )
    return CreatedReward(reward=details_by_id(session, reward_id), created=created)


def insert_reward(
    session: Session,
    *,
    giver: Member | int,
    recipients: Sequence[tuple[Member | int, int]],
    citation: str,
    idempotency_key: str,
    source: RewardSource | str = RewardSource.COMMAND,
    channel_id: str | None = None,
    values: Iterable[str] = (),
    public: bool = True,
    status: RewardStatus | str = RewardStatus.QUEUED,
    expiry_months: int | None = None,
    held_until: datetime | None = None,
) -> tuple[int, bool]:
    """`create_reward` without reading the reward back: its id, and whether it was created
    now (False: the key was used before). For many rewards in one transaction."""
    status = RewardStatus(status)
    source = RewardSource(source)
    if status not in (S.QUEUED, S.PENDING_APPROVAL):
        raise ValueError("a new reward is queued or pending_approval")
    if not idempotency_key or len(idempotency_key) > 255:
        raise ValueError("idempotency_key must be 1 to 255 characters")
    if not citation or not citation.strip():
        raise ValueError("a reward needs a citation")
    if expiry_months is not None and not 1 <= expiry_months <= 120:
        raise ValueError("expiry_months must be between 1 and 120")
    if not recipients:
        raise ValueError("a reward needs at least one recipient")
    giver_id = member_id(giver)
    points_by_member: dict[int, int] = {}
    for who, points in recipients:
        mid = member_id(who)
        if mid in points_by_member:
            raise ValueError("a recipient appears twice")
        if mid == giver_id:
            raise NotPermitted("nobody can reward themselves")
        points_by_member[mid] = _check_points(points)
    clean_values = normalize_values(values)

    audit.lock_chain(session)
    earlier = _id_of_key(session, idempotency_key)
    if earlier is not None:
        return earlier, False
    people = _members(session, [giver_id, *points_by_member])
    now = utcnow()
    row: dict[str, Any] = {
        "idempotency_key": idempotency_key,
        "giver_id": giver_id,
        "channel_id": channel_id,
        "source": source.value,
        "citation": citation,
        "public": bool(public),
        "status": status.value,
        "total_points": sum(points_by_member.values()),
        "expiry_months": expiry_months,
        "held_until": held_until,
        "created_at": now,
        "queued_at": now if status == S.QUEUED else None,
        "updated_at": now,
    }
    reward_id = None
    for _ in range(10):
        short_id = new_short_id()
        stmt = insert_for(session, Reward).values(short_id=short_id, **row)
        reward_id = session.exec(stmt.on_conflict_do_nothing().returning(Reward.id)).scalar()
        if reward_id is not None:
            break
        earlier = _id_of_key(session, idempotency_key)
        if earlier is not None:  # a concurrent request with the same key won
            return earlier, False
    if reward_id is None:
        raise StorageError("could not find a free short id; try again")
    session.add_all(
        RewardRecipient(
            reward_id=reward_id,
            member_id=mid,
            giver_id=giver_id,
            channel_id=channel_id,
            points=points,
            outcome=RecipientOutcome.PENDING.value,
            updated_at=now,
        )
        for mid, points in points_by_member.items()
    )
    session.add_all(RewardValue(reward_id=reward_id, value=v) for v in clean_values)
    session.flush()
    audit.append(
        session,
        actor=people[giver_id].slack_user_id,
        action=AuditAction.REWARD_CREATED,
        subject_type="reward",
        subject_id=short_id,
        after={
            "status": status,
            "giver": people[giver_id].slack_user_id,
            "recipients": [
                {"member": people[mid].slack_user_id, "points": p}
                for mid, p in points_by_member.items()
            ],
            "total_points": row["total_points"],
            "citation": citation,
            "values": clean_values,
            "source": source,
            "channel_id": channel_id,
            "public": bool(public),
            "idempotency_key": idempotency_key,
            **({"held_until": held_until.isoformat()} if held_until is not None else {}),
        },
    )
    return reward_id, True


def _id_of_key(session: Session, idempotency_key: str) -> int | None:
    return session.exec(select(Reward.id).where(Reward.idempotency_key == idempotency_key)).first()


def _members(session: Session, ids: Sequence[int]) -> dict[int, Member]:
    found = {
        m.id: m
        for m in session.exec(select(Member).where(Member.id.in_(list(ids)))).all()  # type: ignore[union-attr]
    }
    for mid in ids:
        if mid not in found:
            raise MemberNotFound(mid)
    return found  # type: ignore[return-value]


# ----------------------------------------------------------------------------- steps


def claim_for_delivery(
    session: Session,
    *,
    reward_id: int,
    claimed_by: str | None = None,
    batch: str | None = None,
) -> RewardDetails:
    """queued → sending for one reward; AlreadyDecided if another worker (or admin) won.
    `batch`: the sendBalance call it goes out in, with others (kept on the reward)."""
    # A reward sent alone names no call (a call it was in before, since settled, is not this).
    values: dict[str, Any] = {"claimed_by": claimed_by, "send_batch": batch}
    after: dict[str, Any] = {"claimed_by": claimed_by}
    if batch is not None:
        after["send_batch"] = batch
    before, old, _ = transition(
        session, reward_id=reward_id, expected={S.QUEUED}, new=S.SENDING, values=values
    )
    status_event(session, before, old, S.SENDING, after=after)
    return details_by_id(session, reward_id)


def claim_many(
    session: Session, *, reward_ids: Sequence[int], claimed_by: str | None, batch: str | None
) -> list[RewardDetails]:
    """`claim_for_delivery` for the rewards of one call, in the order given; a reward another
    worker (or an admin) took meanwhile is left out."""
    values: dict[str, Any] = {"claimed_by": claimed_by, "send_batch": batch}
    after: dict[str, Any] = {"claimed_by": claimed_by}
    if batch is not None:
        after["send_batch"] = batch
    claimed: list[Reward] = []
    for reward_id in reward_ids:
        try:
            before, old, _ = transition(
                session, reward_id=reward_id, expected={S.QUEUED}, new=S.SENDING, values=values
            )
        except AlreadyDecided:
            continue
        status_event(session, before, old, S.SENDING, after=after)
        claimed.append(before)
    rows = {
        r.id: r
        for r in session.exec(
            select(Reward)
            .where(col(Reward.id).in_([r.id for r in claimed]))
            .execution_options(populate_existing=True)
        ).all()
    }
    return load_details(session, [rows[r.id] for r in claimed])


def due_queued(session: Session, *, limit: int) -> list[RewardDetails]:
    """The oldest queued rewards that are due (not waiting for a retry, nor held for their undo
    window), up to `limit`, oldest first, for the caller to claim some of them
    (`claim_for_delivery`) in this transaction. On PostgreSQL their rows are locked until it
    ends, and rows another worker holds are skipped."""
    audit.lock_chain(session)
    now = utcnow()
    due = or_(col(Reward.next_attempt_at).is_(None), col(Reward.next_attempt_at) <= now)
    released = or_(col(Reward.held_until).is_(None), col(Reward.held_until) <= now)
    query = (
        select(Reward)
        .where(Reward.status == S.QUEUED.value)
        .where(due)
        .where(released)
        .order_by(Reward.queued_at, Reward.id)  # type: ignore[arg-type]
        .limit(max(1, limit))
        .execution_options(populate_existing=True)
    )
    if dialect_name(session) == "postgresql":
        query = query.with_for_update(skip_locked=True)
    return load_details(session, list(session.exec(query).all()))


def claim_next_queued(session: Session, *, claimed_by: str | None = None) -> RewardDetails | None:
    """The oldest queued reward that is due (not waiting for a retry, nor held for its undo
    window), now `sending`; None when nothing is due.

    Commit right after this call and before talking to Plum, so that a crash leaves the reward
    in `sending` (which `mark_stale_sending_in_doubt` turns into `in_doubt`).
    """
    audit.lock_chain(session)
    now = utcnow()
    due = or_(col(Reward.next_attempt_at).is_(None), col(Reward.next_attempt_at) <= now)
    released = or_(col(Reward.held_until).is_(None), col(Reward.held_until) <= now)
    query = (
        select(Reward.id)
        .where(Reward.status == S.QUEUED.value)
        .where(due)
        .where(released)
        .order_by(Reward.queued_at, Reward.id)  # type: ignore[arg-type]
        .limit(1)
    )
    if dialect_name(session) == "postgresql":
        query = query.with_for_update(skip_locked=True)
    reward_id = session.exec(query).first()
    if reward_id is None:
        return None
    return claim_for_delivery(session, reward_id=reward_id, claimed_by=claimed_by)


_DELIVERY_OUTCOMES = {
    S.SENT: RecipientOutcome.SENT,
    S.FAILED: RecipientOutcome.FAILED,
    S.IN_DOUBT: RecipientOutcome.IN_DOUBT,
}


def record_delivery(
    session: Session,
    *,
    reward_id: int,
    outcome: RewardStatus | str,
    recipients: Sequence[RecipientResult] = (),
    response: Mapping[str, Any] | None = None,
    message: str | None = None,
    actor: str = SYSTEM,
) -> RewardDetails:
    """sending → sent | failed | in_doubt, with what Plum answered (overall and per recipient).

    `response` is a summary of Plum's answer (no secrets: sendBalance returns none). For `sent`
    the recipients' `expires_on` is set from `expiry_months`.
    """
    _record_delivery(
        session,
        Delivered(reward_id, RewardStatus(outcome), tuple(recipients), response, message),
        actor=actor,
    )
    return details_by_id(session, reward_id)


@dataclass(frozen=True, slots=True)
class Delivered:
    """How one reward's send ended (`record_deliveries`)."""

    reward_id: int
    outcome: RewardStatus
    recipients: tuple[RecipientResult, ...] = ()
    response: Mapping[str, Any] | None = None
    message: str | None = None


def record_deliveries(
    session: Session, delivered: Sequence[Delivered], *, actor: str = SYSTEM
) -> list[RewardDetails]:
    """`record_delivery` for the rewards of one call, in one transaction; their details read
    once, in the order given."""
    for one in delivered:
        _record_delivery(session, one, actor=actor)
    rows = {
        r.id: r
        for r in session.exec(
            select(Reward)
            .where(col(Reward.id).in_([d.reward_id for d in delivered]))
            .execution_options(populate_existing=True)
        ).all()
    }
    return load_details(session, [rows[d.reward_id] for d in delivered])


def _record_delivery(session: Session, delivered: Delivered, *, actor: str) -> None:
    reward_id, outcome, recipients = delivered.reward_id, delivered.outcome, delivered.recipients
    response, message = delivered.response, delivered.message
    outcome = RewardStatus(outcome)
    if outcome not in _DELIVERY_OUTCOMES:
        raise ValueError("a delivery ends sent, failed or in_doubt")
    response_json = audit.jsonable(response) if response is not None else None
    before, old, now = transition(
        session,
        reward_id=reward_id,
        expected={S.SENDING},
        new=outcome,
        values={"delivery_message": message, "delivery_response": response_json},
    )
    summary = set_recipient_outcomes(
        session,
        reward=before,
        default=_DELIVERY_OUTCOMES[outcome],
        results=recipients,
        now=now,
        expires_on=expiry_date(before, now),
    )
    status_event(
        session,
        before,
        old,
        outcome,
        actor=actor,
        after={"recipients": summary, "message": message, "response": response_json},
    )


def defer_delivery(
    session: Session,
    *,
    reward_id: int,
    message: str,
    next_attempt_at: datetime,
    retry_until: datetime,
    response: Mapping[str, Any] | None = None,
) -> RewardDetails:
    """sending → queued: the send provably never reached Xoxoday, so it is tried again at
    `next_attempt_at`. `retry_until` is kept from the first deferral (the first call sets it)."""
    response_json = audit.jsonable(response) if response is not None else None
    current = session.get(Reward, reward_id, populate_existing=True)
    if current is None:
        raise RewardNotFound(reward_id)
    until = current.retry_until or retry_until
    before, old, _ = transition(
        session,
        reward_id=reward_id,
        expected={S.SENDING},
        new=S.QUEUED,
        stamp_step=False,
        values={
            "attempts": (current.attempts or 0) + 1,
            "next_attempt_at": next_attempt_at,
            "retry_until": until,
            "delivery_message": message,
            "delivery_response": response_json,
            "claimed_by": None,
        },
    )
    status_event(
        session,
        before,
        old,
        S.QUEUED,
        reason=message,
        after={
            "attempt": (before.attempts or 0) + 1,
            "next_attempt_at": next_attempt_at.isoformat(),
            "retry_until": until.isoformat(),
            "response": response_json,
        },
    )
    return details_by_id(session, reward_id)


def hold_queued(session: Session, *, until: datetime, retry_until: datetime) -> list[RewardDetails]:
    """While Xoxoday is known to be unreachable: every queued reward that is due waits until
    `until` without being tried (it stays `queued`; `retry_until` is kept when set). Returns
    the rewards held for the first time (never tried), whose givers have not heard yet."""
    due = session.exec(
        select(Reward.id, Reward.attempts)
        .where(Reward.status == S.QUEUED.value)
        .where(Reward.next_attempt_at.is_(None))  # type: ignore[union-attr]
    ).all()
    if not due:
        return []
    ids = [reward_id for reward_id, _ in due]
    session.exec(
        update(Reward)
        .where(Reward.id.in_(ids))  # type: ignore[union-attr]
        .where(Reward.status == S.QUEUED.value)  # type: ignore[arg-type]
        .values(
            next_attempt_at=until,
            retry_until=func.coalesce(Reward.retry_until, retry_until),
        )
        .execution_options(synchronize_session=False)
    )
    return [
        details_by_id(session, _stored(reward_id)) for reward_id, attempts in due if not attempts
    ]


def release_deferred(session: Session) -> int:
    """Every reward waiting for a retry is due now (Xoxoday answered again); how many."""
    result = session.exec(
        update(Reward)
        .where(Reward.status == S.QUEUED.value)  # type: ignore[arg-type]
        .where(Reward.next_attempt_at.is_not(None))  # type: ignore[union-attr]
        .values(next_attempt_at=None)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)


def count_deferred(session: Session) -> int:
    """Queued rewards waiting for Xoxoday (tried and not taken, or held while it is down)."""
    waiting = or_(col(Reward.attempts) > 0, col(Reward.next_attempt_at).is_not(None))
    return int(
        session.exec(
            select(func.count())
            .select_from(Reward)
            .where(Reward.status == S.QUEUED.value)
            .where(waiting)
        ).one()
    )


def cancel_reward(
    session: Session,
    *,
    reward_id: int,
    actor: str,
    reason: str,
    recipients: Sequence[RecipientResult] = (),
    response: Mapping[str, Any] | None = None,
) -> RewardDetails:
    """pending_approval | queued | sent → cancelled (for `sent`, after Plum's cancelBalance)."""
    if not reason or not reason.strip():
        raise ValueError("a cancellation needs a reason")
    response_json = audit.jsonable(response) if response is not None else None
    before, old, now = transition(
        session,
        reward_id=reward_id,
        expected={S.PENDING_APPROVAL, S.QUEUED, S.SENT},
        new=S.CANCELLED,
        values={"cancel_reason": reason, "cancelled_by": actor},
    )
    summary = set_recipient_outcomes(
        session,
        reward=before,
        default=RecipientOutcome.CANCELLED if old == S.SENT else RecipientOutcome.NOT_SENT,
        results=recipients,
        now=now,
        only_from={RecipientOutcome.PENDING, RecipientOutcome.SENT},
    )
    status_event(
        session,
        before,
        old,
        S.CANCELLED,
        actor=actor,
        action=AuditAction.REWARD_CANCELLED,
        reason=reason,
        after={"recipients": summary, "response": response_json},
    )
    done = details_by_id(session, reward_id)
    # A report waiting on this reward is decided by its cancel, in the same transaction.
    reports.decide_report(
        session, reward=done, to=ReportStatus.CANCELLED, actor=actor, reason=reason
    )
    return done


def record_cancel_refused(
    session: Session,
    *,
    reward_id: int,
    actor: str,
    reason: str,
    message: str,
    response: Mapping[str, Any] | None = None,
) -> None:
    """Plum refused a cancelBalance (too old, already redeemed): audit it, change nothing."""
    audit.lock_chain(session)
    reward = session.get(Reward, reward_id)
    if reward is None:
        raise RewardNotFound(reward_id)
    audit.append(
        session,
        actor=actor,
        action=AuditAction.REWARD_CANCEL_REFUSED,
        subject_type="reward",
        subject_id=reward.short_id,
        before={"status": reward.status},
        after={"status": reward.status, "message": message, "response": response},
        reason=reason,
    )


def cancel_refusals(session: Session, *, short_id: str) -> dict[str, str]:
    """What Xoxoday said, by the unique id of the transaction, each time it refused to cancel
    this reward's points (the latest answer for each id), as `record_cancel_refused` kept it."""
    said: dict[str, str] = {}
    for event in audit.events_for(session, subject_type="reward", subject_id=short_id):
        if event.action != AuditAction.REWARD_CANCEL_REFUSED.value:
            continue
        response = (event.after or {}).get("response")
        rows = response.get("recipients") if isinstance(response, Mapping) else None
        for row in rows if isinstance(rows, list) else []:
            if isinstance(row, Mapping) and not row.get("success") and row.get("message"):
                said[str(row.get("unique_id"))] = str(row["message"])
    return said


def settle_in_doubt(
    session: Session,
    *,
    reward_id: int,
    outcome: RewardStatus | str,
    actor: str,
    reason: str | None = None,
    recipients: Sequence[RecipientResult] = (),
) -> RewardDetails:
    """An admin's verdict on an in-doubt reward: in_doubt → sent | failed."""
    outcome = RewardStatus(outcome)
    if outcome not in (S.SENT, S.FAILED):
        raise ValueError("an in-doubt reward is settled as sent or failed")
    before, old, now = transition(
        session,
        reward_id=reward_id,
        expected={S.IN_DOUBT},
        new=outcome,
        values={"settled_by": actor},
        stamp=("settled_at",),
    )
    summary = set_recipient_outcomes(
        session,
        reward=before,
        default=_DELIVERY_OUTCOMES[outcome],
        results=recipients,
        now=now,
        expires_on=expiry_date(before, before.sending_at or now),
    )
    status_event(
        session,
        before,
        old,
        outcome,
        actor=actor,
        action=AuditAction.REWARD_SETTLED,
        reason=reason,
        after={"recipients": summary},
    )
    return details_by_id(session, reward_id)


def requeue_in_doubt(session: Session, *, reward_id: int, actor: str, reason: str) -> RewardDetails:
    """in_doubt → queued: Xoxoday's own records prove the send was not applied, so it is sent
    again (recipients back to pending, a fresh retry window). AlreadyDecided when someone
    settled it first."""
    current = session.get(Reward, reward_id, populate_existing=True)
    if current is None:
        raise RewardNotFound(reward_id)
    before, old, now = transition(
        session,
        reward_id=reward_id,
        expected={S.IN_DOUBT},
        new=S.QUEUED,
        stamp_step=False,
        values={
            "next_attempt_at": None,
            "retry_until": None,
            "delivery_message": reason,
            "delivery_response": None,
            "claimed_by": None,
        },
    )
    summary = set_recipient_outcomes(
        session,
        reward=before,
        default=RecipientOutcome.PENDING,
        results=(),
        now=now,
        only_from={RecipientOutcome.IN_DOUBT},
    )
    status_event(
        session, before, old, S.QUEUED, actor=actor, reason=reason, after={"recipients": summary}
    )
    return details_by_id(session, reward_id)


def mark_stale_sending_in_doubt(
    session: Session,
    *,
    older_than: timedelta | None = None,
    abandoned_by: Collection[str] = (),
    reason: str = "the bot stopped while sending; the outcome is unknown",
) -> list[RewardDetails]:
    """Every reward left in `sending` becomes `in_doubt` (run at start-up); returns them.

    With several processes sharing PostgreSQL, pass `older_than` (longer than any send can
    take) so a starting process does not touch another process's send in flight; sends
    claimed by a process in `abandoned_by` (known to be gone) are taken whatever their age.
    """
    audit.lock_chain(session)
    query = select(Reward.id).where(Reward.status == S.SENDING.value)
    if older_than is not None:
        stale = col(Reward.sending_at) < utcnow() - older_than
        if abandoned_by:
            stale = or_(stale, col(Reward.claimed_by).in_(list(abandoned_by)))
        query = query.where(stale)
    changed: list[int] = []
    for found in session.exec(query.order_by(col(Reward.id))).all():
        reward_id = _stored(found)
        try:
            before, old, now = transition(
                session, reward_id=reward_id, expected={S.SENDING}, new=S.IN_DOUBT
            )
        except AlreadyDecided:  # pragma: no cover - a worker finished it meanwhile
            continue
        summary = set_recipient_outcomes(
            session,
            reward=before,
            default=RecipientOutcome.IN_DOUBT,
            results=(),
            now=now,
            only_from={RecipientOutcome.PENDING},
        )
        status_event(session, before, old, S.IN_DOUBT, reason=reason, after={"recipients": summary})
        changed.append(reward_id)
    return [details_by_id(session, i) for i in changed]


TOLD_KIND = "outcome_told"
TOLD_STATUSES = (S.SENT, S.FAILED, S.IN_DOUBT)


def told_key(reward: RewardDetails) -> str:
    """The once-key (kind `TOLD_KIND`) saying this reward's outcome was told."""
    return f"{reward.short_id}:{reward.status.value}"


def untold_outcomes(
    session: Session, *, ended_before: datetime, ended_after: datetime, limit: int = 50
) -> list[RewardDetails]:
    """Rewards sent, failed or in doubt between the two times whose outcome nobody has been
    told yet (no once-key `TOLD_KIND`): a process stopped between recording and telling.
    A settled reward's outcome too (its settling notes it told once it has told it)."""
    told = (
        select(OnceKey.key)
        .where(OnceKey.kind == TOLD_KIND)
        .where(OnceKey.key == Reward.short_id + ":" + Reward.status)
    )
    query = (
        select(Reward.id)
        .where(Reward.status.in_([s.value for s in TOLD_STATUSES]))  # type: ignore[attr-defined]
        .where(Reward.updated_at < ended_before)
        .where(Reward.updated_at >= ended_after)
        .where(~told.exists())
        .order_by(Reward.id)  # type: ignore[arg-type]
        .limit(limit)
    )
    return [details_by_id(session, _stored(i)) for i in session.exec(query).all()]


def sending_claimants(session: Session) -> list[str]:
    """Who claimed the rewards now in `sending` (worker ids)."""
    rows = session.exec(
        select(Reward.claimed_by).where(Reward.status == S.SENDING.value).distinct()
    ).all()
    return [r for r in rows if r]


def expire_pending(
    session: Session, *, older_than: timedelta, reason: str | None = None
) -> list[RewardDetails]:
    """Rewards pending approval for longer than `older_than` become `expired`; returns them."""
    audit.lock_chain(session)
    cutoff = utcnow() - older_than
    ids = session.exec(
        select(Reward.id)
        .where(Reward.status == S.PENDING_APPROVAL.value)
        .where(Reward.created_at < cutoff)
        .order_by(Reward.id)  # type: ignore[arg-type]
    ).all()
    expired: list[int] = []
    for found in ids:
        reward_id = _stored(found)
        try:
            before, old, now = transition(
                session, reward_id=reward_id, expected={S.PENDING_APPROVAL}, new=S.EXPIRED
            )
        except AlreadyDecided:  # pragma: no cover - decided meanwhile
            continue
        set_recipient_outcomes(
            session,
            reward=before,
            default=RecipientOutcome.NOT_SENT,
            results=(),
            now=now,
            only_from={RecipientOutcome.PENDING},
        )
        status_event(
            session,
            before,
            old,
            S.EXPIRED,
            action=AuditAction.REWARD_EXPIRED,
            reason=reason or f"no decision within {older_than}",
        )
        expired.append(reward_id)
    return [details_by_id(session, i) for i in expired]


def _stored(reward_id: int | None) -> int:
    """The id of a row read back from the ledger (never None there)."""
    if reward_id is None:
        raise ValueError("a reward read from the ledger has no id")
    return reward_id
