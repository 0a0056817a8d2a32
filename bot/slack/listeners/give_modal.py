"""The reward modal's submission: the same rules and outbox as `/reward`, with the problems shown
on the fields themselves (`response_action: errors`).

Slack waits three seconds for the answer, and the answer must carry the errors, so the checks
run before the ack: first what the form alone can say (no recipient, not a number, citation
empty or too long), then `RewardService.give` (profiles are cached by `People`, so this is
usually a few milliseconds). When give takes longer than `SUBMIT_BUDGET_SECONDS` (a slow Slack
profile lookup), the modal is closed and the outcome is sent by DM when it is known.

The idempotency key is the view id: however often the same modal is submitted (double clicks,
Slack's retries), one reward is created and the giver is told once. A submission that was
refused creates nothing, so the corrected form can be sent from the same modal.
"""

from __future__ import annotations

import logging
import time
from concurrent.futures import TimeoutError as FutureTimeout
from typing import TYPE_CHECKING, Any

from slack_bolt import Ack, App, BoltContext

from bot.rewards.events import PeopleChanged
from bot.rewards.mrkdwn import mentioned_user_ids
from bot.rewards.policy import Field
from bot.rewards.refusal import Refusal
from bot.rewards.service import Given, GiveRequest
from bot.rewards.states import RewardSource
from bot.slack.blocks import reward_messages
from bot.slack.blocks.common import text_only
from bot.slack.blocks.give_modal import decode_reward_modal_metadata, reward_modal_errors
from bot.slack.ids import BlockId, CallbackId
from bot.slack.journal import after_ack
from bot.slack.listeners.in_time import SUBMIT_BUDGET_SECONDS, in_background
from bot.slack.listeners.reward_command import queued_reply, undo_seconds
from bot.slack.listeners.reward_form import FormErrors, RewardForm, read_reward_form
from bot.slack.request_entry import entry_of

if TYPE_CHECKING:
    from bot.runtime import Runtime

log = logging.getLogger(__name__)


# context: what the work after the ack tells the giver
GIVEN = "reward_form_given"  # (the reward given in time, the channel the form came from)
LATE = "reward_form_late"  # the request whose outcome was not known in time: told by DM


def register(app: App) -> None:
    app.view(CallbackId.REWARD_MODAL)(ack=handle_submission, lazy=[tell_outcome])


def handle_submission(
    ack: Ack, body: dict[str, Any], view: dict[str, Any], context: BoltContext, runtime: Runtime
) -> None:
    started = time.monotonic()
    settings = runtime.settings
    has_select = bool(settings.REWARD_VALUES)
    user = body.get("user") or {}
    user_id = str(user["id"])
    form = read_reward_form((view.get("state") or {}).get("values") or {})
    if isinstance(form, FormErrors):
        ack(**reward_modal_errors(form.errors, has_values_select=has_select))
        return
    meta = decode_reward_modal_metadata(view.get("private_metadata"))
    request = GiveRequest(
        giver_id=user_id,
        team_id=str((body.get("team") or {}).get("id") or user.get("team_id") or ""),
        recipient_ids=form.recipients,
        amount=form.amount,
        citation=form.citation,
        values=form.values,
        channel_id=meta.channel_id,
        source=source_of(meta.source),
        idempotency_key=f"view:{view['id']}",
        public=form.announce,
        hold=runtime.rewards.giving_hold(),
    )
    pending = in_background(lambda: runtime.rewards.give(request), name="reward-form")
    budget = SUBMIT_BUDGET_SECONDS - (time.monotonic() - started)
    try:
        outcome = pending.result(timeout=max(budget, 0.05))
    except FutureTimeout:
        log.info("reward form of %s took over %.1fs: answering by DM", user_id, budget)
        context[LATE] = request
        ack()  # close the form now; the outcome follows by DM
        return
    if isinstance(outcome, Refusal):
        ack(**refusal_errors(runtime, outcome, form, has_select=has_select))
        return
    entry = entry_of(context)
    if entry is None or not entry.resumed:  # the giver hears it once (`tell_outcome`)
        context[GIVEN] = (outcome, meta.channel_id)
    ack()


@after_ack
def tell_outcome(context: BoltContext, runtime: Runtime) -> None:
    given = context.get(GIVEN)
    if isinstance(given, tuple):
        outcome, channel_id = given
        # the form's first submission to get here tells (Slack's repeat of it may have made
        # the reward, and a second submission of the form finds it made)
        if runtime.rewards.first_answer(outcome.reward):
            tell_giver(runtime, outcome, channel_id=channel_id)
    late = context.get(LATE)
    if isinstance(late, GiveRequest):
        finish_late(runtime, late)


def source_of(text: str) -> RewardSource:
    try:
        return RewardSource(text)
    except ValueError:
        return RewardSource.MODAL


def refusal_errors(
    runtime: Runtime, outcome: Refusal, form: RewardForm, *, has_select: bool
) -> dict[str, Any]:
    """The inline errors for a refused reward, each on the field it is about."""
    errors = dict(outcome.fields) or {str(BlockId.RECIPIENTS): outcome.text}
    allowed = runtime.rewards.rules.values
    picked_ok = form.picked_value is None or form.picked_value in allowed
    if Field.VALUES in errors and has_select and picked_ok:
        # the unknown values were typed as #words in the citation, not picked in the select
        errors[str(BlockId.CITATION)] = errors.pop(str(Field.VALUES))
    names = runtime.rewards.names([*form.recipients, *_mentioned(errors)])
    return reward_modal_errors(errors, names=names, has_values_select=has_select)


def _mentioned(errors: dict[str, str]) -> list[str]:
    return mentioned_user_ids(" ".join(errors.values()))


def giver_payload(runtime: Runtime, given: Given) -> tuple[dict[str, Any], list[str]]:
    """What the giver is told (as for the command), and whose App Home changed with it."""
    card = runtime.notifier.card(given.reward)
    if not given.needs_approval:
        payload = queued_reply(
            card, storefront=runtime.settings.storefront, undo_seconds=undo_seconds(runtime, given)
        )
        return payload, [card.giver_id]
    asked = runtime.approvals.asked(given.reward)  # who really got the request
    approvers = list(asked.user_ids)
    payload = reward_messages.giver_pending_approval(
        reward=card,
        approver_ids=approvers,
        tz=given.reward.giver.tz,
        threshold=runtime.settings.REWARD_APPROVAL_THRESHOLD,
        held=given.reward.reward.held_for is not None,
        via_manager=asked.via_manager,
    )
    return payload, [card.giver_id, *approvers, *runtime.settings.REWARD_ADMINS]


def tell_giver(runtime: Runtime, given: Given, *, channel_id: str | None) -> None:
    """Ephemeral in the channel the form was opened from, else (or when that fails) a DM."""
    payload, changed = giver_payload(runtime, given)
    runtime.notifier.answer(given.reward.giver.slack_user_id, payload, channel_id=channel_id)
    runtime.notifier.tell(PeopleChanged.of(changed))


def finish_late(runtime: Runtime, request: GiveRequest) -> None:
    """The form is closed already: say how it ended by DM. Giving again is keyed by the view, so
    this waits for, or finds, the reward the form's own attempt made. (A failure is raised
    here, after the ack: `after_ack` reports it as the error handler would.)"""
    outcome = runtime.rewards.give(request)
    if isinstance(outcome, Refusal):
        text = (
            f"I couldn't send the reward from your form.\n{outcome.text}\n"
            "Open the form again with `/reward` to fix it."
        )
        runtime.notifier.answer(request.giver_id, text_only(text))
    else:
        tell_giver(runtime, outcome, channel_id=None)
