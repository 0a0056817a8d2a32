"""The sandbox notice, added in one place: where a message leaves the process.

With the embedded Plum sandbox (PLUM_BASE_URL=sandbox, `bot.simulators.embedded`) every view and
every Block Kit message (the cards about rewards, points and lists) a person sees ends with a
quiet line saying that no real reward was sent; plain-text replies (help, errors, refusals) and
notifications don't carry it. Nothing outside this package knows of it: the bot builds plain
payloads, and the embedded sandbox's add-on installs the notice on the ways out of the process,
each with the same rule (`noticed`):

1. the Web API client: `NoticingWebClient` adds it to chat.postMessage / postEphemeral / update /
   scheduleMessage, to views.open / push / update / publish and to a file's `initial_comment`;
2. Bolt's `ack`, `respond` and `client` of every request (`notice_middleware`, a Bolt global
   middleware run before the bot's own): acknowledgements that carry a message or a view
   (`noticed_ack`), replies through a response_url, and whatever the bot's error handler and
   resumed requests answer through them.

What gets it: a message with `blocks`, a modal or App Home view (as a context block at the
end), and a file's comment (as its last line). What never does: a plain-text message, an ack
with `response_action` "errors" or "clear", an empty ack, a reply that only deletes the
original, and every API call that posts nothing people read. Adding it twice changes nothing,
so a payload that passes two ways out (a late reply that falls back to a DM) carries it once.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from slack_bolt import Ack, BoltContext, BoltResponse
from slack_sdk import WebClient
from slack_sdk.web import SlackResponse

from bot.slack.blocks.common import (
    FALLBACK_TEXT_MAX,
    MESSAGE_MAX_BLOCKS,
    VIEW_MAX_BLOCKS,
    clip,
    text_len,
)

SANDBOX_NOTICE = "🧪 Sandbox: no real reward was sent."

VIEW_TYPES = frozenset({"modal", "home"})
# Web API methods whose body is a message people read, one whose `view` is, and the file uploads
# whose `initial_comment` is.
MESSAGE_METHODS = frozenset(
    {"chat.postMessage", "chat.postEphemeral", "chat.update", "chat.scheduleMessage"}
)
VIEW_METHODS = frozenset({"views.open", "views.push", "views.update", "views.publish"})
COMMENT_METHODS = frozenset({"files.completeUploadExternal", "files.upload"})
# Acks that carry no message: a view submission's inline errors or closing every modal, a menu's
# options.
_NOT_MESSAGES = ("errors", "options", "option_groups", "dialog_errors")

T = TypeVar("T")


def _notice_block() -> dict[str, Any]:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": SANDBOX_NOTICE}]}


def _is_notice(block: Mapping[str, Any]) -> bool:
    return block.get("type") == "context" and block.get("elements") == [
        {"type": "mrkdwn", "text": SANDBOX_NOTICE}
    ]


def _is_view(payload: Mapping[str, Any]) -> bool:
    return payload.get("type") in VIEW_TYPES


def with_sandbox_notice(payload: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of a view, or of a Block Kit message (the cards about rewards, points and lists),
    that says no real reward was sent: a quiet context line at the end (the last content block
    gives way when the payload is full). The notification (`text`) is left alone, and so is a
    plain-text reply (help, an error, a refusal): they concern no reward. Applying it twice
    changes nothing."""
    out = dict(payload)
    view = _is_view(out)
    if out.get("blocks") or view:
        blocks = [b for b in out.get("blocks") or [] if not _is_notice(b)]
        limit = VIEW_MAX_BLOCKS if view else MESSAGE_MAX_BLOCKS
        out["blocks"] = [*blocks[: limit - 1], _notice_block()]
    return out


def comment_with_notice(text: str) -> str:
    """A file's comment (text only: a batch of reward links, the weekly chart) with the notice
    as its last line."""
    if SANDBOX_NOTICE in text:
        return text
    room = FALLBACK_TEXT_MAX - text_len(SANDBOX_NOTICE) - 1
    return f"{clip(text, room)}\n{SANDBOX_NOTICE}" if text else SANDBOX_NOTICE


# ── the rule ─────────────────────────────────────────────────────────────────────────────


def is_message(payload: Mapping[str, Any]) -> bool:
    """A message people read: it has a `text` or `blocks`."""
    return bool(payload.get("text")) or bool(payload.get("blocks"))


def noticed(payload: Mapping[str, Any]) -> dict[str, Any]:
    """`payload` with the notice when it is a message or a modal / App Home view; anything else
    (an empty reply, one that only deletes the original) as it is."""
    if _is_view(payload) or is_message(payload):
        return with_sandbox_notice(payload)
    return dict(payload)


