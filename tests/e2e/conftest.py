from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.simulators.fakeslack import FakeSlack, Workspace
from bot.simulators.plum_sandbox import SandboxServer
from tests.e2e.harness import BotHarness


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
def make_bot(tmp_path: Path, fake: FakeSlack, sandbox: SandboxServer) -> Iterator:
    bots: list[BotHarness] = []

    def make(**overrides: object) -> BotHarness:
        bot = BotHarness(tmp_path=tmp_path, fake=fake, sandbox=sandbox, **overrides)
        bots.append(bot)
        return bot

    yield make
    for bot in bots:
        bot.stop()


@pytest.fixture
def bot(make_bot) -> BotHarness:
    return make_bot()
