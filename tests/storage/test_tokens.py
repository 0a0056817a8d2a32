"""DatabaseTokenStore: encrypted at rest, durable, one refresher at a time across processes.

Storage speaks its own `StoredTokens`; that the Plum client can use the store (its `TokenSet`
in, `load` out) is what mypy checks where the bot hands the store to the client."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import text

from storage.tokens import DatabaseTokenStore, StoredTokens
from tests.e2e.harness import wait_until
from tests.storage.support import TEST_ENCRYPTION_KEY, TestDatabase

TOKENS = StoredTokens(
    access_token="acc-SECRET-123",
    access_expires_at=datetime(2025, 2, 1, tzinfo=UTC),
    refresh_token="ref-SECRET-456",
    refresh_expires_at=datetime(2025, 3, 1, tzinfo=UTC),
    flow="company",
)


def test_tokens_round_trip_encrypted(db: TestDatabase) -> None:
    tokens = db.store.token_store()
    assert tokens.load() is None
    tokens.save(TOKENS)
    assert tokens.load() == TOKENS
    rotated = StoredTokens(access_token="acc-2", access_expires_at=None, refresh_token="ref-2")
    tokens.save(rotated)
    assert db.store.token_store().load() == rotated  # a fresh instance sees the committed row
    with db.engine.connect() as c:
        row = c.execute(text("SELECT * FROM plum_tokens")).mappings().one()
    assert "acc-2" not in str(dict(row)) and "ref-2" not in str(dict(row))
    assert "SECRET" not in repr(tokens)


def test_token_stores_are_separate_by_name(db: TestDatabase) -> None:
    db.store.token_store(name="user").save(TOKENS)
    assert db.store.token_store(name="company").load() is None


def test_refresh_lock_is_exclusive_across_threads(db: TestDatabase) -> None:
    stores = [db.store.token_store(), db.store.token_store()]  # two clients, one database
    inside: list[int] = []
    overlaps: list[int] = []
    lock = threading.Lock()

    def refresh(i: int) -> None:
        with stores[i % 2].refresh_lock():
            with lock:
                inside.append(i)
                if len(inside) > 1:
                    overlaps.append(i)
            time.sleep(0.02)  # a refresh takes a while: long enough for others to collide
            with lock:
                inside.remove(i)

    threads = [threading.Thread(target=refresh, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert overlaps == []


CHILD = """
import sys
from sqlalchemy import create_engine
from storage.crypto import Crypto
from storage.db import make_engine
from storage.tokens import DatabaseTokenStore
url, schema, key = sys.argv[1], sys.argv[2] or None, sys.argv[3]
store = DatabaseTokenStore(engine=make_engine(url, schema=schema), crypto=Crypto([key]))
print("waiting", flush=True)
with store.refresh_lock():
    print("acquired", flush=True)
"""


LOCKS = Path("/proc/locks")  # Linux: every file lock, and every process waiting for one
REFRESH_LOCK_CLASS = 0x5242544B  # storage.tokens' advisory lock class on PostgreSQL


def waiting_for_the_lock(db: TestDatabase, pid: int) -> bool:
    """The child (process `pid`) is blocked waiting for the refresh lock, not merely on its
    way to it: PostgreSQL shows its advisory lock request not granted; on SQLite, Linux shows
    its flock among the waiters ("->")."""
    if db.backend == "postgresql":
        with db.engine.connect() as c:
            waiting = c.execute(
                text(
                    "SELECT COUNT(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted "
                    "AND database = (SELECT oid FROM pg_database WHERE datname = "
                    "current_database()) AND classid::bigint = :cls AND objid::bigint = "
                    "(hashtext(current_schema() || ':' || :name)::bigint & 4294967295)"
                ),
                {"cls": REFRESH_LOCK_CLASS, "name": "plum"},
            ).scalar()
        return bool(waiting)
    if not LOCKS.exists():  # no way to see a waiter here: give it every chance instead
        time.sleep(0.5)
        return True
    return any(
        line.split()[1:3] == ["->", "FLOCK"] and line.split()[5] == str(pid)
        for line in LOCKS.read_text().splitlines()
    )


def test_refresh_lock_is_exclusive_across_processes(db: TestDatabase) -> None:
    url = db.url if db.backend == "sqlite" else str(db.engine.url.render_as_string(False))
    tokens = DatabaseTokenStore(engine=db.engine, crypto=db.store.crypto)
    with tokens.refresh_lock():
        child = subprocess.Popen(
            [sys.executable, "-c", CHILD, url, db.schema or "", TEST_ENCRYPTION_KEY],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "waiting"
        wait_until(
            lambda: waiting_for_the_lock(db, child.pid) or child.poll() is not None,
            timeout=30,
            what="the other process waiting for the lock",
        )
        assert child.poll() is None, "the other process got the lock while we held it"
        assert waiting_for_the_lock(db, child.pid)
    out, _ = child.communicate(timeout=30)
    assert out.strip() == "acquired"
    assert child.returncode == 0
