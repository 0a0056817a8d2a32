"""A reason typed in a form (the reject form, the report form): read without control
characters, and checked as every form's reason is (something visible, at most
REASON_MAX_CHARS)."""

from __future__ import annotations

from typing import Any

from bot.rewards.commands import REASON_MAX_CHARS
from bot.rewards.typed_text import clean_typed_text


def typed_reason(view: dict[str, Any], block_id: str, action_id: str) -> str:
    """The text typed in the view's `block_id`/`action_id` input, without control characters
    (empty when nothing visible is left)."""
    values = (view.get("state") or {}).get("values") or {}
    field = (values.get(block_id) or {}).get(action_id)
    return clean_typed_text(str((field or {}).get("value") or "")).strip()


def reason_problem(reason: str, *, missing: str) -> str | None:
    """What to say beside the field: `missing` when nothing was typed, the limit when over it."""
    if not reason:
        return missing
    if len(reason) > REASON_MAX_CHARS:
        return (
            f"Please keep it to {REASON_MAX_CHARS} characters; this is {len(reason):,} "
            f"({len(reason) - REASON_MAX_CHARS:,} too many)."
        )
    return None
