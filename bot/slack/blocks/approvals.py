"""Approvals: the request an approver gets (with Approve / Reject), the same message once decided
(who, when, why; no buttons), the reject-reason modal, and what the giver is told.

Buttons carry the reward's short id as `value`; their block id is keyed by it
(`approval_actions:<short id>`), so several requests can share one message or App Home.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bot.rewards.cards import (
    ApprovalCard,
    ApprovalDecision,
    GiverMonth,
    MessageRef,
    RewardCard,
)
from bot.rewards.commands import REASON_MAX_CHARS
from bot.slack.blocks.common import (
    LIST_CITATION_MAX,
    MODAL_TITLE_MAX,
    PRIVATE_METADATA_MAX,
    clip,
    format_datetime,
    mention,
    message,
    one_line,
    people,
    points,
    safe_mrkdwn,
    short_id,
    values_text,
)
from bot.slack.blocks.kit import (
    Block,
    actions,
    button,
    confirm_dialog,
    context,
    header,
    input_block,
    keyed,
    plain,
    section,
)
from bot.slack.blocks.reward_messages import amount_phrase, citation, citation_block
from bot.slack.ids import ActionId, BlockId, CallbackId

Payload = dict[str, Any]

_DECIDED = {
    "approved": ("✅", "Approved"),
    "rejected": ("🚫", "Rejected"),
    "expired": ("⌛", "Expired"),
    "cancelled": ("↩️", "Cancelled"),
}


def month_text(month: GiverMonth, reward: RewardCard) -> str:
    """`300 points in 2 rewards before this one; 500 of 1,000 with it`."""
    before = f"{points(month.given_before)} in {month.rewards_before} reward" + (
        "" if month.rewards_before == 1 else "s"
    )
    with_it = month.given_before + reward.total
    if month.is_admin:
        return f"{before} before this one; admins have no monthly limit"
    if not month.allowance:
        return f"{before} before this one; {points(with_it)} with it"
    return f"{before} before this one; {with_it:,} of {month.allowance:,} with it"


def _amount(reward: RewardCard) -> str:
    if len(reward.recipients) <= 1:
        return points(reward.total)
    if reward.each is not None:
        return f"{points(reward.each)} each"
    return "different for each person"


def _count_people(n: int) -> str:
    return "1 person" if n == 1 else f"{n} people"


def approval_buttons(reward: RewardCard) -> Block:
    approve = button(
        "Approve",
        action_id=ActionId.APPROVE,
        value=reward.short_id,
        style="primary",
        confirm=confirm_dialog(
            title="Approve this reward?",
            text=f"{points(reward.total)} will be sent right away to "
            f"{_count_people(len(reward.recipients))}.",
            confirm="Approve",
        ),
    )
    reject = button("Reject", action_id=ActionId.REJECT, value=reward.short_id, style="danger")
    return actions(keyed(BlockId.APPROVAL_ACTIONS, reward.short_id), approve, reject)


def decision_text(decision: ApprovalDecision, tz: str | None) -> str:
    emoji, word = _DECIDED[decision.outcome]
    when = format_datetime(decision.decided_at, tz)
    by = f" by {mention(decision.decided_by)}" if decision.decided_by else ""
    line = f"{emoji} *{word}*{by} on {when}."
    if decision.outcome == "expired" and not decision.decided_by:
        line = f"{emoji} *{word}* on {when}: nobody decided in time, so nothing was sent."
    if decision.reason and decision.reason.strip():
        line += f"\n*Reason:* {safe_mrkdwn(one_line(decision.reason))}"
    return line


def request_blocks(
    request: ApprovalCard, tz: str | None, *, decision: ApprovalDecision | None = None
) -> list[Block]:
    """The blocks of one request (also used by the approvals list and the App Home)."""
    reward = request.reward
    giver = mention(reward.giver_id)
    who = people(reward.recipient_ids, limit=600)
    lead = f"{giver} wants to give {amount_phrase(reward)} to {who}."
    if request.as_manager:
        lead += f" You're asked as {giver}'s manager."
    if request.threshold is not None:
        lead += f" Rewards of {points(request.threshold)} or more need approval."
    fields = [
        f"*From*\n{giver}",
        f"*To*\n{who}",
        f"*Amount*\n{_amount(reward)}",
        f"*Total*\n{points(reward.total)}",
    ]
    if reward.values:
        fields.append(f"*Values*\n{values_text(reward.values)}")
    if request.month is not None:
        fields.append(f"*Giver's month so far*\n{month_text(request.month, reward)}")
    blocks: list[Block] = [
        section(lead),
        section(fields=fields),
        citation_block(reward),
        context(
            f"Reward {short_id(reward.short_id)} · asked {format_datetime(reward.created_at, tz)}"
        ),
    ]
    if decision is None:
        blocks.append(approval_buttons(reward))
    else:
        blocks.append(section(decision_text(decision, tz)))
    return blocks


def approval_row(request: ApprovalCard, tz: str | None) -> list[Block]:
    """A compact request (one section and its buttons), for lists and the App Home."""
    reward = request.reward
    lines = [
        f"{short_id(reward.short_id)} · {mention(reward.giver_id)} → "
        f"{people(reward.recipient_ids, limit=400)} · {amount_phrase(reward)}",
        f">{clip(one_line(citation(reward)), LIST_CITATION_MAX * 2)}",
    ]
    tail = f"asked {format_datetime(reward.created_at, tz)}"
    if request.month is not None:
        tail += f" · their month so far: {month_text(request.month, reward)}"
    lines.append(tail)
    return [section("\n".join(lines)), approval_buttons(reward)]


def approval_request(
    *,
    request: ApprovalCard,
    tz: str | None,
    decision: ApprovalDecision | None = None,
) -> Payload:
    """The DM an approver gets: giver, recipients, amount, total, citation, values and the
    giver's month so far, with Approve / Reject. With `decision`, the decided version (who,
    when in `tz`, the reason) without buttons, to `chat.update` every approver's copy."""
    reward = request.reward
    if decision is None:
        title = "Reward to approve"
        text = (
            f"{mention(reward.giver_id)} asks you to approve {points(reward.total)} "
            f"(reward {reward.short_id})."
        )
    else:
        title = f"Reward {_DECIDED[decision.outcome][1].lower()}"
        text = f"Reward {reward.short_id}: {decision.outcome}."
    blocks = [header(title), *request_blocks(request, tz, decision=decision)]
    return message(text, blocks)


