"""Celebrations (issue 22): birthdays, work anniversaries and welcomes, paid by the company.

- `rewards.source` may be `celebration` (a reward the company pays, not anyone's allowance).
- `celebration_people`: the dates an admin imported (by Slack id or email; a birthday is a
  month and a day, never a year; the start date).
- `celebration_opt_outs`: who said `/reward celebrations off`.
- `celebrations`: one row per person, kind and year, unique: claimed in the transaction that
  creates the reward, so a celebration is paid once across processes and restarts.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07 21:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SOURCES = "'command', 'modal', 'shortcut'"


def _reward_sources(old: str, new: str) -> None:
    """Replace rewards' CHECK on its source. PostgreSQL alters the constraint. SQLite can't
    without copying the table, which every reward's recipients, values, lots and messages point
    at (the foreign keys are on, the migration is one transaction): there the CHECK's text is
    changed in the schema itself, as SQLite documents for changes that touch no stored row
    (`PRAGMA writable_schema`, then a new schema version so every connection reads it)."""
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
    _reward_sources(SOURCES, f"{SOURCES}, 'celebration'")
    op.create_table(
        "celebration_people",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slack_user_id", sa.String(length=32), nullable=True),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("birth_month", sa.Integer(), nullable=True),
        sa.Column("birth_day", sa.Integer(), nullable=True),
        sa.Column("start_date", sa.Date(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "slack_user_id IS NOT NULL OR email IS NOT NULL",
            name=op.f("ck_celebration_people_named"),
        ),
        sa.CheckConstraint(
            "(birth_month IS NULL AND birth_day IS NULL) OR "
            "(birth_month BETWEEN 1 AND 12 AND birth_day BETWEEN 1 AND 31)",
            name=op.f("ck_celebration_people_birthday"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_celebration_people")),
        sa.UniqueConstraint("email", name=op.f("uq_celebration_people_email")),
        sa.UniqueConstraint("slack_user_id", name=op.f("uq_celebration_people_slack_user_id")),
    )
    op.create_table(
        "celebration_opt_outs",
        sa.Column("slack_user_id", sa.String(length=32), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("slack_user_id", name=op.f("pk_celebration_opt_outs")),
    )
    op.create_table(
        "celebrations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("reward_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "kind IN ('birthday', 'anniversary', 'welcome')", name=op.f("ck_celebrations_kind")
        ),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_celebrations_member_id_members")
        ),
        sa.ForeignKeyConstraint(
            ["reward_id"], ["rewards.id"], name=op.f("fk_celebrations_reward_id_rewards")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_celebrations")),
        sa.UniqueConstraint(
            "member_id", "kind", "year", name=op.f("uq_celebrations_member_id_kind_year")
        ),
    )
    op.create_index(op.f("ix_celebrations_reward_id"), "celebrations", ["reward_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_celebrations_reward_id"), table_name="celebrations")
    op.drop_table("celebrations")
    op.drop_table("celebration_opt_outs")
    op.drop_table("celebration_people")
    _reward_sources(f"{SOURCES}, 'celebration'", SOURCES)
