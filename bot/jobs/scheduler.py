"""The scheduler: APScheduler 3.x in this process, each run claimed once across all processes.

Every process that runs a scheduler (`rewardbot serve`, `rewardbot clock`) keeps its own
in-memory APScheduler job store, never a shared one. What makes a run happen once is the ledger:
before a job does anything, `execute` claims `(job, scheduled_for)` in the job-runs table in a
transaction of its own; only the process that wins runs it, and records how it ended (`ok` or
`failed` with a one-line account). A job that raises is logged with a short ref and recorded as
failed; the scheduler carries on.

Missed runs: APScheduler coalesces runs missed while this process was busy into one, and skips a
run missed by more than its JobSpec's `misfire_grace`. After downtime, `start()` looks at each
job's most recent scheduled time; if it lies within the grace and nobody has claimed it, it runs
now (claimed like any run, so several processes starting together run it once). Only the most
recent missed time is run: missed runs coalesce into one.

Triggers must fire at the same instants in every process (cron triggers do; an interval trigger
counts from when it was made, so two processes would claim different times).
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import threading
from collections.abc import Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from apscheduler.executors.pool import ThreadPoolExecutor as APThreadPoolExecutor
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.base import BaseTrigger

from bot import logs
from bot.jobs.base import JobContext, JobSpec
from storage import jobs as job_repo
from storage.states import JobOutcome
from storage.types import utcnow

if TYPE_CHECKING:
    from bot.runtime import Runtime

log = logging.getLogger(__name__)

# A fired job looks back this much beyond its grace for the time it was scheduled for (the
# executor may start it a moment after APScheduler's misfire check).
FIRE_LOOKBACK_MARGIN = timedelta(minutes=5)
DETAIL_MAX = 500
EXECUTOR_THREADS = 4


class JobFailed(Exception):
    """A job's own account of why it failed (e.g. some DMs could not be sent after the ledger
    changed). Its message is written by the job, safe to record, and becomes the run's detail."""


@dataclass(frozen=True, slots=True)
class RunResult:
    """How one attempt at a run went. `claimed` is False when another process (or an earlier
    attempt) already had this run: nothing was done and `outcome` is None (or `failed` when the
    claim itself could not be made, e.g. the database was unreachable)."""

    job: str
    scheduled_for: datetime
    claimed: bool
    outcome: JobOutcome | None = None
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.outcome == JobOutcome.OK


def process_name() -> str:
    """Who claims runs: host, pid and a random tag (a restarted pid is another claimer)."""
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{secrets.token_hex(3)}"


def fire_times(
    trigger: BaseTrigger, *, since: datetime, until: datetime, limit: int = 10_000
) -> list[datetime]:
    """The instants `trigger` fires in [since, until], oldest first (at most `limit`)."""
    found: list[datetime] = []
    moment = trigger.get_next_fire_time(None, since)
    while moment is not None and moment <= until and len(found) < limit:
        found.append(moment)
        moment = trigger.get_next_fire_time(moment, moment + timedelta(microseconds=1))
    return found


def latest_fire_time(trigger: BaseTrigger, *, now: datetime, within: timedelta) -> datetime | None:
    """The most recent instant `trigger` fired at in [now - within, now], in UTC; None if none."""
    times = fire_times(trigger, since=now - within, until=now)
    return times[-1].astimezone(UTC) if times else None


def next_fire_time(trigger: BaseTrigger, *, now: datetime) -> datetime | None:
    moment = trigger.get_next_fire_time(None, now)
    return None if moment is None else moment.astimezone(UTC)


def _one_line(text: str) -> str:
    line = " ".join(text.split())
    return line if len(line) <= DETAIL_MAX else line[: DETAIL_MAX - 1] + "…"


