"""A strict Block Kit checker for the builders' output, from Slack's Block Kit reference.

Stricter than the fake Slack server's (`bot.simulators.fakeslack.blockkit`), which the helpers
also run:
element-level rules (number, text and select inputs, checkboxes, confirm dialogs), ids that
come from `bot.slack.ids`, text objects that are well formed mrkdwn (no cut `<…>` or `&…;`),
and a bound on a message's whole text.

Limits: 50 blocks per message, 100 per modal/home; section text 3000, field 2000 (max 10);
header 150 (plain_text); context max 10 elements; actions max 25 elements, action_id unique
within its block; button text 75, value 2000, url 3000; action_id and block_id 255, block_id
unique in a message; placeholder 150; option text 75, value 150; static_select max 100 options;
checkboxes max 10; plain_text_input max_length 1..3000; confirm title 100, text 300,
confirm/deny 30; modal title/submit/close 24; private_metadata 3000; callback_id 255.
"""

from __future__ import annotations

import json
import re
from typing import Any

from bot.simulators.fakeslack import blockkit as fake_rules
from bot.slack.ids import ActionId, BlockId, CallbackId

ACTION_IDS = {str(a) for a in ActionId}
BLOCK_IDS = {str(b) for b in BlockId}
CALLBACK_IDS = {str(c) for c in CallbackId}
MESSAGE_TEXT_BUDGET = 12_000  # Slack refuses much longer block text (msg_blocks_too_long)
FALLBACK_MAX = 4000
_ENTITY = re.compile(r"&(amp|lt|gt|#\d{1,7});")
_USER_ID = re.compile(r"[UW][A-Z0-9]{2,}")


def u16(text: str) -> int:
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


