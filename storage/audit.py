"""The audit trail: append-only events chained with HMAC-SHA256 under AUDIT_KEY.

Each event stores `prev_hash` (the previous event's hash; 64 zeros for the first) and
`hash = HMAC-SHA256(AUDIT_KEY, prev_hash + canonical JSON of the event's fields)`. Event ids are
consecutive (1, 2, 3, …), assigned under the chain lock, so a deleted event leaves a visible gap.
Someone with database access but without AUDIT_KEY can neither edit an event nor forge a chain.

Appends are serialized: on PostgreSQL by a transaction-scoped advisory lock (per schema), on
SQLite by the write lock every transaction takes (`BEGIN IMMEDIATE`). Repository functions take
the lock before their first change (`lock_chain`) so lock order is always the same.

No code path updates or deletes an event; on PostgreSQL a trigger refuses it (migration 0001).
Events never carry reward links, voucher codes, pins or tokens: `append` refuses such keys.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import Enum, StrEnum
from typing import Any, Literal, TextIO

from sqlalchemy import text
from sqlmodel import Session, select

from storage.csv_cells import csv_cell
from storage.db import INFO_AUDIT_KEY, INFO_AUDITED, INFO_CORRELATION_ID
from storage.models import AuditEvent
from storage.types import utcnow

GENESIS_HASH = "0" * 64
SYSTEM = "system"
_LOCK_CLASS = 0x52424154  # "RBAT": the audit chain's advisory lock class (per schema)
_FORBIDDEN_KEYS = frozenset(
    {
        "link",
        "links",
        "voucher_code",
        "vouchercode",
        "vouchers",
        "pin",
        "token",
        "access_token",
        "refresh_token",
        "client_secret",
        "ciphertext",
    }
)
HASHED_FIELDS = (
    "id",
    "at",
    "actor",
    "action",
    "subject_type",
    "subject_id",
    "before",
    "after",
    "reason",
    "correlation_id",
    "prev_hash",
)
EXPORT_FIELDS = (*HASHED_FIELDS, "hash")


class AuditAction(StrEnum):
    REWARD_CREATED = "reward.created"
    REWARD_STATUS_CHANGED = "reward.status_changed"
    REWARD_CANCELLED = "reward.cancelled"
    REWARD_CANCEL_REFUSED = "reward.cancel_refused"
    REWARD_SETTLED = "reward.settled"
    REWARD_EXPIRED = "reward.expired"
    APPROVAL_DECIDED = "approval.decided"
    LINK_BATCH_CREATED = "link_batch.created"
    LINK_BATCH_COMPLETED = "link_batch.completed"
    LINK_BATCH_FAILED = "link_batch.failed"
    ORDER_REQUESTED = "order.requested"
    ORDER_PLACED = "order.placed"
    ORDER_FAILED = "order.failed"
    ORDER_UNKNOWN = "order.unknown"
    ORDER_DECIDED = "order.decided"
    ORDER_SENDING = "order.sending"
    ORDER_DELIVERY = "order.delivery"
    ORDER_REVEALED = "order.revealed"
    MEMBER_ROLE_CHANGED = "member.role_changed"
    MEMBER_MANAGER_SET = "member.manager_set"
    MEMBER_LOCKED = "member.locked"
    MEMBER_UNLOCKED = "member.unlocked"
    ALLOWANCE_SET = "allowance.set"
    ALLOWANCE_REMOVED = "allowance.removed"
    GROUP_REWARD_PREVIEWED = "group_reward.previewed"
    GROUP_REWARD_CONFIRMED = "group_reward.confirmed"
    GROUP_REWARD_CANCELLED = "group_reward.cancelled"
    FLAG_RAISED = "flag.raised"
    FLAG_DECIDED = "flag.decided"
    REWARD_HELD = "reward.held"
    SETTING_CHANGED = "setting.changed"
    POINT_SYSTEM_CHOSEN = "point_system.chosen"
    POINTS_CREDITED = "points.credited"
    POINTS_REDEEMED = "points.redeemed"
    POINTS_REFUNDED = "points.refunded"
    POINTS_EXPIRED = "points.expired"
    POINTS_TAKEN_BACK = "points.taken_back"
    POINTS_ADJUSTED = "points.adjusted"
    BULK_UPLOADED = "bulk.uploaded"  # a bulk file checked: previewed, or rejected with its rows
    BULK_CONFIRMED = "bulk.confirmed"  # Send pressed: its rows are rewards, or it waits for an OK
    BULK_DECIDED = "bulk.decided"  # an approver rejected it (an approval is `bulk.confirmed`)
    BULK_CANCELLED = "bulk.cancelled"
    BULK_FINISHED = "bulk.finished"  # every row has an outcome
    REWARD_REPORTED = "reward.reported"
    REPORT_DECIDED = "report.decided"
    STOREFRONT_ACCESS_REVOKED = "storefront.access_revoked"
    PEOPLE_IMPORTED = "people.imported"  # celebration dates (counts only, never the dates)
    CELEBRATIONS_CHOSEN = "celebrations.chosen"  # someone opted out of celebrations, or in


def jsonable(value: Any) -> Any:
    """Plain JSON types only: Decimal and dates become strings, enums their values."""
    if isinstance(value, Enum):
        return jsonable(value.value)
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if value == value and value not in (float("inf"), float("-inf")) else None
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return _iso(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, set | frozenset):
        return sorted(jsonable(v) for v in value)
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    raise TypeError(f"cannot store a {type(value).__name__} in an audit event")


def _iso(value: datetime) -> str:
    if value.tzinfo is None:
        raise ValueError("naive datetime in an audit event")
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def compute_hash(key: bytes, fields: Mapping[str, Any]) -> str:
    payload = {name: fields[name] for name in HASHED_FIELDS}
    payload["at"] = _iso(payload["at"]) if isinstance(payload["at"], datetime) else payload["at"]
    message = fields["prev_hash"] + canonical_json(payload)
    return hmac.new(key, message.encode("utf-8"), hashlib.sha256).hexdigest()


def _check_no_secrets(value: Any, where: str) -> None:
    if isinstance(value, Mapping):
        for k, v in value.items():
            if str(k).lower() in _FORBIDDEN_KEYS:
                raise ValueError(f"audit events never hold secrets: {where} has key {k!r}")
            _check_no_secrets(v, where)
    elif isinstance(value, list):
        for v in value:
            _check_no_secrets(v, where)


def lock_chain(session: Session) -> None:
    """Serialize audit appends until this transaction ends (PostgreSQL; SQLite already is)."""
    if session.get_bind().dialect.name == "postgresql":
        session.connection().execute(
            text("SELECT pg_advisory_xact_lock(:cls, hashtext(current_schema()))"),
            {"cls": _LOCK_CLASS},
        )


def _audit_key(session: Session) -> bytes:
    key = session.info.get(INFO_AUDIT_KEY)
    if not isinstance(key, bytes) or not key:
        raise RuntimeError("this session has no AUDIT_KEY: open it with Store.session()")
    return key


_EVENTS = AuditEvent.__table__  # type: ignore[attr-defined]
_HEAD = select(_EVENTS.c.id, _EVENTS.c.hash).order_by(_EVENTS.c.id.desc()).limit(1)
_INSERT_EVENT = _EVENTS.insert()


def append(
    session: Session,
    *,
    actor: str,
    action: AuditAction | str,
    subject_type: str,
    subject_id: object,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
    reason: str | None = None,
    correlation_id: str | None = None,
) -> AuditEvent:
    """Append one event to the chain, in the caller's transaction."""
    key = _audit_key(session)
    before_json = json.loads(canonical_json(jsonable(before))) if before is not None else None
    after_json = json.loads(canonical_json(jsonable(after))) if after is not None else None
    _check_no_secrets(before_json, "before")
    _check_no_secrets(after_json, "after")
    lock_chain(session)
    session.flush()  # what the caller added goes in first, as when events were ORM objects
    conn = session.connection()
    last = conn.execute(_HEAD).first()
    fields: dict[str, Any] = {
        "id": (last[0] + 1) if last else 1,
        "at": utcnow(),
        "actor": actor,
        "action": str(action),
        "subject_type": subject_type,
        "subject_id": str(subject_id),
        "before": before_json,
        "after": after_json,
        "reason": reason,
        "correlation_id": correlation_id or session.info.get(INFO_CORRELATION_ID),
        "prev_hash": last[1] if last else GENESIS_HASH,
    }
    digest = compute_hash(key, fields)
    # Built once, executed on the session's connection: an event is never changed, so the
    # ORM's unit of work has nothing to track.
    conn.execute(_INSERT_EVENT, {**fields, "hash": digest})
    session.info[INFO_AUDITED] = True
    return AuditEvent(**fields, hash=digest)


