"""The Web API methods the fake serves: each takes the workspace, the request's arguments and
the fake's root URL, and returns the fields of an `ok` answer or raises SlackError."""

from __future__ import annotations

import base64
import time
from collections.abc import Callable
from typing import Any

from bot.simulators.fakeslack.blockkit import check_blocks, check_view
from bot.simulators.fakeslack.errors import SlackError
from bot.simulators.fakeslack.workspace import Workspace


# ---------------------------------------------------------------------- argument helpers
def _required(args: dict[str, Any], name: str, error: str = "invalid_arguments") -> str:
    value = args.get(name)
    if value in (None, ""):
        raise SlackError(error, messages=[f"[ERROR] missing required field: {name}"])
    return str(value)


def _flag(value: Any) -> bool:
    return value is True or str(value).lower() in ("1", "true")


def _public_message(message: dict[str, Any]) -> dict[str, Any]:
    hidden = ("source", "channel")
    return {k: v for k, v in message.items() if k not in hidden and v is not None}


def _public_view(view: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in view.items() if k not in ("user_id", "errors")}


def _check_message(args: dict[str, Any]) -> None:
    text = args.get("text") or ""
    if not text and not args.get("blocks") and not args.get("attachments"):
        raise SlackError("no_text")
    if len(str(text)) > 40000:
        raise SlackError("msg_too_long")
    problems = check_blocks(args.get("blocks"))
    if problems:
        raise SlackError("invalid_blocks", messages=problems)


def _view_arg(args: dict[str, Any]) -> dict[str, Any]:
    view = args.get("view")
    problems = check_view(view)
    if problems:
        raise SlackError("invalid_arguments", messages=problems)
    assert isinstance(view, dict)
    return view


# ---------------------------------------------------------------------- methods
Handler = Callable[[Workspace, dict[str, Any], str], dict[str, Any]]


def auth_test(ws: Workspace, args: dict[str, Any], root: str) -> dict[str, Any]:
    return {
        "url": f"https://{ws.team['domain']}.slack.com/",
        "team": ws.team["name"],
        "user": "rewardbot",
        "team_id": ws.team["id"],
        "user_id": ws.bot_user_id,
        "bot_id": ws.bot_id,
        "is_enterprise_install": False,
    }


def users_info(ws: Workspace, args: dict[str, Any], root: str) -> dict[str, Any]:
    return {"user": ws.user(_required(args, "user", "user_not_found"))}


def users_lookup_by_email(ws: Workspace, args: dict[str, Any], root: str) -> dict[str, Any]:
    return {"user": ws.user_by_email(_required(args, "email", "users_not_found"))}


def users_profile_get(ws: Workspace, args: dict[str, Any], root: str) -> dict[str, Any]:
    """A person's profile with its custom fields (`fields`: id → {value, alt}), which
    users.info leaves out."""
    return {"profile": ws.profile_with_fields(_required(args, "user", "user_not_found"))}


def users_list(ws: Workspace, args: dict[str, Any], root: str) -> dict[str, Any]:
    members = ws.users()
    start = 0
    cursor = str(args.get("cursor") or "")
    if cursor:
        try:
            wanted = base64.b64decode(cursor.encode()).decode().removeprefix("user:")
            start = next(i for i, u in enumerate(members) if u["id"] == wanted)
        except (ValueError, StopIteration):
            raise SlackError("invalid_cursor") from None
    limit = int(args.get("limit") or 0) or 200
    page = members[start : start + limit]
    rest = members[start + limit : start + limit + 1]
    next_cursor = base64.b64encode(f"user:{rest[0]['id']}".encode()).decode() if rest else ""
    return {
        "members": page,
        "cache_ts": int(time.time()),
        "response_metadata": {"next_cursor": next_cursor},
    }


def usergroups_users_list(ws: Workspace, args: dict[str, Any], root: str) -> dict[str, Any]:
    return {"users": ws.usergroup_users(_required(args, "usergroup", "no_such_subteam"))}


