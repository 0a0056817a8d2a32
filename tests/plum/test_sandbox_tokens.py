"""Tokens against the sandbox: one refresh for many threads, rotation saved before use."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta

import pytest

from bot.plum import (
    AuthError,
    FileTokenStore,
    InvalidGrantError,
    TokenSet,
    TokenStoreError,
)
from bot.simulators.plum_sandbox import SandboxServer
from tests.plum.conftest import (
    CLIENT_ID,
    CLIENT_SECRET,
    FakeTime,
    api_ops,
    dashboard_refresh_token,
    token_requests,
)
from tests.plum.memory_store import MemoryStore

ACCESS_TTL = 60


@pytest.fixture(scope="module")
def _server() -> Iterator[tuple[SandboxServer, FakeTime]]:
    """This module's sandbox issues access tokens that live one minute (of fake time)."""
    time = FakeTime()
    server = SandboxServer(
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        clock=time.now,
        access_ttl_seconds=ACCESS_TTL,
        refresh_ttl_seconds=3600,
    )
    with server:
        yield server, time


def hammer(client, n: int = 50) -> list[BaseException]:
    """`n` threads call user_balance at the same moment; returns their errors."""
    start = threading.Barrier(n)
    errors: list[BaseException] = []

    def work() -> None:
        start.wait()
        try:
            client.user_balance(email="ann@example.com")
        except BaseException as err:  # collected and asserted below
            errors.append(err)

    threads = [threading.Thread(target=work) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return errors


def company(srv, make_client, **kw):
    return make_client(token_flow="company", refresh_token=dashboard_refresh_token(srv), **kw)


@pytest.mark.parametrize("flow", ["client_credentials", "company"])
def test_fifty_threads_on_an_expired_token_cause_one_refresh(srv, make_client, fake_time, flow):
    # a generous timeout: a read that times out on a loaded machine is sent again (counted twice)
    client = (
        company(srv, make_client, timeout=60.0) if flow == "company" else make_client(timeout=60.0)
    )
    client.get_balance()
    before = srv.token_requests
    fake_time.advance(ACCESS_TTL * 2)
    assert hammer(client) == []
    assert srv.token_requests - before == 1
    assert token_requests(srv) == 2
    assert api_ops(srv).count("user_balance") == 50


@pytest.mark.parametrize("body", ["oauth", "success0"])
def test_fifty_threads_with_a_token_the_server_rejects_cause_one_refresh(
    srv, make_client, fake_time, body
):
    srv.faults.set_variant("invalid_token", body)
    frozen = fake_time.epoch()
    # believes its token is fresh; a generous timeout, as a read that times out on a loaded
    # machine is sent again (answered twice) and this counts the answers
    client = company(srv, make_client, clock=lambda: frozen, timeout=60.0)
    client.get_balance()
    before = srv.token_requests
    fake_time.advance(ACCESS_TTL * 2)  # the sandbox now rejects it
    assert hammer(client) == []
    assert srv.token_requests - before == 1
    statuses = [r["status"] for r in srv.requests if r["operation"] == "user_balance"]
    assert statuses.count(200) == 50


def test_token_refreshed_ahead_of_expiry(srv, make_client, fake_time):
    client = make_client()
    client.get_balance()
    fake_time.advance(ACCESS_TTL * 0.95)  # 5 % of its life left: below the 10 % margin
    client.get_balance()
    assert token_requests(srv) == 2
    assert {r["status"] for r in srv.requests} == {200}  # never sent a dying token


def test_rotated_tokens_are_saved_before_they_are_used(srv, make_client):
    dashboard = dashboard_refresh_token(srv)
    seeded = TokenSet(
        access_token="", access_expires_at=None, refresh_token=dashboard, flow="company"
    )
    store = MemoryStore(seeded)
    client = make_client(token_flow="company", token_store=store)
    store.fail_saves = 1
    with pytest.raises(TokenStoreError, match="saving them failed") as info:
        client.get_balance()
    assert "sbx_" not in str(info.value)
    assert token_requests(srv) == 1
    assert api_ops(srv) == []  # the unsaved access token was never sent
    assert store.tokens is seeded
    # the store works again: the pending tokens are saved, then used; no second refresh
    assert client.get_balance().value > 0
    assert token_requests(srv) == 1
    assert store.tokens.refresh_token not in (None, dashboard)
    # the saved refresh token is the live one: another "process" can refresh with it
    other = make_client(token_flow="company", token_store=store)
    other.refresh()
    assert token_requests(srv) == 2


def test_failed_save_of_the_seed_is_a_token_store_error(srv, make_client):
    store = MemoryStore()
    store.fail_saves = 1
    with pytest.raises(TokenStoreError, match="configured Plum tokens"):
        company(srv, make_client, token_store=store).get_balance()


@pytest.mark.parametrize("retry_after", ["header", "none"])
def test_refresh_throttling_is_waited_out(srv, make_client, fake_time, retry_after):
    srv.faults.set_variant("retry_after", retry_after)
    srv.faults.set("token", error="throttle", count=1)
    client = company(srv, make_client)
    client.get_balance()
    assert len(fake_time.slept) == 1
    if retry_after == "header":
        assert fake_time.slept == [60]
    assert token_requests(srv) == 2


def test_dead_refresh_token_says_how_to_fix_it(srv, make_client):
    with pytest.raises(InvalidGrantError) as info:
        make_client(token_flow="company", refresh_token="sbx_rt_not-a-real-one").get_balance()
    assert "PLUM_REFRESH_TOKEN" in str(info.value) and "dashboard" in str(info.value)
    assert "sbx_rt_not-a-real-one" not in str(info.value)


def test_rejected_access_token_without_refresh_token(srv, make_client):
    client = make_client(
        token_flow="company", client_id=None, client_secret=None, access_token="sbx_at_bogus"
    )
    with pytest.raises(AuthError, match="PLUM_REFRESH_TOKEN"):
        client.validate()


@pytest.mark.parametrize("variant", ["spec", "docs"])
def test_user_flow_refresh_in_both_token_shapes(srv, make_client, fake_time, variant):
    srv.faults.set_variant("token", variant)
    store = MemoryStore()
    dashboard = dashboard_refresh_token(srv, "user")
    client = make_client(token_flow="user", refresh_token=dashboard, token_store=store)
    client.get_balance()
    tokens = store.tokens
    assert tokens.flow == "user" and tokens.refresh_token != dashboard
    second = timedelta(seconds=1)  # the answer carries epoch milliseconds
    assert abs(tokens.access_expires_at - (fake_time.now() + ACCESS_TTL * second)) < second
    assert abs(tokens.refresh_expires_at - (fake_time.now() + 3600 * second)) < second
    assert [r["path"] for r in srv.requests if r["operation"] == "token"] == [
        "/chef/v1/oauth/token/user"
    ]


def test_two_processes_share_tokens_through_the_file(srv, make_client, fake_time, tmp_path):
    path = tmp_path / "tokens.json"
    dashboard = dashboard_refresh_token(srv)
    a = make_client(
        token_flow="company", refresh_token=dashboard, token_store=FileTokenStore(path=path)
    )
    b = make_client(
        token_flow="company", refresh_token=dashboard, token_store=FileTokenStore(path=path)
    )
    a.get_balance()
    b.get_balance()  # finds A's tokens in the file: no refresh (A's rotation killed the seed)
    assert token_requests(srv) == 1
    fake_time.advance(ACCESS_TTL * 2)
    a.get_balance()
    b.get_balance()
    assert token_requests(srv) == 2
