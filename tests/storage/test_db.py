"""Engine set-up and column types, on both backends."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError, StatementError
from sqlmodel import Session, select

from storage.db import make_engine, read_session
from storage.models import JobRun, Member, Order
from storage.urls import beside_database, normalize_url, sqlite_path
from tests.storage.support import TestDatabase


def test_sqlite_runs_in_wal_mode_with_foreign_keys_and_a_busy_timeout(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    try:
        with engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 5000
    finally:
        engine.dispose()


def test_foreign_keys_are_enforced(db: TestDatabase) -> None:
    with pytest.raises(IntegrityError), db.store.session() as s:
        s.add(
            Member(
                team_id="T1",
                slack_user_id="UORPHAN",
                manager_id=424242,  # no such member
            )
        )


def test_a_read_session_does_not_wait_for_a_writer(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    try:
        writer = engine.connect()
        writer.begin()  # BEGIN IMMEDIATE: holds the write lock
        writer.exec_driver_sql("CREATE TABLE t (x INTEGER)")
        done = threading.Event()

        def read() -> None:
            with read_session(engine) as s:
                s.exec(text("SELECT 1")).all()
            done.set()

        thread = threading.Thread(target=read)
        thread.start()
        thread.join(timeout=10)
        assert done.is_set(), "the reader waited for the writer"
        writer.rollback()
        writer.close()
    finally:
        engine.dispose()


def test_urls() -> None:
    assert normalize_url("postgres://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalize_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    assert sqlite_path("sqlite:///data/x.db") == Path("data/x.db")
    assert sqlite_path("sqlite://") is None
    assert sqlite_path("sqlite:///:memory:") is None
    assert sqlite_path("postgresql+psycopg://u@h/db") is None


@pytest.mark.parametrize(
    ("url", "beside", "with_extension"),
    [
        ("sqlite:////tmp/x.db", "/tmp/x.sandbox.json", "/tmp/x.db.keys"),
        ("sqlite:///file:/tmp/x.db?uri=true", "/tmp/x.sandbox.json", "/tmp/x.db.keys"),
        ("sqlite:///data/rewardbot.db", "data/rewardbot.sandbox.json", "data/rewardbot.db.keys"),
        ("sqlite:///rewardbot.db?timeout=5", "rewardbot.sandbox.json", "rewardbot.db.keys"),
        ("sqlite:///rewardbot", "rewardbot.sandbox.json", "rewardbot.keys"),
    ],
)
def test_a_file_beside_the_database(url: str, beside: str, with_extension: str) -> None:
    assert beside_database(url, ".sandbox.json") == Path(beside)
    assert beside_database(url, ".keys", keep_extension=True) == Path(with_extension)


@pytest.mark.parametrize(
    "url",
    [
        "sqlite://",
        "sqlite:///:memory:",
        "sqlite:///file::memory:?cache=shared&uri=true",
        "postgresql+psycopg://u@h/db",
        "postgres://u:secret@h:5432/db",
    ],
)
def test_a_database_without_a_file_has_nothing_beside_it(url: str) -> None:
    assert beside_database(url, ".sandbox.json") is None
    assert beside_database(url, ".keys", keep_extension=True) is None


def test_the_sqlite_directory_is_created(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'deep' / 'er' / 'x.db'}")
    try:
        with engine.connect() as connection:
            connection.exec_driver_sql("SELECT 1")
        assert (tmp_path / "deep" / "er" / "x.db").exists()
    finally:
        engine.dispose()


def test_times_come_back_timezone_aware_utc(db: TestDatabase) -> None:
    india = timezone(timedelta(hours=5, minutes=30))
    moment = datetime(2025, 3, 30, 1, 30, 15, 123456, tzinfo=india)
    with db.store.session() as s:
        s.add(JobRun(job="t", scheduled_for=moment, claimed_at=moment))
    with Session(db.engine) as s:
        run = s.exec(select(JobRun)).one()
    assert run.scheduled_for == moment
    assert run.scheduled_for.tzinfo is UTC
    assert run.scheduled_for.hour == 20  # 01:30 +05:30 is 20:00 UTC the day before
    assert run.scheduled_for.microsecond == 123456


def test_naive_times_are_refused(db: TestDatabase) -> None:
    with pytest.raises(StatementError, match="naive datetime"), db.store.session() as s:
        s.add(JobRun(job="t", scheduled_for=datetime(2025, 1, 1), claimed_at=datetime.now(UTC)))
        s.flush()


def test_money_is_an_exact_decimal(db: TestDatabase) -> None:
    with db.store.session() as s:
        s.add(
            Order(
                po_number="PO-1",
                product_id="p",
                quantity=1,
                denomination=Decimal("1234567890.1234"),
                requested_by="U1",
                request={},
            )
        )
    with Session(db.engine) as s:
        order = s.exec(select(Order)).one()
    assert order.denomination == Decimal("1234567890.1234")
    assert isinstance(order.denomination, Decimal)


def test_money_refuses_floats(db: TestDatabase) -> None:
    with pytest.raises(StatementError, match="Decimal"), db.store.session() as s:
        s.add(
            Order(
                po_number="PO-2",
                product_id="p",
                quantity=1,
                denomination=0.1,  # type: ignore[arg-type]
                requested_by="U1",
                request={},
            )
        )
        s.flush()
