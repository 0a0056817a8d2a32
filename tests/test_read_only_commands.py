"""The commands that only read the ledger (`audit verify`, `audit export`, `jobs list`,
`points verify`), run as a person runs them: on a ledger that is not there they exit 1 with one
line naming the path they looked for, and create nothing (no database, no directory, no key
file); on a ledger that is there they still make no key file."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.command_line import rewardbot
from tests.storage.support import migrated_sqlite

READ_ONLY = [
    ["audit", "verify"],
    ["audit", "export", "--output", "events.csv"],
    ["jobs", "list"],
    ["points", "verify"],
]


@pytest.mark.parametrize("command", READ_ONLY, ids=" ".join)
def test_a_missing_ledger_is_named_in_one_line_and_nothing_is_created(
    command: list[str], tmp_path: Path
) -> None:
    for url, where in (
        ({}, tmp_path / "rewardbot.db"),  # DATABASE_URL's default, in the working directory
        ({"DATABASE_URL": f"sqlite:///{tmp_path / 'data' / 'bot.db'}"}, tmp_path / "data/bot.db"),
    ):
        done = rewardbot(command, url, tmp_path)
        assert done.returncode == 1, done.stderr
        assert done.stdout == ""
        assert done.stderr == f"rewardbot: there is no ledger at {where}\n"
    assert os.listdir(tmp_path) == []  # no database, no directory, no key file, no output file


@pytest.mark.parametrize("command", READ_ONLY, ids=" ".join)
def test_on_a_ledger_that_is_there_they_read_it_and_make_no_key_file(
    command: list[str], tmp_path: Path
) -> None:
    ledger = migrated_sqlite(tmp_path / "bot.db")  # as `rewardbot migrate` leaves it
    env = {"DATABASE_URL": f"sqlite:///{ledger}"}
    before = sorted(os.listdir(tmp_path))
    done = rewardbot(command, env, tmp_path)
    assert done.returncode == 0, done.stderr
    # (SQLite's own -wal and -shm files of a WAL database aside, which any reader may make)
    made = sorted(set(os.listdir(tmp_path)) - set(before) - {"bot.db-wal", "bot.db-shm"})
    assert made == (["events.csv"] if "export" in command else [])
