"""What the attacks on the house (issue 19: the gate, Bolt, the intake journal, the one
start-up) share: one `rewardbot serve` per test module, signed requests built as Slack builds
them and delivered as often as Slack may deliver them, and the journal read back.

A module's tests share its bot, so each test uses its own trigger ids, citations and reward
ids, and counts what it caused (never totals).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode

import httpx
import pytest

from bot.simulators.fakeslack import FakeSlack, Workspace, payloads, sign_request
from bot.simulators.plum_sandbox import SandboxServer
from bot.slack.ids import ActionId
from tests.attacks.serve_process import ServeProcess
from tests.e2e.harness import ADMIN, APPROVER, BOB, SIGNING_SECRET, actions_in, message_text

FORM = "application/x-www-form-urlencoded"


@contextmanager
def module_bot(
    tmp_path_factory: pytest.TempPathFactory, name: str, **settings: str
) -> Iterator[ServeProcess]:
    """The fake Slack, the sandbox and a started `rewardbot serve` for a whole module."""
    tmp = tmp_path_factory.mktemp(name)
    with FakeSlack(workspace=Workspace.demo()) as fake:
        sandbox = SandboxServer(state_path=tmp / "sandbox.json", rate_limits=False)
        sandbox.start()
        serve = ServeProcess(tmp_path=tmp, fake=fake, sandbox=sandbox, **settings)
        try:
            yield serve.start()
        finally:
            serve.kill()
            sandbox.stop()


# ── signed requests, delivered as Slack delivers them ────────────────────────────────────


def signed_headers(body: bytes, *, retry: int | None = None) -> dict[str, str]:
    headers = {"Content-Type": FORM, **sign_request(signing_secret=SIGNING_SECRET, body=body)}
    if retry:
        headers["X-Slack-Retry-Num"] = str(retry)
        headers["X-Slack-Retry-Reason"] = "http_timeout"
    return headers


def post(serve: ServeProcess, body: bytes, *, retry: int | None = None) -> httpx.Response:
    return serve.post(body, signed_headers(body, retry=retry))


def deliver(
    serve: ServeProcess, body: bytes, *, times: int, together: bool
) -> list[httpx.Response]:
    """The same request `times` times, as Slack retries it (the repeats carry
    X-Slack-Retry-Num), all at once (`together`) or one after another."""
    if not together:
        return [post(serve, body, retry=n or None) for n in range(times)]
    start = threading.Barrier(times)

    def send(n: int) -> httpx.Response:
        start.wait()
        return post(serve, body, retry=n or None)

    with ThreadPoolExecutor(max_workers=times) as pool:
        return list(pool.map(send, range(times)))


def interaction(payload: Mapping[str, Any]) -> bytes:
    return urlencode({"payload": json.dumps(payload)}).encode()


def command_body(
    serve: ServeProcess, text: str, *, user: str = BOB, trigger: str | None = None
) -> tuple[bytes, str]:
    """A signed-to-be `/reward` form and the key of its response_url."""
    ws = serve.fake.workspace
    trigger = trigger or ws.issue_trigger(user)
    key = f"cmd-{trigger}"
    form = payloads.slash_command(
        ws,
        text=text,
        user_id=user,
        channel_id="C0GENERAL",
        command="/reward",
        response_url=serve.fake.response_url(key, channel="C0GENERAL", user=user),
        trigger_id=trigger,
    )
    return urlencode(form).encode(), key


def click_body(
    serve: ServeProcess,
    *,
    user: str,
    action: str,
    value: str | dict[str, Any],
    message: dict[str, Any] | None = None,
    view: dict[str, Any] | None = None,
) -> tuple[bytes, str | None]:
    """A button click (or a select) in `message` or `view`, and its response_url's key."""
    ws = serve.fake.workspace
    blocks = (view or message or {}).get("blocks") or []
    found = payloads.find_element(blocks, action)
    channel = (message or {}).get("channel")
    key = None
    url = None
    if message is not None and channel:
        key = f"act-{ws.new_id('K')}"
        original = {
            "channel": channel,
            "ts": message["ts"],
            "ephemeral": message.get("subtype") == "ephemeral",
        }
        url = serve.fake.response_url(key, channel=channel, user=user, original=original)
    payload = payloads.block_actions(
        ws,
        user_id=user,
        actions=[
            payloads.action(
                action_id=action,
                block_id=found[0] if found else "",
                value=value,
                element=found[1] if found else None,
            )
        ],
        trigger_id=ws.issue_trigger(user),
        response_url=url,
        channel_id=channel,
        message=message,
        view=view,
    )
    return interaction(payload), key


