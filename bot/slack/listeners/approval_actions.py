"""Approve / Reject buttons and the reject-reason modal.

Every click is acknowledged at once; the decision goes through `ApprovalService.decide`, whose
compare-and-set lets the first decision win. Whoever loses (a double click, another approver, a
late click on a reward that was cancelled or expired) is told plainly, only them, and nothing
changes. Reject first opens a modal for the reason (required, up to 500 characters; problems are
shown inline on the field).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from slack_bolt import Ack, App, BoltContext, Respond

from bot.rewards.approvals import Decided
from bot.rewards.cards import card_for
from bot.rewards.refusal import Refusal
from bot.slack.blocks.approvals import decode_reject_metadata, reject_reason_modal
from bot.slack.blocks.common import escape_mrkdwn
from bot.slack.ids import ActionId, BlockId, CallbackId
from bot.slack.journal import ack_at_once, after_ack
from bot.slack.listeners.action_replies import (
    action_value,
    clicked_message,
    is_ephemeral,
    notice_modal,
    team_of,
    tell,
    user_of,
)
from bot.slack.listeners.approvals import approvals_payload
from bot.slack.listeners.typed_reason import reason_problem as typed_reason_problem
from bot.slack.listeners.typed_reason import typed_reason

if TYPE_CHECKING:
    from bot.runtime import Runtime

REJECT_TITLE = "Reject reward"


DECIDED = "approval_decided"  # context: the rejection the reason form recorded in its ack


def register(app: App) -> None:
    app.action(ActionId.APPROVE)(ack=ack_at_once, lazy=[approve])
    app.action(ActionId.REJECT)(ack=ack_at_once, lazy=[open_reject_modal])
    app.view(CallbackId.REJECT_REASON)(ack=submit_reason, lazy=[after_reason])


@after_ack
def approve(body: dict[str, Any], respond: Respond, runtime: Runtime) -> None:
    user = user_of(body)
    result = runtime.approvals.decide(
        short=action_value(body), user_id=user, team_id=team_of(body), approve=True
    )
    finish(runtime, body, respond, result)


def finish(
    runtime: Runtime,
    body: dict[str, Any],
    respond: Respond | None,
    result: Decided | Refusal,
) -> None:
    """Tell the clicker when nothing changed; otherwise update every copy and tell the giver.
    A click in the ephemeral `/reward approvals` list gets the list again, without it."""
    if isinstance(result, Refusal):
        tell(runtime, body, respond, result.text)
        if result.reward is not None:  # this clicker's own earlier decision (a double click,
            # or resumed after a restart): what it left undone
            runtime.approvals.finish_own_decision(result.reward, user_of(body))
        return
    runtime.approvals.after_decision(result)
    if respond is not None and is_ephemeral(body) and body.get("response_url"):
        payload = approvals_payload(runtime, user_of(body), note=f"✅ {result.text}")
        respond(replace_original=True, response_type="ephemeral", **payload)


@after_ack
def open_reject_modal(body: dict[str, Any], respond: Respond, runtime: Runtime) -> None:
    checked = runtime.approvals.check(action_value(body), user_of(body))
    if isinstance(checked, Refusal):
        tell(runtime, body, respond, checked.text)
        return
    clicked = clicked_message(body)
    view = reject_reason_modal(
        reward_id=checked.short_id,
        messages=[clicked] if clicked else [],
        reward=card_for(checked),
    )
    runtime.slack.views_open(trigger_id=body["trigger_id"], view=view)


def reason_of(view: dict[str, Any]) -> str:
    return typed_reason(view, str(BlockId.REJECT_REASON), str(ActionId.REJECT_REASON_INPUT))


def reason_problem(reason: str) -> str | None:
    return typed_reason_problem(
        reason, missing="Please say why, so the giver knows what to change."
    )


def submit_reason(
    ack: Ack, body: dict[str, Any], view: dict[str, Any], context: BoltContext, runtime: Runtime
) -> None:
    """Check the reason and record the rejection in the ack (a refusal shows in the form);
    the request's copies and the giver are told after it (`after_reason`)."""
    meta = decode_reject_metadata(view.get("private_metadata"))
    if meta is None:
        text = "This form is out of date. Press *Reject* on the request again."
        ack(response_action="update", view=notice_modal(REJECT_TITLE, text))
        return
    reason = reason_of(view)
    problem = reason_problem(reason)
    if problem is not None:
        ack(response_action="errors", errors={str(BlockId.REJECT_REASON): problem})
        return
    result = runtime.approvals.decide(
        short=meta.short_id,
        user_id=user_of(body),
        team_id=team_of(body),
        approve=False,
        reason=escape_mrkdwn(reason),  # typed in a modal: raw text, stored as mrkdwn
    )
    context[DECIDED] = result
    if isinstance(result, Refusal) and not _rejected_by(
        runtime, result, user_of(body), escape_mrkdwn(reason)
    ):
        ack(response_action="update", view=notice_modal(REJECT_TITLE, result.text))
        return
    # closes the modal; the request's copies show the rejection. Slack's repeats of the
    # submission that rejected it (whichever of them ran first) are acknowledged alike.
    ack()


def _rejected_by(runtime: Runtime, refused: Refusal, user_id: str, reason: str) -> bool:
    """The reward was rejected by this very person, for this very reason."""
    own = runtime.approvals.own_decision(refused.reward, user_id)
    return own is not None and own.outcome == "rejected" and own.reason == reason


@after_ack
def after_reason(body: dict[str, Any], context: BoltContext, runtime: Runtime) -> None:
    result = context.get(DECIDED)
    if isinstance(result, Decided):
        runtime.approvals.after_decision(result)
    elif isinstance(result, Refusal) and result.reward is not None:
        # their own rejection, resumed after a restart: what it left undone
        runtime.approvals.finish_own_decision(result.reward, user_of(body))