def execute(
    runtime: Runtime,
    spec: JobSpec,
    *,
    scheduled_for: datetime,
    manual: bool = False,
    claimed_by: str | None = None,
) -> RunResult:
    """Claim (spec.name, scheduled_for), run it if this call won, record the outcome. Never
    raises because of the job: a failure is logged with a ref and recorded as `failed`. Every
    line logged meanwhile names the job; the run is counted for /metrics by its outcome."""
    with logs.bound(job=spec.name):
        result = _execute(
            runtime, spec, scheduled_for=scheduled_for, manual=manual, claimed_by=claimed_by
        )
    runtime.metrics.job_run(spec.name, result.outcome.value if result.outcome else "elsewhere")
    return result


def _execute(
    runtime: Runtime,
    spec: JobSpec,
    *,
    scheduled_for: datetime,
    manual: bool,
    claimed_by: str | None,
) -> RunResult:
    scheduled_for = scheduled_for.astimezone(UTC)
    store = runtime.store
    with store.session() as session:
        won = job_repo.claim_job_run(
            session, job=spec.name, scheduled_for=scheduled_for, claimed_by=claimed_by
        )
    if not won:
        log.debug("job %s at %s: claimed elsewhere", spec.name, scheduled_for.isoformat())
        return RunResult(job=spec.name, scheduled_for=scheduled_for, claimed=False)
    started = utcnow()
    try:
        detail = _one_line(
            spec.run(JobContext(runtime=runtime, scheduled_for=scheduled_for, manual=manual))
            or "done"
        )
        outcome = JobOutcome.OK
        log.info(
            "job %s (%s) ok in %.1fs: %s",
            spec.name,
            scheduled_for.isoformat(),
            (utcnow() - started).total_seconds(),
            detail,
        )
    except Exception as err:
        ref = secrets.token_hex(4)
        # Another exception's text could carry what must not reach the ledger: its type only.
        said = _one_line(str(err)) if isinstance(err, JobFailed) else type(err).__name__
        detail = f"failed: {said} (ref {ref})"
        outcome = JobOutcome.FAILED
        log.exception(
            "job %s (%s) failed (ref %s)",
            spec.name,
            scheduled_for.isoformat(),
            ref,
            extra={"ref": ref},
        )
    try:
        with store.session() as session:
            job_repo.finish_job_run(
                session,
                job=spec.name,
                scheduled_for=scheduled_for,
                outcome=outcome,
                detail=detail,
            )
    except Exception:
        log.exception("job %s: could not record how the run ended", spec.name)
    return RunResult(
        job=spec.name, scheduled_for=scheduled_for, claimed=True, outcome=outcome, detail=detail
    )


