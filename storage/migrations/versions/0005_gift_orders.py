"""Gift cards and donations from Slack (seeds 003, 004).

- `orders` learns who sent a gift card or donation, for whom, what it is worth, the sender's
  words, the Slack request that asked for it (so a repeated request orders once), Xoxoday's
  delivery status, the points it took (points in the bot) and who decided on it; its status
  gains `pending_approval`, `queued` (committed with its poNumber, not yet sent) and
  `rejected`, and a `kind` (gift or donation).
- `plum_webhook_events`: Xoxoday's delivery updates, once per event id.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 18:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from storage.types import Money

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


_STATUSES = "'pending_approval', 'queued', 'requested', 'placed', 'failed', 'unknown', 'rejected'"


def upgrade() -> None:
    op.create_table(
        "plum_webhook_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.String(length=100), nullable=False),
        sa.Column("po_number", sa.String(length=64), nullable=True),
        sa.Column("plum_order_id", sa.String(length=100), nullable=True),
        sa.Column("delivery_status", sa.String(length=32), nullable=True),
        sa.Column("matched", sa.Boolean(), nullable=False),
        sa.Column("body", sa.JSON(none_as_null=True), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plum_webhook_events")),
        sa.UniqueConstraint("event_id", name=op.f("uq_plum_webhook_events_event_id")),
    )
    with op.batch_alter_table("plum_webhook_events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_plum_webhook_events_po_number"), ["po_number"], unique=False
        )

    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("kind", sa.String(length=16), server_default="gift", nullable=False)
        )
        batch_op.add_column(sa.Column("giver_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("recipient_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("product_name", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("order_value", Money(), nullable=True))
        batch_op.add_column(sa.Column("note", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("request_key", sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column("channel_id", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("delivery_status", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("points_cents", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("decided_by", sa.String(length=64), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_orders_giver_id_created_at"), ["giver_id", "created_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_orders_status_updated_at"), ["status", "updated_at"], unique=False
        )
        batch_op.create_unique_constraint(batch_op.f("uq_orders_request_key"), ["request_key"])
        batch_op.create_foreign_key(
            batch_op.f("fk_orders_giver_id_members"), "members", ["giver_id"], ["id"]
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_orders_recipient_id_members"), "members", ["recipient_id"], ["id"]
        )
        batch_op.drop_constraint(batch_op.f("ck_orders_status"), type_="check")
        batch_op.create_check_constraint("status", sa.text(f"status IN ({_STATUSES})"))
        batch_op.create_check_constraint("kind", sa.text("kind IN ('gift', 'donation')"))
        batch_op.create_check_constraint(
            "delivery_status",
            sa.text(
                "delivery_status IS NULL OR delivery_status IN ('pending', 'delivered', 'canceled')"
            ),
        )


def downgrade() -> None:
    op.execute("DELETE FROM orders WHERE status IN ('pending_approval', 'queued', 'rejected')")
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_orders_delivery_status"), type_="check")
        batch_op.drop_constraint(batch_op.f("ck_orders_kind"), type_="check")
        batch_op.drop_constraint(batch_op.f("ck_orders_status"), type_="check")
        batch_op.create_check_constraint(
            "status", sa.text("status IN ('requested', 'placed', 'failed', 'unknown')")
        )
        batch_op.drop_constraint(batch_op.f("fk_orders_recipient_id_members"), type_="foreignkey")
        batch_op.drop_constraint(batch_op.f("fk_orders_giver_id_members"), type_="foreignkey")
        batch_op.drop_constraint(batch_op.f("uq_orders_request_key"), type_="unique")
        batch_op.drop_index(batch_op.f("ix_orders_status_updated_at"))
        batch_op.drop_index(batch_op.f("ix_orders_giver_id_created_at"))
        batch_op.drop_column("decided_by")
        batch_op.drop_column("points_cents")
        batch_op.drop_column("delivery_status")
        batch_op.drop_column("channel_id")
        batch_op.drop_column("request_key")
        batch_op.drop_column("note")
        batch_op.drop_column("order_value")
        batch_op.drop_column("product_name")
        batch_op.drop_column("recipient_id")
        batch_op.drop_column("giver_id")
        batch_op.drop_column("kind")

    with op.batch_alter_table("plum_webhook_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_plum_webhook_events_po_number"))

    op.drop_table("plum_webhook_events")
