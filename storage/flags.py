"""Flags (`bot.rewards.flags` finds them): stored once per rule, people and month, reported in
the admins' daily DM, decided once by an admin; and the admins' holds ("Hold future ones").
Every change writes its audit event in the same transaction."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select as sa_select
from sqlalchemy import update
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from storage import audit
from storage._sql import insert_for
from storage.audit import AuditAction
from storage.models import FlagHold, Member, Reward, RewardFlag, RewardRecipient
from storage.states import COUNTS_TOWARDS_ALLOWANCE, RewardSource
from storage.types import utcnow

OPEN = "open"
DECISIONS = ("dismissed", "held", "locked")


@dataclass(frozen=True, slots=True)
class GiftRow:
    """One recipient's share of a reward that still stands."""

    reward_id: str
    giver: str
    recipient: str
    points: int
    total: int
    reason: str
    at: datetime


def gifts_since(
    session: Session, *, since: datetime, involving: Iterable[str] | None = None
) -> list[GiftRow]:
    """Every standing reward's shares created from `since`, oldest first; with `involving`
    (Slack ids), only those given or received by one of them."""
    giver = aliased(Member)
    recipient = aliased(Member)
    stmt = (
        sa_select(
            col(Reward.short_id),
            col(giver.slack_user_id),
            col(recipient.slack_user_id),
            col(RewardRecipient.points),
            col(Reward.total_points),
            col(Reward.citation),
            col(Reward.created_at),
        )
        .join(RewardRecipient, col(RewardRecipient.reward_id) == col(Reward.id))
        .join(giver, col(giver.id) == col(Reward.giver_id))
        .join(recipient, col(recipient.id) == col(RewardRecipient.member_id))
        .where(col(Reward.created_at) >= since)
        .where(col(Reward.status).in_([s.value for s in COUNTS_TOWARDS_ALLOWANCE]))
        .where(col(Reward.source) != RewardSource.CELEBRATION.value)  # the company's own
        .order_by(col(Reward.created_at), col(Reward.id))
    )
    if involving is not None:
        people = list(involving)
        stmt = stmt.where(
            col(giver.slack_user_id).in_(people) | col(recipient.slack_user_id).in_(people)
        )
    return [GiftRow(*row) for row in session.execute(stmt).all()]


def raise_flag(
    session: Session,
    *,
    rule: str,
    people: str,
    giver: str,
    period: str,
    gifts: Sequence[Mapping[str, Any]],
) -> RewardFlag | None:
    """Store a flag once per (rule, people, period) (audited): the new flag, or None when it
    was raised before."""
    audit.lock_chain(session)
    stmt = (
        insert_for(session, RewardFlag)
        .values(
            rule=rule,
            people=people,
            giver=giver,
            period=period,
            status=OPEN,
            gifts=list(gifts),
            raised_at=utcnow(),
        )
        .on_conflict_do_nothing()
        .returning(RewardFlag.id)
    )
    new_id = session.exec(stmt).scalar()
    if new_id is None:
        return None
    flag = session.get(RewardFlag, new_id)
    assert flag is not None
    audit.append(
        session,
        actor=audit.SYSTEM,
        action=AuditAction.FLAG_RAISED,
        subject_type="flag",
        subject_id=new_id,
        after={
            "rule": rule,
            "people": people,
            "period": period,
            "rewards": sorted({str(g["reward_id"]) for g in gifts}),
        },
    )
    return flag


def get_flag(session: Session, *, flag_id: int) -> RewardFlag | None:
    return session.get(RewardFlag, flag_id, populate_existing=True)


def unreported_flags(session: Session, *, limit: int = 50) -> list[RewardFlag]:
    """Open flags no daily DM has finished reporting, oldest first."""
    return list(
        session.exec(
            select(RewardFlag)
            .where(col(RewardFlag.status) == OPEN)
            .where(col(RewardFlag.reported_at).is_(None))
            .order_by(col(RewardFlag.id))
            .limit(limit)
        ).all()
    )


def mark_reported(session: Session, *, flag_ids: Sequence[int], at: datetime) -> None:
    if flag_ids:
        session.exec(
            update(RewardFlag)
            .where(col(RewardFlag.id).in_(list(flag_ids)))
            .where(col(RewardFlag.reported_at).is_(None))
            .values(reported_at=at)
        )


def decide_flag(
    session: Session, *, flag_id: int, decision: str, actor: str, reason: str | None = None
) -> RewardFlag | None:
    """open → `decision` (dismissed, held, locked), audited with who and why: the flag as
    decided now, or None when it was decided before (nothing changed)."""
    if decision not in DECISIONS:
        raise ValueError(f"a flag is decided as one of {DECISIONS}")
    audit.lock_chain(session)
    now = utcnow()
    done = session.exec(
        update(RewardFlag)
        .where(col(RewardFlag.id) == flag_id)
        .where(col(RewardFlag.status) == OPEN)
        .values(status=decision, decided_at=now, decided_by=actor)
    )
    if not done.rowcount:
        return None
    flag = get_flag(session, flag_id=flag_id)
    assert flag is not None
    audit.append(
        session,
        actor=actor,
        action=AuditAction.FLAG_DECIDED,
        subject_type="flag",
        subject_id=flag_id,
        before={"status": OPEN},
        after={"status": decision, "rule": flag.rule, "people": flag.people},
        reason=reason,
    )
    return flag


def add_hold(
    session: Session, *, rule: str, people: str, actor: str, flag_id: int | None = None
) -> bool:
    """Hold future rewards matching `rule` among `people` (once; audited by the flag's
    decision). False when they were held already."""
    stmt = (
        insert_for(session, FlagHold)
        .values(rule=rule, people=people, held_by=actor, flag_id=flag_id, held_at=utcnow())
        .on_conflict_do_nothing()
        .returning(FlagHold.id)
    )
    return session.exec(stmt).scalar() is not None


def holds_involving(session: Session, *, user_ids: Iterable[str]) -> list[FlagHold]:
    """The holds naming any of these people (few: read all, filter here)."""
    wanted = set(user_ids)
    return [
        h
        for h in session.exec(select(FlagHold).order_by(col(FlagHold.id))).all()
        if wanted & set(h.people.split(","))
    ]


def mark_held(session: Session, *, reward: Reward, rule: str, reason: str) -> None:
    """Record that a flag rule held a new reward for an admin (audited)."""
    reward.held_for = rule
    session.add(reward)
    session.flush()
    audit.append(
        session,
        actor=audit.SYSTEM,
        action=AuditAction.REWARD_HELD,
        subject_type="reward",
        subject_id=reward.short_id,
        after={"held_for": rule},
        reason=reason,
    )
