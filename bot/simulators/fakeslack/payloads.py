"""Builders for what Slack sends an app: slash command forms, interaction payloads, event envelopes.

Field names and nesting follow Slack's documented payloads; people and channels come from the
fake workspace so names, team and domain agree with what the Web API answers.
"""

from __future__ import annotations

import time
from typing import Any

from bot.simulators.fakeslack.errors import SlackError
from bot.simulators.fakeslack.workspace import Workspace

VIEW_FIELDS = (
    "id",
    "team_id",
    "type",
    "title",
    "submit",
    "close",
    "blocks",
    "private_metadata",
    "callback_id",
    "external_id",
    "hash",
    "state",
    "root_view_id",
    "previous_view_id",
    "app_id",
    "bot_id",
    "notify_on_close",
    "clear_on_close",
)


def _now_ts() -> str:
    return f"{time.time():.6f}"


def user_ref(ws: Workspace, user_id: str) -> dict[str, Any]:
    try:
        found = ws.user(user_id)
        name = found["name"]
    except SlackError:
        name = user_id.lower()
    return {"id": user_id, "username": name, "name": name, "team_id": ws.team["id"]}


def team_ref(ws: Workspace) -> dict[str, Any]:
    return {"id": ws.team["id"], "domain": ws.team["domain"]}


def channel_ref(ws: Workspace, channel_id: str) -> dict[str, Any]:
    try:
        found = ws.channel(channel_id)
    except SlackError:
        return {"id": channel_id, "name": channel_id}
    name = "directmessage" if found.get("is_im") else found.get("name", channel_id)
    return {"id": found["id"], "name": name}


def public_view(view: dict[str, Any], *, values: dict[str, Any] | None = None) -> dict[str, Any]:
    """A view as it appears inside payloads, with `state.values` set when given."""
    shown = {k: view[k] for k in VIEW_FIELDS if k in view}
    shown.setdefault("state", {"values": {}})
    if values is not None:
        shown["state"] = {"values": values}
    return shown


def find_element(blocks: list[dict[str, Any]], action_id: str) -> tuple[str, dict[str, Any]] | None:
    """(block_id, element) of the interactive element with `action_id`, if any."""
    for block in blocks or []:
        candidates = list(block.get("elements") or [])
        for key in ("accessory", "element"):
            if isinstance(block.get(key), dict):
                candidates.append(block[key])
        for element in candidates:
            if isinstance(element, dict) and element.get("action_id") == action_id:
                return str(block.get("block_id", "")), element
    return None


def slash_command(
    ws: Workspace,
    *,
    text: str,
    user_id: str,
    channel_id: str,
    command: str,
    response_url: str,
    trigger_id: str,
) -> dict[str, str]:
    channel = channel_ref(ws, channel_id)
    return {
        "token": "fake-verification-token",
        "team_id": ws.team["id"],
        "team_domain": ws.team["domain"],
        "channel_id": channel["id"],
        "channel_name": channel["name"],
        "user_id": user_id,
        "user_name": user_ref(ws, user_id)["name"],
        "command": command,
        "text": text,
        "api_app_id": ws.app_id,
        "is_enterprise_install": "false",
        "response_url": response_url,
        "trigger_id": trigger_id,
    }


def action(
    *, action_id: str, block_id: str, value: str | dict[str, Any], element: dict[str, Any] | None
) -> dict[str, Any]:
    """One entry of `actions`: a button click for a string value, else the given fields."""
    base: dict[str, Any] = {"action_id": action_id, "block_id": block_id, "action_ts": _now_ts()}
    if isinstance(value, dict):
        base["type"] = (element or {}).get("type", "static_select")
        base.update(value)
        return base
    base.update(type="button", value=value)
    if element and "text" in element:
        base["text"] = element["text"]
    return base


def block_actions(
    ws: Workspace,
    *,
    user_id: str,
    actions: list[dict[str, Any]],
    trigger_id: str,
    response_url: str | None,
    channel_id: str | None,
    message: dict[str, Any] | None,
    view: dict[str, Any] | None,
    values: dict[str, Any] | None = None,
) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "type": "block_actions",
        "user": user_ref(ws, user_id),
        "api_app_id": ws.app_id,
        "token": "fake-verification-token",
        "trigger_id": trigger_id,
        "team": team_ref(ws),
        "enterprise": None,
        "is_enterprise_install": False,
        "actions": actions,
    }
    if view is not None:
        payload["container"] = {"type": "view", "view_id": view.get("id", "")}
        payload["view"] = public_view(view, values=values)
    elif message is not None:
        ephemeral = message.get("subtype") == "ephemeral"
        payload["container"] = {
            "type": "message",
            "message_ts": message["ts"],
            "channel_id": channel_id,
            "is_ephemeral": ephemeral,
        }
        if not ephemeral:
            shown = {k: v for k, v in message.items() if k not in ("channel", "source")}
            payload["message"] = shown
        payload["state"] = {"values": values or {}}
    if channel_id:
        payload["channel"] = channel_ref(ws, channel_id)
    if response_url:
        payload["response_url"] = response_url
    return payload


def block_suggestion(
    ws: Workspace,
    *,
    user_id: str,
    action_id: str,
    block_id: str,
    value: str,
    view: dict[str, Any] | None,
) -> dict[str, Any]:
    """What Slack sends as someone types in an `external_select` (options load)."""
    payload: dict[str, Any] = {
        "type": "block_suggestion",
        "user": user_ref(ws, user_id),
        "api_app_id": ws.app_id,
        "token": "fake-verification-token",
        "team": team_ref(ws),
        "enterprise": None,
        "is_enterprise_install": False,
        "action_id": action_id,
        "block_id": block_id,
        "value": value,
        "action_ts": _now_ts(),
    }
    if view is not None:
        payload["container"] = {"type": "view", "view_id": view.get("id", "")}
        payload["view"] = public_view(view, values=None)
    return payload


