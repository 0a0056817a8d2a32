"""The StoreFront sign-in (POST /v1/oauth/sso/stores/company): its raw body, the ssoToken in
every documented spelling, the store URL per environment, retries, and secrets kept out of
texts."""

from __future__ import annotations

import json
import logging
import time

import httpx
import pytest

from bot.plum import PlumAPIError, PlumClient, PlumResponseError, StoreSso, parse
from bot.plum.builder import build_client
from bot.plum.storefront import PRODUCTION_STORE, STAGING_STORE, store_root
from bot.settings import load_settings
from tests.plum.conftest import CLIENT_SECRET, api_ops
from tests.plum.memory_store import MemoryStore

AUTH = "bot-minted-auth-token-5f1c9e"
MARIA = {"email": "maria@acme.test", "auth_token": AUTH, "unique_id": "U0MARIA"}


def test_sign_in_sends_the_raw_body_and_gives_the_store_url(srv, client, fake_time):
    sso = client.store_sso(**MARIA, name="Maria López")
    assert sso.url == f"{srv.root_url}/chef/v1/oauth/redirect/stores/{sso.sso_token}"
    assert sso.store_url == srv.store_url == srv.root_url
    assert sso.expires_at is not None
    assert (sso.expires_at - fake_time.now()).days == 14
    [entry] = [r for r in srv.requests if r["operation"] == "storeSso"]
    assert entry["path"] == "/chef/v1/oauth/sso/stores/company" and entry["status"] == 200
    logged = entry["variables"]
    assert "query" not in logged and logged["user_input"] == "maria@acme.test"
    assert logged["tpd"]["auth_token"] == "[hidden]"
    assert logged["tpd"]["unique_id"] == "U0MARIA" and logged["tpd"]["otp"] == "none"
    assert logged["tpd"]["email"] == {
        "default_value": "maria@acme.test",
        "editable": False,
        "hidden": False,
        "support_alternate": False,
    }
    assert logged["tpd"]["name"] == "Maria López"
    session = srv.state.store.session(sso.sso_token)
    assert session is not None
    assert (session.email, session.unique_id, session.auth_token) == (
        "maria@acme.test",
        "U0MARIA",
        AUTH,
    )


def test_each_sign_in_mints_another_token(srv, client):
    first, second = client.store_sso(**MARIA), client.store_sso(**MARIA)
    assert first.sso_token != second.sso_token
    assert api_ops(srv) == ["storeSso", "storeSso"]


@pytest.mark.parametrize("variant", ["data", "top", "snake"])
def test_every_spelling_of_the_token(srv, client, variant):
    srv.faults.set_variant("sso", variant)
    sso = client.store_sso(**MARIA)
    assert srv.state.store.session(sso.sso_token) is not None


@pytest.mark.parametrize(
    "body",
    [
        {"data": {"ssoToken": "t-1"}},
        {"ssoToken": "t-1"},
        {"data": {"sso_token": "t-1"}},
        {"sso_token": "t-1"},
        {"data": {"data": {"ssoToken": "t-1"}}},
    ],
)
def test_parse_tolerates_the_variants(body):
    assert parse.sso_token(body) == "t-1"


@pytest.mark.parametrize("body", [{"data": {}}, {"data": {"ssoToken": ""}}, [], {"data": None}])
def test_a_missing_token_is_a_response_error(body):
    with pytest.raises(PlumResponseError):
        parse.sso_token(body)


def test_a_failed_sign_in_is_retried_like_a_read(srv, client):
    srv.faults.set("storeSso", error="503", count=1)
    client.store_sso(**MARIA)
    srv.faults.set("storeSso", drop_after_apply=True, count=1)
    client.store_sso(**MARIA)
    assert api_ops(srv) == ["storeSso"] * 4
    assert [r["status"] for r in srv.requests if r["operation"] == "storeSso"] == [
        503,
        200,
        200,
        200,
    ]


def test_a_bad_request_is_rejected_with_what_to_fix(client):
    with pytest.raises(ValueError):
        client.store_sso(email="", auth_token=AUTH, unique_id="U0MARIA")
    with pytest.raises(PlumAPIError, match="user_input"):
        client.store_sso(email="not-an-email", auth_token=AUTH, unique_id="U0MARIA")


def _scripted(answer: httpx.Response) -> tuple[PlumClient, list[dict]]:
    sent: list[dict] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/v1/oauth/token"):
            return httpx.Response(
                200, json={"access_token": "tok-1", "token_type": "bearer", "expires_in": 3600}
            )
        sent.append(json.loads(request.content))
        return answer

    client = PlumClient(
        base_url="https://accounts.xoxoday.com/chef",
        client_id="id",
        client_secret=CLIENT_SECRET,
        token_store=MemoryStore(),
        http_client=httpx.Client(transport=httpx.MockTransport(handler)),
        rate_limit=False,
        sleep=lambda _: None,
    )
    return client, sent


