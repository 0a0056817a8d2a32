"""SlackDriver: Slack's side of the conversation with a bot over HTTP.

It posts signed slash commands, interactions and events to the bot's request URL, as Slack does,
and then does what Slack would do with the bot's acknowledgement: show a command's ack text as an
ephemeral (or in-channel) message, close/update/push a modal or show its inline errors after a
view submission. Response URLs and trigger ids it hands out belong to the FakeSlack it drives.
"""

from __future__ import annotations

import functools
import itertools
import json
import ssl
from types import TracebackType
from typing import Any
from urllib.parse import urlencode

import httpx

from bot.simulators.fakeslack import payloads
from bot.simulators.fakeslack.fake import FakeSlack
from bot.simulators.fakeslack.signing import sign_request
from bot.simulators.fakeslack.workspace import Workspace

FORM = "application/x-www-form-urlencoded"
USER_AGENT = "Slackbot 1.0 (+https://api.slack.com/robots)"


@functools.cache
def _tls() -> ssl.SSLContext:
    """httpx's default context (certifi's CAs), made once: loading the CAs costs about 70 ms
    of CPU, and a driver is made for every test that talks to a bot."""
    return httpx.create_ssl_context()


class SlackDriver:
    def __init__(
        self,
        *,
        bot_url: str,
        signing_secret: str,
        fake: FakeSlack,
        team_id: str = "T0001",
        timeout: float = 10.0,
    ) -> None:
        if team_id != fake.workspace.team["id"]:
            raise ValueError(f"team {team_id} is not the fake workspace's team")
        self.bot_url = bot_url
        self.fake = fake
        self.team_id = team_id
        self._secret = signing_secret
        self._client = httpx.Client(timeout=httpx.Timeout(timeout, connect=5.0), verify=_tls())
        self._keys = itertools.count(1)
        self.last_response_key: str | None = None
        self.last_trigger_id: str | None = None

    def __repr__(self) -> str:
        return f"SlackDriver(bot_url={self.bot_url!r}, team_id={self.team_id!r})"

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> SlackDriver:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # ------------------------------------------------------------------ plumbing
    @property
    def _ws(self) -> Workspace:
        return self.fake.workspace

    def _trigger(self, user_id: str, trigger_id: str | None) -> str:
        if trigger_id is None:
            trigger_id = self._ws.issue_trigger(user_id)
        else:
            self._ws.register_trigger(trigger_id, user_id)
        self.last_trigger_id = trigger_id
        return trigger_id

    def _response_url(self, kind: str, **target: Any) -> str:
        key = f"{kind}-{next(self._keys)}"
        self.last_response_key = key
        return self.fake.response_url(key, **target)

    def _post(
        self,
        body: bytes,
        content_type: str,
        *,
        timestamp: int | None = None,
        retry_num: int | None = None,
        retry_reason: str = "http_timeout",
    ) -> httpx.Response:
        headers = {"Content-Type": content_type, "User-Agent": USER_AGENT}
        headers.update(sign_request(signing_secret=self._secret, body=body, timestamp=timestamp))
        if retry_num is not None:
            headers["X-Slack-Retry-Num"] = str(retry_num)
            headers["X-Slack-Retry-Reason"] = retry_reason
        return self._client.post(self.bot_url, content=body, headers=headers)

    def _post_payload(self, payload: dict[str, Any], *, timestamp: int | None) -> httpx.Response:
        body = urlencode({"payload": json.dumps(payload)}).encode()
        return self._post(body, FORM, timestamp=timestamp)

    @staticmethod
    def _ack_json(response: httpx.Response) -> dict[str, Any] | None:
        if response.status_code != 200 or not response.content.strip():
            return None
        try:
            parsed = json.loads(response.content)
        except ValueError:
            return {"text": response.text}
        return parsed if isinstance(parsed, dict) else None

    # ------------------------------------------------------------------ slash commands
    def command(
        self,
        text: str,
        *,
        user_id: str,
        channel_id: str = "C0GENERAL",
        command: str = "/reward",
        retry_num: int | None = None,
        trigger_id: str | None = None,
        timestamp: int | None = None,
    ) -> httpx.Response:
        """POST a slash command; an ack with text/blocks is shown to the user as Slack shows it."""
        form = payloads.slash_command(
            self._ws,
            text=text,
            user_id=user_id,
            channel_id=channel_id,
            command=command,
            response_url=self._response_url("command", channel=channel_id, user=user_id),
            trigger_id=self._trigger(user_id, trigger_id),
        )
        response = self._post(
            urlencode(form).encode(), FORM, timestamp=timestamp, retry_num=retry_num
        )
        ack = self._ack_json(response)
        if ack and (ack.get("text") or ack.get("blocks")):
            if ack.get("response_type") == "in_channel":
                self._ws.post_message(
                    channel=channel_id,
                    text=ack.get("text") or "",
                    blocks=ack.get("blocks"),
                    source="ack",
                    require_member=False,
                )
            else:
                self._ws.post_ephemeral(
                    channel=channel_id,
                    user=user_id,
                    text=ack.get("text") or "",
                    blocks=ack.get("blocks"),
                    source="ack",
                )
        return response

    # ------------------------------------------------------------------ interactivity
    def block_action(
        self,
        *,
        user_id: str,
        action_id: str,
        value: str | dict[str, Any] = "",
        block_id: str = "",
        message: dict[str, Any] | None = None,
        view: dict[str, Any] | None = None,
        channel_id: str | None = None,
        trigger_id: str | None = None,
        values: dict[str, Any] | None = None,
        timestamp: int | None = None,
    ) -> httpx.Response:
        """Click a button (string `value`) or pick in a select (`value` = the action's fields,
        e.g. {"selected_option": {...}}) in `message` (a stored message or ephemeral from the
        fake) or in `view` (a modal or App Home view). block_id is looked up when left blank."""
        blocks = (view or message or {}).get("blocks") or []
        found = payloads.find_element(blocks, action_id)
        if found and not block_id:
            block_id = found[0]
        element = found[1] if found else None
        channel_id = channel_id or (message or {}).get("channel")
        response_url = None
        if view is None and channel_id:
            original = None
            if message is not None:
                original = {
                    "channel": channel_id,
                    "ts": message["ts"],
                    "ephemeral": message.get("subtype") == "ephemeral",
                }
            response_url = self._response_url(
                "action", channel=channel_id, user=user_id, original=original
            )
        payload = payloads.block_actions(
            self._ws,
            user_id=user_id,
            actions=[
                payloads.action(
                    action_id=action_id, block_id=block_id, value=value, element=element
                )
            ],
            trigger_id=self._trigger(user_id, trigger_id),
            response_url=response_url,
            channel_id=channel_id,
            message=message,
            view=view,
            values=values,
        )
        return self._post_payload(payload, timestamp=timestamp)

    def block_suggestion(
        self,
        *,
        user_id: str,
        action_id: str,
        value: str = "",
        view: dict[str, Any] | None = None,
        block_id: str = "",
    ) -> list[dict[str, Any]]:
        """Type `value` into an external_select of `view`: the options the bot answered."""
        blocks = (view or {}).get("blocks") or []
        found = payloads.find_element(blocks, action_id)
        payload = payloads.block_suggestion(
            self._ws,
            user_id=user_id,
            action_id=action_id,
            block_id=block_id or (found[0] if found else ""),
            value=value,
            view=view,
        )
        response = self._post_payload(payload, timestamp=None)
        response.raise_for_status()
        answer = response.json() if response.content else {}
        options = answer.get("options") if isinstance(answer, dict) else None
        return list(options or [])

    def view_submission(
        self,
        *,
        user_id: str,
        view: dict[str, Any],
        values: dict[str, Any],
        trigger_id: str | None = None,
        timestamp: int | None = None,
    ) -> httpx.Response:
        """Submit a modal. values: {block_id: {action_id: {"type": ..., "value" | ...}}}.
        Afterwards the fake's modal stack reflects the ack (closed, cleared, updated, pushed, or
        the view carries `errors` for inline display)."""
        payload = payloads.view_submission(
            self._ws,
            user_id=user_id,
            view=view,
            values=values,
            trigger_id=self._trigger(user_id, trigger_id),
        )
        response = self._post_payload(payload, timestamp=timestamp)
        if response.status_code == 200:
            ack = self._ack_json(response) or {}
            self._ws.views.apply_submission_ack(
                user_id=user_id, view_id=view.get("id", ""), body=ack
            )
        return response

    def view_closed(
        self,
        *,
        user_id: str,
        view: dict[str, Any],
        is_cleared: bool = False,
        timestamp: int | None = None,
    ) -> httpx.Response:
        """The user dismissed a modal (Slack only sends this when notify_on_close is set)."""
        self._ws.views.close(user_id=user_id, view_id=view.get("id", ""), clear=is_cleared)
        payload = payloads.view_closed(self._ws, user_id=user_id, view=view, is_cleared=is_cleared)
        return self._post_payload(payload, timestamp=timestamp)

    def shortcut(
        self,
        *,
        user_id: str,
        callback_id: str,
        trigger_id: str | None = None,
        timestamp: int | None = None,
    ) -> httpx.Response:
        payload = payloads.global_shortcut(
            self._ws,
            user_id=user_id,
            callback_id=callback_id,
            trigger_id=self._trigger(user_id, trigger_id),
        )
        return self._post_payload(payload, timestamp=timestamp)

    def message_shortcut(
        self,
        *,
        user_id: str,
        callback_id: str,
        channel_id: str,
        message: dict[str, Any],
        trigger_id: str | None = None,
        timestamp: int | None = None,
    ) -> httpx.Response:
        payload = payloads.message_shortcut(
            self._ws,
            user_id=user_id,
            callback_id=callback_id,
            channel_id=channel_id,
            message=message,
            trigger_id=self._trigger(user_id, trigger_id),
            response_url=self._response_url("shortcut", channel=channel_id, user=user_id),
        )
        return self._post_payload(payload, timestamp=timestamp)

    # ------------------------------------------------------------------ events
    def event(
        self,
        event: dict[str, Any],
        *,
        event_id: str | None = None,
        retry_num: int | None = None,
        timestamp: int | None = None,
    ) -> httpx.Response:
        """POST an Events API `event_callback` envelope around `event` (JSON, signed)."""
        envelope = payloads.event_callback(
            self._ws, event, event_id=event_id or self._ws.new_id("Ev")
        )
        body = json.dumps(envelope).encode()
        return self._post(body, "application/json", timestamp=timestamp, retry_num=retry_num)

    def app_home_opened(self, *, user_id: str, tab: str = "home") -> httpx.Response:
        im_id, _ = self._ws.open_im(user_id)
        event = payloads.app_home_opened(
            self._ws, user_id=user_id, channel_id=im_id, tab=tab, view=self._ws.views.home(user_id)
        )
        return self.event(event)

    def react(
        self,
        *,
        user_id: str,
        channel_id: str,
        ts: str,
        name: str,
        added: bool = True,
        event_id: str | None = None,
    ) -> httpx.Response:
        """`user_id` adds (or removes) the reaction `name` on a stored message, which shows it
        as Slack does, then Slack's signed `reaction_added` (`reaction_removed`) event is
        posted, with the message's author as `item_user` (none for a system message)."""
        message = self._ws.message(channel_id, ts)
        if added:
            self._ws.add_reaction(channel=channel_id, ts=ts, name=name, user=user_id)
        else:
            self._ws.remove_reaction(channel=channel_id, ts=ts, name=name, user=user_id)
        author = message.get("user") if message.get("subtype") is None else None
        event = payloads.reaction(
            added=added,
            user_id=user_id,
            channel_id=message["channel"],
            ts=ts,
            name=name,
            item_user=author,
            event_ts=self._ws.new_ts(),  # after every earlier one: Slack's order
        )
        return self.event(event, event_id=event_id)

    def say(self, *, user_id: str, channel_id: str, text: str) -> tuple[str, httpx.Response]:
        """`user_id` posts `text` in a channel: stored as Slack shows it, then the signed
        `message` event (message.channels) is posted. Returns the message's ts and the answer."""
        message = self._ws.post_message(channel=channel_id, text=text, user=user_id)
        return str(message["ts"]), self.event(payloads.message_event(message))

    def drop_file_in_dm(
        self,
        *,
        user_id: str,
        filename: str,
        content: bytes,
        text: str = "",
        event_id: str | None = None,
    ) -> tuple[dict[str, Any], httpx.Response]:
        """`user_id` drops a file in their DM with the app: the file stored (readable with
        files.info and its url_private), the message in the DM, then the signed `message`
        event (message.im, subtype `file_share`). Returns the event (to deliver again, as
        Slack's retry does, with `event`) and the answer."""
        im_id, _ = self._ws.open_im(user_id)
        item = self._ws.files.from_user(
            user=user_id,
            filename=filename,
            content=content,
            url_root=self.fake.root_url,
            channel=im_id,
        )
        message = self._ws.post_message(
            channel=im_id, text=text, user=user_id, files=[item], upload=True, subtype="file_share"
        )
        event = payloads.file_shared_in_im(message, [item])
        return event, self.event(event, event_id=event_id)

    def delete(self, *, user_id: str, channel_id: str, ts: str) -> httpx.Response:
        """`user_id` deletes their message: gone from the channel, then Slack's signed
        `message_deleted` event."""
        message = self._ws.message(channel_id, ts)
        self._ws.delete_message(channel=channel_id, ts=ts, user=user_id)
        return self.event(payloads.message_deleted(message, event_ts=self._ws.new_ts()))

    def unreact(self, *, user_id: str, channel_id: str, ts: str, name: str) -> httpx.Response:
        return self.react(user_id=user_id, channel_id=channel_id, ts=ts, name=name, added=False)

    def url_verification(self, challenge: str) -> httpx.Response:
        body = json.dumps(payloads.url_verification(challenge)).encode()
        return self._post(body, "application/json")

    def raw(self, body: bytes, headers: dict[str, str]) -> httpx.Response:
        """POST exactly these bytes and headers (no signing): forged or stale requests."""
        return self._client.post(self.bot_url, content=body, headers=headers)
