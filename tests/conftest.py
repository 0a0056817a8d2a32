"""Shared fixtures: where ../shared is, and the PostgreSQL test database when there is one.

The suite runs in parallel (pytest-xdist, `-n` in pyproject.toml): each worker is a process of
its own, so everything a test shares with another must be per worker. On PostgreSQL that is a
database of its own per worker and run (`pg_url`), made from the `test` connection and dropped
at the end: no worker sees another's schemas, rows or advisory locks, nor does a run beside it.
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Iterator
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


def _worker_database(url: str, name: str) -> Iterator[str]:
    """A new database `name` beside the one `url` names, dropped afterwards (its connections
    too: a `rewardbot serve` a test killed may have left one); yields its URL."""
    import psycopg
    from sqlalchemy.engine import make_url

    admin = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(admin, autocommit=True, connect_timeout=5) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(url).set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin, autocommit=True, connect_timeout=5) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """A PostgreSQL URL for tests; skipped with the reason when there is no server. Under
    pytest-xdist, a database of this worker's own (e.g. `test_gw0_1a2b3c4d`)."""
    url = os.environ.get("TEST_DATABASE_URL", DEFAULT_PG_URL)
    problem = _pg_reachable(url)
    if problem:
        if _flag("REWARDBOT_REQUIRE_POSTGRES"):
            pytest.fail(
                f"REWARDBOT_REQUIRE_POSTGRES is set but PostgreSQL is unreachable: {problem}"
            )
        pytest.skip(f"no PostgreSQL at {url} ({problem}); CI runs these tests")
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not worker:
        yield url
        return
    from sqlalchemy.engine import make_url

    base = make_url(url).database or "postgres"
    name = re.sub(r"[^a-z0-9_]", "_", f"{base}_{worker}_{uuid.uuid4().hex[:8]}".lower())
    yield from _worker_database(url, name)