class JobScheduler:
    """Runs `jobs` on their triggers in this process; see the module docstring."""

    def __init__(
        self,
        *,
        runtime: Runtime,
        jobs: Mapping[str, JobSpec],
        claimed_by: str | None = None,
        threads: int = EXECUTOR_THREADS,
    ) -> None:
        self._runtime = runtime
        self._specs = dict(jobs)
        self._claimed_by = claimed_by or process_name()
        self._tz = ZoneInfo(runtime.settings.REWARD_TIMEZONE)
        self._triggers = {name: spec.trigger(runtime.settings) for name, spec in jobs.items()}
        self._threads = max(1, threads)
        self._scheduler: BackgroundScheduler | None = None
        self._catch_up_pool: ThreadPoolExecutor | None = None
        self._catch_ups: list[Future[RunResult]] = []
        self._lock = threading.Lock()

    @property
    def running(self) -> bool:
        return self._scheduler is not None and self._scheduler.running

    @property
    def claimed_by(self) -> str:
        return self._claimed_by

    def start(self, *, now: datetime | None = None) -> list[tuple[str, datetime]]:
        """Schedule every job, then run each job's missed run that is still within its grace
        (in the background). Returns the (job, scheduled time) catch-ups that were started."""
        with self._lock:
            if self._scheduler is not None:
                raise RuntimeError("the scheduler is already running")
            aps_log = logging.getLogger("apscheduler")
            if aps_log.level == logging.NOTSET:
                aps_log.setLevel(logging.WARNING)  # our own lines say what ran (and misfires show)
            scheduler = BackgroundScheduler(
                jobstores={"default": MemoryJobStore()},  # never shared between processes
                executors={"default": APThreadPoolExecutor(self._threads)},
                job_defaults={"coalesce": True, "max_instances": 1},
                timezone=self._tz,
            )
            for name, spec in self._specs.items():
                scheduler.add_job(
                    self._fire,
                    trigger=self._triggers[name],
                    args=(name,),
                    id=name,
                    name=name,
                    coalesce=True,
                    max_instances=1,
                    misfire_grace_time=max(1, int(spec.misfire_grace.total_seconds())),
                    replace_existing=True,
                )
            scheduler.start()
            self._scheduler = scheduler
            self._catch_up_pool = ThreadPoolExecutor(
                max_workers=self._threads, thread_name_prefix="jobs-catch-up"
            )
        started = self._catch_up(now or utcnow())
        log.info(
            "scheduler started with %d job(s) in %s as %s",
            len(self._specs),
            self._tz.key,
            self._claimed_by,
        )
        return started

    def stop(self, *, wait: bool = True) -> None:
        """Stop scheduling; with `wait`, let runs in progress finish first."""
        with self._lock:
            scheduler, self._scheduler = self._scheduler, None
            pool, self._catch_up_pool = self._catch_up_pool, None
        if scheduler is not None and scheduler.running:
            scheduler.shutdown(wait=wait)
        if pool is not None:
            pool.shutdown(wait=wait, cancel_futures=not wait)

    def wait_catch_up(self, timeout: float | None = None) -> list[RunResult]:
        """Wait for the catch-up runs `start` began; their results."""
        return [future.result(timeout=timeout) for future in list(self._catch_ups)]

    def next_run_times(self) -> dict[str, datetime | None]:
        now = utcnow()
        return {name: next_fire_time(t, now=now) for name, t in self._triggers.items()}

    # --- internals ----------------------------------------------------------------------------

    def _catch_up(self, now: datetime) -> list[tuple[str, datetime]]:
        pool = self._catch_up_pool
        assert pool is not None
        started: list[tuple[str, datetime]] = []
        self._catch_ups = []
        for name, spec in self._specs.items():
            missed = latest_fire_time(self._triggers[name], now=now, within=spec.misfire_grace)
            if missed is None:
                continue
            with self._runtime.store.read_session() as session:
                if job_repo.get_job_run(session, job=name, scheduled_for=missed) is not None:
                    continue
            log.info(
                "job %s: running the missed run of %s",
                name,
                missed.isoformat(),
                extra={"job": name},
            )
            self._catch_ups.append(pool.submit(self._run, name, missed))
            started.append((name, missed))
        # Nothing else is ever given to this pool: its threads end with the last missed run
        # instead of waiting, idle, as long as the process lives (`stop` still joins them).
        pool.shutdown(wait=False)
        return started

    def _fire(self, name: str) -> None:
        """APScheduler's callback: find the time this run was scheduled for, then execute."""
        spec = self._specs[name]
        now = utcnow()
        scheduled_for = latest_fire_time(
            self._triggers[name], now=now, within=spec.misfire_grace + FIRE_LOOKBACK_MARGIN
        )
        if scheduled_for is None:  # pragma: no cover - APScheduler fired outside the grace
            log.warning("job %s fired at %s with no scheduled time near", name, now.isoformat())
            return
        self._run(name, scheduled_for)

    def _run(self, name: str, scheduled_for: datetime) -> RunResult:
        try:
            return execute(
                self._runtime,
                self._specs[name],
                scheduled_for=scheduled_for,
                claimed_by=self._claimed_by,
            )
        except Exception:  # the claim itself failed (database down): log, keep scheduling
            ref = secrets.token_hex(4)
            log.exception(
                "job %s: could not claim its run (ref %s)",
                name,
                ref,
                extra={"ref": ref, "job": name},
            )
            self._runtime.metrics.job_run(name, "unclaimed")
            return RunResult(
                job=name,
                scheduled_for=scheduled_for,
                claimed=False,
                outcome=JobOutcome.FAILED,
                detail=f"could not claim (ref {ref})",
            )
