"""Which failed sends are tried again, and when.

A sendBalance has no idempotency key, so a failure is sorted by what it proves:
- **not applied** (connection refused, DNS, a connect timeout, a 429 or `penaltySeconds`, the
  bot's credentials or IP refused or its token unobtainable, an endpoint that does not exist,
  and the 5xx that prove Xoxoday refused before processing: `bot.plum.retry.NOT_APPLIED_5XX`,
  PLE10023 "balance lookup failed"): nothing was applied, so the reward goes back to the queue
  and is tried again with backoff, honouring the server's wait, for
  `REWARD_DELIVERY_RETRY_HOURS`;
- **refused** (Xoxoday answered that it would not do it: bad parameters, `error: true`): failed,
  and the giver is told what to do;
- **unknown** (the request left and no usable answer came back: a read timeout, a connection
  broken after the request left, any other 5xx, an answer that can't be read): in doubt, never
  re-sent blindly; `bot.rewards.doubt` settles it from Xoxoday's own records where they prove
  the outcome, and admins are asked about the rest. The reason says which kind it was.

Pure: no Slack, HTTP or database.
"""

from __future__ import annotations

import enum
import random
from dataclasses import dataclass
from datetime import timedelta

from bot.plum import (
    AuthError,
    NotFoundError,
    PlumAPIError,
    PlumConnectionError,
    PlumError,
    PlumOutcomeUnknownError,
    RateLimitedError,
    ServerError,
    TokenStoreError,
)
from bot.plum.retry import refused_before_processing
from bot.rewards.policy import FailureKind


class Verdict(enum.Enum):
    NOT_APPLIED = "not_applied"  # try again later
    REFUSED = "refused"  # failed for good
    UNKNOWN = "unknown"  # in doubt


@dataclass(frozen=True, slots=True)
class Reading:
    """What one failure proves, in words for people, and how long Xoxoday asked us to wait."""

    verdict: Verdict
    reason: str
    retry_after: float | None = None
    setup_problem: bool = False  # the bot's configuration or Xoxoday account, not the reward


def read_failure(err: PlumError) -> Reading:
    """Sort a failed sendBalance (see the module doc)."""
    if isinstance(err, PlumOutcomeUnknownError):
        return Reading(Verdict.UNKNOWN, _unknown_reason(err))
    if isinstance(err, RateLimitedError):
        return Reading(Verdict.NOT_APPLIED, "Xoxoday asked us to slow down", err.retry_after)
    if isinstance(err, PlumConnectionError):
        return Reading(Verdict.NOT_APPLIED, "Xoxoday could not be reached")
    if isinstance(err, TokenStoreError):
        return Reading(Verdict.NOT_APPLIED, "the bot could not save Xoxoday's new token")
    if isinstance(err, AuthError):
        return Reading(Verdict.NOT_APPLIED, err.message, setup_problem=True)
    if isinstance(err, ServerError) and refused_before_processing(err):
        return Reading(
            Verdict.NOT_APPLIED, "Xoxoday couldn't check the account's balance, so it did nothing"
        )
    if isinstance(err, ServerError):
        # A write's other 5xx arrive as PlumOutcomeUnknownError (the request had left); this
        # ServerError can only come from getting a token, before anything was sent.
        return Reading(Verdict.NOT_APPLIED, "Xoxoday had an internal error")
    if isinstance(err, NotFoundError) and err.error_id is None:
        return Reading(
            Verdict.NOT_APPLIED, "Xoxoday has no such endpoint (check PLUM_BASE_URL)", None, True
        )
    if isinstance(err, PlumAPIError):
        return Reading(Verdict.REFUSED, err.message)
    return Reading(Verdict.UNKNOWN, "Xoxoday's answer could not be understood")


def refusal_kind(err: PlumError) -> FailureKind:
    """A sendBalance Xoxoday refused (`Verdict.REFUSED`): for want of balance on the company
    account (no code says so for points: its words do), which passes once an admin tops it
    up; else the request itself, which would be refused the same way again."""
    said = " ".join(str(getattr(err, name, None) or "") for name in ("message", "detail")).lower()
    if "insufficient" in said or "not enough" in said or "low balance" in said:
        return FailureKind.LOW_BALANCE
    return FailureKind.REFUSED


def _unknown_reason(err: PlumOutcomeUnknownError) -> str:
    """Which kind of unknown outcome it was, for the giver and the admins."""
    if err.cause == "timeout":
        return "Xoxoday didn't answer in time"
    if err.cause == "server_error":
        code = f" (HTTP {err.status})" if err.status else ""
        return f"Xoxoday answered with a server error{code} that doesn't say what it did"
    if err.cause == "unreadable":
        return "Xoxoday's answer couldn't be read"
    return "the connection to Xoxoday broke after the request was sent"


@dataclass(frozen=True, slots=True)
class RetryPlan:
    """Backoff between attempts of one reward (and pauses of the whole outbox)."""

    window: timedelta = timedelta(hours=24)
    first_delay: float = 2.0
    max_delay: float = 300.0
    max_wait_hint: float = 3600.0  # longest penaltySeconds / Retry-After honoured as given

    def delay(self, attempt: int, hint: float | None, *, rng: random.Random | None = None) -> float:
        """Seconds before attempt `attempt + 1` (attempt counts from 1): exponential, capped,
        up to 25% jitter off; never sooner than the server asked for."""
        base = min(self.first_delay * 2.0 ** max(attempt - 1, 0), self.max_delay)
        wait = base * (1.0 - 0.25 * (rng or random).random())
        if hint is not None:
            wait = max(wait, min(hint, self.max_wait_hint))
        return wait
