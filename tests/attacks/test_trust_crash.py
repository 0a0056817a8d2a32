"""SIGKILL in the middle of trust decisions, on the real `rewardbot serve` (and `rewardbot jobs
run flags`), restarted on the same database (SQLite and PostgreSQL): the flags job killed while
it DMs the admins, and the bot killed while it tells a giver locked from a flag's button.
Nothing is lost (the flag is reported, the giver told), nothing is doubled (one flag, one lock,
one DM of each, one answer)."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from bot.slack.ids import ActionId
from tests.attacks.conftest import DATABASES, Query, on_database
from tests.attacks.serve_process import SWEEP_QUIET_SECONDS, ServeProcess
from tests.e2e.harness import (
    ADMIN,
    BOB,
    CHEN,
    MARIA,
    actions_in,
    message_text,
    observed,
    wait_settled,
)

LOCKED = "You can't give rewards right now"
PAUSED_DM = "An admin has paused your giving"


@pytest.fixture(params=DATABASES)
def ledger(
    request: pytest.FixtureRequest, make_serve: Callable[..., ServeProcess]
) -> Iterator[tuple[ServeProcess, Query]]:
    """The bot, started, on each database, and a query of its ledger."""
    with on_database(request, make_serve, request.param) as (serve, sql):
        serve.start()
        yield serve, sql


def settle(serve: ServeProcess, sql: Query, quiet: float = 0.3) -> None:
    """Nothing queued or being sent, and nothing new on the fake Slack or the sandbox."""

    def busy() -> str:
        n = sql("SELECT COUNT(*) FROM rewards WHERE status IN ('queued', 'sending')")[0][0]
        return f"{n} reward(s) queued or being sent" if n else ""

    wait_settled(busy, lambda: observed(serve.fake, serve.sandbox), quiet=quiet, timeout=60)


def ring(serve: ServeProcess, sql: Query) -> None:
    for i in range(3):
        serve.driver.command(f"<@{BOB}> 5 ring thanks {i}", user_id=MARIA)
        serve.driver.command(f"<@{MARIA}> 6 ring thanks back {i}", user_id=BOB)
    serve.wait_until(
        lambda: sql("SELECT COUNT(*) FROM rewards WHERE status = 'sent'")[0][0] == 6, 60
    )
    settle(serve, sql)


def run_flags(serve: ServeProcess) -> subprocess.CompletedProcess[str]:
    """`rewardbot jobs run flags`, in a second no earlier run claimed: a manual run is claimed
    for its second, and on a quick machine the next one starts within the second a killed or
    finished run claimed (it would say "not run: another run claimed this second")."""
    time.sleep(1.05 - time.time() % 1)
    return serve.run_once("jobs", "run", "flags")


def flag_dms(serve: ServeProcess) -> list[dict[str, Any]]:
    return [m for m in serve.fake.dms_to(ADMIN) if "Flags to look at" in message_text(m)]


def flags_job(serve: ServeProcess) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "jobs", "run", "flags"],
        env=serve.env(),
        cwd=serve.tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def test_the_flags_job_killed_while_it_dms_the_admins_loses_and_doubles_nothing(
    ledger: tuple[ServeProcess, Query], fake
) -> None:
    serve, sql = ledger
    ring(serve, sql)
    fake.slow_next("chat.postMessage", seconds=120)  # the admin's DM hangs in Slack
    job = flags_job(serve)
    try:
        serve.wait_until(lambda: fake.held("chat.postMessage"), 60)
    finally:
        job.kill()
        job.wait()
    fake.clear_faults()
    assert sql("SELECT rule, people, reported_at FROM reward_flags") == [
        ("ring", f"{BOB},{MARIA}", None)
    ]
    assert flag_dms(serve) == []

    again = run_flags(serve)  # the next run
    assert again.returncode == 0, again.stdout + again.stderr
    [dm] = serve.wait_until(lambda: flag_dms(serve), 30)
    assert f"<@{BOB}>, <@{MARIA}> gave mostly to each other" in message_text(dm)
    assert sql("SELECT COUNT(*) FROM reward_flags WHERE reported_at IS NOT NULL") == [(1,)]

    last = run_flags(serve)  # reported: not again
    assert last.returncode == 0, last.stdout + last.stderr
    settle(serve, sql, quiet=SWEEP_QUIET_SECONDS)
    assert len(flag_dms(serve)) == 1
    assert sql("SELECT COUNT(*) FROM reward_flags") == [(1,)]
    assert sql("SELECT COUNT(*) FROM audit_events WHERE action = 'flag.raised'") == [(1,)]


def test_a_lock_from_a_flag_killed_while_the_giver_is_told_is_finished_once_after_restart(
    ledger: tuple[ServeProcess, Query], fake
) -> None:
    serve, sql = ledger
    ring(serve, sql)
    done = run_flags(serve)
    assert done.returncode == 0, done.stdout + done.stderr
    [dm] = serve.wait_until(lambda: flag_dms(serve), 30)
    [(flag_id,)] = sql("SELECT id FROM reward_flags")

    fake.slow_next("chat.postMessage", seconds=120)  # the locked giver's DM hangs in Slack
    for _ in range(2):  # a double click
        response = serve.driver.block_action(
            user_id=ADMIN, action_id=ActionId.FLAG_LOCK, value=str(flag_id), message=dm
        )
        assert response.status_code == 200
    serve.wait_until(lambda: fake.held("chat.postMessage"), 30)
    serve.kill()
    fake.clear_faults()
    assert sql("SELECT status, decided_by FROM reward_flags") == [("locked", ADMIN)]
    assert sql(f"SELECT locked_by FROM members WHERE slack_user_id = '{BOB}'") == [(ADMIN,)]
    assert [t for t in serve.dm_texts(BOB) if PAUSED_DM in t] == []

    serve.start()  # the click is resumed: the giver is told, the admin answered
    serve.wait_until(lambda: [t for t in serve.dm_texts(BOB) if PAUSED_DM in t], 30)
    edited = serve.wait_until(
        lambda: (m := fake.workspace.message(dm["channel"], dm["ts"])) and not actions_in(m) and m,
        30,
    )
    assert f"<@{BOB}> is locked from giving" in message_text(edited)
    serve.restart()
    settle(serve, sql, quiet=SWEEP_QUIET_SECONDS)
    assert len([t for t in serve.dm_texts(BOB) if PAUSED_DM in t]) == 1
    assert sql("SELECT COUNT(*) FROM audit_events WHERE action = 'member.locked'") == [(1,)]
    assert sql("SELECT COUNT(*) FROM audit_events WHERE action = 'flag.decided'") == [(1,)]
    assert not [t for t in serve.replies_to(ADMIN) if "Flag" in t]  # answered once, by the edit

    sent = len(serve.sends())
    serve.driver.command(f"<@{CHEN}> 5 after the lock", user_id=BOB)
    serve.wait_until(lambda: [t for t in serve.replies_to(BOB) if LOCKED in t], 30)
    serve.driver.command(f"<@{BOB}> 5 still welcome", user_id=CHEN)
    serve.wait_until(lambda: len(serve.sends()) == sent + 1, 30)


@pytest.fixture(params=DATABASES)
def two_admins(
    request: pytest.FixtureRequest, make_serve: Callable[..., ServeProcess]
) -> Iterator[tuple[ServeProcess, Query]]:
    """The bot with Bob an admin too (he will give in a ring)."""
    with on_database(request, make_serve, request.param, REWARD_ADMINS=f"{ADMIN},{BOB}") as (
        serve,
        sql,
    ):
        serve.start()
        yield serve, sql


def test_an_admin_in_a_ring_can_neither_clear_their_flag_nor_lift_their_lock(
    two_admins: tuple[ServeProcess, Query],
) -> None:
    """Bob, an admin, gives in a ring: his own click on the flag about him is refused, forged
    flag ids get one plain answer, and once Ada locks him he can't unlock himself."""
    serve, sql = two_admins
    ring(serve, sql)
    done = run_flags(serve)
    assert done.returncode == 0, done.stdout + done.stderr
    [bobs] = serve.wait_until(
        lambda: [m for m in serve.fake.dms_to(BOB) if "Flags to look at" in message_text(m)], 30
    )
    [dm] = serve.wait_until(lambda: flag_dms(serve), 30)
    [(flag_id,)] = sql("SELECT id FROM reward_flags")

    for action in (ActionId.FLAG_DISMISS, ActionId.FLAG_HOLD, ActionId.FLAG_LOCK):
        serve.driver.block_action(user_id=BOB, action_id=action, value=str(flag_id), message=bobs)
    mine = "This flag is about you, so another admin decides it"
    serve.wait_until(lambda: len([t for t in serve.replies_to(BOB) if mine in t]) == 3, 30)
    for forged in ("99999999999999999999999", "\u00b2"):
        serve.driver.block_action(
            user_id=ADMIN, action_id=ActionId.FLAG_DISMISS, value=forged, message=dm
        )
    stale = "That button is out of date. Nothing was changed."
    serve.wait_until(lambda: len([t for t in serve.replies_to(ADMIN) if stale in t]) == 2, 30)
    assert sql("SELECT status, decided_by FROM reward_flags") == [("open", None)]

    serve.driver.block_action(
        user_id=ADMIN, action_id=ActionId.FLAG_LOCK, value=str(flag_id), message=dm
    )
    serve.wait_until(lambda: [t for t in serve.dm_texts(BOB) if PAUSED_DM in t], 30)
    serve.driver.command(f"unlock <@{BOB}>", user_id=BOB)
    serve.wait_until(
        lambda: [t for t in serve.replies_to(BOB) if "You can't unlock yourself" in t], 30
    )
    settle(serve, sql)
    assert sql(f"SELECT locked_by FROM members WHERE slack_user_id = '{BOB}'") == [(ADMIN,)]
    assert sql("SELECT COUNT(*) FROM audit_events WHERE action = 'member.unlocked'") == [(0,)]
    assert sql("SELECT status, decided_by FROM reward_flags") == [("locked", ADMIN)]
