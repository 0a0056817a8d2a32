"""The database checks at their seam, on SQLite and on PostgreSQL: the ledger (there or not yet,
current, taking writes, of this point system), the intake journal, and whether the keys fit what
the ledger holds. Nothing is created or migrated by a check."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from bot.checks import Status
from bot.checks.ledger import database, keys_for_the_ledger
from bot.settings import Settings
from storage import audit
from storage.audit import SYSTEM
from storage.migrations import upgrade
from storage.tokens import StoredTokens
from tests.storage.conftest import db, people, store
from tests.storage.point_ledger import build_ledger
from tests.storage.support import (
    TEST_AUDIT_KEY,
    TEST_ENCRYPTION_KEY,
    TestDatabase,
    ledger_database,
    postgres_schema,
    url_with_schema,
)

__all__ = ["db", "people", "store"]  # the storage fixtures, for pytest

Make = Callable[..., Settings]
KEYS = {"AUDIT_KEY": TEST_AUDIT_KEY, "ENCRYPTION_KEY": TEST_ENCRYPTION_KEY}
OTHER_AUDIT_KEY = "another-audit-key-0123456789"
OTHER_ENCRYPTION_KEY = "x7J4-Zr8f1pY3a9wQ2cV5bN6mK0lH8gT1sD4eF7uI0o="


def said(lines) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    return [(line.status.value, line.topic) for line in lines]


def written_with_keys(store) -> None:  # type: ignore[no-untyped-def]
    """An audit event and a Plum token, written with the test keys."""
    with store.session() as session:
        audit.append(
            session, actor=SYSTEM, action="check.test", subject_type="test", subject_id="1"
        )
    store.token_store().save(
        StoredTokens(access_token="plum-access-secret", access_expires_at=None)
    )


# --- SQLite: a ledger that is not there yet -----------------------------------------------------


def test_no_ledger_yet_says_where_serve_makes_it_and_makes_nothing(
    settings: Make, tmp_path: Path
) -> None:
    lines = database(settings())
    assert [str(line) for line in lines] == [
        f"ok   Database: no ledger yet: serve makes it at {tmp_path / 'rewardbot.db'} when it "
        "first starts",
        "ok   Journal: no intake journal yet: serve makes it at "
        f"{tmp_path / 'rewardbot.intake.db'}",
    ]
    assert os.listdir(tmp_path) == []


def test_a_folder_that_is_not_there_fails_naming_it(settings: Make, tmp_path: Path) -> None:
    [line] = database(settings(DATABASE_URL=f"sqlite:///{tmp_path / 'data' / 'bot.db'}"))
    assert line.status is Status.FAIL
    assert line.text == (
        f"DATABASE_URL: the folder {tmp_path / 'data'} does not exist. Make it, or point "
        "DATABASE_URL at another place."
    )
    assert os.listdir(tmp_path) == []


def test_a_damaged_file_and_an_in_memory_database(settings: Make, tmp_path: Path) -> None:
    (tmp_path / "junk.db").write_bytes(b"this is not a database" * 100)
    [line] = database(settings(DATABASE_URL=f"sqlite:///{tmp_path / 'junk.db'}"))
    assert line.status is Status.FAIL
    assert line.text.startswith("DATABASE_URL: the database is damaged")
    [memory] = database(settings(DATABASE_URL="sqlite://"))
    assert memory.status is Status.WARN and "every reward is forgotten" in memory.text


def test_a_sqlite_ledger_behind_is_migrated_by_serve_not_by_the_check(
    settings: Make, tmp_path: Path
) -> None:
    path = tmp_path / "old.db"
    upgrade(f"sqlite:///{path}", revision="0003")
    lines = database(settings(DATABASE_URL=f"sqlite:///{path}"))
    assert str(lines[0]) == (
        f"ok   Database: the ledger at {path} is behind this release: serve migrates it at start"
    )
    with create_engine(f"sqlite:///{path}", poolclass=NullPool).connect() as connection:
        revision = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    assert revision == "0003"


# --- a ledger that is there (SQLite and PostgreSQL) ---------------------------------------------


def test_a_current_ledger_takes_writes_and_the_keys_fit_it(
    settings: Make, db: TestDatabase, store
) -> None:  # type: ignore[no-untyped-def]
    written_with_keys(store)
    lines = database(settings(DATABASE_URL=db.url, **KEYS))
    kind = {
        "sqlite": "SQLite: one bot process at a time; PostgreSQL for more",
        "postgresql": "PostgreSQL",
    }[db.backend]
    assert lines[0].status is Status.OK
    assert lines[0].text.startswith("the ledger at ")
    assert lines[0].text.endswith(f"is current and takes writes ({kind})")
    assert lines[1].topic == "Journal" and lines[1].status is Status.OK
    assert str(lines[2]) == (
        "ok   Keys: they fit the ledger: its newest audit event verifies and its Plum tokens "
        "decrypt"
    )
    assert len(lines) == 3
    assert all("plum-access-secret" not in str(line) for line in lines)


def test_keys_that_are_not_the_ledgers_fail(settings: Make, db: TestDatabase, store) -> None:  # type: ignore[no-untyped-def]
    written_with_keys(store)
    wrong_audit = database(settings(DATABASE_URL=db.url, **{**KEYS, "AUDIT_KEY": OTHER_AUDIT_KEY}))
    assert wrong_audit[-1].status is Status.FAIL
    assert wrong_audit[-1].text.startswith(
        "AUDIT_KEY is not the key this ledger's audit trail was written with"
    )
    other = {**KEYS, "ENCRYPTION_KEY": OTHER_ENCRYPTION_KEY}
    wrong_secret = database(settings(DATABASE_URL=db.url, **other))
    assert wrong_secret[-1].status is Status.FAIL
    assert wrong_secret[-1].text.startswith(
        "ENCRYPTION_KEY can't read the Plum tokens kept in the ledger"
    )
    assert OTHER_AUDIT_KEY not in str(wrong_audit) and OTHER_ENCRYPTION_KEY not in str(wrong_secret)


def test_a_ledger_of_the_other_point_system_fails_as_start_up_would(
    settings: Make, db: TestDatabase, store, people
) -> None:  # type: ignore[no-untyped-def]
    build_ledger(store, people)  # rewards whose points live in the bot
    lines = database(settings(DATABASE_URL=db.url, REWARD_POINT_SYSTEM="plum", **KEYS))
    assert lines[0].status is Status.FAIL
    assert lines[0].text.startswith(
        "REWARD_POINT_SYSTEM: this database holds 3 reward(s) whose points live in the bot"
    )
    fine = database(settings(DATABASE_URL=db.url, REWARD_POINT_SYSTEM="storefront", **KEYS))
    assert fine[0].status is Status.OK


# --- SQLite: the key file and the journal file --------------------------------------------------


@pytest.fixture
def sqlite_db(tmp_path: Path) -> Iterator[TestDatabase]:
    """A migrated SQLite ledger (the files beside it are SQLite's alone)."""
    with ledger_database("sqlite", tmp_path=tmp_path) as database:
        yield database


def test_a_ledger_written_with_keys_and_no_key_file_fails_at_start_and_in_the_check(
    settings: Make, sqlite_db: TestDatabase, tmp_path: Path
) -> None:
    db = sqlite_db
    written_with_keys(db.store)
    assert db.path is not None and not (tmp_path / "ledger.db.keys").exists()
    check = settings(DATABASE_URL=db.url)
    refused = keys_for_the_ledger(check)
    assert refused is not None and refused.status is Status.FAIL
    assert refused.text == (
        "this ledger was written with keys, but AUDIT_KEY and ENCRYPTION_KEY are not set and "
        f"there is no key file at {tmp_path / 'ledger.db.keys'}: serve would make new keys, "
        "and the audit trail would no longer verify. Set them to the keys it was written "
        "with, or put the key file back."
    )
    assert database(check)[-1] == refused
    assert not (tmp_path / "ledger.db.keys").exists()  # neither made one
    assert keys_for_the_ledger(settings(DATABASE_URL=db.url, **KEYS)) is None


def test_a_new_ledger_needs_no_key_file_yet(settings: Make, sqlite_db: TestDatabase) -> None:
    db = sqlite_db
    assert keys_for_the_ledger(settings(DATABASE_URL=db.url)) is None
    assert [line.topic for line in database(settings(DATABASE_URL=db.url))] == [
        "Database",
        "Journal",
    ]


def test_a_damaged_intake_journal_says_what_start_up_says(
    settings: Make, sqlite_db: TestDatabase, tmp_path: Path
) -> None:
    journal = tmp_path / "ledger.intake.db"
    journal.write_bytes(b"not a database" * 200)
    lines = database(settings(DATABASE_URL=sqlite_db.url, **KEYS))
    [line] = [line for line in lines if line.topic == "Journal"]
    assert line.status is Status.FAIL
    assert line.text.startswith(f"DATABASE_URL: the intake journal {journal} is damaged.")


# --- PostgreSQL: not migrated -------------------------------------------------------------------


@pytest.mark.postgres
def test_postgresql_not_migrated_says_run_migrate(
    settings: Make, request: pytest.FixtureRequest
) -> None:
    pg_url = request.getfixturevalue("pg_url")
    with postgres_schema(pg_url, prefix="rbt_check") as schema:
        url = url_with_schema(pg_url, schema)
        [line] = database(settings(DATABASE_URL=url, **KEYS))
        assert line.status is Status.FAIL
        assert line.text.endswith(
            "has no tables yet: run `rewardbot migrate` (once per release, before the bot starts)."
        )


def test_postgresql_that_cannot_be_reached_says_so(settings: Make) -> None:
    url = "postgresql+psycopg://bot:pg-secret@127.0.0.1:9/rewards"
    [line] = database(settings(DATABASE_URL=url, **KEYS))
    assert line.status is Status.FAIL
    assert line.text.startswith(
        "DATABASE_URL: can't read the database at postgresql+psycopg://bot:***@127.0.0.1:9/rewards"
    )
    assert "pg-secret" not in str(line)
