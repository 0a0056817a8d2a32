"""Alembic environment: runs against the engine passed in by `storage.migrations`, or against
DATABASE_URL when invoked through the `alembic` command line."""

from __future__ import annotations

import os

from alembic import context
from sqlalchemy import Engine

import storage.models  # noqa: F401  (registers every table on the metadata)
from storage.db import make_engine
from storage.models import metadata

config = context.config


def _engine() -> tuple[Engine, bool]:
    engine = config.attributes.get("engine")
    if engine is not None:
        return engine, False
    url = os.environ.get("DATABASE_URL", "sqlite:///rewardbot.db")
    return make_engine(url), True


def run_migrations_offline() -> None:
    """Write the SQL instead of running it (`upgrade_sql`, or `alembic upgrade head --sql`)."""
    context.configure(
        url=config.attributes.get("url")
        or os.environ.get("DATABASE_URL", "sqlite:///rewardbot.db"),
        target_metadata=metadata,
        literal_binds=True,
        compare_type=True,
        transactional_ddl=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    engine, owned = _engine()
    try:
        with engine.connect() as connection:
            context.configure(
                connection=connection,
                target_metadata=metadata,
                compare_type=True,
                render_as_batch=connection.dialect.name == "sqlite",
                # storage.db makes SQLite transactions real (BEGIN IMMEDIATE), DDL included:
                # a failed migration leaves nothing half-done on either backend.
                transactional_ddl=True,
            )
            with context.begin_transaction():
                context.run_migrations()
    finally:
        if owned:
            engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