def view_submission(
    ws: Workspace,
    *,
    user_id: str,
    view: dict[str, Any],
    values: dict[str, Any],
    trigger_id: str,
) -> dict[str, Any]:
    return {
        "type": "view_submission",
        "team": team_ref(ws),
        "user": user_ref(ws, user_id),
        "api_app_id": ws.app_id,
        "token": "fake-verification-token",
        "trigger_id": trigger_id,
        "view": public_view(view, values=values),
        "response_urls": [],
        "enterprise": None,
        "is_enterprise_install": False,
    }


def view_closed(
    ws: Workspace, *, user_id: str, view: dict[str, Any], is_cleared: bool
) -> dict[str, Any]:
    return {
        "type": "view_closed",
        "team": team_ref(ws),
        "user": user_ref(ws, user_id),
        "api_app_id": ws.app_id,
        "token": "fake-verification-token",
        "view": public_view(view),
        "is_cleared": is_cleared,
        "enterprise": None,
        "is_enterprise_install": False,
    }


def global_shortcut(
    ws: Workspace, *, user_id: str, callback_id: str, trigger_id: str
) -> dict[str, Any]:
    return {
        "type": "shortcut",
        "token": "fake-verification-token",
        "action_ts": _now_ts(),
        "team": team_ref(ws),
        "user": user_ref(ws, user_id),
        "callback_id": callback_id,
        "trigger_id": trigger_id,
        "is_enterprise_install": False,
        "enterprise": None,
    }


def message_shortcut(
    ws: Workspace,
    *,
    user_id: str,
    callback_id: str,
    channel_id: str,
    message: dict[str, Any],
    trigger_id: str,
    response_url: str,
) -> dict[str, Any]:
    shown = {k: v for k, v in message.items() if k not in ("channel", "source")}
    return {
        "type": "message_action",
        "token": "fake-verification-token",
        "action_ts": _now_ts(),
        "team": team_ref(ws),
        "user": user_ref(ws, user_id),
        "channel": channel_ref(ws, channel_id),
        "callback_id": callback_id,
        "trigger_id": trigger_id,
        "message_ts": message["ts"],
        "message": shown,
        "response_url": response_url,
        "is_enterprise_install": False,
        "enterprise": None,
    }


def event_callback(ws: Workspace, event: dict[str, Any], *, event_id: str) -> dict[str, Any]:
    return {
        "token": "fake-verification-token",
        "team_id": ws.team["id"],
        "api_app_id": ws.app_id,
        "event": event,
        "type": "event_callback",
        "event_id": event_id,
        "event_time": int(time.time()),
        "authorizations": [
            {
                "enterprise_id": None,
                "team_id": ws.team["id"],
                "user_id": ws.bot_user_id,
                "is_bot": True,
                "is_enterprise_install": False,
            }
        ],
        "is_ext_shared_channel": False,
    }


def app_home_opened(
    ws: Workspace, *, user_id: str, channel_id: str, tab: str, view: dict[str, Any] | None
) -> dict[str, Any]:
    event: dict[str, Any] = {
        "type": "app_home_opened",
        "user": user_id,
        "channel": channel_id,
        "tab": tab,
        "event_ts": _now_ts(),
    }
    if view is not None:
        event["view"] = public_view(view)
    return event


def reaction(
    *,
    added: bool,
    user_id: str,
    channel_id: str,
    ts: str,
    name: str,
    item_user: str | None,
    event_ts: str,
) -> dict[str, Any]:
    """`reaction_added` / `reaction_removed`, as Slack sends them (`item_user` is the message's
    author; Slack leaves it out for some messages, such as system messages)."""
    event: dict[str, Any] = {
        "type": "reaction_added" if added else "reaction_removed",
        "user": user_id,
        "reaction": name,
        "item": {"type": "message", "channel": channel_id, "ts": ts},
        "event_ts": event_ts,
    }
    if item_user is not None:
        event["item_user"] = item_user
    return event


def message_event(message: dict[str, Any], *, channel_type: str = "channel") -> dict[str, Any]:
    """A person's new message, as message.channels (message.groups) delivers it."""
    return {
        "type": "message",
        "channel": message["channel"],
        "user": message["user"],
        "text": message["text"],
        "ts": message["ts"],
        "event_ts": message["ts"],
        "channel_type": channel_type,
        "team": message.get("team"),
    }


def file_shared_in_im(message: dict[str, Any], files: list[dict[str, Any]]) -> dict[str, Any]:
    """A person's message sharing `files` in their DM with the app, as message.im delivers it
    (subtype `file_share`; the files as `files.info` describes them, without their bytes)."""
    return {
        "type": "message",
        "subtype": "file_share",
        "channel": message["channel"],
        "user": message["user"],
        "text": message.get("text") or "",
        "files": files,
        "upload": True,
        "ts": message["ts"],
        "event_ts": message["ts"],
        "channel_type": "im",
        "team": message.get("team"),
    }


def message_deleted(message: dict[str, Any], *, event_ts: str) -> dict[str, Any]:
    return {
        "type": "message",
        "subtype": "message_deleted",
        "hidden": True,
        "channel": message["channel"],
        "deleted_ts": message["ts"],
        "ts": event_ts,
        "event_ts": event_ts,
        "previous_message": {"type": "message", "user": message["user"], "ts": message["ts"]},
        "channel_type": "channel",
    }


def url_verification(challenge: str) -> dict[str, Any]:
    return {"token": "fake-verification-token", "challenge": challenge, "type": "url_verification"}
