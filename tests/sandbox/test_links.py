"""Reward links: campaignList, generateLink, sendLinks."""

from __future__ import annotations

from decimal import Decimal

from bot.simulators.plum_sandbox import SandboxServer
from tests.sandbox.conftest import Api, FakeClock


def test_campaign_list_filters(api: Api) -> None:
    r = api.call("campaignList", {"add_data": {"limit": 10, "offset": 0, "enabled": True}})
    body = r.json()["data"]["campaignList"]
    assert body["success"] == 1
    assert body["data"] and all(c["enabled"] for c in body["data"])
    named = api.call("campaignList", {"add_data": {"name": "lunch"}}).json()
    assert [c["campaignId"] for c in named["data"]["campaignList"]["data"]] == [7892]
    page = api.call("campaignList", {"add_data": {"limit": 2, "offset": 1}}).json()
    assert len(page["data"]["campaignList"]["data"]) == 2


def test_generate_link_draws_down_the_balance(api: Api, server: SandboxServer) -> None:
    r = api.data(
        "generateLink", {"campaignId": 7891, "links_quantity": 3, "link_expiry": "31-12-2025"}
    )
    assert r.status_code == 200, r.text
    body = r.json()["data"]["generateLink"]
    assert body["success"] == 1 and len(body["links"]) == 3 and len(set(body["links"])) == 3
    assert body["campaignId"] == "7891" and body["currencyCode"] == "USD"
    assert body["denomination_value"] == 25 and body["countryName"] == "United States"
    assert server.state.account_balance == Decimal(100000 - 3 * 25 * 83)
    batches = server.state.link_batches()
    assert [b.batch_id for b in batches] == [body["batchId"]]


def test_generate_link_errors(api: Api, server: SandboxServer, clock: FakeClock) -> None:
    def gen(**data: object):
        base = {"campaignId": 7890, "links_quantity": 1, "link_expiry": "31-12-2025"}
        return api.data("generateLink", {**base, **data})

    unknown = gen(campaignId=1)
    assert unknown.status_code == 404
    assert unknown.json()["data"]["generateLink"]["success"] == 0
    assert gen(campaignId=7894).status_code == 400  # disabled
    assert "DD-MM-YYYY" in gen(link_expiry="2025-12-31").json()["errorInfo"]
    assert "past" in gen(link_expiry="01-01-2024").json()["errorInfo"]
    assert gen(links_quantity=0).status_code == 400
    server.state.set_balance(Decimal(10))
    poor = gen()
    assert poor.status_code == 400 and "Insufficient balance" in poor.json()["errorInfo"]
    assert server.state.link_batches() == []


def test_generate_link_path_serves_only_generate_link(api: Api) -> None:
    r = api.post(
        "/v1/oauth/api/generateLink",
        {"query": "plumProAPI.query.getBalance", "tag": "plumProAPI", "variables": {}},
    )
    assert r.status_code == 400
    assert "generateLink" in r.json()["errorInfo"]


def test_send_links_emails_one_link_per_address(api: Api, server: SandboxServer) -> None:
    r = api.data(
        "generateLinkEmail",
        {
            "campaignId": 7890,
            "email_ids": "a@example.com,b@example.com",
            "link_expiry": "01-06-2025",
        },
    )
    assert r.status_code == 200, r.text
    body = r.json()["data"]["generateLinkEmail"]
    assert body["success"] == 1 and body["emails_sent"] == 2 and "links" not in body
    assert server.state.account_balance == Decimal(100000 - 1000)
    bad = api.data(
        "generateLinkEmail", {"campaignId": 7890, "email_ids": "nope", "link_expiry": "01-06-2025"}
    )
    assert bad.status_code == 400
