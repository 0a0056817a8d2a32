"""Production code never loads the simulators: a bot serving real Slack and real Xoxoday imports
no module of `bot.simulators` (the fake Slack, the Plum sandbox, the playground)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

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


# Outside the simulators, only these may name the sandbox: the setting's value and what it needs
# (settings), the list of commands (cli), and the commands that start it or the playground
# (`rewardbot check` starts it through `plum check`'s own check).
MAY_NAME_IT = {
    "bot/settings.py",
    "bot/cli.py",
    "bot/commands/sandbox.py",
    "bot/commands/playground.py",
    "bot/commands/plum.py",
    "bot/commands/running.py",
    "bot/commands/check.py",
}


def production_files() -> list[Path]:
    files = [*(REPO / "bot").rglob("*.py"), *(REPO / "storage").rglob("*.py")]
    return [p for p in files if "simulators" not in p.relative_to(REPO).parts]


def test_production_code_does_not_mention_the_sandbox() -> None:
    """`serve` pays people unless the sandbox is asked for by name: the production path has no
    hook, branch or default for it (the embedded sandbox is an add-on of the start-up)."""
    mentioning = sorted(
        str(p.relative_to(REPO))
        for p in production_files()
        if "sandbox" in p.read_text(encoding="utf-8").lower()
    )
    assert [p for p in mentioning if p not in MAY_NAME_IT] == []
    assert "bot/commands/running.py" in mentioning  # the check sees what it should
