"""The scheduler's promise: however many processes schedule a job, each scheduled run happens
once; missed runs coalesce into one; a run missed by less than its grace still happens at start,
one missed by more does not; a failing job is recorded and the scheduler carries on. On SQLite
and PostgreSQL, each "process" with an engine of its own."""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from apscheduler.triggers.cron import CronTrigger
from sqlmodel import select

from bot.jobs.base import JobContext, JobSpec
from bot.jobs.scheduler import JobFailed, JobScheduler, execute, latest_fire_time
from bot.logs import BoundFields
from bot.metrics import Metrics
from bot.settings import Settings, load_settings
from storage.db import Store, make_engine
from storage.models import JobRun
from tests.storage import support
from tests.storage.support import TestDatabase, ledger_database

BERLIN = ZoneInfo("Europe/Berlin")
MONDAY_9 = datetime(2026, 3, 2, 9, 0, tzinfo=BERLIN)  # a weekly summary's slot
BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
]


@pytest.fixture(params=BACKENDS)
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[TestDatabase]:
    pg_url = request.getfixturevalue("pg_url") if request.param == "postgresql" else None
    with ledger_database(request.param, tmp_path=tmp_path, pg_url=pg_url) as database:
        yield database


@dataclass
class Process:
    """What the scheduler reads from a Runtime: the settings and a store (an engine of its
    own, as a separate process would have)."""

    settings: Settings
    store: Store
    metrics: Metrics = field(default_factory=Metrics)


@pytest.fixture
def processes(db: TestDatabase) -> Iterator[Callable[[], Any]]:
    made: list[Store] = []

    def make() -> Any:
        store = Store(engine=make_engine(db.url), keys=support.test_keys())
        made.append(store)
        settings = load_settings(DATABASE_URL="sqlite://", REWARD_TIMEZONE="Europe/Berlin")
        return Process(settings=settings, store=store)

    yield make
    for store in made:
        store.dispose()


def job_runs(process: Process, job: str) -> dict[str, float]:
    """`rewardbot_job_runs_total` of `job` in this process, by outcome (what /metrics shows)."""
    counts: dict[str, float] = {}
    for family in process.metrics.registry.collect():
        for sample in family.samples:
            if sample.name == "rewardbot_job_runs_total" and sample.labels["job"] == job:
                counts[sample.labels["outcome"]] = sample.value
    return counts


class Recorder:
    """A job body that remembers each scheduled time it ran for (thread-safe)."""

    def __init__(self, *, error: Exception | None = None) -> None:
        self.error = error
        self.calls: list[datetime] = []
        self._lock = threading.Lock()

    def __call__(self, ctx: JobContext) -> str:
        with self._lock:
            self.calls.append(ctx.scheduled_for)
        if self.error is not None:
            raise self.error
        return f"ran for {ctx.scheduled_for:%H:%M:%S %Z}"


def spec(name: str, run: Callable[[JobContext], str], grace: timedelta, **cron: Any) -> JobSpec:
    return JobSpec(
        name=name,
        description=f"test job {name}",
        trigger=lambda s: CronTrigger(timezone=s.REWARD_TIMEZONE, **cron),
        run=run,
        misfire_grace=grace,
    )


def runs(store: Store, job: str) -> list[JobRun]:
    with store.read_session() as session:
        found = session.exec(select(JobRun).where(JobRun.job == job)).all()
    return sorted(found, key=lambda r: r.scheduled_for)


def weekly(recorder: Recorder) -> JobSpec:
    return spec("weekly", recorder, timedelta(days=1), day_of_week="mon", hour=9, minute=0)


# ── the trigger's times ──────────────────────────────────────────────────────────────────


def test_the_latest_fire_time_is_found_within_a_window_only() -> None:
    trigger = CronTrigger(day_of_week="mon", hour=9, minute=0, timezone=BERLIN)
    tuesday_8 = MONDAY_9 + timedelta(hours=23)
    assert latest_fire_time(trigger, now=tuesday_8, within=timedelta(days=1)) == MONDAY_9
    assert latest_fire_time(trigger, now=tuesday_8, within=timedelta(hours=22)) is None
    assert latest_fire_time(trigger, now=MONDAY_9, within=timedelta(0)) == MONDAY_9


# ── one run per scheduled time ───────────────────────────────────────────────────────────