def conversations_open(ws: Workspace, args: dict[str, Any], root: str) -> dict[str, Any]:
    if args.get("channel"):
        channel = ws.channel(str(args["channel"]))
        return {"channel": channel if _flag(args.get("return_im")) else {"id": channel["id"]}}
    users = [u for u in str(args.get("users") or "").split(",") if u]
    if not users:
        raise SlackError("users_list_not_supplied")
    if len(users) > 1:
        raise SlackError("not_supported", messages=["[ERROR] the fake opens one-to-one DMs only"])
    im_id, already_open = ws.open_im(users[0])
    channel = ws.channel(im_id) if _flag(args.get("return_im")) else {"id": im_id}
    result: dict[str, Any] = {"channel": channel}
    if already_open:
        result.update(no_op=True, already_open=True)
    return result


def conversations_info(ws: Workspace, args: dict[str, Any], root: str) -> dict[str, Any]:
    return {"channel": ws.channel(_required(args, "channel", "channel_not_found"))}


def chat_post_message(ws: Workspace, args: dict[str, Any], root: str) -> dict[str, Any]:
    channel = _required(args, "channel", "channel_not_found")
    _check_message(args)
    message = ws.post_message(
        channel=channel,
        text=str(args.get("text") or ""),
        blocks=args.get("blocks"),
        thread_ts=args.get("thread_ts") or None,
        attachments=args.get("attachments"),
        metadata=args.get("metadata"),
    )
    return {"channel": message["channel"], "ts": message["ts"], "message": _public_message(message)}


def chat_post_ephemeral(ws: Workspace, args: dict[str, Any], root: str) -> dict[str, Any]:
    channel = _required(args, "channel", "channel_not_found")
    user = _required(args, "user", "user_not_in_channel")
    _check_message(args)
    ephemeral = ws.post_ephemeral(
        channel=channel,
        user=user,
        text=str(args.get("text") or ""),
        blocks=args.get("blocks"),
        thread_ts=args.get("thread_ts") or None,
    )
    return {"message_ts": ephemeral["ts"]}


def chat_update(ws: Workspace, args: dict[str, Any], root: str) -> dict[str, Any]:
    channel = _required(args, "channel", "channel_not_found")
    ts = _required(args, "ts", "message_not_found")
    if "blocks" in args:
        problems = check_blocks(args["blocks"])
        if problems:
            raise SlackError("invalid_blocks", messages=problems)
    message = ws.update_message(
        channel=channel,
        ts=ts,
        text=args.get("text") if "text" in args else None,
        blocks=args.get("blocks") if "blocks" in args else None,
    )
    return {
        "channel": message["channel"],
        "ts": message["ts"],
        "text": message["text"],
        "message": _public_message(message),
    }


def chat_delete(ws: Workspace, args: dict[str, Any], root: str) -> dict[str, Any]:
    channel = _required(args, "channel", "channel_not_found")
    ts = _required(args, "ts", "message_not_found")
    return {"channel": ws.delete_message(channel=channel, ts=ts), "ts": ts}


def chat_get_permalink(ws: Workspace, args: dict[str, Any], root: str) -> dict[str, Any]:
    channel = _required(args, "channel", "channel_not_found")
    message = ws.message(channel, _required(args, "message_ts", "message_not_found"))
    stamp = message["ts"].replace(".", "")
    return {
        "channel": message["channel"],
        "permalink": f"{root}archives/{message['channel']}/p{stamp}",
    }


def views_open(ws: Workspace, args: dict[str, Any], root: str) -> dict[str, Any]:
    view = _view_arg(args)
    opened = ws.views.open(trigger_id=str(args.get("trigger_id") or ""), view=view)
    return {"view": _public_view(opened)}


def views_push(ws: Workspace, args: dict[str, Any], root: str) -> dict[str, Any]:
    view = _view_arg(args)
    pushed = ws.views.push(trigger_id=str(args.get("trigger_id") or ""), view=view)
    return {"view": _public_view(pushed)}


