"""`rewardbot jobs list` and `rewardbot jobs run NAME`: the scheduled jobs, for operators.

`list` shows each job, its schedule, its last run (from the ledger's job-runs table) and its next
scheduled time, in REWARD_TIMEZONE; it only reads (a ledger that is not there is named, exit 1,
never created). `run NAME` runs one now in this process, claimed like any run (two manual runs
in the same second run once); the exit code is 0 when it ran and ended ok, 1 when it failed or
someone else had the run, 2 for an unknown name or bad settings.
"""

from __future__ import annotations

import argparse
import sys
from datetime import datetime
from typing import TYPE_CHECKING, TextIO
from zoneinfo import ZoneInfo

from bot.commands import state_dir
from bot.settings import Settings, load_settings

if TYPE_CHECKING:
    from sqlalchemy import Engine

HOME_REFRESH_WAIT_SECONDS = 10.0


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "jobs",
        help="list the scheduled jobs, or run one now",
        description="The scheduled jobs: list them (schedule, last and next run) or run one now.",
    )
    sub = parser.add_subparsers(dest="jobs_command", metavar="ACTION", required=True)
    listing = sub.add_parser("list", help="each job, its schedule, last run and next run")
    state_dir.add_flag(listing)
    listing.set_defaults(func=run_list)
    once = sub.add_parser("run", help="run one job now (exit 1 if it fails)")
    once.add_argument("name", metavar="NAME", help="the job's name, as `jobs list` shows it")
    once.set_defaults(func=run_one)


def _moment(when: datetime | None, tz: ZoneInfo) -> str:
    if when is None:
        return "never"
    local = when.astimezone(tz)
    return f"{local:%Y-%m-%d %H:%M} {local.tzname() or tz.key}"


def print_statuses(settings: Settings, ledger: Engine, out: TextIO | None = None) -> None:
    out = out or sys.stdout  # looked up now: pytest and others swap it
    from bot.jobs.registry import job_statuses

    tz = ZoneInfo(settings.REWARD_TIMEZONE)
    statuses = job_statuses(settings=settings, ledger=ledger)
    if not statuses:
        print("no jobs are registered", file=out)
        return
    width = max(len(s.name) for s in statuses) + 2
    for status in statuses:
        print(f"{status.name:<{width}}{status.description}", file=out)
        run = status.last_run
        if run is None:
            last = "never"
        elif run.outcome == "running":
            last = f"{_moment(run.scheduled_for, tz)} · running since {_moment(run.claimed_at, tz)}"
        else:
            last = f"{_moment(run.scheduled_for, tz)} · {run.outcome}"
            if run.detail:
                last += f" · {run.detail}"
        print(f"  schedule  {status.schedule}", file=out)
        print(f"  last run  {last}", file=out)
        print(f"  next run  {_moment(status.next_run, tz)}", file=out)


def run_list(args: argparse.Namespace) -> int:
    from storage.errors import DatabaseNotReady
    from storage.existing import NoLedger, existing_ledger

    settings = state_dir.settings_for(args)
    try:
        with existing_ledger(settings.DATABASE_URL) as ledger:
            print_statuses(settings, ledger)
    except NoLedger as err:  # only read: nothing is created
        print(f"rewardbot: {err}", file=sys.stderr)
        return 1
    except DatabaseNotReady as err:
        print(f"rewardbot: {err}", file=sys.stderr)
        return 2
    return 0


def run_one(args: argparse.Namespace) -> int:
    from bot.commands.running import start_for
    from bot.jobs.registry import UnknownJob, get_job, run_now
    from storage.errors import DatabaseNotReady

    settings = load_settings()
    try:
        spec = get_job(args.name)
    except UnknownJob as err:
        print(f"rewardbot: {err}", file=sys.stderr)
        return 2
    try:
        bot = start_for(
            settings,
            command="jobs run",
            slack_requests=False,
            worker=False,
            anchor=False,
            watch_audit=True,  # what the job appends is anchored as it stops
        )
    except DatabaseNotReady as err:
        print(f"rewardbot: {err}", file=sys.stderr)
        return 2
    try:
        result = run_now(bot.runtime, spec.name)
        bot.runtime.home_refresher.wait_idle(HOME_REFRESH_WAIT_SECONDS)  # what the job changed
    finally:
        bot.stop()
    if not result.claimed:
        print(f"{spec.name}: not run: {result.detail or 'another run claimed this second'}")
        return 1
    print(f"{spec.name}: {result.outcome}: {result.detail}")
    return 0 if result.ok else 1
