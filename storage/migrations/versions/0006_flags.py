"""Trust: locked givers and flags (issue 23).

- `members` learns whether an admin locked the member from giving (`locked_at`, `locked_by`,
  `lock_reason`).
- `rewards.held_for`: the flag rule that held a reward for an admin.
- `reward_flags`: patterns in giving, once per rule, people and month, and how an admin
  decided; `flag_holds`: an admin's "Hold future ones".

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07 19:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.add_column(sa.Column("locked_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("locked_by", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("lock_reason", sa.Text(), nullable=True))
    with op.batch_alter_table("rewards", schema=None) as batch_op:
        batch_op.add_column(sa.Column("held_for", sa.String(length=16), nullable=True))

    op.create_table(
        "reward_flags",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("rule", sa.String(length=16), nullable=False),
        sa.Column("people", sa.String(length=200), nullable=False),
        sa.Column("giver", sa.String(length=32), nullable=False),
        sa.Column("period", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("gifts", sa.JSON(none_as_null=True), nullable=False),
        sa.Column("raised_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reported_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_by", sa.String(length=64), nullable=True),
        sa.CheckConstraint(
            "rule IN ('ring', 'repeat', 'allowance', 'burst')", name=op.f("ck_reward_flags_rule")
        ),
        sa.CheckConstraint(
            "status IN ('open', 'dismissed', 'held', 'locked')",
            name=op.f("ck_reward_flags_status"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reward_flags")),
        sa.UniqueConstraint(
            "rule", "people", "period", name=op.f("uq_reward_flags_rule_people_period")
        ),
    )
    with op.batch_alter_table("reward_flags", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_reward_flags_status_reported_at"), ["status", "reported_at"]
        )
    op.create_table(
        "flag_holds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("rule", sa.String(length=16), nullable=False),
        sa.Column("people", sa.String(length=200), nullable=False),
        sa.Column("held_by", sa.String(length=64), nullable=False),
        sa.Column("flag_id", sa.Integer(), nullable=True),
        sa.Column("held_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["flag_id"], ["reward_flags.id"], name=op.f("fk_flag_holds_flag_id_reward_flags")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_flag_holds")),
        sa.UniqueConstraint("rule", "people", name=op.f("uq_flag_holds_rule_people")),
    )


def downgrade() -> None:
    op.drop_table("flag_holds")
    with op.batch_alter_table("reward_flags", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reward_flags_status_reported_at"))
    op.drop_table("reward_flags")
    with op.batch_alter_table("rewards", schema=None) as batch_op:
        batch_op.drop_column("held_for")
    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.drop_column("lock_reason")
        batch_op.drop_column("locked_by")
        batch_op.drop_column("locked_at")