def approval_decided(
    *, request: ApprovalCard, decision: ApprovalDecision, tz: str | None
) -> Payload:
    """`approval_request` once decided: the buttons are gone."""
    return approval_request(request=request, tz=tz, decision=decision)


def giver_decision(*, reward: RewardCard, decision: ApprovalDecision, tz: str | None) -> Payload:
    """What the giver hears once their request is decided (or expired or cancelled)."""
    who = people(reward.recipient_ids, limit=600)
    what = f"your reward of {amount_phrase(reward)} to {who}"
    by = mention(decision.decided_by) if decision.decided_by else "An approver"
    reason = safe_mrkdwn(one_line(decision.reason or ""))
    if decision.outcome == "approved":
        lead = f"✅ {by} approved {what}. It's on its way; I'll tell you when it arrives."
    elif decision.outcome == "rejected":
        lead = (
            f"🚫 {by} didn't approve {what}. Nothing was sent, and it no longer counts against "
            "your allowance."
        )
    elif decision.outcome == "expired":
        lead = (
            f"⌛ Nobody decided on {what} in time, so it expired. Nothing was sent; you can "
            "send it again with `/reward`."
        )
    else:
        lead = f"↩️ {what[0].upper()}{what[1:]} was cancelled. Nothing was sent."
    if reason:
        lead += f"\n*Reason:* {reason}"
    blocks = [
        section(lead),
        citation_block(reward),
        context(f"Reward {short_id(reward.short_id)} · {format_datetime(decision.decided_at, tz)}"),
    ]
    text = f"Reward {reward.short_id}: {decision.outcome}." + (f" {reason}" if reason else "")
    return message(text, blocks)


# ── the reject-reason modal ──────────────────────────────────────────────────────────────


@dataclass(frozen=True, slots=True, kw_only=True)
class RejectMetadata:
    """What the reject modal carries to its submission: the reward and the approval messages
    to update (the one clicked first)."""

    short_id: str
    messages: tuple[MessageRef, ...] = ()


def encode_reject_metadata(meta: RejectMetadata) -> str:
    """JSON within `private_metadata`'s 3,000 characters (message refs that don't fit are
    dropped from the end; the listener can still find every copy from the ledger)."""
    refs = [[m.channel_id, m.ts] for m in meta.messages]
    while True:
        text = json.dumps({"reward": meta.short_id, "messages": refs}, separators=(",", ":"))
        if len(text) <= PRIVATE_METADATA_MAX or not refs:
            return text
        refs.pop()


def decode_reject_metadata(text: str | None) -> RejectMetadata | None:
    """The metadata back, or None when it isn't ours."""
    try:
        data = json.loads(text or "")
        reward = data["reward"]
        refs = tuple(
            MessageRef(channel_id=str(c), ts=str(t)) for c, t in data.get("messages") or []
        )
    except (ValueError, TypeError, KeyError, AttributeError):
        return None
    if not isinstance(reward, str) or not reward:
        return None
    return RejectMetadata(short_id=reward, messages=refs)


def reject_reason_modal(
    *,
    reward_id: str,
    messages: Sequence[MessageRef] = (),
    reward: RewardCard | None = None,
) -> dict[str, Any]:
    """The modal Reject opens: a required reason (up to 500 characters), which the giver sees."""
    blocks: list[Block] = []
    if reward is not None:
        blocks.append(
            section(
                f"Rejecting {mention(reward.giver_id)}'s reward of {amount_phrase(reward)} to "
                f"{people(reward.recipient_ids, limit=600)}. Nothing will be sent."
            )
        )
    blocks.append(
        input_block(
            block_id=BlockId.REJECT_REASON,
            label="Why not?",
            hint="The giver sees this, so say what would make it right.",
            element={
                "type": "plain_text_input",
                "action_id": str(ActionId.REJECT_REASON_INPUT),
                "multiline": True,
                "max_length": REASON_MAX_CHARS,
                "placeholder": plain("For example: let's keep rewards under 500 points", 150),
            },
        )
    )
    meta = RejectMetadata(short_id=reward_id, messages=tuple(messages))
    return {
        "type": "modal",
        "callback_id": str(CallbackId.REJECT_REASON),
        "title": plain("Reject reward", MODAL_TITLE_MAX),
        "submit": plain("Reject", MODAL_TITLE_MAX),
        "close": plain("Cancel", MODAL_TITLE_MAX),
        "private_metadata": encode_reject_metadata(meta),
        "blocks": blocks,
    }
