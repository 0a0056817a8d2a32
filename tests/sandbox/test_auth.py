"""Tokens: client credentials, validation, refresh rotation, expiry, and the auth errors."""

from __future__ import annotations

import httpx

from bot.simulators.plum_sandbox import SandboxServer
from tests.sandbox.conftest import Api, FakeClock

CREDS = {"grant_type": "client_credentials", "client_id": "sandbox", "client_secret": "sandbox"}


def refresh_body(token: str, secret: str = "sandbox") -> dict[str, str]:
    return {
        "grant_type": "refresh_token",
        "refresh_token": token,
        "client_id": "sandbox",
        "client_secret": secret,
    }


def test_client_credentials_issue_a_working_bearer_token(api: Api) -> None:
    r = api.http.post("/v1/oauth/token", data=CREDS)
    assert r.status_code == 200
    body = r.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 15 * 24 * 3600
    assert "refresh_token" not in body
    balance = api.data("getBalance", token=body["access_token"])
    assert balance.status_code == 200


def test_wrong_client_secret_is_invalid_client(api: Api) -> None:
    r = api.http.post("/v1/oauth/token", data={**CREDS, "client_secret": "nope"})
    assert r.status_code == 400  # the seed spec: 400 is its only error answer
    assert r.json()["error"] == "invalid_client"
    assert "error_description" in r.json()
    unknown = api.http.post("/v1/oauth/token", data={**CREDS, "client_id": "someone"})
    assert unknown.json()["error"] == "invalid_client"


def test_wrong_grant_type_is_rejected(api: Api) -> None:
    r = api.http.post("/v1/oauth/token", data={**CREDS, "grant_type": "password"})
    assert r.status_code == 400
    assert r.json()["error"] == "unsupported_grant_type"


def test_configured_credentials_are_the_only_ones_accepted() -> None:
    with SandboxServer(client_id="acme", client_secret="s3cret") as srv:
        url = f"{srv.base_url}/v1/oauth/token"
        default = httpx.post(url, data=CREDS)
        assert default.status_code == 400
        good = httpx.post(url, data={**CREDS, "client_id": "acme", "client_secret": "s3cret"})
        assert good.status_code == 200


def test_validate_endpoint_reports_expiry_of_the_token(api: Api, clock: FakeClock) -> None:
    r = api.http.get("/v1/oauth/token", headers={"Authorization": f"Bearer {api.token}"})
    assert r.status_code == 200
    body = r.json()
    assert body["expires_in"] == 30 * 24 * 3600  # the dashboard pair uses company lifetimes
    assert body["access_token_expiry"] == int(clock.now.timestamp() * 1000) + 30 * 86400 * 1000
    bad = api.http.get("/v1/oauth/token", headers={"Authorization": "Bearer nonsense"})
    assert bad.status_code == 401
    assert bad.json() == {"error": "invalid_token", "error_description": "invalid/expired token"}


def test_missing_authorization_header_is_pipe10013(api: Api) -> None:
    r = api.http.post("/v1/oauth/api", json={"query": "plumProAPI.query.getBalance"})
    assert r.status_code == 401
    assert r.json()["errorId"] == "PIPE10013"


def test_unknown_access_token_is_invalid_token(api: Api) -> None:
    r = api.data("getBalance", token="sbx_at_forged")
    assert r.status_code == 401
    assert r.json()["error"] == "invalid_token"


def test_refresh_rotates_and_the_old_refresh_token_dies(api: Api, server: SandboxServer) -> None:
    first = api.http.post("/v1/oauth/token/company", json=refresh_body(server.refresh_token))
    assert first.status_code == 200
    body = first.json()
    assert body["refresh_token"] != server.refresh_token
    assert body["expires_in"] == 30 * 24 * 3600
    assert body["refresh_token_expiry"] - body["access_token_expiry"] == 30 * 86400 * 1000
    assert api.data("getBalance", token=body["access_token"]).status_code == 200

    again = api.http.post("/v1/oauth/token/company", json=refresh_body(server.refresh_token))
    assert again.status_code == 400
    assert again.json()["error"] == "invalid_grant"

    second = api.http.post("/v1/oauth/token/user", json=refresh_body(body["refresh_token"]))
    assert second.status_code == 200
    assert second.json()["expires_in"] == 15 * 24 * 3600  # user flow: 15 days / 30 days


