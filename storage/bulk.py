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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import func, insert, update
from sqlalchemy.orm import defer
from sqlmodel import Session, col, select

from storage import audit
from storage import rewards as reward_repo
from storage.audit import AuditAction
from storage.errors import StorageError
from storage.models import BulkAward, BulkRow, Member, Reward, RewardRecipient, RewardValue
from storage.states import BulkStatus, RecipientOutcome, RewardSource, RewardStatus
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


SAME_ROWS_WINDOW = timedelta(days=14)  # the same rows sent again within it: a mistake
SENT = (BulkStatus.PENDING_APPROVAL.value, BulkStatus.SENDING.value, BulkStatus.DONE.value)


def sent_like(session: Session, *, digest: str) -> BulkAward | None:
    """An award with the same rows sent (or waiting for an approver, or being sent) within
    `SAME_ROWS_WINDOW`, if any: sending them again would pay everyone twice. (The same
    awards weeks later, an on-call bonus say, are a new month's.)"""
    since = utcnow() - SAME_ROWS_WINDOW
    return session.exec(
        select(BulkAward)
        .where(BulkAward.digest == digest)
        .where(col(BulkAward.status).in_(SENT))
        .where(func.coalesce(col(BulkAward.confirmed_at), col(BulkAward.updated_at)) >= since)
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
    recipients: Mapping[str, int],
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
    made = _insert_rewards(
        session, award=award, giver=giver, recipients=recipients, expiry_months=expiry_months
    )
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


CHUNK = 500  # rows per statement: well under SQLite's 32,766 bound parameters


def _insert_rewards(
    session: Session,
    *,
    award: BulkAward,
    giver: Member,
    recipients: Mapping[str, int],
    expiry_months: int | None,
) -> list[int]:
    """Every row a queued reward to one person, as `rewards.create_reward` makes one (its
    row, its recipient, its value, its `reward.created` event), a few statements for the
    lot. Each is keyed `bulk:<short id>:<line>`, unique in the ledger."""
    assert award.id is not None and giver.id is not None
    if expiry_months is not None and not 1 <= expiry_months <= 120:
        raise ValueError("expiry_months must be between 1 and 120")
    rows = [(int(r[0]), str(r[1]), int(r[2]), str(r[3]), str(r[4])) for r in award.rows]
    for _line, user_id, points, reason, _value in rows:
        if points <= 0 or not reason.strip():
            raise ValueError("every row needs points above zero and a reason")
        if recipients[user_id] == giver.id:
            raise ValueError("nobody can reward themselves")
    now = utcnow()
    short_ids = _free_short_ids(session, len(rows))
    values = [
        {
            "short_id": short,
            "idempotency_key": reward_key(award.short_id, line),
            "giver_id": giver.id,
            "channel_id": None,
            "source": RewardSource.BULK.value,
            "citation": reason,
            "public": False,
            "status": RewardStatus.QUEUED.value,
            "total_points": points,
            "expiry_months": expiry_months,
            "attempts": 0,
            "created_at": now,
            "queued_at": now,
            "updated_at": now,
        }
        for short, (line, _user, points, reason, _value) in zip(short_ids, rows, strict=True)
    ]
    ids: list[int] = []
    for start in range(0, len(values), CHUNK):
        chunk = values[start : start + CHUNK]
        found = session.execute(
            insert(Reward).returning(col(Reward.id), sort_by_parameter_order=True), chunk
        ).all()
        ids += [int(r[0]) for r in found]
    people = [recipients[user_id] for _line, user_id, *_ in rows]  # member ids
    recipient_rows = [
        {
            "reward_id": reward_id,
            "member_id": member_id,
            "giver_id": giver.id,
            "channel_id": None,
            "points": points,
            "outcome": RecipientOutcome.PENDING.value,
            "updated_at": now,
        }
        for reward_id, member_id, (_line, _user, points, _reason, _value) in zip(
            ids, people, rows, strict=True
        )
    ]
    value_rows = [
        {"reward_id": reward_id, "value": value}
        for reward_id, (_line, _user, _points, _reason, value) in zip(ids, rows, strict=True)
        if value
    ]
    link_rows = [
        {"bulk_id": award.id, "line": line, "reward_id": reward_id}
        for reward_id, (line, *_rest) in zip(ids, rows, strict=True)
    ]
    for model, batch in (
        (RewardRecipient, recipient_rows),
        (RewardValue, value_rows),
        (BulkRow, link_rows),
    ):
        for start in range(0, len(batch), CHUNK):
            session.execute(insert(model), batch[start : start + CHUNK])
    audit.append_many(
        session,
        [
            audit.NewEvent(
                actor=giver.slack_user_id,
                action=AuditAction.REWARD_CREATED,
                subject_type="reward",
                subject_id=short,
                after={
                    "status": RewardStatus.QUEUED,
                    "giver": giver.slack_user_id,
                    "recipients": [{"member": user_id, "points": points}],
                    "total_points": points,
                    "citation": reason,
                    "values": [value] if value else [],
                    "source": RewardSource.BULK,
                    "channel_id": None,
                    "public": False,
                    "idempotency_key": reward_key(award.short_id, line),
                    "bulk": award.short_id,
                },
            )
            for short, (line, user_id, points, reason, value) in zip(short_ids, rows, strict=True)
        ],
    )
    return ids


def _free_short_ids(session: Session, count: int) -> list[str]:
    """`count` reward short ids, none in the ledger yet, none twice."""
    chosen: set[str] = set()
    while len(chosen) < count:
        wanted = count - len(chosen)
        fresh = {reward_repo.new_short_id() for _ in range(wanted)} - chosen
        taken: set[str] = set()
        pool = sorted(fresh)
        for start in range(0, len(pool), CHUNK):
            taken |= set(
                session.exec(
                    select(Reward.short_id).where(
                        col(Reward.short_id).in_(pool[start : start + CHUNK])
                    )
                ).all()
            )
        chosen |= fresh - taken
    return sorted(chosen)


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
    """Awards whose rows are being delivered (without their rows as checked: the progress
    watch reads this every few seconds)."""
    return list(
        session.exec(
            select(BulkAward)
            .options(defer(BulkAward.rows))  # type: ignore[arg-type]
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