def test_production_sends_people_to_the_production_store():
    client, sent = _scripted(httpx.Response(200, json={"data": {"ssoToken": "eyJ.abc/def"}}))
    sso = client.store_sso(**MARIA)
    assert sso.url == f"{PRODUCTION_STORE}/chef/v1/oauth/redirect/stores/eyJ.abc%2Fdef"
    assert sent == [
        {
            "user_input": "maria@acme.test",
            "tpd": {
                "auth_token": AUTH,
                "unique_id": "U0MARIA",
                "email": {
                    "default_value": "maria@acme.test",
                    "editable": False,
                    "hidden": False,
                    "support_alternate": False,
                },
                "phone": {"default_value": "", "phone_code": "", "editable": True, "hidden": True},
                "otp": "none",
            },
        }
    ]


def test_secrets_stay_out_of_errors_reprs_and_logs(caplog):
    caplog.set_level(logging.DEBUG)
    echo = {"code": 400, "errorId": "PLE10001", "error": f"bad tpd {AUTH}", "errorInfo": AUTH}
    client, _ = _scripted(httpx.Response(400, json=echo))
    with pytest.raises(PlumAPIError) as info:
        client.store_sso(**MARIA)
    texts = [str(info.value), repr(info.value)]
    client, _ = _scripted(httpx.Response(200, json={"data": {"ssoToken": "sso-secret-77"}}))
    sso = client.store_sso(**MARIA)
    texts += [repr(sso), str(sso)]
    assert "sso-secret-77" in sso.url
    texts += [r.getMessage() for r in caplog.records]
    haystack = "\n".join(texts)
    assert AUTH not in haystack and "sso-secret-77" not in haystack
    assert isinstance(sso, StoreSso) and "accounts" not in repr(sso)


@pytest.mark.parametrize(
    ("base_url", "override", "expected"),
    [
        ("https://accounts.xoxoday.com/chef", None, PRODUCTION_STORE),
        ("https://stagingaccount.xoxoday.com/chef", None, STAGING_STORE),
        ("https://stagingstores.xoxoday.com/chef", None, STAGING_STORE),
        ("http://127.0.0.1:5050/chef", None, "http://127.0.0.1:5050"),
        ("http://127.0.0.1:5050/chef/", None, "http://127.0.0.1:5050"),
        ("https://accounts.xoxoday.com/chef", "https://shop.acme.test/", "https://shop.acme.test"),
        (
            "https://accounts.xoxoday.com/chef",
            "https://shop.acme.test/chef/v1/oauth/redirect/stores/",
            "https://shop.acme.test",
        ),
    ],
)
def test_store_root(base_url, override, expected):
    assert store_root(base_url, override) == expected


def test_the_builder_passes_the_store_url_setting(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    settings = load_settings(
        PLUM_BASE_URL="https://accounts.xoxoday.com/chef",
        PLUM_CLIENT_ID="id",
        PLUM_CLIENT_SECRET="secret",
        STOREFRONT_STORE_URL="https://shop.acme.test/",
    )
    client = build_client(settings, clock=time.time, token_store=MemoryStore())
    assert client.store_url == "https://shop.acme.test"
    plain = build_client(
        load_settings(
            PLUM_BASE_URL="https://accounts.xoxoday.com/chef",
            PLUM_CLIENT_ID="id",
            PLUM_CLIENT_SECRET="secret",
        ),
        clock=time.time,
        token_store=MemoryStore(),
    )
    assert plain.store_url == PRODUCTION_STORE


def test_the_builders_client_tells_the_time_by_the_clock_it_is_given(srv, fake_time):
    """The process's clock (which the playground moves, and the sandbox follows) reaches the
    client the builder makes: its sign-in links expire 14 days after that clock's now."""
    fake_time.advance(30 * 86400)  # a month ahead of the system clock
    settings = load_settings(
        PLUM_BASE_URL=srv.base_url, PLUM_CLIENT_ID="sandbox", PLUM_CLIENT_SECRET=CLIENT_SECRET
    )
    with build_client(
        settings, clock=fake_time.epoch, token_store=MemoryStore(), rate_limit=False
    ) as client:
        sso = client.store_sso(**MARIA)
    assert sso.expires_at is not None
    assert (sso.expires_at - fake_time.now()).days == 14
