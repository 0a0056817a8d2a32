"""Alembic migrations, packaged with `storage` so they run from an installed wheel.

- `upgrade(engine_or_url)` brings a database to the newest revision (`rewardbot migrate`).
- `current_state(engine)` says where a database is relative to this code; `schema_lag(engine)`
  says it in one word, cheaply enough for a readiness probe.
- `ensure_current(engine)` is what `rewardbot serve` calls: it migrates SQLite by itself and
  refuses a PostgreSQL database that is behind ("the database is behind: run `rewardbot
  migrate`"), because several processes may share it and one of them must not upgrade it under
  the others.

Alembic (and Mako, which it brings) is imported only when Alembic has work to do: a database
that is current, the case of every start but the first after an upgrade, is recognised by
comparing its `alembic_version` rows with the head revision read from the revision files' text
(`read_revisions`), which costs a few milliseconds instead of about 10 MB of memory for the
life of the process (benchmarks/idle_memory.py). Anything else goes through Alembic as before.

Developers make a new revision after changing `storage/models.py` with
    alembic -c storage/migrations/alembic.ini revision --autogenerate -m "what changed"
(DATABASE_URL picks the database to compare against), then review it.
"""

from __future__ import annotations

import ast
import functools
import io
import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from sqlalchemy import Engine, text

from storage.errors import DatabaseNotReady

if TYPE_CHECKING:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

HERE = Path(__file__).resolve().parent
VERSIONS = HERE / "versions"
BEHIND_MESSAGE = "the database is behind: run `rewardbot migrate`"
VERSION_TABLE = "alembic_version"  # Alembic's default, which env.py keeps
# The files Alembic takes for revisions (alembic.script.base._only_source_rev_file).
_REVISION_FILE = re.compile(r"(?!\.\#|__init__)(.*\.py)$")


def _quiet_alembic() -> None:
    """Alembic logs each plugin it loads, and each step, at INFO: keep that out of the bot's log
    unless someone configured the `alembic` logger on purpose."""
    logger = logging.getLogger("alembic")
    if logger.level == logging.NOTSET:
        logger.setLevel(logging.WARNING)


_quiet_alembic()


def alembic_config(engine: Engine | None = None) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(HERE))
    config.attributes["engine"] = engine
    return config


def script_directory() -> ScriptDirectory:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config())


def head_revisions() -> tuple[str, ...]:
    return tuple(script_directory().get_heads())


def read_revisions(versions: Path = VERSIONS) -> dict[str, tuple[str, ...]] | None:
    """{revision: the revisions it follows} from the revision files' text, without importing
    them or Alembic. None when a file says more than a plain `revision = "..."` and
    `down_revision = ...` (a computed value, a branch label, a dependency): only Alembic can
    read that one."""
    graph: dict[str, tuple[str, ...]] = {}
    for path in sorted(versions.iterdir()):
        if not path.is_file() or not _REVISION_FILE.match(path.name):
            continue
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        except (OSError, SyntaxError, ValueError):
            return None
        values: dict[str, object] = {}
        for node in tree.body:
            if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
                name, value = node.target.id, node.value
            elif (
                isinstance(node, ast.Assign)
                and len(node.targets) == 1
                and isinstance(node.targets[0], ast.Name)
            ):
                name, value = node.targets[0].id, node.value
            else:
                continue
            if name in ("revision", "down_revision", "branch_labels", "depends_on"):
                try:
                    values[name] = ast.literal_eval(value) if value is not None else None
                except (ValueError, TypeError, SyntaxError, RecursionError):
                    return None
        revision, down = values.get("revision"), values.get("down_revision")
        if values.get("branch_labels") is not None or values.get("depends_on") is not None:
            return None
        if not isinstance(revision, str) or "down_revision" not in values or revision in graph:
            return None
        if down is None:
            graph[revision] = ()
        elif isinstance(down, str):
            graph[revision] = (down,)
        elif isinstance(down, tuple | list) and all(isinstance(d, str) for d in down):
            graph[revision] = tuple(down)
        else:
            return None
    return graph or None


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
    from alembic.runtime.migration import MigrationContext

    script = script_directory()
    with engine.connect() as connection:
        current = tuple(MigrationContext.configure(connection).get_current_heads())
    known = {rev.revision for rev in script.walk_revisions()}
    return MigrationState(
        current=current,
        heads=tuple(script.get_heads()),
        unknown=tuple(r for r in current if r not in known),
    )


def recorded_revisions(engine: Engine) -> tuple[str, ...]:
    """The revisions in the database's `alembic_version` (empty: never migrated), read as
    Alembic reads them, in a read-only transaction."""
    from storage.db import READ_ONLY_OPTION

    with engine.connect() as connection:
        connection = connection.execution_options(**{READ_ONLY_OPTION: True})
        if not connection.dialect.has_table(connection, VERSION_TABLE, None):
            return ()
        rows = connection.execute(text(f"SELECT version_num FROM {VERSION_TABLE}"))
        return tuple(row[0] for row in rows)


def quick_state(engine: Engine) -> MigrationState | None:
    """The state of a database that is current, found without Alembic; None otherwise (behind,
    empty, newer, or revision files only Alembic can read): ask `current_state` then."""
    graph = read_revisions()
    if graph is None:
        return None
    followed = {down for downs in graph.values() for down in downs}
    heads = tuple(sorted(r for r in graph if r not in followed))
    current = recorded_revisions(engine)
    if len(set(current)) != len(current) or set(current) != set(heads):
        return None
    return MigrationState(current=current, heads=heads, unknown=())


@functools.cache
def _known_revisions() -> tuple[frozenset[str], frozenset[str]]:
    """(the head revisions, every revision) this code knows, read once per process."""
    graph = read_revisions()
    if graph is None:
        script = script_directory()
        known = frozenset(rev.revision for rev in script.walk_revisions())
        return frozenset(script.get_heads()), known
    followed = {down for downs in graph.values() for down in downs}
    return frozenset(r for r in graph if r not in followed), frozenset(graph)


def schema_lag(engine: Engine) -> Literal["current", "behind", "newer"]:
    """Where the database's schema is against this code, in one read of `alembic_version`:
    `behind` (never migrated, or older: `rewardbot migrate`), `newer` (migrated by a newer
    release) or `current`."""
    heads, known = _known_revisions()
    recorded = set(recorded_revisions(engine))
    if recorded - known:
        return "newer"
    return "current" if recorded == heads else "behind"


def upgrade(engine: Engine | str, *, revision: str = "head") -> MigrationState:
    """Upgrade the database (an engine, or a URL) to `revision`; return the new state."""
    from alembic import command

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
    from alembic import command
    from alembic.config import Config

    from storage.urls import normalize_url

    buffer = io.StringIO()
    config = Config(output_buffer=buffer)
    config.set_main_option("script_location", str(HERE))
    config.attributes["url"] = normalize_url(url)
    command.upgrade(config, revision, sql=True)
    return buffer.getvalue()


def ensure_current(engine: Engine, *, auto_upgrade_sqlite: bool = True) -> MigrationState:
    """Make sure the schema matches this code (see the module doc); raise DatabaseNotReady."""
    quick = quick_state(engine)
    if quick is not None:
        return quick
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
