"""The ledger and the intake journal, checked as serve would find them at start, without
changing what serve then does: nothing is created or migrated and no setting is recorded. The one
write is a heartbeat row (`storage.health.write_problem`): that is how "takes writes" is known.

- the ledger: reachable, at this release's revision (a SQLite ledger behind is migrated by
  serve itself; a PostgreSQL one needs `rewardbot migrate`), taking writes, made for this
  REWARD_POINT_SYSTEM (`storage.point_system.mismatch`);
- the intake journal beside a SQLite ledger (in PostgreSQL, the ledger's own table);
- the keys against the ledger: the newest audit event verifies with AUDIT_KEY, and the Plum
  tokens kept in it decrypt with ENCRYPTION_KEY.
The wording of what to do is start-up's own (`bot.startup_checks`).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError
from sqlmodel import select

from bot.checks.lines import Line, fail, ok, skip, warn
from bot.checks.offline import secret_value
from bot.settings import Settings
from bot.startup_checks import JOURNAL, PointSystemConflict, cannot_write, damaged_journal
from storage import point_system
from storage.audit import newest_signed_with
from storage.crypto import Crypto
from storage.db import make_engine, read_session
from storage.errors import DecryptionError, KeyConfigError
from storage.existing import where_of
from storage.health import DAMAGED, MIN_FREE_BYTES, describe, write_problem
from storage.intake import IntakeJournal, journal_url
from storage.keys import key_file_for, resolve_keys
from storage.migrations import current_state
from storage.models import AuditEvent, PlumToken
from storage.states import PointSystem
from storage.tokens import DatabaseTokenStore
from storage.urls import sqlite_path

HEARTBEAT = "rewardbot check"
ONE_PROCESS = "SQLite: one bot process at a time; PostgreSQL for more"


def database(settings: Settings) -> list[Line]:
    """The ledger, the intake journal, and whether the keys fit them."""
    url = settings.DATABASE_URL
    path = sqlite_path(url)
    if not settings.is_postgres and path is None:
        return [
            warn(
                "Database",
                "DATABASE_URL is an in-memory database: every reward is forgotten when the bot "
                "stops. Point it at a file (sqlite:///rewardbot.db) or at PostgreSQL.",
            )
        ]
    if path is not None and not path.exists():
        return _new_sqlite(path.absolute(), journal_url(url))
    if path is not None and not path.is_file():
        return [fail("Database", f"DATABASE_URL names {path}, which is not a file.")]
    problem = _file_problem(path) if path is not None else None
    if problem is not None:
        return [fail("Database", cannot_write("the database", problem))]
    engine = make_engine(url)
    try:
        return _existing(engine, settings)
    finally:
        engine.dispose()


def _new_sqlite(path: Path, journal: str | None) -> list[Line]:
    folder = path.parent
    if not folder.is_dir():
        return [
            fail(
                "Database",
                f"DATABASE_URL: the folder {folder} does not exist. Make it, or point "
                "DATABASE_URL at another place.",
            )
        ]
    problem = _folder_problem(folder)
    if problem is not None:
        return [fail("Database", cannot_write(f"the folder {folder}", problem))]
    journal_file = sqlite_path(journal) if journal else None
    journal_at = journal_file.absolute() if journal_file else path
    return [
        ok("Database", f"no ledger yet: serve makes it at {path} when it first starts"),
        ok("Journal", f"no intake journal yet: serve makes it at {journal_at}"),
    ]


def _existing(engine: Engine, settings: Settings) -> list[Line]:
    where = where_of(settings.DATABASE_URL)
    try:
        state = current_state(engine)
    except DBAPIError as err:
        reason = describe(err)
        if reason == DAMAGED:
            return [fail("Database", cannot_write("the database", reason))]
        server = ", and that the database server runs and lets this machine in"
        return [
            fail(
                "Database",
                f"DATABASE_URL: can't read the database at {where} ({reason}). Check "
                f"DATABASE_URL{server if settings.is_postgres else ''}.",
            )
        ]
    if state.unknown:
        return [
            fail(
                "Database",
                f"the ledger at {where} is at revision {', '.join(state.unknown)}, which this "
                "release does not know: it was migrated by a newer release of rewardbot; run "
                "that one.",
            )
        ]
    if not state.is_current and settings.is_postgres:
        what = "has no tables yet" if state.is_empty else "is behind this release"
        return [
            fail(
                "Database",
                f"the ledger at {where} {what}: run `rewardbot migrate` (once per release, "
                "before the bot starts).",
            )
        ]
    if not state.is_current:  # SQLite (whose file takes writes): serve migrates it at start
        what = "has no tables yet" if state.is_empty else "is behind this release"
        return [
            ok("Database", f"the ledger at {where} {what}: serve migrates it at start"),
            _journal(settings, engine),
        ]
    problem = write_problem(engine, name=HEARTBEAT)
    if problem is not None:
        return [fail("Database", cannot_write("the database", problem))]
    lines = [_ledger_ok(engine, settings, where)]
    lines.append(_journal(settings, engine))
    fit = _keys_fit(engine, settings)
    if fit is not None:
        lines.append(fit)
    return lines


def _ledger_ok(engine: Engine, settings: Settings, where: str) -> Line:
    wanted = PointSystem(settings.REWARD_POINT_SYSTEM)
    with read_session(engine) as session:
        mismatch = point_system.mismatch(session, wanted=wanted)
    if mismatch is not None:
        conflict = PointSystemConflict(
            recorded=mismatch.recorded, wanted=wanted, rewards=mismatch.rewards
        )
        return fail("Database", str(conflict))
    kind = "PostgreSQL" if settings.is_postgres else ONE_PROCESS
    return ok("Database", f"the ledger at {where} is current and takes writes ({kind})")


def _journal(settings: Settings, ledger: Engine) -> Line:
    url = journal_url(settings.DATABASE_URL)
    file = sqlite_path(url) if url else None
    if file is None:
        return ok("Journal", "the intake journal is the ledger's own table")
    path = file.absolute()
    if not path.exists():
        return ok("Journal", f"no intake journal yet: serve makes it at {path}")
    try:
        journal = IntakeJournal.open(
            ledger=ledger, database_url=settings.DATABASE_URL, worker_id=HEARTBEAT
        )
        try:
            problem = write_problem(journal.engine, name=HEARTBEAT)
        finally:
            journal.stop()
    except (DBAPIError, OSError) as err:
        problem = describe(err)
    if problem == DAMAGED:
        return fail("Journal", damaged_journal(path))
    if problem is not None:
        return fail("Journal", cannot_write(JOURNAL, problem))
    return ok("Journal", f"the intake journal {path} takes writes")


def _keys_fit(engine: Engine, settings: Settings) -> Line | None:
    """Do the keys fit what the ledger holds? None: nothing in it to try them on."""
    key_file = key_file_for(settings.DATABASE_URL)
    try:
        keys = resolve_keys(
            database_url=settings.DATABASE_URL,
            audit_key=secret_value(settings.AUDIT_KEY),
            encryption_key=secret_value(settings.ENCRYPTION_KEY),
            create=False,
        )
    except KeyConfigError:
        if key_file is None or key_file.exists():
            return skip("Keys", "not tried on the ledger: the keys above can't be used")
        return _no_key_file(engine, key_file.absolute(), unset=_unset_keys(settings))
    with read_session(engine) as session:
        signed = newest_signed_with(session, audit_key=keys.audit_key)
    kept = f" (kept in {key_file})" if keys.source == str(key_file) else ""
    if signed is False:
        return fail(
            "Keys",
            f"AUDIT_KEY{kept} is not the key this ledger's audit trail was written with: "
            "events written now would not verify. Set the AUDIT_KEY it was written with.",
        )
    try:
        tokens = DatabaseTokenStore(engine=engine, crypto=Crypto(keys.encryption_keys)).load()
    except DecryptionError:
        return fail(
            "Keys",
            f"ENCRYPTION_KEY{kept} can't read the Plum tokens kept in the ledger. Set the key "
            "they were written with (to change keys: the new one first, then the old one, "
            "comma-separated).",
        )
    tried = [
        what
        for what, done in (
            ("its newest audit event verifies", signed),
            ("its Plum tokens decrypt", tokens is not None),
        )
        if done
    ]
    if not tried:
        return None
    return ok("Keys", "they fit the ledger: " + " and ".join(tried))


def keys_for_the_ledger(settings: Settings) -> Line | None:
    """At start, before anything is made: a SQLite ledger written with keys, and neither the
    keys nor their key file there. (None: nothing to say; start-up says what else is wrong.)"""
    url = settings.DATABASE_URL
    path = sqlite_path(url)
    key_file = key_file_for(url)
    unset = _unset_keys(settings)
    if path is None or not path.is_file() or key_file is None or key_file.exists() or not unset:
        return None
    engine = make_engine(url, read_only=True)
    try:
        return _no_key_file(engine, key_file.absolute(), unset=unset)
    except DBAPIError:  # no tables yet, or not a database: start-up says so
        return None
    finally:
        engine.dispose()


def _unset_keys(settings: Settings) -> str:
    names = ("AUDIT_KEY", "ENCRYPTION_KEY")
    return " and ".join(n for n in names if not secret_value(getattr(settings, n)))


def _no_key_file(engine: Engine, key_file: Path, *, unset: str) -> Line | None:
    """Keys not set, and no key file: serve would make new ones. Harmless for a ledger that
    holds nothing written with keys; for one that does, the trail would no longer verify."""
    with read_session(engine) as session:
        events = session.exec(select(AuditEvent.id).limit(1)).first() is not None
        tokens = session.exec(select(PlumToken.name).limit(1)).first() is not None
    if not (events or tokens):
        return None
    return fail(
        "Keys",
        f"this ledger was written with keys, but {unset} {'are' if ' and ' in unset else 'is'} "
        f"not set and there is no key file "
        f"at {key_file}: serve would make new keys, and the audit trail would no longer "
        "verify. Set them to the keys it was written with, or put the key file back.",
    )


def _folder_problem(folder: Path) -> str | None:
    if not os.access(folder, os.W_OK | os.X_OK):
        return "it is read-only"
    try:
        free = shutil.disk_usage(folder).free
    except OSError as err:
        return f"it can't be read ({err.strerror or type(err).__name__})"
    if free < MIN_FREE_BYTES:
        return f"the disk is full ({free // 1024:,} KB free)"
    return None


def _file_problem(path: Path) -> str | None:
    if not os.access(path, os.W_OK):
        return "it is read-only"
    return _folder_problem(path.parent)
