"""The anchor file: checkpoints of the audit chain (`storage.audit_checkpoints`) kept outside the
database, one signed line each, appended and never rewritten.

Where it is: AUDIT_ANCHOR_FILE when set; otherwise beside a SQLite database, like its key file
(`rewardbot.db.audit-anchors`), and with PostgreSQL `rewardbot.audit-anchors` in the working
directory (the caller warns: a database server's files are not the bot's, so there is no "beside"
to use). An in-memory database has none.

Each line is appended in one write to a file opened with O_APPEND, then fsynced (and so is the
directory when the file is new), so several processes can anchor at once. A line torn by a crash
stays on a line of its own; readers report it and carry on.

Anchoring compares the chain with the newest checkpoint among the file's last 64 KiB
(`read_latest`), so its cost does not grow with the file; `rewardbot audit verify` reads every
line. `AnchorWatch` anchors soon after each commit that appended audit events.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Protocol

from storage.audit_checkpoints import (
    BadCheckpoint,
    Checkpoint,
    check_checkpoint,
    current_checkpoint,
    latest,
    parse_checkpoint,
)
from storage.db import Store
from storage.urls import beside_database, is_postgres_url

SUFFIX = ".audit-anchors"
POSTGRES_DEFAULT = Path("rewardbot" + SUFFIX)


def anchor_file_for(*, database_url: str, configured: str | Path | None) -> Path | None:
    """The anchor file for `database_url` (see the module doc); None for an in-memory database."""
    if configured:
        return Path(configured).expanduser()
    path = beside_database(database_url, SUFFIX, keep_extension=True)
    if path is not None:
        return path
    return POSTGRES_DEFAULT if is_postgres_url(database_url) else None


# ---------------------------------------------------------------- reading


@dataclass(frozen=True, slots=True)
class AnchorLine:
    where: str  # e.g. "rewardbot.db.audit-anchors line 3", "--anchor 1"
    checkpoint: Checkpoint | None  # None: rejected
    problem: str | None = None


@dataclass(frozen=True, slots=True)
class Anchors:
    lines: tuple[AnchorLine, ...] = field(default=())

    @property
    def valid(self) -> list[Checkpoint]:
        return [line.checkpoint for line in self.lines if line.checkpoint is not None]

    @property
    def rejected(self) -> list[AnchorLine]:
        return [line for line in self.lines if line.checkpoint is None]

    @property
    def latest(self) -> Checkpoint | None:
        return latest(self.valid)

    def where(self, checkpoint: Checkpoint) -> str:
        """Where `checkpoint` was first found."""
        return next(line.where for line in self.lines if line.checkpoint == checkpoint)

    def __add__(self, other: Anchors) -> Anchors:
        return Anchors(self.lines + other.lines)


def parse_lines(sources: Iterable[tuple[str, str]], *, audit_key: bytes) -> Anchors:
    """Each (where, text) checked; blank lines skipped, anything else valid or rejected."""
    found = []
    for where, line in sources:
        if not line.strip():
            continue
        try:
            found.append(AnchorLine(where, parse_checkpoint(line, audit_key=audit_key)))
        except BadCheckpoint as err:
            found.append(AnchorLine(where, None, str(err)))
    return Anchors(tuple(found))


def read_anchor_file(path: Path, *, audit_key: bytes) -> Anchors:
    """Every line of the anchor file, checked; nothing when there is no file yet."""
    try:
        content = path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return Anchors()
    return parse_lines(
        ((f"{path.name} line {n}", line) for n, line in enumerate(content.splitlines(), 1)),
        audit_key=audit_key,
    )


TAIL_BYTES = 64 * 1024  # a few hundred lines: where the newest checkpoints are


def read_latest(path: Path, *, audit_key: bytes, tail: int = TAIL_BYTES) -> Checkpoint | None:
    """The furthest-reaching valid checkpoint among the file's last `tail` bytes (lines are
    appended in the order they were taken, give or take two processes at once), or in the whole
    file when none there is valid; None when there is none at all. What anchoring compares the
    chain with: its cost does not grow with the file (`audit verify` reads every line)."""
    try:
        with path.open("rb") as f:
            size = f.seek(0, os.SEEK_END)
            if size <= tail:
                return read_anchor_file(path, audit_key=audit_key).latest
            f.seek(size - tail)
            end = f.read().decode("utf-8", errors="replace")
    except FileNotFoundError:
        return None
    lines = end.splitlines()[1:]  # the first is most likely cut
    found = parse_lines((("tail", line) for line in lines), audit_key=audit_key).latest
    return found if found is not None else read_anchor_file(path, audit_key=audit_key).latest


# ---------------------------------------------------------------- writing


def append_line(path: Path, line: str) -> None:
    """Append `line` and a newline in one write, then fsync it (and the directory when the file
    is new). A torn last line left by a crash gets a newline first."""
    if "\n" in line or "\r" in line:
        raise ValueError("an anchor line is one line")
    path.parent.mkdir(parents=True, exist_ok=True)
    new = not path.exists()
    data = line.encode("ascii") + b"\n"
    fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        size = os.fstat(fd).st_size
        if size and os.pread(fd, 1, size - 1) != b"\n":
            data = b"\n" + data
        while data:
            data = data[os.write(fd, data) :]
        os.fsync(fd)
    finally:
        os.close(fd)
    if new:
        directory = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)


class AnchorConflict(Exception):
    """The chain contradicts the anchor file's latest checkpoint: events were deleted or
    rewritten since. Nothing was written, so that checkpoint stays the latest evidence."""

    def __init__(self, *, path: Path, checkpoint: Checkpoint, problem: str) -> None:
        super().__init__(
            f"the audit trail no longer matches the checkpoint of {checkpoint.when} in {path}: "
            f"{problem}. Events were deleted or rewritten; nothing was written. Run "
            "`rewardbot audit verify`"
        )
        self.path = path
        self.checkpoint = checkpoint


@dataclass(frozen=True, slots=True, kw_only=True)
class Anchored:
    checkpoint: Checkpoint | None  # None: the audit trail is empty
    line: str | None  # the checkpoint, signed
    path: Path | None  # the anchor file (None: an in-memory database has none)
    written: bool  # False: no file, or its latest checkpoint already ends at this head
    previous: Checkpoint | None = None  # the file's latest checkpoint before this one


def anchor(store: Store, *, path: Path | None, at: datetime | None = None) -> Anchored:
    """A checkpoint of the chain's head, appended to `path` unless the file's latest checkpoint
    already ends at the same event. Raises AnchorConflict (nothing written) when the chain
    contradicts that checkpoint, OSError when the file can't be read or written."""
    key = store.keys.audit_key
    previous = read_latest(path, audit_key=key) if path is not None else None
    with store.read_session() as session:
        checkpoint = current_checkpoint(session, at=at)
        conflict = check_checkpoint(session, previous) if previous is not None else None
    if conflict is not None:
        assert path is not None and previous is not None
        raise AnchorConflict(path=path, checkpoint=previous, problem=str(conflict))
    if checkpoint is None:
        return Anchored(checkpoint=None, line=None, path=path, written=False, previous=previous)
    line = checkpoint.line(audit_key=key)
    unchanged = previous is not None and (previous.event_id, previous.head_hash) == (
        checkpoint.event_id,
        checkpoint.head_hash,
    )
    if path is not None and not unchanged:
        append_line(path, line)
    return Anchored(
        checkpoint=checkpoint,
        line=line,
        path=path,
        written=path is not None and not unchanged,
        previous=previous,
    )


