"""`serve`, `clock` and `jobs run` refuse, in one line and before anything is made, what
`rewardbot check` fails without the network: a key that can't be used, a public URL that is not
the bot's https address; the same words as the check's line."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bot.checks.offline import keys, public_url, reactions
from bot.cli import main
from bot.settings import load_settings

CONFIG_ERROR = "rewardbot: configuration error: "


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Everything serve needs, in an empty directory (no .env), nothing else from outside."""
    monkeypatch.chdir(tmp_path)
    for name in list(os.environ):
        if name.startswith(("SLACK_", "PLUM_", "REWARD_", "AUDIT_", "ENCRYPTION_", "PUBLIC_")):
            monkeypatch.delenv(name)
    values = {
        "SLACK_BOT_TOKEN": "xoxb-refusal-test",
        "SLACK_SIGNING_SECRET": "refusal-signing-secret",
        "SLACK_API_URL": "http://127.0.0.1:9/api/",
        "PLUM_BASE_URL": "sandbox",
        "REWARD_ADMINS": "UADMIN01",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'bot.db'}",
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("PUBLIC_URL", "http://rewards.example.com"),
        ("AUDIT_KEY", "too-short"),
        ("REWARD_REACTIONS", "taco=5,gold=9000"),
    ],
)
@pytest.mark.parametrize("command", [["serve"], ["clock"], ["jobs", "run", "balance-alert"]])
def test_refused_in_one_line_before_anything_is_made(
    env: None,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    command: list[str],
    name: str,
    value: str,
) -> None:
    monkeypatch.setenv(name, value)
    monkeypatch.setattr("uvicorn.run", lambda *a, **k: pytest.fail("serve started"))
    assert main(command) == 2
    err = capsys.readouterr().err.strip().splitlines()
    settings = load_settings()
    checked = {"PUBLIC_URL": public_url, "REWARD_REACTIONS": reactions}.get(name, keys)
    line = checked(settings)
    assert line is not None
    assert err == [CONFIG_ERROR + line.text]  # the check's own words
    if name == "AUDIT_KEY":
        assert value not in err[0]  # a key is never shown
    assert os.listdir(tmp_path) == []  # no database, no journal, no key file


def test_warnings_do_not_stop_the_start(
    env: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Plain http on this machine and keys kept in a key file only warn in `rewardbot check`."""
    monkeypatch.setenv("PUBLIC_URL", "http://127.0.0.1:3000")
    started: list[int] = []
    monkeypatch.setattr("uvicorn.run", lambda app, **kw: started.append(kw["port"]))
    assert main(["serve", "--no-scheduler", "--port", "3999"]) == 0
    assert started == [3999]
    assert (tmp_path / "bot.db.keys").exists()  # made by the start-up, as before
