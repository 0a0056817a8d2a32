"""`DatabaseTokenStore`: Plum tokens kept in the database, encrypted with ENCRYPTION_KEY.

It is a `bot.plum.tokens.TokenStore` by shape (storage imports nothing of the client): `save`
takes any object with the token fields (`TokenFields`, which the client's `TokenSet` has), `load`
gives back storage's own `StoredTokens`. `save` commits before returning. `refresh_lock` is
exclusive across threads and processes: a session-level advisory lock on a dedicated connection
on PostgreSQL, an exclusive `flock` on `<database>.tokens.lock` on SQLite (holding SQLite's write
lock for the length of an HTTP refresh would stall every other write, including `save`).
"""

from __future__ import annotations

import fcntl
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import Engine, text
from sqlmodel import Session

from storage._sql import insert_for
from storage.crypto import Crypto
from storage.models import PlumToken
from storage.types import utcnow
from storage.urls import beside_database

_LOCK_CLASS = 0x5242544B  # "RBTK": the token refresh lock's advisory lock class


class TokenFields(Protocol):
    """What `save` reads from the tokens it is given."""

    @property
    def access_token(self) -> str: ...

    @property
    def access_expires_at(self) -> datetime | None: ...

    @property
    def refresh_token(self) -> str | None: ...

    @property
    def refresh_expires_at(self) -> datetime | None: ...

    @property
    def flow(self) -> str: ...


@dataclass(frozen=True, slots=True)
class StoredTokens:
    """Tokens as `load` gives them back: the fields `save` was given."""

    access_token: str
    access_expires_at: datetime | None  # timezone-aware UTC; None = unknown
    refresh_token: str | None = None
    refresh_expires_at: datetime | None = None
    flow: str = "client_credentials"

    def __repr__(self) -> str:  # never show the secrets
        return (
            f"StoredTokens(flow={self.flow!r}, access_expires_at={self.access_expires_at!r}, "
            f"refresh_expires_at={self.refresh_expires_at!r})"
        )


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def _parse(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


class DatabaseTokenStore:
    def __init__(self, *, engine: Engine, crypto: Crypto, name: str = "plum") -> None:
        self._engine = engine
        self._crypto = crypto
        self._name = name
        self._thread_lock = threading.Lock()
        self._lock_file = beside_database(
            str(engine.url), f".{name}.tokens.lock", keep_extension=True
        )

    def load(self) -> StoredTokens | None:
        with Session(self._engine) as session:
            row = session.get(PlumToken, self._name)
            if row is None:
                return None
            data: dict[str, Any] = self._crypto.decrypt_json(row.ciphertext)
        return StoredTokens(
            access_token=data["access_token"],
            access_expires_at=_parse(data.get("access_expires_at")),
            refresh_token=data.get("refresh_token"),
            refresh_expires_at=_parse(data.get("refresh_expires_at")),
            flow=data.get("flow", "client_credentials"),
        )

    def save(self, tokens: TokenFields) -> None:
        payload = {
            "access_token": tokens.access_token,
            "access_expires_at": _iso(tokens.access_expires_at),
            "refresh_token": tokens.refresh_token,
            "refresh_expires_at": _iso(tokens.refresh_expires_at),
            "flow": tokens.flow,
        }
        values = {
            "ciphertext": self._crypto.encrypt_json(payload),
            "flow": tokens.flow,
            "access_expires_at": tokens.access_expires_at,
            "refresh_expires_at": tokens.refresh_expires_at,
            "updated_at": utcnow(),
        }
        with Session(self._engine) as session:
            stmt = insert_for(session, PlumToken).values(name=self._name, **values)
            session.exec(stmt.on_conflict_do_update(index_elements=["name"], set_=values))
            session.commit()

    @contextmanager
    def refresh_lock(self) -> Iterator[None]:
        with self._thread_lock:
            if self._engine.dialect.name == "postgresql":
                with self._advisory_lock():
                    yield
            elif self._lock_file is not None:
                with _file_lock(self._lock_file):
                    yield
            else:
                yield  # in-memory SQLite: one process by definition

    @contextmanager
    def _advisory_lock(self) -> Iterator[None]:
        connection = self._engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        params = {"cls": _LOCK_CLASS, "name": self._name}
        key = "hashtext(current_schema() || ':' || :name)"
        try:
            connection.execute(text(f"SELECT pg_advisory_lock(:cls, {key})"), params)
            try:
                yield
            finally:
                try:
                    connection.execute(text(f"SELECT pg_advisory_unlock(:cls, {key})"), params)
                except Exception:  # a broken connection: dropping it frees the lock
                    connection.invalidate()
                    raise
        finally:
            connection.close()

    def __repr__(self) -> str:
        return f"DatabaseTokenStore(name={self._name!r})"


@contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
