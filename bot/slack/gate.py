"""The request gate: what an HTTP request must be before anything in the bot looks at it.

In order, on the raw bytes:
1. at most `MAX_BODY_BYTES` (413 otherwise, counted while reading, so a body without a length
   is cut off too);
2. Slack's signature (`v0=` HMAC-SHA256 of `v0:{timestamp}:{body}` with the signing secret)
   over a timestamp of plain ASCII digits within five minutes of now (401 otherwise, whatever
   the reason: nothing from an unverified body is ever used, not even to say it was wrong);
3. a body that decodes: UTF-8, then a form (slash commands; interactions as `payload=` JSON)
   or a JSON object (the Events API), of a shape the bot knows (400 otherwise, with the reason).
   Bolt tells the kinds apart by their fields (a `command` makes a slash command, a `type` an
   interaction or an event) and reads a submitted view's `type` as it builds a listener's
   arguments, so each kind carries no field of another, and a submitted view is a modal.

What passes is handed to Bolt as it came (`Admitted.for_bolt`), except for one form Bolt's own
parser would misread; Bolt does not verify signatures again.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode

MAX_BODY_BYTES = 1024 * 1024  # Slack's largest payloads (a 100-block view) are far below this
MAX_SKEW_SECONDS = 5 * 60
_TIMESTAMP_MAX_DIGITS = 12
_SIGNATURE_PREFIX = "v0="
_HEX = frozenset("0123456789abcdef")
_DIGITS = frozenset("0123456789")

_MAX_ID_CHARS = 255  # trigger ids, action timestamps: what the intake journal keys on
_OPTIONAL_OBJECTS = ("team", "channel", "container", "message", "view", "enterprise")
_OPTIONAL_IDS = ("trigger_id", "action_ts")

# Interactive payload types and what each must carry (dict fields and string fields).
_INTERACTIONS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "block_actions": (("user",), ()),
    "view_submission": (("user", "view"), ()),
    "view_closed": (("user", "view"), ()),
    "shortcut": (("user",), ("callback_id",)),
    "message_action": (("user",), ("callback_id",)),
    "block_suggestion": (("user",), ("action_id",)),
}
_EVENT_TYPES = ("url_verification", "event_callback", "app_rate_limited")


class Rejected(Exception):
    """A request the gate turns away: `status` and a short reason (never echoing the body)."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


class Ignored(Rejected):
    """A signed event of a shape Slack never sends: answered 200 and ignored (Slack turns off
    event delivery for an app whose endpoint keeps failing)."""

    def __init__(self, reason: str) -> None:
        super().__init__(200, reason)


@dataclass(frozen=True, slots=True)
class Admitted:
    """A verified request: its parsed body and the raw text it came from."""

    body: dict[str, Any]
    raw: str

    @property
    def for_bolt(self) -> str:
        """The raw body as Bolt should read it. Bolt's parser takes any form in which the word
        "payload" appears for an interaction and, finding no payload field, reads it as empty,
        which would drop `/reward @maria 10 for the payload work`; such a form is written again
        with the word's first letter percent-encoded, which reads back to the same fields."""
        a_command = bool(self.body.get("command")) and not self.raw.startswith(("payload=", "{"))
        if "payload" not in self.raw or not a_command:
            return self.raw
        return urlencode(self.body).replace("payload", "%70ayload")


def bolt_headers(headers: Mapping[str, str]) -> dict[str, str | Sequence[str]]:
    """The request's headers as Bolt should read them: without Bolt's own `x-slack-bolt-*`,
    which tell it to skip the ack function and run a lazy listener alone (how Bolt calls itself
    again on AWS Lambda). No signature covers the headers, so none from outside may steer it."""
    return {k: v for k, v in headers.items() if not k.lower().startswith("x-slack-bolt-")}


async def read_capped(chunks: AsyncIterator[bytes], *, declared: str | None) -> bytes:
    """The body, or Rejected(413) as soon as it is known to be too large."""
    if declared is not None:
        try:
            if int(declared) > MAX_BODY_BYTES:
                raise Rejected(413, "request body too large")
        except ValueError:
            raise Rejected(400, "bad Content-Length") from None
    out = bytearray()
    async for chunk in chunks:
        out += chunk
        if len(out) > MAX_BODY_BYTES:
            raise Rejected(413, "request body too large")
    return bytes(out)


