"""The client tells its observer about every HTTP call to Xoxoday, retries and token requests
included: the operation, how it ended in one word, how long it took (what /metrics counts)."""

from __future__ import annotations

import httpx
import pytest

from bot.plum import PlumError, PlumOutcomeUnknownError, RateLimitedError
from bot.plum.observe import OUTCOMES
from tests.plum.test_client_transport import BALANCE, SENT_OK, Script, client, send

Seen = list[tuple[str, str, float]]


def observed(script: Script, seen: Seen, **kw):  # type: ignore[no-untyped-def]
    return client(script, observer=lambda op, outcome, took: seen.append((op, outcome, took)), **kw)


def calls(seen: Seen) -> list[tuple[str, str]]:
    assert all(took >= 0 for _, _, took in seen)
    assert {outcome for _, outcome, _ in seen} <= set(OUTCOMES)
    return [(op, outcome) for op, outcome, _ in seen]


def test_each_call_and_each_retry_is_told_once() -> None:
    seen: Seen = []
    script = Script(
        httpx.ConnectError("refused"),
        httpx.ReadTimeout("slow"),
        lambda r: httpx.Response(502, json={"code": "502", "error": "Bad Gateway"}),
        BALANCE,
        SENT_OK,
    )
    c = observed(script, seen, max_retries=3)
    assert c.get_balance().value == 10
    send(c)
    assert calls(seen) == [
        ("getAccessToken", "ok"),
        ("getBalance", "connection_error"),
        ("getBalance", "timeout"),
        ("getBalance", "server_error"),
        ("getBalance", "ok"),
        ("sendBalance", "ok"),
    ]


@pytest.mark.parametrize(
    ("answer", "error", "outcome"),
    [
        (
            lambda r: httpx.Response(429, json={"errors": [{"message": "x", "penaltySeconds": 5}]}),
            RateLimitedError,
            "rate_limited",
        ),
        (
            lambda r: httpx.Response(500, json={"code": 500}),
            PlumOutcomeUnknownError,
            "server_error",
        ),
        (lambda r: httpx.Response(200, text="<html>proxy</html>"), PlumError, "bad_answer"),
        (
            lambda r: httpx.Response(400, json={"code": 400, "error": "bad email"}),
            PlumError,
            "refused",
        ),
    ],
)
def test_how_a_send_ended(answer, error, outcome) -> None:  # type: ignore[no-untyped-def]
    seen: Seen = []
    with pytest.raises(error):
        send(observed(Script(answer), seen))
    assert calls(seen)[-1] == ("sendBalance", outcome)


def test_a_rejected_token_and_the_one_refresh() -> None:
    seen: Seen = []
    rejected = {"success": 0, "error_message_id": "auth.token_error", "message": "expired"}
    script = Script(lambda r: httpx.Response(401, json=rejected), BALANCE)
    assert observed(script, seen).get_balance().value == 10
    assert calls(seen) == [
        ("getAccessToken", "ok"),
        ("getBalance", "token_rejected"),
        ("getAccessToken", "ok"),
        ("getBalance", "ok"),
    ]


def test_an_observer_that_fails_never_fails_the_call() -> None:
    def broken(operation: str, outcome: str, seconds: float) -> None:
        raise RuntimeError("the counter broke")

    assert client(Script(BALANCE), observer=broken).get_balance().value == 10
