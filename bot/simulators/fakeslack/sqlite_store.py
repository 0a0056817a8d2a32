"""A WorkspaceStore in one SQLite file: a table of JSON documents keyed by (kind, key).

    store = SqliteWorkspaceStore(path=Path("playground-data/slack.db"))
    workspace.restore(store)
    workspace.attach(store)
    ...
    workspace.detach()
    store.close()

Each `write` is one transaction (WAL journal, synchronous=NORMAL: a change costs an upsert, no
fsync). A record that is written again keeps its place, so `load` returns messages in the order
they were posted. A failed write is logged once (the workspace keeps working in memory) and
logged again as fixed when writes succeed again.
"""

from __future__ import annotations

import contextlib
import json
import logging
import sqlite3
import threading
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType

from bot.simulators.fakeslack.store import Kind, Record

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1
SCHEMA = """
CREATE TABLE IF NOT EXISTS records (
    kind TEXT NOT NULL,
    key  TEXT NOT NULL,
    doc  TEXT NOT NULL,
    blob BLOB,
    PRIMARY KEY (kind, key)
)
"""
UPSERT = """
INSERT INTO records (kind, key, doc, blob) VALUES (?, ?, ?, ?)
ON CONFLICT (kind, key) DO UPDATE SET doc = excluded.doc, blob = excluded.blob
"""


class SqliteWorkspaceStore:
    """Thread-safe; raises sqlite3.Error when the file can't be opened or read."""

    def __init__(self, *, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._failing = False
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        try:
            self._prepare()
        except BaseException:
            self._db.close()
            raise

    def __repr__(self) -> str:
        return f"SqliteWorkspaceStore({str(self.path)!r})"

    def _prepare(self) -> None:
        version = int(self._db.execute("PRAGMA user_version").fetchone()[0])
        if version > SCHEMA_VERSION:
            raise sqlite3.DatabaseError(
                f"{self.path} was written by a newer version (schema {version})"
            )
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute(SCHEMA)
        self._db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")

    def write(self, records: Sequence[Record]) -> None:
        rows = [(str(r.kind), r.key, json.dumps(r.doc, default=str), r.blob) for r in records]
        with self._lock:
            try:
                self._db.execute("BEGIN")
                for (kind, key, doc, blob), record in zip(rows, records, strict=True):
                    if record.doc is None:
                        self._db.execute(
                            "DELETE FROM records WHERE kind = ? AND key = ?", (kind, key)
                        )
                    else:
                        self._db.execute(UPSERT, (kind, key, doc, blob))
                self._db.execute("COMMIT")
            except sqlite3.Error as err:
                with contextlib.suppress(sqlite3.Error):
                    self._db.execute("ROLLBACK")
                if not self._failing:
                    log.error(
                        "saving Slack state to %s failed (%s); it stays in memory", self.path, err
                    )
                self._failing = True
                return
            if self._failing:
                log.warning("saving the Slack state to %s works again", self.path)
                self._failing = False

    def load(self) -> list[Record]:
        with self._lock:
            rows = self._db.execute(
                "SELECT kind, key, doc, blob FROM records ORDER BY rowid"
            ).fetchall()
        known = {str(k) for k in Kind}
        return [
            Record(Kind(kind), key, json.loads(doc), bytes(blob) if blob is not None else None)
            for kind, key, doc, blob in rows
            if kind in known
        ]

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> SqliteWorkspaceStore:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