def views_update(ws: Workspace, args: dict[str, Any], root: str) -> dict[str, Any]:
    if not args.get("view_id") and not args.get("external_id"):
        raise SlackError("invalid_arguments", messages=["[ERROR] view_id or external_id required"])
    view = _view_arg(args)
    updated = ws.views.update(
        view=view,
        view_id=args.get("view_id") or None,
        external_id=args.get("external_id") or None,
        hash=args.get("hash") or None,
    )
    return {"view": _public_view(updated)}


def views_publish(ws: Workspace, args: dict[str, Any], root: str) -> dict[str, Any]:
    user_id = _required(args, "user_id")
    view = _view_arg(args)
    if view.get("type") != "home":
        raise SlackError(
            "invalid_arguments", messages=["[ERROR] must be home [json-pointer:/view/type]"]
        )
    published = ws.views.publish(user_id=user_id, view=view, hash=args.get("hash") or None)
    return {"view": _public_view(published)}


def files_get_upload_url(ws: Workspace, args: dict[str, Any], root: str) -> dict[str, Any]:
    filename = _required(args, "filename")
    try:
        length = int(_required(args, "length"))
    except ValueError:
        raise SlackError("invalid_arguments") from None
    file_id = ws.files.start(
        filename=filename, length=length, alt_txt=str(args.get("alt_txt") or "")
    )
    return {"upload_url": f"{root}upload/{file_id}", "file_id": file_id}


def files_complete_upload(ws: Workspace, args: dict[str, Any], root: str) -> dict[str, Any]:
    files = args.get("files")
    if not isinstance(files, list) or not files:
        raise SlackError("invalid_arguments", messages=["[ERROR] missing required field: files"])
    channel = args.get("channel_id") or (str(args.get("channels") or "").split(",")[0] or None)
    shared = ws.files.complete(
        files=files,
        channel=channel,
        initial_comment=args.get("initial_comment") or None,
        thread_ts=args.get("thread_ts") or None,
        url_root=root,
    )
    return {"files": shared}


def files_info(ws: Workspace, args: dict[str, Any], root: str) -> dict[str, Any]:
    return {"file": ws.files.info(_required(args, "file", "file_not_found"), root)}


def team_info(ws: Workspace, args: dict[str, Any], root: str) -> dict[str, Any]:
    return {"team": dict(ws.team)}


def reactions_add(ws: Workspace, args: dict[str, Any], root: str) -> dict[str, Any]:
    ws.add_reaction(
        channel=_required(args, "channel", "channel_not_found"),
        ts=_required(args, "timestamp", "message_not_found"),
        name=str(args.get("name") or ""),
        user=ws.bot_user_id,
    )
    return {}


def apps_connections_open(ws: Workspace, args: dict[str, Any], root: str) -> dict[str, Any]:
    """A Socket Mode URL, as Slack hands one out for the app-level token (nothing serves it
    here: the fake has no Socket Mode)."""
    ws_root = "ws" + root.removeprefix("http")
    return {"url": f"{ws_root}link/?ticket=fake-{ws.app_id}&app_id={ws.app_id}"}


# Methods that take the app-level token (xapp-…) instead of the bot token.
APP_METHODS: dict[str, Handler] = {"apps.connections.open": apps_connections_open}

METHODS: dict[str, Handler] = {
    "auth.test": auth_test,
    "users.info": users_info,
    "users.lookupByEmail": users_lookup_by_email,
    "users.list": users_list,
    "usergroups.users.list": usergroups_users_list,
    "users.profile.get": users_profile_get,
    "conversations.open": conversations_open,
    "conversations.info": conversations_info,
    "chat.postMessage": chat_post_message,
    "chat.postEphemeral": chat_post_ephemeral,
    "chat.update": chat_update,
    "chat.delete": chat_delete,
    "chat.getPermalink": chat_get_permalink,
    "views.open": views_open,
    "views.update": views_update,
    "views.push": views_push,
    "views.publish": views_publish,
    "files.getUploadURLExternal": files_get_upload_url,
    "files.completeUploadExternal": files_complete_upload,
    "files.info": files_info,
    "team.info": team_info,
    "reactions.add": reactions_add,
}
