"""What the ledger knows of reactions that give (`bot.rewards.reactions`): for each reaction
(a person's emoji on one message), the latest event Slack sent about it and the generation of
the reward it gives.

Slack's events may be handled out of order (retries, several threads): an event older (by its
`event_ts`) than the one recorded changes nothing, so a reaction removed and added back ends as
added whatever order the three events are handled in. Call these inside the transaction that
gives or cancels (after `audit.lock_chain`), so that the mark and the reward agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from sqlmodel import Session

from storage.models import ReactionMark
from storage.types import utcnow

ADDED = "added"
REMOVED = "removed"


@dataclass(frozen=True, slots=True)
class Mark:
    key: str
    state: str
    event_ts: str
    generation: int


def _order(ts: str) -> Decimal:
    try:
        return Decimal(ts)
    except (InvalidOperation, ValueError):
        return Decimal(0)


def _mark(row: ReactionMark) -> Mark:
    return Mark(key=row.key, state=row.state, event_ts=row.event_ts, generation=row.generation)


def latest(session: Session, *, key: str) -> Mark | None:
    row = session.get(ReactionMark, key, populate_existing=True)
    return None if row is None else _mark(row)


def record(session: Session, *, key: str, state: str, event_ts: str) -> Mark | None:
    """Record that Slack says the reaction was `state` (added, removed) at `event_ts`: the mark
    now, or None when a later event was recorded before (this one changes nothing)."""
    if state not in (ADDED, REMOVED):
        raise ValueError(f"a reaction is added or removed, not {state!r}")
    if not key or len(key) > 255 or len(event_ts) > 32:
        raise ValueError("a reaction key is 1 to 255 characters, its event_ts at most 32")
    row = session.get(ReactionMark, key, populate_existing=True)
    if row is None:
        row = ReactionMark(key=key, state=state, event_ts=event_ts, updated_at=utcnow())
        session.add(row)
    elif _order(event_ts) < _order(row.event_ts):
        return None
    else:
        row.state, row.event_ts, row.updated_at = state, event_ts, utcnow()
    session.flush()
    return _mark(row)


def next_generation(session: Session, *, key: str) -> None:
    """The reaction's reward was undone: adding the reaction again gives a new one."""
    row = session.get(ReactionMark, key, populate_existing=True)
    if row is None:
        raise ValueError(f"no reaction {key!r}")
    row.generation += 1
    row.updated_at = utcnow()
    session.flush()
