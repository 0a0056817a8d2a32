"""Recognition in the conversation (issue 21): reactions that give, and the undo window.

- `rewards.held_until`: a reward given with a reaction waits until then before the delivery
  worker may send it (the undo window); NULL for every other reward.
- `rewards.source` may be `reaction` (given with an emoji reaction, or joining a reward from
  its announcement) or `message` (`@maria ++ 20 for …` in a channel).
- `reaction_marks`: one row per (channel, message, reacting person, emoji): whether the latest
  event Slack sent about it added or removed the reaction (`event_ts` orders them, whatever
  order they are handled in), and the generation of the reward it gives (a reaction removed
  inside the window, and added again, gives the next generation: one reward, not two).
- `reward_groups`: the rewards one announcement shows: those given with reactions on one
  message (`group_ts`: the message's), or joining a reward from its announcement (a pile-on:
  `group_ts` the announcement's, `joins_id` the reward joined).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 21:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


SOURCES = "'command', 'modal', 'shortcut', 'celebration'"
NEW_SOURCES = f"{SOURCES}, 'reaction', 'message'"


def _reward_sources(old: str, new: str) -> None:
    """Replace rewards' CHECK on its source, as 0008 does: PostgreSQL alters the constraint;
    SQLite's CHECK text is changed in the schema itself (copying the table would drop the one
    every reward's recipients, values, lots and messages point at)."""
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
    _reward_sources(SOURCES, NEW_SOURCES)
    with op.batch_alter_table("rewards", schema=None) as batch_op:  # ALTER TABLE … ADD COLUMN
        batch_op.add_column(sa.Column("held_until", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "reaction_marks",
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("state", sa.String(length=8), nullable=False),
        sa.Column("event_ts", sa.String(length=32), nullable=False),
        sa.Column("generation", sa.Integer(), server_default="0", nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("state IN ('added', 'removed')", name=op.f("ck_reaction_marks_state")),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_reaction_marks")),
    )
    op.create_table(
        "reward_groups",
        sa.Column("reward_id", sa.Integer(), nullable=False),
        sa.Column("channel_id", sa.String(length=32), nullable=False),
        sa.Column("group_ts", sa.String(length=32), nullable=False),
        sa.Column("joins_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["reward_id"], ["rewards.id"], name=op.f("fk_reward_groups_reward_id_rewards")
        ),
        sa.ForeignKeyConstraint(
            ["joins_id"], ["rewards.id"], name=op.f("fk_reward_groups_joins_id_rewards")
        ),
        sa.PrimaryKeyConstraint("reward_id", name=op.f("pk_reward_groups")),
    )
    with op.batch_alter_table("reward_groups", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_reward_groups_channel_id_group_ts"),
            ["channel_id", "group_ts"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("reward_groups", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reward_groups_channel_id_group_ts"))
    op.drop_table("reward_groups")
    op.drop_table("reaction_marks")
    # What the old CHECK allows: the nearest source of each (a message's author rewarded from
    # the message; typed in the slash command's grammar).
    op.execute("UPDATE rewards SET source = 'shortcut' WHERE source = 'reaction'")
    op.execute("UPDATE rewards SET source = 'command' WHERE source = 'message'")
    _reward_sources(NEW_SOURCES, SOURCES)
    if op.get_bind().dialect.name == "sqlite":  # in place (SQLite 3.35+): no copy of rewards
        op.execute("ALTER TABLE rewards DROP COLUMN held_until")
    else:
        op.drop_column("rewards", "held_until")
