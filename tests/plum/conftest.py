"""Fixtures: one Plum sandbox per test module (reset before each test) and clients for it."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from bot.plum import PlumClient
from bot.simulators.plum_sandbox import SandboxServer
from tests.plum.memory_store import MemoryStore

CLIENT_ID = "sandbox"
CLIENT_SECRET = "sbx-client-secret-9f8e7d"


class FakeTime:
    """One clock for the sandbox (datetime) and the client (epoch seconds); sleeping advances
    it, so waits the client is asked to make cost no real time."""

    def __init__(self) -> None:
        self._now = datetime.now(UTC).replace(microsecond=0)
        self._lock = threading.Lock()
        self.slept: list[float] = []

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def epoch(self) -> float:
        return self.now().timestamp()

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._now += timedelta(seconds=seconds)

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.slept.append(seconds)
        self.advance(seconds)


@pytest.fixture(scope="module")
def _server() -> Iterator[tuple[SandboxServer, FakeTime]]:
    time = FakeTime()
    with SandboxServer(client_id=CLIENT_ID, client_secret=CLIENT_SECRET, clock=time.now) as srv:
        yield srv, time


@pytest.fixture
def fake_time(_server: tuple[SandboxServer, FakeTime]) -> FakeTime:
    time = _server[1]
    time.slept.clear()
    return time


@pytest.fixture
def srv(_server: tuple[SandboxServer, FakeTime], fake_time: FakeTime) -> SandboxServer:
    """The module's sandbox, fresh: state, faults and rate limits reset; request log empty."""
    server = _server[0]
    response = httpx.post(f"{server.root_url}/_sandbox/reset", json={})
    response.raise_for_status()
    server.rate_limits = False
    server.requests.clear()
    return server


def api_ops(server: SandboxServer) -> list[str]:
    """Operations the sandbox received (token requests excluded), in order."""
    return [r["operation"] for r in server.requests if r["operation"] != "token"]


def token_requests(server: SandboxServer) -> int:
    """Token requests (issue or refresh) the sandbox received since the test began."""
    return sum(1 for r in server.requests if r["operation"] == "token")


def dashboard_refresh_token(server: SandboxServer, flow: str = "company") -> str:
    """A fresh refresh token, as an admin would copy it from the Plum dashboard."""
    issued = server.context.tokens.issue(flow)
    assert issued.refresh_token is not None
    return issued.refresh_token


@pytest.fixture
def make_client(srv: SandboxServer, fake_time: FakeTime) -> Iterator[Callable[..., PlumClient]]:
    made: list[PlumClient] = []

    def make(**kw: Any) -> PlumClient:
        kw.setdefault("base_url", srv.base_url)
        kw.setdefault("client_id", CLIENT_ID)
        kw.setdefault("client_secret", CLIENT_SECRET)
        kw.setdefault("token_store", MemoryStore())
        kw.setdefault("sleep", fake_time.sleep)
        kw.setdefault("clock", fake_time.epoch)
        kw.setdefault("rate_limit", False)
        kw.setdefault("timeout", 5.0)
        client = PlumClient(**kw)
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()


@pytest.fixture
def client(make_client: Callable[..., PlumClient]) -> PlumClient:
    return make_client()
