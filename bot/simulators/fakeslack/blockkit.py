"""The Block Kit limits Slack enforces, so a bad message or modal fails here as it would there.

Each check returns Slack-style messages: `[ERROR] <what> [json-pointer:/blocks/0/text]`.
An empty list means the payload is acceptable. This covers the limits a bot is likely to hit
(lengths, counts, required fields, duplicate ids), not every rule of Block Kit.
"""

from __future__ import annotations

from typing import Any

BLOCK_TYPES = frozenset(
    {
        "actions",
        "context",
        "divider",
        "file",
        "header",
        "image",
        "input",
        "markdown",
        "rich_text",
        "section",
        "video",
    }
)
MESSAGE_BLOCK_LIMIT = 50
VIEW_BLOCK_LIMIT = 100


def _error(what: str, pointer: str) -> str:
    return f"[ERROR] {what} [json-pointer:{pointer}]"


def _text(obj: Any, pointer: str, *, max_len: int, plain_only: bool = False) -> list[str]:
    if not isinstance(obj, dict):
        return [_error("must provide an object", pointer)]
    kinds = ("plain_text",) if plain_only else ("plain_text", "mrkdwn")
    if obj.get("type") not in kinds:
        return [_error(f"must be one of {', '.join(kinds)}", pointer + "/type")]
    text = obj.get("text")
    if not isinstance(text, str) or not text:
        return [_error("must be more than 0 characters", pointer + "/text")]
    if len(text) > max_len:
        return [_error(f"must be less than {max_len + 1} characters", pointer + "/text")]
    return []


def _element(element: Any, pointer: str) -> list[str]:
    if not isinstance(element, dict) or not element.get("type"):
        return [_error("must provide an element with a type", pointer)]
    errors: list[str] = []
    action_id = element.get("action_id")
    if action_id is not None and (not isinstance(action_id, str) or len(action_id) > 255):
        errors.append(_error("must be less than 256 characters", pointer + "/action_id"))
    if element["type"] == "button":
        errors += _text(element.get("text"), pointer + "/text", max_len=75, plain_only=True)
        if len(str(element.get("value", ""))) > 2000:
            errors.append(_error("must be less than 2001 characters", pointer + "/value"))
    if "placeholder" in element:
        errors += _text(element["placeholder"], pointer + "/placeholder", max_len=150)
    for i, option in enumerate(element.get("options") or []):
        errors += _text(option.get("text"), f"{pointer}/options/{i}/text", max_len=75)
        if len(str(option.get("value", ""))) > 150:
            errors.append(
                _error("must be less than 151 characters", f"{pointer}/options/{i}/value")
            )
    return errors


def _block(block: dict[str, Any], pointer: str) -> list[str]:
    kind = block["type"]
    errors: list[str] = []
    if kind == "header":
        errors += _text(block.get("text"), pointer + "/text", max_len=150, plain_only=True)
    elif kind == "section":
        if "text" not in block and "fields" not in block:
            errors.append(_error("must provide text or fields", pointer))
        if "text" in block:
            errors += _text(block["text"], pointer + "/text", max_len=3000)
        fields = block.get("fields") or []
        if len(fields) > 10:
            errors.append(_error("must provide no more than 10 items", pointer + "/fields"))
        for i, field in enumerate(fields):
            errors += _text(field, f"{pointer}/fields/{i}", max_len=2000)
        if "accessory" in block:
            errors += _element(block["accessory"], pointer + "/accessory")
    elif kind in ("actions", "context"):
        elements = block.get("elements")
        limit = 25 if kind == "actions" else 10
        if not isinstance(elements, list) or not elements or len(elements) > limit:
            errors.append(_error(f"must provide 1 to {limit} items", pointer + "/elements"))
            return errors
        seen: set[str] = set()
        for i, element in enumerate(elements):
            if kind == "actions":
                errors += _element(element, f"{pointer}/elements/{i}")
                action_id = element.get("action_id") if isinstance(element, dict) else None
                if action_id and action_id in seen:
                    errors.append(_error("action_id already exists", f"{pointer}/elements/{i}"))
                seen.add(action_id or "")
            elif isinstance(element, dict) and element.get("type") in ("plain_text", "mrkdwn"):
                errors += _text(element, f"{pointer}/elements/{i}", max_len=3000)
    elif kind == "input":
        errors += _text(block.get("label"), pointer + "/label", max_len=2000, plain_only=True)
        if "element" not in block:
            errors.append(_error("missing required field: element", pointer))
        else:
            errors += _element(block["element"], pointer + "/element")
    elif kind == "image":
        if not block.get("image_url") and not block.get("slack_file"):
            errors.append(_error("missing required field: image_url", pointer))
        if not block.get("alt_text"):
            errors.append(_error("missing required field: alt_text", pointer))
    return errors


def check_blocks(
    blocks: Any, *, limit: int = MESSAGE_BLOCK_LIMIT, pointer: str = "/blocks"
) -> list[str]:
    if blocks is None:
        return []
    if not isinstance(blocks, list):
        return [_error("must provide an array", pointer)]
    if len(blocks) > limit:
        return [_error(f"must provide no more than {limit} items", pointer)]
    errors: list[str] = []
    block_ids: set[str] = set()
    for i, block in enumerate(blocks):
        here = f"{pointer}/{i}"
        if not isinstance(block, dict) or block.get("type") not in BLOCK_TYPES:
            errors.append(_error("unsupported type", here + "/type"))
            continue
        block_id = block.get("block_id")
        if block_id is not None:
            if not isinstance(block_id, str) or len(block_id) > 255:
                errors.append(_error("must be less than 256 characters", here + "/block_id"))
            elif block_id in block_ids:
                errors.append(_error("block_id already exists", here + "/block_id"))
            block_ids.add(str(block_id))
        errors += _block(block, here)
    return errors


def check_view(view: Any) -> list[str]:
    if not isinstance(view, dict):
        return [_error("must provide an object", "/view")]
    kind = view.get("type")
    if kind not in ("modal", "home"):
        return [_error("must be one of modal, home", "/view/type")]
    errors: list[str] = []
    if kind == "modal":
        errors += _text(view.get("title"), "/view/title", max_len=24, plain_only=True)
        for key in ("submit", "close"):
            if key in view and view[key] is not None:
                errors += _text(view[key], f"/view/{key}", max_len=24, plain_only=True)
        has_input = any(
            isinstance(b, dict) and b.get("type") == "input" for b in view.get("blocks") or []
        )
        if has_input and not view.get("submit"):
            errors.append(_error("must provide submit when view has input blocks", "/view/submit"))
    for key, max_len in (("private_metadata", 3000), ("callback_id", 255), ("external_id", 255)):
        if len(str(view.get(key) or "")) > max_len:
            errors.append(_error(f"must be less than {max_len + 1} characters", f"/view/{key}"))
    errors += check_blocks(view.get("blocks", []), limit=VIEW_BLOCK_LIMIT, pointer="/view/blocks")
    return errors