def test_a_run_happens_once_and_its_outcome_is_recorded(processes: Callable[[], Any]) -> None:
    process = processes()
    recorder = Recorder()
    job = weekly(recorder)
    first = execute(process, job, scheduled_for=MONDAY_9, claimed_by="p1")
    again = execute(process, job, scheduled_for=MONDAY_9.astimezone(UTC), claimed_by="p2")
    assert first.claimed and first.ok and first.detail == "ran for 08:00:00 UTC"
    assert not again.claimed and again.outcome is None
    assert recorder.calls == [MONDAY_9]
    (row,) = runs(process.store, "weekly")
    assert (row.outcome, row.detail, row.claimed_by) == ("ok", "ran for 08:00:00 UTC", "p1")
    assert row.finished_at is not None
    assert job_runs(process, "weekly") == {"ok": 1.0, "elsewhere": 1.0}  # GET /metrics


def test_many_processes_racing_for_one_run_run_it_once(processes: Callable[[], Any]) -> None:
    recorder = Recorder()
    job = weekly(recorder)
    racers = [processes() for _ in range(4)]
    start = threading.Barrier(len(racers) * 2)
    results: list[Any] = []

    def race(process: Any) -> None:
        start.wait()
        results.append(execute(process, job, scheduled_for=MONDAY_9))

    threads = [threading.Thread(target=race, args=(p,)) for p in racers * 2]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(results) == 8
    assert sum(r.claimed for r in results) == 1
    assert recorder.calls == [MONDAY_9]


def test_a_failing_job_is_recorded_with_a_ref_and_nothing_from_its_error(
    processes: Callable[[], Any], caplog: pytest.LogCaptureFixture
) -> None:
    process = processes()
    secret = "xoxb-123-never-in-the-ledger"
    leaky = spec("leaky", Recorder(error=RuntimeError(secret)), timedelta(hours=1), minute=0)
    caplog.handler.addFilter(BoundFields())  # as the bot's own handler has (bot.logs)
    with caplog.at_level(logging.ERROR):
        result = execute(process, leaky, scheduled_for=MONDAY_9)
    assert result.claimed and not result.ok
    assert result.detail.startswith("failed: RuntimeError (ref ")
    assert secret not in result.detail
    ref = result.detail.rsplit("ref ", 1)[1].rstrip(")")
    assert any(ref in r.getMessage() for r in caplog.records)  # the log has the ref …
    (failure,) = [r for r in caplog.records if ref in r.getMessage()]
    assert (getattr(failure, "ref", None), getattr(failure, "job", None)) == (ref, "leaky")
    assert job_runs(process, "leaky") == {"failed": 1.0}
    (row,) = runs(process.store, "leaky")
    assert row.outcome == "failed" and row.detail == result.detail  # … the ledger the same line

    told = spec("told", Recorder(error=JobFailed("2 givers could not be told")), timedelta(1))
    result = execute(process, told, scheduled_for=MONDAY_9)
    assert result.detail.startswith("failed: 2 givers could not be told (ref ")


def test_two_schedulers_firing_the_same_jobs_run_each_time_once(
    processes: Callable[[], Any],
) -> None:
    """Two "processes" schedule a job every second, and a job that always fails: each second
    runs once, in one of them, and the failures don't stop either scheduler."""
    tick, boom = Recorder(), Recorder(error=RuntimeError("boom"))
    jobs = {
        "tick": spec("tick", tick, timedelta(seconds=30), second="*"),
        "boom": spec("boom", boom, timedelta(seconds=30), second="*"),
    }
    first, second = processes(), processes()
    schedulers = [
        JobScheduler(runtime=first, jobs=jobs, claimed_by="first"),
        JobScheduler(runtime=second, jobs=jobs, claimed_by="second"),
    ]
    for scheduler in schedulers:
        scheduler.start()
    try:
        deadline = time.monotonic() + 10
        while len(runs(first.store, "tick")) < 3 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert all(s.running for s in schedulers)
    finally:
        for scheduler in schedulers:
            scheduler.stop()
    ticks = runs(first.store, "tick")
    assert len(ticks) >= 3
    assert Counter(tick.calls).most_common(1)[0][1] == 1  # no second ran twice
    assert sorted(tick.calls) == [r.scheduled_for for r in ticks]
    assert all(r.outcome == "ok" for r in ticks)
    assert {r.claimed_by for r in ticks} <= {"first", "second"}
    booms = runs(second.store, "boom")
    assert len(booms) >= 2 and all(r.outcome == "failed" for r in booms)
    assert Counter(boom.calls).most_common(1)[0][1] == 1


