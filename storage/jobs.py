"""Job runs: each scheduled run is claimed once, across threads and processes.

`claim_job_run` inserts (job, scheduled_for) under a unique key; only the first caller gets
True. Commit the claim before doing the work; record the end with `finish_job_run`.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, update
from sqlmodel import Session, select

from storage._sql import insert_for
from storage.errors import NotFound
from storage.models import JobRun
from storage.states import JobOutcome
from storage.types import utcnow


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("scheduled_for must be timezone-aware")
    return moment.astimezone(UTC)


def claim_job_run(
    session: Session, *, job: str, scheduled_for: datetime, claimed_by: str | None = None
) -> bool:
    """True for exactly one caller per (job, scheduled_for); False for everyone else."""
    stmt = (
        insert_for(session, JobRun)
        .values(
            job=job,
            scheduled_for=_utc(scheduled_for),
            claimed_at=utcnow(),
            claimed_by=claimed_by,
            outcome=JobOutcome.RUNNING.value,
        )
        .on_conflict_do_nothing()
        .returning(JobRun.id)
    )
    return session.exec(stmt).scalar() is not None


def finish_job_run(
    session: Session,
    *,
    job: str,
    scheduled_for: datetime,
    outcome: JobOutcome | str,
    detail: str | None = None,
) -> None:
    outcome = JobOutcome(outcome)
    if outcome == JobOutcome.RUNNING:
        raise ValueError("a finished run is ok or failed")
    result = session.exec(
        update(JobRun)
        .where(JobRun.job == job)  # type: ignore[arg-type]
        .where(JobRun.scheduled_for == _utc(scheduled_for))  # type: ignore[arg-type]
        .values(outcome=outcome.value, detail=detail, finished_at=utcnow())
    )
    if result.rowcount != 1:
        raise NotFound(f"no claimed run of {job} at {scheduled_for.isoformat()}")


def get_job_run(session: Session, *, job: str, scheduled_for: datetime) -> JobRun | None:
    return session.exec(
        select(JobRun)
        .where(JobRun.job == job)
        .where(JobRun.scheduled_for == _utc(scheduled_for))
        .execution_options(populate_existing=True)
    ).first()


def last_ok_run(session: Session, *, job: str) -> datetime | None:
    """When the latest run of `job` that ended ok was scheduled for (None: never)."""
    found = session.exec(
        select(func.max(JobRun.scheduled_for))
        .where(JobRun.job == job)
        .where(JobRun.outcome == JobOutcome.OK.value)
    ).one()
    if found is None:
        return None
    return found if found.tzinfo is not None else found.replace(tzinfo=UTC)


def last_job_runs(session: Session) -> dict[str, JobRun]:
    """The latest claimed run of each job (for `rewardbot jobs list`)."""
    latest = (
        select(JobRun.job, func.max(JobRun.scheduled_for).label("at"))
        .group_by(JobRun.job)
        .subquery()
    )
    rows = session.exec(
        select(JobRun).join(
            latest,
            (JobRun.job == latest.c.job) & (JobRun.scheduled_for == latest.c.at),  # type: ignore[arg-type]
        )
    ).all()
    return {run.job: run for run in rows}
