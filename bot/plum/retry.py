"""When a failed call may be repeated, and how long to wait first.

- Reads repeat on connection errors, timeouts, rate-limit answers and 5xx.
- Writes without an idempotency key (sendBalance, cancelBalance, generateLink, sendLinks)
  repeat only when the request provably never reached Xoxoday: the connection was never made
  (`httpx.ConnectError`, `httpx.ConnectTimeout`) or no pooled connection was free.
- placeOrder repeats after looking the order up by poNumber (see the client).
- A 5xx is an unknown outcome for a write (`PlumOutcomeUnknownError`), except the answers that
  prove Xoxoday refused the call before doing anything (`refused_before_processing`): those
  reach the caller as the `ServerError` they are, and nothing was applied.

Waits grow exponentially with jitter and are bounded; the server's wait hint (penaltySeconds,
Retry-After) wins when given, up to `max_wait_hint`.
"""

from __future__ import annotations

import enum
import random
from dataclasses import dataclass

import httpx

from bot.plum.errors import PlumAPIError, ServerError


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


# The 5xx answers that prove Xoxoday did NOT apply a call: it refused before processing.
#
# Sources (/work/shared/plum-api-notes.md "Errors", from Xoxoday's "Error Handling" page, and the
# seed spec `seeds/plum-openapi.yml`):
# - An answer in the application shape, with an `errorId`, is "returned when a valid request
#   was made, but the server could not process it" (Xoxoday's Error Handling page): the
#   application itself answered and says what it did not do.
# - PLE10023, HTTP 502, "balance lookup failed": Xoxoday could not read the account's balance,
#   which it must do before it pays anything (a debit is checked against the balance), so the
#   call was stopped before it was processed. Nothing was paid: try again later.
# - PLE10024, HTTP 502, "out of stock": also refused before processing, but for good (the same
#   order fails again), so it is a refusal (`OutOfStockError`), not listed here.
# Everything else at 5xx proves nothing and stays an unknown outcome for a write:
# - PLE10012, HTTP 502, "failed to process order": processing had begun; Xoxoday asks clients to
#   look the order up by poNumber before any retry.
# - A 502 without an errorId: the seed spec's `BadGateway` is "Upstream / internal server
#   error"; a gateway's 502/504 says an upstream failed or was slow, not that it did nothing.
# - A plain 500 (`{"code":500,"error":…}`) and a 503: Xoxoday documents neither as refused
#   before processing, and a 503 from a proxy may come after the request was handed on.
NOT_APPLIED_5XX: frozenset[str] = frozenset({"PLE10023"})


def refused_before_processing(err: PlumAPIError) -> bool:
    """A 5xx answer that proves the call was not applied (see `NOT_APPLIED_5XX`)."""
    return isinstance(err, ServerError) and (err.error_id or "").upper() in NOT_APPLIED_5XX


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
