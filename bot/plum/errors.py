"""One exception tree for everything the Plum client raises.

PlumError
├── PlumAPIError               Xoxoday answered with a definite error (status, error_id, message)
│   ├── AuthError              InvalidTokenError, InvalidClientError, InvalidGrantError,
│   │                          IPNotAllowedError, AccountDisabledError
│   ├── ValidationError        DuplicatePoNumberError
│   ├── NotFoundError          OrderNotFoundError, NoVouchersError
│   ├── OrderRejectedError     InvalidDenominationError, OutOfStockError, QuantityLimitError,
│   │                          ProductNotActivatedError, KycError, InternationalNotAllowedError,
│   │                          DeliveryCancelledError
│   ├── RequestRejectedError   a 200 answer that says it failed (`error: true`, `success: 0`)
│   ├── RateLimitedError       retry_after (seconds) when Xoxoday said how long to wait
│   └── ServerError            5xx (and PLE10012 / PLE10023)
├── PlumResponseError          an answer the client cannot read
├── PlumConnectionError        the request failed in transit: PlumTimeoutError
├── PlumOutcomeUnknownError    a write left but no answer came back: it may or may not be applied
│                              (`cause`: timeout, connection_lost, server_error, unreadable)
└── TokenStoreError            new tokens could not be saved, so they are not used

Every message tells a person what to do next. No message contains a token, a secret, a voucher
code or a reward link: server texts are shortened and scrubbed of the secrets the client knows.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable, Mapping
from email.utils import parsedate_to_datetime
from typing import Any, ClassVar, Literal

_DETAIL_MAX = 200


class PlumError(Exception):
    """Base class of every error raised by `bot.plum`."""


class PlumAPIError(PlumError):
    """Xoxoday answered, and the answer is an error.

    `message` is for people; `detail` is Xoxoday's own text (shortened, scrubbed).
    """

    hint: ClassVar[str] = "Xoxoday rejected the request."

    def __init__(
        self,
        message: str | None = None,
        *,
        status: int | None = None,
        error_id: str | None = None,
        detail: str | None = None,
        operation: str | None = None,
    ) -> None:
        self.message = message or self.hint
        self.status = status
        self.error_id = error_id
        self.detail = detail
        self.operation = operation
        super().__init__(self._text())

    def _text(self) -> str:
        facts = [f for f in (self.operation, _status(self.status), self.error_id) if f]
        text = self.message
        if facts:
            text += f" ({', '.join(facts)})"
        if self.detail:
            text += f" Xoxoday said: {self.detail}"
        return text


def _status(status: int | None) -> str | None:
    return f"HTTP {status}" if status else None


class AuthError(PlumAPIError):
    hint = "Xoxoday refused the credentials. Check the PLUM_* settings."


class InvalidTokenError(AuthError):
    hint = (
        "Xoxoday rejected the access token (invalid or expired). The client refreshes it by "
        "itself; if this persists, issue new tokens in the Xoxoday dashboard."
    )


class InvalidClientError(AuthError):
    hint = (
        "Xoxoday does not recognise the client id or secret. "
        "Check PLUM_CLIENT_ID and PLUM_CLIENT_SECRET."
    )


class InvalidGrantError(AuthError):
    hint = (
        "Xoxoday rejected the refresh token (expired, revoked or already used). Issue a new "
        "one in the Xoxoday dashboard, set PLUM_REFRESH_TOKEN and delete the saved token file."
    )


class IPNotAllowedError(AuthError):
    hint = (
        "Xoxoday does not accept requests from this server's IP address. "
        "Ask Xoxoday to allow-list it."
    )


class AccountDisabledError(AuthError):
    hint = (
        "The Xoxoday user or company account is disabled. "
        "Ask your Xoxoday account manager to enable it."
    )


class ValidationError(PlumAPIError):
    hint = "Xoxoday rejected the request's parameters."


class DuplicatePoNumberError(ValidationError):
    hint = "Xoxoday rejected the poNumber: it was already used (or is not valid)."


class NotFoundError(PlumAPIError):
    hint = "Xoxoday found nothing for that request."


class OrderNotFoundError(NotFoundError):
    hint = "Xoxoday has no order with that orderId or poNumber."


class NoVouchersError(NotFoundError):
    hint = "Xoxoday found no vouchers for those filters."


class OrderRejectedError(PlumAPIError):
    hint = "Xoxoday did not accept the order."


class InvalidDenominationError(OrderRejectedError):
    hint = "That denomination is not offered for this product. Pick one from valueDenominations."


class OutOfStockError(OrderRejectedError):
    hint = "The product is out of stock at Xoxoday. Try another product or later."


class QuantityLimitError(OrderRejectedError):
    hint = "Too many units in one order (the limit is usually 10). Split the order."


class ProductNotActivatedError(OrderRejectedError):
    hint = "The product is not activated for this account. Ask Xoxoday to activate it."


class KycError(OrderRejectedError):
    hint = "The account's KYC is not approved for this product (Amazon). Complete KYC first."


class InternationalNotAllowedError(OrderRejectedError):
    hint = "International orders are not enabled for this account. Ask Xoxoday to enable them."


class DeliveryCancelledError(OrderRejectedError):
    hint = "Xoxoday cancelled the delivery of this order."


class RequestRejectedError(PlumAPIError):
    """Xoxoday answered 200 but flagged the operation as failed (`error: true`, `success: 0`)."""

    hint = "Xoxoday did not carry out the request."


class RateLimitedError(PlumAPIError):
    hint = "Xoxoday's rate limit was reached. Wait and try again."

    def __init__(self, message: str | None = None, *, retry_after: float | None = None, **kw: Any):
        self.retry_after = retry_after
        super().__init__(message, **kw)

    def _text(self) -> str:
        text = super()._text()
        if self.retry_after is not None:
            text += f" Retry after {self.retry_after:g} s."
        return text


class ServerError(PlumAPIError):
    hint = "Xoxoday had an internal error. Try again later."


class OrderProcessingError(ServerError):
    hint = "Xoxoday failed to process the order. Look it up by poNumber before placing it again."


class BalanceUnavailableError(ServerError):
    hint = "Xoxoday could not look up the balance right now. Try again later."


class PlumResponseError(PlumError):
    """Xoxoday answered with something the client cannot read."""


class PlumConnectionError(PlumError):
    """The request failed in transit (DNS, refused connection, reset, TLS)."""


class PlumTimeoutError(PlumConnectionError):
    """Xoxoday did not answer in time."""


class TokenStoreError(PlumError):
    """New tokens arrived but could not be saved durably, so the client does not use them."""


# Why a write's outcome is unknown: Xoxoday did not answer in time; the connection broke after
# the request left; Xoxoday answered with a 5xx that proves nothing (see `bot.plum.retry`); or
# its answer could not be read.
UnknownCause = Literal["timeout", "connection_lost", "server_error", "unreadable"]


class PlumOutcomeUnknownError(PlumError):
    """A write left this machine but no usable answer came back: it may have been applied.

    `sent` summarises what was sent (recipients' emails and amounts, ids, never tokens), so a
    person can check in the Xoxoday dashboard before doing anything again.
    """

    def __init__(
        self,
        operation: str,
        *,
        sent: Mapping[str, Any],
        reason: str,
        cause: UnknownCause = "connection_lost",
        status: int | None = None,
    ) -> None:
        self.operation = operation
        self.sent = dict(sent)
        self.reason = reason
        self.cause: UnknownCause = cause
        self.status = status
        super().__init__(
            f"{operation}: the outcome is unknown ({reason}); Xoxoday may have applied it. "
            f"Do not resend blindly: check in the Xoxoday dashboard first. Sent: {_summary(sent)}"
        )


def _summary(sent: Mapping[str, Any]) -> str:
    def show(value: Any) -> str:
        if isinstance(value, (list, tuple)):
            return "[" + "; ".join(show(v) for v in value) + "]"
        if isinstance(value, Mapping):
            return " ".join(str(v) for v in value.values())
        return str(value)

    return ", ".join(f"{k}={show(v)}" for k, v in sent.items()) or "nothing recorded"


# --- mapping answers to classes -------------------------------------------------------------

ERROR_IDS: dict[str, type[PlumAPIError]] = {
    "PLE10001": ValidationError,
    "PLE10002": ValidationError,
    "PLE10003": ValidationError,
    "PLE10004": DuplicatePoNumberError,
    "PLE10007": OrderRejectedError,
    "PLE10012": OrderProcessingError,
    "PLE10014": InvalidClientError,
    "PLE10015": KycError,
    "PLE10016": OrderNotFoundError,
    "PLE10018": InvalidDenominationError,
    "PLE10019": InternationalNotAllowedError,
    "PLE10022": NotFoundError,
    "PLE10023": BalanceUnavailableError,
    "PLE10024": OutOfStockError,
    "PLE10027": NotFoundError,
    "PLE10029": ValidationError,
    "PLE10030": NoVouchersError,
    "PLE10031": ValidationError,
    "PLE10032": ValidationError,
    "PLE10033": ValidationError,
    "PLE10036": DeliveryCancelledError,
    "PLE10041": QuantityLimitError,
    "PLE10042": ProductNotActivatedError,
    "PIPE10013": InvalidTokenError,
    "PIPE10015": AccountDisabledError,
    "PIPE10016": AccountDisabledError,
    "PIPE10017": IPNotAllowedError,
}

OAUTH_ERRORS: dict[str, type[PlumAPIError]] = {
    "invalid_token": InvalidTokenError,
    "invalid_client": InvalidClientError,
    "unauthorized_client": InvalidClientError,
    "invalid_grant": InvalidGrantError,
    "invalid_request": ValidationError,
    "unsupported_grant_type": ValidationError,
}

RATE_LIMIT_MESSAGE = "auth.request_limit_exceeded"
TOKEN_ERROR_MESSAGE = "auth.token_error"


def scrub(text: str, secrets: Iterable[str | None] = ()) -> str:
    """Shorten a server text and blank out any secret the client knows."""
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "[hidden]")
    text = re.sub(r"(?i)(bearer\s+)\S+", r"\1[hidden]", text)
    text = " ".join(text.split())
    return text if len(text) <= _DETAIL_MAX else text[: _DETAIL_MAX - 1] + "…"


_CODE = re.compile(r"[a-z0-9]+(?:[_.][a-z0-9]+)+|[A-Z]{2,}\d+")


def _words(text: str) -> frozenset[str]:
    return frozenset(re.findall(r"\w+", text.lower()))


def _said_once(parts: list[str]) -> list[str]:
    """Xoxoday's texts without those another one already says (`"Campaign disabled"` beside
    `"Campaign 7894 is disabled."`)."""
    kept = []
    for i, part in enumerate(parts):
        words = _words(part)
        if not any(
            j != i and words <= _words(other) and (words != _words(other) or j < i)
            for j, other in enumerate(parts)
        ):
            kept.append(part)
    return kept


def _sentence(text: str) -> str:
    return text if text[-1:] in ".!?" else f"{text}."


def error_from_answer(
    status: int,
    body: Any,
    *,
    operation: str | None = None,
    retry_after_header: str | None = None,
    secrets: Iterable[str | None] = (),
) -> PlumAPIError | None:
    """The error an answer carries, or None when it is not an error answer.

    Understands the OAuth shape (`error`, `error_description`), the application shape
    (`code` string or number, `errorId`, `errorInfo`, `error`), rate-limit bodies
    (`{"errors":[{"message","penaltySeconds"}]}`, `{"message":"auth.request_limit_exceeded"}`),
    the token-error body (`{"success":0,"error_message_id":"auth.token_error"}`) and plain
    `{"code":500,"error":…}`; anything else with a status >= 400 still maps by status.
    """
    secrets = tuple(secrets)
    kw: dict[str, Any] = {"status": status or None, "operation": operation}
    obj = body if isinstance(body, dict) else {}

    def detail(*values: Any) -> str | None:
        parts = [str(v).strip() for v in values if isinstance(v, (str, int)) and str(v).strip()]
        said = _said_once(list(dict.fromkeys(parts)))
        codes = [p for p in said if _CODE.fullmatch(p)]  # `invalid_client`: a name, not words
        words = " ".join(_sentence(p) for p in said if p not in codes)
        text = f"{words} ({', '.join(codes)})" if codes and words else words or ", ".join(codes)
        return scrub(text, secrets) if text else None

    penalty = _rate_limit_penalty(obj)
    if penalty is not False or status == 429:
        wait = penalty if isinstance(penalty, float) else _retry_after(retry_after_header)
        return RateLimitedError(retry_after=wait, **kw)

    if obj.get("error_message_id") == TOKEN_ERROR_MESSAGE:
        return InvalidTokenError(detail=detail(obj.get("message")), **kw)

    error_id = obj.get("errorId")
    if isinstance(error_id, str) and error_id:
        cls = ERROR_IDS.get(error_id.upper()) or _by_status(status)
        return cls(
            error_id=error_id,
            detail=detail(obj.get("errorInfo"), obj.get("error")),
            **kw,
        )

    oauth = obj.get("error")
    if isinstance(oauth, str) and oauth in OAUTH_ERRORS:
        return OAUTH_ERRORS[oauth](detail=detail(oauth, obj.get("error_description")), **kw)

    if status >= 400:
        return _by_status(status)(
            detail=detail(
                obj.get("errorInfo"),
                obj.get("error"),
                obj.get("error_description"),
                obj.get("message"),
            )
            if obj
            else None,
            **kw,
        )
    return None


def _by_status(status: int) -> type[PlumAPIError]:
    if status >= 500:
        return ServerError
    if status in (401, 403):
        return AuthError
    if status == 404:
        return NotFoundError
    if status in (400, 422):
        return ValidationError
    return PlumAPIError


def _rate_limit_penalty(obj: Mapping[str, Any]) -> float | bool | None:
    """False when not a rate-limit body; else the penalty in seconds (or None if unstated)."""
    errors = obj.get("errors")
    if isinstance(errors, list):
        for item in errors:
            if isinstance(item, dict) and (
                item.get("message") == RATE_LIMIT_MESSAGE or "penaltySeconds" in item
            ):
                return _seconds(item.get("penaltySeconds"))
    if obj.get("message") == RATE_LIMIT_MESSAGE or obj.get("error") == RATE_LIMIT_MESSAGE:
        return _seconds(obj.get("penaltySeconds"))
    return False


def _seconds(value: Any) -> float | None:
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        return None
    return seconds if seconds >= 0 else None


def _retry_after(header: str | None) -> float | None:
    if not header:
        return None
    seconds = _seconds(header.strip())
    if seconds is not None:
        return seconds
    try:
        when = parsedate_to_datetime(header)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())