def submission_body(
    serve: ServeProcess, *, user: str, view: dict[str, Any], values: dict[str, Any]
) -> bytes:
    ws = serve.fake.workspace
    payload = payloads.view_submission(
        ws, user_id=user, view=view, values=values, trigger_id=ws.issue_trigger(user)
    )
    return interaction(payload)


def ack_of(response: httpx.Response) -> dict[str, Any]:
    """A 200's acknowledgement as Slack reads it ({} for an empty one)."""
    assert response.status_code == 200, (response.status_code, response.text)
    if not response.content.strip():
        return {}
    try:
        return dict(response.json())
    except ValueError:
        return {"text": response.text}


# ── what the bot holds ───────────────────────────────────────────────────────────────────


def journal(serve: ServeProcess, key_like: str = "%") -> list[tuple[str, str, str | None, int]]:
    """(key, state, outcome, resumes) of the journal's entries whose key is like `key_like`."""
    rows = serve.sql_intake(
        "SELECT key, state, outcome, resumes FROM intake WHERE key LIKE ? ORDER BY id", key_like
    )
    return [(str(k), str(s), o, int(r)) for k, s, o, r in rows]


def journal_path(serve: ServeProcess) -> Path:
    return serve.db_path.with_name(serve.db_path.stem + ".intake.db")


def reward_ids(serve: ServeProcess) -> set[str]:
    return {str(r[0]) for r in serve.sql("SELECT short_id FROM rewards")}


def status_of(serve: ServeProcess, short: str) -> str:
    rows = serve.sql("SELECT status FROM rewards WHERE short_id = ?", short)
    return str(rows[0][0]) if rows else ""


def rewards_citing(serve: ServeProcess, citation: str) -> list[tuple[str, str]]:
    """(short id, status) of the rewards whose citation is `citation`."""
    rows = serve.sql("SELECT short_id, status FROM rewards WHERE citation = ?", citation)
    return [(str(s), str(t)) for s, t in rows]


def paid_for(serve: ServeProcess, citation: str) -> int:
    """How many times Xoxoday accepted a send for `citation`."""
    return sum(
        1
        for send in serve.sends()
        if send.get("status") == 200
        for r in send["variables"]["recipients"]
        if r.get("citation") == citation
    )


def give_big(serve: ServeProcess, citation: str, *, amount: int = 700) -> tuple[str, dict]:
    """A reward over the approval threshold: its short id and the approver's request."""
    before = reward_ids(serve)
    serve.driver.command(f"<@UMARIA01> {amount} {citation}", user_id=BOB)
    short = serve.wait_until(lambda: sorted(reward_ids(serve) - before))[0]

    def request() -> list[dict[str, Any]]:
        return [
            m
            for m in serve.fake.dms_to(APPROVER)
            if short in message_text(m) and ActionId.APPROVE in actions_in(m)
        ]

    return short, serve.wait(request)[0]


def texts(serve: ServeProcess, user: str, needle: str) -> list[str]:
    """What `user` was told (DMs, ephemerals, response_url posts) that mentions `needle`."""
    seen = [*serve.dm_texts(user), *serve.replies_to(user)]
    return [t for t in seen if needle in t]


# ── the flows the attacks need, up to the request under attack ───────────────────────────


def payload_of(body: bytes) -> dict[str, Any]:
    """The interaction payload an interaction body carries."""
    return dict(json.loads(parse_qs(body.decode())["payload"][0]))