class Checker:
    def __init__(self) -> None:
        self.errors: list[str] = []
        self.text_total = 0

    def err(self, where: str, what: str) -> None:
        self.errors.append(f"{where}: {what}")

    # ── text ──────────────────────────────────────────────────────────────────────────────
    def text(self, obj: Any, where: str, limit: int, *, plain_only: bool = False) -> None:
        if not isinstance(obj, dict):
            self.err(where, "text object missing")
            return
        kind = obj.get("type")
        if kind not in ("plain_text", "mrkdwn") or (plain_only and kind != "plain_text"):
            self.err(where, f"bad text type {kind!r}")
            return
        extra = set(obj) - {"type", "text", "emoji", "verbatim"}
        if extra or ("emoji" in obj and kind != "plain_text"):
            self.err(where, f"unexpected keys {sorted(extra)}")
        if "verbatim" in obj and kind != "mrkdwn":
            self.err(where, "verbatim is for mrkdwn only")
        text = obj.get("text")
        if not isinstance(text, str) or not text.strip():
            self.err(where, "empty text")
            return
        if u16(text) > limit:
            self.err(where, f"text longer than {limit} ({u16(text)})")
        self.text_total += u16(text)
        if kind == "mrkdwn":
            self.mrkdwn(text, where)

    def mrkdwn(self, text: str, where: str) -> None:
        depth = 0
        for char in text:
            if char == "<":
                if depth:
                    self.err(where, "nested or unclosed <…>")
                    return
                depth = 1
            elif char == ">":
                depth = 0
        if depth:
            self.err(where, "unclosed <…> (cut mention or link?)")
        for i, char in enumerate(text):
            if char == "&" and not _ENTITY.match(text, i):
                self.err(where, f"bare or cut entity at {text[i : i + 6]!r}")
                return

    # ── elements ──────────────────────────────────────────────────────────────────────────
    def action_id(self, element: dict[str, Any], where: str) -> None:
        aid = element.get("action_id")
        if aid not in ACTION_IDS:
            self.err(where, f"action_id {aid!r} is not an ActionId")

    def confirm(self, dialog: Any, where: str) -> None:
        if not isinstance(dialog, dict):
            self.err(where, "confirm must be an object")
            return
        self.text(dialog.get("title"), where + ".title", 100, plain_only=True)
        self.text(dialog.get("text"), where + ".text", 300)
        self.text(dialog.get("confirm"), where + ".confirm", 30, plain_only=True)
        self.text(dialog.get("deny"), where + ".deny", 30, plain_only=True)
        if dialog.get("style") not in (None, "primary", "danger"):
            self.err(where, "bad confirm style")

    def options(self, options: Any, where: str, limit: int) -> list[str]:
        if not isinstance(options, list) or not 1 <= len(options) <= limit:
            self.err(where, f"needs 1..{limit} options")
            return []
        values = []
        for i, opt in enumerate(options):
            self.text(opt.get("text"), f"{where}[{i}].text", 75)
            value = opt.get("value")
            if not isinstance(value, str) or not value or len(value) > 150:
                self.err(f"{where}[{i}]", "option value must be 1..150 characters")
            values.append(value)
        if len(set(values)) != len(values):
            self.err(where, "option values repeat")
        return values

    def placeholder(self, element: dict[str, Any], where: str) -> None:
        if "placeholder" in element:
            self.text(element["placeholder"], where + ".placeholder", 150, plain_only=True)

    def element(self, element: Any, where: str, *, in_input: bool = False) -> None:
        if not isinstance(element, dict):
            self.err(where, "element must be an object")
            return
        kind = element.get("type")
        self.action_id(element, where)
        self.placeholder(element, where)
        if kind == "button":
            self.text(element.get("text"), where + ".text", 75, plain_only=True)
            if len(str(element.get("value", ""))) > 2000:
                self.err(where, "button value over 2000")
            if "url" in element and len(element["url"]) > 3000:
                self.err(where, "button url over 3000")
            if element.get("style") not in (None, "primary", "danger"):
                self.err(where, "bad button style")
            if "confirm" in element:
                self.confirm(element["confirm"], where + ".confirm")
        elif kind == "plain_text_input" and in_input:
            max_len = element.get("max_length", 3000)
            min_len = element.get("min_length", 0)
            if not (isinstance(max_len, int) and 1 <= max_len <= 3000):
                self.err(where, "max_length must be 1..3000")
            if not (isinstance(min_len, int) and 0 <= min_len <= 3000):
                self.err(where, "min_length must be 0..3000")
            initial = element.get("initial_value")
            if initial is not None and (not isinstance(initial, str) or len(initial) > max_len):
                self.err(where, "initial_value longer than max_length")
            if not isinstance(element.get("multiline", False), bool):
                self.err(where, "multiline must be a boolean")
        elif kind == "number_input" and in_input:
            self.number_input(element, where)
        elif kind == "multi_users_select" and in_input:
            users = element.get("initial_users", [])
            if not isinstance(users, list) or not all(
                isinstance(u, str) and _USER_ID.fullmatch(u) for u in users
            ):
                self.err(where, "initial_users must be user ids")
            if len(set(users)) != len(users):
                self.err(where, "initial_users repeat")
            if "max_selected_items" in element and element["max_selected_items"] < 1:
                self.err(where, "max_selected_items must be >= 1")
        elif kind == "users_select" and in_input:
            initial = element.get("initial_user")
            if initial is not None and not (
                isinstance(initial, str) and _USER_ID.fullmatch(initial)
            ):
                self.err(where, "initial_user must be a user id")
        elif kind == "datepicker" and in_input:
            initial = element.get("initial_date")
            if initial is not None and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", str(initial)):
                self.err(where, "initial_date must be YYYY-MM-DD")
        elif kind == "static_select":  # in an input, or a menu in an actions block
            values = self.options(element.get("options"), where + ".options", 100)
            initial = element.get("initial_option")
            if initial is not None and initial.get("value") not in values:
                self.err(where, "initial_option is not one of the options")
        elif kind == "external_select":  # its options come from the app's options requests
            least = element.get("min_query_length", 0)
            if not isinstance(least, int) or isinstance(least, bool) or least < 0:
                self.err(where, "min_query_length must be a whole number >= 0")
        elif kind == "checkboxes" and in_input:
            values = self.options(element.get("options"), where + ".options", 10)
            for opt in element.get("initial_options", []):
                if opt.get("value") not in values or opt not in element["options"]:
                    self.err(where, "initial_options must match options exactly")
        elif kind == "file_input" and in_input:
            types = element.get("filetypes", [])
            if not isinstance(types, list) or not all(isinstance(t, str) and t for t in types):
                self.err(where, "filetypes must be a list of file extensions")
            most = element.get("max_files", 10)
            if not isinstance(most, int) or isinstance(most, bool) or not 1 <= most <= 10:
                self.err(where, "max_files must be 1..10")
        else:
            self.err(where, f"element type {kind!r} not expected here")

    def number_input(self, element: dict[str, Any], where: str) -> None:
        if not isinstance(element.get("is_decimal_allowed"), bool):
            self.err(where, "is_decimal_allowed is required")
            return
        numbers = {}
        for key in ("min_value", "max_value", "initial_value"):
            if key not in element:
                continue
            raw = element[key]
            if not isinstance(raw, str):
                self.err(where, f"{key} must be a string")
                continue
            try:
                numbers[key] = float(raw) if element["is_decimal_allowed"] else int(raw)
            except ValueError:
                self.err(where, f"{key} {raw!r} is not a number")
        low, high = numbers.get("min_value"), numbers.get("max_value")
        if low is not None and high is not None and low > high:
            self.err(where, "min_value > max_value")
        initial = numbers.get("initial_value")
        if initial is not None and (
            (low is not None and initial < low) or (high is not None and initial > high)
        ):
            self.err(where, "initial_value out of range")

    # ── blocks ────────────────────────────────────────────────────────────────────────────
    def block_id(self, block: dict[str, Any], where: str, seen: set[str]) -> None:
        bid = block.get("block_id")
        if bid is None:
            return
        if not isinstance(bid, str) or not 1 <= len(bid) <= 255:
            self.err(where, "block_id must be 1..255 characters")
            return
        base = bid.split(":", 1)[0]
        if base not in BLOCK_IDS or bid.endswith(":"):
            self.err(where, f"block_id {bid!r} is not a BlockId (or BlockId:key)")
        if bid in seen:
            self.err(where, f"block_id {bid!r} repeats")
        seen.add(bid)

    def blocks(self, blocks: Any, *, limit: int, inputs: bool) -> None:
        if not isinstance(blocks, list) or not blocks:
            self.err("blocks", "must be a non-empty list")
            return
        if len(blocks) > limit:
            self.err("blocks", f"{len(blocks)} blocks, over {limit}")
        seen: set[str] = set()
        for i, block in enumerate(blocks):
            where = f"blocks[{i}]"
            kind = block.get("type")
            self.block_id(block, where, seen)
            if kind == "section":
                extra = set(block) - {"type", "text", "fields", "accessory", "block_id"}
                if extra:
                    self.err(where, f"unexpected keys {sorted(extra)}")
                if "text" not in block and "fields" not in block:
                    self.err(where, "section needs text or fields")
                if "text" in block:
                    self.text(block["text"], where + ".text", 3000)
                fields = block.get("fields", [])
                if len(fields) > 10:
                    self.err(where, "more than 10 fields")
                for j, field in enumerate(fields):
                    self.text(field, f"{where}.fields[{j}]", 2000)
                if "accessory" in block:
                    self.element(block["accessory"], where + ".accessory")
            elif kind == "header":
                self.text(block.get("text"), where + ".text", 150, plain_only=True)
            elif kind == "divider":
                if set(block) - {"type", "block_id"}:
                    self.err(where, "divider takes no fields")
            elif kind == "context":
                elements = block.get("elements")
                if not isinstance(elements, list) or not 1 <= len(elements) <= 10:
                    self.err(where, "context needs 1..10 elements")
                    continue
                for j, element in enumerate(elements):
                    self.text(element, f"{where}.elements[{j}]", 3000)
            elif kind == "actions":
                elements = block.get("elements")
                if not isinstance(elements, list) or not 1 <= len(elements) <= 25:
                    self.err(where, "actions needs 1..25 elements")
                    continue
                if "block_id" not in block:
                    self.err(where, "our actions blocks always carry a block_id")
                ids = [e.get("action_id") for e in elements]
                if len(set(ids)) != len(ids):
                    self.err(where, "action_id repeats within the block")
                for j, element in enumerate(elements):
                    self.element(element, f"{where}.elements[{j}]")
            elif kind == "input" and inputs:
                self.text(block.get("label"), where + ".label", 2000, plain_only=True)
                if "hint" in block:
                    self.text(block["hint"], where + ".hint", 2000, plain_only=True)
                if not isinstance(block.get("optional", False), bool):
                    self.err(where, "optional must be a boolean")
                if "block_id" not in block:
                    self.err(where, "our input blocks always carry a block_id")
                self.element(block.get("element"), where + ".element", in_input=True)
            else:
                self.err(where, f"block type {kind!r} not allowed here")


