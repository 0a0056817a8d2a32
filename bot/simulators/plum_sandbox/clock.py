"""Time helpers: the injectable clock and the date arithmetic the sandbox needs."""

from __future__ import annotations

import calendar
from collections.abc import Callable
from datetime import UTC, date, datetime

from storage import clock

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    """The process's time (`storage.clock`): the system clock unless the playground moved it."""
    return clock.now()


def checked_now(clock: Clock) -> datetime:
    """The clock's time; a naive answer is a programming error, so it fails loudly."""
    now = clock()
    if now.tzinfo is None:
        raise ValueError("the sandbox clock must return timezone-aware datetimes")
    return now.astimezone(UTC)


def epoch_ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def add_months(moment: datetime, months: int) -> datetime:
    """`moment` plus whole calendar months; the day is clamped to the target month's length."""
    index = moment.month - 1 + months
    year, month = moment.year + index // 12, index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def iso_z(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def iso_date(moment: datetime | date) -> str:
    return moment.strftime("%Y-%m-%d")
