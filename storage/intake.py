"""The intake journal: Slack requests the bot acknowledged, recorded before the acknowledgement
leaves the process, so that work a crash interrupts resumes at the next start.

`IntakeJournal.record(...)` returns once the entry is committed. Entries recorded at the same
moment share one transaction (group commit): the first waits for nothing, later ones join the
batch that forms while the previous commit runs, so a burst of requests costs a few commits, not
one each. `finish(...)` marks an entry done (batched in the same way, without waiting); the body
is cleared then. Entries still pending at the next start are resumed (`pending`, `claim`).

Where: on PostgreSQL, the `intake` table of the ledger (every process sees every entry, so a
process can resume what another one left). On SQLite, a journal file of its own beside the
ledger (`rewardbot.intake.db` for `rewardbot.db`) holding the same table: SQLite has one writer
per file, and recording a request must never wait behind a ledger transaction. Both commit with
`synchronous=FULL` on SQLite (a commit is on disk before the ack), the default on PostgreSQL.
A request is keyed by what Slack gives once (its trigger id, an action's ts), so a request that
Slack delivers twice is recorded once and `Recorded.fresh` says which delivery was first.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, delete, func, select, update
from sqlalchemy.dialects import postgresql, sqlite

from storage.errors import StorageError
from storage.models import IntakeEntry
from storage.states import IntakeState
from storage.types import utcnow
from storage.urls import sqlite_path

log = logging.getLogger(__name__)

TABLE = IntakeEntry.__table__  # type: ignore[attr-defined]
_BATCH_MAX = 200


class IntakeUnavailable(StorageError):
    """The journal could not record a request (disk full, read-only, database down)."""


@dataclass(frozen=True, slots=True)
class Recorded:
    entry_id: int
    fresh: bool  # False: Slack delivered this request before (same key)
    state: str = IntakeState.PENDING.value


@dataclass(frozen=True, slots=True)
class Pending:
    """An entry a crash left unfinished, as resume needs it."""

    entry_id: int
    key: str
    kind: str
    user_id: str
    body: dict[str, Any]
    received_at: datetime
    claimed_at: datetime | None
    resumes: int


def journal_url(database_url: str) -> str | None:
    """The journal's own SQLite URL beside a SQLite ledger; None: the ledger's database."""
    path = sqlite_path(database_url)
    if path is None:
        return None
    return f"sqlite:///{path.with_name(path.stem + '.intake.db')}"


@dataclass
class _Op:
    row: dict[str, Any] | None = None  # a record
    finish: tuple[int, str] | None = None  # (entry id, outcome)
    done: threading.Event = field(default_factory=threading.Event)
    result: Recorded | None = None
    error: BaseException | None = None


class IntakeJournal:
    def __init__(self, *, engine: Engine, worker_id: str, owns_engine: bool = False) -> None:
        self._engine = engine
        self._owns_engine = owns_engine
        self._worker_id = worker_id
        self._queue: queue.SimpleQueue[_Op | None] = queue.SimpleQueue()
        self._writer: threading.Thread | None = None
        self._insert = (
            postgresql.insert(TABLE)
            if engine.dialect.name == "postgresql"
            else sqlite.insert(TABLE)
        )

    @classmethod
    def open(cls, *, ledger: Engine, database_url: str, worker_id: str) -> IntakeJournal:
        """The journal for a ledger: its own file beside a SQLite ledger (created on first use),
        the ledger's `intake` table on PostgreSQL (created by the migrations)."""
        url = journal_url(database_url)
        if url is None:
            return cls(engine=ledger, worker_id=worker_id)
        from storage.db import make_engine
        from storage.models import Heartbeat

        engine = make_engine(url)
        for table in (TABLE, Heartbeat.__table__):  # the journal file's whole schema
            table.create(engine, checkfirst=True)  # type: ignore[attr-defined]
        return cls(engine=engine, worker_id=worker_id, owns_engine=True)

    @property
    def engine(self) -> Engine:
        return self._engine

    # ── lifecycle ─────────────────────────────────────────────────────────────────────────

    def start(self) -> IntakeJournal:
        if self._writer is None:
            self._writer = threading.Thread(target=self._write_loop, name="intake", daemon=True)
            self._writer.start()
        return self

    def stop(self) -> None:
        if self._writer is not None:
            self._queue.put(None)
            self._writer.join(10)
            self._writer = None
        if self._owns_engine:
            self._engine.dispose()

    # ── writing ───────────────────────────────────────────────────────────────────────────

    def record(
        self, *, key: str, kind: str, user_id: str, body: Mapping[str, Any], timeout: float = 2.5
    ) -> Recorded:
        """Record one request; returns once it is committed. Raises IntakeUnavailable when it
        could not be (nothing about the request may then be acknowledged as received)."""
        if not key or len(key) > 255:
            raise ValueError("an intake key is 1 to 255 characters")
        now = utcnow()
        op = _Op(
            row={
                "key": key,
                "kind": kind[:64],
                "user_id": user_id[:32],
                "body": dict(body),
                "state": IntakeState.PENDING.value,
                "received_at": now,
                "claimed_by": self._worker_id,
                "claimed_at": now,
                "resumes": 0,
            }
        )
        if self._writer is None:
            self._write_batch([op])  # not started (tools, tests): write in this thread
        else:
            self._queue.put(op)
            if not op.done.wait(timeout):
                raise IntakeUnavailable("the intake journal did not answer in time")
        if op.error is not None:
            raise IntakeUnavailable(f"could not record the request ({type(op.error).__name__})")
        assert op.result is not None
        return op.result

    def finish(self, entry_id: int, *, outcome: str = "done") -> None:
        """Mark an entry done (asynchronously; a crash before it lands means a harmless
        resume of work that is idempotent)."""
        op = _Op(finish=(entry_id, outcome[:64]))
        if self._writer is None:
            self._write_batch([op])
        else:
            self._queue.put(op)

    def _write_loop(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            batch = [first]
            stop = False
            while len(batch) < _BATCH_MAX:
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    stop = True
                    break
                batch.append(more)
            self._write_batch(batch)
            if stop:
                return

    def _write_batch(self, batch: Sequence[_Op]) -> None:
        try:
            with self._engine.begin() as conn:
                for op in batch:
                    if op.row is not None:
                        op.result = self._insert_row(conn, op.row)
                    elif op.finish is not None:
                        entry_id, outcome = op.finish
                        conn.execute(
                            update(TABLE)
                            .where(TABLE.c.id == entry_id)
                            .values(
                                state=IntakeState.DONE.value,
                                outcome=outcome,
                                body=None,
                                finished_at=utcnow(),
                            )
                        )
        except Exception as err:
            log.error("the intake journal could not write %d entries: %s", len(batch), err)
            for op in batch:
                op.result, op.error = None, err
        finally:
            for op in batch:
                op.done.set()

    def _insert_row(self, conn: Any, row: dict[str, Any]) -> Recorded:
        stmt = self._insert.values(**row).on_conflict_do_nothing().returning(TABLE.c.id)
        entry_id = conn.execute(stmt).scalar()
        if entry_id is not None:
            return Recorded(entry_id=int(entry_id), fresh=True)
        found = conn.execute(
            select(TABLE.c.id, TABLE.c.state).where(TABLE.c.key == row["key"])
        ).first()
        assert found is not None
        return Recorded(entry_id=int(found[0]), fresh=False, state=str(found[1]))

    # ── resuming ──────────────────────────────────────────────────────────────────────────

    def pending(self, *, stale_after: timedelta | None = None, limit: int = 1000) -> list[Pending]:
        """Unfinished entries, oldest first; with `stale_after`, only those nobody has touched
        for that long (another live process may still be working on the others)."""
        query = select(TABLE).where(TABLE.c.state == IntakeState.PENDING.value)
        if stale_after is not None:
            query = query.where(TABLE.c.claimed_at < utcnow() - stale_after)
        query = query.order_by(TABLE.c.received_at, TABLE.c.id).limit(limit)
        with self._engine.connect() as conn:
            rows = conn.execute(query).mappings().all()
        return [
            Pending(
                entry_id=int(r["id"]),
                key=str(r["key"]),
                kind=str(r["kind"]),
                user_id=str(r["user_id"] or ""),
                body=dict(r["body"] or {}),
                received_at=r["received_at"],
                claimed_at=r["claimed_at"],
                resumes=int(r["resumes"] or 0),
            )
            for r in rows
        ]

    def claim(self, entry: Pending) -> bool:
        """Take over a pending entry to resume it; False when another process took it first."""
        with self._engine.begin() as conn:
            result = conn.execute(
                update(TABLE)
                .where(TABLE.c.id == entry.entry_id)
                .where(TABLE.c.state == IntakeState.PENDING.value)
                .where(TABLE.c.resumes == entry.resumes)
                .values(claimed_by=self._worker_id, claimed_at=utcnow(), resumes=entry.resumes + 1)
            )
            return result.rowcount == 1

    def purge(self, *, finished_before: datetime) -> int:
        """Forget entries finished before then (Slack does not repeat a request that old)."""
        with self._engine.begin() as conn:
            result = conn.execute(
                delete(TABLE)
                .where(TABLE.c.state == IntakeState.DONE.value)
                .where(TABLE.c.finished_at < finished_before)
            )
            return int(result.rowcount or 0)

    def count(self, state: IntakeState | None = None) -> int:
        query = select(func.count()).select_from(TABLE)
        if state is not None:
            query = query.where(TABLE.c.state == state.value)
        with self._engine.connect() as conn:
            return int(conn.execute(query).scalar() or 0)


__all__ = ["IntakeJournal", "IntakeUnavailable", "Pending", "Recorded", "journal_url"]
