"""Fixtures for attacks on the real `rewardbot serve` process: the fake Slack and the Plum
sandbox in this process, the bot in a child process (`tests.attacks.serve_process`)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from bot.fakeslack import FakeSlack, Workspace
from bot.plum.sandbox import SandboxServer
from tests.attacks.serve_process import ServeProcess


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    with FakeSlack(workspace=Workspace.demo()) as fake:
        yield fake


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[SandboxServer]:
    server = SandboxServer(state_path=tmp_path / "sandbox.json", rate_limits=False)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def make_serve(
    tmp_path: Path, fake: FakeSlack, sandbox: SandboxServer
) -> Iterator[Callable[..., ServeProcess]]:
    started: list[ServeProcess] = []

    def make(*, start: bool = True, **settings: str) -> ServeProcess:
        bot = ServeProcess(tmp_path=tmp_path, fake=fake, sandbox=sandbox, **settings)
        started.append(bot)
        return bot.start() if start else bot

    yield make
    for bot in started:
        bot.kill()


@pytest.fixture
def serve(make_serve: Callable[..., ServeProcess]) -> ServeProcess:
    return make_serve()
