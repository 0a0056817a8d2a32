"""Small SQL helpers shared by the repository modules."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from storage.models import Member


def dialect_name(session: Session) -> str:
    return session.get_bind().dialect.name


def insert_for(session: Session, model: Any) -> Any:
    """An INSERT that supports ON CONFLICT on both backends (each dialect's module is imported
    by the backend that uses it: PostgreSQL's is 2 MB a SQLite bot has no use for)."""
    if dialect_name(session) == "postgresql":
        from sqlalchemy.dialects import postgresql

        return postgresql.insert(model)
    from sqlalchemy.dialects import sqlite

    return sqlite.insert(model)


def member_id(member: Member | int) -> int:
    if isinstance(member, Member):
        if member.id is None:
            raise ValueError("member is not saved yet")
        return member.id
    if isinstance(member, bool) or not isinstance(member, int):
        raise TypeError(f"expected a Member or a member id, got {type(member).__name__}")
    return member
