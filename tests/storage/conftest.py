"""Storage fixtures: every test runs on SQLite and on PostgreSQL (skipped visibly without it)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlmodel import Session

from storage import members
from storage.db import Store
from storage.models import Member
from tests.storage.support import TestDatabase, ledger_database

BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
]


def _pg(request: pytest.FixtureRequest, backend: str) -> str | None:
    return request.getfixturevalue("pg_url") if backend == "postgresql" else None


@pytest.fixture(params=BACKENDS)
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[TestDatabase]:
    """A freshly migrated database of each backend."""
    backend = request.param
    with ledger_database(
        backend, tmp_path=tmp_path, pg_url=_pg(request, backend), pool_size=10
    ) as database:
        yield database


@pytest.fixture
def pg_db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[TestDatabase]:
    """A freshly migrated PostgreSQL database (for the concurrency tests)."""
    with ledger_database(
        "postgresql", tmp_path=tmp_path, pg_url=_pg(request, "postgresql"), pool_size=12
    ) as database:
        yield database


@pytest.fixture
def store(db: TestDatabase) -> Store:
    return db.store


@dataclass
class People:
    giver: Member
    alice: Member
    bob: Member
    approver: Member
    admin: Member


@pytest.fixture
def people(store: Store) -> People:
    with store.session() as s:

        def add(uid: str, name: str, **kw: object) -> Member:
            return members.upsert_member(
                s,
                team_id="T1",
                slack_user_id=uid,
                email=f"{name}@example.com",
                display_name=name,
                tz="Europe/Berlin",
                **kw,  # type: ignore[arg-type]
            )

        found = People(
            giver=add("UGIVER", "gina"),
            alice=add("UALICE", "alice"),
            bob=add("UBOB", "bob"),
            approver=add("UAPPROVER", "april"),
            admin=add("UADMIN", "adam"),
        )
    return found


def session_of(store: Store) -> Session:
    """For assertions outside a transaction: a plain session (read your own writes)."""
    return Session(store.engine, expire_on_commit=False)
