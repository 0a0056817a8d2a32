"""The scheduled jobs, by name, and what operators do with them: list them, run one now.

`JOBS` maps each job's name to its `JobSpec`, in the order `rewardbot jobs list` shows them. A job
module that is not there (yet) is left out; any other import error is raised.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from types import MappingProxyType
from typing import TYPE_CHECKING

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger

from bot.jobs.base import JobSpec
from bot.jobs.scheduler import RunResult, execute, next_fire_time, process_name
from bot.settings import Settings
from storage import jobs as job_repo
from storage.db import read_session
from storage.models import JobRun
from storage.types import utcnow

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from bot.runtime import Runtime

JOB_MODULES = (
    "weekly_summary",
    "expiry_reminders",
    "points_expiry",
    "points_verify",
    "approval_nudges",
    "balance_alert",
    "token_upkeep",
    "in_doubt_report",
    "audit_anchor",
    "reconcile",
    "order_status",
    "flags",
    "celebrations",
    "celebration_profiles",
)


def load_jobs(modules: tuple[str, ...] = JOB_MODULES) -> dict[str, JobSpec]:
    found: dict[str, JobSpec] = {}
    for module_name in modules:
        qualified = f"bot.jobs.{module_name}"
        try:
            module = importlib.import_module(qualified)
        except ModuleNotFoundError as err:
            if err.name == qualified:
                continue  # not written yet
            raise
        spec = module.JOB
        if not isinstance(spec, JobSpec):
            raise TypeError(f"{qualified}.JOB must be a JobSpec")
        if spec.name in found:
            raise ValueError(f"two jobs are named {spec.name!r}")
        found[spec.name] = spec
    return found


JOBS: Mapping[str, JobSpec] = MappingProxyType(load_jobs())


class UnknownJob(LookupError):
    """No job has that name; the message lists the names there are."""

    def __init__(self, name: str, known: Mapping[str, JobSpec]) -> None:
        self.name = name
        names = ", ".join(known) or "(none)"
        super().__init__(f"there is no job named {name!r}; the jobs are: {names}")


def get_job(name: str, *, jobs: Mapping[str, JobSpec] = JOBS) -> JobSpec:
    spec = jobs.get(name.strip())
    if spec is None:
        raise UnknownJob(name, jobs)
    return spec


def run_now(
    runtime: Runtime,
    name: str,
    *,
    jobs: Mapping[str, JobSpec] = JOBS,
    now: datetime | None = None,
) -> RunResult:
    """Run job `name` now (operators, tests). The run is claimed for the current second, so two
    manual runs in the same second run once. Raises UnknownJob."""
    spec = get_job(name, jobs=jobs)
    moment = (now or utcnow()).astimezone(UTC).replace(microsecond=0)
    return execute(runtime, spec, scheduled_for=moment, manual=True, claimed_by=process_name())


# ── `rewardbot jobs list` ────────────────────────────────────────────────────────────────


@dataclass(frozen=True, slots=True)
class JobStatus:
    name: str
    description: str
    schedule: str
    last_run: JobRun | None
    next_run: datetime | None


def schedule_text(trigger: BaseTrigger) -> str:
    """`0 9 * * mon (Europe/Berlin)` for a cron trigger (seconds shown when not 0)."""
    if not isinstance(trigger, CronTrigger):
        return str(trigger)
    fields = {field.name: str(field) for field in trigger.fields}
    line = " ".join(fields[k] for k in ("minute", "hour", "day", "month", "day_of_week"))
    if fields.get("second", "0") != "0":
        line = f"{fields['second']} {line}"
    return f"{line} ({trigger.timezone})"


def job_statuses(
    *,
    settings: Settings,
    ledger: Engine,
    jobs: Mapping[str, JobSpec] = JOBS,
    now: datetime | None = None,
) -> list[JobStatus]:
    """Each job with its schedule, its latest run in the ledger and its next scheduled time
    (`ledger` may be read-only: `storage.existing.existing_ledger`)."""
    moment = now or utcnow()
    with read_session(ledger) as session:
        last = job_repo.last_job_runs(session)
    statuses = []
    for name, spec in jobs.items():
        trigger = spec.trigger(settings)
        statuses.append(
            JobStatus(
                name=name,
                description=spec.description,
                schedule=schedule_text(trigger),
                last_run=last.get(name),
                next_run=next_fire_time(trigger, now=moment),
            )
        )
    return statuses