@dataclass(frozen=True, slots=True)
class NewEvent:
    """One event for `append_many`."""

    actor: str
    action: AuditAction | str
    subject_type: str
    subject_id: object
    after: Mapping[str, Any] | None = None
    before: Mapping[str, Any] | None = None
    reason: str | None = None


def append_many(session: Session, events: Sequence[NewEvent]) -> None:
    """Append events to the chain in order, as `append` would one by one, in one statement
    (thousands of rewards made at once: a bulk file)."""
    if not events:
        return
    key = _audit_key(session)
    lock_chain(session)
    session.flush()
    conn = session.connection()
    last = conn.execute(_HEAD).first()
    next_id, prev = ((last[0] + 1), last[1]) if last else (1, GENESIS_HASH)
    at = utcnow()
    correlation = session.info.get(INFO_CORRELATION_ID)
    rows = []
    for event in events:
        before_json = (
            json.loads(canonical_json(jsonable(event.before))) if event.before is not None else None
        )
        after_json = (
            json.loads(canonical_json(jsonable(event.after))) if event.after is not None else None
        )
        _check_no_secrets(before_json, "before")
        _check_no_secrets(after_json, "after")
        fields: dict[str, Any] = {
            "id": next_id,
            "at": at,
            "actor": event.actor,
            "action": str(event.action),
            "subject_type": event.subject_type,
            "subject_id": str(event.subject_id),
            "before": before_json,
            "after": after_json,
            "reason": event.reason,
            "correlation_id": correlation,
            "prev_hash": prev,
        }
        digest = compute_hash(key, fields)
        rows.append({**fields, "hash": digest})
        next_id, prev = next_id + 1, digest
    conn.execute(_INSERT_EVENT, rows)
    session.info[INFO_AUDITED] = True


