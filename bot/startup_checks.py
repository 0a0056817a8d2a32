"""What must hold before the bot starts, each refusal in one line (a `ConfigError`).

- The ledger is current (SQLite is migrated by itself; a PostgreSQL database that is behind
  stops start-up: `rewardbot migrate`) and takes writes.
- It was made for the same point system (`REWARD_POINT_SYSTEM`), recorded at the first start.
- The rules that shape rewards are recorded in the settings log, each change audited.
- The intake journal (beside a SQLite ledger, or in PostgreSQL) opens and takes writes.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.exc import DBAPIError
from sqlmodel import Session

from bot.settings import ConfigError, Settings
from storage import Store, point_system, settings_log, store_from_settings
from storage.errors import SetupError
from storage.health import DAMAGED, describe, write_problem
from storage.intake import IntakeJournal, journal_url
from storage.migrations import ensure_current
from storage.states import PointSystem
from storage.urls import sqlite_path

# The rules that shape rewards: recorded at start, each change audited.
AUDITED_SETTINGS = (
    "PLUM_BASE_URL",
    "PLUM_SENDER_EMAIL",
    "REWARD_POINT_SYSTEM",
    "REWARD_ADMINS",
    "REWARD_APPROVERS",
    "REWARD_APPROVAL_THRESHOLD",
    "REWARD_MAX_PER_REWARD",
    "REWARD_ALLOWANCE",
    "REWARD_ALLOWANCE_CARRYOVER_MAX",
    "REWARD_EXPIRY_MONTHS",
    "REWARD_VALUES",
    "REWARD_ANNOUNCE_CHANNEL",
    "REWARD_LOW_BALANCE",
    "REWARD_TIMEZONE",
)
POINT_SYSTEM_NAMES = {
    PointSystem.PLUM: "at Xoxoday (plum)",
    PointSystem.STOREFRONT: "in the bot (storefront)",
}


class PointSystemConflict(ConfigError):
    """The database holds rewards made in the other point system (one line saying why);
    `recorded`, `wanted` and `rewards` for callers that word it their own way (the
    playground's --state-dir)."""

    def __init__(self, *, recorded: PointSystem, wanted: PointSystem, rewards: int) -> None:
        super().__init__(
            f"REWARD_POINT_SYSTEM: this database holds {rewards} reward(s) whose points live "
            f"{POINT_SYSTEM_NAMES[recorded]}; start with REWARD_POINT_SYSTEM={recorded.value}, "
            f"or give {wanted.value} a new DATABASE_URL"
        )
        self.recorded = recorded
        self.wanted = wanted
        self.rewards = rewards


def _settle_point_system(session: Session, settings: Settings) -> None:
    wanted = PointSystem(settings.REWARD_POINT_SYSTEM)
    try:
        point_system.settle(session, wanted=wanted)
    except point_system.PointSystemMismatch as err:
        raise PointSystemConflict(
            recorded=err.recorded, wanted=wanted, rewards=err.rewards
        ) from None


def open_ledger(settings: Settings, *, recorded: Settings) -> Store:
    """The ledger, current and taking writes, for this point system, with `recorded`'s rules
    in its settings log; else one line saying why (nothing is left open)."""
    store = store_from_settings(settings)
    try:
        ensure_current(store.engine)
        problem = write_problem(store.engine, name="start")
        if problem is None:
            with store.session() as session:
                _settle_point_system(session, settings)
                settings_log.record_setting_changes(
                    session,
                    settings={name: getattr(recorded, name) for name in AUDITED_SETTINGS},
                )
    except DBAPIError as err:
        problem = describe(err, path=sqlite_path(settings.DATABASE_URL))
    except (ConfigError, SetupError):
        store.dispose()
        raise
    if problem is not None:
        store.dispose()
        raise _cannot_write("the database", problem)
    return store


def open_journal(store: Store, settings: Settings, *, worker_id: str) -> IntakeJournal:
    """The intake journal, taking writes; else one line saying why (and the ledger closed)."""
    try:
        journal = IntakeJournal.open(
            ledger=store.engine, database_url=settings.DATABASE_URL, worker_id=worker_id
        )
        problem = write_problem(journal.engine, name="start")
    except (DBAPIError, OSError) as err:
        url = journal_url(settings.DATABASE_URL)
        problem = describe(err, path=sqlite_path(url) if url else None)
    else:
        if problem is None:
            return journal
        journal.stop()
    store.dispose()
    url = journal_url(settings.DATABASE_URL)
    journal_file = sqlite_path(url) if url else None
    if problem == DAMAGED and journal_file is not None:
        raise ConfigError(damaged_journal(journal_file))
    raise _cannot_write(JOURNAL, problem)


JOURNAL = "the intake journal beside the database"


def damaged_journal(journal_file: Path) -> str:
    """What to do about a journal file that is not a SQLite database (also `rewardbot check`)."""
    return (
        f"DATABASE_URL: the intake journal {journal_file} is damaged. Move it aside and start "
        "again: the bot starts a new one (requests the old one held unfinished are not "
        "resumed; the ledger itself is untouched)."
    )


def cannot_write(what: str, problem: str) -> str:
    """What to do when `what` can't take writes (`storage.health.write_problem`'s `problem`),
    at start and in `rewardbot check`."""
    if problem == DAMAGED:
        return (
            f"DATABASE_URL: {what} is damaged (its file is not a SQLite database). Restore it "
            "from a backup, then start again."
        )
    return (
        f"DATABASE_URL: {what} can't take writes ({problem}). Free some disk space or fix its "
        "permissions, then start again."
    )


def _cannot_write(what: str, problem: str) -> ConfigError:
    return ConfigError(cannot_write(what, problem))
