"""Migrations: from empty to head, models equal to head, and what `serve` / `migrate` do."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text

import storage.migrations as migrations
from bot.cli import main
from storage.db import make_engine
from storage.errors import DatabaseNotReady
from storage.models import metadata
from tests.storage.support import TestDatabase, ledger_database


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def empty(request: pytest.FixtureRequest, tmp_path: Path):  # type: ignore[no-untyped-def]
    pg = request.getfixturevalue("pg_url") if request.param == "postgresql" else None
    with ledger_database(request.param, tmp_path=tmp_path, pg_url=pg, migrate=False) as database:
        yield database


def test_upgrade_from_empty_reaches_head_and_matches_the_models(empty: TestDatabase) -> None:
    state = migrations.current_state(empty.engine)
    assert state.is_empty and state.is_behind and not state.is_current

    state = migrations.upgrade(empty.engine)

    assert state.is_current
    assert state.current == migrations.head_revisions()
    with empty.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        diff = compare_metadata(context, metadata)
    assert diff == [], f"models and migrations differ: {diff}"


def test_every_table_and_index_comes_from_the_migration(db: TestDatabase) -> None:
    inspector = inspect(db.engine)
    tables = set(inspector.get_table_names())
    assert set(metadata.tables) <= tables
    for table in metadata.sorted_tables:
        names = {ix["name"] for ix in inspector.get_indexes(table.name)}
        assert {ix.name for ix in table.indexes} <= names, table.name


def test_downgrade_to_base_and_back(empty: TestDatabase) -> None:
    migrations.upgrade(empty.engine)
    command.downgrade(migrations.alembic_config(empty.engine), "base")
    assert migrations.current_state(empty.engine).is_empty
    assert "rewards" not in inspect(empty.engine).get_table_names()
    migrations.upgrade(empty.engine)
    assert migrations.current_state(empty.engine).is_current


def test_serve_migrates_sqlite_by_itself(tmp_path: Path) -> None:
    with ledger_database("sqlite", tmp_path=tmp_path, migrate=False) as empty:
        assert migrations.ensure_current(empty.engine).is_current
        assert "rewards" in inspect(empty.engine).get_table_names()


def test_sqlite_auto_upgrade_can_be_turned_off(tmp_path: Path) -> None:
    with (
        ledger_database("sqlite", tmp_path=tmp_path, migrate=False) as empty,
        pytest.raises(DatabaseNotReady, match="run `rewardbot migrate`"),
    ):
        migrations.ensure_current(empty.engine, auto_upgrade_sqlite=False)


@pytest.mark.postgres
def test_serve_refuses_postgresql_that_is_behind(pg_url: str, tmp_path: Path) -> None:
    with ledger_database("postgresql", tmp_path=tmp_path, pg_url=pg_url, migrate=False) as empty:
        with pytest.raises(
            DatabaseNotReady, match=r"the database is behind: run `rewardbot migrate`"
        ):
            migrations.ensure_current(empty.engine)
        assert "rewards" not in inspect(empty.engine).get_table_names()
        migrations.upgrade(empty.engine)
        assert migrations.ensure_current(empty.engine).is_current


def test_a_database_from_a_newer_release_is_refused(db: TestDatabase) -> None:
    with db.engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = 'ffff_future'"))
    with pytest.raises(DatabaseNotReady, match="newer release"):
        migrations.ensure_current(db.engine)


def test_rewardbot_migrate(empty: TestDatabase, monkeypatch, capsys, tmp_path) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", empty.url)

    assert main(["migrate", "--check"]) == 1
    assert "the database is behind: run `rewardbot migrate`" in capsys.readouterr().out

    assert main(["migrate"]) == 0
    assert "upgraded from an empty database to 0001" in capsys.readouterr().out
    assert migrations.current_state(empty.engine).is_current

    assert main(["migrate"]) == 0
    assert "already up to date" in capsys.readouterr().out
    assert main(["migrate", "--check"]) == 0


def test_the_migrations_ship_inside_the_package() -> None:
    here = Path(migrations.__file__).parent
    assert (here / "env.py").is_file()
    assert (here / "script.py.mako").is_file()
    assert (here / "versions" / "__init__.py").is_file()  # found by setuptools as a package
    assert migrations.head_revisions() == ("0001",)


def test_make_engine_refuses_other_databases() -> None:
    with pytest.raises(ValueError, match="unsupported"):
        make_engine("mysql://u@h/db")