# ---------------------------------------------------------------- reading, verifying, exporting


@dataclass(frozen=True, slots=True)
class EventRow:
    """An event read without trusting its contents (a hand-edited row may not even parse)."""

    id: int
    fields: dict[str, Any] | None  # None when the row cannot be parsed
    hash: str | None
    problem: str | None = None

    def describe(self) -> str:
        if self.fields is None:
            return f"event {self.id}"
        return f"event {self.id} ({self.fields['at']}, {self.fields['action']})"


@dataclass(frozen=True, slots=True)
class BrokenEvent:
    id: int
    at: str | None
    action: str | None
    problem: str

    def __str__(self) -> str:
        where = f" ({self.at}, {self.action})" if self.at else ""
        return f"event {self.id}{where}: {self.problem}"


@dataclass(frozen=True, slots=True)
class VerifyResult:
    count: int  # events verified before the first break (all of them when ok)
    last_id: int | None
    last_hash: str | None
    broken: BrokenEvent | None

    @property
    def ok(self) -> bool:
        return self.broken is None


_RAW_COLUMNS = ", ".join(EXPORT_FIELDS)


def _parse_at(value: Any) -> str:
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return _iso(moment)


def _parse_json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str | bytes) else value


def _to_row(raw: Mapping[Any, Any]) -> EventRow:
    try:
        fields = {name: raw[name] for name in HASHED_FIELDS}
        fields["id"] = int(raw["id"])
        fields["at"] = _parse_at(raw["at"])
        fields["before"] = _parse_json(raw["before"])
        fields["after"] = _parse_json(raw["after"])
        for name in ("actor", "action", "subject_type", "subject_id", "prev_hash"):
            if not isinstance(fields[name], str):
                raise ValueError(f"{name} is not text")
    except (ValueError, TypeError) as err:
        return EventRow(id=int(raw["id"]), fields=None, hash=None, problem=str(err))
    return EventRow(id=fields["id"], fields=fields, hash=raw["hash"])


def iter_rows(
    session: Session,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    batch_size: int = 1000,
) -> Iterator[EventRow]:
    """Events in id order, read raw in batches (the ORM would choke on a garbled row)."""
    conditions = ["id > :after"]
    params: dict[str, Any] = {"limit": batch_size}
    if since is not None:
        conditions.append("at >= :since")
        params["since"] = _bind_time(session, since)
    if until is not None:
        conditions.append("at < :until")
        params["until"] = _bind_time(session, until)
    sql = text(
        f"SELECT {_RAW_COLUMNS} FROM audit_events WHERE {' AND '.join(conditions)} "
        "ORDER BY id LIMIT :limit"
    )
    after = 0
    while True:
        rows = session.connection().execute(sql, {**params, "after": after}).mappings().all()
        if not rows:
            return
        for raw in rows:
            yield _to_row(raw)
        after = int(rows[-1]["id"])


