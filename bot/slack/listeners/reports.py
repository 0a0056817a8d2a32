"""Reporting a reward ("Report this reward" on its announcement) and the admins' decisions.

The shortcut finds the reward from the bot's record of its announcements (`ReportService.check`)
and opens a small form asking why; a message that is no announcement, or a reward already
cancelled or reported, gets one plain answer instead. The form's submission records the report
in its ack (a refusal shows in the form); after the ack the admins are told and the reporter
thanked, once, with an ephemeral in the channel. Restore keeps the reward (the first click
wins; a second says who decided); Cancel asks as `/reward cancel` does, and its confirmed
click goes through `bot.slack.listeners.cancel` (the cancel service).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from slack_bolt import Ack, App, BoltContext, Respond

from bot.rewards.cards import card_for
from bot.rewards.refusal import Refusal
from bot.rewards.reports import CANCEL_WHY, Reported
from bot.slack.blocks import reports as report_blocks
from bot.slack.blocks.common import escape_mrkdwn
from bot.slack.ids import ActionId, BlockId, CallbackId, Shortcut
from bot.slack.journal import ack_at_once, after_ack
from bot.slack.listeners.action_replies import (
    action_value,
    notice_modal,
    team_of,
    tell,
    user_of,
)
from bot.slack.listeners.cancel import question
from bot.slack.listeners.typed_reason import reason_problem as typed_reason_problem
from bot.slack.listeners.typed_reason import typed_reason
from bot.slack.request_entry import entry_of

if TYPE_CHECKING:
    from bot.runtime import Runtime

TITLE = "Report a reward"
REPORTED = "reward_reported"  # context: what the form's ack recorded


def register(app: App) -> None:
    app.shortcut(Shortcut.REPORT_REWARD)(ack=ack_at_once, lazy=[open_report])
    app.view(CallbackId.REPORT_MODAL)(ack=submit_report, lazy=[after_report])
    app.action(ActionId.REPORT_RESTORE)(ack=ack_at_once, lazy=[restore])
    app.action(ActionId.REPORT_CANCEL)(ack=ack_at_once, lazy=[ask_cancel])


@after_ack
def open_report(body: dict[str, Any], respond: Respond, runtime: Runtime) -> None:
    channel = str((body.get("channel") or {}).get("id") or "")
    ts = str(body.get("message_ts") or (body.get("message") or {}).get("ts") or "")
    checked = runtime.reports.check(channel_id=channel, message_ts=ts)
    if isinstance(checked, Refusal):
        tell(runtime, body, respond, checked.text)
        return
    meta = report_blocks.ReportMetadata(channel_id=channel, message_ts=ts)
    view = report_blocks.report_modal(reward=card_for(checked), meta=meta)
    runtime.slack.views_open(trigger_id=body["trigger_id"], view=view)


def reason_of(view: dict[str, Any]) -> str:
    return typed_reason(view, str(BlockId.REPORT_REASON), str(ActionId.REPORT_REASON_INPUT))


def reason_problem(reason: str) -> str | None:
    return typed_reason_problem(
        reason, missing="Please say what's wrong with it, so the admins know what to look at."
    )


def submit_report(
    ack: Ack, body: dict[str, Any], view: dict[str, Any], context: BoltContext, runtime: Runtime
) -> None:
    """Check the reason and record the report in the ack (a refusal shows in the form); the
    admins are told and the reporter thanked after it (`after_report`)."""
    meta = report_blocks.decode_report_metadata(view.get("private_metadata"))
    if meta is None:
        text = "This form is out of date. Use *Report this reward* on the announcement again."
        ack(response_action="update", view=notice_modal(TITLE, text))
        return
    reason = reason_of(view)
    problem = reason_problem(reason)
    if problem is not None:
        ack(response_action="errors", errors={str(BlockId.REPORT_REASON): problem})
        return
    result = runtime.reports.report(
        reporter_id=user_of(body),
        team_id=team_of(body),
        channel_id=meta.channel_id,
        message_ts=meta.message_ts,
        reason=escape_mrkdwn(reason),  # typed in a modal: raw text, stored as mrkdwn
    )
    context[REPORTED] = (result, meta.channel_id)
    if isinstance(result, Refusal):
        ack(response_action="update", view=notice_modal(TITLE, result.text))
        return
    ack()  # closes the form; the thanks follow


@after_ack
def after_report(body: dict[str, Any], context: BoltContext, runtime: Runtime) -> None:
    recorded = context.get(REPORTED)
    if not recorded or not isinstance(recorded[0], Reported):
        return
    reported, channel = recorded
    reporter = user_of(body)
    runtime.reports.tell_admins(reported, reporter_id=reporter)
    card = card_for(reported.reward)
    entry = entry_of(context)
    resumed = entry is not None and entry.resumed  # their report, recorded before a restart
    payload = (
        report_blocks.already_yours(reward=card)
        if reported.again and not resumed
        else report_blocks.reporter_thanks(reward=card)
    )
    runtime.notifier.answer(reporter, payload, channel_id=channel)


@after_ack
def restore(body: dict[str, Any], respond: Respond, runtime: Runtime) -> None:
    """Keep the reward: every admin's copy says who restored it (`ReportDecided`)."""
    result = runtime.reports.restore(admin_id=user_of(body), short_id=action_value(body))
    if isinstance(result, Refusal):
        tell(runtime, body, respond, result.text)


@after_ack
def ask_cancel(body: dict[str, Any], respond: Respond, runtime: Runtime) -> None:
    """The usual cancel path: what will be withdrawn from whom, and its confirmed button."""
    checked = runtime.reports.cancel_question(admin_id=user_of(body), short_id=action_value(body))
    if isinstance(checked, Refusal):
        tell(runtime, body, respond, checked.text)
        return
    respond(
        response_type="ephemeral",
        replace_original=False,
        **question(runtime, card_for(checked), CANCEL_WHY),
    )