def opened_views(serve: ServeProcess, callback_id: str, trigger_id: str | None = None) -> list:
    """The modals views.open opened with `callback_id` (by `trigger_id` when given)."""
    found = []
    for call in serve.fake.calls_to("views.open"):
        args = call.get("args") or {}
        view = args.get("view")
        view = json.loads(view) if isinstance(view, str) else view or {}
        if view.get("callback_id") != callback_id or not call.get("ok"):
            continue
        if trigger_id is None or args.get("trigger_id") == trigger_id:
            found.append(view)
    return found


def newest_view(serve: ServeProcess, user: str, callback_id: str, *, after: int) -> dict[str, Any]:
    """The first modal with `callback_id` opened for `user` after the view log's `after`th
    change (as stored by the fake Slack: with its id and hash)."""

    def found() -> dict[str, Any] | None:
        for change in serve.fake.views[after:]:
            view = change["view"]
            if change.get("user_id") == user and view.get("callback_id") == callback_id:
                return dict(view)
        return None

    return dict(serve.wait(found))


def reward_modal(serve: ServeProcess, user: str) -> dict[str, Any]:
    """`/reward` alone: the reward form it opens for `user`."""
    after = len(serve.fake.views)
    assert serve.driver.command("", user_id=user).status_code == 200
    return newest_view(serve, user, "reward_modal", after=after)


def reject_modal(serve: ServeProcess, short: str, request: dict[str, Any]) -> dict[str, Any]:
    """Reject clicked on an approval request: the reason form it opens."""
    after = len(serve.fake.views)
    body, _ = click_body(serve, user=APPROVER, action=ActionId.REJECT, value=short, message=request)
    assert post(serve, body).status_code == 200
    return newest_view(serve, APPROVER, "reject_reason_modal", after=after)


def reason(text: str) -> dict[str, Any]:
    """The reject form's values."""
    return {"reject_reason": {"reject_reason_input": {"type": "plain_text_input", "value": text}}}


def give_sent(serve: ServeProcess, citation: str, *, to: str = "UCHEN001") -> str:
    """A reward given and sent; its short id."""
    serve.driver.command(f"<@{to}> 5 {citation}", user_id=BOB)
    return serve.wait_until(
        lambda: [s for s, status in rewards_citing(serve, citation) if status == "sent"]
    )[0]


def cancel_question(serve: ServeProcess, short: str, why: str) -> tuple[dict, dict]:
    """`/reward cancel` asked by the admin: the question (with its buttons) and the value of
    its "Cancel reward" button."""
    serve.driver.command(f"cancel {short} {why}", user_id=ADMIN)

    def asked() -> dict[str, Any] | None:
        found = [
            m
            for m in serve.fake.ephemerals(ADMIN)
            if ActionId.CANCEL_CONFIRM in actions_in(m) and short in message_text(m)
        ]
        return found[-1] if found else None

    question = serve.wait(asked)
    element = payloads.find_element(question["blocks"], ActionId.CANCEL_CONFIRM)
    assert element is not None
    return question, element[1]


def in_doubt(serve: ServeProcess, citation: str) -> tuple[str, dict[str, Any]]:
    """A reward Xoxoday applied without the bot learning it (in doubt): its short id and the
    admin's alert with the settle buttons."""
    serve.sandbox.faults.set("sendBalance", count=1, drop_after_apply=True)
    serve.driver.command(f"<@UMARIA01> 4 {citation}", user_id=BOB)
    short = serve.wait_until(
        lambda: [s for s, status in rewards_citing(serve, citation) if status == "in_doubt"]
    )[0]

    def alert() -> list[dict[str, Any]]:
        return [
            m
            for m in serve.fake.dms_to(ADMIN)
            if short in message_text(m) and ActionId.SETTLE_SENT in actions_in(m)
        ]

    return short, serve.wait(alert)[0]


