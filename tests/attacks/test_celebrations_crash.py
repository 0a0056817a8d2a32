"""Celebrations against real processes, on SQLite and PostgreSQL: `rewardbot people import`,
then `rewardbot jobs run celebrations` twice at once (two processes racing over the same
birthdays), and a run SIGKILLed half-way and run again. Each celebration is paid once: one
reward and one row per person, kind and year, one sendBalance, one DM, one announcement.

The clock can't be moved in another process, so the people are given today's date in a time
zone where it is past 09:00 now (a weekend date is then celebrated on the Friday before, which
the catch-up days still cover)."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.simulators.fakeslack import FakeSlack
from tests.attacks.conftest import DATABASES, Query, on_database
from tests.attacks.serve_process import ServeProcess
from tests.e2e.harness import message_text

CHANNEL = "C0KUDOS"
SETTINGS = {"REWARD_BIRTHDAY_POINTS": "40", "REWARD_CELEBRATION_CHANNEL": CHANNEL}
PEOPLE = (("UCELEB01", "ceri@acme.test"), ("UCELEB02", "dana@acme.test"))


def zone_past_nine() -> tuple[str, datetime]:
    """A fixed-offset zone where it is between 10:00 and 22:00 now, and the time there."""
    now = datetime.now(UTC)
    for hours in range(-12, 15):
        local = now + timedelta(hours=hours)
        if 10 <= local.hour <= 22:
            name = "UTC" if hours == 0 else f"Etc/GMT{-hours:+d}"  # Etc/GMT-5 is UTC+5
            return name, local
    raise AssertionError("every hour of the day is in some zone")


@pytest.fixture(params=DATABASES)
def ledger(
    request: pytest.FixtureRequest, make_serve: Callable[..., ServeProcess], fake: FakeSlack
) -> Iterator[tuple[ServeProcess, Query]]:
    tz, local = zone_past_nine()
    for user_id, email in PEOPLE:
        fake.workspace.add_user(id=user_id, name=user_id.lower(), email=email, tz=tz)
    with on_database(request, make_serve, request.param, **SETTINGS) as (serve, sql):
        path = serve.tmp_path / "people.csv"
        path.write_text(
            "person,birthday\n" + "".join(f"{email},{local:%m-%d}\n" for _, email in PEOPLE)
        )
        done = serve.run_once("people", "import", str(path))
        assert done.returncode == 0, done.stdout + done.stderr
        assert "imported 2 people" in done.stdout
        serve.start()
        yield serve, sql


def job(serve: ServeProcess) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "jobs", "run", "celebrations"],
        env=serve.env(),
        cwd=serve.tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def next_second() -> None:
    """A manual run is claimed for its second: the next one starts in a second of its own."""
    time.sleep(1.05 - time.time() % 1)


def paid_once_each(serve: ServeProcess, sql: Query) -> None:
    serve.wait_until(
        lambda: sql("SELECT COUNT(*) FROM rewards WHERE status = 'sent'") == [(2,)], 60
    )
    serve.settle()
    assert sql("SELECT COUNT(*), COUNT(DISTINCT member_id) FROM celebrations") == [(2, 2)]
    assert sql("SELECT COUNT(*), SUM(total_points) FROM rewards") == [(2, 80)]
    assert sql("SELECT COUNT(DISTINCT idempotency_key) FROM rewards") == [(2,)]
    emails = sorted(
        r["to_email"]
        for send in serve.sends()
        for r in (
            send["variables"].get("recipients")
            or send["variables"]["recipients_data"]["recipients"]
        )
    )
    assert emails == sorted(email for _, email in PEOPLE)
    for user_id, _ in PEOPLE:
        assert len([t for t in serve.dm_texts(user_id) if "Happy birthday" in t]) == 1
    texts = [message_text(m) for m in serve.fake.messages(CHANNEL)]
    assert len(texts) == 2 and all("Happy birthday" in t for t in texts)


def test_two_runs_racing_pay_each_celebration_once(
    ledger: tuple[ServeProcess, Query], fake: FakeSlack
) -> None:
    serve, sql = ledger
    fake.slow_next("users.lookupByEmail", seconds=3, count=4)  # both runs meet there
    first = job(serve)
    claimed = "SELECT COUNT(*) FROM job_runs WHERE job = 'celebrations'"
    serve.wait_until(lambda: sql(claimed) == [(1,)], 60)  # the second claims a second of its own
    next_second()
    second = job(serve)
    outs = [p.communicate(timeout=90)[0] for p in (first, second)]
    assert [p.returncode for p in (first, second)] == [0, 0], outs
    sent = [line for out in outs for line in out.splitlines() if line.startswith("celebrations:")]
    assert sum(int(s.split(": ok: ")[1].split()[0]) for s in sent) == 2, sent
    paid_once_each(serve, sql)


def test_a_run_killed_half_way_and_run_again_pays_each_once(
    ledger: tuple[ServeProcess, Query], fake: FakeSlack
) -> None:
    serve, sql = ledger
    # the first person is paid; the run is killed while Slack holds the second's look-up
    fake.slow_next("users.lookupByEmail", seconds=0.01, count=1)
    fake.slow_next("users.lookupByEmail", seconds=120, count=1)
    next_second()
    killed = job(serve)
    try:
        serve.wait_until(lambda: fake.held("users.lookupByEmail"), 60)
        serve.wait_until(lambda: sql("SELECT COUNT(*) FROM celebrations") == [(1,)], 30)
    finally:
        killed.kill()
        killed.wait()
    fake.clear_faults()
    assert sql("SELECT COUNT(*) FROM rewards") == [(1,)]

    next_second()
    again = job(serve)
    out = again.communicate(timeout=90)[0]
    assert again.returncode == 0, out
    assert "celebrations: ok: 1 celebration(s) sent (1 birthday); 1 already sent" in out
    paid_once_each(serve, sql)
    next_second()
    last = job(serve)
    out = last.communicate(timeout=90)[0]
    assert "0 celebration(s) sent; 2 already sent" in out, out
    serve.settle()
    assert sql("SELECT COUNT(*) FROM rewards") == [(2,)]
    assert len(serve.sends()) == 2


def test_the_people_file_is_rejected_whole(
    make_serve: Callable[..., ServeProcess], tmp_path: Path
) -> None:
    serve = make_serve(start=False)
    bad = tmp_path / "bad.csv"
    bad.write_text('person,birthday\nUCELEB01,01-01\n=HYPERLINK("x"),02-30\nUCELEB01,03-03\n')
    done = serve.run_once("people", "import", str(bad))
    assert done.returncode == 1
    said = [line for line in done.stderr.splitlines() if not line.startswith("20")]  # no log
    assert said[:3] == [
        "bad.csv was not imported; nothing was changed:",
        "row 3: '=HYPERLINK(\"x\")' is neither a Slack user id (like U012ABCDEF) nor an email "
        "(like ana@example.com); the birthday '02-30' is not a day of the year: write it as "
        "MM-DD, like 03-14",
        "row 4: UCELEB01 is on row 2 too",
    ]
    assert serve.sql("SELECT COUNT(*) FROM celebration_people") == [(0,)]
    huge = tmp_path / "huge.csv"
    with huge.open("wb") as f:
        f.write(b"person,birthday\n" + b"UCELEB01,01-01\n" * 700_000)  # 10 MB
    done = serve.run_once("people", "import", str(huge))
    assert done.returncode == 1
    assert "the file is 10,500,016 bytes; the most I read is 2,000,000 bytes" in done.stderr
    just_over = tmp_path / "just_over.csv"
    just_over.write_bytes(b"person,birthday\n" + b"x" * (2_000_000 + 1 - 16))
    done = serve.run_once("people", "import", str(just_over))
    assert done.returncode == 1
    assert "the file is 2,000,001 bytes; the most I read is 2,000,000 bytes" in done.stderr
