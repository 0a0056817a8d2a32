"""`/reward bulk` (admins): a form with Slack's file input takes a CSV file of awards; the bot
reads the file, checks every row and DMs the admin either the rows at fault (nothing sent) or
a preview with Send and Cancel. Send makes every row a reward at once (journaled: a double
click or a resumed click sends once), or, when the total needs an OK, asks the approvers
(Approve / Reject, journaled too); the preview becomes the progress message, updated in
place as rows are delivered (`BulkWatch`), and the CSV of outcomes follows in the DM.

(A CSV dropped in the bot's DM is read as people's dates, not awards: `people_dm`.)
"""

from __future__ import annotations

import logging
from concurrent.futures import TimeoutError as WaitedTooLong
from typing import TYPE_CHECKING, Any

from slack_bolt import Ack, App, Respond
from slack_sdk.errors import SlackApiError

from bot.rewards.balances import Account, account_balance
from bot.rewards.bulk import MAX_BYTES, too_big
from bot.rewards.bulk_service import BulkPreview, BulkRejected
from bot.rewards.commands import OpenBulkForm
from bot.rewards.refusal import Refusal
from bot.slack.blocks import bulk as bulk_blocks
from bot.slack.blocks.common import text_only
from bot.slack.files import Downloaded, TooBig, read_upload
from bot.slack.ids import ActionId, BlockId, CallbackId
from bot.slack.journal import ack_at_once, after_ack, request_key, user_of
from bot.slack.listeners.action_replies import action_value, clicked_message, team_of
from bot.slack.listeners.command_replies import reply
from bot.slack.listeners.in_time import FIRST_ANSWER_SECONDS, in_background

if TYPE_CHECKING:
    from bot.runtime import Runtime

log = logging.getLogger(__name__)

PICK_A_FILE = "Pick one CSV file."


def register(app: App) -> None:
    app.view(CallbackId.BULK_MODAL)(ack=check_form, lazy=[check_file])
    app.action(ActionId.BULK_SEND)(ack=ack_at_once, lazy=[send])
    app.action(ActionId.BULK_CANCEL)(ack=ack_at_once, lazy=[cancel])
    app.action(ActionId.BULK_APPROVE)(ack=ack_at_once, lazy=[decide])
    app.action(ActionId.BULK_REJECT)(ack=ack_at_once, lazy=[decide])


def open_form(
    runtime: Runtime, parsed: OpenBulkForm, command: dict[str, Any], respond: Respond
) -> None:
    """`/reward bulk`: the form with the file input."""
    try:
        runtime.slack.views_open(trigger_id=command["trigger_id"], view=bulk_blocks.form())
    except SlackApiError as err:
        log.info("could not open the bulk form: %s", err.response.get("error"))
        reply(respond, text_only("I couldn't open the form in time. Type `/reward bulk` again."))


def _files(body: dict[str, Any]) -> list[dict[str, Any]]:
    values = ((body.get("view") or {}).get("state") or {}).get("values") or {}
    field = (values.get(str(BlockId.BULK_FILE)) or {}).get(str(ActionId.BULK_FILE_INPUT)) or {}
    files = field.get("files") if isinstance(field, dict) else None
    return [f for f in files or [] if isinstance(f, dict) and f.get("id")]


def _form_problem(body: dict[str, Any]) -> str | None:
    """What is wrong with the form as submitted (shown beside the file input), or None."""
    files = _files(body)
    if len(files) != 1:
        return PICK_A_FILE
    size = files[0].get("size")
    if isinstance(size, int) and size > MAX_BYTES:
        return too_big(size).text[:150]
    return None


def check_form(ack: Ack, body: dict[str, Any]) -> None:
    """The form's ack: one file, not too big (by what Slack says of it), or the error beside
    the input; else the form says the file is being checked, and the answer comes by DM."""
    problem = _form_problem(body)
    if problem is not None:
        ack(response_action="errors", errors={str(BlockId.BULK_FILE): problem})
        return
    ack(response_action="update", view=bulk_blocks.checking(str(_files(body)[0].get("name", ""))))


