"""A modal as the page submits it: raw field values → Slack's `view.state.values`, after the
checks Slack's own client makes before it sends anything to the app.

The page sends `{block_id: {action_id: raw}}` where raw is a string (text, number, single
select, date) or a list of strings (checkboxes, multi-selects). Option objects are looked up in
the view itself (an external_select's in what the bot answered its searches with), so the bot
receives exactly the `{"text", "value"}` it put in its options, and a value it never offered is
dropped as Slack would never send it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

Raw = Mapping[str, Mapping[str, Any]]
# The options the bot answered a view's external selects with (block_suggestion), by action id.
Offered = Mapping[str, Sequence[Mapping[str, Any]]]

REQUIRED = "Please complete this required field."
NOT_A_NUMBER = "Please enter a number."
NOT_WHOLE = "Please enter a whole number."


def _options(element: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    options = list(element.get("options") or [])
    for group in element.get("option_groups") or []:
        options += list(group.get("options") or [])
    return options


def option_label(option: Mapping[str, Any]) -> str:
    text = option.get("text")
    return str(text.get("text", "")) if isinstance(text, Mapping) else str(text or "")


def _text(raw: Any) -> str | None:
    value = raw if isinstance(raw, str) else ""
    return value if value.strip() else None


def _many(raw: Any) -> list[str]:
    if isinstance(raw, list):
        return [str(v) for v in raw if str(v)]
    return [str(raw)] if isinstance(raw, str) and raw else []


def input_blocks(view: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return [
        b
        for b in view.get("blocks") or []
        if isinstance(b, Mapping) and b.get("type") == "input" and b.get("element")
    ]


def external_options(
    element: Mapping[str, Any], offered: Sequence[Mapping[str, Any]]
) -> list[Mapping[str, Any]]:
    """What an external_select can hold: its initial option and what the bot offered."""
    initial = element.get("initial_option")
    return ([initial] if isinstance(initial, Mapping) else []) + list(offered)


def state_value(
    element: Mapping[str, Any],
    raw: Any,
    *,
    users: set[str],
    offered: Sequence[Mapping[str, Any]] = (),
) -> dict[str, Any]:
    """One element's entry in `state.values[block_id][action_id]`; `offered` is what the bot
    answered an external_select's searches with."""
    kind = str(element.get("type"))
    out: dict[str, Any] = {"type": kind}
    if kind in ("plain_text_input", "number_input", "email_text_input", "url_text_input"):
        out["value"] = _text(raw)
    elif kind in ("static_select", "external_select", "radio_buttons"):
        chosen = _text(raw)
        options = (
            external_options(element, offered) if kind == "external_select" else _options(element)
        )
        found = [o for o in options if str(o.get("value")) == chosen]
        out["selected_option"] = dict(found[0]) if found else None
    elif kind in ("checkboxes", "multi_static_select"):
        chosen_set = set(_many(raw))
        out["selected_options"] = [
            dict(o) for o in _options(element) if str(o.get("value")) in chosen_set
        ]
    elif kind == "users_select":
        chosen = _text(raw)
        out["selected_user"] = chosen if chosen in users else None
    elif kind == "multi_users_select":
        out["selected_users"] = [u for u in dict.fromkeys(_many(raw)) if u in users]
    elif kind in ("conversations_select", "channels_select"):
        key = "selected_conversation" if kind == "conversations_select" else "selected_channel"
        out[key] = _text(raw)
    elif kind == "datepicker":
        out["selected_date"] = _text(raw)
    elif kind == "file_input":  # raw: the upload's item (`Ui.submit` uploaded it)
        out["files"] = [dict(raw)] if isinstance(raw, Mapping) and raw.get("id") else []
    else:
        out["value"] = _text(raw)
    return out


def state_values(
    view: Mapping[str, Any], raw: Raw, *, users: set[str], offered: Offered | None = None
) -> dict[str, Any]:
    """`view.state.values` for a submission of `raw` (every input block is present, filled
    or not, as in Slack)."""
    values: dict[str, Any] = {}
    for block in input_blocks(view):
        element = block["element"]
        block_id, action_id = str(block.get("block_id", "")), str(element.get("action_id", ""))
        given = (raw.get(block_id) or {}).get(action_id)
        values[block_id] = {
            action_id: state_value(
                element, given, users=users, offered=(offered or {}).get(action_id, ())
            )
        }
    return values


def _empty(entry: Mapping[str, Any]) -> bool:
    filled = [v for k, v in entry.items() if k != "type"]
    return all(v in (None, [], "") for v in filled)


def _number_problem(element: Mapping[str, Any], text: str) -> str | None:
    try:
        number = Decimal(text.strip())
    except InvalidOperation:
        return NOT_A_NUMBER
    if not number.is_finite():
        return NOT_A_NUMBER
    if not element.get("is_decimal_allowed") and number != number.to_integral_value():
        return NOT_WHOLE
    low, high = element.get("min_value"), element.get("max_value")
    try:
        if low is not None and number < Decimal(str(low)):
            return f"Please enter a number of {low} or more."
        if high is not None and number > Decimal(str(high)):
            return f"Please enter a number of {high} or less."
    except InvalidOperation:
        return None
    return None


def client_errors(view: Mapping[str, Any], values: Mapping[str, Any]) -> dict[str, str]:
    """What Slack's client refuses before sending: required fields left empty, and number
    inputs that are not a (whole) number within min_value..max_value. {block_id: message}."""
    errors: dict[str, str] = {}
    for block in input_blocks(view):
        element = block["element"]
        block_id, action_id = str(block.get("block_id", "")), str(element.get("action_id", ""))
        entry = (values.get(block_id) or {}).get(action_id) or {}
        if _empty(entry):
            if not block.get("optional"):
                errors[block_id] = REQUIRED
            continue
        if element.get("type") == "number_input":
            problem = _number_problem(element, str(entry.get("value") or ""))
            if problem:
                errors[block_id] = problem
    return errors
