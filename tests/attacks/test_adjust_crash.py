"""SIGKILL in the middle of an admin's point adjustment, and of a report's telling.

SIGKILL in the middle of an admin's point adjustment (`/reward adjust`, points in the bot)
on the real `rewardbot serve`, restarted on the same database (SQLite and PostgreSQL): while
the adjustment waits for the person's points (another transaction holds them), and after it
committed but before the admin was answered. The journal resumes the command; the ledger
ends with each adjustment once, the balance right, the books adding up, and the admin answered
with the same balance every time."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from bot.simulators.fakeslack import FakeSlack
from tests.attacks.conftest import DATABASES, on_database
from tests.attacks.house import ack_of, command_body, newest_view, post, submission_body
from tests.attacks.serve_process import ServeProcess
from tests.e2e.harness import ADMIN, APPROVER, BOB, CHEN, MARIA, message_text

STOREFRONT = {
    "REWARD_POINT_SYSTEM": "storefront",
    "STOREFRONT_API_KEY": "attack-storefront-api-key-0123456789",
    "REWARD_ALLOWANCE": "0",
}


@contextmanager
def holding_the_ledger(serve: ServeProcess, backend: str) -> Iterator[None]:
    """Another transaction holds what an adjustment needs: MARIA's member row on PostgreSQL
    (`FOR UPDATE`, as a redemption holds it), the database's write lock on SQLite."""
    engine = create_engine(serve.database_url, poolclass=NullPool)
    try:
        with engine.connect() as held:
            if backend == "sqlite":
                held.exec_driver_sql("BEGIN IMMEDIATE")
            else:
                held.begin()
                held.execute(
                    text("SELECT id FROM members WHERE slack_user_id = :u FOR UPDATE"), {"u": MARIA}
                )
            yield
            held.rollback()
    finally:
        engine.dispose()


@pytest.mark.parametrize("backend", DATABASES)
def test_sigkill_mid_adjustment_and_restart_adjusts_once(
    request: pytest.FixtureRequest,
    make_serve: Callable[..., ServeProcess],
    fake: FakeSlack,
    backend: str,
) -> None:
    with on_database(request, make_serve, backend, **STOREFRONT) as (serve, sql):
        serve.start()
        journal = serve.sql_intake if backend == "sqlite" else sql
        body, _ = command_body(serve, f"<@{MARIA}> 30 for the launch", user=BOB)
        assert post(serve, body).status_code == 200
        serve.wait_until(lambda: sql("SELECT COUNT(*) FROM point_lots")[0][0] == 1, timeout=60)
        serve.settle()

        # 1. Killed while the deduction waits for MARIA's points.
        with holding_the_ledger(serve, backend):
            first, first_key = command_body(serve, f"adjust <@{MARIA}> -20 given twice", user=ADMIN)
            assert post(serve, first).status_code == 200
            time.sleep(1.0)  # acknowledged; its work waits for the ledger
            assert sql("SELECT COUNT(*) FROM point_adjustments") == [(0,)]
            serve.kill()
        assert journal("SELECT COUNT(*) FROM intake WHERE state = 'pending'") == [(1,)]
        serve.start()
        serve.wait_until(lambda: fake.responses(first_key), timeout=60)
        serve.settle()

        # 2. Killed after an addition committed, before the admin was answered.
        fake.slow_next("response_url", seconds=120)
        second, second_key = command_body(serve, f"adjust <@{MARIA}> +5 welcome back", user=ADMIN)
        assert post(serve, second).status_code == 200
        serve.wait_until(lambda: fake.held("response_url") == 1, timeout=60)
        assert sql("SELECT COUNT(*) FROM point_adjustments") == [(2,)]
        serve.kill()
        fake.clear_faults()
        assert journal("SELECT COUNT(*) FROM intake WHERE state = 'pending'") == [(1,)]
        serve.start()
        serve.wait_until(lambda: fake.responses(second_key), timeout=60)
        serve.settle()

        # Each adjustment once, the balance right, the books adding up.
        assert sql("SELECT cents FROM point_adjustments ORDER BY id") == [(-2000,), (500,)]
        assert sql("SELECT SUM(remaining) FROM point_lots") == [(1500,)]
        adjusted = sql("SELECT COUNT(*) FROM audit_events WHERE action = 'points.adjusted'")
        assert adjusted == [(2,)]
        assert journal("SELECT COUNT(*) FROM intake WHERE state = 'pending'") == [(0,)]
        told = [t.splitlines()[0] for t in serve.dm_texts(MARIA) if "your points" in t]
        assert sorted(told) == [
            f"➕ <@{ADMIN}> added 5 points to your points: “welcome back”. You have 15 points now.",
            f"➖ <@{ADMIN}> deducted 20 points from your points: “given twice”. "
            "You have 10 points now.",
        ]
        verified = serve.run_once("points", "verify")
        assert verified.returncode == 0, verified.stdout + verified.stderr
        said = {message_text(r["body"]) for r in fake.responses(first_key)}
        assert said == {
            f"✅ Deducted 20 points from <@{MARIA}>'s points: “given twice”. "
            "Balance now: 10 points."
        }
        said = {message_text(r["body"]) for r in fake.responses(second_key)}
        assert said == {
            f"✅ Added 5 points to <@{MARIA}>'s points: “welcome back”. Balance now: 15 points."
        }


