"""Bulk awards (`/reward bulk`): a checked file kept until its admin sends it, its rows made
rewards in one transaction when they do, and what became of each row.

Every step is a compare-and-set on the award's status, so a double click or a request resumed
after a crash does it once; each appends its audit event in the caller's transaction. A row's
reward is keyed `bulk:<short id>:<line>`, so it is created once whatever happens.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, update
from sqlmodel import Session, col, select

from storage import audit
from storage import rewards as reward_repo
from storage.audit import AuditAction
from storage.errors import StorageError
from storage.models import BulkAward, BulkRow, Member, Reward, RewardRecipient
from storage.states import BulkStatus, RewardSource, RewardStatus
from storage.types import utcnow

SHORT_ID_ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"
KEY_PREFIX = "bulk:"

# A row as kept until the file is sent: [line, slack user id, points, reason, value or ""].
StoredRow = tuple[int, str, int, str, str]


class BulkStepLost(StorageError):
    """The award was not in the status a step expected: another click or process moved it."""

    def __init__(self, status: str) -> None:
        super().__init__(f"the bulk award is {status}")
        self.status = status


class SameRowsSent(StorageError):
    """Another award with the same rows was sent: sending this one would pay them twice."""

    def __init__(self, earlier: BulkAward) -> None:
        super().__init__(f"the same rows were sent as bulk {earlier.short_id}")
        self.short_id = earlier.short_id
        self.sent_at = earlier.confirmed_at or earlier.created_at


@dataclass(frozen=True, slots=True)
class Kept:
    award: BulkAward
    created: bool  # False: this request was recorded before (Slack's retry, or a resume)


@dataclass(frozen=True, slots=True)
class RowOutcome:
    line: int
    recipient: str  # Slack user id
    points: int
    status: str  # the reward's status
    reward: str  # its short id


def reward_key(short_id: str, line: int) -> str:
    return f"{KEY_PREFIX}{short_id}:{line}"


def is_bulk_key(idempotency_key: str) -> bool:
    return idempotency_key.startswith(KEY_PREFIX)


def digest_of(rows: Sequence[StoredRow]) -> str:
    """The same rows (whoever, however many points, why) give the same digest, whatever the
    file's name, its line order, or how people were written (emails or ids)."""
    lines = sorted(json.dumps([r[1], int(r[2]), r[3], r[4]], ensure_ascii=False) for r in rows)
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()


def sent_like(session: Session, *, digest: str) -> BulkAward | None:
    """An award with the same rows that was sent (or is being sent), if any."""
    return session.exec(
        select(BulkAward)
        .where(BulkAward.digest == digest)
        .where(col(BulkAward.status).in_([BulkStatus.SENDING.value, BulkStatus.DONE.value]))
        .order_by(col(BulkAward.id))
    ).first()


def keep_checked(
    session: Session,
    *,
    request_key: str,
    admin: Member,
    filename: str,
    rows: Sequence[StoredRow],
) -> Kept:
    """Record a file that passed every check, once per Slack request (audited)."""
    if not rows:
        raise ValueError("a bulk award needs at least one row")
    audit.lock_chain(session)
    earlier = session.exec(select(BulkAward).where(BulkAward.request_key == request_key)).first()
    if earlier is not None:
        return Kept(award=earlier, created=False)
    assert admin.id is not None
    now = utcnow()
    total = sum(r[2] for r in rows)
    for _ in range(10):
        short_id = "".join(secrets.choice(SHORT_ID_ALPHABET) for _ in range(6))
        taken = session.exec(select(BulkAward.id).where(BulkAward.short_id == short_id)).first()
        if taken is None:
            break
    else:
        raise StorageError("could not find a free short id; try again")
    award = BulkAward(
        short_id=short_id,
        request_key=request_key,
        admin_id=admin.id,
        filename=filename[:200],
        digest=digest_of(rows),
        status=BulkStatus.PREVIEWED.value,
        row_count=len(rows),
        total_points=total,
        rows=[list(r) for r in rows],
        created_at=now,
        updated_at=now,
    )
    session.add(award)
    session.flush()
    audit.append(
        session,
        actor=admin.slack_user_id,
        action=AuditAction.BULK_UPLOADED,
        subject_type="bulk",
        subject_id=short_id,
        after={"status": "previewed", "file": filename, "rows": len(rows), "total": total},
    )
    return Kept(award=award, created=True)


