"""Delivery in batches (issue 22): rewards sent together in one sendBalance call.

- `rewards.send_batch`: the batch a reward was last claimed in (set with queued → sending, kept
  afterwards). Rewards in doubt from the same call are settled together from Xoxoday's payment
  report (`bot.rewards.doubt`), and never re-sent blindly, in part or whole.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 21:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("rewards") as batch:
        batch.add_column(sa.Column("send_batch", sa.String(length=32), nullable=True))


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        # In place (SQLite 3.35+): a copy of the table would break what points at rewards.
        op.execute("ALTER TABLE rewards DROP COLUMN send_batch")
    else:
        op.drop_column("rewards", "send_batch")
