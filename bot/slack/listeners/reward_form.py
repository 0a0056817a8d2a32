"""Read a submitted reward modal: its `view.state.values` → a `RewardForm`, or the problems
Slack can show on each field before anything else is looked up.

Pure: no Slack client, database or settings object. Checked here: at least one recipient, a
whole number of points above zero, a citation of 1 to 500 characters. The giving rules (self,
bots, emails, the maximum, the allowance, the values) are `RewardService.give`'s, as for the
command.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bot.rewards.arguments import parse_amount
from bot.rewards.commands import CITATION_MAX_CHARS, ErrorCode, parse_error
from bot.rewards.mrkdwn import hashtags
from bot.rewards.refusal import Refusal
from bot.rewards.typed_text import clean_typed_text
from bot.slack.blocks.common import escape_mrkdwn
from bot.slack.blocks.give_modal import ANNOUNCE_VALUE
from bot.slack.ids import ActionId, BlockId

NO_RECIPIENT = "Pick at least one person to reward."
NO_AMOUNT = "Enter how many points each person gets, like 50."
NO_CITATION = "Say what it's for in a few words: they'll see it with the points."


@dataclass(frozen=True, slots=True, kw_only=True)
class RewardForm:
    recipients: tuple[str, ...]
    amount: int
    citation: str  # mrkdwn-escaped, as the ledger stores it
    picked_value: str | None  # from the value select, lowercased, without `#`
    typed_values: tuple[str, ...]  # `#words` in the citation
    announce: bool

    @property
    def values(self) -> tuple[str, ...]:
        picked = (self.picked_value,) if self.picked_value else ()
        return tuple(dict.fromkeys((*picked, *self.typed_values)))


@dataclass(frozen=True, slots=True)
class FormErrors:
    errors: dict[str, str]  # block id → message (mrkdwn)


def _element(values: Mapping[str, Any], block: BlockId, action: ActionId) -> Mapping[str, Any]:
    found = (values.get(str(block)) or {}).get(str(action))
    return found if isinstance(found, Mapping) else {}


def _text(values: Mapping[str, Any], block: BlockId, action: ActionId) -> str:
    """A typed field's text, without control characters (empty when nothing visible is left)."""
    value = _element(values, block, action).get("value")
    return clean_typed_text(value) if isinstance(value, str) else ""


def citation_length_error(length: int) -> str:
    over = length - CITATION_MAX_CHARS
    return (
        f"That's {length:,} characters and the limit is {CITATION_MAX_CHARS}. "
        f"Please shorten it by {over:,}."
    )


def read_reward_form(values: Mapping[str, Any]) -> RewardForm | FormErrors:
    """The form, or every field problem at once (keyed by block id)."""
    errors: dict[str, str] = {}

    users = _element(values, BlockId.RECIPIENTS, ActionId.RECIPIENTS_SELECT).get("selected_users")
    picked_users = users if isinstance(users, Sequence) and not isinstance(users, str) else ()
    recipients = tuple(dict.fromkeys(u for u in picked_users if isinstance(u, str) and u))
    if not recipients:
        errors[str(BlockId.RECIPIENTS)] = NO_RECIPIENT

    amount_text = _text(values, BlockId.AMOUNT, ActionId.AMOUNT_INPUT).strip()
    amount: int | Refusal = (
        parse_amount(amount_text) if amount_text else parse_error(ErrorCode.NO_AMOUNT, NO_AMOUNT)
    )
    if isinstance(amount, Refusal):
        errors[str(BlockId.AMOUNT)] = amount.text

    raw = _text(values, BlockId.CITATION, ActionId.CITATION_INPUT).strip()
    if not raw:
        errors[str(BlockId.CITATION)] = NO_CITATION
    elif len(raw) > CITATION_MAX_CHARS:
        errors[str(BlockId.CITATION)] = citation_length_error(len(raw))

    if errors:
        return FormErrors(errors)
    assert isinstance(amount, int)

    picked = _element(values, BlockId.VALUES, ActionId.VALUES_SELECT).get("selected_option")
    picked_value = None
    if isinstance(picked, Mapping) and isinstance(picked.get("value"), str):
        picked_value = picked["value"].strip().lstrip("#").lower() or None

    announce_state = _element(values, BlockId.ANNOUNCE, ActionId.ANNOUNCE_CHECKBOX)
    chosen = announce_state.get("selected_options")
    announce = (
        any(isinstance(o, Mapping) and o.get("value") == ANNOUNCE_VALUE for o in chosen)
        if isinstance(chosen, Sequence)
        else str(BlockId.ANNOUNCE) not in values  # no checkbox at all: announce, as by default
    )
    return RewardForm(
        recipients=recipients,
        amount=amount,
        citation=escape_mrkdwn(raw),
        picked_value=picked_value,
        typed_values=hashtags(raw),
        announce=announce,
    )