def link_form(serve: ServeProcess, campaign: str = "7891") -> dict[str, Any]:
    """`/reward campaigns`, then `campaign` picked: the link form it opens for the admin."""
    serve.driver.command("campaigns", user_id=ADMIN)

    def listing() -> list[dict[str, Any]]:
        return [m for m in serve.fake.ephemerals(ADMIN) if "link_campaign_pick" in actions_in(m)]

    shown = serve.wait(listing)[-1]
    picker = payloads.find_element(shown["blocks"], "link_campaign_pick")
    assert picker is not None
    option = next(o for o in picker[1]["options"] if o["value"] == campaign)
    after = len(serve.fake.views)
    body, _ = click_body(
        serve,
        user=ADMIN,
        action="link_campaign_pick",
        value={"selected_option": option},
        message=shown,
    )
    assert post(serve, body).status_code == 200
    return newest_view(serve, ADMIN, "link_modal", after=after)


def link_values(recipient: str = "UMARIA01", day: str | None = None) -> dict[str, Any]:
    return {
        "link_recipient": {
            "link_recipient_select": {"type": "users_select", "selected_user": recipient}
        },
        "link_expiry": {"link_expiry_date": {"type": "datepicker", "selected_date": day}},
        "link_note": {"link_note_input": {"type": "plain_text_input", "value": None}},
    }


def gift_form(serve: ServeProcess, note: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The admin's gift card form for Maria with a product picked, and the values to submit
    (`note` tells the order apart)."""
    after = len(serve.fake.views)
    serve.driver.command("gift <@UMARIA01>", user_id=ADMIN)
    view = newest_view(serve, ADMIN, "gift_modal", after=after)
    options = serve.driver.block_suggestion(
        user_id=ADMIN, action_id=str(ActionId.GIFT_PRODUCT_SELECT), value="amazon", view=view
    )
    option = options[0]
    after = len(serve.fake.views)
    body, _ = click_body(
        serve,
        user=ADMIN,
        action=str(ActionId.GIFT_PRODUCT_SELECT),
        value={"selected_option": option},
        view=view,
    )
    assert post(serve, body).status_code == 200

    def redrawn() -> dict[str, Any] | None:
        for change in serve.fake.views[after:]:
            if change["view"].get("callback_id") == "gift_modal":
                return dict(change["view"])
        return None

    view = serve.wait(redrawn)
    amount = next(b for b in view["blocks"] if b.get("block_id") == "gift_amount")["element"]
    fixed = amount["type"] == "static_select"
    value = amount["options"][0]["value"] if fixed else "25"
    chosen: dict[str, Any] = (
        {"type": "static_select", "selected_option": {"text": {}, "value": value}}
        if fixed
        else {"type": "plain_text_input", "value": value}
    )
    values = {
        "gift_recipient": {
            "gift_recipient_select": {"type": "users_select", "selected_user": "UMARIA01"}
        },
        "gift_product": {
            "gift_product_select": {"type": "external_select", "selected_option": option}
        },
        "gift_amount": {"gift_amount_input": chosen},
        "gift_note": {"gift_note_input": {"type": "plain_text_input", "value": note}},
    }
    return view, values


def orders_noted(serve: ServeProcess, note: str) -> list[tuple[str, str]]:
    """(po number, status) of the orders whose note is `note`."""
    rows = serve.sql("SELECT po_number, status FROM orders WHERE note = ?", note)
    return [(str(p), str(s)) for p, s in rows]


def sandbox_calls(serve: ServeProcess, operation: str) -> list[dict[str, Any]]:
    return [r for r in serve.sandbox.requests if r["operation"] == operation]


class Told:
    """What `user` has been told so far (DMs and ephemerals, replies through a response_url
    included); `since()`: what they were told after, as text (a message edited in place, like
    an approval request once decided, is not new)."""

    def __init__(self, serve: ServeProcess, user: str) -> None:
        self.serve = serve
        self.user = user
        self.dms = len(serve.fake.dms_to(user))
        self.ephemerals = len(serve.fake.ephemerals(user))

    def since(self) -> list[str]:
        fake = self.serve.fake
        new = [*fake.dms_to(self.user)[self.dms :], *fake.ephemerals(self.user)[self.ephemerals :]]
        return [message_text(m) for m in new]
