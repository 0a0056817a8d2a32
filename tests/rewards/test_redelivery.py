"""Which failed sends are tried again (table of cases), and how long the bot waits."""

from __future__ import annotations

import itertools
import random

import pytest

from bot.plum import (
    AccountDisabledError,
    InvalidGrantError,
    IPNotAllowedError,
    NotFoundError,
    PlumConnectionError,
    PlumError,
    PlumOutcomeUnknownError,
    PlumResponseError,
    PlumTimeoutError,
    RateLimitedError,
    RequestRejectedError,
    ServerError,
    TokenStoreError,
    ValidationError,
)
from bot.rewards.redelivery import RetryPlan, Verdict, read_failure, refusal_kind

NOT_APPLIED, REFUSED, UNKNOWN = Verdict.NOT_APPLIED, Verdict.REFUSED, Verdict.UNKNOWN


@pytest.mark.parametrize(
    "error, verdict, setup_problem",
    [
        (PlumConnectionError("refused"), NOT_APPLIED, False),
        (PlumTimeoutError("connect timeout"), NOT_APPLIED, False),  # never connected
        (RateLimitedError(retry_after=60), NOT_APPLIED, False),
        (TokenStoreError("disk full"), NOT_APPLIED, False),
        (IPNotAllowedError(status=401, error_id="PIPE10017"), NOT_APPLIED, True),
        (AccountDisabledError(status=401), NOT_APPLIED, True),
        (InvalidGrantError(status=400), NOT_APPLIED, True),
        (NotFoundError(status=404), NOT_APPLIED, True),  # no such endpoint: PLUM_BASE_URL
        (ServerError(status=503), NOT_APPLIED, False),  # only from getting a token
        (ServerError(status=502, error_id="PLE10023"), NOT_APPLIED, False),  # refused first
        (ValidationError(status=400, error_id="PLE10001"), REFUSED, False),
        (RequestRejectedError("Xoxoday did not send the points."), REFUSED, False),
        (NotFoundError(status=404, error_id="PLE10016"), REFUSED, False),
        (PlumOutcomeUnknownError("sendBalance", sent={}, reason="ReadTimeout"), UNKNOWN, False),
        (PlumResponseError("not JSON"), UNKNOWN, False),
    ],
    ids=lambda v: type(v).__name__ if isinstance(v, Exception) else str(v),
)
def test_what_a_failure_proves(error: Exception, verdict: Verdict, setup_problem: bool) -> None:
    reading = read_failure(error)  # type: ignore[arg-type]
    assert reading.verdict is verdict
    assert reading.setup_problem is setup_problem
    assert reading.reason


def test_the_wait_xoxoday_asks_for_is_honoured() -> None:
    reading = read_failure(RateLimitedError(retry_after=42))
    assert reading.retry_after == 42
    plan = RetryPlan()
    assert plan.delay(1, 42, rng=random.Random(1)) >= 42
    assert plan.delay(1, 10_000, rng=random.Random(1)) == plan.max_wait_hint


def test_waits_grow_and_are_capped() -> None:
    plan = RetryPlan(first_delay=2, max_delay=300)
    rng = random.Random(7)
    waits = [plan.delay(n, None, rng=rng) for n in range(1, 12)]
    assert 1.5 <= waits[0] <= 2
    assert all(b >= a * 1.4 for a, b in itertools.pairwise(waits[:7]))
    assert max(waits) <= 300 and waits[-1] >= 225


@pytest.mark.parametrize(
    "cause, status, said",
    [
        ("timeout", None, "Xoxoday didn't answer in time"),
        ("connection_lost", None, "the connection to Xoxoday broke after the request was sent"),
        ("server_error", 502, "server error (HTTP 502) that doesn't say what it did"),
        ("unreadable", None, "Xoxoday's answer couldn't be read"),
    ],
)
def test_an_unknown_outcome_says_which_kind_of_failure_it_was(
    cause: str, status: int | None, said: str
) -> None:
    err = PlumOutcomeUnknownError(
        "sendBalance",
        sent={},
        reason="x",
        cause=cause,
        status=status,  # type: ignore[arg-type]
    )
    reading = read_failure(err)
    assert reading.verdict is UNKNOWN
    assert said in reading.reason and "lost" not in reading.reason


@pytest.mark.parametrize(
    ("err", "kind"),
    [
        (RequestRejectedError(detail="Insufficient balance in the account"), "low_balance"),
        (RequestRejectedError("Not enough points to send"), "low_balance"),
        (RequestRejectedError(detail="Invalid sendBalance request: bad email"), "refused"),
        (ValidationError(error_id="PLE10001"), "refused"),
    ],
)
def test_a_refused_send_is_sorted_by_whether_it_passes(err: PlumError, kind: str) -> None:
    assert refusal_kind(err) == kind
