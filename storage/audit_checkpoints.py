"""Checkpoints of the audit chain's head: signed lines that can be kept where the database can't
reach them, and how the chain is checked against them.

The chain alone cannot show that its newest events were deleted: what is left is a valid, shorter
chain. A checkpoint remembers how far it went. It says: at `at`, the chain ended at event
`event_id`, whose hash was `head_hash`, and held `count` events. It is one line a person can paste:

    rewardbot-audit-checkpoint v1 id=128 count=128 hash=<64 hex> at=2026-03-02T08:20:00Z sig=<hex>

`sig` is HMAC-SHA256 under AUDIT_KEY over everything before ` sig=`. That text starts with
`rewardbot-`, never with the 64 hex digits every event's HMAC message starts with, so a signature
can never pass for an event hash or the other way round. Someone with only database access can
neither forge nor alter a checkpoint. The line holds no secret: an event hash is an HMAC output,
and the key never appears.

What a checkpoint proves: the events up to `event_id` existed, with these hashes, at `at`. It
says nothing about events appended after it: those are chained, but not yet anchored.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import bindparam, text
from sqlmodel import Session

from storage.audit import VerifyResult
from storage.types import utcnow

PREFIX = "rewardbot-audit-checkpoint"
VERSION = "v1"
_AT_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
_HASH = re.compile(r"^[0-9a-f]{64}$")
_LINE = re.compile(
    rf"^{PREFIX} {VERSION} id=(?P<id>[1-9][0-9]{{0,17}}) count=(?P<count>[1-9][0-9]{{0,17}}) "
    r"hash=(?P<hash>[0-9a-f]{64}) at=(?P<at>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ) "
    r"sig=(?P<sig>[0-9a-f]{64})$"
)
_LOOKUP_BATCH = 500


class BadCheckpoint(ValueError):
    """A line that is not a checkpoint this AUDIT_KEY signed; the message says why."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Checkpoint:
    event_id: int  # the newest event when the checkpoint was taken
    count: int  # events in the chain up to and including it
    head_hash: str  # that event's hash
    at: datetime  # when, UTC, whole seconds

    def __post_init__(self) -> None:
        if self.event_id < 1 or self.count < 1:
            raise ValueError("a checkpoint needs at least one event")
        if not _HASH.match(self.head_hash):
            raise ValueError(f"event {self.event_id}'s hash is not 64 hex digits")
        if self.at.tzinfo is None:
            raise ValueError("a checkpoint's time must be timezone-aware")

    @property
    def when(self) -> str:
        """`2026-03-02 08:20:00 UTC`, for people."""
        return f"{self.at.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC"

    def body(self) -> str:
        """The signed part of the line."""
        at = self.at.astimezone(UTC).strftime(_AT_FORMAT)
        return (
            f"{PREFIX} {VERSION} id={self.event_id} count={self.count} "
            f"hash={self.head_hash} at={at}"
        )

    def line(self, *, audit_key: bytes) -> str:
        """The checkpoint as one signed line of text."""
        body = self.body()
        return f"{body} sig={_sign(audit_key, body)}"


def _sign(audit_key: bytes, body: str) -> str:
    return hmac.new(audit_key, body.encode("ascii"), hashlib.sha256).hexdigest()


