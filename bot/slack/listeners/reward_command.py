"""`/reward …`: parse, acknowledge at once, then give and report through `respond`.

The acknowledgement carries only what parsing alone can say (help, a typo), so it is always
within Slack's three seconds. Giving (profile look-ups, rules, the ledger) runs after the ack; its
outcome replaces the "one moment" note. The reward is committed before that follow-up is sent,
and the idempotency key is Slack's trigger_id, so a retried delivery never gives twice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from slack_bolt import Ack, App, Respond

from bot.rewards.admin import only_admins
from bot.rewards.cards import RewardCard
from bot.rewards.commands import (
    CancelReward,
    GenerateLink,
    GenerateLinks,
    GiveReward,
    ListApprovals,
    ListCampaigns,
    ListManagers,
    ListOrders,
    OpenGiftForm,
    OpenModal,
    OrdersReport,
    SetManager,
    ShowBalance,
    ShowHelp,
    ShowHistory,
    ShowLeaderboard,
)
from bot.rewards.help import help_text
from bot.rewards.parse import parse_command
from bot.rewards.refusal import Refusal
from bot.rewards.service import Given, GiveRequest
from bot.rewards.states import RewardSource
from bot.rewards.states import RewardStatus as S
from bot.rewards.subcommands import ADMIN_SUBCOMMANDS, SUBCOMMAND_NAMES
from bot.slack.blocks import reward_messages
from bot.slack.blocks.common import one_line, people, points, safe_mrkdwn, short_id, text_only
from bot.slack.ids import Command
from bot.slack.listeners import (
    approvals,
    balance,
    cancel,
    gifts,
    links,
    lists,
    managers,
    open_modal,
    orders,
)
from bot.slack.listeners.command_replies import later, reply

if TYPE_CHECKING:
    from bot.runtime import Runtime

log = logging.getLogger(__name__)

Handler = Callable[..., None]


def subcommands() -> dict[type, Handler]:
    """What each parsed `/reward` subcommand runs: handler(runtime, parsed, command, ack,
    respond). Giving and help are answered here; a bare `/reward` opens the form."""
    return {
        OpenModal: open_modal.on_empty_command,
        ShowBalance: balance.show_balance,
        ShowHistory: lists.show_history,
        ShowLeaderboard: lists.show_leaderboard,
        ListApprovals: approvals.list_approvals,
        SetManager: managers.set_manager,
        ListManagers: managers.list_managers,
        GenerateLink: links.send_link,
        GenerateLinks: links.send_links,
        ListCampaigns: links.list_campaigns,
        CancelReward: cancel.cancel,
        OpenGiftForm: gifts.open_from_command,
        ListOrders: orders.list_orders,
        OrdersReport: orders.send_report,
    }


def register(app: App, runtime: Runtime) -> None:
    table = subcommands()

    def on_reward(ack: Ack, command: dict[str, Any], respond: Respond) -> None:
        handle(runtime, command, ack, respond, table=table)

    runtime.intake.command(app, Command.REWARD, on_reward, inline=answers_at_once)


def answers_at_once(command: dict[str, Any]) -> bool:
    """Giving (and a mistyped gift) acks at once and hands the work to the giving pool; the
    subcommands and the form do theirs after the ack, in the listener."""
    first = (command.get("text") or "").split(maxsplit=1)
    return bool(first) and first[0].lower() not in (*SUBCOMMAND_NAMES, "help", "?")


def handle(
    runtime: Runtime,
    command: dict[str, Any],
    ack: Ack,
    respond: Respond,
    *,
    table: dict[type, Handler] | None = None,
) -> None:
    text = command.get("text") or ""
    doing = ADMIN_SUBCOMMANDS.get(text.split(maxsplit=1)[0].lower() if text.strip() else "")
    refused = doing and only_admins(runtime.settings, command["user_id"], doing=doing)
    if refused:
        ack(**text_only(refused.text))
        return
    parsed = parse_command(text)
    if isinstance(parsed, Refusal):
        ack(**text_only(parsed.text))
        return
    handlers = subcommands() if table is None else table
    if isinstance(parsed, ShowHelp):
        ack(**text_only(help_text(values=runtime.settings.REWARD_VALUES)))
        return
    if isinstance(parsed, GiveReward):
        give(runtime, parsed, command, ack, respond)
        return
    handler = handlers.get(type(parsed))
    if handler is None:
        ack(**text_only(help_text(values=runtime.settings.REWARD_VALUES)))
        return
    handler(runtime, parsed, command, ack, respond)


def queued_reply(card: RewardCard) -> dict[str, Any]:
    who = people(card.recipient_ids)
    each = f"*{points(card.each)}* each" if card.each and len(card.recipients) > 1 else ""
    amount = each or f"*{points(card.total)}*"
    return reward_messages.reward_note(
        f"👍 Sending {amount} to {who} now (reward {short_id(card.short_id)}). "
        "I'll DM you as soon as Xoxoday confirms."
    )


def give(
    runtime: Runtime, parsed: GiveReward, command: dict[str, Any], ack: Ack, respond: Respond
) -> None:
    later(ack)
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
    )

    # The listener thread is done once Slack has its ack (the command is in the intake journal
    # by then); giving runs on the runtime's small giving pool, so a burst of commands queues
    # there instead of fighting over the ledger's single writer (and Python's GIL) with the
    # threads that acknowledge.
    def finish() -> None:
        runtime.foreground.yield_to_requests()
        _give_and_reply(runtime, request, respond)

    runtime.intake.hand_off(finish, respond=respond, executor=runtime.giving)


def _give_and_reply(runtime: Runtime, request: GiveRequest, respond: Respond) -> None:
    outcome = runtime.rewards.give(request)
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
            )
        elif outcome.created or outcome.reward.status in (S.QUEUED, S.SENDING):
            payload = queued_reply(card)
        else:  # seen before (resumed after a restart): say where it is now
            payload = reward_messages.reward_note(where_it_is(card, outcome.reward.status))
    else:
        payload = text_only(outcome.text)
    reply(respond, payload)


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
