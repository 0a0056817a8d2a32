"""Audit checkpoints: one signed line, read back only when the signature holds, and compared
with the chain (deleted, rewritten or emptied chains are caught; a grown chain is not a problem)."""

from __future__ import annotations

import hashlib
import hmac
import re
from datetime import UTC, datetime

import pytest

from storage import audit
from storage.audit import AuditAction
from storage.audit_checkpoints import (
    PREFIX,
    BadCheckpoint,
    Checkpoint,
    check_checkpoint,
    check_checkpoints,
    current_checkpoint,
    latest,
    parse_checkpoint,
)
from storage.db import Store
from tests.storage.support import TEST_AUDIT_KEY, TestDatabase

KEY = TEST_AUDIT_KEY.encode()
AT = datetime(2026, 3, 2, 8, 20, tzinfo=UTC)
HASH = "ab" * 32


def checkpoint(event_id: int = 128, count: int = 128, head_hash: str = HASH) -> Checkpoint:
    return Checkpoint(event_id=event_id, count=count, head_hash=head_hash, at=AT)


def append_events(store: Store, n: int) -> None:
    with store.session() as s:
        for i in range(n):
            audit.append(
                s,
                actor="system",
                action=AuditAction.SETTING_CHANGED,
                subject_type="setting",
                subject_id=f"KEY_{i}",
                after={"value": i},
            )


# ── the line ─────────────────────────────────────────────────────────────────────────────


def test_a_checkpoint_is_one_short_signed_line_without_secrets() -> None:
    line = checkpoint().line(audit_key=KEY)
    assert line == (
        f"{PREFIX} v1 id=128 count=128 hash={HASH} at=2026-03-02T08:20:00Z sig="
        + line.rsplit("sig=", 1)[1]
    )
    assert re.fullmatch(r"[0-9a-f]{64}", line.rsplit("sig=", 1)[1])
    assert "\n" not in line and len(line) < 250
    assert TEST_AUDIT_KEY not in line
    assert parse_checkpoint(line, audit_key=KEY) == checkpoint()


def test_pasting_keeps_working_with_spaces_and_backticks_around() -> None:
    line = checkpoint().line(audit_key=KEY)
    assert parse_checkpoint(f"  `{line}`\n", audit_key=KEY) == checkpoint()


ALTERED = {
    "id": ("id=128 ", "id=129 "),
    "count": ("count=128 ", "count=127 "),
    "hash": (f"hash={HASH}", "hash=" + "cd" * 32),
    "time": ("at=2026-03-02T08:20:00Z", "at=2026-03-09T08:20:00Z"),
    "signature": ("sig=", "sig=0"),
}


@pytest.mark.parametrize("field", list(ALTERED))
def test_an_altered_field_is_rejected(field: str) -> None:
    line = checkpoint().line(audit_key=KEY)
    old, new = ALTERED[field]
    altered = line.replace(old, new)
    if field == "signature":
        altered = altered[:-1]  # still 64 hex digits, one of them changed
    assert altered != line
    with pytest.raises(BadCheckpoint, match="signature does not match"):
        parse_checkpoint(altered, audit_key=KEY)


def test_a_checkpoint_signed_with_another_key_is_rejected() -> None:
    forged = checkpoint().line(audit_key=b"someone-elses-key-0123456789")
    with pytest.raises(BadCheckpoint, match="another AUDIT_KEY"):
        parse_checkpoint(forged, audit_key=KEY)


@pytest.mark.parametrize(
    ("line", "said"),
    [
        ("", "not an audit checkpoint"),
        ("hello there", "not an audit checkpoint"),
        (f"{PREFIX} v2 id=1 count=1", "version 'v2'"),
        (f"{PREFIX} v1 id=1 count=1 hash=abc", "garbled"),
        (f"{PREFIX} v1 id=0 count=1 hash={HASH} at=2026-03-02T08:20:00Z sig={HASH}", "garbled"),
        (f"{PREFIX} v1 count=1 id=1 hash={HASH} at=2026-03-02T08:20:00Z sig={HASH}", "garbled"),
    ],
    ids=["empty", "prose", "version", "short", "event zero", "order"],
)
def test_lines_that_are_not_checkpoints_say_why(line: str, said: str) -> None:
    with pytest.raises(BadCheckpoint, match=said):
        parse_checkpoint(line, audit_key=KEY)


