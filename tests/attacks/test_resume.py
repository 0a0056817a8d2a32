"""SIGKILL right after the bot acknowledged a click, a form or a command, before the work behind
the ack is done; the restarted `rewardbot serve` finishes it from the intake journal and tells
the person, through the response_url while it is valid, otherwise by DM."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from decimal import Decimal

from bot.slack.ids import ActionId
from tests.attacks.serve_process import ServeProcess
from tests.e2e.harness import APPROVER, BOB, MARIA, actions_in, message_text
from tests.e2e.modal_form import form


def status_of(serve: ServeProcess, citation: str) -> str:
    rows = serve.sql("SELECT status FROM rewards WHERE citation = ?", citation)
    return str(rows[0][0]) if rows else ""


def resumed(serve: ServeProcess) -> bool:
    return "resumed 1 request(s) a restart had left unfinished" in serve.log(400)


def test_an_approval_acknowledged_just_before_a_crash_is_finished_after_it(
    serve: ServeProcess,
) -> None:
    serve.driver.command(f"<@{MARIA}> 700 rebuilt the billing pipeline", user_id=BOB)
    request = serve.wait(
        lambda: [m for m in serve.fake.dms_to(APPROVER) if ActionId.APPROVE in actions_in(m)]
    )[0]
    short = serve.sql("SELECT short_id FROM rewards")[0][0]
    serve.fake.slow_next("chat.update", seconds=10)  # updating the copies after the decision
    clicked = serve.driver.block_action(
        user_id=APPROVER, action_id=ActionId.APPROVE, value=short, message=request
    )
    assert clicked.status_code == 200
    serve.wait_until(lambda: serve.sql("SELECT COUNT(*) FROM approvals") == [(1,)])
    # Delivery runs beside the decision's work: the reward is sent (killed mid-send, it would
    # rightly be in doubt), while the copies are still being updated.
    serve.wait_until(lambda: status_of(serve, "rebuilt the billing pipeline") == "sent")
    serve.wait_until(lambda: serve.fake.held("chat.update") == 1)
    serve.kill()  # decided, and killed while the copies were being updated
    serve.start()
    serve.wait_until(lambda: status_of(serve, "rebuilt the billing pipeline") == "sent")
    serve.wait_until(lambda: resumed(serve))  # resuming runs beside delivery, which may be first
    assert serve.sql("SELECT decision FROM approvals") == [("approved",)]
    assert len([s for s in serve.sends() if s["status"] == 200]) == 1
    # The giver hears of the approval once; the approver's copy shows it, without buttons.
    serve.wait(lambda: [t for t in serve.dm_texts(BOB) if "approved" in t.lower()])
    copy = serve.wait(
        lambda: (
            (m := serve.fake.workspace.message(request["channel"], request["ts"]))
            and not actions_in(m)
            and m
        )
    )
    assert "approved" in message_text(copy).lower()
    assert len([t for t in serve.dm_texts(BOB) if "approved your reward" in t.lower()]) <= 1


def test_send_again_acknowledged_just_before_a_crash_gives_once_and_tells_once(
    serve: ServeProcess,
) -> None:
    serve.sandbox.state.set_balance(Decimal("10"))  # Xoxoday refuses: the account is short
    serve.driver.command(f"<@{MARIA}> 40 sent again after a crash", user_id=BOB)
    failed = serve.wait(
        lambda: [m for m in serve.fake.dms_to(BOB) if ActionId.SEND_AGAIN in actions_in(m)]
    )[0]
    old = serve.sql("SELECT short_id FROM rewards")[0][0]
    serve.sandbox.state.set_balance(Decimal("100000"))
    serve.fake.slow_next("chat.update", seconds=10)  # the failure message naming the new one
    clicked = serve.driver.block_action(
        user_id=BOB, action_id=ActionId.SEND_AGAIN, value=old, message=failed
    )
    assert clicked.status_code == 200
    serve.wait_until(lambda: serve.statuses().get("sent") == 1)  # never killed mid-send
    serve.wait_until(lambda: serve.fake.held("chat.update") == 1)
    serve.kill()  # the new reward made and sent, its giver not yet answered
    serve.start()
    serve.wait_until(lambda: resumed(serve))
    serve.settle()
    assert serve.statuses() == {"failed": 1, "sent": 1}
    new = serve.sql("SELECT short_id FROM rewards WHERE status = 'sent'")[0][0]
    assert [s["status"] for s in serve.sends()] == [400, 200]
    assert len([t for t in serve.replies_to(BOB) if f"(reward `{new}`)" in t]) == 1
    now = serve.fake.workspace.message(failed["channel"], failed["ts"])
    assert ActionId.SEND_AGAIN not in actions_in(now)
    assert f"You sent it again as reward `{new}`" in message_text(now)
    # the old message clicked again (a stale copy of it) gives nothing more
    serve.driver.block_action(user_id=BOB, action_id=ActionId.SEND_AGAIN, value=old, message=failed)
    serve.settle()
    assert serve.statuses() == {"failed": 1, "sent": 1}
    assert len(serve.sends()) == 2


def test_a_form_acknowledged_just_before_a_crash_gives_once(serve: ServeProcess) -> None:
    serve.driver.command("", user_id=BOB)
    modal = serve.wait(lambda: serve.fake.modal_stack(BOB))[-1]
    values = form(recipients=[MARIA], amount="25", citation="form sent before the crash")
    response = serve.driver.view_submission(user_id=BOB, view=modal, values=values)
    assert response.status_code == 200
    serve.kill()
    serve.start()
    serve.wait_until(lambda: status_of(serve, "form sent before the crash") == "sent")
    assert serve.sql("SELECT COUNT(*) FROM rewards") == [(1,)]
    assert len([s for s in serve.sends() if s["status"] == 200]) == 1
    serve.wait(lambda: [t for t in serve.dm_texts(MARIA) if "form sent before" in t])


def test_a_command_resumed_after_its_response_url_expired_is_answered_by_dm(
    serve: ServeProcess,
) -> None:
    response = serve.driver.command(f"<@{MARIA}> 15 answered by DM later", user_id=BOB)
    assert response.status_code == 200 and response.text == ""  # acked; the answer follows
    serve.kill()  # the giving after the ack waits for Slack to be quiet: not done yet
    journal = serve.db_path.with_name(serve.db_path.stem + ".intake.db")
    with closing(sqlite3.connect(journal)) as db, db:  # as if the bot had been down an hour
        aged = db.execute(
            "UPDATE intake SET received_at = datetime(received_at, '-1 hour')"
            " WHERE state = 'pending'"
        ).rowcount
    assert aged == 1
    key = serve.driver.last_response_key
    before = len(serve.fake.responses(key))
    serve.start()
    serve.wait_until(lambda: status_of(serve, "answered by DM later") == "sent")
    told = serve.wait(lambda: [t for t in serve.dm_texts(BOB) if "Sending *15 points*" in t])
    assert "reward" in told[0]
    assert len(serve.fake.responses(key)) == before  # the expired response_url was not used
    assert resumed(serve)


def test_a_damaged_journal_is_named_in_one_line_and_a_new_one_starts_once_it_is_moved(
    serve: ServeProcess,
) -> None:
    serve.driver.command(f"<@{MARIA}> 5 before the damage", user_id=BOB)
    serve.wait_until(lambda: serve.statuses().get("sent") == 1, 30)
    serve.kill()
    journal = serve.db_path.with_name(serve.db_path.stem + ".intake.db")
    journal.write_bytes(b"this is not a database" * 200)
    for stale in journal.parent.glob(journal.name + "-*"):  # its -wal and -shm
        stale.unlink()
    ran = serve.run_once("serve", "--port", "0", "--no-scheduler")
    assert ran.returncode == 2
    (line,) = [line for line in ran.stderr.strip().splitlines() if "rewardbot:" in line]
    assert journal.name in line
    assert "is damaged. Move it aside" in line and "Traceback" not in ran.stderr
    journal.rename(journal.with_name("moved-aside.intake.db"))
    serve.start()
    serve.driver.command(f"<@{MARIA}> 5 after the damage", user_id=BOB)
    serve.wait_until(lambda: serve.statuses().get("sent") == 2, 30)
    assert len(serve.sends()) == 2
