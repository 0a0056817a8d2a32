"""Block Kit blocks and elements as plain dicts, each clipped to Slack's limits on the way in.

Ids always come from `bot.slack.ids`; a block that repeats per reward (its buttons) gets the
reward's short id appended (`keyed`), so block ids stay unique within a message or view.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

from bot.slack.blocks.common import (
    BUTTON_TEXT_MAX,
    BUTTON_VALUE_MAX,
    CONTEXT_MAX_ELEMENTS,
    FIELD_TEXT_MAX,
    HEADER_TEXT_MAX,
    SECTION_TEXT_MAX,
    clip,
    text_len,
)
from bot.slack.ids import ActionId, BlockId

Block = dict[str, Any]
Style = Literal["primary", "danger"]

PLACEHOLDER_MAX = 150
LABEL_MAX = 2000
HINT_MAX = 2000
OPTION_TEXT_MAX = 75
OPTION_VALUE_MAX = 150
CONFIRM_TITLE_MAX = 100
CONFIRM_TEXT_MAX = 300
CONFIRM_BUTTON_MAX = 30
BLOCK_ID_MAX = 255
EMPTY = "—"  # Slack refuses empty text


def keyed(block_id: BlockId, key: str) -> str:
    """`approval_actions:AB12CD`: a per-reward block id (a listener reads the key back with
    `block_key`)."""
    return f"{block_id}:{key}"[:BLOCK_ID_MAX]


def block_key(block_id: str | None) -> str | None:
    """The key of a `keyed` block id, or None."""
    if not block_id or ":" not in block_id:
        return None
    return block_id.split(":", 1)[1] or None


def plain(text: str, limit: int = SECTION_TEXT_MAX) -> dict[str, Any]:
    return {"type": "plain_text", "text": clip(text, limit, mrkdwn=False) or EMPTY, "emoji": True}


def md(text: str, limit: int = SECTION_TEXT_MAX) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": clip(text, limit) or EMPTY}


def header(text: str) -> Block:
    return {"type": "header", "text": plain(text, HEADER_TEXT_MAX)}


def section(
    text: str | None = None,
    *,
    fields: Sequence[str] = (),
    accessory: Mapping[str, Any] | None = None,
    block_id: str | None = None,
) -> Block:
    block: Block = {"type": "section"}
    if block_id:
        block["block_id"] = block_id
    if text is not None or not fields:
        block["text"] = md(text or "")
    if fields:
        block["fields"] = [md(f, FIELD_TEXT_MAX) for f in fields[:10]]
    if accessory is not None:
        block["accessory"] = dict(accessory)
    return block


def context(*texts: str) -> Block:
    elements = [md(t) for t in texts if t][:CONTEXT_MAX_ELEMENTS]
    return {"type": "context", "elements": elements or [md(EMPTY)]}


def divider() -> Block:
    return {"type": "divider"}


def confirm_dialog(
    *, title: str, text: str, confirm: str, deny: str = "Cancel", style: Style | None = None
) -> dict[str, Any]:
    dialog: dict[str, Any] = {
        "title": plain(title, CONFIRM_TITLE_MAX),
        "text": md(text, CONFIRM_TEXT_MAX),
        "confirm": plain(confirm, CONFIRM_BUTTON_MAX),
        "deny": plain(deny, CONFIRM_BUTTON_MAX),
    }
    if style:
        dialog["style"] = style
    return dialog


def button(
    text: str,
    *,
    action_id: ActionId,
    value: str | None = None,
    style: Style | None = None,
    confirm: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    element: dict[str, Any] = {
        "type": "button",
        "action_id": str(action_id),
        "text": plain(text, BUTTON_TEXT_MAX),
    }
    if value is not None:
        element["value"] = value[:BUTTON_VALUE_MAX]
    if style:
        element["style"] = style
    if confirm:
        element["confirm"] = dict(confirm)
    return element


def actions(block_id: str, *elements: Mapping[str, Any]) -> Block:
    return {"type": "actions", "block_id": block_id, "elements": [dict(e) for e in elements]}


def option(text: str, value: str) -> dict[str, Any]:
    return {"text": plain(text, OPTION_TEXT_MAX), "value": value[:OPTION_VALUE_MAX]}


def input_block(
    *,
    block_id: BlockId,
    label: str,
    element: Mapping[str, Any],
    optional: bool = False,
    hint: str | None = None,
) -> Block:
    block: Block = {
        "type": "input",
        "block_id": str(block_id),
        "label": plain(label, LABEL_MAX),
        "element": dict(element),
        "optional": optional,
    }
    if hint:
        block["hint"] = plain(hint, HINT_MAX)
    return block


def text_size(node: Any) -> int:
    """The length of all text in blocks (what Slack's overall message size limit counts)."""
    if isinstance(node, dict):
        own = text_len(node["text"]) if isinstance(node.get("text"), str) else 0
        return own + sum(text_size(v) for k, v in node.items() if k != "text" or own == 0)
    if isinstance(node, list):
        return sum(text_size(item) for item in node)
    return 0


def fitting(items: Sequence[Sequence[Block]], *, blocks_left: int, chars_left: int) -> int:
    """How many leading `items` (each a group of blocks) fit in what is left of a message."""
    count = 0
    for group in items:
        size = text_size(list(group))
        if len(group) > blocks_left or size > chars_left:
            break
        blocks_left -= len(group)
        chars_left -= size
        count += 1
    return count
