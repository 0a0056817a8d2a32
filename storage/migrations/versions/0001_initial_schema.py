"""Initial schema: the ledger, the audit trail (append-only on PostgreSQL), tokens, job runs.

Revision ID: 0001
Revises:
Create Date: 2026-11-21 22:05:40.485979
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from storage.types import Money

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APPEND_ONLY_FUNCTION = """
CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_events is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$
"""


def _install_append_only_guard() -> None:
    """PostgreSQL refuses UPDATE, DELETE and TRUNCATE on audit_events (SQLite: the HMAC chain
    still exposes any edit)."""
    if op.get_context().dialect.name != "postgresql":
        return
    op.execute(APPEND_ONLY_FUNCTION)
    op.execute(
        "CREATE TRIGGER audit_events_no_update_delete BEFORE UPDATE OR DELETE ON audit_events "
        "FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()"
    )
    op.execute(
        "CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events "
        "FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only()"
    )


def _drop_append_only_guard() -> None:
    if op.get_context().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER IF EXISTS audit_events_no_truncate ON audit_events")
    op.execute("DROP TRIGGER IF EXISTS audit_events_no_update_delete ON audit_events")
    op.execute("DROP FUNCTION IF EXISTS audit_events_append_only()")


def upgrade() -> None:
    op.create_table(
        "audit_events",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("subject_type", sa.String(length=32), nullable=False),
        sa.Column("subject_id", sa.String(length=64), nullable=False),
        sa.Column("before", sa.JSON(none_as_null=True), nullable=True),
        sa.Column("after", sa.JSON(none_as_null=True), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("correlation_id", sa.String(length=64), nullable=True),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_events")),
        sa.UniqueConstraint("hash", name=op.f("uq_audit_events_hash")),
    )
    op.create_index(op.f("ix_audit_events_at"), "audit_events", ["at"])
    op.create_index(
        op.f("ix_audit_events_subject_type_subject_id"),
        "audit_events",
        ["subject_type", "subject_id"],
    )
    _install_append_only_guard()

    op.create_table(
        "job_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("job", sa.String(length=64), nullable=False),
        sa.Column("scheduled_for", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_by", sa.String(length=100), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "outcome IN ('running', 'ok', 'failed')", name=op.f("ck_job_runs_outcome")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_job_runs")),
        sa.UniqueConstraint("job", "scheduled_for", name=op.f("uq_job_runs_job_scheduled_for")),
    )
    op.create_table(
        "members",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("slack_user_id", sa.String(length=32), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("display_name", sa.String(length=200), nullable=False),
        sa.Column("real_name", sa.String(length=200), nullable=False),
        sa.Column("tz", sa.String(length=64), nullable=True),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("is_bot", sa.Boolean(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("manager_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("role IN ('member', 'approver', 'admin')", name=op.f("ck_members_role")),
        sa.CheckConstraint(
            "manager_id IS NULL OR manager_id <> id", name=op.f("ck_members_not_own_manager")
        ),
        sa.ForeignKeyConstraint(
            ["manager_id"], ["members.id"], name=op.f("fk_members_manager_id_members")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_members")),
        sa.UniqueConstraint(
            "team_id", "slack_user_id", name=op.f("uq_members_team_id_slack_user_id")
        ),
    )
    op.create_index(op.f("ix_members_email"), "members", ["email"])
    op.create_index(op.f("ix_members_manager_id"), "members", ["manager_id"])

    op.create_table(
        "once_keys",
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("kind", "key", name=op.f("pk_once_keys")),
    )
    op.create_index(op.f("ix_once_keys_created_at"), "once_keys", ["created_at"])

    op.create_table(
        "orders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("po_number", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("product_id", sa.String(length=64), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("denomination", Money(), nullable=False),
        sa.Column("currency_code", sa.String(length=8), nullable=True),
        sa.Column("requested_by", sa.String(length=64), nullable=False),
        sa.Column("plum_order_id", sa.String(length=100), nullable=True),
        sa.Column("request", sa.JSON(none_as_null=True), nullable=False),
        sa.Column("response_redacted", sa.JSON(none_as_null=True), nullable=True),
        sa.Column("response_encrypted", sa.Text(), nullable=True),
        sa.Column("message", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('requested', 'placed', 'failed', 'unknown')", name=op.f("ck_orders_status")
        ),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_orders_quantity_positive")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_orders")),
        sa.UniqueConstraint("po_number", name=op.f("uq_orders_po_number")),
    )
    op.create_index(op.f("ix_orders_created_at"), "orders", ["created_at"])

    op.create_table(
        "plum_tokens",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("ciphertext", sa.Text(), nullable=False),
        sa.Column("flow", sa.String(length=32), nullable=False),
        sa.Column("access_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("refresh_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_plum_tokens")),
    )
    op.create_table(
        "settings_snapshot",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("value", sa.JSON(none_as_null=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_settings_snapshot")),
    )
    op.create_table(
        "link_batches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.String(length=64), nullable=False),
        sa.Column("campaign_name", sa.String(length=200), nullable=True),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("link_expiry", sa.Date(), nullable=True),
        sa.Column("requested_by_id", sa.Integer(), nullable=False),
        sa.Column("recipient_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("plum_batch_id", sa.String(length=100), nullable=True),
        sa.Column("denomination_value", Money(), nullable=True),
        sa.Column("currency_code", sa.String(length=8), nullable=True),
        sa.Column("country_name", sa.String(length=64), nullable=True),
        sa.Column("links_encrypted", sa.Text(), nullable=True),
        sa.Column("message", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('requested', 'created', 'failed')", name=op.f("ck_link_batches_status")
        ),
        sa.CheckConstraint("count > 0", name=op.f("ck_link_batches_count_positive")),
        sa.ForeignKeyConstraint(
            ["recipient_id"], ["members.id"], name=op.f("fk_link_batches_recipient_id_members")
        ),
        sa.ForeignKeyConstraint(
            ["requested_by_id"],
            ["members.id"],
            name=op.f("fk_link_batches_requested_by_id_members"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_link_batches")),
    )
    op.create_index(op.f("ix_link_batches_created_at"), "link_batches", ["created_at"])

    op.create_table(
        "rewards",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("short_id", sa.String(length=8), nullable=False),
        sa.Column("idempotency_key", sa.String(length=255), nullable=False),
        sa.Column("giver_id", sa.Integer(), nullable=False),
        sa.Column("channel_id", sa.String(length=32), nullable=True),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("citation", sa.Text(), nullable=False),
        sa.Column("public", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("total_points", sa.Integer(), nullable=False),
        sa.Column("expiry_months", sa.Integer(), nullable=True),
        sa.Column("claimed_by", sa.String(length=100), nullable=True),
        sa.Column("delivery_message", sa.Text(), nullable=True),
        sa.Column("delivery_response", sa.JSON(none_as_null=True), nullable=True),
        sa.Column("cancel_reason", sa.Text(), nullable=True),
        sa.Column("cancelled_by", sa.String(length=64), nullable=True),
        sa.Column("settled_by", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("queued_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sending_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("failed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("in_doubt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("settled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("expired_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "source IN ('command', 'modal', 'shortcut')", name=op.f("ck_rewards_source")
        ),
        sa.CheckConstraint(
            "status IN ('pending_approval', 'queued', 'sending', 'sent', 'failed', "
            "'in_doubt', 'cancelled', 'rejected', 'expired')",
            name=op.f("ck_rewards_status"),
        ),
        sa.CheckConstraint("total_points > 0", name=op.f("ck_rewards_total_points_positive")),
        sa.ForeignKeyConstraint(
            ["giver_id"], ["members.id"], name=op.f("fk_rewards_giver_id_members")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rewards")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_rewards_idempotency_key")),
        sa.UniqueConstraint("short_id", name=op.f("uq_rewards_short_id")),
    )
    op.create_index(op.f("ix_rewards_giver_id_created_at"), "rewards", ["giver_id", "created_at"])
    op.create_index(op.f("ix_rewards_sent_at"), "rewards", ["sent_at"])
    op.create_index(op.f("ix_rewards_status_created_at"), "rewards", ["status", "created_at"])
    op.create_index(op.f("ix_rewards_status_queued_at"), "rewards", ["status", "queued_at"])

    op.create_table(
        "approvals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reward_id", sa.Integer(), nullable=False),
        sa.Column("approver_id", sa.Integer(), nullable=False),
        sa.Column("decision", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "decision IN ('approved', 'rejected')", name=op.f("ck_approvals_decision")
        ),
        sa.ForeignKeyConstraint(
            ["approver_id"], ["members.id"], name=op.f("fk_approvals_approver_id_members")
        ),
        sa.ForeignKeyConstraint(
            ["reward_id"], ["rewards.id"], name=op.f("fk_approvals_reward_id_rewards")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_approvals")),
        sa.UniqueConstraint("reward_id", name=op.f("uq_approvals_reward_id")),
    )
    op.create_index(op.f("ix_approvals_approver_id"), "approvals", ["approver_id"])

    op.create_table(
        "reward_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reward_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=True),
        sa.Column("channel_id", sa.String(length=32), nullable=False),
        sa.Column("message_ts", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_reward_messages_member_id_members")
        ),
        sa.ForeignKeyConstraint(
            ["reward_id"], ["rewards.id"], name=op.f("fk_reward_messages_reward_id_rewards")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reward_messages")),
        sa.UniqueConstraint(
            "channel_id", "message_ts", name=op.f("uq_reward_messages_channel_id_message_ts")
        ),
    )
    op.create_index(
        op.f("ix_reward_messages_reward_id_kind"), "reward_messages", ["reward_id", "kind"]
    )

    op.create_table(
        "reward_recipients",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reward_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("giver_id", sa.Integer(), nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("plum_unique_id", sa.String(length=100), nullable=True),
        sa.Column("message", sa.Text(), nullable=True),
        sa.Column("expires_on", sa.Date(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "outcome IN ('pending', 'sent', 'failed', 'in_doubt', 'cancelled', 'not_sent')",
            name=op.f("ck_reward_recipients_outcome"),
        ),
        sa.CheckConstraint("member_id <> giver_id", name=op.f("ck_reward_recipients_not_self")),
        sa.CheckConstraint("points > 0", name=op.f("ck_reward_recipients_points_positive")),
        sa.ForeignKeyConstraint(
            ["giver_id"], ["members.id"], name=op.f("fk_reward_recipients_giver_id_members")
        ),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_reward_recipients_member_id_members")
        ),
        sa.ForeignKeyConstraint(
            ["reward_id"], ["rewards.id"], name=op.f("fk_reward_recipients_reward_id_rewards")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reward_recipients")),
        sa.UniqueConstraint(
            "reward_id", "member_id", name=op.f("uq_reward_recipients_reward_id_member_id")
        ),
    )
    op.create_index(
        op.f("ix_reward_recipients_member_id_reward_id"),
        "reward_recipients",
        ["member_id", "reward_id"],
    )
    op.create_index(
        op.f("ix_reward_recipients_outcome_expires_on"),
        "reward_recipients",
        ["outcome", "expires_on"],
    )

    op.create_table(
        "reward_values",
        sa.Column("reward_id", sa.Integer(), nullable=False),
        sa.Column("value", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["reward_id"], ["rewards.id"], name=op.f("fk_reward_values_reward_id_rewards")
        ),
        sa.PrimaryKeyConstraint("reward_id", "value", name=op.f("pk_reward_values")),
    )
    op.create_index(op.f("ix_reward_values_value"), "reward_values", ["value"])


def downgrade() -> None:
    _drop_append_only_guard()
    op.drop_index(op.f("ix_reward_values_value"), table_name="reward_values")

    op.drop_table("reward_values")
    op.drop_index(op.f("ix_reward_recipients_outcome_expires_on"), table_name="reward_recipients")
    op.drop_index(op.f("ix_reward_recipients_member_id_reward_id"), table_name="reward_recipients")

    op.drop_table("reward_recipients")
    op.drop_index(op.f("ix_reward_messages_reward_id_kind"), table_name="reward_messages")

    op.drop_table("reward_messages")
    op.drop_index(op.f("ix_approvals_approver_id"), table_name="approvals")

    op.drop_table("approvals")
    op.drop_index(op.f("ix_rewards_status_queued_at"), table_name="rewards")
    op.drop_index(op.f("ix_rewards_status_created_at"), table_name="rewards")
    op.drop_index(op.f("ix_rewards_sent_at"), table_name="rewards")
    op.drop_index(op.f("ix_rewards_giver_id_created_at"), table_name="rewards")

    op.drop_table("rewards")
    op.drop_index(op.f("ix_link_batches_created_at"), table_name="link_batches")

    op.drop_table("link_batches")
    op.drop_table("settings_snapshot")
    op.drop_table("plum_tokens")
    op.drop_index(op.f("ix_orders_created_at"), table_name="orders")

    op.drop_table("orders")
    op.drop_index(op.f("ix_once_keys_created_at"), table_name="once_keys")

    op.drop_table("once_keys")
    op.drop_index(op.f("ix_members_manager_id"), table_name="members")
    op.drop_index(op.f("ix_members_email"), table_name="members")

    op.drop_table("members")
    op.drop_table("job_runs")
    op.drop_index(op.f("ix_audit_events_subject_type_subject_id"), table_name="audit_events")
    op.drop_index(op.f("ix_audit_events_at"), table_name="audit_events")

    op.drop_table("audit_events")
