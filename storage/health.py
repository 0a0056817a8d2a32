"""Does the database take writes now? For `/healthz` and for start-up.

A database that answers `SELECT 1` can still refuse every write: its disk is full, the file or
its directory is read-only, the server is in recovery. So the check writes and commits a row
(`heartbeats`, one per process), and, for a SQLite file, also looks at the free space on its
disk: SQLite reuses the pages it already has, so a small write may still succeed on a full
disk while a new reward cannot.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from sqlalchemy import Engine

from storage.models import Heartbeat
from storage.types import utcnow
from storage.urls import sqlite_path

MIN_FREE_BYTES = 2 * 1024 * 1024  # less than this beside a SQLite file counts as full
TABLE = Heartbeat.__table__  # type: ignore[attr-defined]


def write_problem(engine: Engine, *, name: str) -> str | None:
    """None when `engine`'s database takes a write now; otherwise what is wrong, in a few
    plain words (never a secret: no URL, no password)."""
    path = sqlite_path(engine.url.render_as_string(hide_password=True))
    if path is not None:
        try:
            free = shutil.disk_usage(path.parent).free
        except OSError as err:
            return f"its folder can't be read ({err.strerror or type(err).__name__})"
        if free < MIN_FREE_BYTES:
            return f"the disk is full ({free // 1024:,} KB free for {path.name})"
    if engine.dialect.name == "postgresql":  # each backend imports only its own dialect
        from sqlalchemy.dialects import postgresql as dialect
    else:
        from sqlalchemy.dialects import sqlite as dialect  # type: ignore[no-redef]
    now = utcnow()
    stmt = dialect.insert(TABLE).values(name=name[:100], at=now)
    stmt = stmt.on_conflict_do_update(index_elements=["name"], set_={"at": now})
    try:
        with engine.begin() as conn:
            conn.execute(stmt)
    except Exception as err:
        return describe(err, path=path)
    return None


DAMAGED = "its file is damaged"


def _writable(path: Path) -> bool:
    return os.access(path, os.W_OK) and os.access(path.parent, os.W_OK)


def _free(path: Path) -> int:
    try:
        return shutil.disk_usage(path.parent).free
    except OSError:
        return MIN_FREE_BYTES


def describe(err: BaseException, *, path: Path | None = None) -> str:
    """A database error in a few words: the driver's first line, without SQL or parameters.
    `path`: the SQLite file, to tell a file that can't be opened because it, or its folder, is
    read-only (SQLite needs to write its journal beside it) from one that is missing."""
    original = getattr(err, "orig", None) or err
    text = str(original).strip().splitlines()[0] if str(original).strip() else ""
    lowered = text.lower()
    if "readonly" in lowered or "read-only" in lowered or "read only" in lowered:
        return "it is read-only"
    if "disk is full" in lowered or "no space" in lowered or "could not extend" in lowered:
        return "the disk is full"
    if "unable to open" in lowered or "disk i/o error" in lowered:
        # SQLite could not make the files it keeps beside the database (its journal, the WAL's
        # index): say why, when the file's folder shows it
        if path is not None and path.exists() and not _writable(path):
            return "it is read-only"
        if path is not None and _free(path) < MIN_FREE_BYTES:
            return "the disk is full"
        if "unable to open" in lowered:
            return "its file can't be opened"
    if "not a database" in lowered or "malformed" in lowered:
        return DAMAGED
    return text[:160] or type(original).__name__
