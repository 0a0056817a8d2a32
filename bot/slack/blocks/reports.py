"""Reports of a reward: the form that asks why, the admins' DM with Restore / Cancel, what the
DM says once decided, and the reporter's thanks."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from bot.rewards.cards import RewardCard
from bot.rewards.commands import REASON_MAX_CHARS
from bot.slack.blocks.common import (
    MODAL_TITLE_MAX,
    PRIVATE_METADATA_MAX,
    format_datetime,
    mention,
    message,
    one_line,
    people,
    safe_mrkdwn,
    short_id,
)
from bot.slack.blocks.kit import (
    actions,
    button,
    confirm_dialog,
    context,
    input_block,
    keyed,
    plain,
    section,
)
from bot.slack.blocks.reward_messages import amount_phrase, citation_block
from bot.slack.ids import ActionId, BlockId, CallbackId

Payload = dict[str, Any]
OFF_THE_BOARDS = "It's off the leaderboard and the summaries until an admin decides."


@dataclass(frozen=True, slots=True)
class ReportMetadata:
    """The announcement the form is about (the bot finds the reward from it again)."""

    channel_id: str
    message_ts: str


def encode_report_metadata(meta: ReportMetadata) -> str:
    text = json.dumps({"c": meta.channel_id, "ts": meta.message_ts})
    return text[:PRIVATE_METADATA_MAX]


def decode_report_metadata(raw: object) -> ReportMetadata | None:
    try:
        value = json.loads(raw) if isinstance(raw, str) else None
    except ValueError:
        return None
    if not isinstance(value, dict):
        return None
    channel, ts = value.get("c"), value.get("ts")
    if not isinstance(channel, str) or not isinstance(ts, str) or not channel or not ts:
        return None
    return ReportMetadata(channel_id=channel, message_ts=ts)


def _what(reward: RewardCard) -> str:
    return (
        f"{mention(reward.giver_id)}'s reward {short_id(reward.short_id)} of "
        f"{amount_phrase(reward)} to {people(reward.recipient_ids, limit=600)}"
    )


def report_modal(*, reward: RewardCard, meta: ReportMetadata) -> Payload:
    """What "Report this reward" opens: the reward, and why (required; the admins read it)."""
    return {
        "type": "modal",
        "callback_id": str(CallbackId.REPORT_MODAL),
        "title": plain("Report a reward", MODAL_TITLE_MAX),
        "submit": plain("Report", MODAL_TITLE_MAX),
        "close": plain("Cancel", MODAL_TITLE_MAX),
        "private_metadata": encode_report_metadata(meta),
        "blocks": [
            section(
                f"Report {_what(reward)}? Only the admins see your report and your name; "
                f"they keep the reward or cancel it. {OFF_THE_BOARDS}"
            ),
            input_block(
                block_id=BlockId.REPORT_REASON,
                label="What's wrong with it?",
                hint="A sentence is enough. The admins read it.",
                element={
                    "type": "plain_text_input",
                    "action_id": str(ActionId.REPORT_REASON_INPUT),
                    "multiline": True,
                    "max_length": REASON_MAX_CHARS,
                    "placeholder": plain("For example: they gave this to each other twice", 150),
                },
            ),
        ],
    }


def reporter_thanks(*, reward: RewardCard) -> Payload:
    text = (
        f"🚩 Thanks for reporting reward {short_id(reward.short_id)}. The admins will look at "
        f"it. {OFF_THE_BOARDS}"
    )
    return message(text, [section(text)])


def already_yours(*, reward: RewardCard) -> Payload:
    text = (
        f"You already reported reward {short_id(reward.short_id)}; the admins have it. "
        f"{OFF_THE_BOARDS}"
    )
    return message(text, [section(text)])


def admin_report(*, reward: RewardCard, reporter: str, reason: str, tz: str | None) -> Payload:
    """An admin's DM: the reward (who, whom, how much, why), who reported it and why, and
    Restore / Cancel the reward."""
    why = safe_mrkdwn(one_line(reason))
    head = f"🚩 {mention(reporter)} reported {_what(reward)}."
    blocks = [
        section(f"{head}\n*Their reason:* {why}"),
        citation_block(reward),
        context(f"Given {format_datetime(reward.created_at, tz)}. {OFF_THE_BOARDS}"),
        actions(
            keyed(BlockId.REPORT_ACTIONS, reward.short_id),
            button(
                "Restore",
                action_id=ActionId.REPORT_RESTORE,
                value=reward.short_id,
                style="primary",
            ),
            button(
                "Cancel the reward",
                action_id=ActionId.REPORT_CANCEL,
                value=reward.short_id,
                style="danger",
                confirm=confirm_dialog(
                    title="Cancel this reward?",
                    text="I'll ask once more, showing what will be withdrawn from whom.",
                    confirm="Go on",
                    deny="Not now",
                ),
            ),
        ),
    ]
    return message(f"{head} Their reason: {why}", blocks)


def report_restored(*, reward: RewardCard, admin: str) -> Payload:
    """Every admin's copy once the reward was restored (no buttons left)."""
    text = (
        f"✅ {mention(admin)} restored {_what(reward)} after a report: it counts again on the "
        "leaderboard and in the summaries."
    )
    return message(text, [section(text), citation_block(reward)])


def report_cancelled(*, reward: RewardCard, admin: str) -> Payload:
    """Every admin's copy once the reward was cancelled (no buttons left)."""
    text = f"❌ {mention(admin)} cancelled {_what(reward)} after a report."
    return message(text, [section(text), citation_block(reward)])
