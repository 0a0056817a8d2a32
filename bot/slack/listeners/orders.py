"""`/reward orders` and `/reward orders report <from> <to>` (admins only; `/reward` refuses
everybody else in the ack, as `subcommands` declares).

The list is one reply. The report is two CSV files in the admin's DM, uploaded together in one
files_upload_v2 call (one message, both files, or neither); the reply says where they are or
why nothing was sent.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from slack_bolt import Respond

from bot.rewards.commands import ListOrders, OrdersReport
from bot.rewards.refusal import Refusal
from bot.slack.blocks import orders as order_blocks
from bot.slack.blocks.common import format_date, text_only
from bot.slack.blocks.reward_messages import reward_note
from bot.slack.listeners.command_replies import reply
from bot.slack.listeners.in_time import answer_soon

Payload = dict[str, Any]

if TYPE_CHECKING:
    from bot.runtime import Runtime

log = logging.getLogger(__name__)


def run(
    runtime: Runtime, parsed: ListOrders | OrdersReport, command: dict[str, Any], respond: Respond
) -> None:
    """`/reward orders` lists; `/reward orders report …` sends the CSVs."""
    if isinstance(parsed, OrdersReport):
        send_report(runtime, parsed, command, respond)
    else:
        list_orders(runtime, parsed, command, respond)


def list_orders(
    runtime: Runtime, parsed: ListOrders, command: dict[str, Any], respond: Respond
) -> None:
    found = runtime.order_reports.recent(command["user_id"])
    if isinstance(found, Refusal):
        reply(respond, text_only(found.text))
        return
    reply(respond, order_blocks.orders_message(orders=found))


def send_report(
    runtime: Runtime, parsed: OrdersReport, command: dict[str, Any], respond: Respond
) -> None:
    answer_soon(
        respond,
        lambda: report_answer(runtime, parsed, command),
        fetching="reading its orders and payments for the report",
    )


def report_answer(runtime: Runtime, parsed: OrdersReport, command: dict[str, Any]) -> Payload:
    """The report's CSVs sent to the admin's DM; what the admin is told."""
    sent = runtime.order_reports.send_report(command["user_id"], parsed)
    if isinstance(sent, Refusal):
        return text_only(sent.text)
    if not sent.delivered:
        return text_only(
            "I read Xoxoday's reports, but Slack wouldn't take the files for our DM, so "
            "nothing was sent. Try again in a minute."
        )
    made = sent.files
    return reward_note(
        f"📊 Xoxoday's orders ({made.order_rows:,}) and payment report "
        f"({made.payment_rows:,} rows) for {format_date(made.since)} to "
        f"{format_date(made.until)} "
        "are in two CSV files in our DM."
    )
