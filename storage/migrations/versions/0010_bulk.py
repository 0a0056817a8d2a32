"""Bulk awards (issue 22): `/reward bulk`, one CSV file of awards from an admin.

- `bulk_awards`: the file as checked (its rows kept until the admin sends it, and their
  digest, to recognise the same file sent again), its status and where its progress message
  is; keyed on the Slack request that uploaded it.
- `bulk_rows`: a sent file's rows, each the reward it became.
- `rewards.source` may be `bulk` (a file's row, paid by the company, from the admin who sent
  the file).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 21:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


SOURCES = "'command', 'modal', 'shortcut', 'celebration', 'reaction', 'message'"


def _reward_sources(old: str, new: str) -> None:
    """Replace rewards' CHECK on its source, as 0008 does (PostgreSQL alters the constraint;
    SQLite, which can't without copying a table every reward's rows point at, changes the
    CHECK's text in its schema, then a new schema version so every connection reads it)."""
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


def upgrade() -> None:
    _reward_sources(SOURCES, f"{SOURCES}, 'bulk'")
    op.create_table(
        "bulk_awards",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("short_id", sa.String(length=8), nullable=False),
        sa.Column("request_key", sa.String(length=255), nullable=False),
        sa.Column("admin_id", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("row_count", sa.Integer(), nullable=False),
        sa.Column("total_points", sa.Integer(), nullable=False),
        sa.Column("rows", sa.JSON(none_as_null=True), nullable=False),
        sa.Column("message_channel", sa.String(length=32), nullable=True),
        sa.Column("message_ts", sa.String(length=32), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('previewed', 'cancelled', 'pending_approval', 'rejected', 'sending', "
            "'done')",
            name=op.f("ck_bulk_awards_status"),
        ),
        sa.CheckConstraint("row_count > 0", name=op.f("ck_bulk_awards_row_count_positive")),
        sa.CheckConstraint("total_points > 0", name=op.f("ck_bulk_awards_total_points_positive")),
        sa.ForeignKeyConstraint(
            ["admin_id"], ["members.id"], name=op.f("fk_bulk_awards_admin_id_members")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bulk_awards")),
        sa.UniqueConstraint("request_key", name=op.f("uq_bulk_awards_request_key")),
        sa.UniqueConstraint("short_id", name=op.f("uq_bulk_awards_short_id")),
    )
    with op.batch_alter_table("bulk_awards", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_bulk_awards_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_bulk_awards_digest"), ["digest"], unique=False)

    op.create_table(
        "bulk_rows",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("bulk_id", sa.Integer(), nullable=False),
        sa.Column("line", sa.Integer(), nullable=False),
        sa.Column("reward_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["bulk_id"], ["bulk_awards.id"], name=op.f("fk_bulk_rows_bulk_id_bulk_awards")
        ),
        sa.ForeignKeyConstraint(
            ["reward_id"], ["rewards.id"], name=op.f("fk_bulk_rows_reward_id_rewards")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bulk_rows")),
        sa.UniqueConstraint("bulk_id", "line", name=op.f("uq_bulk_rows_bulk_id_line")),
        sa.UniqueConstraint("reward_id", name=op.f("uq_bulk_rows_reward_id")),
    )


def downgrade() -> None:
    op.drop_table("bulk_rows")
    with op.batch_alter_table("bulk_awards", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_bulk_awards_digest"))
        batch_op.drop_index(batch_op.f("ix_bulk_awards_status"))
    op.drop_table("bulk_awards")
    # A file's rewards can't be kept under the old CHECK: they are the company's, from a file.
    op.execute("UPDATE rewards SET source = 'command' WHERE source = 'bulk'")
    _reward_sources(f"{SOURCES}, 'bulk'", SOURCES)
