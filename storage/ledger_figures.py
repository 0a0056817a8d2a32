"""What operators watch in the ledger and the intake journal, read in a few aggregate queries.

`ledger_figures(engine)`: rewards and orders by state, with the oldest entry of each state
(from which the outbox's depth and the age of its oldest entry follow), and when each job last
ended well; `journal_figures(engine)`: the journal's unfinished entries and the oldest of them.
Each query is a GROUP BY over an indexed column (`status`, `state`) in one read-only
transaction, so a scrape costs the same however often it comes (`/metrics` caches it besides).
Only counts, states, job names and times: nothing that names a person.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Engine, func
from sqlmodel import select

from storage.db import read_session
from storage.models import IntakeEntry, JobRun, Order, Reward
from storage.states import IntakeState, JobOutcome


@dataclass(frozen=True, slots=True)
class StateCount:
    count: int
    oldest: datetime | None  # rewards: when the oldest was queued; orders: last changed


@dataclass(frozen=True, slots=True)
class LedgerFigures:
    rewards: Mapping[str, StateCount] = field(default_factory=dict)
    orders: Mapping[str, StateCount] = field(default_factory=dict)
    last_ok: Mapping[str, datetime] = field(default_factory=dict)  # job -> last run ended ok


@dataclass(frozen=True, slots=True)
class JournalFigures:
    unfinished: int
    oldest: datetime | None  # when the oldest unfinished entry was received


def ledger_figures(engine: Engine) -> LedgerFigures:
    with read_session(engine) as session:
        rewards = session.exec(
            select(Reward.status, func.count(), func.min(Reward.queued_at)).group_by(Reward.status)
        ).all()
        orders = session.exec(
            select(Order.status, func.count(), func.min(Order.updated_at)).group_by(Order.status)
        ).all()
        last_ok = session.exec(
            select(JobRun.job, func.max(JobRun.finished_at))
            .where(JobRun.outcome == JobOutcome.OK.value)
            .group_by(JobRun.job)
        ).all()
    return LedgerFigures(
        rewards={status: StateCount(count, oldest) for status, count, oldest in rewards},
        orders={status: StateCount(count, oldest) for status, count, oldest in orders},
        last_ok={job: when for job, when in last_ok if when is not None},
    )


def journal_figures(engine: Engine) -> JournalFigures:
    with read_session(engine) as session:
        count, oldest = session.exec(
            select(func.count(), func.min(IntakeEntry.received_at)).where(
                IntakeEntry.state == IntakeState.PENDING.value
            )
        ).one()
    return JournalFigures(unfinished=int(count), oldest=oldest)
