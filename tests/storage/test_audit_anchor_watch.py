"""No blind hour: the chain's head is anchored outside the database within a short window of each
audit event a process commits (`AnchorWatch`, woken by the commit), and the anchor file takes
several processes appending at once. On SQLite and PostgreSQL: events deleted once the window
has passed are caught by `rewardbot audit verify`."""

from __future__ import annotations

import itertools
import multiprocessing
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from storage import audit
from storage.audit import AuditAction
from storage.audit_anchors import (
    AnchorConflict,
    AnchorWatch,
    anchor,
    read_anchor_file,
    read_latest,
)
from storage.audit_checkpoints import Checkpoint
from storage.db import Store, make_engine
from tests.storage import support
from tests.storage.support import TestDatabase
from tests.storage.test_audit_anchors import KEY, add_events, delete_newest, verify

# ---------------------------------------------------------------- the watch, on a test clock


@dataclass
class Timers:
    """A stand-in for threading.Timer on a clock the test moves."""

    now: float = 0.0
    pending: list[tuple[float, Callable[[], None], list[bool]]] = field(default_factory=list)

    def schedule(self, delay: float, action: Callable[[], None]) -> _Handle:
        cancelled = [False]
        self.pending.append((self.now + delay, action, cancelled))
        return _Handle(cancelled)

    def waiting(self) -> list[float]:
        return [at for at, _, cancelled in self.pending if not cancelled[0]]

    def advance(self, seconds: float) -> None:
        """Move the clock on, running each timer at its moment, in order."""
        until = self.now + seconds
        while True:
            due = sorted((p for p in self.pending if p[0] <= until), key=lambda p: p[0])
            if not due:
                break
            at, action, cancelled = due[0]
            self.pending.remove(due[0])
            if not cancelled[0]:
                self.now = max(self.now, at)
                action()
        self.now = until


@dataclass
class _Handle:
    cancelled: list[bool]

    def cancel(self) -> None:
        self.cancelled[0] = True


def watch_on(timers: Timers, window: float = 60) -> tuple[AnchorWatch, list[float]]:
    anchored: list[float] = []
    watch = AnchorWatch(
        lambda: anchored.append(timers.now),
        window=window,
        schedule=timers.schedule,
        now=lambda: timers.now,
    )
    return watch, anchored


def test_the_first_event_after_a_quiet_spell_is_anchored_at_once() -> None:
    timers = Timers()
    watch, anchored = watch_on(timers)
    assert timers.waiting() == []  # nothing waits while nothing happens
    watch.touched()
    assert timers.waiting() == [0.0]
    timers.advance(0)
    assert anchored == [0.0] and timers.waiting() == [] and not watch.due


def test_events_within_the_window_are_anchored_together_when_it_ends() -> None:
    timers = Timers()
    watch, anchored = watch_on(timers, window=60)
    watch.touched()
    timers.advance(0)
    timers.advance(10)
    watch.touched()
    timers.advance(20)
    watch.touched()  # one anchoring is due: no second timer
    assert timers.waiting() == [60.0]
    timers.advance(29.9)
    assert anchored == [0.0] and watch.due
    timers.advance(0.1)
    assert anchored == [0.0, 60.0] and not watch.due
    timers.advance(3600)  # an idle hour: nothing runs
    assert anchored == [0.0, 60.0] and timers.waiting() == []
    watch.touched()  # the window has long passed: at once
    timers.advance(0)
    assert anchored == [0.0, 60.0, 3660.0]


def test_no_event_is_left_unanchored_longer_than_the_window() -> None:
    timers = Timers()
    watch, anchored = watch_on(timers, window=60)
    committed: list[float] = []
    for step in [0, 1, 59, 0.5, 61, 30, 30, 5, 120, 1]:
        timers.advance(step)
        watch.touched()
        committed.append(timers.now)
    timers.advance(60)
    for moment in committed:
        assert any(moment <= a <= moment + 60 for a in anchored), (moment, anchored)
    gaps = [b - a for a, b in itertools.pairwise(anchored)]
    assert all(gap >= 60 for gap in gaps), anchored  # at most once a window


def test_an_event_committed_while_an_anchoring_runs_waits_a_window_from_it() -> None:
    timers = Timers()
    anchored: list[float] = []

    def slow_anchor() -> None:
        anchored.append(timers.now)
        watch.touched()  # another thread commits while this anchoring reads the head

    watch = AnchorWatch(slow_anchor, window=60, schedule=timers.schedule, now=lambda: timers.now)
    watch.touched()
    timers.advance(0)
    assert anchored == [0.0] and watch.due
    assert timers.waiting() == [60.0]  # not a second anchoring at once
    timers.advance(60)
    assert anchored == [0.0, 60.0]


def test_closing_anchors_what_is_due_at_once_and_then_ignores_events() -> None:
    timers = Timers()
    watch, anchored = watch_on(timers)
    watch.touched()
    timers.advance(0)
    timers.advance(5)
    watch.touched()
    watch.close()
    assert anchored == [0.0, 5.0] and timers.waiting() == []
    watch.touched()
    timers.advance(120)
    assert anchored == [0.0, 5.0]


def test_closing_with_nothing_due_writes_nothing() -> None:
    timers = Timers()
    watch, anchored = watch_on(timers)
    watch.close()
    assert anchored == []


def test_a_real_timer_leaves_no_thread_behind() -> None:
    done = threading.Event()
    watch = AnchorWatch(done.set, window=0)
    watch.touched()
    assert done.wait(5)
    deadline = time.monotonic() + 5
    while any(t.name == "audit-anchor" for t in threading.enumerate()):
        assert time.monotonic() < deadline, "the timer thread did not end"
        time.sleep(0.01)


