"""Production code never loads the simulators: a bot serving real Slack and real Xoxoday imports
no module of `bot.simulators` (the fake Slack, the Plum sandbox, the playground)."""

from __future__ import annotations

import subprocess
import sys

CODE = """
import sys
import {modules}
loaded = sorted(m for m in sys.modules if m == "bot.simulators" or m.startswith("bot.simulators."))
print(",".join(loaded))
"""

PRODUCTION = [
    "bot.runtime",
    "bot.cli",
    "bot.app",
    "bot.web",
    "bot.commands.serve",
    "bot.jobs.registry",
]


def loaded_simulators(*modules: str) -> list[str]:
    ran = subprocess.run(
        [sys.executable, "-c", CODE.format(modules=", ".join(modules))],
        capture_output=True,
        text=True,
        check=True,
    )
    return [m for m in ran.stdout.strip().split(",") if m]


def test_the_bot_imports_no_simulator() -> None:
    assert loaded_simulators(*PRODUCTION) == []


def test_the_check_would_notice_a_simulator() -> None:
    assert "bot.simulators.plum_sandbox" in loaded_simulators(
        "bot.runtime", "bot.simulators.plum_sandbox"
    )
