"""Locked members: an admin paused their giving (they can still receive). Locking and
unlocking are compare-and-sets on `members.locked_at` with their audit event in the same
transaction, so a repeated command or click changes it once."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlmodel import Session, col, select

from storage import audit
from storage._sql import member_id
from storage.audit import AuditAction
from storage.errors import MemberNotFound
from storage.models import Member
from storage.types import utcnow


def lock_member(
    session: Session, *, member: Member | int, actor: str, reason: str | None
) -> Member | None:
    """Lock `member` (audited: who, when, why): the member as locked now, or None when they
    were already locked (nothing changed)."""
    audit.lock_chain(session)
    target = member_id(member)
    now = utcnow()
    done = session.exec(
        update(Member)
        .where(col(Member.id) == target)
        .where(col(Member.locked_at).is_(None))
        .values(locked_at=now, locked_by=actor, lock_reason=reason, updated_at=now)
    )
    if not done.rowcount:
        return None
    row = _fresh(session, target)
    audit.append(
        session,
        actor=actor,
        action=AuditAction.MEMBER_LOCKED,
        subject_type="member",
        subject_id=row.slack_user_id,
        before={"locked": False},
        after={"locked": True, "locked_at": now},
        reason=reason,
    )
    return row


def unlock_member(
    session: Session, *, member: Member | int, actor: str, reason: str | None = None
) -> datetime | None:
    """Unlock `member` (audited): when the lock had begun, or None when they were not
    locked."""
    audit.lock_chain(session)
    target = member_id(member)
    before = _fresh(session, target)
    if before.locked_at is None:
        return None
    locked = (before.locked_at, before.locked_by, before.lock_reason)
    done = session.exec(
        update(Member)
        .where(col(Member.id) == target)
        .where(col(Member.locked_at).is_not(None))  # serialized by the chain lock above
        .values(locked_at=None, locked_by=None, lock_reason=None, updated_at=utcnow())
    )
    if not done.rowcount:
        return None
    audit.append(
        session,
        actor=actor,
        action=AuditAction.MEMBER_UNLOCKED,
        subject_type="member",
        subject_id=before.slack_user_id,
        before={"locked": True, "locked_at": locked[0], "locked_by": locked[1]},
        after={"locked": False},
        reason=reason,
    )
    return locked[0]


def is_locked(session: Session, *, slack_user_id: str) -> bool:
    found = session.exec(
        select(Member.id)
        .where(Member.slack_user_id == slack_user_id)
        .where(col(Member.locked_at).is_not(None))
    ).first()
    return found is not None


def locked_members(session: Session) -> list[Member]:
    """Every locked member, the longest locked first."""
    return list(
        session.exec(
            select(Member)
            .where(col(Member.locked_at).is_not(None))
            .order_by(col(Member.locked_at), col(Member.id))
        ).all()
    )


def _fresh(session: Session, target: int | None) -> Member:
    row = session.get(Member, target, populate_existing=True)
    if row is None:
        raise MemberNotFound(target)
    return row
