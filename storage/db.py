"""Engines and sessions.

`make_engine(url)` gives a configured engine:
- SQLite: WAL journal with synchronous=FULL, foreign keys on, a busy timeout, and every
  transaction opened with `BEGIN IMMEDIATE` (one writer at a time, no "database is locked"
  surprises half-way through a transaction).
- PostgreSQL (`postgresql+psycopg://…`): a small pool with pre-ping; `schema=` pins the
  search_path (tests and benchmarks use a private schema).
- `read_only=True` (SQLite): the file is opened read-only (`mode=ro`), never created, and its
  journal mode is left as it is. `storage.existing` opens a ledger that must already exist.

`Store` holds the engine and the keys; `with store.session(...) as s:` is one transaction that
commits at the end (or rolls back on an exception). Repository functions run inside it and append
their audit events to the same transaction; once a transaction that appended some has committed,
the store's audit listeners are told (`on_audit_committed`: how the chain's head gets anchored
outside the database soon after).

On SQLite only one transaction writes at a time anyway (`BEGIN IMMEDIATE`), so a process's
`Store.session`s take turns on a lock of their own (one per database file, re-entrant) before
they begin: forty threads then queue in order instead of each polling SQLite's lock under its
busy timeout, whose growing sleeps made the slowest wait seconds. A turn not had within the
busy timeout goes ahead without it (SQLite's own lock still guards the data). PostgreSQL keeps
its row locks and takes no such turn.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import QueuePool, StaticPool
from sqlmodel import Session

from storage.crypto import Crypto
from storage.keys import Keys
from storage.urls import normalize_url, sqlite_path

if TYPE_CHECKING:
    from storage.tokens import DatabaseTokenStore

log = logging.getLogger(__name__)

SQLITE_BUSY_TIMEOUT_MS = 30_000
_SCHEMA_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")

# Keys of `Session.info` that repository functions read.
INFO_AUDIT_KEY = "rewardbot.audit_key"
INFO_CRYPTO = "rewardbot.crypto"
INFO_CORRELATION_ID = "rewardbot.correlation_id"
# Set by `storage.audit.append`: this transaction appended audit events (the Store's audit
# listeners hear of it once it commits).
INFO_AUDITED = "rewardbot.audited"
# Execution option: a read-only transaction (SQLite: plain BEGIN, a snapshot that never blocks
# writers; PostgreSQL: READ ONLY).
READ_ONLY_OPTION = "rewardbot_read_only"
# Execution option: one read-only statement (SQLite: no BEGIN at all, the statement is its own
# snapshot; PostgreSQL: a READ ONLY transaction around it).
ONE_READ_OPTION = "rewardbot_one_read"


def make_engine(
    url: str,
    *,
    schema: str | None = None,
    pool_size: int = 5,
    echo: bool = False,
    read_only: bool = False,
) -> Engine:
    """An engine for `url` (SQLite or PostgreSQL), configured as described in the module doc."""
    url = normalize_url(url)
    backend = make_url(url).get_backend_name()
    if backend == "sqlite":
        return _sqlite_engine(url, echo=echo, read_only=read_only)
    if backend == "postgresql":
        return _postgres_engine(url, schema=schema, pool_size=pool_size, echo=echo)
    raise ValueError(f"unsupported database URL scheme {backend!r}: use sqlite or postgresql")


def _sqlite_engine(url: str, *, echo: bool, read_only: bool = False) -> Engine:
    path = sqlite_path(url)
    kwargs: dict[str, Any] = {
        "connect_args": {"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
        "echo": echo,
    }
    if read_only:
        if path is None:
            raise ValueError("only a database file can be opened read-only")
        url = f"sqlite:///file:{path}?mode=ro&uri=true"  # SQLite never creates it then
    elif path is None:
        kwargs["poolclass"] = StaticPool  # one shared in-memory database
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, **kwargs)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # SQLAlchemy emits BEGIN itself (below)
        cursor = dbapi_connection.cursor()
        try:
            if path is not None and not read_only:
                cursor.execute("PRAGMA journal_mode=WAL")
                # FULL: a commit is on disk before it returns, so what the bot acknowledged
                # or claimed survives a power cut too (NORMAL loses the last commits then).
                cursor.execute("PRAGMA synchronous=FULL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        options = connection.get_execution_options()
        if options.get(ONE_READ_OPTION, False):
            return  # one statement, in SQLite's autocommit: its own read snapshot
        plain = read_only or options.get(READ_ONLY_OPTION, False)
        connection.exec_driver_sql("BEGIN" if plain else "BEGIN IMMEDIATE")

    return engine


def _postgres_engine(url: str, *, schema: str | None, pool_size: int, echo: bool) -> Engine:
    connect_args: dict[str, Any] = {"connect_timeout": 10}
    if schema is not None:
        if not _SCHEMA_NAME.match(schema):
            raise ValueError(f"bad schema name {schema!r}")
        connect_args["options"] = f"-csearch_path={schema}"
    return create_engine(
        url,
        connect_args=connect_args,
        pool_size=pool_size,
        max_overflow=pool_size * 2,
        pool_pre_ping=True,
        echo=echo,
    )


_WRITERS: dict[str, threading.RLock] = {}
_WRITERS_GUARD = threading.Lock()


def _writer_turn(engine: Engine) -> threading.RLock | None:
    """The lock a SQLite database's writers of this process take turns on (see the module
    doc); None for PostgreSQL."""
    if engine.dialect.name != "sqlite":
        return None
    path = sqlite_path(str(engine.url))
    name = str(path.resolve()) if path is not None else f"memory:{id(engine)}"
    with _WRITERS_GUARD:
        return _WRITERS.setdefault(name, threading.RLock())


class Store:
    """The engine plus the keys: the one object the bot passes around to reach the ledger."""

    def __init__(self, *, engine: Engine, keys: Keys) -> None:
        self.engine = engine
        self.keys = keys
        self.crypto = Crypto(keys.encryption_keys)
        self._turn = _writer_turn(engine)
        self._audit_listeners: list[Callable[[], None]] = []

    def on_audit_committed(self, listener: Callable[[], None]) -> Callable[[], None]:
        """Call `listener` (no arguments, quick, in the committing thread) after each
        transaction of this store that appended audit events commits; returns a function that
        stops it. What it raises is logged, never the committer's problem."""
        self._audit_listeners.append(listener)
        return lambda: self._audit_listeners.remove(listener)

    def _audit_committed(self) -> None:
        for listener in list(self._audit_listeners):
            try:
                listener()
            except Exception:
                log.exception("an audit listener failed")

    @property
    def is_postgres(self) -> bool:
        return self.engine.dialect.name == "postgresql"

    @property
    def max_connections(self) -> int | None:
        """How many connections the pool opens at most (PostgreSQL's); None: not bounded by a
        pool (SQLite opens one a thread)."""
        pool = self.engine.pool
        if not self.is_postgres or not isinstance(pool, QueuePool):
            return None
        return int(pool.size() + getattr(pool, "_max_overflow", 0))

    @contextmanager
    def session(self, *, correlation_id: str | None = None) -> Iterator[Session]:
        """One transaction: commits when the block ends, rolls back if it raises."""
        turn = self._turn
        has_turn = turn is not None and turn.acquire(timeout=SQLITE_BUSY_TIMEOUT_MS / 1000)
        try:
            with self._transaction(correlation_id) as session:
                yield session
        finally:
            if has_turn:
                assert turn is not None
                turn.release()

    @contextmanager
    def _transaction(self, correlation_id: str | None) -> Iterator[Session]:
        with Session(self.engine, expire_on_commit=False) as session:
            session.info[INFO_AUDIT_KEY] = self.keys.audit_key
            session.info[INFO_CRYPTO] = self.crypto
            session.info[INFO_CORRELATION_ID] = correlation_id
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise
        if session.info.get(INFO_AUDITED):
            self._audit_committed()

    @contextmanager
    def read_session(self, *, snapshot: bool = False) -> Iterator[Session]:
        """A read-only transaction for reports and views (never blocks the writers)."""
        with read_session(self.engine, snapshot=snapshot) as session:
            session.info[INFO_CRYPTO] = self.crypto
            yield session

    @contextmanager
    def one_read(self) -> Iterator[Connection]:
        """A plain connection for ONE read-only Core statement, for the hottest reads (Xoxoday's
        store asking a balance): no ORM session to build and tear down, and on SQLite no
        transaction either (a single statement reads one snapshot on its own). Several
        statements would each see their own snapshot there: use `read_session` for those."""
        with self.engine.connect() as conn:
            conn = conn.execution_options(**{ONE_READ_OPTION: True, READ_ONLY_OPTION: True})
            if self.engine.dialect.name == "postgresql":
                conn.execute(text("SET TRANSACTION READ ONLY"))
            try:
                yield conn
            finally:
                conn.rollback()

    def token_store(self, *, name: str = "plum") -> DatabaseTokenStore:
        """A Plum token store (`bot.plum.tokens.TokenStore`, by shape) keeping the tokens in this
        database, encrypted."""
        from storage.tokens import DatabaseTokenStore

        return DatabaseTokenStore(engine=self.engine, crypto=self.crypto, name=name)

    def dispose(self) -> None:
        self.engine.dispose()

    def __repr__(self) -> str:
        return f"Store(engine={self.engine.url!r})"


