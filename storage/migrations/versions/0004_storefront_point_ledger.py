"""The bot's own point system (StoreFront, seed 002).

- `point_lots`: points credited to a person (a delivered reward's, per recipient), with their
  expiry and what is left; amounts in hundredths of a point.
- `point_orders`, `point_order_lots`: redemptions in Xoxoday's store, keyed by its order id, and
  which lots each took from; `point_refunds`: refunds, keyed so a repeat refunds once.
- `storefront_secrets`: the auth tokens and Redeem links the bot minted, stored hashed.

Where points live (at Xoxoday or here) is recorded in `settings_snapshot` under
`point_system` at the first start that needs it; databases from before hold Plum rewards.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 17:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "storefront_secrets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "kind IN ('auth_token', 'redeem_link')", name=op.f("ck_storefront_secrets_kind")
        ),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_storefront_secrets_member_id_members")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_storefront_secrets")),
        sa.UniqueConstraint("secret_hash", name=op.f("uq_storefront_secrets_secret_hash")),
    )
    with op.batch_alter_table("storefront_secrets", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_storefront_secrets_expires_at"), ["expires_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_storefront_secrets_member_id_kind"), ["member_id", "kind"], unique=False
        )

    op.create_table(
        "point_lots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("reward_id", sa.Integer(), nullable=True),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("cents", sa.BigInteger(), nullable=False),
        sa.Column("remaining", sa.BigInteger(), nullable=False),
        sa.Column("expired", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("taken_back", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("expires_on", sa.Date(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("source IN ('reward', 'refund')", name=op.f("ck_point_lots_source")),
        sa.CheckConstraint("cents > 0", name=op.f("ck_point_lots_cents_positive")),
        sa.CheckConstraint(
            "remaining >= 0 AND expired >= 0 AND taken_back >= 0 AND "
            "remaining + expired + taken_back <= cents",
            name=op.f("ck_point_lots_remaining_in_range"),
        ),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_point_lots_member_id_members")
        ),
        sa.ForeignKeyConstraint(
            ["reward_id"], ["rewards.id"], name=op.f("fk_point_lots_reward_id_rewards")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_point_lots")),
        sa.UniqueConstraint(
            "reward_id", "member_id", name=op.f("uq_point_lots_reward_id_member_id")
        ),
    )
    with op.batch_alter_table("point_lots", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_point_lots_expires_on_remaining"),
            ["expires_on", "remaining"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_point_lots_member_id_expires_on"),
            ["member_id", "expires_on"],
            unique=False,
        )

    op.create_table(
        "point_orders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.String(length=100), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("cents", sa.BigInteger(), nullable=False),
        sa.Column("refunded", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("token_id", sa.Integer(), nullable=True),
        sa.Column("details", sa.JSON(none_as_null=True), nullable=True),
        sa.Column("balance_after", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("cents > 0", name=op.f("ck_point_orders_cents_positive")),
        sa.CheckConstraint(
            "refunded >= 0 AND refunded <= cents", name=op.f("ck_point_orders_refunded_in_range")
        ),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_point_orders_member_id_members")
        ),
        sa.ForeignKeyConstraint(
            ["token_id"],
            ["storefront_secrets.id"],
            name=op.f("fk_point_orders_token_id_storefront_secrets"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_point_orders")),
        sa.UniqueConstraint("order_id", name=op.f("uq_point_orders_order_id")),
    )
    with op.batch_alter_table("point_orders", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_point_orders_member_id_created_at"),
            ["member_id", "created_at"],
            unique=False,
        )

    op.create_table(
        "point_order_lots",
        sa.Column("order_pk", sa.Integer(), nullable=False),
        sa.Column("lot_id", sa.Integer(), nullable=False),
        sa.Column("cents", sa.BigInteger(), nullable=False),
        sa.Column("refunded", sa.BigInteger(), server_default="0", nullable=False),
        sa.CheckConstraint("cents > 0", name=op.f("ck_point_order_lots_cents_positive")),
        sa.CheckConstraint(
            "refunded >= 0 AND refunded <= cents",
            name=op.f("ck_point_order_lots_refunded_in_range"),
        ),
        sa.ForeignKeyConstraint(
            ["lot_id"], ["point_lots.id"], name=op.f("fk_point_order_lots_lot_id_point_lots")
        ),
        sa.ForeignKeyConstraint(
            ["order_pk"],
            ["point_orders.id"],
            name=op.f("fk_point_order_lots_order_pk_point_orders"),
        ),
        sa.PrimaryKeyConstraint("order_pk", "lot_id", name=op.f("pk_point_order_lots")),
    )
    with op.batch_alter_table("point_order_lots", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_point_order_lots_lot_id"), ["lot_id"], unique=False)

    op.create_table(
        "point_refunds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("refund_key", sa.String(length=255), nullable=False),
        sa.Column("order_pk", sa.Integer(), nullable=False),
        sa.Column("cents", sa.BigInteger(), nullable=False),
        sa.Column("balance_after", sa.BigInteger(), nullable=False),
        sa.Column("comments", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("cents > 0", name=op.f("ck_point_refunds_cents_positive")),
        sa.ForeignKeyConstraint(
            ["order_pk"], ["point_orders.id"], name=op.f("fk_point_refunds_order_pk_point_orders")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_point_refunds")),
        sa.UniqueConstraint("refund_key", name=op.f("uq_point_refunds_refund_key")),
    )
    with op.batch_alter_table("point_refunds", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_point_refunds_order_pk"), ["order_pk"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("point_refunds", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_point_refunds_order_pk"))

    op.drop_table("point_refunds")
    with op.batch_alter_table("point_order_lots", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_point_order_lots_lot_id"))

    op.drop_table("point_order_lots")
    with op.batch_alter_table("point_orders", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_point_orders_member_id_created_at"))

    op.drop_table("point_orders")
    with op.batch_alter_table("point_lots", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_point_lots_member_id_expires_on"))
        batch_op.drop_index(batch_op.f("ix_point_lots_expires_on_remaining"))

    op.drop_table("point_lots")
    with op.batch_alter_table("storefront_secrets", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_storefront_secrets_member_id_kind"))
        batch_op.drop_index(batch_op.f("ix_storefront_secrets_expires_at"))

    op.drop_table("storefront_secrets")
