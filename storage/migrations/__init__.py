"""Alembic migrations, packaged with `storage` so they run from an installed wheel.

- `upgrade(engine_or_url)` brings a database to the newest revision (`rewardbot migrate`).
- `current_state(engine)` says where a database is relative to this code.
- `ensure_current(engine)` is what `rewardbot serve` calls: it migrates SQLite by itself and
  refuses a PostgreSQL database that is behind ("the database is behind: run `rewardbot
  migrate`"), because several processes may share it and one of them must not upgrade it under
  the others.

Developers make a new revision after changing `storage/models.py` with
    alembic -c storage/migrations/alembic.ini revision --autogenerate -m "what changed"
(DATABASE_URL picks the database to compare against), then review it.
"""

from __future__ import annotations

import logging


def _quiet_alembic() -> None:
    """Alembic logs each plugin it loads, and each step, at INFO: keep that out of the bot's log
    unless someone configured the `alembic` logger on purpose."""
    logger = logging.getLogger("alembic")
    if logger.level == logging.NOTSET:
        logger.setLevel(logging.WARNING)


_quiet_alembic()

import io  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from pathlib import Path  # noqa: E402

from alembic import command  # noqa: E402
from alembic.config import Config  # noqa: E402
from alembic.runtime.migration import MigrationContext  # noqa: E402
from alembic.script import ScriptDirectory  # noqa: E402
from sqlalchemy import Engine  # noqa: E402

from storage.errors import DatabaseNotReady  # noqa: E402

HERE = Path(__file__).resolve().parent
BEHIND_MESSAGE = "the database is behind: run `rewardbot migrate`"


def alembic_config(engine: Engine | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(HERE))
    config.attributes["engine"] = engine
    return config


def script_directory() -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config())


def head_revisions() -> tuple[str, ...]:
    return tuple(script_directory().get_heads())


@dataclass(frozen=True, slots=True)
class MigrationState:
    current: tuple[str, ...]  # revisions recorded in the database (empty: never migrated)
    heads: tuple[str, ...]  # the newest revisions this code knows
    unknown: tuple[str, ...]  # recorded revisions this code does not know (a newer release)

    @property
    def is_current(self) -> bool:
        return set(self.current) == set(self.heads)

    @property
    def is_empty(self) -> bool:
        return not self.current

    @property
    def is_behind(self) -> bool:
        return not self.is_current and not self.unknown


def current_state(engine: Engine) -> MigrationState:
    script = script_directory()
    with engine.connect() as connection:
        current = tuple(MigrationContext.configure(connection).get_current_heads())
    known = {rev.revision for rev in script.walk_revisions()}
    return MigrationState(
        current=current,
        heads=tuple(script.get_heads()),
        unknown=tuple(r for r in current if r not in known),
    )


def upgrade(engine: Engine | str, *, revision: str = "head") -> MigrationState:
    """Upgrade the database (an engine, or a URL) to `revision`; return the new state."""
    from storage.db import make_engine

    owned = isinstance(engine, str)
    bound = make_engine(engine) if isinstance(engine, str) else engine
    try:
        command.upgrade(alembic_config(bound), revision)
        return current_state(bound)
    finally:
        if owned:
            bound.dispose()


def upgrade_sql(url: str, *, revision: str = "head") -> str:
    """The SQL that upgrades an empty database of `url`'s kind to `revision`, without running
    it (for a DBA to review or apply by hand)."""
    from storage.urls import normalize_url

    buffer = io.StringIO()
    config = Config(output_buffer=buffer)
    config.set_main_option("script_location", str(HERE))
    config.attributes["url"] = normalize_url(url)
    command.upgrade(config, revision, sql=True)
    return buffer.getvalue()


def ensure_current(engine: Engine, *, auto_upgrade_sqlite: bool = True) -> MigrationState:
    """Make sure the schema matches this code (see the module doc); raise DatabaseNotReady."""
    state = current_state(engine)
    if state.unknown:
        raise DatabaseNotReady(
            f"the database is at revision {', '.join(state.unknown)}, which this version of "
            "rewardbot does not know: it was migrated by a newer release"
        )
    if state.is_current:
        return state
    if engine.dialect.name == "sqlite" and auto_upgrade_sqlite:
        return upgrade(engine)
    raise DatabaseNotReady(BEHIND_MESSAGE)