def test_an_impossible_date_is_rejected_even_when_signed() -> None:
    body = f"{PREFIX} v1 id=1 count=1 hash={HASH} at=2026-02-30T08:20:00Z"
    sig = hmac.new(KEY, body.encode(), hashlib.sha256).hexdigest()
    with pytest.raises(BadCheckpoint, match="not a real date"):
        parse_checkpoint(f"{body} sig={sig}", audit_key=KEY)


def test_a_checkpoint_needs_a_real_head() -> None:
    with pytest.raises(ValueError, match="64 hex"):
        checkpoint(head_hash="not-a-hash")
    with pytest.raises(ValueError, match="at least one event"):
        checkpoint(event_id=0, count=0)


def test_the_latest_checkpoint_is_the_one_that_reaches_furthest() -> None:
    early, far = checkpoint(event_id=10, count=10), checkpoint(event_id=20, count=20)
    assert latest([far, early]) == far
    assert latest([]) is None


# ── against the chain ────────────────────────────────────────────────────────────────────


def test_the_current_checkpoint_is_the_head_and_the_count(db: TestDatabase) -> None:
    with db.store.read_session() as s:
        assert current_checkpoint(s) is None
    append_events(db.store, 5)
    with db.store.read_session() as s:
        found = current_checkpoint(s, at=datetime(2026, 3, 2, 8, 20, 31, 999, tzinfo=UTC))
        head = audit.verify_chain(s, audit_key=KEY)
    assert found is not None
    assert (found.event_id, found.count, found.head_hash) == (5, 5, head.last_hash)
    assert found.at == datetime(2026, 3, 2, 8, 20, 31, tzinfo=UTC)


def test_a_grown_chain_agrees_with_its_checkpoint(db: TestDatabase) -> None:
    append_events(db.store, 3)
    with db.store.read_session() as s:
        taken = current_checkpoint(s)
    assert taken is not None
    append_events(db.store, 4)
    with db.store.read_session() as s:
        chain = audit.verify_chain(s, audit_key=KEY)
        assert check_checkpoint(s, taken) is None
        assert check_checkpoints(s, [taken], chain=chain) is None


def test_a_checkpoint_past_the_end_counts_what_is_missing(db: TestDatabase) -> None:
    append_events(db.store, 4)
    with db.store.read_session() as s:
        real = current_checkpoint(s)
        chain = audit.verify_chain(s, audit_key=KEY)
    assert real is not None
    beyond = Checkpoint(event_id=7, count=7, head_hash=HASH, at=AT)
    with db.store.read_session() as s:
        exact = check_checkpoint(s, beyond)
        fast = check_checkpoints(s, [real, beyond], chain=chain)
    assert exact == fast
    assert fast is not None and fast.checkpoint == beyond
    assert (fast.held, fast.missing, fast.hash_now) == (4, 3, None)
    assert (
        str(fast) == "it recorded 7 events up to event 7; the database holds 4 of them (3 missing)"
    )


def test_a_replaced_event_is_caught_by_its_hash(db: TestDatabase) -> None:
    append_events(db.store, 4)
    with db.store.read_session() as s:
        real = current_checkpoint(s)
        chain = audit.verify_chain(s, audit_key=KEY)
    assert real is not None
    replaced = Checkpoint(event_id=real.event_id, count=real.count, head_hash=HASH, at=AT)
    with db.store.read_session() as s:
        found = check_checkpoints(s, [real, replaced], chain=chain)
        assert check_checkpoint(s, replaced) == found
    assert found is not None and found.missing == 0 and found.hash_now == real.head_hash
    assert "has another hash (the events up to it were replaced)" in str(found)


def test_an_emptied_trail_holds_none_of_them(db: TestDatabase) -> None:
    with db.store.read_session() as s:
        chain = audit.verify_chain(s, audit_key=KEY)
        found = check_checkpoints(s, [checkpoint(event_id=3, count=3)], chain=chain)
    assert found is not None
    assert str(found).endswith("the database holds none of them (3 missing)")


def test_checkpoints_are_only_compared_with_a_chain_that_verified(db: TestDatabase) -> None:
    broken = audit.VerifyResult(
        count=0,
        last_id=None,
        last_hash=None,
        broken=audit.BrokenEvent(id=1, at=None, action=None, problem="is missing"),
    )
    with db.store.read_session() as s, pytest.raises(ValueError, match="verified"):
        check_checkpoints(s, [checkpoint()], chain=broken)