def test_sigkill_while_the_admins_hear_of_a_report_tells_each_once_after_restart(
    make_serve: Callable[..., ServeProcess], fake: FakeSlack
) -> None:
    """A report recorded (the form closed), SIGKILL while the admins' DM is on its way: the
    restart resumes the form; one report, each admin told once, the reporter thanked."""
    serve = make_serve(REWARD_ADMINS=f"{ADMIN},{APPROVER}")
    body, _ = command_body(serve, f"<@{MARIA}> 40 shipped the release", user=BOB)
    assert post(serve, body).status_code == 200
    serve.wait_until(lambda: serve.dm_texts(BOB), timeout=60)  # told after the announcement
    [announced] = [m for m in fake.messages("C0GENERAL") if "40 points" in message_text(m)]
    serve.settle()
    after = len(fake.views)
    shortcut = serve.driver.message_shortcut(
        user_id=CHEN, callback_id="report_reward", channel_id="C0GENERAL", message=announced
    )
    assert shortcut.status_code == 200
    view = newest_view(serve, CHEN, "report_modal", after=after)
    values = {
        "report_reason": {"report_reason_input": {"type": "plain_text_input", "value": "odd"}}
    }
    fake.slow_next("chat.postMessage", seconds=120)  # the first admin's DM waits
    assert ack_of(post(serve, submission_body(serve, user=CHEN, view=view, values=values))) == {}
    serve.wait_until(lambda: fake.held("chat.postMessage") == 1, timeout=60)
    assert serve.sql("SELECT COUNT(*) FROM reward_reports") == [(1,)]
    serve.kill()
    pending = "SELECT COUNT(*) FROM intake WHERE state = 'pending'"
    assert serve.sql_intake(pending) == [(1,)]  # the form, its telling unfinished
    fake.clear_faults()
    serve.start()
    serve.wait_until(lambda: serve.sql_intake(pending) == [(0,)], timeout=60)
    serve.settle()
    assert serve.sql("SELECT COUNT(*) FROM reward_reports") == [(1,)]
    for admin in (ADMIN, APPROVER):
        alerts = [t for t in serve.dm_texts(admin) if "reported" in t]
        assert len(alerts) == 1, (admin, alerts)
    thanked = [t for t in serve.replies_to(CHEN) if "Thanks for reporting" in t]
    assert len(thanked) == 1
    reported = serve.sql("SELECT COUNT(*) FROM audit_events WHERE action = 'reward.reported'")
    assert reported == [(1,)]


@pytest.mark.parametrize("backend", DATABASES)
def test_sigkill_while_the_person_is_told_of_an_adjustment_tells_them_once_after_restart(
    request: pytest.FixtureRequest,
    make_serve: Callable[..., ServeProcess],
    fake: FakeSlack,
    backend: str,
) -> None:
    with on_database(request, make_serve, backend, **STOREFRONT) as (serve, sql):
        serve.start()
        body, _ = command_body(serve, f"<@{MARIA}> 30 for the launch", user=BOB)
        assert post(serve, body).status_code == 200
        serve.wait_until(lambda: sql("SELECT COUNT(*) FROM point_lots")[0][0] == 1, timeout=60)
        serve.settle()

        fake.slow_next("chat.postMessage", seconds=120)  # MARIA's DM waits in Slack
        adjust, key = command_body(serve, f"adjust <@{MARIA}> -20 given twice", user=ADMIN)
        assert post(serve, adjust).status_code == 200
        serve.wait_until(lambda: fake.held("chat.postMessage") == 1, timeout=60)
        serve.kill()
        fake.clear_faults()
        assert sql("SELECT cents FROM point_adjustments") == [(-2000,)]
        serve.start()
        serve.wait_until(lambda: fake.responses(key), timeout=60)
        serve.restart()
        serve.settle()

        told = [t.splitlines()[0] for t in serve.dm_texts(MARIA) if "your points" in t]
        assert told == [
            f"➖ <@{ADMIN}> deducted 20 points from your points: “given twice”. "
            "You have 10 points now."
        ]
        assert sql("SELECT cents FROM point_adjustments") == [(-2000,)]
        said = {message_text(r["body"]) for r in fake.responses(key)}
        assert said == {
            f"✅ Deducted 20 points from <@{MARIA}>'s points: “given twice”. "
            "Balance now: 10 points."
        }
