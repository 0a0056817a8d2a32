"""sendBalance, user_balance, cancelBalance and the points ledger behind them."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bot.simulators.plum_sandbox import SandboxServer
from bot.simulators.plum_sandbox.state import StateError
from tests.sandbox.conftest import Api, FakeClock


def sent(response) -> list[dict]:
    assert response.status_code == 200, response.text
    return response.json()["data"]["sendBalance"]["recipients"]


def cancel(api: Api, *ids: object):
    return api.call(
        "cancelBalance", {"recipients_data": {"recipients": [{"unique_id": i} for i in ids]}}
    )


def test_send_to_many_recipients_in_one_call(api: Api, server: SandboxServer) -> None:
    recipients = sent(api.send_points(("ann@example.com", 100), ("bob@example.com", 250)))
    assert [r["points"] for r in recipients] == [100, 250]
    assert recipients[0]["unique_id"] != recipients[1]["unique_id"]
    assert all(isinstance(r["unique_id"], int) for r in recipients)
    assert recipients[1]["email"] == "bob@example.com" and recipients[1]["name"] == "bob"
    assert server.state.points_of("ann@example.com") == 100
    assert server.state.points_of("BOB@example.com") == 250  # emails are case-insensitive
    assert server.state.account_balance == Decimal(100000 - 350)  # 1 point = 1 INR


def test_a_call_as_large_as_the_bot_sends_is_answered_row_by_row(
    api: Api, server: SandboxServer
) -> None:
    """PLUM_SEND_BATCH_MAX goes up to 500: one call carrying 500 recipients is taken whole,
    one row per recipient, each with its own unique_id, email and points."""
    wanted = [(f"p{i}@example.com", 1 + i % 7) for i in range(500)]
    rows = sent(api.send_points(*wanted))
    assert [(r["email"], r["points"]) for r in rows] == wanted
    assert len({r["unique_id"] for r in rows}) == 500
    assert server.state.points_of("p499@example.com") == 1 + 499 % 7


def test_fields_under_recipients_data_are_accepted(api: Api, server: SandboxServer) -> None:
    r = api.call(
        "sendBalance",
        {
            "recipients_data": {
                "sender_email": "admin@example.com",
                "expiry_month": "6",
                "recipients": [{"to_name": "C", "to_email": "c@example.com", "amount": 40}],
            }
        },
    )
    assert sent(r)[0]["points"] == 40
    tx = server.state.transactions("c@example.com")[0]
    assert (tx.expires_at.year, tx.expires_at.month) == (2025, 9)  # sent 2025-03-10 + 6 months


def test_points_expire_after_expiry_month(
    api: Api, server: SandboxServer, clock: FakeClock
) -> None:
    api.send_points(("d@example.com", 10), expiry_month=1)
    clock.advance(days=32)
    assert server.state.points_of("d@example.com") == 0


def test_send_errors_change_nothing(api: Api, server: SandboxServer) -> None:
    bad_amount = api.send_points(("x@example.com", 0))
    assert bad_amount.status_code == 400
    assert bad_amount.json()["data"]["sendBalance"]["error"] is True
    assert "amount" in bad_amount.json()["errorInfo"]
    bad_email = api.send_points(("not-an-email", 5))
    assert bad_email.status_code == 400
    no_recipients = api.call("sendBalance", {"sender_email": "a@example.com", "recipients": []})
    assert no_recipients.status_code == 400
    fractional = api.call(
        "sendBalance",
        {
            "sender_email": "a@example.com",
            "recipients": [{"to_name": "x", "to_email": "x@example.com", "amount": "1.5"}],
        },
    )
    assert fractional.status_code == 400
    assert server.state.account_balance == Decimal(100000)
    assert server.state.transactions() == []


def test_insufficient_balance_is_a_clear_error_and_nobody_is_paid(
    api: Api, server: SandboxServer
) -> None:
    server.state.set_balance(Decimal(300))
    r = api.send_points(("a@example.com", 200), ("b@example.com", 200))
    assert r.status_code == 400
    assert r.json()["error"] == "Insufficient balance"
    assert "400 points" in r.json()["errorInfo"]
    assert r.json()["data"]["sendBalance"]["error"] is True
    assert server.state.points_of("a@example.com") == 0
    assert server.state.account_balance == Decimal(300)


def test_flat_variant_for_one_recipient(api: Api, server: SandboxServer) -> None:
    server.faults.set_variant("sendBalance", "flat")
    body = api.send_points(("flat@example.com", 100)).json()
    assert set(body["data"]) == {
        "unique_id",
        "email",
        "points",
        "name",
        "phone_code",
        "phone_number",
    }
    assert body["data"]["points"] == 100
    many = api.send_points(("a@example.com", 1), ("b@example.com", 1))
    assert many.status_code == 400
    assert "one recipient" in many.json()["errorInfo"]
    assert server.state.points_of("a@example.com") == 0


def test_quickstart_variant_has_no_ids(api: Api, server: SandboxServer) -> None:
    server.faults.set_variant("sendBalance", "quickstart")
    body = api.send_points(("q@example.com", 100)).json()
    assert body == {
        "data": {"sendBalance": {"error": False, "message": body["data"]["sendBalance"]["message"]}}
    }
    assert server.state.points_of("q@example.com") == 100


def test_user_balance(api: Api, server: SandboxServer) -> None:
    api.send_points(("u@example.com", 70), ("u@example.com", 30))
    r = api.call("user_balance", {"user_data": {"email": "u@example.com"}})
    assert r.json()["data"]["user_balance"]["success"] == 1
    assert r.json()["data"]["user_balance"]["data"] == {"total": 100}
    server.state.redeem("u@example.com", 80)
    r = api.call("user_balance", {"user_data": {"email": "u@example.com"}})
    assert r.json()["data"]["user_balance"]["data"]["total"] == 20
    unknown = api.call("user_balance", {"user_data": {"email": "nobody@example.com"}})
    assert unknown.status_code == 200
    assert unknown.json()["data"]["user_balance"]["success"] == 0
    missing = api.call("user_balance", {})
    assert missing.status_code == 400


def test_cancel_refunds_whole_unredeemed_transactions(api: Api, server: SandboxServer) -> None:
    ids = [
        r["unique_id"] for r in sent(api.send_points(("a@example.com", 100), ("b@example.com", 50)))
    ]
    r = cancel(api, ids[0])
    assert r.status_code == 200
    result = r.json()["data"]["cancelBalance"]
    assert result["error"] is False
    assert result["recipients"] == [
        {"unique_id": ids[0], "success": True, "message": "Points cancelled successfully"}
    ]
    assert server.state.points_of("a@example.com") == 0
    assert server.state.points_of("b@example.com") == 50
    assert server.state.account_balance == Decimal(100000 - 50)
    twice = cancel(api, ids[0]).json()["data"]["cancelBalance"]
    assert twice["error"] is True and twice["recipients"][0]["success"] is False
    rows = api.data("paymentHistory").json()["data"]["paymentHistory"]["data"]
    assert rows[0]["transaction_status"] == "Cancelled" and rows[0]["adjusted_amount"] == 100


def test_cancel_refuses_redeemed_or_partly_redeemed_transactions(
    api: Api, server: SandboxServer
) -> None:
    ids = [
        r["unique_id"]
        for r in sent(api.send_points(("r@example.com", 100), ("s@example.com", 100)))
    ]
    server.state.redeem("r@example.com", 1)  # partly redeemed: the whole transaction stays
    server.state.redeem_transaction(ids[1])
    result = cancel(api, *ids).json()["data"]["cancelBalance"]
    assert [r["success"] for r in result["recipients"]] == [False, False]
    assert "redeemed" in result["recipients"][0]["message"]
    assert server.state.points_of("r@example.com") == 99


def test_cancel_only_within_90_days(api: Api, clock: FakeClock) -> None:
    early, late = (
        sent(api.send_points((f"{n}@example.com", 10)))[0]["unique_id"] for n in ("e", "l")
    )
    clock.advance(days=90)
    api.renew()
    assert cancel(api, early).json()["data"]["cancelBalance"]["recipients"][0]["success"]
    clock.advance(seconds=1)
    outcome = cancel(api, late).json()["data"]["cancelBalance"]["recipients"][0]
    assert outcome["success"] is False and "90 days" in outcome["message"]


def test_cancel_mixed_results_and_unknown_ids(api: Api) -> None:
    uid = sent(api.send_points(("m@example.com", 10)))[0]["unique_id"]
    result = cancel(api, uid, 1, "abc").json()["data"]["cancelBalance"]
    assert [r["success"] for r in result["recipients"]] == [True, False, False]
    assert result["error"] is False and "1 of 3" in result["message"]
    assert result["recipients"][1]["message"] == "Transaction not found"


def test_redeem_rules(api: Api, server: SandboxServer) -> None:
    api.send_points(("z@example.com", 10))
    with pytest.raises(StateError):
        server.state.redeem("z@example.com", 11)
    with pytest.raises(StateError):
        server.state.redeem_transaction(424242)
    server.state.redeem("z@example.com", 10)
    assert server.state.points_of("z@example.com") == 0


def test_expiry_months_clamp_to_the_end_of_a_short_month(
    api: Api, server: SandboxServer, clock: FakeClock
) -> None:
    clock.now = clock.now.replace(month=1, day=31)
    api.send_points(("jan@example.com", 5), expiry_month=1)
    expires = server.state.transactions("jan@example.com")[0].expires_at
    assert (expires.month, expires.day) == (2, 28)