def _timestamp(value: str | None, *, now: float) -> str:
    if not value or len(value) > _TIMESTAMP_MAX_DIGITS or not set(value) <= _DIGITS:
        raise Rejected(401, "invalid request")
    if abs(now - int(value)) > MAX_SKEW_SECONDS:
        raise Rejected(401, "invalid request")
    return value


def verify(
    body: bytes, headers: Mapping[str, str], *, secret: str, now: Callable[[], float] = time.time
) -> None:
    """Raise Rejected(401) unless Slack signed exactly these bytes, recently."""
    timestamp = _timestamp(headers.get("x-slack-request-timestamp"), now=now())
    signature = headers.get("x-slack-signature") or ""
    digest = signature.removeprefix(_SIGNATURE_PREFIX)
    if len(signature) != len(_SIGNATURE_PREFIX) + 64 or not set(digest) <= _HEX:
        raise Rejected(401, "invalid request")
    expected = hmac.new(
        secret.encode(), b"v0:" + timestamp.encode() + b":" + body, hashlib.sha256
    ).hexdigest()
    if not hmac.compare_digest(expected, digest):
        raise Rejected(401, "invalid request")


def _json_object(text: str, what: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        raise Rejected(400, f"{what} is not JSON") from None
    if not isinstance(value, dict):
        raise Rejected(400, f"{what} is not a JSON object")
    return value


def parse(body: bytes, content_type: str | None) -> dict[str, Any]:
    """A verified body as a dict, or Rejected(400) saying what is wrong with it."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise Rejected(400, "request body is not UTF-8") from None
    kind = (content_type or "").split(";", 1)[0].strip().lower()
    if kind == "application/json":
        return _check_event(_json_object(text, "request body"))
    if kind != "application/x-www-form-urlencoded":
        raise Rejected(400, "expected application/x-www-form-urlencoded or application/json")
    try:
        pairs = parse_qsl(text, keep_blank_values=True, strict_parsing=bool(text), errors="strict")
    except (ValueError, UnicodeDecodeError):
        raise Rejected(400, "request body is not a valid form") from None
    form = dict(pairs)
    if len(form) != len(pairs):
        raise Rejected(400, "a form field appears twice")
    if "payload" in form:
        if len(form) != 1:
            raise Rejected(400, "an interaction carries only a payload field")
        return _check_interaction(_json_object(form["payload"], "payload"))
    return _check_command(form)


def _check_command(form: dict[str, str]) -> dict[str, Any]:
    if form.get("ssl_check") == "1":
        return dict(form)  # Slack's certificate probe (answered without Bolt)
    for field in ("command", "user_id", "team_id", "trigger_id", "response_url"):
        if not form.get(field):
            raise Rejected(400, f"a slash command needs {field}")
    if len(form["trigger_id"]) > _MAX_ID_CHARS:
        raise Rejected(400, "trigger_id is too long")
    if "type" in form:  # Bolt would read it as an interaction or an event too
        raise Rejected(400, "a slash command has no type field")
    return dict(form)


def _check_interaction(payload: dict[str, Any]) -> dict[str, Any]:
    kind = payload.get("type")
    if not isinstance(kind, str) or kind not in _INTERACTIONS:
        raise Rejected(
            400, f"unsupported payload type (expected one of {', '.join(_INTERACTIONS)})"
        )
    if "command" in payload:  # Bolt would dispatch it as a slash command
        raise Rejected(400, f"{kind}: an interaction carries no command")
    objects, strings = _INTERACTIONS[kind]
    for field in objects:
        if not isinstance(payload.get(field), dict):
            raise Rejected(400, f"{kind}: {field} must be an object")
    for field in strings:
        if not isinstance(payload.get(field), str) or not payload[field]:
            raise Rejected(400, f"{kind}: {field} must be a non-empty string")
    if not isinstance(payload["user"].get("id"), str) or not payload["user"]["id"]:
        raise Rejected(400, f"{kind}: user.id must be a non-empty string")
    for field in _OPTIONAL_OBJECTS:
        if payload.get(field) is not None and not isinstance(payload[field], dict):
            raise Rejected(400, f"{kind}: {field} must be an object")
    for field in _OPTIONAL_IDS:
        value = payload.get(field)
        if value is not None and (not isinstance(value, str) or len(value) > _MAX_ID_CHARS):
            raise Rejected(400, f"{kind}: {field} must be a string of at most {_MAX_ID_CHARS}")
    if payload.get("response_url") is not None and not isinstance(payload["response_url"], str):
        raise Rejected(400, f"{kind}: response_url must be a string")
    urls = payload.get("response_urls")
    if urls is not None and not (isinstance(urls, list) and all(isinstance(u, dict) for u in urls)):
        raise Rejected(400, f"{kind}: response_urls must be a list of objects")
    if kind == "block_actions":
        actions = payload.get("actions")
        if not isinstance(actions, list) or not actions:
            raise Rejected(400, "block_actions: actions must be a non-empty list")
        for action in actions:
            if not isinstance(action, dict) or not isinstance(action.get("action_id"), str):
                raise Rejected(400, "block_actions: every action needs an action_id")
    if payload.get("view") is not None:
        _check_view(kind, payload["view"], submitted=kind in ("view_submission", "view_closed"))
    return payload


def _check_view(kind: str, view: dict[str, Any], *, submitted: bool) -> None:
    if submitted and (
        not isinstance(view.get("id"), str) or not isinstance(view.get("callback_id"), str)
    ):
        raise Rejected(400, f"{kind}: view.id and view.callback_id must be strings")
    if submitted and view.get("type") != "modal":
        raise Rejected(400, f'{kind}: view.type must be "modal"')
    for field in ("id", "callback_id", "type", "private_metadata", "hash"):
        if view.get(field) is not None and not isinstance(view[field], str):
            raise Rejected(400, f"{kind}: view.{field} must be a string")
    if len(view.get("id") or "") > _MAX_ID_CHARS:
        raise Rejected(400, f"{kind}: view.id must be at most {_MAX_ID_CHARS} characters")
    state = view.get("state", {})
    values = state.get("values", {}) if isinstance(state, dict) else None
    if not isinstance(values, dict) or not all(
        isinstance(block, dict) and all(isinstance(element, dict) for element in block.values())
        for block in values.values()
    ):
        raise Rejected(400, f"{kind}: view.state.values must map blocks to objects")


def _check_event(body: dict[str, Any]) -> dict[str, Any]:
    kind = body.get("type")
    if kind not in _EVENT_TYPES:
        raise Rejected(400, f"unsupported request type (expected one of {', '.join(_EVENT_TYPES)})")
    if "command" in body:  # Bolt would dispatch it as a slash command
        raise Rejected(400, f"{kind}: an event carries no command")
    if kind == "event_callback":
        event = body.get("event")
        if not isinstance(event, dict) or not isinstance(event.get("type"), str):
            raise Ignored("event_callback: event must be an object with a type")
        for field in ("user", "channel"):  # ids here; objects in some events Slack sends
            if event.get(field) is not None and not isinstance(event[field], str | dict):
                raise Ignored(f"event_callback: event.{field} must be an id or an object")
        event_id = body.get("event_id")
        if event_id is not None and (
            not isinstance(event_id, str) or len(event_id) > _MAX_ID_CHARS
        ):
            raise Ignored(f"event_callback: event_id must be a string of at most {_MAX_ID_CHARS}")
    return body


async def admit(
    *,
    chunks: AsyncIterator[bytes],
    headers: Mapping[str, str],
    secret: str,
    now: Callable[[], float] = time.time,
) -> Admitted:
    """Read, verify and parse one request; raises Rejected with the status to answer."""
    body = await read_capped(chunks, declared=headers.get("content-length"))
    verify(body, headers, secret=secret, now=now)
    parsed = parse(body, headers.get("content-type"))
    return Admitted(body=parsed, raw=body.decode("utf-8"))