def noticed_ack(payload: Mapping[str, Any]) -> dict[str, Any]:
    """An acknowledgement's body with the notice on the message or view it carries. Inline
    errors (`response_action: errors`), `clear`, options and an empty ack stay as they are."""
    action = payload.get("response_action")
    view = payload.get("view")
    if action in (None, "update", "push") and isinstance(view, Mapping):
        return {**payload, "view": noticed(view)}
    if action is not None or any(payload.get(key) for key in _NOT_MESSAGES):
        return dict(payload)
    return noticed(payload)


def noticed_call(api_method: str, body: Mapping[str, Any]) -> dict[str, Any]:
    """The body of a Web API call, with the notice where people will read it: the message of a
    chat.* post or edit, the view of a views.* call, a file's `initial_comment`. Every other
    call (conversations.open, users.info, chat.getPermalink, …) is left as it is."""
    if api_method in MESSAGE_METHODS:
        return noticed(body)
    view = body.get("view")
    if api_method in VIEW_METHODS and isinstance(view, Mapping):
        return {**body, "view": noticed(view)}
    comment = body.get("initial_comment")
    if api_method in COMMENT_METHODS and isinstance(comment, str) and comment:
        return {**body, "initial_comment": comment_with_notice(comment)}
    return dict(body)


# ── the ways out ─────────────────────────────────────────────────────────────────────────


class NoticingWebClient(WebClient):
    """A WebClient that adds the notice to every message and view it sends (`noticed_call`):
    the runtime's Slack client in sandbox mode, so every post, edit, ephemeral, modal, App Home
    and file comment says no real reward was sent, whoever built it."""

    def api_call(
        self,
        api_method: str,
        *,
        http_verb: str = "POST",
        files: dict[str, Any] | None = None,
        data: dict[str, Any] | None = None,
        params: dict[str, Any] | None = None,
        json: dict[str, Any] | None = None,
        headers: dict[str, Any] | None = None,
        auth: dict[str, Any] | None = None,
    ) -> SlackResponse:
        return super().api_call(
            api_method,
            http_verb=http_verb,
            files=files,
            data=None if data is None else noticed_call(api_method, data),
            params=None if params is None else noticed_call(api_method, params),
            json=None if json is None else noticed_call(api_method, json),
            headers=headers,
            auth=auth,
        )


def noticing(
    send: Callable[..., T], rule: Callable[[Mapping[str, Any]], dict[str, Any]] = noticed
) -> Callable[..., T]:
    """`send` (Bolt's `respond`, or its `ack` with `rule=noticed_ack`) adding the notice to what
    it sends. Either takes the message as keywords, or as a whole payload (a dict), or its text
    alone (a str) first."""

    def wrapped(*args: Any, **kwargs: Any) -> T:
        if args and isinstance(args[0], Mapping):
            return send(rule(args[0]), *args[1:], **kwargs)
        if args and isinstance(args[0], str):
            kwargs = {"text": args[0], **kwargs}
            args = args[1:]
        return send(*args, **rule(kwargs))

    return wrapped


class NoticingAck(Ack):
    """Bolt's `ack`, adding the notice to the message or view an acknowledgement carries."""

    def __call__(self, *args: Any, **kwargs: Any) -> BoltResponse:
        response = super().__call__(*args, **kwargs)
        try:
            payload = json.loads(response.body) if response.body else None
        except ValueError:  # a plain-text answer: no reward in it
            return response
        if isinstance(payload, dict):
            response.body = json.dumps(noticed_ack(payload))
        return response


def notice_middleware(context: BoltContext, next_: Callable[[], None]) -> None:
    """A Bolt global middleware giving every request an `ack`, a `respond` and a `client` that
    add the notice."""
    context["ack"] = NoticingAck()
    respond = context.respond
    if context.response_url and respond is not None:
        context["respond"] = noticing(respond)
    if context.client is not None:
        context["client"] = noticing_client(context.client)
    next_()


def noticing_client(client: WebClient) -> WebClient:
    """`client` as a `NoticingWebClient` (same token, address, timeouts and retries)."""
    if isinstance(client, NoticingWebClient):
        return client
    return NoticingWebClient(
        token=client.token,
        base_url=client.base_url,
        timeout=client.timeout,
        ssl=client.ssl,
        proxy=client.proxy,
        headers=dict(client.headers),
        retry_handlers=client.retry_handlers,
        logger=client.logger,
    )
