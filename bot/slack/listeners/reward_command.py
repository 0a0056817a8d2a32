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
from bot.rewards.commands import GiveReward, OpenModal, ParseError, ShowHelp
from bot.rewards.help import help_text
from bot.rewards.parse import parse_command
from bot.rewards.service import Given, GiveRequest
from bot.rewards.subcommands import ADMIN_SUBCOMMANDS
from bot.slack.blocks import reward_messages
from bot.slack.blocks.cards import RewardCard
from bot.slack.blocks.common import people, points, short_id, text_only
from bot.slack.errors import new_ref, unexpected_text
from bot.slack.ids import Command
from storage.states import RewardSource

if TYPE_CHECKING:
    from bot.runtime import Runtime

log = logging.getLogger(__name__)

Handler = Callable[..., None]
# Subcommand handlers by parsed type: handler(runtime, parsed, command, ack, respond)
SUBCOMMANDS: dict[type, Handler] = {}


def register(app: App, runtime: Runtime) -> None:
    def on_reward(ack: Ack, command: dict[str, Any], respond: Respond) -> None:
        handle(runtime, command, ack, respond)

    app.command(Command.REWARD)(on_reward)


def handle(runtime: Runtime, command: dict[str, Any], ack: Ack, respond: Respond) -> None:
    sandbox = runtime.sandboxed
    text = command.get("text") or ""
    doing = ADMIN_SUBCOMMANDS.get(text.split(maxsplit=1)[0].lower() if text.strip() else "")
    refused = doing and only_admins(runtime.settings, command["user_id"], doing=doing)
    if refused:
        ack(**text_only(refused.text, sandbox=sandbox))
        return
    parsed = parse_command(text)
    if isinstance(parsed, ParseError):
        ack(**text_only(parsed.message, sandbox=sandbox))
        return
    if isinstance(parsed, ShowHelp | OpenModal) and type(parsed) not in SUBCOMMANDS:
        ack(**text_only(help_text(values=runtime.settings.REWARD_VALUES), sandbox=sandbox))
        return
    if isinstance(parsed, GiveReward):
        give(runtime, parsed, command, ack, respond)
        return
    handler = SUBCOMMANDS.get(type(parsed))
    if handler is None:
        ack(**text_only(help_text(values=runtime.settings.REWARD_VALUES), sandbox=sandbox))
        return
    handler(runtime, parsed, command, ack, respond)


def queued_reply(card: RewardCard, *, sandbox: bool) -> dict[str, Any]:
    who = people(card.recipient_ids)
    each = f"*{points(card.each)}* each" if card.each and len(card.recipients) > 1 else ""
    amount = each or f"*{points(card.total)}*"
    return text_only(
        f"👍 Sending {amount} to {who} now (reward {short_id(card.short_id)}). "
        "I'll DM you as soon as Xoxoday confirms.",
        sandbox=sandbox,
    )


def give(
    runtime: Runtime, parsed: GiveReward, command: dict[str, Any], ack: Ack, respond: Respond
) -> None:
    sandbox = runtime.sandboxed
    ack(**text_only("⏳ One moment…", sandbox=sandbox))
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
    # The listener thread is done once Slack has its ack; giving runs on the runtime's small
    # giving pool, so a burst of commands queues there instead of fighting over the ledger's
    # single writer (and Python's GIL) with the threads that acknowledge.
    runtime.giving.submit(_finish_give, runtime, request, respond)


def _finish_give(runtime: Runtime, request: GiveRequest, respond: Respond) -> None:
    try:
        _give_and_reply(runtime, request, respond)
    except Exception:
        ref = new_ref()
        log.exception("giving failed (ref %s)", ref)
        payload = text_only(unexpected_text(ref), sandbox=runtime.sandboxed)
        try:
            respond(replace_original=True, response_type="ephemeral", **payload)
        except Exception:
            log.exception("could not tell the giver about ref %s", ref)


def _give_and_reply(runtime: Runtime, request: GiveRequest, respond: Respond) -> None:
    sandbox = runtime.sandboxed
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
                sandbox=sandbox,
                threshold=runtime.settings.REWARD_APPROVAL_THRESHOLD,
            )
        else:
            payload = queued_reply(card, sandbox=sandbox)
    else:
        payload = text_only(outcome.text, sandbox=sandbox)
    respond(replace_original=True, response_type="ephemeral", **payload)
