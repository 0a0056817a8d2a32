"""Small SQL helpers shared by the repository modules."""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

from storage.models import Member


def dialect_name(session: Session) -> str:
    return session.get_bind().dialect.name


def insert_for(session: Session, model: Any) -> Any:
    """An INSERT that supports ON CONFLICT on both backends."""
    if dialect_name(session) == "postgresql":
        return postgresql.insert(model)
    return sqlite.insert(model)


def member_id(member: Member | int) -> int:
    if isinstance(member, Member):
        if member.id is None:
            raise ValueError("member is not saved yet")
        return member.id
    if isinstance(member, bool) or not isinstance(member, int):
        raise TypeError(f"expected a Member or a member id, got {type(member).__name__}")
    return member
