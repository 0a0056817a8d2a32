"""Does the database take writes? A read-only SQLite file and a full disk say so plainly; a
working database of either backend takes the heartbeat."""

from __future__ import annotations

from pathlib import Path

import pytest

from storage import health
from storage.db import make_engine
from tests.storage.support import TestDatabase


def test_a_working_database_takes_the_heartbeat(db: TestDatabase) -> None:
    assert health.write_problem(db.engine, name="host:1") is None
    assert health.write_problem(db.engine, name="host:1") is None  # an update the second time


def test_a_read_only_file_is_said_plainly(tmp_path: Path) -> None:
    path = tmp_path / "ro.db"
    writable = make_engine(f"sqlite:///{path}")
    health.TABLE.create(writable)
    writable.dispose()
    read_only = make_engine(f"sqlite:///file:{path}?mode=ro&uri=true")
    try:
        assert health.write_problem(read_only, name="host:1") == "it is read-only"
    finally:
        read_only.dispose()


def test_a_disk_with_no_room_left_is_full(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'full.db'}")
    health.TABLE.create(engine)

    class Usage:
        free = 100 * 1024

    monkeypatch.setattr(health.shutil, "disk_usage", lambda _: Usage)
    try:
        assert (
            health.write_problem(engine, name="host:1")
            == "the disk is full (100 KB free for full.db)"
        )
    finally:
        engine.dispose()
