"""Fixtures for attacks on the real `rewardbot serve` process: the fake Slack and the Plum
sandbox in this process, the bot in a child process (`tests.attacks.serve_process`)."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from bot.simulators.fakeslack import FakeSlack, Workspace
from bot.simulators.plum_sandbox import SandboxServer
from tests.attacks.serve_process import ServeProcess
from tests.attacks.small_disk import SmallDisk
from tests.e2e.conftest import fake, sandbox
from tests.storage.support import (
    TEST_AUDIT_KEY,
    TEST_ENCRYPTION_KEY,
    postgres_schema,
    url_with_schema,
)

__all__ = ["fake", "on_database", "sandbox"]  # the e2e fixtures, shared

Query = Callable[[str], list[tuple[Any, ...]]]
DATABASES = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


@contextmanager
def on_database(
    request: pytest.FixtureRequest,
    make_serve: Callable[..., ServeProcess],
    backend: str,
    **settings: str,
) -> Iterator[tuple[ServeProcess, Query]]:
    """The bot (migrated, not started) on SQLite or on PostgreSQL (a private schema, with the
    keys PostgreSQL requires), and a way to query its ledger."""
    if backend == "sqlite":
        serve = make_serve(start=False, **settings)
        yield serve, serve.sql
        return
    pg_url = request.getfixturevalue("pg_url")
    with postgres_schema(pg_url, prefix="rbt_attack") as schema:
        url = url_with_schema(pg_url, schema)
        serve = make_serve(
            start=False,
            database_url=url,
            AUDIT_KEY=TEST_AUDIT_KEY,
            ENCRYPTION_KEY=TEST_ENCRYPTION_KEY,
            **settings,
        )
        migrated = serve.run_once("migrate")
        assert migrated.returncode == 0, migrated.stdout + migrated.stderr
        engine = create_engine(url, poolclass=NullPool)

        def sql(query: str) -> list[tuple[Any, ...]]:
            with engine.connect() as connection:
                return [tuple(row) for row in connection.execute(text(query))]

        try:
            yield serve, sql
        finally:
            serve.kill()
            engine.dispose()


@pytest.fixture
def make_serve(
    tmp_path: Path, fake: FakeSlack, sandbox: SandboxServer
) -> Iterator[Callable[..., ServeProcess]]:
    started: list[ServeProcess] = []

    def make(*, start: bool = True, **settings: str) -> ServeProcess:
        bot = ServeProcess(tmp_path=tmp_path, fake=fake, sandbox=sandbox, **settings)
        started.append(bot)
        return bot.start() if start else bot

    yield make
    for bot in started:
        bot.kill()


@pytest.fixture
def serve(make_serve: Callable[..., ServeProcess]) -> ServeProcess:
    return make_serve()


@pytest.fixture(scope="module")
def module_serve(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServeProcess]:
    """One `rewardbot serve`, with a fake Slack and a sandbox of its own, for the tests of a
    module whose requests must leave no trace (nothing said, sent or recorded): since none of
    them changes anything, each still sees only what it did, and a process start (seconds)
    is saved per test. A test that does leave a trace takes `serve` (a fresh bot)."""
    where = tmp_path_factory.mktemp("module-serve")
    with FakeSlack(workspace=Workspace.demo()) as fake:
        sandbox = SandboxServer(state_path=where / "sandbox.json", rate_limits=False)
        sandbox.start()
        bot = ServeProcess(tmp_path=where, fake=fake, sandbox=sandbox)
        try:
            yield bot.start()
        finally:
            bot.kill()
            sandbox.stop()


@pytest.fixture
def disk(tmp_path: Path) -> Iterator[SmallDisk]:
    """A 16 MB tmpfs for the bot's database (root only; skipped otherwise)."""
    root = tmp_path / "disk"
    root.mkdir()
    if os.geteuid() != 0:
        pytest.skip("needs root to mount a small filesystem for the database")
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(root)], capture_output=True
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    yield SmallDisk(root)
    subprocess.run(["umount", "-l", str(root)], check=False)


@pytest.fixture
def on_disk(
    make_serve: Callable[..., ServeProcess], disk: SmallDisk
) -> Callable[..., ServeProcess]:
    """Start the bot with its database on `disk`."""

    def make(**settings: str) -> ServeProcess:
        serve: ServeProcess = make_serve(start=False, **settings)
        serve.db_path = disk.root / "bot.db"
        serve.settings["DATABASE_URL"] = f"sqlite:///{serve.db_path}"
        return serve.start()

    return make
