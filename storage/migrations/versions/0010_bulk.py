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

from storage.migrations.reward_sources import change_reward_sources

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


SOURCES = "'command', 'modal', 'shortcut', 'celebration', 'reaction', 'message'"


def upgrade() -> None:
    change_reward_sources(SOURCES, f"{SOURCES}, 'bulk'")
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
    change_reward_sources(f"{SOURCES}, 'bulk'", SOURCES)