def record_rejected(
    session: Session, *, admin_id: str, filename: str, rows: int, problems: int
) -> None:
    """A file refused whole: who sent it, how many rows, how many problems (audited)."""
    audit.append(
        session,
        actor=admin_id,
        action=AuditAction.BULK_UPLOADED,
        subject_type="bulk",
        subject_id="-",
        after={"status": "rejected", "file": filename, "rows": rows, "problems": problems},
    )


def get(session: Session, *, short_id: str) -> BulkAward | None:
    return session.exec(
        select(BulkAward).where(BulkAward.short_id == short_id.strip().upper())
    ).first()


def _step(
    session: Session, award: BulkAward, *, expected: BulkStatus, new: BulkStatus, **values: Any
) -> None:
    now = utcnow()
    done = session.exec(
        update(BulkAward)
        .where(col(BulkAward.id) == award.id)
        .where(col(BulkAward.status) == expected.value)
        .values(status=new.value, updated_at=now, **values)
        .execution_options(synchronize_session=False)
    )
    if not done.rowcount:
        session.refresh(award)
        raise BulkStepLost(award.status)
    session.refresh(award)


def confirm(
    session: Session,
    *,
    award: BulkAward,
    giver: Member,
    recipients: dict[str, Member],
    expiry_months: int | None,
    message: tuple[str, str] | None = None,
    approved_by: str | None = None,
) -> list[int]:
    """previewed → sending, and every row a queued reward, all in the caller's transaction
    (a crash leaves all of them queued, or none). Raises BulkStepLost when it was sent or
    cancelled before (BulkStepLost), SameRowsSent when the same rows were sent as another
    award. Returns the rewards' ids."""
    audit.lock_chain(session)  # two Sends of the same rows, from any process: one at a time
    earlier = sent_like(session, digest=award.digest)
    if earlier is not None and earlier.id != award.id:
        raise SameRowsSent(earlier)
    expected = BulkStatus.PREVIEWED if approved_by is None else BulkStatus.PENDING_APPROVAL
    where: dict[str, Any] = {}
    if message is not None:
        where = {"message_channel": message[0], "message_ts": message[1]}
    _step(
        session,
        award,
        expected=expected,
        new=BulkStatus.SENDING,
        confirmed_at=utcnow(),
        **where,
    )
    made: list[int] = []
    for line, user_id, points, reason, value in award.rows:
        reward_id, _ = reward_repo.insert_reward(
            session,
            giver=giver,
            recipients=[(recipients[user_id], int(points))],
            citation=reason,
            idempotency_key=reward_key(award.short_id, int(line)),
            source=RewardSource.COMMAND,
            values=[value] if value else (),
            public=False,
            status=RewardStatus.QUEUED,
            expiry_months=expiry_months,
        )
        assert award.id is not None
        session.add(BulkRow(bulk_id=award.id, line=int(line), reward_id=reward_id))
        made.append(reward_id)
    session.flush()
    audit.append(
        session,
        actor=approved_by or giver.slack_user_id,
        action=AuditAction.BULK_CONFIRMED,
        subject_type="bulk",
        subject_id=award.short_id,
        before={"status": expected.value},
        after={
            "status": "sending",
            "rows": award.row_count,
            "total": award.total_points,
            "approved_by": approved_by,
        },
    )
    return made


