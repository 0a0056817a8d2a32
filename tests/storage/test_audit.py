"""The audit trail: HMAC chain, tamper detection through `rewardbot audit verify`, export."""

from __future__ import annotations

import csv
import io
import itertools
import json
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest
import time_machine
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from bot.cli import main
from storage import audit, members, rewards
from storage.audit import GENESIS_HASH, AuditAction
from storage.db import Store
from storage.states import RewardStatus
from tests.storage.support import TEST_AUDIT_KEY, TestDatabase


def _history(store: Store) -> None:
    """Eight events spread over three days (ids 1..8)."""
    days = [datetime(2025, 3, d, 12, tzinfo=UTC) for d in (1, 2, 3)]
    with time_machine.travel(days[0], tick=False), store.session(correlation_id="ref-1") as s:
        giver = members.upsert_member(s, team_id="T", slack_user_id="UGIVER")
        alice = members.upsert_member(s, team_id="T", slack_user_id="UALICE")
        members.set_role(s, member=alice, role="approver", actor="UADMIN", reason="lead")  # 1
        r = rewards.create_reward(  # 2
            s, giver=giver, recipients=[(alice, 5)], citation="thanks", idempotency_key="a"
        ).reward
    with time_machine.travel(days[1], tick=False):
        with store.session() as s:
            rewards.claim_for_delivery(s, reward_id=r.id)  # 3
        with store.session() as s:
            rewards.record_delivery(s, reward_id=r.id, outcome=RewardStatus.SENT)  # 4
    with time_machine.travel(days[2], tick=False), store.session() as s:
        for i in range(4):  # 5..8
            audit.append(
                s,
                actor="system",
                action=AuditAction.SETTING_CHANGED,
                subject_type="setting",
                subject_id=f"KEY_{i}",
                before={"value": i},
                after={"value": i + 1},
                reason="restart",
            )


def _cli(db: TestDatabase, monkeypatch, tmp_path: Path, *args: str) -> int:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", db.url)
    monkeypatch.setenv("AUDIT_KEY", TEST_AUDIT_KEY)
    return main(["audit", *args])


def test_every_event_is_chained_to_the_previous_one(db: TestDatabase) -> None:
    _history(db.store)
    with db.store.read_session() as s:
        rows = list(audit.iter_rows(s))
        result = audit.verify_chain(s, audit_key=TEST_AUDIT_KEY.encode())
    assert [r.id for r in rows] == list(range(1, 9))
    assert rows[0].fields["prev_hash"] == GENESIS_HASH  # type: ignore[index]
    for before, after in itertools.pairwise(rows):
        assert after.fields["prev_hash"] == before.hash  # type: ignore[index]
    assert result.ok and result.count == 8 and result.last_id == 8
    assert rows[0].fields["correlation_id"] == "ref-1"  # type: ignore[index]


