"""`rewardbot points verify`, run as a person runs it (a child process, a bare environment) on a
real ledger: exit 0 saying how many lots of how many people add up; exit 1 naming the first
difference and counting the others (`--all` lists them); exit 1 in one line when the ledger
isn't there, creating nothing; exit 0 with a note when points live at Xoxoday."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from bot.commands.points import PLUM_NOTE, WHAT_TO_DO, adds_up
from storage.db import Store
from storage.migrations import upgrade
from tests.command_line import rewardbot
from tests.storage.conftest import People
from tests.storage.point_ledger import APRIL, BOB, Ledger, build_ledger, corrupt
from tests.storage.support import TestDatabase


@pytest.fixture
def ledger(store: Store, people: People) -> Ledger:
    return build_ledger(store, people)


def verify(db: TestDatabase, cwd: Path, *flags: str) -> subprocess.CompletedProcess[str]:
    db.engine.dispose()  # SQLite: everything written is in the file the child reads
    return rewardbot(["points", "verify", *flags], {"DATABASE_URL": db.url}, cwd)


def test_books_that_add_up_exit_0(db: TestDatabase, ledger: Ledger, tmp_path: Path) -> None:
    done = verify(db, tmp_path)
    assert (done.returncode, done.stdout, done.stderr) == (0, "6 lots of 3 people add up\n", "")


def test_the_first_difference_is_named_and_the_others_counted(
    db: TestDatabase, ledger: Ledger, tmp_path: Path
) -> None:
    corrupt(
        db,
        [
            (
                "UPDATE point_lots SET remaining = remaining + 100 WHERE id = :id",
                {"id": ledger.bob_r1},
            ),
            (
                "UPDATE point_lots SET remaining = remaining + 100 WHERE id = :id",
                {"id": ledger.april_r3},
            ),
        ],
    )
    bob = (
        f"{BOB}, reward {ledger.r1}: credited 50 − spent 30 + refunded 10 − expired 0 − taken "
        "back 30 = 0 points, but the lot records 1 available"
    )
    april = (
        f"{APRIL}, reward {ledger.r3}: credited 30 − spent 0 + refunded 0 − expired 0 − taken "
        "back 0 = 30 points, but the lot records 31 available"
    )
    done = verify(db, tmp_path)
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr.splitlines() == [
        "the point books do NOT add up:",
        f"  {bob}",
        "  … and 3 other differences (--all lists them)",
        WHAT_TO_DO,
    ]
    every = verify(db, tmp_path, "--all")
    assert every.returncode == 1
    assert every.stderr.splitlines() == [
        "the point books do NOT add up:",
        f"  {bob}",
        f"  {BOB}, balance: available 16 points, but their lots add up to 15",
        f"  {april}",
        f"  {APRIL}, balance: available 31 points, but their lots add up to 30",
        WHAT_TO_DO,
    ]


def test_a_missing_ledger_is_named_in_one_line_and_not_created(tmp_path: Path) -> None:
    for url, where in (
        ("sqlite:///rewardbot.db", tmp_path / "rewardbot.db"),
        (f"sqlite:///{tmp_path / 'data' / 'bot.db'}", tmp_path / "data" / "bot.db"),
    ):
        done = rewardbot(["points", "verify"], {"DATABASE_URL": url}, tmp_path)
        assert done.returncode == 1 and done.stdout == ""
        assert done.stderr == f"rewardbot: there is no ledger at {where}\n"
    assert os.listdir(tmp_path) == []  # no database, no directory, no key file
    default = rewardbot(["points", "verify"], {}, tmp_path)  # DATABASE_URL's default
    assert default.stderr == f"rewardbot: there is no ledger at {tmp_path / 'rewardbot.db'}\n"
    assert os.listdir(tmp_path) == []


def test_with_points_at_xoxoday_there_are_no_books_to_add_up(tmp_path: Path) -> None:
    upgrade(f"sqlite:///{tmp_path / 'rewardbot.db'}")
    done = rewardbot(["points", "verify"], {}, tmp_path)
    assert (done.returncode, done.stdout, done.stderr) == (0, PLUM_NOTE + "\n", "")
    storefront = rewardbot(
        ["points", "verify"],
        {"REWARD_POINT_SYSTEM": "storefront", "STOREFRONT_API_KEY": "k"},
        tmp_path,
    )
    assert (storefront.returncode, storefront.stdout) == (0, "0 lots of 0 people add up\n")
    assert [name for name in os.listdir(tmp_path) if name.endswith(".keys")] == []


def test_the_count_reads_as_english() -> None:
    assert adds_up(lots=1, people=1) == "1 lot of 1 person adds up"
    assert adds_up(lots=12, people=5) == "12 lots of 5 people add up"