# ── after downtime ───────────────────────────────────────────────────────────────────────


def test_a_weekly_run_missed_by_less_than_its_grace_runs_once_when_processes_start(
    processes: Callable[[], Any],
) -> None:
    recorder = Recorder()
    jobs = {"weekly": weekly(recorder)}
    started_together = [processes() for _ in range(3)]
    several = [JobScheduler(runtime=p, jobs=jobs) for p in started_together]
    with time_machine.travel(MONDAY_9 + timedelta(hours=23), tick=True):
        started = [s.start() for s in several]
        try:
            results = [r for s in several for r in s.wait_catch_up(timeout=30)]
        finally:
            for scheduler in several:
                scheduler.stop()
    assert started[0] == [("weekly", MONDAY_9)]  # the first to look found it unclaimed
    assert recorder.calls == [MONDAY_9]
    assert sum(r.claimed for r in results) == 1
    (row,) = runs(started_together[0].store, "weekly")
    assert row.scheduled_for == MONDAY_9 and row.outcome == "ok"


def test_the_threads_that_ran_the_missed_runs_end_with_them(
    processes: Callable[[], Any],
) -> None:
    recorder = Recorder()
    jobs = {
        name: spec(name, recorder, timedelta(hours=6), minute=minute)
        for name, minute in (("first", 0), ("second", 5), ("third", 10))
    }
    scheduler = JobScheduler(runtime=processes(), jobs=jobs)

    def catching_up() -> list[threading.Thread]:
        return [t for t in threading.enumerate() if t.name.startswith("jobs-catch-up")]

    with time_machine.travel(datetime(2026, 3, 2, 8, 30, tzinfo=BERLIN), tick=True):
        try:
            assert len(scheduler.start()) == 3
            scheduler.wait_catch_up(timeout=30)
            deadline = time.monotonic() + 10
            while catching_up() and time.monotonic() < deadline:
                time.sleep(0.05)
            assert catching_up() == []
            assert scheduler.running  # the schedule itself goes on
        finally:
            scheduler.stop()
    assert len(recorder.calls) == 3


def test_a_weekly_run_missed_by_more_than_its_grace_is_skipped(
    processes: Callable[[], Any],
) -> None:
    recorder = Recorder()
    process = processes()
    scheduler = JobScheduler(runtime=process, jobs={"weekly": weekly(recorder)})
    with time_machine.travel(MONDAY_9 + timedelta(hours=25), tick=True):
        started = scheduler.start()
        scheduler.stop()
    assert started == []
    assert recorder.calls == []
    assert runs(process.store, "weekly") == []


def test_a_run_already_claimed_is_not_run_again_at_start(processes: Callable[[], Any]) -> None:
    recorder = Recorder()
    process = processes()
    execute(process, weekly(recorder), scheduled_for=MONDAY_9)  # before the restart
    scheduler = JobScheduler(runtime=process, jobs={"weekly": weekly(recorder)})
    with time_machine.travel(MONDAY_9 + timedelta(hours=2), tick=True):
        started = scheduler.start()
        scheduler.stop()
    assert started == []
    assert recorder.calls == [MONDAY_9]


def test_missed_runs_coalesce_into_the_latest_one(processes: Callable[[], Any]) -> None:
    """Down from 08:10 to 13:30: the hourly job runs once, for 13:00, not five times."""
    recorder = Recorder()
    process = processes()
    hourly = spec("hourly", recorder, timedelta(hours=6), minute=0)
    at_8 = datetime(2026, 3, 2, 8, 0, tzinfo=BERLIN)
    execute(process, hourly, scheduled_for=at_8)
    scheduler = JobScheduler(runtime=process, jobs={"hourly": hourly})
    with time_machine.travel(at_8 + timedelta(hours=5, minutes=30), tick=True):
        scheduler.start()
        scheduler.wait_catch_up(timeout=30)
        scheduler.stop()
    assert recorder.calls == [at_8, at_8 + timedelta(hours=5)]
    assert [r.scheduled_for for r in runs(process.store, "hourly")] == recorder.calls
