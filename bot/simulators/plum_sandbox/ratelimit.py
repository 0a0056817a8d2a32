"""The documented per-minute limits, counted on the sandbox's (injectable) clock.

A request over the limit earns the documented 60-second penalty: every request of that
operation is refused until the penalty ends.
"""

from __future__ import annotations

import math
import threading
from collections import deque
from datetime import datetime, timedelta

from bot.simulators.plum_sandbox.clock import Clock, checked_now
from bot.simulators.plum_sandbox.errors import RateLimited

LIMITS_PER_MINUTE: dict[str, int] = {
    "getOrderDetails": 200,
    "getVouchers": 50,
    "getBalance": 10,
    "placeOrder": 100,
    "getOrderHistory": 200,
    "getFilters": 50,
}
WINDOW = timedelta(seconds=60)
PENALTY_SECONDS = 60


class RateLimiter:
    def __init__(
        self, *, clock: Clock, enabled: bool = True, limits: dict[str, int] | None = None
    ) -> None:
        self._clock = clock
        self.enabled = enabled
        self._limits = dict(LIMITS_PER_MINUTE if limits is None else limits)
        self._lock = threading.Lock()
        self._seen: dict[str, deque[datetime]] = {}
        self._penalty_until: dict[str, datetime] = {}

    def check(self, operation: str) -> None:
        """Count one request; raise `RateLimited` when the operation is over its limit."""
        limit = self._limits.get(operation)
        if not self.enabled or limit is None:
            return
        now = checked_now(self._clock)
        with self._lock:
            until = self._penalty_until.get(operation)
            if until is not None and now < until:
                raise RateLimited(math.ceil((until - now).total_seconds()), PENALTY_SECONDS)
            seen = self._seen.setdefault(operation, deque())
            while seen and now - seen[0] >= WINDOW:
                seen.popleft()
            if len(seen) >= limit:
                self._penalty_until[operation] = now + timedelta(seconds=PENALTY_SECONDS)
                seen.clear()
                raise RateLimited(PENALTY_SECONDS, PENALTY_SECONDS)
            seen.append(now)

    def reset(self) -> None:
        with self._lock:
            self._seen.clear()
            self._penalty_until.clear()
