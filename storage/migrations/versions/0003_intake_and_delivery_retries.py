"""The intake journal, retries of deliveries that never reached Xoxoday, link batches keyed by
the Slack request that asked for them, and heartbeats.

- `intake`: every Slack request the bot acknowledges, recorded before the acknowledgement leaves
  the process and finished when its work is done (a crash leaves it pending for the next start).
  On SQLite the bot keeps this table in a journal file of its own beside the ledger (one writer
  per file: recording never waits behind a ledger write); on PostgreSQL it lives here.
- `rewards.attempts`, `next_attempt_at`, `retry_until`: a reward whose sendBalance provably did
  not reach Xoxoday (unreachable, rate-limited, credentials refused) goes back to `queued` and
  is tried again later, until `retry_until`.
- `link_batches.request_key`: the intake key of the command that asked for the batch, so a
  command resumed after a crash finds its batch instead of asking Xoxoday for links again.
- `heartbeats`: each process's health check writes its row, proving the database takes writes.
- `once_keys` of kind `outcome_told` for every reward already sent, failed or in doubt: those
  were told; a crash between recording an outcome and telling it is now told at the next start.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 09:00:00
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "intake",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("body", sa.JSON(none_as_null=True), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("outcome", sa.String(length=64), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_by", sa.String(length=100), nullable=True),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resumes", sa.Integer(), server_default="0", nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("state IN ('pending', 'done')", name=op.f("ck_intake_state")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_intake")),
        sa.UniqueConstraint("key", name=op.f("uq_intake_key")),
    )
    op.create_index(op.f("ix_intake_state_received_at"), "intake", ["state", "received_at"])
    op.create_table(
        "heartbeats",
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_heartbeats")),
    )
    with op.batch_alter_table("rewards") as batch:
        batch.add_column(sa.Column("attempts", sa.Integer(), server_default="0", nullable=False))
        batch.add_column(sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("retry_until", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("link_batches") as batch:
        batch.add_column(sa.Column("request_key", sa.String(length=255), nullable=True))
        batch.create_unique_constraint(op.f("uq_link_batches_request_key"), ["request_key"])
    # Outcomes recorded before this revision were told when they happened: mark them told, so
    # telling again the outcomes a crash left untold never repeats one of these.
    op.execute(
        sa.text(
            "INSERT INTO once_keys (kind, key, created_at) "
            "SELECT 'outcome_told', short_id || ':' || status, :now FROM rewards "
            "WHERE status IN ('sent', 'failed', 'in_doubt')"
        ).bindparams(sa.bindparam("now", value=datetime.now(UTC), type_=sa.DateTime(timezone=True)))
    )


def downgrade() -> None:
    op.execute("DELETE FROM once_keys WHERE kind = 'outcome_told'")
    with op.batch_alter_table("link_batches") as batch:
        batch.drop_constraint(op.f("uq_link_batches_request_key"), type_="unique")
        batch.drop_column("request_key")
    with op.batch_alter_table("rewards") as batch:
        batch.drop_column("retry_until")
        batch.drop_column("next_attempt_at")
        batch.drop_column("attempts")
    op.drop_table("heartbeats")
    op.drop_index(op.f("ix_intake_state_received_at"), table_name="intake")
    op.drop_table("intake")