def test_refresh_needs_the_client_secret_too(api: Api, server: SandboxServer) -> None:
    r = api.http.post("/v1/oauth/token/user", json=refresh_body(server.refresh_token, "bad"))
    assert r.status_code == 401
    assert r.json()["error"] == "invalid_client"
    # the refresh token was not consumed by the failed attempt
    ok = api.http.post("/v1/oauth/token/user", json=refresh_body(server.refresh_token))
    assert ok.status_code == 200


def test_access_token_is_not_a_refresh_token(api: Api, server: SandboxServer) -> None:
    r = api.http.post("/v1/oauth/token/user", json=refresh_body(server.access_token))
    assert r.json()["error"] == "invalid_grant"


def test_access_token_expires_with_the_ttl_override(clock: FakeClock) -> None:
    with SandboxServer(clock=clock, access_ttl_seconds=60, refresh_ttl_seconds=120) as srv:
        api = Api(srv)
        assert api.data("getBalance").status_code == 200
        clock.advance(seconds=61)
        expired = api.data("getBalance")
        assert expired.status_code == 401
        assert expired.json()["error"] == "invalid_token"
        fresh = api.http.post("/v1/oauth/token/company", json=refresh_body(srv.refresh_token))
        assert fresh.status_code == 200
        assert fresh.json()["expires_in"] == 60
        assert api.data("getBalance", token=fresh.json()["access_token"]).status_code == 200
        clock.advance(seconds=121)
        late = api.http.post(
            "/v1/oauth/token/company", json=refresh_body(fresh.json()["refresh_token"])
        )
        assert late.json()["error"] == "invalid_grant"
        api.close()


def test_refresh_grace_keeps_the_old_token_alive_for_a_while(clock: FakeClock) -> None:
    with SandboxServer(clock=clock, refresh_grace_seconds=6 * 3600) as srv:
        api = Api(srv)
        url = "/v1/oauth/token/user"
        assert api.http.post(url, json=refresh_body(srv.refresh_token)).status_code == 200
        clock.advance(hours=5)
        assert api.http.post(url, json=refresh_body(srv.refresh_token)).status_code == 200
        clock.advance(hours=2)
        assert api.http.post(url, json=refresh_body(srv.refresh_token)).status_code == 400
        api.close()


def test_refresh_accepts_a_form_body_as_well(api: Api, server: SandboxServer) -> None:
    r = api.http.post("/v1/oauth/token/user", data=refresh_body(server.refresh_token))
    assert r.status_code == 200


def test_token_requests_are_counted_and_recorded_without_secrets(
    api: Api, server: SandboxServer
) -> None:
    api.http.post("/v1/oauth/token", data=CREDS)
    api.http.post("/v1/oauth/token/user", json=refresh_body(server.refresh_token))
    api.http.post("/v1/oauth/token", data={**CREDS, "client_secret": "wrong"})
    api.data("getBalance")
    assert server.token_requests == 3
    text = repr(server.requests)
    for secret in ("sandbox&", server.refresh_token, server.access_token, "wrong"):
        assert secret not in text
    assert server.requests[0]["variables"] == {
        "grant_type": "client_credentials",
        "client_id": "sandbox",
    }
    assert server.access_token not in repr(server)


def test_invalid_token_body_variant(api: Api, server: SandboxServer) -> None:
    server.faults.set_variant("invalid_token", "success0")
    r = api.data("getBalance", token="forged")
    assert r.status_code == 401
    assert r.json() == {"success": 0, "error_message_id": "auth.token_error"}


def test_docs_token_variant_sends_strings(api: Api, server: SandboxServer) -> None:
    server.faults.set_variant("token", "docs")
    body = api.http.post("/v1/oauth/token/user", json=refresh_body(server.refresh_token)).json()
    assert body["expires_in"] == str(15 * 24 * 3600)
    assert body["access_token_expiry"].isdigit()
    assert body["refresh_token_expiry"].isdigit()


def test_refresh_throttling_fault(api: Api, server: SandboxServer) -> None:
    server.faults.set("token", error="throttle", count=1)
    r = api.http.post("/v1/oauth/token/user", json=refresh_body(server.refresh_token))
    assert r.status_code == 429
    assert r.json() == {"message": "auth.request_limit_exceeded"}
    # not applied: the refresh token still works
    ok = api.http.post("/v1/oauth/token/user", json=refresh_body(server.refresh_token))
    assert ok.status_code == 200