def ask_approval(
    session: Session, *, award: BulkAward, actor: str, message: tuple[str, str] | None
) -> None:
    """previewed → pending_approval: the admin pressed Send and the total needs an OK."""
    audit.lock_chain(session)
    earlier = sent_like(session, digest=award.digest)
    if earlier is not None and earlier.id != award.id:
        raise SameRowsSent(earlier)
    where: dict[str, Any] = {}
    if message is not None:
        where = {"message_channel": message[0], "message_ts": message[1]}
    _step(session, award, expected=BulkStatus.PREVIEWED, new=BulkStatus.PENDING_APPROVAL, **where)
    audit.append(
        session,
        actor=actor,
        action=AuditAction.BULK_CONFIRMED,
        subject_type="bulk",
        subject_id=award.short_id,
        before={"status": "previewed"},
        after={"status": "pending_approval", "rows": award.row_count, "total": award.total_points},
    )


def reject(session: Session, *, award: BulkAward, actor: str) -> None:
    """pending_approval → rejected (BulkStepLost when it was decided before)."""
    _step(session, award, expected=BulkStatus.PENDING_APPROVAL, new=BulkStatus.REJECTED)
    audit.append(
        session,
        actor=actor,
        action=AuditAction.BULK_DECIDED,
        subject_type="bulk",
        subject_id=award.short_id,
        before={"status": "pending_approval"},
        after={"status": "rejected"},
    )


def cancel(session: Session, *, award: BulkAward, actor: str) -> None:
    """previewed → cancelled (BulkStepLost when it was sent or cancelled before)."""
    _step(session, award, expected=BulkStatus.PREVIEWED, new=BulkStatus.CANCELLED)
    audit.append(
        session,
        actor=actor,
        action=AuditAction.BULK_CANCELLED,
        subject_type="bulk",
        subject_id=award.short_id,
        before={"status": "previewed"},
        after={"status": "cancelled"},
    )


def counts(session: Session, *, bulk_id: int) -> dict[str, int]:
    """How many of the award's rewards are in each status."""
    found = session.exec(
        select(Reward.status, func.count())
        .join(BulkRow, col(BulkRow.reward_id) == col(Reward.id))
        .where(BulkRow.bulk_id == bulk_id)
        .group_by(Reward.status)
    ).all()
    return {str(status): int(n) for status, n in found}


def sending(session: Session) -> list[BulkAward]:
    """Awards whose rows are being delivered."""
    return list(
        session.exec(
            select(BulkAward)
            .where(BulkAward.status == BulkStatus.SENDING.value)
            .order_by(col(BulkAward.id))
        ).all()
    )


def finish(session: Session, *, award: BulkAward, tally: dict[str, int]) -> bool:
    """sending → done (False when another process finished it first), audited with the
    tally of outcomes."""
    try:
        _step(
            session, award, expected=BulkStatus.SENDING, new=BulkStatus.DONE, finished_at=utcnow()
        )
    except BulkStepLost:
        return False
    audit.append(
        session,
        actor=audit.SYSTEM,
        action=AuditAction.BULK_FINISHED,
        subject_type="bulk",
        subject_id=award.short_id,
        before={"status": "sending"},
        after={"status": "done", "outcomes": tally},
    )
    return True


def outcomes(session: Session, *, bulk_id: int) -> list[RowOutcome]:
    """Each row of a sent award: who, how much, and where its reward is now, in file order."""
    found = session.exec(
        select(  # type: ignore[call-overload]
            BulkRow.line,
            Member.slack_user_id,
            RewardRecipient.points,
            Reward.status,
            Reward.short_id,
        )
        .join(Reward, col(Reward.id) == col(BulkRow.reward_id))
        .join(RewardRecipient, col(RewardRecipient.reward_id) == col(Reward.id))
        .join(Member, col(Member.id) == col(RewardRecipient.member_id))
        .where(col(BulkRow.bulk_id) == bulk_id)
        .order_by(col(BulkRow.line))
    ).all()
    return [
        RowOutcome(line=line, recipient=uid, points=points, status=status, reward=short)
        for line, uid, points, status, short in found
    ]