def check_message(payload: Any) -> list[str]:
    """Every rule a `{"text", "blocks"}` message breaks (empty when it is fine)."""
    if not isinstance(payload, dict):
        return ["payload must be a dict"]
    c = Checker()
    text = payload.get("text")
    if not isinstance(text, str) or not text.strip():
        c.err("text", "fallback text is always set")
    elif u16(text) > FALLBACK_MAX:
        c.err("text", f"fallback text over {FALLBACK_MAX}")
    if set(payload) - {"text", "blocks"}:
        c.err("payload", f"unexpected keys {sorted(set(payload) - {'text', 'blocks'})}")
    if "blocks" in payload:
        c.blocks(payload["blocks"], limit=50, inputs=False)
        c.errors += fake_rules.check_blocks(payload["blocks"])
        if c.text_total > MESSAGE_TEXT_BUDGET:
            c.err("blocks", f"{c.text_total} characters of text, over {MESSAGE_TEXT_BUDGET}")
    return c.errors


def check_view(view: Any) -> list[str]:
    """Every rule a modal or App Home view breaks."""
    if not isinstance(view, dict):
        return ["view must be a dict"]
    c = Checker()
    kind = view.get("type")
    if kind not in ("modal", "home"):
        return [f"view type {kind!r}"]
    if kind == "modal":
        c.text(view.get("title"), "title", 24, plain_only=True)
        for key in ("submit", "close"):
            if key in view:
                c.text(view[key], key, 24, plain_only=True)
        has_input = any(b.get("type") == "input" for b in view.get("blocks") or [])
        if has_input and "submit" not in view:
            c.err("submit", "required with input blocks")
        if "callback_id" in view and view["callback_id"] not in CALLBACK_IDS:
            c.err("callback_id", f"{view['callback_id']!r} is not a CallbackId")
        metadata = view.get("private_metadata")
        if metadata is not None:
            if not isinstance(metadata, str) or len(metadata) > 3000:
                c.err("private_metadata", "must be a string of at most 3000 characters")
            else:
                try:
                    json.loads(metadata)
                except ValueError:
                    c.err("private_metadata", "our metadata is JSON")
    c.blocks(view.get("blocks"), limit=100, inputs=kind == "modal")
    c.errors += fake_rules.check_view(view)
    return c.errors


