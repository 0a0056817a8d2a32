"""`/reward …`: parse, acknowledge at once, then give (or run the subcommand) after the ack.
The subcommands, who may run them and their handlers are declared in `subcommands`.

The acknowledgement carries only what is known at once (help, a typo, a refusal by role, the
answers of the few subcommands that are a quick ledger read), so it is always within Slack's
three seconds; otherwise it shows nothing and exactly one answer follows through the
response_url (`command_replies.reply`). The reward is committed before that answer is sent, and
the idempotency key is Slack's trigger_id, so a retried delivery never gives twice.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from slack_bolt import Ack, App, BoltContext, Respond

from bot.rewards.cards import RewardCard
from bot.rewards.commands import GiveReward, OpenModal
from bot.rewards.group_rewards import GroupGiveRequest
from bot.rewards.refusal import Refusal
from bot.rewards.service import Given, GiveOutcome, GiveRequest
from bot.rewards.states import RewardSource
from bot.rewards.states import RewardStatus as S
from bot.slack import ids
from bot.slack.blocks import groups as group_blocks
from bot.slack.blocks import reward_messages
from bot.slack.blocks.common import one_line, people, points, safe_mrkdwn, short_id, text_only
from bot.slack.journal import after_ack
from bot.slack.listeners import open_modal
from bot.slack.listeners.command_replies import reply
from bot.slack.listeners.in_time import soon
from bot.slack.listeners.subcommands import SUBCOMMANDS

if TYPE_CHECKING:
    from bot.runtime import Runtime

log = logging.getLogger(__name__)

LOOKING_UP = "⏳ Looking up who is in the group… Nothing is sent yet: the preview follows here."
ANSWERED = "command_answered"  # context: the ack carried the whole answer; nothing follows


def register(app: App) -> None:
    app.command(ids.Command.REWARD)(ack=acknowledge, lazy=[follow_up])


def acknowledge(ack: Ack, command: dict[str, Any], context: BoltContext, runtime: Runtime) -> None:
    answer = at_once(runtime, command)
    if answer is None:
        ack()  # nothing shown: the one answer follows
        return
    context[ANSWERED] = True
    ack(**answer)


def at_once(runtime: Runtime, command: dict[str, Any]) -> dict[str, Any] | None:
    """The whole answer when it is known at once (the role, the grammar, help, a quick read);
    None when work must follow. `SUBCOMMANDS.read` checks the role before the arguments, so a
    member learns they can't, not how to type it."""
    named, parsed = SUBCOMMANDS.read(
        command.get("text"), settings=runtime.settings, user_id=command["user_id"]
    )
    if isinstance(parsed, Refusal):
        return text_only(parsed.text)
    if named is None or named.answer is None:  # giving, the form, or a subcommand's work
        return None
    return named.answer(runtime, parsed, command)


@after_ack
def follow_up(
    command: dict[str, Any], respond: Respond, context: BoltContext, runtime: Runtime
) -> None:
    """The work after the ack: give, open the form, or run the subcommand."""
    if context.get(ANSWERED):
        return
    named, parsed = SUBCOMMANDS.read(
        command.get("text"), settings=runtime.settings, user_id=command["user_id"]
    )
    if isinstance(parsed, GiveReward):
        runtime.foreground.yield_to_requests()
        give(runtime, parsed, command, respond)
    elif isinstance(parsed, OpenModal):
        open_modal.on_empty_command(runtime, parsed, command, respond)
    elif named is not None and named.run is not None and not isinstance(parsed, Refusal):
        named.run(runtime, parsed, command, respond)


def queued_reply(
    card: RewardCard, *, storefront: bool = False, undo_seconds: int | None = None
) -> dict[str, Any]:
    """The giver's answer while the reward is on its way. With points in the bot
    (`storefront`) nothing waits for Xoxoday: the points are credited in the ledger. While it
    waits its undo window (`undo_seconds`), the answer carries "Undo"."""
    who = people(card.recipient_ids)
    each = f"*{points(card.each)}* each" if card.each and len(card.recipients) > 1 else ""
    amount = each or f"*{points(card.total)}*"
    then = (
        "I'll DM you once they have them."
        if storefront
        else "I'll DM you as soon as Xoxoday confirms."
    )
    if undo_seconds:
        note = reward_messages.reward_note(
            f"👍 Sending {amount} to {who} (reward {short_id(card.short_id)}). {then}"
        )
        return reward_messages.with_undo(note, card, seconds=undo_seconds)
    return reward_messages.reward_note(
        f"👍 Sending {amount} to {who} now (reward {short_id(card.short_id)}). {then}"
    )


