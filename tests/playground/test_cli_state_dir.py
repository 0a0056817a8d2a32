"""`--state-dir` on the commands that read the ledger: `rewardbot audit verify --state-dir DIR`
reads what `rewardbot playground --state-dir DIR` kept, wherever it is run from and whatever
DATABASE_URL says, as the playground itself ignores the environment."""

from __future__ import annotations

import os
from pathlib import Path

import httpx
import pytest

from bot.cli import main
from bot.simulators.playground.server import Playground
from tests.e2e.harness import BOB, message_text


@pytest.fixture
def state(tmp_path: Path) -> Path:
    """A playground's state directory after one reward was given and sent."""
    where = tmp_path / "playground-data"
    running = Playground(state_dir=where, port=0).start()
    try:
        sent = httpx.post(
            f"{running.url}ui/send",
            json={"as": BOB, "view": "C0GENERAL", "text": "/reward @maria 30 great demo"},
            timeout=10,
        )
        assert sent.status_code == 200, sent.text
        running.fake.wait_for(
            lambda: [
                m for m in running.fake.messages("C0GENERAL") if "rewarded" in message_text(m)
            ],
            timeout=10,
        )
    finally:
        running.stop()
    return where


@pytest.fixture
def elsewhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run from another directory, with DATABASE_URL naming an empty ledger of its own."""
    cwd = tmp_path / "elsewhere"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{cwd / 'other.db'}")
    return cwd


def test_audit_verify_reads_the_playgrounds_ledger(
    state: Path, elsewhere: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["audit", "verify", "--state-dir", str(state)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("verified ") and "verified 0 events" not in out

    assert main(["migrate"]) == 0  # without the flag: DATABASE_URL's ledger, still empty
    capsys.readouterr()
    assert main(["audit", "verify"]) == 0
    assert "verified 0 events" in capsys.readouterr().out


def test_audit_export_and_jobs_list_read_it_too(
    state: Path, elsewhere: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    exported = elsewhere / "audit.csv"
    assert main(["audit", "export", "--state-dir", str(state), "-o", str(exported)]) == 0
    assert "reward" in exported.read_text(encoding="utf-8")
    assert main(["jobs", "list", "--state-dir", str(state)]) == 0
    assert "weekly-summary" in capsys.readouterr().out


def test_points_verify_reads_it_too(
    tmp_path: Path, elsewhere: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    where = tmp_path / "storefront-data"
    running = Playground(state_dir=where, port=0, storefront=True).start()
    try:
        sent = httpx.post(
            f"{running.url}ui/send",
            json={"as": BOB, "view": "C0GENERAL", "text": "/reward @maria 30 great demo"},
            timeout=10,
        )
        assert sent.status_code == 200, sent.text
        running.fake.wait_for(
            lambda: [
                m for m in running.fake.messages("C0GENERAL") if "rewarded" in message_text(m)
            ],
            timeout=10,
        )
    finally:
        running.stop()
    assert main(["points", "verify", "--state-dir", str(where)]) == 0
    assert capsys.readouterr().out == "1 lot of 1 person adds up\n"
    assert main(["points", "verify"]) == 1  # DATABASE_URL's ledger: not there, not made
    assert "there is no ledger at" in capsys.readouterr().err
    assert os.listdir(elsewhere) == []


def test_a_directory_without_a_playground_ledger_is_said_in_one_line(
    elsewhere: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["audit", "verify", "--state-dir", str(elsewhere / "nothing-here")]) == 2
    said = capsys.readouterr().err
    assert "nothing-here" in said and "no playground ledger" in said
    assert not (elsewhere / "nothing-here").exists()  # nothing was created there
