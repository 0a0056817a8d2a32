"""The anchor file and `rewardbot audit verify` against it, on SQLite and PostgreSQL: deleting
the newest events (on PostgreSQL as a superuser who bypasses the append-only trigger) leaves a
valid shorter chain, and the checkpoints kept outside the database catch it."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
import time_machine
from sqlalchemy import text

from bot.cli import main
from storage import audit
from storage.audit import AuditAction
from storage.audit_anchors import (
    POSTGRES_DEFAULT,
    AnchorConflict,
    Anchored,
    anchor,
    anchor_file_for,
    append_line,
    read_anchor_file,
)
from storage.audit_checkpoints import current_checkpoint
from storage.db import Store
from tests.storage.support import TEST_AUDIT_KEY, TestDatabase

KEY = TEST_AUDIT_KEY.encode()
MONDAY = datetime(2026, 3, 2, 8, 20, tzinfo=UTC)
BYPASSES = ["replication role", "disabled triggers"]


def add_events(store: Store, n: int) -> None:
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


def delete_newest(db: TestDatabase, *, keep: int, bypass: str = BYPASSES[0]) -> None:
    """What someone with full database access can do: drop every event after `keep`."""
    if db.backend == "sqlite" and bypass != BYPASSES[0]:
        pytest.skip("SQLite has no trigger to bypass: one way to delete is enough")
    with db.engine.begin() as c:
        if db.backend == "postgresql":
            if bypass == "replication role":
                c.execute(text("SET LOCAL session_replication_role = replica"))
            else:
                c.execute(text("ALTER TABLE audit_events DISABLE TRIGGER ALL"))
        c.execute(text("DELETE FROM audit_events WHERE id > :keep"), {"keep": keep})
        if db.backend == "postgresql" and bypass == "disabled triggers":
            c.execute(text("ALTER TABLE audit_events ENABLE TRIGGER ALL"))


@pytest.fixture
def anchors(tmp_path: Path) -> Path:
    return tmp_path / "kept-elsewhere" / "audit-anchors"


def verify(db: TestDatabase, anchors: Path, monkeypatch: pytest.MonkeyPatch, *pasted: str) -> int:
    monkeypatch.chdir(anchors.parent.parent)
    monkeypatch.setenv("DATABASE_URL", db.url)
    monkeypatch.setenv("AUDIT_KEY", TEST_AUDIT_KEY)
    monkeypatch.setenv("AUDIT_ANCHOR_FILE", str(anchors))
    return main(["audit", "verify", *[arg for line in pasted for arg in ("--anchor", line)]])


def anchor_at(db: TestDatabase, anchors: Path, moment: datetime = MONDAY) -> Anchored:
    with time_machine.travel(moment, tick=False):
        return anchor(db.store, path=anchors)


# ── where the file is ────────────────────────────────────────────────────────────────────


def test_the_anchor_file_sits_beside_a_sqlite_database_unless_configured(tmp_path: Path) -> None:
    db_url = f"sqlite:///{tmp_path / 'rewardbot.db'}"
    assert anchor_file_for(database_url=db_url, configured=None) == (
        tmp_path / "rewardbot.db.audit-anchors"
    )
    assert anchor_file_for(database_url=db_url, configured="/srv/anchors") == Path("/srv/anchors")
    pg = "postgresql+psycopg://bot@db/rewards"
    assert anchor_file_for(database_url=pg, configured=None) == POSTGRES_DEFAULT
    assert anchor_file_for(database_url="sqlite://", configured=None) is None


# ── writing ──────────────────────────────────────────────────────────────────────────────


def test_anchoring_appends_a_line_only_when_the_chain_has_grown(
    db: TestDatabase, anchors: Path
) -> None:
    assert anchor_at(db, anchors).checkpoint is None  # nothing to anchor yet
    assert not anchors.exists()
    add_events(db.store, 3)
    first = anchor_at(db, anchors)
    assert first.written and first.checkpoint is not None and first.checkpoint.count == 3
    assert anchor_at(db, anchors).written is False  # same head: no new line
    add_events(db.store, 2)
    second = anchor_at(db, anchors)
    assert second.written and second.previous == first.checkpoint
    kept = read_anchor_file(anchors, audit_key=KEY)
    assert [c.count for c in kept.valid] == [3, 5] and kept.rejected == []
    assert anchors.read_text().splitlines() == [first.line, second.line]


def test_a_torn_last_line_stays_on_a_line_of_its_own(tmp_path: Path) -> None:
    path = tmp_path / "anchors"
    path.write_bytes(b"rewardbot-audit-checkpoint v1 id=4 cou")  # a crash mid-write
    append_line(path, "next line")
    assert path.read_text().splitlines() == ["rewardbot-audit-checkpoint v1 id=4 cou", "next line"]
    with pytest.raises(ValueError, match="one line"):
        append_line(path, "two\nlines")


@pytest.mark.parametrize("bypass", BYPASSES)
def test_anchoring_refuses_to_bless_a_chain_that_lost_events(
    db: TestDatabase, anchors: Path, bypass: str
) -> None:
    add_events(db.store, 6)
    anchor_at(db, anchors)
    delete_newest(db, keep=4, bypass=bypass)
    before = anchors.read_text()
    with pytest.raises(AnchorConflict) as caught:
        anchor_at(db, anchors)
    assert "no longer matches the checkpoint of 2026-03-02 08:20:00 UTC" in str(caught.value)
    assert "(2 missing)" in str(caught.value)
    assert anchors.read_text() == before  # the evidence stays the latest checkpoint


# ── rewardbot audit verify ───────────────────────────────────────────────────────────────


def test_verify_says_how_far_the_latest_checkpoint_vouches(
    db: TestDatabase, anchors: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:  # type: ignore[no-untyped-def]
    add_events(db.store, 4)
    assert verify(db, anchors, monkeypatch) == 0
    out = capsys.readouterr().out
    assert out.startswith("verified 4 events")
    assert "no checkpoint yet (none in " in out and "deleting the newest events would not" in out

    anchor_at(db, anchors)
    add_events(db.store, 2)
    assert verify(db, anchors, monkeypatch) == 0
    out = capsys.readouterr().out
    assert out.startswith("verified 6 events")
    assert (
        "the checkpoint of 2026-03-02 08:20:00 UTC (audit-anchors line 1) vouches for the first "
        "4 (up to #4); the 2 events after it are chained but not yet anchored"
    ) in out

    anchor_at(db, anchors, datetime(2026, 3, 2, 9, 20, tzinfo=UTC))
    assert verify(db, anchors, monkeypatch) == 0
    assert "09:20:00 UTC (audit-anchors line 2) vouches for all 6 events (up to #6)" in (
        capsys.readouterr().out
    )


@pytest.mark.parametrize("bypass", BYPASSES)
def test_deleting_the_newest_events_is_caught(
    db: TestDatabase, anchors: Path, monkeypatch: pytest.MonkeyPatch, capsys, bypass: str
) -> None:  # type: ignore[no-untyped-def]
    add_events(db.store, 8)
    anchor_at(db, anchors)
    delete_newest(db, keep=5, bypass=bypass)
    with db.store.read_session() as s:
        assert audit.verify_chain(s, audit_key=KEY).ok  # the shorter chain is valid by itself

    assert verify(db, anchors, monkeypatch) == 1
    err = capsys.readouterr().err
    assert "audit trail BROKEN: events were deleted or rewritten after the checkpoint of " in err
    assert "2026-03-02 08:20:00 UTC (audit-anchors line 1)" in err
    assert "it recorded 8 events up to event 8; the database holds 5 of them (3 missing)" in err


def test_deleting_everything_is_caught(
    db: TestDatabase, anchors: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:  # type: ignore[no-untyped-def]
    add_events(db.store, 3)
    anchor_at(db, anchors)
    delete_newest(db, keep=0)
    assert verify(db, anchors, monkeypatch) == 1
    assert "the database holds none of them (3 missing)" in capsys.readouterr().err


def test_deleting_then_appending_again_is_caught_by_the_older_checkpoint(
    db: TestDatabase, anchors: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:  # type: ignore[no-untyped-def]
    add_events(db.store, 6)
    anchor_at(db, anchors)
    delete_newest(db, keep=3)
    add_events(db.store, 5)  # the bot carries on: events 4..8 are new, the chain valid again
    with db.store.read_session() as s:
        rewritten = current_checkpoint(s, at=datetime(2026, 3, 2, 10, 0, tzinfo=UTC))
    assert rewritten is not None  # a later checkpoint (say, another host's) of the new chain
    append_line(anchors, rewritten.line(audit_key=KEY))

    assert verify(db, anchors, monkeypatch) == 1  # every checkpoint counts, not only the latest
    err = capsys.readouterr().err
    assert "after the checkpoint of 2026-03-02 08:20:00 UTC (audit-anchors line 1)" in err
    assert "the database's event 6 has another hash (the events up to it were replaced)" in err


def test_a_checkpoint_kept_in_slack_catches_it_when_the_file_is_gone(
    db: TestDatabase, anchors: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:  # type: ignore[no-untyped-def]
    add_events(db.store, 6)
    line = anchor_at(db, anchors).line
    delete_newest(db, keep=3)
    add_events(db.store, 5)  # the bot carries on: events 4..8 are new, the chain valid again
    anchors.unlink()  # whoever deleted the events removed the file too

    assert verify(db, anchors, monkeypatch) == 0  # nothing left to compare with
    assert "no checkpoint yet" in capsys.readouterr().out
    assert verify(db, anchors, monkeypatch, f"`{line}`") == 1
    err = capsys.readouterr().err
    assert "after the checkpoint of 2026-03-02 08:20:00 UTC (--anchor 1)" in err
    assert "it recorded event 6 with hash " in err
    assert "the database's event 6 has another hash (the events up to it were replaced)" in err


def test_a_forged_or_altered_checkpoint_is_reported_and_never_trusted(
    db: TestDatabase, anchors: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:  # type: ignore[no-untyped-def]
    add_events(db.store, 4)
    line = anchor_at(db, anchors).line
    assert line is not None
    bigger = line.replace("id=4 count=4", "id=9 count=9")  # would make the chain look short
    append_line(anchors, bigger)
    append_line(anchors, "someone was here")
    assert verify(db, anchors, monkeypatch, "rewardbot-audit-checkpoint v1 id=2") == 0
    captured = capsys.readouterr()
    assert "ignored a checkpoint that doesn't verify (audit-anchors line 2): its signature" in (
        captured.err
    )
    assert "(audit-anchors line 3): not an audit checkpoint" in captured.err
    assert "(--anchor 1): garbled" in captured.err
    assert "(audit-anchors line 1) vouches for all 4 events (up to #4)" in captured.out


def test_verify_of_an_empty_trail_with_nothing_anchored_needs_no_key(
    db: TestDatabase, anchors: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(anchors.parent.parent)
    monkeypatch.setenv("DATABASE_URL", db.url)
    monkeypatch.delenv("AUDIT_KEY", raising=False)
    monkeypatch.setenv("AUDIT_ANCHOR_FILE", str(anchors))
    assert main(["audit", "verify"]) == 0
    assert capsys.readouterr().out == "verified 0 events (the audit trail is empty)\n"
