"""With a state file the sandbox keeps its account and its tokens across restarts."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

from bot.simulators.plum_sandbox import SandboxServer
from tests.sandbox.conftest import Api, FakeClock


def refresh(api: Api, token: str):
    body = {
        "grant_type": "refresh_token",
        "refresh_token": token,
        "client_id": "sandbox",
        "client_secret": "sandbox",
    }
    return api.http.post("/v1/oauth/token/company", json=body)


def test_state_and_tokens_survive_a_restart(tmp_path: Path, clock: FakeClock) -> None:
    path = tmp_path / "plum" / "sandbox.json"
    with SandboxServer(state_path=path, clock=clock) as first:
        api = Api(first)
        uid = api.send_points(("keep@example.com", 120)).json()["data"]["sendBalance"][
            "recipients"
        ][0]["unique_id"]
        assert api.order("PO-KEEP").status_code == 200
        link = {"campaignId": 7890, "links_quantity": 2, "link_expiry": "31-12-2025"}
        assert api.data("generateLink", link).status_code == 200
        rotated = refresh(api, first.refresh_token).json()
        old_refresh, old_access = first.refresh_token, first.access_token
        balance = first.state.account_balance
        api.close()

    with SandboxServer(state_path=path, clock=clock) as second:
        api = Api(second)
        assert second.state.account_balance == balance
        assert second.state.points_of("keep@example.com") == 120
        assert api.order("PO-KEEP").json()["errorId"] == "PLE10004"
        assert len(second.state.link_batches()) == 1
        # the access token from before still works; the rotated refresh token too
        assert api.data("getBalance", token=old_access).status_code == 200
        assert refresh(api, old_refresh).json()["error"] == "invalid_grant"
        assert refresh(api, rotated["refresh_token"]).status_code == 200
        # ids keep counting up
        next_uid = api.send_points(("keep@example.com", 1)).json()["data"]["sendBalance"][
            "recipients"
        ][0]["unique_id"]
        assert next_uid > uid
        cancel = {"recipients_data": {"recipients": [{"unique_id": uid}]}}
        assert api.call("cancelBalance", cancel).json()["data"]["cancelBalance"]["error"] is False
        api.close()


def test_state_file_is_json_without_tokens_and_no_temp_files(
    tmp_path: Path, clock: FakeClock
) -> None:
    path = tmp_path / "state.json"
    with SandboxServer(state_path=path, clock=clock) as srv:
        api = Api(srv)
        api.send_points(("f@example.com", 5))
        text = path.read_text()
        assert srv.access_token not in text and srv.refresh_token not in text
        api.close()
    saved = json.loads(text)
    assert Decimal(saved["balance"]) == Decimal(100000 - 5)
    assert [p.name for p in tmp_path.iterdir()] == ["state.json"]


def test_balance_and_currency_only_shape_a_new_state(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    with SandboxServer(state_path=path, balance=Decimal(500), currency="USD") as srv:
        assert (srv.state.account_balance, srv.state.currency) == (Decimal(500), "USD")
    with SandboxServer(state_path=path, balance=Decimal(9), currency="EUR") as srv:
        assert (srv.state.account_balance, srv.state.currency) == (Decimal(500), "USD")
