"""Shared fixtures: where ../shared is, and the PostgreSQL test database when there is one.

The suite runs in parallel (pytest-xdist, `-n` in pyproject.toml): each worker is a process of
its own, so everything a test shares with another must be per worker. On PostgreSQL that is a
database per worker (`pg_url`: `test_gw0`, ...), made from the `test` connection, in which each
test works in a schema of its own: no worker sees another's schemas, rows or advisory locks.
"""

from __future__ import annotations

import contextlib
import os
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def _flag(name: str) -> bool:
    return os.environ.get(name, "") not in ("", "0", "false", "no")


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """../shared (seeds, Slack's manifest schema). CI makes it mandatory."""
    if not (SHARED / "seeds" / "plum-openapi.yml").is_file():
        if _flag("REWARDBOT_REQUIRE_SHARED"):
            pytest.fail(f"REWARDBOT_REQUIRE_SHARED is set but {SHARED} has no seeds")
        pytest.skip(f"../shared is not beside this clone ({SHARED}); CI runs these tests")
    return SHARED


def _pg_reachable(url: str) -> str | None:
    try:
        import psycopg
    except ImportError as err:  # pragma: no cover
        return str(err)
    try:
        psycopg.connect(
            url.replace("postgresql+psycopg://", "postgresql://"), connect_timeout=3
        ).close()
    except Exception as err:
        return str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
    return None


def _worker_database(url: str, worker: str) -> str:
    """The URL of the database of this pytest-xdist worker beside the one `url` names (e.g.
    `test_gw0`), made the first time. Kept for the next run: every test in it works in a
    schema of its own that it drops (and dropping a database waits for a checkpoint)."""
    import psycopg
    from sqlalchemy.engine import make_url

    base = make_url(url)
    name = re.sub(r"[^a-z0-9_]", "_", f"{base.database or 'postgres'}_{worker}".lower())
    admin = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(admin, autocommit=True, connect_timeout=5) as connection:
        exists = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
        if exists.fetchone() is None:
            # (a run beside this one may make it meanwhile)
            with contextlib.suppress(psycopg.errors.DuplicateDatabase):
                connection.execute(f'CREATE DATABASE "{name}"')
    return base.set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def pg_url() -> str:
    """A PostgreSQL URL for tests; skipped with the reason when there is no server. Under
    pytest-xdist, the database of this worker (e.g. `test_gw0`)."""
    url = os.environ.get("TEST_DATABASE_URL", DEFAULT_PG_URL)
    problem = _pg_reachable(url)
    if problem:
        if _flag("REWARDBOT_REQUIRE_POSTGRES"):
            pytest.fail(
                f"REWARDBOT_REQUIRE_POSTGRES is set but PostgreSQL is unreachable: {problem}"
            )
        pytest.skip(f"no PostgreSQL at {url} ({problem}); CI runs these tests")
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    return _worker_database(url, worker) if worker else url
