"""When a failed call may be repeated, and how long to wait first.

- Reads repeat on connection errors, timeouts, rate-limit answers and 5xx.
- Writes without an idempotency key (sendBalance, cancelBalance, generateLink, sendLinks)
  repeat only when the request provably never reached Xoxoday: the connection was never made
  (`httpx.ConnectError`, `httpx.ConnectTimeout`) or no pooled connection was free.
- placeOrder repeats after looking the order up by poNumber (see the client).

Waits grow exponentially with jitter and are bounded; the server's wait hint (penaltySeconds,
Retry-After) wins when given, up to `max_wait_hint`.
"""

from __future__ import annotations

import enum
import random
from dataclasses import dataclass

import httpx


class Kind(enum.Enum):
    READ = "read"  # safe to repeat
    WRITE = "write"  # no idempotency key: repeat only if never sent
    ORDER = "order"  # placeOrder: poNumber makes a lookup-then-repeat safe


# The request never left: nothing can have been applied.
NEVER_SENT: tuple[type[httpx.TransportError], ...] = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.PoolTimeout,
    httpx.UnsupportedProtocol,
)


def never_sent(err: BaseException) -> bool:
    return isinstance(err, NEVER_SENT)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    max_retries: int = 2
    initial_delay: float = 0.5
    max_delay: float = 8.0
    max_wait_hint: float = 60.0  # longest server-requested wait the client sleeps through

    def backoff(self, retry: int, *, rng: random.Random | None = None) -> float:
        """Delay before retry number `retry` (0-based): exponential, capped, 0-25% jitter off."""
        base = min(self.initial_delay * 2.0**retry, self.max_delay)
        return base * (1.0 - 0.25 * (rng or random).random())

    def delay(self, retry: int, hint: float | None) -> float | None:
        """Seconds to wait before repeating, or None when the server asks for too long."""
        if hint is None:
            return self.backoff(retry)
        return hint if hint <= self.max_wait_hint else None
