"""Opening a ledger that must already exist, to read it (`rewardbot points verify`).

`existing_ledger(url)` never creates anything: no database file, no directory, no key file (it
needs no keys), and it migrates nothing. SQLite is opened read-only; PostgreSQL is only ever
read in read-only transactions (`storage.db.read_session`). A ledger that is not there, or
cannot be reached, raises `NoLedger` naming where it looked (without a password); one at
another revision than this code raises `DatabaseNotReady`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from storage.db import make_engine
from storage.errors import DatabaseNotReady, StorageError
from storage.urls import normalize_url, sqlite_path


class NoLedger(StorageError):
    """There is no ledger where DATABASE_URL points; the message says where that is."""

    def __init__(self, message: str, *, where: str) -> None:
        super().__init__(message)
        self.where = where


def where_of(database_url: str) -> str:
    """The ledger's place as a person reads it: the SQLite file's full path, or the URL
    without its password."""
    path = sqlite_path(database_url)
    if path is not None:
        return str(path.absolute())
    return make_url(normalize_url(database_url)).render_as_string(hide_password=True)


@contextmanager
def existing_ledger(database_url: str) -> Iterator[Engine]:
    """An engine on the ledger at `database_url`, which must exist and be at this code's
    revision; disposed of when the block ends."""
    from storage.migrations import BEHIND_MESSAGE, current_state

    url = normalize_url(database_url)
    where = where_of(url)
    read_only = False
    if make_url(url).get_backend_name() == "sqlite":
        path = sqlite_path(url)
        if path is None:
            raise NoLedger(
                "DATABASE_URL names an in-memory database, which holds no ledger to read",
                where=where,
            )
        if not path.is_file():
            raise NoLedger(f"there is no ledger at {where}", where=where)
        read_only = True
    engine = make_engine(url, read_only=read_only)
    try:
        try:
            state = current_state(engine)
        except DBAPIError as err:
            raise NoLedger(
                f"cannot read the ledger at {where}: {_first_line(err)}", where=where
            ) from None
        if state.is_empty:
            raise NoLedger(f"{where} holds no ledger (its tables were never made)", where=where)
        if state.unknown:
            raise DatabaseNotReady(
                f"the ledger at {where} is at revision {', '.join(state.unknown)}, which this "
                "version of rewardbot does not know: it was migrated by a newer release"
            )
        if not state.is_current:
            raise DatabaseNotReady(BEHIND_MESSAGE)
        yield engine
    finally:
        engine.dispose()


def _first_line(err: DBAPIError) -> str:
    text = str(err.orig).strip() if err.orig is not None else ""
    return text.splitlines()[0] if text else type(err.orig or err).__name__
