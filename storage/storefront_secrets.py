"""The bearer secrets the bot mints for one person: the auth token Xoxoday's store presents on
each call for them, and the single-use link behind a Redeem button.

Only a SHA-256 of each is stored (they are 256-bit random strings, so a fast hash is enough),
bound to the person, with an expiry; revoking ends every secret of a person at once.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, bindparam, update
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from storage import audit, points
from storage.audit import AuditAction
from storage.models import Member, StoreFrontSecret
from storage.states import SecretKind
from storage.types import utcnow


def digest(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True, slots=True)
class Minted:
    id: int
    raw: str  # the secret itself: handed out once, never stored
    expires_at: datetime


def mint(session: Session, *, member_id: int, kind: SecretKind, lifetime: timedelta) -> Minted:
    raw = secrets.token_urlsafe(32)
    now = utcnow()
    row = StoreFrontSecret(
        kind=kind.value,
        secret_hash=digest(raw),
        member_id=member_id,
        created_at=now,
        expires_at=now + lifetime,
    )
    session.add(row)
    session.flush()
    assert row.id is not None
    return Minted(row.id, raw, row.expires_at)


def find(
    session: Session,
    *,
    raw: str,
    kind: SecretKind,
    expired_ok: bool = False,
    revoked_ok: bool = False,
) -> StoreFrontSecret | None:
    """The live secret `raw` of this kind (None: unknown, or revoked or expired unless
    `revoked_ok` / `expired_ok`)."""
    if not raw or len(raw) > 200:
        return None
    row = session.exec(
        select(StoreFrontSecret)
        .where(StoreFrontSecret.secret_hash == digest(raw))
        .where(StoreFrontSecret.kind == kind.value)
    ).first()
    if row is None or (row.revoked_at is not None and not revoked_ok):
        return None
    if not expired_ok and row.expires_at <= utcnow():
        return None
    return row


@dataclass(frozen=True, slots=True)
class Holder:
    """A secret and the person it is bound to, as of the look-up: what each call of Xoxoday's
    store is checked against (`find_with_member`)."""

    secret_id: int
    alive: bool  # not expired
    revoked: bool
    member_id: int
    slack_user_id: str
    active: bool


# Built once, Core only (no ORM objects, no dates to read back: the expiry is compared in
# SQL): every call of Xoxoday's store starts with it.
_SECRETS = StoreFrontSecret.__table__.c  # type: ignore[attr-defined]
_MEMBERS = Member.__table__.c  # type: ignore[attr-defined]


def _holder_select(*more: Any) -> Any:
    return (
        sa_select(
            _SECRETS.id,
            _SECRETS.expires_at > bindparam("now", type_=_SECRETS.expires_at.type),
            _SECRETS.revoked_at.is_not(None),
            _MEMBERS.id,
            _MEMBERS.slack_user_id,
            _MEMBERS.active,
            *more,
        )
        .join_from(
            StoreFrontSecret.__table__,  # type: ignore[attr-defined]
            Member.__table__,  # type: ignore[attr-defined]
            _MEMBERS.id == _SECRETS.member_id,
        )
        .where(_SECRETS.secret_hash == bindparam("hash"))
        .where(_SECRETS.kind == bindparam("kind"))
    )


_WITH_MEMBER = _holder_select()
_WITH_FIGURES = _holder_select(*points.figure_columns(_MEMBERS.id))


def _holder(row: Any, *, expired_ok: bool, revoked_ok: bool) -> Holder | None:
    holder = Holder(int(row[0]), bool(row[1]), bool(row[2]), int(row[3]), row[4], bool(row[5]))
    if holder.revoked and not revoked_ok:
        return None
    if not holder.alive and not expired_ok:
        return None
    return holder


def _params(raw: str, kind: SecretKind, **more: Any) -> dict[str, Any] | None:
    if not raw or len(raw) > 200:
        return None
    return {"hash": digest(raw), "kind": kind.value, "now": utcnow(), **more}


def find_with_member(
    reader: Session | Connection,
    *,
    raw: str,
    kind: SecretKind,
    expired_ok: bool = False,
    revoked_ok: bool = False,
) -> Holder | None:
    """`find`, and the person the secret is bound to, in one statement (in a session or on a
    plain connection: `Store.one_read`)."""
    params = _params(raw, kind)
    row = None if params is None else reader.execute(_WITH_MEMBER, params).first()
    return None if row is None else _holder(row, expired_ok=expired_ok, revoked_ok=revoked_ok)


def find_with_figures(
    reader: Session | Connection, *, raw: str, kind: SecretKind, today: date
) -> tuple[Holder, points.PointFigures] | None:
    """The live secret `raw`, its person and their points' figures (`points.figures`) as of
    `today`: one statement, for the balance Xoxoday's store asks at checkout."""
    params = _params(raw, kind, today=today)
    row = None if params is None else reader.execute(_WITH_FIGURES, params).first()
    holder = None if row is None else _holder(row, expired_ok=False, revoked_ok=False)
    if holder is None:
        return None
    assert row is not None
    return holder, points.PointFigures(int(row[6]), int(row[7]), int(row[8]))


def use_once(session: Session, *, raw: str, kind: SecretKind) -> StoreFrontSecret | None:
    """Spend a single-use secret: the row if this call used it, None if it was unknown,
    expired, revoked or already used (a compare-and-set, so two opens never both pass)."""
    row = find(session, raw=raw, kind=kind)
    if row is None or row.used_at is not None:
        return None
    now = utcnow()
    used = session.exec(
        update(StoreFrontSecret)
        .where(col(StoreFrontSecret.id) == row.id)
        .where(col(StoreFrontSecret.used_at).is_(None))
        .values(used_at=now)
    )
    if used.rowcount != 1:
        return None
    row.used_at = now
    return row


def give_back(session: Session, *, secret_id: int) -> None:
    """Undo `use_once` when what the secret was for could not be done (the store was down)."""
    session.exec(
        update(StoreFrontSecret).where(col(StoreFrontSecret.id) == secret_id).values(used_at=None)
    )


def revoke(session: Session, *, member_id: int | None, actor: str) -> int:
    """End every live secret of a person (None: of everyone); returns how many."""
    now = utcnow()
    query = (
        update(StoreFrontSecret)
        .where(col(StoreFrontSecret.revoked_at).is_(None))
        .where(col(StoreFrontSecret.expires_at) > now)
        .values(revoked_at=now)
    )
    if member_id is not None:
        query = query.where(col(StoreFrontSecret.member_id) == member_id)
    count = int(session.exec(query).rowcount)
    audit.append(
        session,
        actor=actor,
        action=AuditAction.STOREFRONT_ACCESS_REVOKED,
        subject_type="member" if member_id is not None else "everyone",
        subject_id=member_id if member_id is not None else "*",
        after={"revoked": count},
    )
    return count


def forget_expired(session: Session, *, older_than: timedelta) -> int:
    """Drop secrets that expired long ago, except auth tokens an order still refers to."""
    from storage.models import PointOrder

    cutoff = utcnow() - older_than
    referenced = select(PointOrder.token_id).where(col(PointOrder.token_id).is_not(None))
    rows = session.exec(
        select(StoreFrontSecret)
        .where(col(StoreFrontSecret.expires_at) < cutoff)
        .where(col(StoreFrontSecret.id).not_in(referenced))
    ).all()
    for row in rows:
        session.delete(row)
    return len(rows)
