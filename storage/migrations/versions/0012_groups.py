"""Groups and budgets (issue 22): a reward to a Slack user group, previewed before it is given,
and monthly allowances per person or user group.

- `allowances`: a monthly allowance an admin set for one person or one user group.
- `group_previews`: a group reward as its giver was shown it, until Send or Cancel.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 21:50:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "allowances",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("slack_id", sa.String(length=32), nullable=False),
        sa.Column("label", sa.String(length=80), nullable=False),
        sa.Column("points", sa.BigInteger(), nullable=False),
        sa.Column("set_by", sa.String(length=64), nullable=False),
        sa.Column("set_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("kind IN ('person', 'group')", name=op.f("ck_allowances_kind")),
        sa.CheckConstraint("points > 0", name=op.f("ck_allowances_points")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_allowances")),
        sa.UniqueConstraint("kind", "slack_id", name=op.f("uq_allowances_kind_slack_id")),
    )
    op.create_table(
        "group_previews",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_key", sa.String(length=255), nullable=False),
        sa.Column("giver", sa.String(length=32), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("groups", sa.String(length=400), nullable=False),
        sa.Column("recipients", sa.JSON(none_as_null=True), nullable=False),
        sa.Column("left_out", sa.JSON(none_as_null=True), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("citation", sa.Text(), nullable=False),
        sa.Column("reward_values", sa.JSON(none_as_null=True), nullable=False),
        sa.Column("channel_id", sa.String(length=32), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('open', 'confirmed', 'cancelled')", name=op.f("ck_group_previews_status")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_group_previews")),
        sa.UniqueConstraint("request_key", name=op.f("uq_group_previews_request_key")),
    )


def downgrade() -> None:
    op.drop_table("group_previews")
    op.drop_table("allowances")