# ---------------------------------------------------------------- against the database


def test_the_store_tells_of_committed_audit_events_only(db: TestDatabase) -> None:
    heard: list[int] = []
    db.store.on_audit_committed(lambda: heard.append(1))
    with db.store.session() as s:
        s.connection()  # a transaction that appends nothing
    assert heard == []
    with pytest.raises(RuntimeError), db.store.session() as s:
        audit.append(
            s, actor="system", action=AuditAction.SETTING_CHANGED, subject_type="x", subject_id=1
        )
        raise RuntimeError("rolled back")
    assert heard == []
    add_events(db.store, 3)
    assert heard == [1]  # once per transaction, after it committed


def test_a_failing_listener_never_fails_the_commit(db: TestDatabase) -> None:
    def broken() -> None:
        raise OSError("disk full")

    db.store.on_audit_committed(broken)
    add_events(db.store, 1)
    with db.store.read_session() as s:
        assert s.connection().exec_driver_sql("SELECT COUNT(*) FROM audit_events").scalar() == 1


def wait_for(probe: Callable[[], bool], timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not probe():
        assert time.monotonic() < deadline, "not within the time allowed"
        time.sleep(0.02)


def test_deleting_the_newest_events_after_the_anchor_window_is_caught(
    db: TestDatabase, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    anchors = tmp_path / "kept-elsewhere" / "audit-anchors"
    store = db.store
    watch = AnchorWatch(lambda: anchor(store, path=anchors), window=0.2)
    store.on_audit_committed(watch.touched)
    add_events(store, 3)
    add_events(store, 2)  # within the window of the first: anchored when it ends

    def anchored_count() -> int:
        latest = read_anchor_file(anchors, audit_key=KEY).latest
        return latest.count if latest is not None else 0

    wait_for(lambda: anchored_count() == 5)
    lines = anchors.read_text().splitlines()
    assert 1 <= len(lines) <= 2  # the first at once, what followed within the window

    watch.close()
    delete_newest(db, keep=3)  # the two newest, long before any hourly job would run
    assert verify(db, anchors, monkeypatch) == 1


# ---------------------------------------------------------------- reading only the file's end


def checkpoint_line(n: int) -> str:
    at = datetime(2026, 3, 2, tzinfo=UTC) + timedelta(minutes=n)
    return Checkpoint(event_id=n, count=n, head_hash=f"{n:064x}", at=at).line(audit_key=KEY)


def test_anchoring_reads_the_newest_checkpoints_from_the_end_of_a_long_file(
    tmp_path: Path,
) -> None:
    anchors = tmp_path / "audit-anchors"
    lines = [checkpoint_line(n) for n in range(1, 2001)]
    lines[-2], lines[-1] = lines[-1], lines[-2]  # two processes at once: not quite in order
    anchors.write_text("\n".join(lines) + "\n")
    latest = read_latest(anchors, audit_key=KEY, tail=4096)
    assert latest is not None and latest.event_id == 2000
    assert latest == read_anchor_file(anchors, audit_key=KEY).latest

    with anchors.open("a") as f:  # the end is all garbage: the whole file is read
        f.write("not a checkpoint\n" * 1000)
    latest = read_latest(anchors, audit_key=KEY, tail=4096)
    assert latest is not None and latest.event_id == 2000
    assert read_latest(tmp_path / "none yet", audit_key=KEY) is None


def test_a_long_anchor_file_still_refuses_a_chain_that_lost_events(
    db: TestDatabase, tmp_path: Path
) -> None:
    anchors = tmp_path / "audit-anchors"
    add_events(db.store, 5)
    head = anchor(db.store, path=anchors).line
    assert head is not None
    old = [checkpoint_line(n) for n in range(1, 5)] * 500  # a long history before it
    anchors.write_text("\n".join([*old, head]) + "\n")
    delete_newest(db, keep=3)
    with pytest.raises(AnchorConflict, match=r"\(2 missing\)"):
        anchor(db.store, path=anchors)
    assert anchors.read_text().splitlines()[-1] == head  # nothing written


# ---------------------------------------------------------------- several processes, one file


def _append_and_anchor(url: str, anchors: str, rounds: int, start: threading.Event) -> None:
    start.wait(30)
    store = Store(engine=make_engine(url), keys=support.test_keys())
    try:
        for _ in range(rounds):
            add_events(store, 1)
            anchor(store, path=Path(anchors))
    finally:
        store.dispose()


def test_several_processes_append_to_one_anchor_file_safely(
    db: TestDatabase, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    anchors = tmp_path / "kept-elsewhere" / "audit-anchors"
    processes, rounds = 4, 15
    context = multiprocessing.get_context("spawn")
    start = context.Event()
    workers = [
        context.Process(target=_append_and_anchor, args=(db.url, str(anchors), rounds, start))
        for _ in range(processes)
    ]
    for worker in workers:
        worker.start()
    start.set()
    for worker in workers:
        worker.join(120)
        assert worker.exitcode == 0
    kept = read_anchor_file(anchors, audit_key=KEY)
    assert kept.rejected == []  # no line torn or interleaved with another
    assert len(kept.lines) == len(anchors.read_text().splitlines())
    total = processes * rounds
    latest = kept.latest
    assert latest is not None and (latest.event_id, latest.count) == (total, total)
    assert len(kept.valid) >= total // 2  # most anchorings found a head of their own to write
    assert verify(db, anchors, monkeypatch) == 0
    delete_newest(db, keep=total - 1)
    assert verify(db, anchors, monkeypatch) == 1
