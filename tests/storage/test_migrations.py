"""Migrations: from empty to head, models equal to head, and what `serve` / `migrate` do."""

from __future__ import annotations

import subprocess
import sys
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


def test_a_database_behind_is_upgraded_on_sqlite_and_refused_on_postgresql(
    empty: TestDatabase,
) -> None:
    migrations.upgrade(empty.engine, revision="0004")
    if empty.backend == "sqlite":
        assert migrations.ensure_current(empty.engine).current == migrations.head_revisions()
        assert "plum_webhook_events" in inspect(empty.engine).get_table_names()  # 0005's
    else:
        with pytest.raises(DatabaseNotReady, match="run `rewardbot migrate`"):
            migrations.ensure_current(empty.engine)
        assert migrations.current_state(empty.engine).current == ("0004",)


def test_0007_keeps_the_point_ledger_and_lets_lots_come_from_adjustments(
    empty: TestDatabase,
) -> None:
    """0007 rewrites point_lots' CHECK (on SQLite by copying the table) while orders point at
    its lots: the lots, the orders' parts and their ids survive, and an `adjustment` lot is
    accepted after it (refused before)."""
    migrations.upgrade(empty.engine, revision="0006")
    now = "2026-12-01 10:00:00+00:00"
    with empty.engine.begin() as c:
        c.execute(
            text(
                "INSERT INTO members (id, team_id, slack_user_id, display_name, real_name, role, "
                "is_bot, active, created_at, updated_at) "
                "VALUES (1, 'T1', 'UALICE', 'alice', 'alice', 'member', false, true, :now, :now)"
            ),
            {"now": now},
        )
        c.execute(
            text(
                "INSERT INTO point_lots (id, member_id, source, cents, remaining, expired, "
                "taken_back, created_at, updated_at) "
                "VALUES (7, 1, 'refund', 1000, 400, 0, 0, :now, :now)"
            ),
            {"now": now},
        )
        c.execute(
            text(
                "INSERT INTO point_orders (id, order_id, member_id, cents, refunded, "
                "balance_after, created_at, updated_at) VALUES (3, 'ORD', 1, 600, 0, 400, "
                ":now, :now)"
            ),
            {"now": now},
        )
        c.execute(text("INSERT INTO point_order_lots VALUES (3, 7, 600, 0)"))

    migrations.upgrade(empty.engine)

    with empty.engine.begin() as c:
        assert c.execute(text("SELECT id, remaining FROM point_lots")).all() == [(7, 400)]
        assert c.execute(text("SELECT order_pk, lot_id FROM point_order_lots")).all() == [(3, 7)]
        c.execute(
            text(
                "INSERT INTO point_lots (member_id, source, cents, remaining, expired, "
                "taken_back, created_at, updated_at) "
                "VALUES (1, 'adjustment', 50, 50, 0, 0, :now, :now)"
            ),
            {"now": now},
        )
    with pytest.raises(Exception, match=r"(?i)check"), empty.engine.begin() as c:
        c.execute(
            text(
                "INSERT INTO point_lots (member_id, source, cents, remaining, expired, "
                "taken_back, created_at, updated_at) "
                "VALUES (1, 'gift', 50, 50, 0, 0, :now, :now)"
            ),
            {"now": now},
        )


def test_0008_keeps_the_rewards_and_what_points_at_them_and_accepts_celebrations(
    empty: TestDatabase,
) -> None:
    """0008 rewrites rewards' CHECK on its source (on SQLite by copying the table) while
    recipients, values and lots point at its rows: they and their ids survive, and a
    `celebration` reward is accepted after it (an unknown source still refused)."""
    migrations.upgrade(empty.engine, revision="0007")
    now = "2026-12-01 10:00:00+00:00"
    reward = (
        "INSERT INTO rewards (id, short_id, idempotency_key, giver_id, source, citation, public, "
        "status, total_points, attempts, created_at, updated_at) VALUES (:id, :short, :key, 1, "
        ":source, 'thanks', true, 'sent', 10, 0, :now, :now)"
    )
    with empty.engine.begin() as c:
        for mid, uid in ((1, "UALICE"), (2, "UBOB")):
            c.execute(
                text(
                    "INSERT INTO members (id, team_id, slack_user_id, display_name, real_name, "
                    "role, is_bot, active, created_at, updated_at) VALUES "
                    "(:id, 'T1', :uid, 'x', 'x', 'member', false, true, :now, :now)"
                ),
                {"id": mid, "uid": uid, "now": now},
            )
        c.execute(
            text(reward), {"id": 5, "short": "AAAAAA", "key": "k5", "source": "command", "now": now}
        )
        c.execute(
            text(
                "INSERT INTO reward_recipients (id, reward_id, member_id, giver_id, points, "
                "outcome, updated_at) VALUES (9, 5, 2, 1, 10, 'sent', :now)"
            ),
            {"now": now},
        )
        c.execute(text("INSERT INTO reward_values VALUES (5, 'teamwork')"))

    migrations.upgrade(empty.engine)

    with empty.engine.begin() as c:
        assert c.execute(text("SELECT id, short_id FROM rewards")).all() == [(5, "AAAAAA")]
        assert c.execute(text("SELECT id, reward_id FROM reward_recipients")).all() == [(9, 5)]
        assert c.execute(text("SELECT reward_id FROM reward_values")).all() == [(5,)]
        c.execute(
            text(reward),
            {"id": 6, "short": "BBBBBB", "key": "k6", "source": "celebration", "now": now},
        )
    with pytest.raises(Exception, match=r"(?i)check"), empty.engine.begin() as c:
        c.execute(
            text(reward), {"id": 7, "short": "CCCCCC", "key": "k7", "source": "gift", "now": now}
        )