def test_verify_reports_the_count(db: TestDatabase, monkeypatch, tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    _history(db.store)
    assert _cli(db, monkeypatch, tmp_path, "verify") == 0
    assert capsys.readouterr().out.startswith("verified 8 events")


def test_verify_with_another_key_fails_at_the_first_event(
    db: TestDatabase, monkeypatch, tmp_path, capsys
) -> None:  # type: ignore[no-untyped-def]
    _history(db.store)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", db.url)
    monkeypatch.setenv("AUDIT_KEY", "someone-elses-key-0123456789")
    assert main(["audit", "verify"]) == 1
    assert "event 1 (" in capsys.readouterr().err


TAMPERING = {
    "at": "UPDATE audit_events SET at = '2025-03-02 12:00:00.000001' WHERE id = 5",
    "at garbled": "UPDATE audit_events SET at = 'yesterday' WHERE id = 5",
    "actor": "UPDATE audit_events SET actor = 'UMALLORY' WHERE id = 5",
    "action": "UPDATE audit_events SET action = 'reward.created' WHERE id = 5",
    "subject_type": "UPDATE audit_events SET subject_type = 'reward' WHERE id = 5",
    "subject_id": "UPDATE audit_events SET subject_id = 'KEY_9' WHERE id = 5",
    "before": "UPDATE audit_events SET before = '{\"value\": 100}' WHERE id = 5",
    "before garbled": "UPDATE audit_events SET before = '{not json' WHERE id = 5",
    "after": "UPDATE audit_events SET after = NULL WHERE id = 5",
    "reason": "UPDATE audit_events SET reason = 'nothing to see' WHERE id = 5",
    "correlation_id": "UPDATE audit_events SET correlation_id = 'ref-9' WHERE id = 5",
    "prev_hash": "UPDATE audit_events SET prev_hash = hash WHERE id = 5",
    "hash": "UPDATE audit_events SET hash = substr(hash, 2) || 'x' WHERE id = 5",
    "deleted": "DELETE FROM audit_events WHERE id = 5",
    "renumbered": "UPDATE audit_events SET id = 50 WHERE id = 5",
}


@pytest.mark.parametrize("change", list(TAMPERING))
def test_editing_any_row_by_hand_is_caught_and_named(
    change: str, tmp_path: Path, monkeypatch, capsys
) -> None:  # type: ignore[no-untyped-def]
    from tests.storage.support import ledger_database

    with ledger_database("sqlite", tmp_path=tmp_path) as db:
        _history(db.store)
        db.engine.dispose()
        raw = sqlite3.connect(db.path)  # type: ignore[arg-type]
        raw.execute(TAMPERING[change])
        raw.commit()
        raw.close()

        assert _cli(db, monkeypatch, tmp_path, "verify") == 1

    err = capsys.readouterr().err
    assert "audit trail BROKEN at event 5" in err
    assert "4 events before it verified" in err
    if change not in ("deleted", "renumbered", "at garbled", "before garbled"):
        assert "2025-03-03T12:00:00" in err or "2025-03-02T12:00:00" in err
        assert "setting.changed" in err or "reward.created" in err


def test_forging_a_whole_chain_needs_the_key(tmp_path: Path, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    """Rewriting an event and recomputing the hashes with a guessed key still fails."""
    from tests.storage.support import ledger_database

    with ledger_database("sqlite", tmp_path=tmp_path) as db:
        _history(db.store)
        with db.store.read_session() as s:
            rows = list(audit.iter_rows(s))
        db.engine.dispose()
        raw = sqlite3.connect(db.path)  # type: ignore[arg-type]
        prev = GENESIS_HASH
        for row in rows:
            fields = dict(row.fields)  # type: ignore[arg-type]
            if row.id == 3:
                fields["actor"] = "UMALLORY"
            fields["prev_hash"] = prev
            forged = audit.compute_hash(b"guessed-key-0123456789", fields)
            raw.execute(
                "UPDATE audit_events SET actor = ?, prev_hash = ?, hash = ? WHERE id = ?",
                (fields["actor"], prev, forged, row.id),
            )
            prev = forged
        raw.commit()
        raw.close()
        assert _cli(db, monkeypatch, tmp_path, "verify") == 1
    assert "BROKEN at event 1" in capsys.readouterr().err


@pytest.mark.postgres
def test_postgresql_refuses_to_change_or_remove_events(pg_db: TestDatabase) -> None:
    _history(pg_db.store)
    for statement in (
        "UPDATE audit_events SET actor = 'UMALLORY' WHERE id = 1",
        "DELETE FROM audit_events WHERE id = 8",
        "TRUNCATE audit_events",
    ):
        with pytest.raises(DBAPIError, match="append-only"), pg_db.engine.begin() as c:
            c.execute(text(statement))
    with pg_db.store.read_session() as s:
        assert audit.verify_chain(s, audit_key=TEST_AUDIT_KEY.encode()).count == 8


def test_events_never_hold_secrets(store: Store) -> None:
    for payload in ({"links": ["https://x"]}, {"vouchers": [{"code": "A"}]}, {"x": {"pin": "1"}}):
        with pytest.raises(ValueError, match="secrets"), store.session() as s:
            audit.append(
                s,
                actor="system",
                action="order.placed",
                subject_type="order",
                subject_id="1",
                after=payload,
            )


def test_audit_values_are_normalized(store: Store) -> None:
    from decimal import Decimal

    with store.session() as s:
        event = audit.append(
            s,
            actor="system",
            action="setting.changed",
            subject_type="setting",
            subject_id="REWARD_LOW_BALANCE",
            after={
                "value": Decimal("10.50"),
                "when": datetime(2025, 1, 1, tzinfo=UTC),
                "set": {"b", "a"},
                "status": RewardStatus.SENT,
            },
        )
    assert event.after == {
        "value": "10.50",
        "when": "2025-01-01T00:00:00.000000+00:00",
        "set": ["a", "b"],
        "status": "sent",
    }
    with pytest.raises(TypeError), store.session() as s:
        audit.append(
            s, actor="system", action="x", subject_type="x", subject_id="1", after={"o": object()}
        )


def test_an_empty_trail_verifies(db: TestDatabase, monkeypatch, tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.delenv("AUDIT_KEY", raising=False)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", db.url)
    assert main(["audit", "verify"]) == 0
    assert "verified 0 events" in capsys.readouterr().out


def test_verify_on_a_database_that_is_behind(tmp_path, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    from storage.migrations import upgrade

    monkeypatch.chdir(tmp_path)
    upgrade(f"sqlite:///{tmp_path / 'old.db'}", revision="0003")
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'old.db'}")
    assert main(["audit", "verify"]) == 2
    assert "run `rewardbot migrate`" in capsys.readouterr().err


def test_export_jsonl_for_a_period(db: TestDatabase, monkeypatch, tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    _history(db.store)
    out = tmp_path / "trail.jsonl"
    code = _cli(
        db,
        monkeypatch,
        tmp_path,
        "export",
        "--since",
        "2025-03-02",
        "--until",
        "2025-03-02",
        "--format",
        "jsonl",
        "--output",
        str(out),
    )
    assert code == 0
    assert "exported 2 events" in capsys.readouterr().err
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert [e["id"] for e in lines] == [3, 4]
    assert lines[0]["action"] == "reward.status_changed"
    assert lines[0]["before"] == {"status": "queued"}
    assert lines[1]["after"]["status"] == "sent"
    assert set(lines[0]) == set(audit.EXPORT_FIELDS)
    assert lines[0]["at"] == "2025-03-02T12:00:00.000000+00:00"


def test_export_csv_to_stdout(db: TestDatabase, monkeypatch, tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    _history(db.store)
    assert (
        _cli(db, monkeypatch, tmp_path, "export", "--since", "2025-03-03", "--format", "csv") == 0
    )
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [r["id"] for r in rows] == ["5", "6", "7", "8"]
    assert json.loads(rows[0]["before"]) == {"value": 0}
    assert rows[0]["reason"] == "restart"
    assert rows[0]["correlation_id"] == ""
    assert len(rows[0]["hash"]) == 64


def test_export_csv_writes_formula_like_text_as_text(
    db: TestDatabase, monkeypatch, tmp_path, capsys
) -> None:  # type: ignore[no-untyped-def]
    with db.store.session() as s:
        audit.append(
            s,
            actor="@UMALLORY",
            action=AuditAction.SETTING_CHANGED,
            subject_type="setting",
            subject_id="-1",
            after={"value": "=1+1"},
            reason='=HYPERLINK("http://evil.example","click")',
        )
    assert _cli(db, monkeypatch, tmp_path, "export", "--format", "csv") == 0
    (row,) = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert row["reason"] == '\'=HYPERLINK("http://evil.example","click")'
    assert row["actor"] == "'@UMALLORY" and row["subject_id"] == "'-1"
    assert json.loads(row["after"]) == {"value": "=1+1"}  # JSON starts with {, as it was
    assert row["id"] == "1"


def test_export_everything_and_bad_dates(db: TestDatabase, monkeypatch, tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    _history(db.store)
    assert _cli(db, monkeypatch, tmp_path, "export", "--format", "jsonl") == 0
    assert len(capsys.readouterr().out.splitlines()) == 8
    assert (
        _cli(db, monkeypatch, tmp_path, "export", "--since", "2025-03-03", "--until", "2025-03-01")
        == 2
    )
    with pytest.raises(SystemExit):
        _cli(db, monkeypatch, tmp_path, "export", "--since", "03/01/2025")
