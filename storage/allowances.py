"""Monthly allowances an admin set for one person or one Slack user group (`allowances`).
Setting and removing are audited in the same transaction; setting the same again changes
nothing and is not audited twice."""

from __future__ import annotations

from sqlalchemy import delete, or_
from sqlmodel import Session, col, select

from storage import audit
from storage.audit import AuditAction
from storage.models import Allowance
from storage.types import utcnow

PERSON, GROUP = "person", "group"


def set_allowance(
    session: Session, *, kind: str, slack_id: str, points: int, actor: str, label: str = ""
) -> tuple[Allowance, int | None]:
    """Set `slack_id`'s monthly allowance (audited): the row, and the points it had before
    (None: it had none). Unchanged points change nothing."""
    audit.lock_chain(session)  # serializes two admins setting one allowance
    row = get_allowance(session, kind=kind, slack_id=slack_id)
    before = row.points if row is not None else None
    if row is not None and row.points == points and (row.label == label or not label):
        return row, before
    if row is None:
        row = Allowance(kind=kind, slack_id=slack_id, label=label[:80], points=points, set_by=actor)
    else:
        row.points, row.set_by, row.set_at = points, actor, utcnow()
        row.label = label[:80] or row.label
    session.add(row)
    session.flush()
    audit.append(
        session,
        actor=actor,
        action=AuditAction.ALLOWANCE_SET,
        subject_type=f"allowance.{kind}",
        subject_id=slack_id,
        before={"points": before} if before is not None else None,
        after={"points": points, "label": row.label},
    )
    return row, before


def remove_allowance(session: Session, *, kind: str, slack_id: str, actor: str) -> int | None:
    """Remove `slack_id`'s allowance (audited): the points it had, or None when it had none."""
    audit.lock_chain(session)
    row = get_allowance(session, kind=kind, slack_id=slack_id)
    if row is None:
        return None
    session.exec(delete(Allowance).where(col(Allowance.id) == row.id))
    audit.append(
        session,
        actor=actor,
        action=AuditAction.ALLOWANCE_REMOVED,
        subject_type=f"allowance.{kind}",
        subject_id=slack_id,
        before={"points": row.points, "label": row.label},
        after=None,
    )
    return row.points


def get_allowance(session: Session, *, kind: str, slack_id: str) -> Allowance | None:
    return session.exec(
        select(Allowance).where(Allowance.kind == kind).where(Allowance.slack_id == slack_id)
    ).first()


def allowances_for(session: Session, *, slack_user_id: str) -> list[Allowance]:
    """In one read: the person's own allowance, if set, and every user group's."""
    return list(
        session.exec(
            select(Allowance).where(
                or_(
                    col(Allowance.kind) == GROUP,
                    (col(Allowance.kind) == PERSON) & (col(Allowance.slack_id) == slack_user_id),
                )
            )
        ).all()
    )


def list_allowances(session: Session) -> list[Allowance]:
    """Every allowance set: groups first, then people, each by their id."""
    rows = session.exec(select(Allowance).order_by(col(Allowance.kind), col(Allowance.slack_id)))
    return sorted(rows.all(), key=lambda r: (r.kind != GROUP, r.label.lower(), r.slack_id))
