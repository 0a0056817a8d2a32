"""`/reward balance`: your redeemable points and what you may still give this month (admins also
see the company account). Acknowledged at once; Xoxoday is asked after the ack. If it has not
answered within `FIRST_ANSWER_SECONDS`, the answer shows what the ledger knows and says the
rest follows; one more message brings Xoxoday's figures when they arrive."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from slack_bolt import Respond

from bot.rewards.commands import ShowBalance
from bot.slack.blocks.kit import context
from bot.slack.blocks.lists import balance_followup_message, balance_message
from bot.slack.listeners.command_replies import reply

if TYPE_CHECKING:
    from bot.runtime import Runtime

FIRST_ANSWER_SECONDS = 2.0  # after the ack: Slack's own 3 s is what people are used to

NO_EMAIL_NOTE = (
    "Slack has no email address for you, and Xoxoday keeps points by email, so nobody can "
    "send you points yet. Ask a Slack admin to add your email to your profile."
)


def show_balance(
    runtime: Runtime, parsed: ShowBalance, command: dict[str, Any], respond: Respond
) -> None:
    user_id = command["user_id"]
    person = runtime.people.profile(user_id).person
    card, later = runtime.balances.card_soon(
        user_id=user_id, email=person.email, wait=FIRST_ANSWER_SECONDS
    )
    redeem = runtime.redeem.button(user_id) if runtime.redeem and card.points else None
    payload = balance_message(balance=card, redeem=redeem)
    if not person.email:
        payload["blocks"].append(context(NO_EMAIL_NOTE))
    reply(respond, payload)
    if later is not None:
        reply(respond, balance_followup_message(balance=later()))