# ---------------------------------------------------------------- anchoring soon after new events


class Cancellable(Protocol):
    def cancel(self) -> None: ...


def _timer(delay: float, action: Callable[[], None]) -> Cancellable:
    timer = threading.Timer(delay, action)
    timer.name = "audit-anchor"
    timer.daemon = True
    timer.start()
    return timer


class AnchorWatch:
    """Anchors the chain's head at most `window` seconds after this process commits an audit
    event, and at most once every `window` seconds: the first event after a quiet spell at once,
    those that follow it together when the window since the last anchoring ends.

    Nothing runs while nothing happens: no thread waits between events; a timer thread exists
    only while an anchoring is due, and ends with it. `anchor` does the work (it reads the
    database's head, so it also covers what other processes committed) and must not raise.
    `close()` (a clean stop) anchors at once what is still due; a process killed before then
    leaves it to the next start's checkpoint. `schedule` and `now` are for tests."""

    def __init__(
        self,
        anchor: Callable[[], object],
        *,
        window: float,
        schedule: Callable[[float, Callable[[], None]], Cancellable] = _timer,
        now: Callable[[], float] = time.monotonic,
    ) -> None:
        self._anchor = anchor
        self.window = max(window, 0.0)
        self._schedule = schedule
        self._now = now
        self._lock = threading.Lock()
        self._running = threading.Lock()  # one anchoring at a time
        self._timer: Cancellable | None = None
        self._token: object | None = None  # which timer `_timer` is
        self._due = False
        self._last: float | None = None  # when the last anchoring began
        self._closed = False

    def touched(self) -> None:
        """An audit event was committed: anchor within the window."""
        with self._lock:
            if self._closed:
                return
            self._due = True
            if self._timer is not None:
                return
            delay = 0.0 if self._last is None else self._last + self.window - self._now()
            token = object()
            self._token = token
            self._timer = self._schedule(max(delay, 0.0), lambda: self._run(token))

    @property
    def due(self) -> bool:
        """Events committed here that no anchoring has started to cover yet."""
        with self._lock:
            return self._due

    def _run(self, token: object | None = None) -> None:
        """Anchor if due. From a timer (`token`): that timer counts as waiting until this
        anchoring has begun, so an event committed meanwhile is either covered by it or waits
        a window from it, never sets off a second one at once."""
        with self._running:
            with self._lock:
                if token is not None and token is self._token:
                    self._timer = self._token = None
                if not self._due:
                    return
                self._due = False
                self._last = self._now()
            self._anchor()

    def flush(self) -> None:
        """Anchor now what is due (in the caller's thread)."""
        with self._lock:
            timer, self._timer, self._token = self._timer, None, None
        if timer is not None:
            timer.cancel()
        self._run()

    def close(self) -> None:
        """Stop watching; anchor what is still due."""
        with self._lock:
            self._closed = True
        self.flush()
