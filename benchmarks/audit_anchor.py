"""What anchoring the audit chain costs (SQLite and PostgreSQL).

    .venv/bin/python benchmarks/audit_anchor.py [--commits 300] [--rounds 3]
        [--backends sqlite,postgresql]

Three figures:

1. A commit that appends one audit event, three ways, side by side in each round: with nothing
   listening; with the bot's `AnchorWatch` (AUDIT_ANCHOR_SECONDS=60) woken by each commit, so
   one checkpoint is written in the background at the first event and at most one a minute
   after; and with a checkpoint written (read, fsynced) right after each commit, in the
   committer's thread. Median and p95 milliseconds per commit, and the checkpoint lines each way
   wrote.
2. An anchoring (`storage.audit_anchors.anchor`) against anchor files of 1,000 and 100,000 lines:
   it reads only the file's end, so its cost does not grow with the file; reading every line
   (what `rewardbot audit verify` does, and anchoring did before) is shown beside it.

PostgreSQL comes from TEST_DATABASE_URL (default postgresql+psycopg://postgres@127.0.0.1:5432/
test, a private schema, dropped afterwards) and is skipped when unreachable.
"""

from __future__ import annotations

import sys
from pathlib import Path

_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(_HERE.parent))

import argparse  # noqa: E402
import os  # noqa: E402
import statistics  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402
from collections.abc import Callable, Iterator  # noqa: E402
from contextlib import contextmanager  # noqa: E402
from datetime import UTC, datetime, timedelta  # noqa: E402

from cryptography.fernet import Fernet  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.pool import NullPool  # noqa: E402

from storage import audit  # noqa: E402
from storage.audit_anchors import (  # noqa: E402
    AnchorWatch,
    anchor,
    read_anchor_file,
    read_latest,
)
from storage.audit_checkpoints import Checkpoint  # noqa: E402
from storage.db import Store, make_engine  # noqa: E402
from storage.keys import Keys  # noqa: E402
from storage.migrations import upgrade  # noqa: E402

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
KEYS = Keys(
    audit_key=os.urandom(32), encryption_keys=(Fernet.generate_key().decode(),), source="memory"
)


@contextmanager
def sqlite_store(where: Path) -> Iterator[Store]:
    url = f"sqlite:///{where / 'bench.db'}"
    engine = make_engine(url)
    upgrade(engine)
    try:
        yield Store(engine=engine, keys=KEYS)
    finally:
        engine.dispose()


@contextmanager
def postgres_store(url: str) -> Iterator[Store]:
    schema = f"rbt_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    with admin.connect() as c:
        c.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine = make_engine(url, schema=schema)
    try:
        upgrade(engine)
        yield Store(engine=engine, keys=KEYS)
    finally:
        engine.dispose()
        with admin.connect() as c:
            c.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


def commit_one(store: Store, n: int) -> None:
    with store.session() as s:
        audit.append(
            s,
            actor="U0BENCH",
            action=audit.AuditAction.SETTING_CHANGED,
            subject_type="setting",
            subject_id=f"KEY_{n}",
            after={"value": n},
        )


def timed_commits(store: Store, commits: int, start: int) -> list[float]:
    times = []
    for n in range(start, start + commits):
        t = time.perf_counter()
        commit_one(store, n)
        times.append((time.perf_counter() - t) * 1000)
    return times


def lines_in(path: Path) -> int:
    return len(path.read_text().splitlines()) if path.exists() else 0


def per_commit(store: Store, where: Path, *, commits: int, rounds: int) -> None:
    ways: dict[str, list[float]] = {
        "nothing listening": [],
        "AnchorWatch (60 s)": [],
        "each commit": [],
    }
    written = dict.fromkeys(ways, 0)
    counter = 0
    for r in range(rounds):
        for way in ways:
            path = where / f"anchors-{r}-{way.split()[0]}"
            stop: Callable[[], None] = lambda: None  # noqa: E731
            if way.startswith("AnchorWatch"):
                watch = AnchorWatch(lambda p=path: anchor(store, path=p), window=60)
                remove = store.on_audit_committed(watch.touched)
                stop = watch.close
            elif way == "each commit":
                remove = store.on_audit_committed(lambda p=path: anchor(store, path=p))
            else:
                remove = lambda: None  # noqa: E731
            ways[way] += timed_commits(store, commits, counter)
            counter += commits
            remove()
            stop()
            written[way] += lines_in(path)
    for way, times in ways.items():
        times.sort()
        p95 = times[int(len(times) * 0.95) - 1]
        print(
            f"  {way:<20} median {statistics.median(times):6.2f} ms  p95 {p95:6.2f} ms  "
            f"checkpoints written {written[way]:>5} for {len(times)} commits"
        )


def anchor_file_of(path: Path, lines: int, *, head: Checkpoint) -> None:
    at = datetime(2026, 1, 1, tzinfo=UTC)
    with path.open("w") as f:
        for n in range(1, lines):
            old = Checkpoint(
                event_id=1, count=1, head_hash=head.head_hash, at=at + timedelta(minutes=n)
            )
            f.write(old.line(audit_key=KEYS.audit_key) + "\n")
        f.write(head.line(audit_key=KEYS.audit_key) + "\n")


def per_anchoring(store: Store, where: Path) -> None:
    commit_one(store, 10**9)
    for size in (1_000, 100_000):
        path = where / f"long-{size}"
        done = anchor(store, path=where / "first")
        assert done.checkpoint is not None
        anchor_file_of(path, size, head=done.checkpoint)
        t = time.perf_counter()
        for _ in range(5):
            anchor(store, path=path)
        tail_ms = (time.perf_counter() - t) / 5 * 1000
        t = time.perf_counter()
        read_anchor_file(path, audit_key=KEYS.audit_key)
        whole_ms = (time.perf_counter() - t) * 1000
        assert read_latest(path, audit_key=KEYS.audit_key) == done.checkpoint
        print(
            f"  anchor file of {size:>7,} lines: an anchoring {tail_ms:7.1f} ms; "
            f"reading every line {whole_ms:8.1f} ms"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--commits", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--backends", default="sqlite,postgresql")
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.2f}")
    for backend in args.backends.split(","):
        with tempfile.TemporaryDirectory() as tmp:
            where = Path(tmp)
            if backend == "sqlite":
                opened = sqlite_store(where)
            else:
                url = os.environ.get("TEST_DATABASE_URL", DEFAULT_PG)
                try:
                    create_engine(url, poolclass=NullPool).connect().close()
                except Exception as err:
                    print(f"{backend}: skipped ({type(err).__name__})")
                    continue
                opened = postgres_store(url)
            with opened as store:
                print(f"{backend}: one audit event per commit, {args.rounds} rounds")
                per_commit(store, where, commits=args.commits, rounds=args.rounds)
                print(f"{backend}: anchoring against a long anchor file")
                per_anchoring(store, where)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
