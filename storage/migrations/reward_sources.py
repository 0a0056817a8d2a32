"""One change several migrations make: widen (or narrow) rewards' CHECK on its source.

PostgreSQL alters the constraint. SQLite can't without copying the table, which every reward's
recipients, values, lots and messages point at (the foreign keys are on, the migration is one
transaction): there the CHECK's text is changed in the schema itself, as SQLite documents for
changes that touch no stored row (`PRAGMA writable_schema`, then a new schema version so every
connection reads it). Kept as it is once a migration uses it: a migration is history.
"""

from __future__ import annotations

from alembic import op


def change_reward_sources(old: str, new: str) -> None:
    """`old` and `new`: the quoted list inside `source IN (...)`, e.g. "'command', 'modal'"."""
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        op.drop_constraint(op.f("ck_rewards_source"), "rewards", type_="check")
        op.create_check_constraint(op.f("ck_rewards_source"), "rewards", f"source IN ({new})")
        return
    sql = bind.exec_driver_sql(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'rewards'"
    ).scalar_one()
    before, after = f"source IN ({old})", f"source IN ({new})"
    if sql.count(before) != 1:
        raise RuntimeError("rewards' CHECK on its source is not the one this migration expects")
    version = bind.exec_driver_sql("PRAGMA schema_version").scalar_one()
    bind.exec_driver_sql("PRAGMA writable_schema = ON")
    try:
        bind.exec_driver_sql(
            "UPDATE sqlite_master SET sql = ? WHERE type = 'table' AND name = 'rewards'",
            (sql.replace(before, after),),
        )
        bind.exec_driver_sql(f"PRAGMA schema_version = {int(version) + 1}")
    finally:
        bind.exec_driver_sql("PRAGMA writable_schema = OFF")
