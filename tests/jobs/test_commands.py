"""The operators' side: `rewardbot jobs list` and `rewardbot jobs run NAME` (exit codes
included), `rewardbot clock` running the jobs in a process of its own, `serve --no-scheduler`,
the Procfile, and the registry's jobs firing at the same instants in every process."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
import time_machine
from apscheduler.triggers.cron import CronTrigger

from bot.cli import build_parser, main
from bot.commands.clock import run_clock
from bot.jobs import registry
from bot.jobs.base import JobContext, JobSpec
from bot.jobs.registry import JOBS, load_jobs
from bot.settings import load_settings
from bot.simulators.fakeslack import FakeSlack
from bot.simulators.plum_sandbox import SandboxServer
from storage import jobs as job_repo
from storage import store_from_settings
from storage.migrations import ensure_current
from tests.e2e.harness import ADMIN, BotHarness, message_text
from tests.jobs.support import T0

REPO = Path(__file__).resolve().parents[2]
MINE = {"expiry-reminders", "approval-nudges", "balance-alert", "token-upkeep", "in-doubt-report"}


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Callable[..., None]:
    """A clean environment in an empty directory (no .env); returns a setter."""
    monkeypatch.chdir(tmp_path)
    for name in list(os.environ):
        if name.startswith(("PLUM_", "SLACK_", "REWARD_", "DATABASE_URL")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'bot.db'}")

    def set_env(**values: str) -> None:
        for name, value in values.items():
            monkeypatch.setenv(name, value)

    return set_env


def bot_env(set_env: Callable[..., None], fake: FakeSlack, sandbox: SandboxServer) -> None:
    set_env(
        SLACK_BOT_TOKEN="xoxb-fake",
        SLACK_API_URL=fake.api_url,
        PLUM_BASE_URL=sandbox.base_url,
        PLUM_CLIENT_ID="sandbox",
        PLUM_CLIENT_SECRET="sandbox",
        PLUM_SENDER_EMAIL="people-ops@acme.test",
        REWARD_ADMINS=ADMIN,
        REWARD_LOW_BALANCE="500",
    )


# ── the registry ─────────────────────────────────────────────────────────────────────────


def test_every_job_is_registered_on_a_cron_trigger_in_the_teams_time_zone() -> None:
    assert set(JOBS) >= MINE
    settings = load_settings(DATABASE_URL="sqlite://", REWARD_TIMEZONE="Asia/Tokyo")
    for name, spec in JOBS.items():
        trigger = spec.trigger(settings)
        # a cron trigger fires at the same instants in every process (an interval would not)
        assert isinstance(trigger, CronTrigger), name
        assert str(trigger.timezone) == "Asia/Tokyo", name
        assert spec.misfire_grace >= timedelta(hours=1), name


def test_a_job_module_not_written_yet_is_left_out_but_a_broken_one_is_not(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert list(load_jobs(("not_written_yet", "balance_alert"))) == ["balance-alert"]

    def missing_dependency(name: str) -> None:
        raise ModuleNotFoundError("No module named 'matplotlib'", name="matplotlib")

    monkeypatch.setattr(registry.importlib, "import_module", missing_dependency)
    with pytest.raises(ModuleNotFoundError, match="matplotlib"):
        load_jobs(("weekly_summary",))


# ── rewardbot jobs list / run ────────────────────────────────────────────────────────────


def test_jobs_list_shows_schedule_last_and_next_run(
    env: Callable[..., None], capsys: pytest.CaptureFixture[str]
) -> None:
    env(REWARD_TIMEZONE="Europe/Berlin")
    assert main(["migrate"]) == 0  # `jobs list` only reads: the ledger must be there
    with time_machine.travel(datetime(2026, 3, 2, 7, 40, tzinfo=UTC), tick=False):
        assert main(["jobs", "list"]) == 0
        first = capsys.readouterr().out
        store = store_from_settings(load_settings())
        ensure_current(store.engine)
        at = datetime(2026, 3, 2, 7, 30, tzinfo=UTC)
        with store.session() as session:
            job_repo.claim_job_run(session, job="balance-alert", scheduled_for=at)
            job_repo.finish_job_run(
                session, job="balance-alert", scheduled_for=at, outcome="ok", detail="all good"
            )
        store.dispose()
        assert main(["jobs", "list"]) == 0
        second = capsys.readouterr().out
    assert "balance-alert" in first and "  last run  never" in first
    block = second.split("balance-alert", 1)[1].split("\n\n")[0]
    assert "  schedule  30 8 * * * (Europe/Berlin)" in block
    assert "  last run  2026-03-02 08:30 CET · ok · all good" in block
    assert "  next run  2026-03-03 08:30 CET" in block
    assert "  next run  2026-03-02 09:05 CET" in second.split("approval-nudges", 1)[1]


def test_jobs_run_runs_one_now_and_the_exit_code_says_how_it_went(
    env: Callable[..., None],
    fake: FakeSlack,
    sandbox: SandboxServer,
    capsys: pytest.CaptureFixture[str],
) -> None:
    bot_env(env, fake, sandbox)
    sandbox.state.set_balance(Decimal("120"))
    with time_machine.travel(T0 + timedelta(hours=1), tick=False):
        assert main(["jobs", "run", "balance-alert"]) == 0
        out = capsys.readouterr().out
        assert out == "balance-alert: ok: balance 120.00 INR is under 500.00 INR: told 1 admin(s)\n"
        (alert,) = fake.dms_to(ADMIN)
        assert "Xoxoday balance is low" in message_text(alert)
        # a second manual run in the same second is the same run: it does not run twice
        assert main(["jobs", "run", "balance-alert"]) == 1
        assert "not run" in capsys.readouterr().out
    sandbox.faults.update({"operations": {"getBalance": {"error": "PLE10023"}}})
    with time_machine.travel(T0 + timedelta(hours=2), tick=False):
        assert main(["jobs", "run", "balance-alert"]) == 1
    assert capsys.readouterr().out.startswith("balance-alert: failed: ")
    assert len(fake.dms_to(ADMIN)) == 1


def test_jobs_run_with_an_unknown_name_lists_the_names(
    env: Callable[..., None], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["jobs", "run", "weekly-sumary"]) == 2
    err = capsys.readouterr().err
    assert "no job named 'weekly-sumary'" in err
    assert all(name in err for name in MINE)


def test_jobs_run_needs_a_slack_token(
    env: Callable[..., None], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["jobs", "run", "balance-alert"]) == 2
    assert "SLACK_BOT_TOKEN" in capsys.readouterr().err


# ── rewardbot clock / serve ──────────────────────────────────────────────────────────────


def test_the_clock_runs_the_jobs_until_it_is_stopped(
    clock: time_machine.Coordinates, bot: BotHarness
) -> None:
    ran = threading.Event()

    def body(ctx: JobContext) -> str:
        ran.set()
        return "ticked"

    every_minute = JobSpec(
        name="every-minute",
        description="test",
        trigger=lambda s: CronTrigger(minute="*", timezone=s.REWARD_TIMEZONE),
        run=body,
        misfire_grace=timedelta(hours=1),
    )
    stop = threading.Event()
    thread = threading.Thread(
        target=run_clock, args=(bot.runtime,), kwargs={"stop": stop, "jobs": {"x": every_minute}}
    )
    thread.start()
    try:
        assert ran.wait(10)  # the minute just passed, caught up at start
    finally:
        stop.set()
        thread.join(10)
    assert not thread.is_alive()  # stopping waited for the run to be recorded
    with bot.runtime.store.read_session() as session:
        run = job_repo.last_job_runs(session)["every-minute"]
    assert run.outcome == "ok" and run.detail == "ticked"
    assert bot.runtime.home_refresher is not None  # App Homes follow what jobs change


def test_serve_runs_the_scheduler_unless_told_not_to() -> None:
    parser = build_parser()
    assert parser.parse_args(["serve"]).no_scheduler is False
    assert parser.parse_args(["serve", "--no-scheduler"]).no_scheduler is True
    assert parser.parse_args(["clock"]).func.__module__ == "bot.commands.clock"


def test_the_procfile_has_a_clock_process() -> None:
    lines = (REPO / "Procfile").read_text().splitlines()
    assert "clock: rewardbot clock" in lines
    assert any(line.startswith("web: rewardbot serve") for line in lines)
