"""What time it is for this process: the system clock, unless something moves it forward.

The ledger (`storage.types.utcnow`), the domain's services, the jobs and the simulators all ask
`now()`; the Plum client, which imports nothing of storage, is handed `timestamp` by whoever
builds it (`bot.plum.build_client`). A bot serving real people never moves it: the offset stays
zero and `now()` is the system clock. The playground moves it (`rewardbot playground` can jump a
day, a week, to next Monday 09:00), so the whole process, bot, jobs and stand-ins, lives that far
ahead of the wall clock together.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

_lock = threading.Lock()
_offset = timedelta(0)


def now() -> datetime:
    """The process's time: timezone-aware UTC."""
    return datetime.now(UTC) + _offset


def timestamp() -> float:
    """`now()` as seconds since the epoch (what `time.time()` would say)."""
    return now().timestamp()


def offset() -> timedelta:
    """How far ahead of the system clock the process is (zero unless moved)."""
    return _offset


def set_offset(ahead: timedelta) -> None:
    """Live `ahead` of the system clock from now on (timedelta(0): the system clock again).
    The clock never goes back: what is already written stays in the past."""
    global _offset
    if ahead < timedelta(0):
        raise ValueError("the clock only moves forward")
    with _lock:
        if ahead < _offset:
            raise ValueError("the clock only moves forward")
        _offset = ahead


def reset() -> None:
    """Back to the system clock (when the process that moved it is done, e.g. a test)."""
    global _offset
    with _lock:
        _offset = timedelta(0)
