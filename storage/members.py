"""Members: Slack users the bot has seen, their roles and their managers."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import update
from sqlmodel import Session, select

from storage import audit
from storage._sql import insert_for, member_id
from storage.audit import AuditAction
from storage.errors import MemberNotFound, NotPermitted
from storage.models import Member
from storage.states import Role
from storage.types import utcnow


def upsert_member(
    session: Session,
    *,
    team_id: str,
    slack_user_id: str,
    email: str | None = None,
    display_name: str = "",
    real_name: str = "",
    tz: str | None = None,
    is_bot: bool = False,
    active: bool = True,
) -> Member:
    """Insert or refresh a member from Slack profile data. Role and manager are left alone."""
    now = utcnow()
    profile = {
        "email": email or None,
        "display_name": display_name or "",
        "real_name": real_name or "",
        "tz": tz or None,
        "is_bot": bool(is_bot),
        "active": bool(active),
    }
    stmt = insert_for(session, Member).values(
        team_id=team_id,
        slack_user_id=slack_user_id,
        role=Role.MEMBER.value,
        created_at=now,
        updated_at=now,
        **profile,
    )
    stmt = stmt.on_conflict_do_update(
        index_elements=["team_id", "slack_user_id"], set_={**profile, "updated_at": now}
    ).returning(Member.id)
    new_id = session.exec(stmt).scalar_one()
    member = session.get(Member, new_id, populate_existing=True)
    assert member is not None
    return member


def get_member(session: Session, *, member_id: int) -> Member | None:
    return session.get(Member, member_id)


def get_member_by_slack_id(
    session: Session, *, slack_user_id: str, team_id: str | None = None
) -> Member | None:
    query = select(Member).where(Member.slack_user_id == slack_user_id)
    if team_id is not None:
        query = query.where(Member.team_id == team_id)
    return session.exec(query.order_by(Member.id)).first()  # type: ignore[arg-type]


def require_member(session: Session, *, member_id: int) -> Member:
    member = session.get(Member, member_id)
    if member is None:
        raise MemberNotFound(member_id)
    return member


def members_with_role(session: Session, *, roles: Iterable[Role | str]) -> list[Member]:
    wanted = [str(r) for r in roles]
    return list(
        session.exec(
            select(Member)
            .where(Member.role.in_(wanted))  # type: ignore[attr-defined]
            .where(Member.active.is_(True))  # type: ignore[attr-defined]
            .order_by(Member.id)  # type: ignore[arg-type]
        ).all()
    )


def set_role(
    session: Session,
    *,
    member: Member | int,
    role: Role | str,
    actor: str,
    reason: str | None = None,
) -> Member:
    """Change a member's role (audited). Setting the role it already has changes nothing."""
    role = Role(role)
    target = require_member(session, member_id=member_id(member))
    if target.role == role:
        return target
    audit.lock_chain(session)
    before = target.role
    session.exec(
        update(Member)
        .where(Member.id == target.id)  # type: ignore[arg-type]
        .values(role=role.value, updated_at=utcnow())
    )
    audit.append(
        session,
        actor=actor,
        action=AuditAction.MEMBER_ROLE_CHANGED,
        subject_type="member",
        subject_id=target.slack_user_id,
        before={"role": before},
        after={"role": role.value},
        reason=reason,
    )
    return _fresh_member(session, target.id)


def set_manager(
    session: Session,
    *,
    member: Member | int,
    manager: Member | int | None,
    actor: str,
    reason: str | None = None,
) -> Member:
    """Record (or clear, with None) a member's manager (audited). Refuses cycles."""
    target = require_member(session, member_id=member_id(member))
    new_manager = None if manager is None else require_member(session, member_id=member_id(manager))
    new_id = None if new_manager is None else new_manager.id
    if new_id == target.id:
        raise NotPermitted("a member cannot be their own manager")
    if target.manager_id == new_id:
        return target
    if new_id is not None and _manages_indirectly(session, manager_id=target.id, member_id=new_id):
        raise NotPermitted("that would make a circle of managers")
    audit.lock_chain(session)
    old = None if target.manager_id is None else session.get(Member, target.manager_id)
    session.exec(
        update(Member)
        .where(Member.id == target.id)  # type: ignore[arg-type]
        .values(manager_id=new_id, updated_at=utcnow())
    )
    audit.append(
        session,
        actor=actor,
        action=AuditAction.MEMBER_MANAGER_SET,
        subject_type="member",
        subject_id=target.slack_user_id,
        before={"manager": old.slack_user_id if old else None},
        after={"manager": new_manager.slack_user_id if new_manager else None},
        reason=reason,
    )
    return _fresh_member(session, target.id)


def _manages_indirectly(session: Session, *, manager_id: int | None, member_id: int) -> bool:
    """True when `manager_id` is somewhere above `member_id` in the management chain."""
    seen: set[int] = set()
    current: int | None = member_id
    while current is not None and current not in seen:
        seen.add(current)
        row = session.get(Member, current)
        current = row.manager_id if row else None
        if current == manager_id:
            return True
    return False


def _fresh_member(session: Session, member_id: int | None) -> Member:
    member = session.get(Member, member_id, populate_existing=True)
    if member is None:
        raise MemberNotFound(member_id)
    return member


def list_reports(session: Session, *, manager: Member | int) -> list[Member]:
    return list(
        session.exec(
            select(Member).where(Member.manager_id == member_id(manager)).order_by(Member.id)  # type: ignore[arg-type]
        ).all()
    )


def list_managers(session: Session) -> list[tuple[Member, Member]]:
    """Every (member, manager) pair recorded, by member."""
    members = session.exec(
        select(Member).where(Member.manager_id.is_not(None)).order_by(Member.id)  # type: ignore[union-attr,arg-type]
    ).all()
    return [(m, require_member(session, member_id=m.manager_id)) for m in members]  # type: ignore[arg-type]
