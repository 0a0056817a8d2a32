"""Trust (issue 23): reported rewards and admin point adjustments.

- `reward_reports`: a reward someone reported from its announcement (one per reward), open
  until an admin restores it or cancels the reward.
- `point_adjustments`, `point_adjustment_lots`: points an admin added or deducted by hand in
  the bot's point ledger, keyed on the Slack request; a deduction records the lots it took from.
- `point_lots.source` may be `adjustment` (the lot an added adjustment made).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07 19:20:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _lot_sources(sources: str) -> None:
    """Replace point_lots' CHECK on its source. On SQLite the batch copies the table and drops
    the old one, which point_order_lots' rows point at (the foreign keys are on, and the
    migration runs in one transaction): those rows step aside while it does, and come back."""
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        op.execute("CREATE TABLE _point_order_lots_0007 AS SELECT * FROM point_order_lots")
        op.execute("DELETE FROM point_order_lots")
    with op.batch_alter_table("point_lots", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_point_lots_source"), type_="check")
        batch_op.create_check_constraint("source", sa.text(f"source IN ({sources})"))
    if sqlite:
        op.execute(
            "INSERT INTO point_order_lots (order_pk, lot_id, cents, refunded) "
            "SELECT order_pk, lot_id, cents, refunded FROM _point_order_lots_0007"
        )
        op.execute("DROP TABLE _point_order_lots_0007")


def upgrade() -> None:
    _lot_sources("'reward', 'refund', 'adjustment'")
    op.create_table(
        "reward_reports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reward_id", sa.Integer(), nullable=False),
        sa.Column("reporter_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("decided_by", sa.String(length=64), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('open', 'restored', 'cancelled')", name=op.f("ck_reward_reports_status")
        ),
        sa.ForeignKeyConstraint(
            ["reward_id"], ["rewards.id"], name=op.f("fk_reward_reports_reward_id_rewards")
        ),
        sa.ForeignKeyConstraint(
            ["reporter_id"], ["members.id"], name=op.f("fk_reward_reports_reporter_id_members")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reward_reports")),
        sa.UniqueConstraint("reward_id", name=op.f("uq_reward_reports_reward_id")),
    )
    with op.batch_alter_table("reward_reports", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_reward_reports_status"), ["status"], unique=False)

    op.create_table(
        "point_adjustments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_key", sa.String(length=255), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("cents", sa.BigInteger(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("lot_id", sa.Integer(), nullable=True),
        sa.Column("balance_after", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("cents <> 0", name=op.f("ck_point_adjustments_cents_not_zero")),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_point_adjustments_member_id_members")
        ),
        sa.ForeignKeyConstraint(
            ["lot_id"], ["point_lots.id"], name=op.f("fk_point_adjustments_lot_id_point_lots")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_point_adjustments")),
        sa.UniqueConstraint("request_key", name=op.f("uq_point_adjustments_request_key")),
    )
    with op.batch_alter_table("point_adjustments", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_point_adjustments_member_id_created_at"),
            ["member_id", "created_at"],
            unique=False,
        )

    op.create_table(
        "point_adjustment_lots",
        sa.Column("adjustment_id", sa.Integer(), nullable=False),
        sa.Column("lot_id", sa.Integer(), nullable=False),
        sa.Column("cents", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("cents > 0", name=op.f("ck_point_adjustment_lots_cents_positive")),
        sa.ForeignKeyConstraint(
            ["adjustment_id"],
            ["point_adjustments.id"],
            name=op.f("fk_point_adjustment_lots_adjustment_id_point_adjustments"),
        ),
        sa.ForeignKeyConstraint(
            ["lot_id"], ["point_lots.id"], name=op.f("fk_point_adjustment_lots_lot_id_point_lots")
        ),
        sa.PrimaryKeyConstraint("adjustment_id", "lot_id", name=op.f("pk_point_adjustment_lots")),
    )
    with op.batch_alter_table("point_adjustment_lots", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_point_adjustment_lots_lot_id"), ["lot_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("point_adjustment_lots", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_point_adjustment_lots_lot_id"))
    op.drop_table("point_adjustment_lots")
    with op.batch_alter_table("point_adjustments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_point_adjustments_member_id_created_at"))
    op.drop_table("point_adjustments")
    with op.batch_alter_table("reward_reports", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reward_reports_status"))
    op.drop_table("reward_reports")
    # An added adjustment's lot can't be kept under the old CHECK; orders may have spent it.
    op.execute(
        "DELETE FROM point_order_lots WHERE lot_id IN "
        "(SELECT id FROM point_lots WHERE source = 'adjustment')"
    )
    op.execute("DELETE FROM point_lots WHERE source = 'adjustment'")
    _lot_sources("'reward', 'refund'")
