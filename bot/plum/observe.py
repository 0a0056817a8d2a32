"""What the client tells an observer about each HTTP call to Xoxoday: the operation, how it
ended (one word, `outcome`) and how long it took. The client knows nothing of where that goes
(the bot counts it for /metrics: `bot.metrics`); an observer that fails is ignored."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from bot.plum.errors import (
    AuthError,
    InvalidTokenError,
    NotFoundError,
    PlumAPIError,
    PlumResponseError,
    RateLimitedError,
    ServerError,
)

# (operation, outcome, seconds)
CallObserver = Callable[[str, str, float], None]

OUTCOMES = (
    "ok",
    "rate_limited",
    "token_rejected",
    "auth_refused",
    "not_found",
    "refused",
    "server_error",
    "bad_answer",
    "timeout",
    "connection_error",
    "error",
)


def outcome(error: BaseException | None) -> str:
    """How a call ended: `ok`, or what its error says in one word (one of `OUTCOMES`)."""
    if error is None:
        return "ok"
    if isinstance(error, RateLimitedError):
        return "rate_limited"
    if isinstance(error, InvalidTokenError):
        return "token_rejected"
    if isinstance(error, AuthError):
        return "auth_refused"
    if isinstance(error, NotFoundError):
        return "not_found"
    if isinstance(error, ServerError):
        return "server_error"
    if isinstance(error, PlumAPIError):
        return "refused"
    if isinstance(error, PlumResponseError):
        return "bad_answer"
    if isinstance(error, httpx.TimeoutException):
        return "timeout"
    if isinstance(error, httpx.TransportError):
        return "connection_error"
    return "error"