def _bind_time(session: Session, moment: datetime) -> Any:
    moment = moment.astimezone(UTC)
    if session.get_bind().dialect.name == "sqlite":
        return moment.replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")
    return moment


def verify_chain(session: Session, *, audit_key: bytes) -> VerifyResult:
    """Walk the whole chain; stop at the first event that is missing, garbled or forged."""
    expected_id, prev_hash, count = 1, GENESIS_HASH, 0
    last_id: int | None = None
    for row in iter_rows(session):
        broken = _check(row, expected_id=expected_id, prev_hash=prev_hash, key=audit_key)
        if broken is not None:
            return VerifyResult(count=count, last_id=last_id, last_hash=prev_hash, broken=broken)
        count += 1
        last_id = row.id
        prev_hash = row.hash or ""
        expected_id = row.id + 1
    return VerifyResult(
        count=count, last_id=last_id, last_hash=prev_hash if count else None, broken=None
    )


def newest_signed_with(session: Session, *, audit_key: bytes) -> bool | None:
    """Whether the newest event's hash was made with `audit_key` (None: there is no event): a
    quick test that AUDIT_KEY is the key the trail was written with (`verify_chain` walks all)."""
    sql = text(f"SELECT {_RAW_COLUMNS} FROM audit_events ORDER BY id DESC LIMIT 1")
    raw = session.connection().execute(sql).mappings().first()
    if raw is None:
        return None
    row = _to_row(raw)
    if row.fields is None or not isinstance(row.hash, str):
        return False
    return hmac.compare_digest(compute_hash(audit_key, row.fields), row.hash)


def _check(row: EventRow, *, expected_id: int, prev_hash: str, key: bytes) -> BrokenEvent | None:
    if row.id != expected_id:
        return BrokenEvent(
            id=expected_id,
            at=None,
            action=None,
            problem=f"is missing (the chain jumps from event {expected_id - 1} to {row.id})",
        )
    if row.fields is None:
        return BrokenEvent(id=row.id, at=None, action=None, problem=f"unreadable ({row.problem})")
    at, action = row.fields["at"], row.fields["action"]
    if row.fields["prev_hash"] != prev_hash:
        return BrokenEvent(
            id=row.id,
            at=at,
            action=action,
            problem="does not follow the previous event (prev_hash differs)",
        )
    if not isinstance(row.hash, str) or not hmac.compare_digest(
        compute_hash(key, row.fields), row.hash
    ):
        return BrokenEvent(
            id=row.id,
            at=at,
            action=action,
            problem="its contents do not match its hash (edited, or a different AUDIT_KEY)",
        )
    return None


ExportFormat = Literal["csv", "jsonl"]


def export_events(
    session: Session,
    *,
    since: datetime | None,
    until: datetime | None,
    fmt: ExportFormat,
    out: TextIO,
) -> int:
    """Write events with since <= at < until to `out` as CSV or JSON lines; return the count."""
    writer = csv.writer(out) if fmt == "csv" else None
    if writer is not None:
        writer.writerow(EXPORT_FIELDS)
    count = 0
    for row in iter_rows(session, since=since, until=until):
        record: dict[str, Any] = dict(row.fields) if row.fields is not None else {"id": row.id}
        record["hash"] = row.hash
        if writer is not None:
            writer.writerow([_csv_cell(record.get(name)) for name in EXPORT_FIELDS])
        else:
            out.write(canonical_json({name: record.get(name) for name in EXPORT_FIELDS}) + "\n")
        count += 1
    return count


def _csv_cell(value: Any) -> str | int | float:
    """`before` and `after` as JSON; every cell through the guard all CSVs use."""
    return csv_cell(canonical_json(value) if isinstance(value, dict | list) else value)


def events_for(session: Session, *, subject_type: str, subject_id: object) -> list[AuditEvent]:
    """The trail of one subject (e.g. a reward), oldest first."""
    return list(
        session.exec(
            select(AuditEvent)
            .where(AuditEvent.subject_type == subject_type)
            .where(AuditEvent.subject_id == str(subject_id))
            .order_by(AuditEvent.id)  # type: ignore[arg-type]
        ).all()
    )
