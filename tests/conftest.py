"""Shared fixtures: where ../shared is, and the PostgreSQL test database when there is one."""

from __future__ import annotations

import os
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


@pytest.fixture(scope="session")
def pg_url() -> str:
    """A PostgreSQL URL for tests; skipped with the reason when there is no server."""
    url = os.environ.get("TEST_DATABASE_URL", DEFAULT_PG_URL)
    problem = _pg_reachable(url)
    if problem:
        if _flag("REWARDBOT_REQUIRE_POSTGRES"):
            pytest.fail(
                f"REWARDBOT_REQUIRE_POSTGRES is set but PostgreSQL is unreachable: {problem}"
            )
        pytest.skip(f"no PostgreSQL at {url} ({problem}); CI runs these tests")
    return url