def assert_valid_message(payload: Any) -> None:
    errors = check_message(payload)
    assert not errors, "\n".join(errors)


def assert_valid_view(view: Any) -> None:
    errors = check_view(view)
    assert not errors, "\n".join(errors)


# ── reading payloads as a person would ───────────────────────────────────────────────────


def texts(node: Any) -> list[str]:
    """Every text a person can see in a payload, in order (text objects, fallback, fields)."""
    found: list[str] = []
    if isinstance(node, dict):
        if node.get("type") in ("plain_text", "mrkdwn") and isinstance(node.get("text"), str):
            found.append(node["text"])
        for key, value in node.items():
            if (
                key == "text"
                and isinstance(value, str)
                and node.get("type")
                not in (
                    "plain_text",
                    "mrkdwn",
                )
            ):
                found.append(value)
            elif isinstance(value, dict | list):
                found += texts(value)
    elif isinstance(node, list):
        for item in node:
            found += texts(item)
    return found


def visible(payload: Any) -> str:
    """All visible text joined, for `in` assertions."""
    return "\n".join(texts(payload))


def everything(payload: Any) -> str:
    """The whole payload as JSON (text, ids, values, metadata): for never-contains checks."""
    return json.dumps(payload, ensure_ascii=False)


def elements(payload: Any, kind: str) -> list[dict[str, Any]]:
    """Every element of a type (`button`, `number_input`, …) anywhere in a payload."""
    found: list[dict[str, Any]] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == kind:
                found.append(node)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(payload.get("blocks", []))
    return found


def blocks_of(payload: Any, kind: str) -> list[dict[str, Any]]:
    return [b for b in payload.get("blocks", []) if b.get("type") == kind]
