"""What a scheduled job is: a name, a trigger built from the settings, and a function to run.

Each job module exposes `JOB: JobSpec`. The scheduler claims `(name, scheduled_for)` in the
job-runs table before calling `run`, so however many processes schedule it, a run happens once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from apscheduler.triggers.base import BaseTrigger

from bot.settings import Settings

if TYPE_CHECKING:
    from bot.runtime import Runtime


@dataclass(frozen=True, slots=True)
class JobContext:
    runtime: Runtime
    scheduled_for: datetime  # the run's scheduled time, timezone-aware UTC
    manual: bool = False  # `rewardbot jobs run NAME` / the playground's "run now"


@dataclass(frozen=True, slots=True)
class JobSpec:
    name: str  # e.g. "weekly-summary"
    description: str  # one line for `rewardbot jobs list`
    trigger: Callable[[Settings], BaseTrigger]  # in REWARD_TIMEZONE
    run: Callable[[JobContext], str]  # does the work; returns a one-line account of what it did
    misfire_grace: timedelta = timedelta(hours=1)  # a run missed by less than this still runs
