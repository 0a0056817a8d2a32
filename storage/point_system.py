"""Where a database's points live (`PointSystem`), recorded at the first start that needs it.

A database that holds rewards keeps the point system it was started with: rewards delivered at
Xoxoday cannot be spent from the bot's ledger, nor the other way round. Databases from before
this was recorded hold Plum rewards.
"""

from __future__ import annotations

from sqlalchemy import func
from sqlmodel import Session, select

from storage import audit
from storage._sql import insert_for
from storage.audit import SYSTEM, AuditAction
from storage.errors import StorageError
from storage.models import Reward, SettingValue
from storage.states import PointSystem
from storage.types import utcnow

KEY = "point_system"


class PointSystemMismatch(StorageError):
    def __init__(self, *, recorded: PointSystem, wanted: PointSystem, rewards: int) -> None:
        super().__init__(f"the database holds {rewards} reward(s) of the {recorded} point system")
        self.recorded = recorded
        self.wanted = wanted
        self.rewards = rewards


def recorded(session: Session) -> PointSystem | None:
    row = session.get(SettingValue, KEY)
    if row is None or row.value not in {p.value for p in PointSystem}:
        return None
    return PointSystem(row.value)


def mismatch(session: Session, *, wanted: PointSystem) -> PointSystemMismatch | None:
    """Why the database can't be started with `wanted`: it holds rewards made in the other
    point system (None: it can; only reads)."""
    current = recorded(session)
    if current is wanted:
        return None
    rewards = int(session.exec(select(func.count()).select_from(Reward)).one())
    effective = current or PointSystem.PLUM
    if rewards and effective is not wanted:
        return PointSystemMismatch(recorded=effective, wanted=wanted, rewards=rewards)
    return None


def settle(session: Session, *, wanted: PointSystem) -> bool:
    """Record `wanted`, or raise PointSystemMismatch when the rewards the database holds were
    made in the other one. True when the record changed."""
    audit.lock_chain(session)
    current = recorded(session)
    if current is wanted:
        return False
    problem = mismatch(session, wanted=wanted)
    if problem is not None:
        raise problem
    now = utcnow()
    stmt = insert_for(session, SettingValue).values(key=KEY, value=wanted.value, updated_at=now)
    session.exec(
        stmt.on_conflict_do_update(
            index_elements=["key"], set_={"value": wanted.value, "updated_at": now}
        )
    )
    audit.append(
        session,
        actor=SYSTEM,
        action=AuditAction.POINT_SYSTEM_CHOSEN,
        subject_type="setting",
        subject_id=KEY,
        before=None if current is None else {"value": current.value},
        after={"value": wanted.value},
    )
    return True
