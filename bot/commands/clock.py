"""`rewardbot clock`: a process that only runs the scheduled jobs (the Procfile's `clock:` line).

It serves no Slack requests and runs no delivery worker, and it does not recover rewards left in
`sending` at start: delivering and recovering belong to the web processes (`rewardbot serve`),
which would otherwise race with it. Jobs never queue rewards, so nothing here needs the worker;
what the jobs change still reaches people's App Homes. Each run is claimed in the ledger, so a
clock beside `serve` processes that also schedule (the default) runs every job once; give extra
web processes `--no-scheduler` to keep the scheduling in one place. Stops on SIGTERM or Ctrl-C.
"""

from __future__ import annotations

import argparse
import logging
import signal
import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING

from bot.settings import load_settings

if TYPE_CHECKING:
    from bot.jobs.base import JobSpec
    from bot.runtime import Runtime

log = logging.getLogger(__name__)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "clock",
        help="run the scheduled jobs only (no web server, no delivery worker)",
        description="Run the scheduled jobs in a process of their own (no web server).",
    )
    parser.set_defaults(func=run)


def run_clock(
    runtime: Runtime, *, stop: threading.Event, jobs: Mapping[str, JobSpec] | None = None
) -> None:
    """Schedule `jobs` (default: every registered job) until `stop` is set."""
    from bot.jobs.registry import JOBS
    from bot.jobs.scheduler import JobScheduler

    scheduler = JobScheduler(runtime=runtime, jobs=JOBS if jobs is None else jobs)
    scheduler.start()
    try:
        while not stop.wait(1.0):  # wakes now and then so signals are handled promptly
            pass
    finally:
        scheduler.stop()


def run(args: argparse.Namespace) -> int:
    from bot.commands.running import start_for

    settings = load_settings()
    bot = start_for(settings, command="clock", slack_requests=False, worker=False)
    stop = threading.Event()

    def on_signal(signum: int, _frame: object) -> None:
        log.info("clock: stopping (%s)", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        run_clock(bot.runtime, stop=stop)
    finally:
        bot.stop()
    return 0
