"""Xoxoday's error answers map to the right class with a message a person can act on."""

from __future__ import annotations

import pytest

from bot.plum import errors as E

# errorId -> (HTTP status Xoxoday documents, class the client raises)
ERROR_TABLE = [
    ("PLE10001", 400, E.ValidationError),
    ("PLE10002", 400, E.ValidationError),
    ("PLE10003", 400, E.ValidationError),
    ("PLE10004", 422, E.DuplicatePoNumberError),
    ("PLE10007", 422, E.OrderRejectedError),
    ("PLE10012", 502, E.OrderProcessingError),
    ("PLE10014", 400, E.InvalidClientError),
    ("PLE10015", 400, E.KycError),
    ("PLE10016", 404, E.OrderNotFoundError),
    ("PLE10018", 400, E.InvalidDenominationError),
    ("PLE10019", 401, E.InternationalNotAllowedError),
    ("PLE10022", 404, E.NotFoundError),
    ("PLE10023", 502, E.BalanceUnavailableError),
    ("PLE10024", 502, E.OutOfStockError),
    ("PLE10027", 404, E.NotFoundError),
    ("PLE10029", 404, E.ValidationError),
    ("PLE10030", 404, E.NoVouchersError),
    ("PLE10031", 400, E.ValidationError),
    ("PLE10032", 400, E.ValidationError),
    ("PLE10033", 400, E.ValidationError),
    ("PLE10036", 404, E.DeliveryCancelledError),
    ("PLE10041", 409, E.QuantityLimitError),
    ("PLE10042", 404, E.ProductNotActivatedError),
    ("PIPE10013", 401, E.InvalidTokenError),
    ("PIPE10015", 401, E.AccountDisabledError),
    ("PIPE10016", 401, E.AccountDisabledError),
    ("PIPE10017", 401, E.IPNotAllowedError),
]


@pytest.mark.parametrize(("error_id", "status", "cls"), ERROR_TABLE)
@pytest.mark.parametrize("code_type", [str, int])
def test_application_shape_maps_every_documented_id(error_id, status, cls, code_type):
    body = {"code": code_type(status), "errorId": error_id, "errorInfo": "info", "error": "title"}
    err = E.error_from_answer(status, body, operation="getVouchers")
    assert type(err) is cls
    assert err.status == status
    assert err.error_id == error_id
    assert err.operation == "getVouchers"
    assert "info" in str(err) and error_id in str(err)


def test_ip_message_tells_what_to_do():
    body = {"code": "401", "errorId": "PIPE10017", "errorInfo": "IP not allowed"}
    err = E.error_from_answer(401, body)
    assert str(err).startswith(
        "Xoxoday does not accept requests from this server's IP address. "
        "Ask Xoxoday to allow-list it."
    )


@pytest.mark.parametrize(
    ("oauth", "cls"),
    [
        ("invalid_token", E.InvalidTokenError),
        ("invalid_client", E.InvalidClientError),
        ("invalid_grant", E.InvalidGrantError),
        ("invalid_request", E.ValidationError),
    ],
)
def test_oauth_shape(oauth, cls):
    err = E.error_from_answer(400, {"error": oauth, "error_description": "why"})
    assert type(err) is cls
    assert "why" in str(err)


def test_token_error_body_is_an_invalid_token_even_with_200():
    err = E.error_from_answer(200, {"success": 0, "error_message_id": "auth.token_error"})
    assert isinstance(err, E.InvalidTokenError)


@pytest.mark.parametrize("status", [200, 429, 400])
def test_rate_limit_body_carries_the_penalty(status):
    body = {"errors": [{"message": "auth.request_limit_exceeded", "penaltySeconds": 60}]}
    err = E.error_from_answer(status, body, retry_after_header="5")
    assert isinstance(err, E.RateLimitedError)
    assert err.retry_after == 60  # the body's penalty wins over the header


def test_refresh_throttling_body_and_retry_after_header():
    err = E.error_from_answer(
        429, {"message": "auth.request_limit_exceeded"}, retry_after_header="7"
    )
    assert isinstance(err, E.RateLimitedError)
    assert err.retry_after == 7


def test_bare_429_without_hint():
    err = E.error_from_answer(429, None)
    assert isinstance(err, E.RateLimitedError) and err.retry_after is None


def test_plain_500():
    err = E.error_from_answer(500, {"code": 500, "error": "Internal Server Error"})
    assert type(err) is E.ServerError and err.status == 500
    assert "Internal Server Error" in str(err)


def test_success_bodies_are_not_errors():
    assert E.error_from_answer(200, {"data": {"getBalance": {"status": 1}}}) is None
    assert E.error_from_answer(200, {"access_token": "x", "token_type": "bearer"}) is None


def test_unknown_error_id_falls_back_on_status():
    err = E.error_from_answer(404, {"code": "404", "errorId": "PLE99999", "errorInfo": "?"})
    assert type(err) is E.NotFoundError


def test_server_text_is_scrubbed_and_shortened():
    body = {
        "error": "invalid_request",
        "error_description": "bad SECRET-123 Bearer abc " + "x" * 500,
    }
    err = E.error_from_answer(400, body, secrets=["SECRET-123"])
    assert "SECRET-123" not in str(err)
    assert "abc" not in str(err)
    assert len(err.detail or "") <= 200


def test_outcome_unknown_lists_what_was_sent():
    err = E.PlumOutcomeUnknownError(
        "sendBalance",
        sent={"recipients": [{"email": "a@example.com", "points": 100}], "total_points": 100},
        reason="ReadTimeout",
    )
    assert "a@example.com 100" in str(err)
    assert "Do not resend" in str(err)
    assert err.sent["total_points"] == 100


def test_every_class_has_its_own_advice():
    classes = {cls for _, _, cls in ERROR_TABLE}
    hints = [cls.hint for cls in classes]
    assert len(set(hints)) == len(hints)


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        (  # a title beside the sentence that says it already
            {"code": 400, "errorInfo": "Campaign 7894 is disabled.", "error": "Campaign disabled"},
            "Campaign 7894 is disabled.",
        ),
        (
            {"code": 400, "errorInfo": "Insufficient balance", "error": "Order failed"},
            "Insufficient balance. Order failed.",
        ),
        ({"code": 400, "errorInfo": "Same words", "error": "same words"}, "Same words."),
    ],
)
def test_xoxodays_words_are_said_once_as_sentences(body: dict, detail: str) -> None:
    err = E.error_from_answer(400, body)
    assert err is not None and err.detail == detail
