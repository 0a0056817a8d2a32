"""The intake journal: Slack requests the bot acknowledged, recorded before the acknowledgement
leaves the process, so that work a crash interrupts resumes at the next start.

`IntakeJournal.record(...)` returns once the entry is committed. Entries recorded at the same
moment share one transaction (group commit): a request alone is committed at once; in a burst,
those that arrive while a commit runs, or within `GATHER` of it, join the next one, so a burst of
requests costs a few commits (and fsyncs), not one each. `record_async` is the same for an event
loop (the web layer records before it dispatches). `finish(...)` marks an entry done (batched in
the same way, without waiting); the body is cleared then. Entries still pending at the next
start are resumed (`pending`, `claim`).

Where: on PostgreSQL, the `intake` table of the ledger (every process sees every entry, so a
process can resume what another one left). On SQLite, a journal file of its own beside the
ledger (`rewardbot.intake.db` for `rewardbot.db`) holding the same table: SQLite has one writer
per file, and recording a request must never wait behind a ledger transaction. Both commit with
`synchronous=FULL` on SQLite (a commit is on disk before the ack), the default on PostgreSQL.
A request is keyed by what Slack gives once (its trigger id, an action's ts), so a request that
Slack delivers twice is recorded once and `Recorded.fresh` says which delivery was first.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import queue
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, Text, cast, delete, func, select, update

from storage.errors import StorageError
from storage.models import IntakeEntry
from storage.states import IntakeState
from storage.types import utcnow
from storage.urls import beside_database

log = logging.getLogger(__name__)

TABLE = IntakeEntry.__table__  # type: ignore[attr-defined]
_BATCH_MAX = 200
WRITE_LOCK_WAIT = 1.0  # a batch waits this long for SQLite's write lock, then fails
COMMIT_GRACE = 10.0  # a waiter whose batch is being committed waits this long for it
FINISH_RETRY_SECONDS = 1.0
BUSY_WINDOW = 0.010  # a commit ended this recently: requests are arriving back to back
GATHER = 0.002  # then a batch waits this long for the requests right behind it


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
    body: dict[str, Any] | None  # None: damaged on disk, it cannot be resumed (set it aside)
    received_at: datetime
    claimed_at: datetime | None
    resumes: int
    claimed_by: str | None = None


def journal_url(database_url: str) -> str | None:
    """The journal's own SQLite URL beside a SQLite ledger; None: the ledger's database."""
    path = beside_database(database_url, ".intake.db")
    return None if path is None else f"sqlite:///{path}"


@dataclass
class _Op:
    row: dict[str, Any] | None = None  # a record
    finish: tuple[int, str] | None = None  # (entry id, outcome)
    done: threading.Event = field(default_factory=threading.Event)
    wake: Callable[[], object] | None = None  # tells an event loop that `done` is set
    # queued → writing (the writer holds the write lock and will commit or fail it) or
    # queued → abandoned (its waiter gave up first: it is never written).
    state: str = "queued"
    result: Recorded | None = None
    error: BaseException | None = None


def _result(op: _Op) -> Recorded:
    if not op.done.is_set():  # a commit that outlasted COMMIT_GRACE: treat it as failed
        log.error("an intake commit took longer than %.0f s", COMMIT_GRACE)
        raise IntakeUnavailable("the intake journal did not answer in time")
    if op.error is not None:
        raise IntakeUnavailable(f"could not record the request ({type(op.error).__name__})")
    assert op.result is not None
    return op.result


def _settle(waiting: asyncio.Future[None]) -> None:
    if not waiting.done():
        waiting.set_result(None)


class IntakeJournal:
    def __init__(self, *, engine: Engine, worker_id: str, owns_engine: bool = False) -> None:
        self._engine = engine
        self._owns_engine = owns_engine
        self._worker_id = worker_id
        self._queue: queue.SimpleQueue[_Op | None] = queue.SimpleQueue()
        self._writer: threading.Thread | None = None
        self._started = False  # started: writes go through the writer thread (group commit)
        self._writer_lock = threading.Lock()
        self._insert_sql, self._binds = _insert_statement(engine)
        marker = "?" if engine.dialect.paramstyle == "qmark" else "%s"
        self._finish_sql = (
            f"UPDATE intake SET state = '{IntakeState.DONE.value}', outcome = {marker}, "
            f"body = NULL, finished_at = {marker} WHERE id = {marker}"
        )
        self._find_sql = f"SELECT id, state FROM intake WHERE key = {marker}"
        self._when = TABLE.c.finished_at.type.dialect_impl(engine.dialect).bind_processor(
            engine.dialect
        )
        self._sqlite = engine.dialect.name == "sqlite"
        self._raw: Any = None
        self._write_lock = threading.Lock()
        self._claim = threading.Lock()
        self._retry: list[_Op] = []  # finishes whose write failed (the writer's own)

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
        heartbeats = Heartbeat.__table__  # type: ignore[attr-defined]  # set on table models
        for table in (TABLE, heartbeats):  # the journal file's whole schema
            table.create(engine, checkfirst=True)
        return cls(engine=engine, worker_id=worker_id, owns_engine=True)

    @property
    def engine(self) -> Engine:
        return self._engine

    # ── lifecycle ─────────────────────────────────────────────────────────────────────────

    def start(self) -> IntakeJournal:
        """Writes go through the writer thread from now on; it starts with the first write."""
        self._started = True
        return self

    def _enqueue(self, op: _Op) -> None:
        with self._writer_lock:
            if self._writer is None:
                self._writer = threading.Thread(target=self._write_loop, name="intake", daemon=True)
                self._writer.start()
        self._queue.put(op)

    def stop(self) -> None:
        self._started = False
        with self._writer_lock:
            writer, self._writer = self._writer, None
        if writer is not None:
            self._queue.put(None)
            writer.join(10)
        with self._write_lock:
            if self._raw is not None:
                self._raw.close()
                self._raw = None
        if self._owns_engine:
            self._engine.dispose()

    # ── writing ───────────────────────────────────────────────────────────────────────────

    def _row(self, *, key: str, kind: str, user_id: str, body: Mapping[str, Any]) -> _Op:
        if not key or len(key) > 255:
            raise ValueError("an intake key is 1 to 255 characters")
        now = utcnow()
        return _Op(
            row={
                "key": key,
                "kind": kind[:64],
                "user_id": user_id[:32],
                "body": dict(body),
                "state": IntakeState.PENDING.value,
                "received_at": now,
                "claimed_by": self._worker_id,
                "claimed_at": now,
            }
        )

    async def record_async(
        self, *, key: str, kind: str, user_id: str, body: Mapping[str, Any], timeout: float = 2.5
    ) -> Recorded:
        """`record` for an event loop: it waits for the commit without holding a thread."""
        if not self._started:
            return await asyncio.to_thread(
                self.record, key=key, kind=kind, user_id=user_id, body=body
            )
        op = self._row(key=key, kind=kind, user_id=user_id, body=body)
        loop = asyncio.get_running_loop()
        waiting: asyncio.Future[None] = loop.create_future()
        op.wake = lambda: loop.call_soon_threadsafe(_settle, waiting)
        self._enqueue(op)
        try:
            async with asyncio.timeout(timeout):
                await waiting
        except TimeoutError:
            if self._abandon(op):
                raise IntakeUnavailable("the intake journal did not answer in time") from None
            await asyncio.to_thread(op.done.wait, COMMIT_GRACE)  # being committed: its answer
        return _result(op)

    def record(
        self, *, key: str, kind: str, user_id: str, body: Mapping[str, Any], timeout: float = 2.5
    ) -> Recorded:
        """Record one request; returns once it is committed. Raises IntakeUnavailable when it
        could not be (nothing about the request may then be acknowledged as received)."""
        op = self._row(key=key, kind=kind, user_id=user_id, body=body)
        if not self._started:
            self._write_batch([op])  # not started (tools, tests): write in this thread
        else:
            self._enqueue(op)
            if not op.done.wait(timeout):
                if self._abandon(op):
                    raise IntakeUnavailable("the intake journal did not answer in time")
                op.done.wait(COMMIT_GRACE)  # being committed: wait for its answer
        return _result(op)

    def _abandon(self, op: _Op) -> bool:
        """The waiter of `op` gives up: True when it was not being written (it never will be);
        False when the writer already holds it (its commit is under way)."""
        with self._claim:
            if op.state == "queued":
                op.state = "abandoned"
                return True
            return False

    def finish(self, entry_id: int, *, outcome: str = "done", wait: float | None = None) -> bool:
        """Mark an entry done. Without `wait`, asynchronously (a failed write is tried again
        until it lands, before any later request); with `wait`, True once it is committed
        within that many seconds, so a caller can tell the person only what is recorded."""
        op = _Op(finish=(entry_id, outcome[:64]))
        if not self._started:
            self._write_batch([op])
            return op.error is None
        self._enqueue(op)
        if wait is None:
            return True
        return op.done.wait(wait) and op.error is None

    def _write_loop(self) -> None:
        last_commit = 0.0
        while True:
            try:  # finishes that failed are tried again, before anything newer
                first = self._queue.get(timeout=FINISH_RETRY_SECONDS if self._retry else None)
            except queue.Empty:
                first = None if not self._retry else self._retry.pop(0)
                if first is None:
                    continue
            if first is None:
                return
            batch = [*self._retry, first]
            self._retry.clear()
            stop = False
            # In a burst (the last commit just ended), keep the batch open a moment for the
            # requests right behind this one: one commit (and one fsync) for several of them,
            # as PostgreSQL's commit_delay does.
            busy = time.monotonic() - last_commit < BUSY_WINDOW
            gather_until = time.monotonic() + (GATHER if busy else 0.0)
            while len(batch) < _BATCH_MAX:
                try:
                    left = gather_until - time.monotonic()
                    more = self._queue.get(timeout=left) if left > 0 else self._queue.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    stop = True
                    break
                batch.append(more)
            self._write_batch(batch)
            last_commit = time.monotonic()
            if stop:
                return

    def _write_batch(self, batch: Sequence[_Op]) -> None:
        """One transaction for the batch, on the writer's own driver connection (no pool, no
        SQL compilation: this runs for every request before its ack)."""
        with self._write_lock:
            try:
                raw = self._raw_connection()
                cursor = raw.cursor()
                try:
                    if self._sqlite:
                        cursor.execute("BEGIN IMMEDIATE")
                    with self._claim:  # the write lock is ours: claim what is still wanted
                        batch = [op for op in batch if op.state != "abandoned"]
                        for op in batch:
                            op.state = "writing"
                    for op in batch:
                        if op.row is not None:
                            op.result = self._insert_row(cursor, op.row)
                        elif op.finish is not None:
                            entry_id, outcome = op.finish
                            cursor.execute(
                                self._finish_sql, (outcome, self._when(utcnow()), entry_id)
                            )
                    raw.commit()
                finally:
                    cursor.close()
            except Exception as err:
                log.error("the intake journal could not write %d entries: %s", len(batch), err)
                self._drop_connection()
                for op in batch:
                    op.result, op.error = None, err
                    if op.finish is not None:
                        self._retry.append(_Op(finish=op.finish))
            finally:
                for op in batch:
                    op.done.set()
                    if op.wake is not None:
                        op.wake()

    def _raw_connection(self) -> Any:
        if self._raw is None:
            self._raw = self._engine.raw_connection()
            if self._sqlite:  # fail fast when someone else holds the write lock
                cursor = self._raw.cursor()
                cursor.execute(f"PRAGMA busy_timeout={int(WRITE_LOCK_WAIT * 1000)}")
                cursor.close()
        return self._raw

    def _drop_connection(self) -> None:
        raw, self._raw = self._raw, None
        if raw is not None:
            with contextlib.suppress(Exception):
                raw.rollback()
            with contextlib.suppress(Exception):
                raw.invalidate()  # a connection that failed mid-transaction is not reused

    def _insert_row(self, cursor: Any, row: dict[str, Any]) -> Recorded:
        params = tuple(bind(row[name]) for name, bind in self._binds)
        cursor.execute(self._insert_sql, params)
        inserted = cursor.fetchone()
        if inserted is not None:
            return Recorded(entry_id=int(inserted[0]), fresh=True)
        cursor.execute(self._find_sql, (row["key"],))
        found = cursor.fetchone()
        assert found is not None
        return Recorded(entry_id=int(found[0]), fresh=False, state=str(found[1]))

    # ── resuming ──────────────────────────────────────────────────────────────────────────

    def pending(
        self,
        *,
        stale_after: timedelta | None = None,
        abandoned: Callable[[str | None, datetime | None], bool] | None = None,
        limit: int = 1000,
    ) -> list[Pending]:
        """Unfinished entries, oldest first; with `stale_after`, only those nobody has touched
        for that long (another live process may still be working on the others) or whose
        claimant `abandoned(claimed_by, claimed_at)` says is gone. An entry damaged on disk comes
        with `body` None: the resumer sets it aside (outcome "unreadable") and tells its person."""
        columns = [c for c in TABLE.c if c.name != "body"]
        query = select(*columns, cast(TABLE.c.body, Text).label("body"))
        query = query.where(TABLE.c.state == IntakeState.PENDING.value)
        query = query.order_by(TABLE.c.received_at, TABLE.c.id).limit(limit)
        with self._engine.connect() as conn:
            rows = conn.execute(query).mappings().all()
        found = []
        for r in rows:
            if not (
                stale_after is None
                or r["claimed_at"] < utcnow() - stale_after
                or (abandoned is not None and abandoned(r["claimed_by"], r["claimed_at"]))
            ):
                continue
            body = _readable(r["body"])
            if body is None:  # one damaged row must not keep the others from resuming
                log.error("intake entry %s cannot be read; it is set aside", r["id"])
            found.append(
                Pending(
                    entry_id=int(r["id"]),
                    key=str(r["key"]),
                    kind=str(r["kind"]),
                    user_id=str(r["user_id"] or ""),
                    body=body,
                    received_at=r["received_at"],
                    claimed_at=r["claimed_at"],
                    resumes=int(r["resumes"] or 0),
                    claimed_by=r["claimed_by"],
                )
            )
        return found

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


_INSERTED = ("key", "kind", "user_id", "body", "state", "received_at", "claimed_by", "claimed_at")


def _insert_statement(engine: Engine) -> tuple[str, tuple[tuple[str, Any], ...]]:
    """`INSERT … ON CONFLICT (key) DO NOTHING RETURNING id` in the driver's parameter style,
    and for each column in order its name and the conversion its type applies (aware UTC
    datetimes, JSON)."""
    dialect = engine.dialect
    marker = "?" if dialect.paramstyle == "qmark" else "%s"
    sql = (
        f"INSERT INTO intake ({', '.join(_INSERTED)}, resumes) "
        f"VALUES ({', '.join([marker] * len(_INSERTED))}, 0) "
        "ON CONFLICT (key) DO NOTHING RETURNING id"
    )
    binds = []
    for name in _INSERTED:
        process = TABLE.c[name].type.dialect_impl(dialect).bind_processor(dialect)
        binds.append((name, process or _same))
    return sql, tuple(binds)


def _same(value: Any) -> Any:
    return value


__all__ = ["IntakeJournal", "IntakeUnavailable", "Pending", "Recorded", "journal_url"]


def _readable(text: str | None) -> dict[str, Any] | None:
    """A stored request body, or None when it is not the JSON object it was written as."""
    if text is None:
        return {}
    try:
        body = json.loads(text)
    except (ValueError, RecursionError):
        return None
    return body if isinstance(body, dict) else None