def parse_checkpoint(line: str, *, audit_key: bytes) -> Checkpoint:
    """The checkpoint in `line` (surrounding spaces and backticks ignored), if its signature
    verifies under `audit_key`. Raises BadCheckpoint saying why not."""
    line = line.strip().strip("`").strip()
    match = _LINE.match(line)
    if match is None:
        if not line.startswith(PREFIX + " "):
            raise BadCheckpoint(f"not an audit checkpoint (those start with `{PREFIX}`)")
        version = line.split(" ", 2)[1] if line.count(" ") else ""
        if version != VERSION:
            raise BadCheckpoint(f"a checkpoint of version {version!r}, which this bot can't read")
        raise BadCheckpoint("garbled: expected id=, count=, hash=, at= and sig=, in that order")
    body = line.rsplit(" sig=", 1)[0]
    if not hmac.compare_digest(_sign(audit_key, body), match["sig"]):
        raise BadCheckpoint(
            "its signature does not match: altered, forged, or signed with another AUDIT_KEY"
        )
    try:
        at = datetime.strptime(match["at"], _AT_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        raise BadCheckpoint(f"its time {match['at']} is not a real date") from None
    return Checkpoint(
        event_id=int(match["id"]), count=int(match["count"]), head_hash=match["hash"], at=at
    )


def current_checkpoint(session: Session, *, at: datetime | None = None) -> Checkpoint | None:
    """A checkpoint of the chain's head as this transaction sees it; None when it is empty.
    One statement, so the head and the count come from the same snapshot."""
    row = (
        session.connection()
        .execute(
            text(
                "SELECT id, hash, (SELECT COUNT(*) FROM audit_events) AS n "
                "FROM audit_events ORDER BY id DESC LIMIT 1"
            )
        )
        .first()
    )
    if row is None:
        return None
    moment = (at or utcnow()).astimezone(UTC).replace(microsecond=0)
    return Checkpoint(event_id=int(row[0]), count=int(row[2]), head_hash=str(row[1]), at=moment)


# ---------------------------------------------------------------- checking the chain against them


@dataclass(frozen=True, slots=True, kw_only=True)
class Contradiction:
    """The database no longer holds what `checkpoint` recorded."""

    checkpoint: Checkpoint
    held: int  # events the database holds up to the checkpoint's event
    hash_now: str | None  # that event's hash now; None when it is gone

    @property
    def missing(self) -> int:
        return max(self.checkpoint.count - self.held, 0)

    def __str__(self) -> str:
        c = self.checkpoint
        if self.missing:
            held = f"{self.held:,} of them" if self.held else "none of them"
            return (
                f"it recorded {c.count:,} events up to event {c.event_id}; the database holds "
                f"{held} ({self.missing:,} missing)"
            )
        return (
            f"it recorded event {c.event_id} with hash {c.head_hash[:12]}…; the database's "
            f"event {c.event_id} has another hash (the events up to it were replaced)"
        )


def check_checkpoint(session: Session, checkpoint: Checkpoint) -> Contradiction | None:
    """Whether the database still holds `checkpoint`'s event with its hash, and at least its
    count of events up to it (exact, whatever state the chain is in)."""
    row = (
        session.connection()
        .execute(
            text(
                "SELECT (SELECT hash FROM audit_events WHERE id = :id), "
                "(SELECT COUNT(*) FROM audit_events WHERE id <= :id)"
            ),
            {"id": checkpoint.event_id},
        )
        .one()
    )
    hash_now, held = (str(row[0]) if row[0] is not None else None), int(row[1])
    if held < checkpoint.count or hash_now != checkpoint.head_hash:
        return Contradiction(checkpoint=checkpoint, held=held, hash_now=hash_now)
    return None


def check_checkpoints(
    session: Session, checkpoints: Iterable[Checkpoint], *, chain: VerifyResult
) -> Contradiction | None:
    """The newest of `checkpoints` that `chain` contradicts, or None. `chain` must have
    verified (events 1..chain.count, each following the last), so the events held up to a
    checkpoint's event are simply those ids; the hashes are read in batches."""
    if not chain.ok:
        raise ValueError("check checkpoints against a chain that verified")
    ordered = sorted(set(checkpoints), key=lambda c: (c.event_id, c.at))
    hashes = _hashes(session, sorted({c.event_id for c in ordered if c.event_id <= chain.count}))
    found: Contradiction | None = None
    for checkpoint in ordered:
        held = min(checkpoint.event_id, chain.count)
        hash_now = hashes.get(checkpoint.event_id)
        if held < checkpoint.count or hash_now != checkpoint.head_hash:
            found = Contradiction(checkpoint=checkpoint, held=held, hash_now=hash_now)
    return found


def _hashes(session: Session, ids: Sequence[int]) -> dict[int, str]:
    query = text("SELECT id, hash FROM audit_events WHERE id IN :ids").bindparams(
        bindparam("ids", expanding=True)
    )
    found: dict[int, str] = {}
    for start in range(0, len(ids), _LOOKUP_BATCH):
        batch = list(ids[start : start + _LOOKUP_BATCH])
        for event_id, event_hash in session.connection().execute(query, {"ids": batch}).all():
            found[int(event_id)] = str(event_hash)
    return found


def latest(checkpoints: Iterable[Checkpoint]) -> Checkpoint | None:
    """The checkpoint that reaches furthest (the newest of those, on a tie)."""
    return max(checkpoints, key=lambda c: (c.event_id, c.at), default=None)
