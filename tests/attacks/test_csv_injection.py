"""Formula injection through the audit export of the real `rewardbot serve`: an admin's cancel
reason and an approver's reject reason are typed by people, land in the audit trail, and must
reach the auditors' CSV as text a spreadsheet shows, never as a formula it runs."""

from __future__ import annotations

import csv
import io
from typing import Any

from bot.slack.ids import ActionId, BlockId
from tests.attacks.serve_process import ADMIN, APPROVER, ServeProcess
from tests.e2e.harness import BOB, CHEN, MARIA, answer_cancel

CANCEL_REASON = '=HYPERLINK("http://evil.example","click")'
REJECT_REASON = "+1+cmd|' /C calc'!A0"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")


def short_id_of(serve: ServeProcess, total: int) -> str:
    rows = serve.wait_until(
        lambda: serve.sql("SELECT short_id FROM rewards WHERE total_points = ?", total)
    )
    return str(rows[0][0])


def status_of(serve: ServeProcess, short: str) -> str:
    rows = serve.sql("SELECT status FROM rewards WHERE short_id = ?", short)
    return str(rows[0][0]) if rows else ""


def approval_request(serve: ServeProcess, user_id: str) -> dict[str, Any]:
    def with_buttons() -> list[dict[str, Any]]:
        return [
            m
            for m in serve.fake.dms_to(user_id)
            for block in m.get("blocks") or []
            if block.get("type") == "actions"
            and any(e.get("action_id") == ActionId.REJECT for e in block.get("elements") or [])
        ]

    return serve.wait(with_buttons)[0]


def test_reasons_that_look_like_formulas_are_exported_as_text(serve: ServeProcess) -> None:
    # An admin cancels a sent reward with a reason that is a spreadsheet formula.
    serve.driver.command(f"<@{MARIA}> 10 thanks for the demo", user_id=BOB)
    serve.wait(lambda: serve.dm_texts(MARIA))
    cancelled = short_id_of(serve, 10)
    serve.wait_until(lambda: status_of(serve, cancelled) == "sent")
    response = serve.driver.command(f"cancel {cancelled} {CANCEL_REASON}", user_id=ADMIN)
    assert response.status_code == 200
    answer_cancel(serve.fake, serve.driver, ADMIN)  # it asks first
    serve.wait_until(lambda: status_of(serve, cancelled) == "cancelled")

    # An approver rejects a reward over the threshold with another one.
    serve.driver.command(f"<@{CHEN}> 600 rebuilt the billing pipeline", user_id=BOB)
    rejected = short_id_of(serve, 600)
    request = approval_request(serve, APPROVER)
    click = serve.driver.block_action(
        user_id=APPROVER, action_id=ActionId.REJECT, value=rejected, message=request
    )
    assert click.status_code == 200
    view = serve.wait(lambda: (serve.fake.modal_stack(APPROVER) or [None])[-1])
    values = {
        BlockId.REJECT_REASON: {
            ActionId.REJECT_REASON_INPUT: {"type": "plain_text_input", "value": REJECT_REASON}
        }
    }
    assert serve.driver.view_submission(user_id=APPROVER, view=view, values=values).is_success
    serve.wait_until(lambda: status_of(serve, rejected) == "rejected")

    exported = serve.run_once("audit", "export", "--format", "csv")
    assert exported.returncode == 0, exported.stderr
    rows = list(csv.reader(io.StringIO(exported.stdout)))
    header, events = rows[0], rows[1:]
    cells = [cell for row in events for cell in row]
    assert not [c for c in cells if c.startswith(FORMULA_STARTS)], exported.stdout

    reasons = [dict(zip(header, row, strict=True))["reason"] for row in events]
    assert "'" + CANCEL_REASON in reasons
    assert "'" + REJECT_REASON in reasons
    assert all(int(row[0]) > 0 for row in events)  # ids are still plain numbers
