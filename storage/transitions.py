"""The compare-and-set machinery behind every reward state change.

`transition` locks the audit chain first (one lock order for every writer), reads the reward
(`FOR UPDATE` on PostgreSQL), checks the state machine, and updates it with
`UPDATE … WHERE id = :id AND status = :expected`. The loser of a race gets `AlreadyDecided`
carrying the current status. Callers then record per-recipient outcomes and append the audit
event in the same transaction.
"""

from __future__ import annotations

import calendar
from collections.abc import Collection, Mapping, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, select

from storage import audit
from storage._sql import dialect_name, member_id
from storage.audit import SYSTEM, AuditAction
from storage.errors import AlreadyDecided, InvalidTransition, RewardNotFound
from storage.models import Member, Reward, RewardRecipient
from storage.reward_views import RecipientResult
from storage.states import STEP_COLUMN, RecipientOutcome, RewardStatus, can_transition
from storage.types import utcnow


def transition(
    session: Session,
    *,
    reward_id: int,
    expected: Collection[RewardStatus],
    new: RewardStatus,
    values: Mapping[str, Any] | None = None,
    stamp: Collection[str] = (),
    stamp_step: bool = True,
) -> tuple[Reward, RewardStatus, datetime]:
    """CAS `expected → new`; returns (reward before the change, its old status, the time).

    The new status's step column (`STEP_COLUMN`) is set to now unless `stamp_step` is False
    (a reward going back to `queued` keeps the time it was first queued, and its place)."""
    audit.lock_chain(session)
    query = select(Reward).where(Reward.id == reward_id).execution_options(populate_existing=True)
    if dialect_name(session) == "postgresql":
        query = query.with_for_update()
    current = session.exec(query).first()
    if current is None:
        raise RewardNotFound(reward_id)
    old = RewardStatus(current.status)
    if old not in expected:
        raise AlreadyDecided(
            reward_id=reward_id, short_id=current.short_id, current=old, attempted=new
        )
    if not can_transition(old, new):
        raise InvalidTransition(
            reward_id=reward_id, short_id=current.short_id, current=old, attempted=new
        )
    snapshot = Reward.model_validate(current.model_dump())
    now = utcnow()
    changes: dict[str, Any] = {"status": new.value, "updated_at": now}
    if stamp_step:
        changes[STEP_COLUMN[new]] = now
    changes.update(dict.fromkeys(stamp, now))
    changes.update(values or {})
    result = session.exec(
        update(Reward)
        .where(Reward.id == reward_id)  # type: ignore[arg-type]
        .where(Reward.status == old.value)  # type: ignore[arg-type]
        .values(**changes)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # pragma: no cover - the row lock / write lock prevents this
        latest = session.get(Reward, reward_id, populate_existing=True)
        raise AlreadyDecided(
            reward_id=reward_id,
            short_id=current.short_id,
            current=latest.status if latest else "gone",
            attempted=new,
        )
    return snapshot, old, now


def set_recipient_outcomes(
    session: Session,
    *,
    reward: Reward,
    default: RecipientOutcome | None,
    results: Sequence[RecipientResult],
    now: datetime,
    expires_on: date | None = None,
    only_from: Collection[RecipientOutcome] | None = None,
) -> list[dict[str, Any]]:
    """Record per-recipient outcomes; returns an audit-ready summary."""
    rows = session.exec(
        select(RewardRecipient, Member)
        .join(Member, Member.id == RewardRecipient.member_id)  # type: ignore[arg-type]
        .where(RewardRecipient.reward_id == reward.id)
        .order_by(RewardRecipient.id)  # type: ignore[arg-type]
    ).all()
    by_member = {member_id(r.member): r for r in results}
    known = {recipient.member_id for recipient, _ in rows}
    unknown = set(by_member) - known
    if unknown:
        raise ValueError(f"not recipients of reward {reward.short_id}: members {sorted(unknown)}")
    summary: list[dict[str, Any]] = []
    for recipient, member in rows:
        result = by_member.get(recipient.member_id)
        outcome = RecipientOutcome(result.outcome) if result and result.outcome else default
        changes: dict[str, Any] = {"updated_at": now}
        if outcome is not None and (only_from is None or recipient.outcome in only_from):
            changes["outcome"] = outcome.value
            if outcome == RecipientOutcome.SENT:
                changes["sent_at"] = now  # the moment the points counted as delivered
                if expires_on is not None:
                    changes["expires_on"] = expires_on
        if result is not None and result.unique_id is not None:
            changes["plum_unique_id"] = result.unique_id
        if result is not None and result.message is not None:
            changes["message"] = result.message
        session.exec(
            update(RewardRecipient)
            .where(RewardRecipient.id == recipient.id)  # type: ignore[arg-type]
            .values(**changes)
            .execution_options(synchronize_session=False)
        )
        summary.append(
            {
                "member": member.slack_user_id,
                "points": recipient.points,
                "outcome": changes.get("outcome", recipient.outcome),
                "unique_id": changes.get("plum_unique_id", recipient.plum_unique_id),
                "message": changes.get("message", recipient.message),
            }
        )
    return summary


def add_months(day: date, months: int) -> date:
    """The same day `months` later, clamped to the month's end (Jan 31 + 1 → Feb 28/29)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def expiry_date(reward: Reward, sent_at: datetime) -> date | None:
    if reward.expiry_months is None:
        return None
    return add_months(sent_at.date(), reward.expiry_months)


def status_event(
    session: Session,
    before: Reward,
    old: RewardStatus,
    new: RewardStatus,
    *,
    after: Mapping[str, Any] | None = None,
    actor: str = SYSTEM,
    action: AuditAction = AuditAction.REWARD_STATUS_CHANGED,
    reason: str | None = None,
) -> None:
    audit.append(
        session,
        actor=actor,
        action=action,
        subject_type="reward",
        subject_id=before.short_id,
        before={"status": old},
        after={"status": new, **(after or {})},
        reason=reason,
    )