def test_serve_recognises_a_current_database_without_importing_alembic(db: TestDatabase) -> None:
    """What `rewardbot serve` does at every start but the first after an upgrade: the check
    reads the revision files as text, and Alembic and Mako stay out of the process."""
    code = (
        "import sys\n"
        "from storage.db import make_engine\n"
        "from storage.migrations import ensure_current\n"
        "state = ensure_current(make_engine(sys.argv[1]))\n"
        "print(state.is_current, ','.join(state.current), 'alembic' in sys.modules,"
        " 'mako' in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, db.url], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["True", ",".join(migrations.head_revisions()), "False", "False"]


def test_the_revision_files_read_as_text_agree_with_alembic() -> None:
    graph = migrations.read_revisions()
    known = {
        rev.revision: tuple(
            []
            if rev.down_revision is None
            else [rev.down_revision]
            if isinstance(rev.down_revision, str)
            else rev.down_revision
        )
        for rev in migrations.script_directory().walk_revisions()
    }
    assert graph == known
    followed = {down for downs in known.values() for down in downs}
    assert tuple(r for r in known if r not in followed) == migrations.head_revisions()


def test_revision_files_only_alembic_can_read_are_left_to_it(tmp_path: Path) -> None:
    def write(name: str, body: str) -> None:
        (tmp_path / name).write_text(body)

    write("__init__.py", "")
    write(".#0002_lock.py", "not python at all (")
    write("0001_a.py", 'revision = "0001"\ndown_revision = None\n')
    write("0002_b.py", 'revision: str = "0002"\ndown_revision: str | None = "0001"\n')
    write("0003_c.py", 'revision = "0003"\ndown_revision = "0001"\n')
    write("0004_merge.py", 'revision = "0004"\ndown_revision = ("0002", "0003")\n')
    assert migrations.read_revisions(tmp_path) == {
        "0001": (),
        "0002": ("0001",),
        "0003": ("0001",),
        "0004": ("0002", "0003"),
    }
    for body in (
        'revision = make_id()\ndown_revision = "0004"\n',  # computed
        'down_revision = "0004"\n',  # no revision (Alembic's legacy file names)
        'revision = "0005"\n',  # no down_revision
        'revision = "0005"\ndown_revision = "0004"\ndepends_on = "0003"\n',
        'revision = "0005"\ndown_revision = "0004"\nbranch_labels = ("x",)\n',
        'revision = "0004"\ndown_revision = "0003"\n',  # the same revision twice
        "revision = (\n",  # not Python
    ):
        write("0005_e.py", body)
        assert migrations.read_revisions(tmp_path) is None, body


def test_without_the_quick_reading_serve_asks_alembic(db: TestDatabase, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(migrations, "read_revisions", lambda: None)
    state = migrations.ensure_current(db.engine)
    assert state.is_current and state.current == migrations.head_revisions()


def test_rewardbot_migrate(empty: TestDatabase, monkeypatch, capsys, tmp_path) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", empty.url)

    assert main(["migrate", "--check"]) == 1
    assert "the database is behind: run `rewardbot migrate`" in capsys.readouterr().out

    assert main(["migrate"]) == 0
    head = migrations.head_revisions()[0]
    assert f"upgraded from an empty database to {head}" in capsys.readouterr().out
    assert migrations.current_state(empty.engine).is_current

    assert main(["migrate"]) == 0
    assert "already up to date" in capsys.readouterr().out
    assert main(["migrate", "--check"]) == 0


def test_the_migrations_ship_inside_the_package() -> None:
    here = Path(migrations.__file__).parent
    assert (here / "env.py").is_file()
    assert (here / "script.py.mako").is_file()
    assert (here / "versions" / "__init__.py").is_file()  # found by setuptools as a package
    assert migrations.head_revisions() == ("0012",)


def test_make_engine_refuses_other_databases() -> None:
    with pytest.raises(ValueError, match="unsupported"):
        make_engine("mysql://u@h/db")


def test_0002_backfills_the_recipients_period_columns(empty: TestDatabase) -> None:
    """A database with rewards at 0001 keeps reporting them after the upgrade."""
    migrations.upgrade(empty.engine, revision="0001")
    sent = "2025-01-02 03:04:05+00:00"
    with empty.engine.begin() as c:
        for statement in (
            "INSERT INTO members (id, team_id, slack_user_id, display_name, real_name, role,"
            " is_bot, active, created_at, updated_at) VALUES"
            " (1, 'T', 'U1', '', '', 'member', false, true, :t, :t),"
            " (2, 'T', 'U2', '', '', 'member', false, true, :t, :t)",
            "INSERT INTO rewards (id, short_id, idempotency_key, giver_id, channel_id, source,"
            " citation, public, status, total_points, created_at, sent_at, updated_at) VALUES"
            " (1, 'AAAAAA', 'k1', 1, 'C1', 'command', 'c', true, 'sent', 5, :t, :t, :t),"
            " (2, 'BBBBBB', 'k2', 1, 'C2', 'command', 'c', true, 'queued', 5, :t, NULL, :t)",
            "INSERT INTO reward_recipients (id, reward_id, member_id, giver_id, points, outcome,"
            " updated_at) VALUES (1, 1, 2, 1, 5, 'sent', :t), (2, 2, 2, 1, 5, 'pending', :t)",
        ):
            c.execute(text(statement), {"t": sent})

    migrations.upgrade(empty.engine)

    with empty.engine.connect() as c:
        rows = c.execute(
            text("SELECT id, channel_id, sent_at FROM reward_recipients ORDER BY id")
        ).all()
    assert [(r[0], r[1], r[2] is not None) for r in rows] == [(1, "C1", True), (2, "C2", False)]
    with empty.store.read_session() as s:
        from datetime import UTC, datetime

        from storage import queries

        totals = queries.totals_by_channel(
            s, since=datetime(2025, 1, 1, tzinfo=UTC), until=datetime(2025, 1, 3, tzinfo=UTC)
        )
    assert [(t.key, t.points) for t in totals] == [("C1", 5)]


def test_0009_accepts_reaction_and_message_sources_and_goes_back_down(
    empty: TestDatabase,
) -> None:
    """0009 (reactions) changes rewards' CHECK on its source in place and adds `held_until`:
    a reward made before it keeps its rows and what points at it, rewards given with a
    reaction or in a message are accepted after it (an unknown source still refused); down
    again, they take the nearest older source and the rows stay."""
    migrations.upgrade(empty.engine, revision="0008")
    now = "2026-12-07 21:00:00+00:00"
    reward = (
        "INSERT INTO rewards (id, short_id, idempotency_key, giver_id, source, citation, public, "
        "status, total_points, attempts, created_at, updated_at) VALUES (:id, :short, :key, 1, "
        ":source, 'thanks', true, 'sent', 10, 0, :now, :now)"
    )
    with empty.engine.begin() as c:
        for mid, uid in ((1, "UALICE"), (2, "UBOB")):
            c.execute(
                text(
                    "INSERT INTO members (id, team_id, slack_user_id, display_name, real_name, "
                    "role, is_bot, active, created_at, updated_at) VALUES "
                    "(:id, 'T1', :uid, 'x', 'x', 'member', false, true, :now, :now)"
                ),
                {"id": mid, "uid": uid, "now": now},
            )
        c.execute(
            text(reward), {"id": 5, "short": "AAAAAA", "key": "k5", "source": "command", "now": now}
        )
        c.execute(
            text(
                "INSERT INTO reward_recipients (id, reward_id, member_id, giver_id, points, "
                "outcome, updated_at) VALUES (9, 5, 2, 1, 10, 'sent', :now)"
            ),
            {"now": now},
        )

    migrations.upgrade(empty.engine)

    with empty.engine.begin() as c:
        assert c.execute(text("SELECT id, reward_id FROM reward_recipients")).all() == [(9, 5)]
        for n, source in ((6, "reaction"), (7, "message")):
            c.execute(
                text(reward),
                {"id": n, "short": f"B{n}BBBB", "key": f"k{n}", "source": source, "now": now},
            )
        c.execute(text("UPDATE rewards SET held_until = :now WHERE id = 6"), {"now": now})
    with pytest.raises(Exception, match=r"(?i)check"), empty.engine.begin() as c:
        c.execute(
            text(reward), {"id": 8, "short": "CCCCCC", "key": "k8", "source": "gift", "now": now}
        )

    command.downgrade(migrations.alembic_config(empty.engine), "0008")

    with empty.engine.begin() as c:
        assert c.execute(text("SELECT id, source FROM rewards ORDER BY id")).all() == [
            (5, "command"),
            (6, "shortcut"),
            (7, "command"),
        ]
        assert c.execute(text("SELECT id, reward_id FROM reward_recipients")).all() == [(9, 5)]
    columns = {col["name"] for col in inspect(empty.engine).get_columns("rewards")}
    assert "held_until" not in columns
