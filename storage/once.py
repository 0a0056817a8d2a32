"""Side effects that must happen once, keyed by something that is given once.

Examples: an expiry reminder per reward and threshold (`kind="expiry_reminder"`,
`key="R7K2Q9:30"`), a Slack event id, a daily balance alert (`key="2025-01-31"`). Claim in the
same transaction as (or before) the side effect; the first claim wins even across processes.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func
from sqlmodel import Session, select

from storage._sql import insert_for
from storage.models import OnceKey
from storage.types import utcnow


def claim_once(session: Session, *, kind: str, key: str) -> bool:
    """True the first time (kind, key) is claimed, False ever after."""
    if not kind or not key or len(kind) > 64 or len(key) > 255:
        raise ValueError("kind (≤ 64) and key (≤ 255) are required")
    stmt = (
        insert_for(session, OnceKey)
        .values(kind=kind, key=key, created_at=utcnow())
        .on_conflict_do_nothing()
        .returning(OnceKey.kind)
    )
    return session.exec(stmt).scalar() is not None


def was_claimed(session: Session, *, kind: str, key: str) -> bool:
    found = session.exec(
        select(OnceKey.key).where(OnceKey.kind == kind).where(OnceKey.key == key)
    ).first()
    return found is not None


def last_key(session: Session, *, kind: str) -> str | None:
    """The greatest key claimed of `kind` (by string order: ISO dates sort as days do)."""
    found = session.exec(select(func.max(OnceKey.key)).where(OnceKey.kind == kind)).one()
    return None if found is None else str(found)


def forget_before(session: Session, *, kind: str, before: datetime) -> int:
    """Drop claims of `kind` older than `before` (e.g. Slack event ids after a day)."""
    result = session.exec(
        delete(OnceKey)
        .where(OnceKey.kind == kind)  # type: ignore[arg-type]
        .where(OnceKey.created_at < before)  # type: ignore[arg-type]
    )
    return int(result.rowcount or 0)
