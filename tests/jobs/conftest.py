"""Fixtures for the job tests: the whole bot (fake Slack, Plum sandbox) at a controlled time.

`clock` moves every clock in the process (the bot, the fake Slack, the sandbox) to `T0` and lets
it run on; tests jump ahead with `clock.move_to(...)`. Test modules may override any of these.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import time_machine

from bot.simulators.fakeslack import FakeSlack, Workspace
from bot.simulators.plum_sandbox import SandboxServer
from tests.e2e.harness import BotHarness
from tests.jobs.support import T0


@pytest.fixture
def clock() -> Iterator[time_machine.Coordinates]:
    with time_machine.travel(T0, tick=True) as traveller:
        yield traveller


@pytest.fixture
def fake(clock: time_machine.Coordinates) -> Iterator[FakeSlack]:
    with FakeSlack(workspace=Workspace.demo()) as fake:
        yield fake


@pytest.fixture
def sandbox(clock: time_machine.Coordinates, tmp_path: Path) -> Iterator[SandboxServer]:
    server = SandboxServer(state_path=tmp_path / "sandbox.json", rate_limits=False)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def make_bot(
    tmp_path: Path, fake: FakeSlack, sandbox: SandboxServer
) -> Iterator[Callable[..., BotHarness]]:
    """A bot on `tmp_path/bot.db`; calling it again is a restart (a new process, same ledger)."""
    bots: list[BotHarness] = []

    def make(**overrides: object) -> BotHarness:
        bot = BotHarness(tmp_path=tmp_path, fake=fake, sandbox=sandbox, **overrides)
        bots.append(bot)
        return bot

    yield make
    for bot in bots:
        bot.stop()


@pytest.fixture
def bot(make_bot: Callable[..., BotHarness]) -> BotHarness:
    return make_bot()
