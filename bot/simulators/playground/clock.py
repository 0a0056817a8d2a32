"""The playground's clock: jump ahead a day, a week, to next Monday 09:00, or to a month before
points expire, and run the scheduled jobs that fell due on the way.

The whole process moves together (`storage.clock`): the ledger, the bot's services, the jobs,
the Plum sandbox and the fake Slack's message times. The clock only moves forward. How far
ahead it is is kept in the state directory (`clock.json`), so a restart is still in the future
the ledger was written in; deleting the directory (or the file) goes back to the real time.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from bot.simulators.playground.jobs import DueRun, run_due
from storage import clock

if TYPE_CHECKING:
    from bot.runtime import Runtime

log = logging.getLogger(__name__)

CLOCK_FILE = "clock.json"
SUMMARY_AT = time(9, 0)  # the weekly summary's default schedule: Mondays 09:00
REMINDERS_AT = time(10, 0)  # expiry-reminders runs daily at 10:00


class ClockError(ValueError):
    """A jump the clock can't make now; the message says why."""


@dataclass(frozen=True, slots=True)
class Jump:
    name: str
    label: str
    to: datetime | None  # None: not possible now (`why_not` says why)
    why_not: str = ""


@dataclass(frozen=True, slots=True)
class Jumped:
    moved_from: datetime
    moved_to: datetime
    ran: list[DueRun]


def read_offset(state_dir: Path) -> timedelta:
    """How far ahead the last run left the clock (zero when it never moved or can't be read)."""
    try:
        saved = json.loads((state_dir / CLOCK_FILE).read_text(encoding="utf-8"))
        ahead = timedelta(seconds=float(saved["ahead_seconds"]))
    except FileNotFoundError:
        return timedelta(0)
    except (OSError, ValueError, KeyError, TypeError) as err:
        log.warning("ignoring the playground clock in %s (%s)", state_dir / CLOCK_FILE, err)
        return timedelta(0)
    return max(ahead, timedelta(0))


class PlaygroundClock:
    def __init__(
        self,
        *,
        runtime: Runtime,
        state_dir: Path,
        earliest_expiry: Callable[[date], date | None],
    ) -> None:
        self._runtime = runtime
        self._state_dir = state_dir
        self._earliest_expiry = earliest_expiry
        self._tz = ZoneInfo(runtime.settings.REWARD_TIMEZONE)
        self._jumping = threading.Lock()  # one jump (and its jobs) at a time

    @property
    def tz(self) -> ZoneInfo:
        return self._tz

    def now(self) -> datetime:
        return clock.now().astimezone(self._tz)

    def ahead(self) -> timedelta:
        return clock.offset()

    def jumps(self) -> list[Jump]:
        """Where the clock can go from here, in the order the page offers them."""
        now = self.now()
        monday = now.date() - timedelta(days=now.weekday()) + timedelta(weeks=1)
        return [
            Jump("day", "A day later", now + timedelta(days=1)),
            Jump("week", "A week later", now + timedelta(weeks=1)),
            Jump(
                "monday",
                "Next Monday 09:00 (the weekly summary)",
                datetime.combine(monday, SUMMARY_AT, tzinfo=self._tz),
            ),
            self._before_expiry(now),
        ]

    def _before_expiry(self, now: datetime) -> Jump:
        days = max(self._runtime.settings.REWARD_EXPIRY_REMIND_DAYS or [30])
        label = f"{days} days before points expire (the first reminder)"
        # The first reminder is sent when the points are `days` days away, at 10:00.
        expires = self._earliest_expiry(now.date() + timedelta(days=days + 1))
        if expires is None:
            return Jump(
                "expiry",
                label,
                None,
                f"No points expire more than {days} days from now: send a reward first.",
            )
        to = datetime.combine(expires - timedelta(days=days), REMINDERS_AT, tzinfo=self._tz)
        return Jump("expiry", label, to)

    def jump(self, name: str) -> Jumped:
        """Move the clock to jump `name`'s time and run the jobs that fell due, oldest first."""
        with self._jumping:
            return self._jump(name)

    def _jump(self, name: str) -> Jumped:
        found = {j.name: j for j in self.jumps()}.get(name)
        if found is None:
            raise ClockError(f"the clock can't jump to {name!r}")
        if found.to is None:
            raise ClockError(found.why_not)
        moved_from = self.now()
        clock.set_offset(clock.offset() + (found.to - moved_from))
        self._save()
        log.info("playground clock moved to %s", found.to.isoformat())
        self._runtime.worker.wake()  # what the jump released (an undo window ended) goes now
        return Jumped(
            moved_from=moved_from,
            moved_to=self.now(),
            ran=run_due(self._runtime, since=moved_from, until=found.to),
        )

    def _save(self) -> None:
        ahead = {"ahead_seconds": clock.offset().total_seconds()}
        (self._state_dir / CLOCK_FILE).write_text(json.dumps(ahead), encoding="utf-8")
