"""Shared pieces of every message: Slack's limits and payloads; how points, money, people and
dates are written lives in `bot.rewards.wording` (re-exported here).

Slack's limits (Block Kit reference): 50 blocks in a message, 100 in a modal or App Home; section
text 3,000 characters, a field 2,000; header 150; button text 75, value 2,000; context at most 10
elements; modal title, submit and close 24; `private_metadata` 3,000. Lengths are counted here in
UTF-16 code units, which is never less than the number of characters, so an emoji can't push a
text over a limit.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from bot.rewards.wording import (  # re-exported: how things are written lives there
    ELLIPSIS,
    STATUS_LABELS,
    channel_link,
    clip,
    escape_mrkdwn,
    format_date,
    format_datetime,
    local,
    mention,
    money,
    one_line,
    people,
    points,
    quote,
    safe_mrkdwn,
    short_id,
    status_emoji,
    status_label,
    status_text,
    text_len,
    values_text,
    zone,
    zone_name,
)

MESSAGE_MAX_BLOCKS = 50
VIEW_MAX_BLOCKS = 100
SECTION_TEXT_MAX = 3000
FIELD_TEXT_MAX = 2000
HEADER_TEXT_MAX = 150
CONTEXT_MAX_ELEMENTS = 10
BUTTON_TEXT_MAX = 75
BUTTON_VALUE_MAX = 2000
MODAL_TITLE_MAX = 24
PRIVATE_METADATA_MAX = 3000
MESSAGE_TEXT_BUDGET = 10_000  # all text in a message's blocks (Slack refuses ~13k: too long)
FALLBACK_TEXT_MAX = 3000  # the top-level `text`: a notification, so keep it well short
LIST_CITATION_MAX = 120  # a citation inside a list row

REDEEM_HINT = (
    "Sign in to the Plum storefront with your work email to spend them (Xoxoday/Plum emailed "
    "you the link)."
)


# ── payloads ─────────────────────────────────────────────────────────────────────────────


def message(text: str, blocks: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """A message payload: fallback `text` (plain, short) and `blocks` within Slack's limits."""
    return {
        "text": clip(text.strip() or "Rewards", FALLBACK_TEXT_MAX),
        "blocks": [dict(b) for b in blocks][:MESSAGE_MAX_BLOCKS],
    }


def text_only(text: str) -> dict[str, Any]:
    """A payload with only `text` (e.g. a file's `initial_comment`)."""
    return {"text": clip(text.strip(), FALLBACK_TEXT_MAX)}


__all__ = [
    "ELLIPSIS",
    "STATUS_LABELS",
    "channel_link",
    "clip",
    "escape_mrkdwn",
    "format_date",
    "format_datetime",
    "local",
    "mention",
    "message",
    "money",
    "one_line",
    "people",
    "points",
    "quote",
    "safe_mrkdwn",
    "short_id",
    "status_emoji",
    "status_label",
    "status_text",
    "text_len",
    "text_only",
    "values_text",
    "zone",
    "zone_name",
]
