"""The scheduled jobs, as far as the playground needs them: their names, "run now", and the
runs that fell due while the playground's clock jumped.

The registry (`bot.jobs.registry`: `JOBS` and `run_now(runtime, name)`) is optional here: when
a build has no registry, the playground shows no jobs control.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import ModuleType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.runtime import Runtime

REGISTRY = "bot.jobs.registry"
LOOK_BACK = (timedelta(hours=2), timedelta(days=2), timedelta(days=9), None)


@dataclass(frozen=True, slots=True)
class JobInfo:
    name: str
    description: str


def _registry() -> ModuleType | None:
    try:
        return importlib.import_module(REGISTRY)
    except ModuleNotFoundError as err:
        if err.name in (REGISTRY, "bot.jobs"):
            return None
        raise


def available_jobs() -> list[JobInfo] | None:
    """The jobs in the registry, or None when this build has no registry."""
    registry = _registry()
    if registry is None:
        return None
    jobs: Any = getattr(registry, "JOBS", ())
    specs = list(jobs.values()) if isinstance(jobs, Mapping) else list(jobs)
    return [
        JobInfo(name=str(s.name), description=str(getattr(s, "description", ""))) for s in specs
    ]


def run_job(runtime: Runtime, name: str) -> str:
    """Run one job now; its one-line account of what it did. KeyError for an unknown name."""
    registry = _registry()
    if registry is None:
        raise KeyError(name)
    known = {job.name for job in available_jobs() or []}
    if name not in known:
        raise KeyError(name)
    return describe(registry.run_now(runtime, name))


def describe(result: Any) -> str:
    """One line for the page from what `run_now` returned (a RunResult, or a string)."""
    if result is None or isinstance(result, str):
        return result or "done"
    if getattr(result, "claimed", True) is False:
        return "this job already ran this second: try again in a moment"
    detail = str(getattr(result, "detail", "") or "")
    outcome = getattr(result, "outcome", None)
    if outcome is not None and not getattr(result, "ok", True) and "fail" not in detail:
        detail = f"failed: {detail}" if detail else "failed"
    return detail or "done"


@dataclass(frozen=True, slots=True)
class DueRun:
    name: str
    scheduled_for: datetime
    result: str  # its one-line account


def run_due(runtime: Runtime, *, since: datetime, until: datetime) -> list[DueRun]:
    """Run each job whose schedule fell in (since, until], once, for its latest time (runs
    missed in between coalesce into it, as the scheduler's catch-up does), oldest first;
    each claimed like a scheduled run. None without a registry."""
    registry = _registry()
    if registry is None:
        return []
    from bot.jobs.scheduler import execute, fire_times, process_name

    def latest(trigger: Any) -> datetime | None:
        start = since + timedelta(microseconds=1)
        for window in LOOK_BACK:  # near `until` first: an hourly job over a year is 8,760 runs
            begin = max(start, until - window) if window is not None else start
            times = fire_times(trigger, since=begin, until=until)
            if times:
                return times[-1]
            if begin == start:
                return None
        return None

    due: list[tuple[datetime, Any]] = []
    for spec in registry.JOBS.values():
        when = latest(spec.trigger(runtime.settings))
        if when is not None:
            due.append((when, spec))
    claimer = process_name()
    ran = []
    for when, spec in sorted(due, key=lambda d: d[0]):
        result = execute(runtime, spec, scheduled_for=when, claimed_by=claimer)
        ran.append(DueRun(name=str(spec.name), scheduled_for=when, result=describe(result)))
    return ran