@contextmanager
def read_session(engine: Engine, *, snapshot: bool = False) -> Iterator[Session]:
    """A read-only session on any engine (no keys: it cannot append audit events).

    `snapshot=True`: every query sees the ledger as it was at the first one, even on
    PostgreSQL (REPEATABLE READ), for checks that add up several tables. SQLite's read
    transactions always are."""
    with Session(engine, expire_on_commit=False) as session:
        session.connection(execution_options={READ_ONLY_OPTION: True})
        if engine.dialect.name == "postgresql":
            level = "ISOLATION LEVEL REPEATABLE READ, " if snapshot else ""
            session.connection().execute(text(f"SET TRANSACTION {level}READ ONLY"))
        try:
            yield session
        finally:
            session.expunge_all()  # objects read stay usable after the block
            session.rollback()


def session_crypto(session: Session) -> Crypto:
    crypto = session.info.get(INFO_CRYPTO)
    if not isinstance(crypto, Crypto):
        raise RuntimeError("this session has no keys: open it with Store.session()")
    return crypto


def open_store(
    *, database_url: str, audit_key: str | None = None, encryption_key: str | None = None
) -> Store:
    """Engine + keys for a URL (keys resolved as `storage.keys.resolve_keys` documents)."""
    from storage.keys import resolve_keys

    keys = resolve_keys(
        database_url=database_url, audit_key=audit_key, encryption_key=encryption_key
    )
    return Store(engine=make_engine(database_url), keys=keys)


def store_from_settings(settings: Any) -> Store:
    """A Store for `bot.settings.Settings` (DATABASE_URL, AUDIT_KEY, ENCRYPTION_KEY)."""

    def secret(value: Any) -> str | None:
        return value.get_secret_value() if value is not None else None

    return open_store(
        database_url=settings.DATABASE_URL,
        audit_key=secret(settings.AUDIT_KEY),
        encryption_key=secret(settings.ENCRYPTION_KEY),
    )