@after_ack
def check_file(body: dict[str, Any], runtime: Runtime) -> None:
    """Read the file, check every row, and DM the admin the rows at fault or the preview."""
    if _form_problem(body) is not None:  # said beside the input: the form stays open
        return
    admin_id = user_of(body)
    files = _files(body)
    got = read_upload(runtime.slack, str(files[0]["id"]), max_bytes=MAX_BYTES)
    if isinstance(got, TooBig):
        runtime.notifier.answer(admin_id, text_only(too_big(got.size).text))
        return
    if not isinstance(got, Downloaded):
        runtime.notifier.answer(admin_id, text_only(f"{got.why} Nothing was sent."))
        return
    outcome = runtime.bulk.check(
        admin_id=admin_id,
        team_id=team_of(body),
        data=got.data,
        filename=got.name,
        request_key=request_key(body) or f"bulk-file:{files[0]['id']}",
    )
    if isinstance(outcome, Refusal):
        runtime.notifier.answer(admin_id, text_only(outcome.text))
    elif isinstance(outcome, BulkRejected):
        runtime.notifier.answer(admin_id, bulk_blocks.rejected(outcome))
    elif isinstance(outcome, BulkPreview):
        runtime.notifier.answer(admin_id, bulk_blocks.preview(outcome, _account(runtime)))


def _account(runtime: Runtime) -> Account | None:
    """The company account's balance if Xoxoday says within the usual wait; None: slow."""
    asked = in_background(
        lambda: account_balance(runtime.account_balance.get), name="bulk-balance"
    )  # not waited for past the wait: a late answer is dropped with its thread
    try:
        return asked.result(timeout=FIRST_ANSWER_SECONDS)
    except WaitedTooLong:
        return None


@after_ack
def send(body: dict[str, Any], respond: Respond, runtime: Runtime) -> None:
    """Send: every row a reward (once); the preview becomes the progress message."""
    admin_id = user_of(body)
    outcome = runtime.bulk.send(
        admin_id=admin_id,
        team_id=team_of(body),
        short_id=action_value(body),
        message=clicked_message(body),
    )
    if isinstance(outcome, Refusal):
        respond(replace_original=False, response_type="ephemeral", **text_only(outcome.text))
        return
    if outcome.again:
        respond(
            replace_original=False,
            response_type="ephemeral",
            **bulk_blocks.sent_before(outcome.bulk),
        )
        return
    if outcome.waiting_for:
        respond(replace_original=True, **bulk_blocks.waiting(outcome.bulk, outcome.waiting_for))
        return
    respond(replace_original=True, **bulk_blocks.started(outcome.bulk))


@after_ack
def decide(body: dict[str, Any], respond: Respond, runtime: Runtime) -> None:
    """An approver's Approve or Reject of a file (once, whoever clicks first)."""
    approve = (body.get("actions") or [{}])[0].get("action_id") == ActionId.BULK_APPROVE
    approver = user_of(body)
    outcome = runtime.bulk.decide(
        approver_id=approver, short_id=action_value(body), approve=approve
    )
    if isinstance(outcome, Refusal):
        respond(replace_original=False, response_type="ephemeral", **text_only(outcome.text))
        return
    if outcome.again:
        respond(
            replace_original=False,
            response_type="ephemeral",
            **text_only("That file was already decided; nothing changed."),
        )
        return
    respond(
        replace_original=True,
        **bulk_blocks.decided(outcome.bulk, approver=approver, approved=approve),
    )


@after_ack
def cancel(body: dict[str, Any], respond: Respond, runtime: Runtime) -> None:
    outcome = runtime.bulk.cancel(admin_id=user_of(body), short_id=action_value(body))
    if isinstance(outcome, Refusal):
        respond(replace_original=False, response_type="ephemeral", **text_only(outcome.text))
        return
    respond(replace_original=True, **bulk_blocks.cancelled(outcome))
