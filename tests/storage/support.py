"""Test databases for the ledger, reusable by other test packages.

`ledger_database(backend, ...)` yields a `TestDatabase`: a migrated database that nobody else
sees: a file in a temporary directory for SQLite, a schema of its own for PostgreSQL (dropped
afterwards), so parallel runs never collide. The schema always comes from the Alembic
migrations, never create_all: SQLite copies a file migrated once per run, PostgreSQL runs the
migrations rendered once as SQL (Alembic's offline mode). `test_migrations.py` runs them online.
"""

from __future__ import annotations

import shutil
import tempfile
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from cryptography.fernet import Fernet
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.pool import NullPool

from storage.db import Store, make_engine
from storage.keys import Keys
from storage.migrations import upgrade, upgrade_sql

TEST_AUDIT_KEY = "test-audit-key-0123456789abcdef"
TEST_ENCRYPTION_KEY = Fernet.generate_key().decode("ascii")


def test_keys() -> Keys:
    return Keys(
        audit_key=TEST_AUDIT_KEY.encode(),
        encryption_keys=(TEST_ENCRYPTION_KEY,),
        source="test",
    )


@dataclass
class TestDatabase:
    backend: str  # "sqlite" | "postgresql"
    url: str  # a URL that reaches this database (schema pinned for PostgreSQL)
    engine: Engine
    store: Store
    schema: str | None = None
    path: Path | None = None

    __test__ = False  # not a test class for pytest


@contextmanager
def postgres_schema(pg_url: str, *, prefix: str = "rbt") -> Iterator[str]:
    """A fresh, uniquely named schema, dropped (with everything in it) afterwards."""
    schema = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = create_engine(pg_url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        try:
            yield schema
        finally:
            with admin.connect() as connection:
                connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    finally:
        admin.dispose()


def url_with_schema(pg_url: str, schema: str) -> str:
    """A PostgreSQL URL whose connections use `schema` (for code that only takes a URL)."""
    sep = "&" if "?" in pg_url else "?"
    return f"{pg_url}{sep}options={quote(f'-csearch_path={schema}')}"


_templates: dict[str, object] = {}
_templates_lock = threading.Lock()


def _sqlite_template() -> Path:
    """One SQLite file migrated through Alembic per test run; each test gets a copy."""
    with _templates_lock:
        path = _templates.get("sqlite")
        if path is None:
            path = Path(tempfile.mkdtemp(prefix="rewardbot-ledger-")) / "template.db"
            engine = make_engine(f"sqlite:///{path}")
            upgrade(engine)
            engine.dispose()  # checkpoints the WAL into the file
            _templates["sqlite"] = path
        return path  # type: ignore[return-value]


def migrated_sqlite(path: Path) -> Path:
    """A copy at `path` of the SQLite ledger migrated once per test process: what `rewardbot
    migrate` (or a first start, which upgrades an empty SQLite file) leaves, for tests about
    what comes after it. A copy of a file costs nothing; the migrations' commits cost a second
    or more per test on a busy machine. Tests of the migrations and of a first start on an
    empty file keep starting from nothing (test_migrations.py, tests/attacks)."""
    shutil.copyfile(_sqlite_template(), path)
    return path


def _postgres_script(pg_url: str) -> str:
    """The Alembic migrations rendered as one SQL script (offline mode), run per schema."""
    with _templates_lock:
        script = _templates.get(pg_url)
        if script is None:
            script = _templates[pg_url] = upgrade_sql(pg_url)
        return script  # type: ignore[return-value]


@contextmanager
def ledger_database(
    backend: str,
    *,
    tmp_path: Path,
    pg_url: str | None = None,
    migrate: bool = True,
    pool_size: int = 5,
) -> Iterator[TestDatabase]:
    if backend == "sqlite":
        path = tmp_path / "ledger.db"
        url = f"sqlite:///{path}"
        if migrate:
            migrated_sqlite(path)
        engine = make_engine(url)
        try:
            yield TestDatabase(
                backend, url, engine, Store(engine=engine, keys=test_keys()), path=path
            )
        finally:
            engine.dispose()
        return
    assert pg_url is not None
    with postgres_schema(pg_url) as schema:
        engine = make_engine(pg_url, schema=schema, pool_size=pool_size)
        try:
            if migrate:
                with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
                    c.exec_driver_sql(_postgres_script(pg_url))
            yield TestDatabase(
                backend,
                url_with_schema(pg_url, schema),
                engine,
                Store(engine=engine, keys=test_keys()),
                schema=schema,
            )
        finally:
            engine.dispose()