def undo_seconds(runtime: Runtime, given: Given) -> int | None:
    """What is left of the undo window to offer on the giver's answer (a command resumed
    after a restart may have less, or none: then no "Undo")."""
    return runtime.rewards.undo_left(given.reward)


def give(runtime: Runtime, parsed: GiveReward, command: dict[str, Any], respond: Respond) -> None:
    if parsed.groups:
        preview_group(runtime, parsed, command, respond)
        return
    request = GiveRequest(
        giver_id=command["user_id"],
        team_id=command.get("team_id") or "",
        recipient_ids=parsed.recipients,
        amount=parsed.amount,
        citation=parsed.citation,
        values=parsed.values_for(runtime.settings.REWARD_VALUES),
        channel_id=command.get("channel_id"),
        source=RewardSource.COMMAND,
        idempotency_key=f"command:{command.get('trigger_id') or command.get('response_url')}",
        hold=runtime.rewards.giving_hold(),
    )
    reply(respond, given_reply(runtime, runtime.rewards.give(request)))


def preview_group(
    runtime: Runtime, parsed: GiveReward, command: dict[str, Any], respond: Respond
) -> None:
    """`/reward @design-team 10 …`: the preview, with Send and Cancel (nothing given yet)."""
    request = GroupGiveRequest(
        giver_id=command["user_id"],
        team_id=command.get("team_id") or "",
        groups=parsed.groups,
        people=parsed.recipients,
        amount=parsed.amount,
        citation=parsed.citation,
        values=parsed.values_for(runtime.settings.REWARD_VALUES),
        channel_id=command.get("channel_id"),
        request_key=f"command:{command.get('trigger_id') or command.get('response_url')}",
    )
    shown = soon(  # 100 members not looked up lately take Slack a moment
        lambda: runtime.group_rewards.preview(request),
        meanwhile=lambda: reply(respond, text_only(LOOKING_UP)),
    )
    if isinstance(shown, Refusal):
        reply(respond, text_only(shown.text))
        return
    if shown.cancelled:  # the command again (resumed after a restart): as it ended
        reply(respond, group_blocks.cancelled(shown))
        return
    if shown.sent:
        sent = runtime.group_rewards.send(preview_id=shown.preview_id, user_id=shown.giver_id)
        reply(respond, given_reply(runtime, sent))
        return
    threshold = runtime.settings.REWARD_APPROVAL_THRESHOLD
    reply(respond, group_blocks.preview(shown, threshold=threshold))


def given_reply(runtime: Runtime, outcome: GiveOutcome) -> dict[str, Any]:
    """The giver's answer to giving: on its way, waiting for approval, where a reward given
    before is now, or why it wasn't given."""
    if isinstance(outcome, Given):
        card = runtime.notifier.card(outcome.reward)
        tz = outcome.reward.giver.tz
        if outcome.needs_approval:
            asked = runtime.approvals.asked(outcome.reward)  # who really got the request
            payload = reward_messages.giver_pending_approval(
                reward=card,
                approver_ids=asked.user_ids,
                via_manager=asked.via_manager,
                tz=tz,
                threshold=runtime.settings.REWARD_APPROVAL_THRESHOLD,
                held=outcome.reward.reward.held_for is not None,
            )
        elif outcome.created or outcome.reward.status in (S.QUEUED, S.SENDING):
            payload = queued_reply(
                card,
                storefront=runtime.settings.storefront,
                undo_seconds=undo_seconds(runtime, outcome),
            )
        else:  # seen before (resumed after a restart): say where it is now
            payload = reward_messages.reward_note(where_it_is(card, outcome.reward.status))
    else:
        payload = text_only(outcome.text)
    return payload


def where_it_is(card: RewardCard, status: str) -> str:
    """One line on a reward given earlier, for a command answered again after a restart."""
    ref = f"Your reward {short_id(card.short_id)} to {people(card.recipient_ids)}"
    if status == S.SENT:
        return f"✅ {ref} was sent."
    if status == S.IN_DOUBT:
        return f"🔎 {ref} is being checked: Xoxoday didn't confirm it. Please don't send it again."
    if status == S.FAILED:
        why = safe_mrkdwn(one_line(card.failure_reason or "")) or "Xoxoday refused it"
        return f"❌ {ref} wasn't sent: {why}"
    return f"{ref} was {status.replace('_', ' ')}."
