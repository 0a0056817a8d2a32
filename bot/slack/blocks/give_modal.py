"""The reward modal ("Send a reward"): recipients, amount, citation, value and whether to announce
it, opened by `/reward` with no text, the global shortcut and the message shortcut; and the
inline errors a submission gets back (`response_action: errors`).

Input block ids are `BlockId.RECIPIENTS`, `AMOUNT`, `CITATION`, `VALUES`, `ANNOUNCE`; the
elements' action ids are `ActionId.RECIPIENTS_SELECT`, `AMOUNT_INPUT`, `CITATION_INPUT`,
`VALUES_SELECT`, `ANNOUNCE_CHECKBOX`. Read them from `view.state.values[block_id][action_id]`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bot.rewards.cards import MessageRef
from bot.rewards.commands import CITATION_MAX_CHARS
from bot.rewards.mrkdwn import to_plain_text
from bot.slack.blocks.common import (
    MODAL_TITLE_MAX,
    PRIVATE_METADATA_MAX,
    channel_link,
    clip,
    points,
    text_len,
)
from bot.slack.blocks.kit import (
    HINT_MAX,
    Block,
    actions,
    button,
    context,
    input_block,
    option,
    plain,
)
from bot.slack.ids import ActionId, BlockId, CallbackId

ANNOUNCE_VALUE = "announce"
MAX_VALUE_OPTIONS = 100  # static_select
ERROR_TEXT_MAX = HINT_MAX


@dataclass(frozen=True, slots=True, kw_only=True)
class RewardModalMetadata:
    """Where the modal was opened from, carried in `private_metadata` to the submission."""

    source: str  # command | modal | shortcut (the ledger's RewardSource)
    channel_id: str | None = None  # where to announce and answer
    message: MessageRef | None = None  # the message being rewarded (message shortcut)


def encode_reward_modal_metadata(meta: RewardModalMetadata) -> str:
    data: dict[str, Any] = {"source": meta.source, "channel": meta.channel_id}
    if meta.message is not None:
        data["message"] = [meta.message.channel_id, meta.message.ts]
    text = json.dumps(data, separators=(",", ":"))
    if len(text) > PRIVATE_METADATA_MAX:  # only absurd ids get here
        text = json.dumps({"source": meta.source[:100], "channel": None})
    return text


def decode_reward_modal_metadata(text: str | None) -> RewardModalMetadata:
    """The metadata back; anything unreadable comes back as a plain `modal` source."""
    try:
        data = json.loads(text or "")
        source = str(data.get("source") or "modal")
        channel = data.get("channel")
        ref = data.get("message")
        message = MessageRef(channel_id=str(ref[0]), ts=str(ref[1])) if ref else None
    except (ValueError, TypeError, AttributeError, IndexError, KeyError):
        return RewardModalMetadata(source="modal")
    return RewardModalMetadata(
        source=source, channel_id=str(channel) if channel else None, message=message
    )


def message_citation(permalink: str | None) -> str:
    """The citation a "Reward this message" modal starts with: a line and the message's link,
    within the 500-character limit (the link is left out rather than cut)."""
    lead = "Thanks for this message"
    text = f"{lead}: {permalink}" if permalink else f"{lead}!"
    if text_len(text) > CITATION_MAX_CHARS:
        return f"{lead}!"
    return text


def _amount_hint(max_per_reward: int | None, allowance_left: int | None) -> str:
    parts = ["Points for each person."]
    if max_per_reward is not None:
        parts.append(f"Up to {points(max_per_reward)} per person.")
    if allowance_left is not None:
        parts.append(f"You have {points(allowance_left)} left to give this month.")
    return " ".join(parts)


def reward_modal(
    *,
    metadata: RewardModalMetadata,
    values: Sequence[str] = (),
    initial_users: Sequence[str] = (),
    initial_amount: int | None = None,
    initial_citation: str = "",
    initial_value: str | None = None,
    announce: bool = True,
    announce_in: str | None = None,
    max_per_reward: int | None = None,
    allowance_left: int | None = None,
    gifts: bool = False,
) -> dict[str, Any]:
    """The "Send a reward" modal (`CallbackId.REWARD_MODAL`). `values` (REWARD_VALUES) adds a
    value select; `initial_users` and `initial_citation` prefill it (message shortcut);
    `gifts` offers a gift card or a donation instead (a form pushed on top)."""
    recipients: dict[str, Any] = {
        "type": "multi_users_select",
        "action_id": str(ActionId.RECIPIENTS_SELECT),
        "placeholder": plain("Pick one or more people", 150),
    }
    users = list(dict.fromkeys(u for u in initial_users if u))
    if users:
        recipients["initial_users"] = users
    amount: dict[str, Any] = {
        "type": "number_input",
        "action_id": str(ActionId.AMOUNT_INPUT),
        "is_decimal_allowed": False,
        "min_value": "1",
        "placeholder": plain("50", 150),
    }
    if max_per_reward is not None and max_per_reward >= 1:
        amount["max_value"] = str(max_per_reward)
    if initial_amount is not None and initial_amount >= 1:
        amount["initial_value"] = str(initial_amount)
    citation: dict[str, Any] = {
        "type": "plain_text_input",
        "action_id": str(ActionId.CITATION_INPUT),
        "multiline": True,
        "max_length": CITATION_MAX_CHARS,
        "placeholder": plain("What did they do? #values tag company values", 150),
    }
    if initial_citation.strip():
        citation["initial_value"] = clip(initial_citation, CITATION_MAX_CHARS, mrkdwn=False)
    blocks: list[Block] = [
        input_block(block_id=BlockId.RECIPIENTS, label="Who is it for?", element=recipients),
        input_block(
            block_id=BlockId.AMOUNT,
            label="How many points?",
            element=amount,
            hint=_amount_hint(max_per_reward, allowance_left),
        ),
        input_block(
            block_id=BlockId.CITATION,
            label="What is it for?",
            element=citation,
            hint=f"They'll see this. Up to {CITATION_MAX_CHARS} characters.",
        ),
    ]
    allowed = list(dict.fromkeys(v.lstrip("#").lower() for v in values if v.strip()))
    if allowed:
        options = [option(f"#{v}", v) for v in allowed[:MAX_VALUE_OPTIONS]]
        select: dict[str, Any] = {
            "type": "static_select",
            "action_id": str(ActionId.VALUES_SELECT),
            "placeholder": plain("Pick a company value", 150),
            "options": options,
        }
        chosen = (initial_value or "").lstrip("#").lower()
        if chosen in allowed[:MAX_VALUE_OPTIONS]:
            select["initial_option"] = option(f"#{chosen}", chosen)
        blocks.append(
            input_block(
                block_id=BlockId.VALUES, label="Company value", element=select, optional=True
            )
        )
    if announce_in is None:  # opened from the App Home or the global shortcut
        blocks.append(
            context(
                "It won't be announced in a channel from here: to announce it, open the form "
                "with `/reward` in the channel."
            )
        )
    else:
        announce_option = {
            "text": {"type": "mrkdwn", "text": f"Announce it in {channel_link(announce_in)}"},
            "value": ANNOUNCE_VALUE,
        }
        checkbox: dict[str, Any] = {
            "type": "checkboxes",
            "action_id": str(ActionId.ANNOUNCE_CHECKBOX),
            "options": [announce_option],
        }
        if announce:
            checkbox["initial_options"] = [announce_option]
        blocks.append(
            input_block(
                block_id=BlockId.ANNOUNCE, label="Share it", element=checkbox, optional=True
            )
        )
    if gifts:
        blocks.append(
            actions(
                str(BlockId.GIFT_ACTIONS),
                button(
                    "Send a gift card instead", action_id=ActionId.OPEN_GIFT_MODAL, value="form"
                ),
                button("Donate instead", action_id=ActionId.OPEN_DONATE_MODAL, value="form"),
            )
        )
    return {
        "type": "modal",
        "callback_id": str(CallbackId.REWARD_MODAL),
        "title": plain("Send a reward", MODAL_TITLE_MAX),
        "submit": plain("Send", MODAL_TITLE_MAX),
        "close": plain("Cancel", MODAL_TITLE_MAX),
        "private_metadata": encode_reward_modal_metadata(metadata),
        "blocks": blocks,
    }


def _plain_error(message: str, names: Mapping[str, str] | None) -> str:
    text = to_plain_text(message, names=names).replace("`", "").replace("*", "")
    return clip(" ".join(text.split()), ERROR_TEXT_MAX, mrkdwn=False)


def reward_modal_errors(
    errors: Mapping[str, str],
    *,
    names: Mapping[str, str] | None = None,
    has_values_select: bool = True,
) -> dict[str, Any]:
    """The `ack(response_action="errors", errors=…)` body for a refused submission. `errors`
    maps a field (`bot.rewards.policy.Field`, or `"citation"`) to its mrkdwn message, e.g.
    `decision.errors_by_field()`; messages are shown as plain text on the field (mentions become
    `@name` using `names`, user id → name). Value errors go on the citation when the modal has
    no value select (`#words` typed there); unknown fields go on recipients."""
    known = {str(BlockId.RECIPIENTS), str(BlockId.AMOUNT), str(BlockId.CITATION)}
    if has_values_select:
        known.add(str(BlockId.VALUES))
    out: dict[str, str] = {}
    for field_name, msg in errors.items():
        block_id = str(field_name)
        if block_id == str(BlockId.VALUES) and not has_values_select:
            block_id = str(BlockId.CITATION)
        elif block_id not in known:
            block_id = str(BlockId.RECIPIENTS)
        text = _plain_error(msg, names)
        out[block_id] = f"{out[block_id]} {text}".strip() if block_id in out else text
    return {"response_action": "errors", "errors": out}
