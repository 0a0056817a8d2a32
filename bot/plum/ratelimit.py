"""Client-side rate limiting at Xoxoday's published per-minute limits.

A sliding window per operation: a call over the limit waits (through the injectable clock and
sleep) until the oldest call in the window is a minute old, instead of failing. Thread-safe.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Mapping

# Requests per minute Xoxoday publishes. None are published for points or links.
PUBLISHED_LIMITS: Mapping[str, int] = {
    "getOrderDetails": 200,
    "getVouchers": 50,
    "getBalance": 10,
    "placeOrder": 100,
    "getOrderHistory": 200,
    "getFilters": 50,
}


class RateLimiter:
    def __init__(
        self,
        *,
        limits: Mapping[str, int] = PUBLISHED_LIMITS,
        window_seconds: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._limits = dict(limits)
        self._window = window_seconds
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._calls: dict[str, deque[float]] = {name: deque() for name in self._limits}

    def acquire(self, operation: str) -> float:
        """Wait until `operation` may be sent; return the seconds waited."""
        limit = self._limits.get(operation)
        if not limit:
            return 0.0
        waited = 0.0
        while True:
            with self._lock:
                now = self._clock()
                calls = self._calls[operation]
                while calls and (calls[0] <= now - self._window or calls[0] > now):
                    calls.popleft()  # expired, or from before a clock step backwards
                if len(calls) < limit:
                    calls.append(now)
                    return waited
                wait = calls[0] + self._window - now
            self._sleep(wait)
            waited += wait
