"""The sandbox's failures and the bodies Plum answers them with.

Every failure an operation can cause is an `ApiFailure`; the app renders it with the active
response variants (for example `code` as a string or a number).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# errorId -> (HTTP status, short error title). Where the docs list two statuses, the newer one.
PLE_ERRORS: dict[str, tuple[int, str]] = {
    "PLE10001": (400, "Invalid order request"),
    "PLE10002": (400, "Invalid order details request"),
    "PLE10003": (400, "Invalid filters request"),
    "PLE10004": (422, "poNumber validation failed"),
    "PLE10007": (422, "Failed to add order"),
    "PLE10012": (502, "Failed to process order"),
    "PLE10014": (400, "Invalid client"),
    "PLE10015": (400, "Amazon KYC not approved"),
    "PLE10016": (404, "Order not found"),
    "PLE10018": (400, "Invalid denomination"),
    "PLE10019": (401, "International orders not allowed"),
    "PLE10022": (404, "Order history not found"),
    "PLE10023": (502, "Failed to fetch balance"),
    "PLE10024": (502, "Out of stock"),
    "PLE10027": (404, "Order history not found"),
    "PLE10029": (404, "Invalid filterGroupCode"),
    "PLE10030": (404, "No Vouchers Found"),
    "PLE10031": (400, "Invalid filter value"),
    "PLE10032": (400, "Invalid order history request"),
    "PLE10033": (400, "Invalid vouchers request"),
    "PLE10036": (404, "Delivery cancelled"),
    "PLE10041": (409, "Quantity limit exceeded"),
    "PLE10042": (404, "Product not activated"),
    "PIPE10013": (401, "Invalid authorization header"),
    "PIPE10015": (401, "User disabled"),
    "PIPE10016": (401, "Company disabled"),
    "PIPE10017": (401, "IP not allow-listed"),
}

PLAIN_ERROR_TITLES = {
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


@dataclass(frozen=True, slots=True)
class Rendering:
    """The variants that change how a failure is written."""

    code_as_number: bool = False
    invalid_token_body: str = "oauth"  # oauth | success0
    retry_after_header: bool = True


class ApiFailure(Exception):
    """A non-2xx answer. Subclasses know their body; `status` is the HTTP status."""

    status: int = 400

    def body(self, rendering: Rendering) -> dict[str, Any]:
        raise NotImplementedError

    def headers(self, rendering: Rendering) -> dict[str, str]:
        return {}


class AppError(ApiFailure):
    """The application shape: `{"code","errorId","errorInfo","error"}` (plus optional extras)."""

    def __init__(
        self,
        error_id: str | None,
        error_info: str,
        *,
        error: str | None = None,
        status: int | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        known_status, title = PLE_ERRORS.get(error_id or "", (400, "Bad Request"))
        self.error_id = error_id
        self.error_info = error_info
        self.error = error or title
        self.status = status or known_status
        self.extra = extra or {}
        super().__init__(f"{error_id or self.status}: {error_info}")

    def body(self, rendering: Rendering) -> dict[str, Any]:
        out: dict[str, Any] = {
            "code": self.status if rendering.code_as_number else str(self.status),
        }
        if self.error_id:
            out["errorId"] = self.error_id
        out["errorInfo"] = self.error_info
        out["error"] = self.error
        out.update(self.extra)
        return out


class OAuthError(ApiFailure):
    """`{"error": "invalid_client", "error_description": "..."}`."""

    def __init__(self, error: str, description: str, *, status: int = 400) -> None:
        self.error, self.description, self.status = error, description, status
        super().__init__(f"{error}: {description}")

    def body(self, rendering: Rendering) -> dict[str, Any]:
        return {"error": self.error, "error_description": self.description}


class InvalidToken(ApiFailure):
    """An unknown or expired access token: 401 in one of the two documented bodies."""

    status = 401

    def body(self, rendering: Rendering) -> dict[str, Any]:
        if rendering.invalid_token_body == "success0":
            return {"success": 0, "error_message_id": "auth.token_error"}
        return {"error": "invalid_token", "error_description": "invalid/expired token"}


class PlainError(ApiFailure):
    """A plain server error: `{"code": 500, "error": "..."}` (the code is always a number)."""

    def __init__(self, status: int, message: str | None = None) -> None:
        self.status = status
        self.message = message or PLAIN_ERROR_TITLES.get(status, "Server Error")
        super().__init__(f"{status}: {self.message}")

    def body(self, rendering: Rendering) -> dict[str, Any]:
        return {"code": self.status, "error": self.message}


class RateLimited(ApiFailure):
    """Over a documented per-minute limit."""

    status = 429

    def __init__(self, retry_after_seconds: int, penalty_seconds: int = 60) -> None:
        self.retry_after_seconds = max(1, retry_after_seconds)
        self.penalty_seconds = penalty_seconds
        super().__init__("auth.request_limit_exceeded")

    def body(self, rendering: Rendering) -> dict[str, Any]:
        return {
            "errors": [
                {"message": "auth.request_limit_exceeded", "penaltySeconds": self.penalty_seconds}
            ]
        }

    def headers(self, rendering: Rendering) -> dict[str, str]:
        if rendering.retry_after_header:
            return {"Retry-After": str(self.retry_after_seconds)}
        return {}


class TokenThrottled(ApiFailure):
    """Refresh throttling as the docs show it: `{"message": "auth.request_limit_exceeded"}`."""

    status = 429

    def body(self, rendering: Rendering) -> dict[str, Any]:
        return {"message": "auth.request_limit_exceeded"}

    def headers(self, rendering: Rendering) -> dict[str, str]:
        return {"Retry-After": "60"} if rendering.retry_after_header else {}


def failure_for_code(code: str, *, status: int | None = None) -> ApiFailure:
    """The failure a fault names: a PLE/PIPE id, an HTTP status ("500"), `invalid_token`,
    `throttle` (token refresh throttling) or `rate_limit[:seconds]` (the per-minute limit body,
    asking to wait that long; 60 s by default)."""
    text = str(code).strip()
    if text.isdigit():
        number = int(text)
        if number == 429:
            return RateLimited(60)
        if number == 401:
            return InvalidToken()
        return PlainError(number)
    if text == "invalid_token":
        return InvalidToken()
    if text == "throttle":
        return TokenThrottled()
    if text == "rate_limit" or text.startswith("rate_limit:"):
        seconds = int(text.partition(":")[2] or 60)  # `rate_limit:5` asks to wait 5 s
        return RateLimited(seconds, penalty_seconds=seconds)
    if text in ("invalid_client", "invalid_grant", "invalid_request"):
        return OAuthError(
            text, "injected fault", status=status or (401 if text == "invalid_client" else 400)
        )
    title = PLE_ERRORS.get(text, (400, "Injected error"))[1]
    return AppError(text, f"Sandbox fault injected: {title}.", status=status)


def is_known_fault_code(code: str) -> bool:
    text = str(code).strip()
    named = ("invalid_token", "throttle", "rate_limit", "invalid_client", "invalid_grant")
    return (
        text in PLE_ERRORS
        or text in named
        or text == "invalid_request"
        or (text.startswith("rate_limit:") and text.partition(":")[2].isdigit())
        or (text.isdigit() and 400 <= int(text) <= 599)
        or text.startswith(("PLE", "PIPE"))
    )
