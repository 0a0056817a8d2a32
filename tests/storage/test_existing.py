"""Opening a ledger that must already exist (`storage.existing`): nothing is ever created (no
file, no directory, no key file), a missing or unreachable one is named, SQLite is read-only,
and a read in a snapshot sees one instant even on PostgreSQL."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest
from sqlalchemy.exc import OperationalError
from sqlmodel import func, select

from storage import members
from storage.db import read_session
from storage.errors import DatabaseNotReady
from storage.existing import NoLedger, existing_ledger
from storage.migrations import upgrade
from storage.models import Member
from tests.storage.support import TestDatabase, ledger_database


def test_a_missing_sqlite_ledger_is_named_and_nothing_is_created(tmp_path: Path) -> None:
    for where in (tmp_path / "rewardbot.db", tmp_path / "not" / "there" / "rewardbot.db"):
        with pytest.raises(NoLedger) as missing, existing_ledger(f"sqlite:///{where}"):
            pass
        assert str(missing.value) == f"there is no ledger at {where}"
    assert os.listdir(tmp_path) == []


def test_a_relative_path_is_named_in_full(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(NoLedger) as missing, existing_ledger("sqlite:///./rewardbot.db"):
        pass
    assert missing.value.where == str(tmp_path / "rewardbot.db")
    assert os.listdir(tmp_path) == []


def test_a_file_that_holds_no_ledger_is_named(tmp_path: Path) -> None:
    empty = tmp_path / "empty.db"
    empty.touch()
    with pytest.raises(NoLedger) as none, existing_ledger(f"sqlite:///{empty}"):
        pass
    assert str(none.value) == f"{empty} holds no ledger (its tables were never made)"
    junk = tmp_path / "junk.db"
    junk.write_text("not a database " * 100)
    with pytest.raises(NoLedger) as bad, existing_ledger(f"sqlite:///{junk}"):
        pass
    assert str(bad.value) == f"cannot read the ledger at {junk}: file is not a database"
    assert sorted(os.listdir(tmp_path)) == ["empty.db", "junk.db"]
    with pytest.raises(NoLedger), existing_ledger("sqlite://"):
        pass


def test_a_ledger_behind_this_code_is_not_read(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    upgrade(f"sqlite:///{path}", revision="0003")
    with pytest.raises(DatabaseNotReady), existing_ledger(f"sqlite:///{path}"):
        pass


def test_sqlite_is_opened_read_only(tmp_path: Path) -> None:
    with ledger_database("sqlite", tmp_path=tmp_path) as db, db.store.session() as s:
        members.upsert_member(s, team_id="T1", slack_user_id="UALICE", display_name="alice")
    assert db.path is not None
    with existing_ledger(f"sqlite:///{db.path}") as engine:
        with read_session(engine, snapshot=True) as s:
            assert s.exec(select(func.count()).select_from(Member)).one() == 1
        with engine.connect() as connection, pytest.raises(OperationalError) as refused:
            connection.exec_driver_sql("DELETE FROM members")
        assert "readonly" in str(refused.value)
    assert not db.path.with_name(db.path.name + ".keys").exists()


@pytest.mark.postgres
def test_a_missing_postgres_database_is_named_without_its_password(pg_url: str) -> None:
    url = pg_url.rsplit("/", 1)[0].replace("postgres@", "postgres:s3cret@") + "/no_such_ledger"
    with pytest.raises(NoLedger) as missing, existing_ledger(url):
        pass
    assert "s3cret" not in str(missing.value)
    assert "no_such_ledger" in str(missing.value) and "***" in str(missing.value)


def reads_around_a_write(db: TestDatabase, *, snapshot: bool, uid: str) -> tuple[int, int]:
    """Count the members, let another transaction add one and commit, count again."""
    count = select(func.count()).select_from(Member)
    with read_session(db.engine, snapshot=snapshot) as s:
        before = s.exec(count).one()

        def write() -> None:
            with db.store.session() as w:
                members.upsert_member(w, team_id="T1", slack_user_id=uid, display_name=uid)

        thread = threading.Thread(target=write)
        thread.start()
        thread.join(timeout=30)
        return before, s.exec(count).one()


def test_a_snapshot_sees_one_instant(db: TestDatabase) -> None:
    """Two reads in one snapshot agree even when a writer commits between them (what adds up
    several tables needs); PostgreSQL's plain read-only transaction would not."""
    assert reads_around_a_write(db, snapshot=True, uid="UALICE") == (0, 0)
    plain = reads_around_a_write(db, snapshot=False, uid="UBOB")
    assert plain == ((1, 2) if db.backend == "postgresql" else (1, 1))
