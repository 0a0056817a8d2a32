"""`rewardbot config`: every variable with its value in one column, secrets hidden."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.cli import main
from bot.settings import Settings

NAMES = list(Settings.model_fields)


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    """No setting in the environment and no .env (an empty working directory); a setter."""
    monkeypatch.chdir(tmp_path)
    for name in NAMES:
        monkeypatch.delenv(name, raising=False)

    def set_env(**values: str) -> None:
        for name, value in values.items():
            monkeypatch.setenv(name, value)

    return set_env


def table(out: str) -> dict[str, tuple[int, str]]:
    """Each variable's row: the column its value starts in, and the value."""
    rows = {}
    for line in out.splitlines():
        match = re.match(r"^([A-Z][A-Z_]+)( +)(\S.*)$", line)
        if match and match.group(1) in NAMES:
            rows[match.group(1)] = (match.start(3), match.group(3))
    return rows


def test_every_value_starts_in_the_same_column(env, capsys) -> None:
    env(REWARD_APPROVAL_ESCALATE_HOURS="80")
    main(["config"])
    rows = table(capsys.readouterr().out)
    assert list(rows) == NAMES  # every variable, in order, one row each
    columns = {name: column for name, (column, _) in rows.items()}
    assert len(set(columns.values())) == 1, columns
    longest = max(len(name) for name in NAMES)
    assert set(columns.values()) == {longest + 2}  # two spaces after the longest name
    assert rows["REWARD_APPROVAL_ESCALATE_HOURS"][1] == "80"
