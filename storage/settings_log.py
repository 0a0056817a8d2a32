"""The rules settings the bot runs with, remembered so every change is audited.

The bot calls `record_setting_changes` at start with its rules settings (never secrets); each
key whose value differs from the last start gets a `setting.changed` event.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlmodel import Session

from storage import audit
from storage._sql import insert_for
from storage.audit import SYSTEM, AuditAction, jsonable
from storage.models import SettingValue
from storage.types import utcnow


def record_setting_changes(
    session: Session, *, settings: Mapping[str, Any], actor: str = SYSTEM
) -> list[str]:
    """Store the given settings; return (and audit) the keys whose value changed."""
    values: dict[str, Any] = {}
    for key, value in settings.items():
        if hasattr(value, "get_secret_value"):
            raise TypeError(f"{key} is a secret: never record secrets as settings")
        values[key] = jsonable(value)
    audit.lock_chain(session)
    changed: list[str] = []
    now = utcnow()
    for key in sorted(values):
        row = session.get(SettingValue, key, populate_existing=True)
        if row is not None and row.value == values[key]:
            continue
        stmt = insert_for(session, SettingValue).values(key=key, value=values[key], updated_at=now)
        session.exec(
            stmt.on_conflict_do_update(
                index_elements=["key"], set_={"value": values[key], "updated_at": now}
            )
        )
        audit.append(
            session,
            actor=actor,
            action=AuditAction.SETTING_CHANGED,
            subject_type="setting",
            subject_id=key,
            before=None if row is None else {"value": row.value},
            after={"value": values[key]},
        )
        changed.append(key)
    return changed


def current_settings(session: Session) -> dict[str, Any]:
    from sqlmodel import select

    return {row.key: row.value for row in session.exec(select(SettingValue)).all()}
