"""Cancels are told at least once (issue 19): a cancel is noted told (a `once_keys` row of kind
`outcome_told`, `<short id>:cancelled`) only after its recipients and giver were told, and one a
stopped process left untold is told again. Every reward already cancelled was told when it was
cancelled: mark it told, so telling again what a crash left untold never repeats one of these.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 22:30:00
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        sa.text(
            "INSERT INTO once_keys (kind, key, created_at) "
            "SELECT 'outcome_told', short_id || ':' || status, :now FROM rewards "
            "WHERE status = 'cancelled'"
        ).bindparams(sa.bindparam("now", value=datetime.now(UTC), type_=sa.DateTime(timezone=True)))
    )


def downgrade() -> None:
    op.execute(
        sa.text(
            "DELETE FROM once_keys WHERE kind = 'outcome_told' AND key LIKE :cancels"
        ).bindparams(cancels="%:cancelled")
    )
