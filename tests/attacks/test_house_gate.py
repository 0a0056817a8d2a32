"""The gate and Bolt, on the real `rewardbot serve`: what Slack signed reaches the listener
exactly as Slack sent it, whatever the text says ("payload" anywhere, `+` and `%20`, unicode,
nearly a mebibyte), and no signed shape Slack never sends makes Bolt answer a 500, gives a
reward, or reaches a listener of another kind. The headers of a request, which no signature
covers, don't steer Bolt either.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote, quote_plus, urlencode

import pytest

from bot.simulators.fakeslack import payloads
from bot.slack.ids import ActionId
from tests.attacks.house import (
    ack_of,
    interaction,
    journal,
    module_bot,
    post,
    rewards_citing,
    signed_headers,
)
from tests.attacks.serve_process import ServeProcess
from tests.e2e.harness import ADMIN, APPROVER, BOB, MARIA, message_text


@pytest.fixture(scope="module")
def serve(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServeProcess]:
    with module_bot(tmp_path_factory, "house-gate", REWARD_ALLOWANCE="0") as serve:
        yield serve


def command_form(serve: ServeProcess, text: str, **fields: str) -> dict[str, str]:
    ws = serve.fake.workspace
    form = payloads.slash_command(
        ws,
        text=text,
        user_id=BOB,
        channel_id="C0GENERAL",
        command="/reward",
        response_url=serve.fake.response_url(ws.new_id("G"), channel="C0GENERAL", user=BOB),
        trigger_id=ws.issue_trigger(BOB),
    )
    return {**form, **fields}


@pytest.fixture
def no_500s(serve: ServeProcess) -> Iterator[None]:
    """After the test: nothing it sent made the web app fail (uvicorn answers that with a 500)."""
    before = len(serve.logs())
    yield
    log = serve.logs()[before:]
    assert "Exception in ASGI application" not in log, log[-3000:]


# ── the text reaches the listener as typed ───────────────────────────────────────────────

TEXTS = {
    "the-word": "for the payload",
    "payload=": "for the payload=work on the release",
    "payload=json": 'payload={"type":"block_actions","actions":[]}',
    "percent-encoded": "p%61yload and %70ayload typed as such",
    "text=payload": "text=payload&command=/give",
    "plus-and-%20": "a+b %20 c + d%2Be",
    "unicode": "merci 🎉 für das Payload — ünïcödé payload ✓ 日本語",
    "many-payloads": "payload " * 50,
}


def test_a_command_reaches_its_listener_exactly_as_typed(serve: ServeProcess) -> None:
    """Every text, with its spaces as `+` (as Slack sends them) and as `%20`; and "payload" as
    the name of the channel, the person or the workspace: each command gives one reward whose
    citation is what was typed, to the character."""
    sent: dict[str, bytes] = {}
    for name, text in TEXTS.items():
        for spaces, quote_via in (("+", quote_plus), ("%20", quote)):
            citation = f"{text.strip()} ({name}, spaces as {spaces})"
            form = command_form(serve, f"<@{MARIA}> 1 {citation}")
            sent[citation] = urlencode(form, quote_via=quote_via).encode()
    for field in ("channel_name", "user_name", "team_domain"):
        citation = f"from the {field} called payload"
        form = command_form(serve, f"<@{MARIA}> 1 {citation}", **{field: "payload"})
        sent[citation] = urlencode(form).encode()
    acks = {citation: ack_of(post(serve, body)) for citation, body in sent.items()}
    assert {c: a for c, a in acks.items() if a} == {}  # all acknowledged; the answers follow
    serve.settle()
    given = {citation: len(rewards_citing(serve, citation)) for citation in sent}
    assert {c: n for c, n in given.items() if n != 1} == {}


def test_a_command_of_nearly_a_mebibyte_is_read_whole(serve: ServeProcess) -> None:
    text = "payload " * 130_000  # 1,040,000 characters with "payload" all through it
    form = command_form(serve, f"<@{MARIA}> 1 {text}")
    body = urlencode(form).encode()
    assert 1_000_000 < len(body) < 1024 * 1024
    answer = message_text(ack_of(post(serve, body)))
    # Bolt read every character: the citation's length is counted exactly in the ack
    assert f"is {len(text.strip()):,} characters long and the limit is 500" in answer
    assert rewards_citing(serve, text.strip()) == []


def test_a_field_sent_twice_is_a_400_and_does_nothing(serve: ServeProcess) -> None:
    form = command_form(serve, f"<@{MARIA}> 1 sent with two texts")
    body = (urlencode(form) + "&" + urlencode({"text": f"<@{MARIA}> 900 the other text"})).encode()
    response = post(serve, body)
    assert response.status_code == 400
    assert "twice" in response.json()["error"]
    serve.settle()
    assert rewards_citing(serve, "sent with two texts") == []
    assert rewards_citing(serve, "the other text") == []


# ── shapes Slack never sends ─────────────────────────────────────────────────────────────


def _approve(serve: ServeProcess, **fields: Any) -> dict[str, Any]:
    ws = serve.fake.workspace
    payload = payloads.block_actions(
        ws,
        user_id=APPROVER,
        actions=[
            payloads.action(action_id=ActionId.APPROVE, block_id="b", value="ZZZZZZ", element=None)
        ],
        trigger_id=ws.issue_trigger(APPROVER),
        response_url=None,
        channel_id=None,
        message=None,
        view=None,
    )
    return {**payload, **fields}


def _view(serve: ServeProcess, kind: str = "view_submission", **view: Any) -> dict[str, Any]:
    ws = serve.fake.workspace
    shown = {"id": ws.new_id("V"), "callback_id": "reward_modal", "state": {"values": {}}, **view}
    payload: dict[str, Any] = {"type": kind, "user": {"id": BOB, "team_id": "T0001"}, "view": shown}
    if kind == "view_submission":
        payload["trigger_id"] = ws.issue_trigger(BOB)
    return payload


def odd_bodies(serve: ServeProcess, case: str) -> tuple[bytes, str]:
    """A signed-to-be body of a shape Slack never sends, and its content type."""
    form = "application/x-www-form-urlencoded"
    odd_text = f"<@{MARIA}> 1 odd {case}"
    if case == "command-with-a-view":
        fields = {"type": "view_submission", "view": "callback_id"}
        return urlencode(command_form(serve, odd_text, **fields)).encode(), form
    if case == "command-with-an-event":
        fields = {"type": "event_callback", "event": "type"}
        return urlencode(command_form(serve, odd_text, **fields)).encode(), form
    if case == "command-with-actions":
        fields = {"type": "block_actions", "actions": "approve"}
        return urlencode(command_form(serve, odd_text, **fields)).encode(), form
    if case == "click-with-a-command":
        payload = _approve(serve, command="/reward", text=odd_text, user_id=BOB)
        return interaction(payload), form
    if case == "event-with-a-command":
        ws = serve.fake.workspace
        event = payloads.event_callback(
            ws, {"type": "app_home_opened", "user": BOB, "tab": "home"}, event_id="EvOdd1"
        )
        event.update(command="/reward", text=odd_text, user_id=BOB, trigger_id="1.2.odd")
        return json.dumps(event).encode(), "application/json"
    payload = {
        "view-without-a-type": lambda: _view(serve),
        "view-of-a-workflow-step": lambda: _view(serve, type="workflow_step"),
        "closed-view-without-a-type": lambda: _view(serve, "view_closed"),
        "ids-as-numbers": lambda: _approve(
            serve,
            team={"id": 5},
            user={"id": APPROVER, "team_id": 7},
            channel={"id": 9},
            container={"type": "message", "channel_id": 9, "message_ts": 3, "is_ephemeral": 1},
            actions=[{"action_id": ActionId.APPROVE, "value": 12, "action_ts": 12.5}],
        ),
        "nested-arrays": lambda: _approve(
            serve,
            actions=[{"action_id": ActionId.APPROVE, "value": [["Z"]], "action_ts": [1, [2]]}],
        ),
        "action-without-a-ts-or-trigger": lambda: {
            k: v
            for k, v in _approve(serve, actions=[{"action_id": ActionId.REJECT}]).items()
            if k != "trigger_id"
        },
        "authorizations-empty": lambda: _approve(serve, authorizations=[{}]),
        "form-values-nested": lambda: _view(
            serve,
            type="modal",
            state={
                "values": {
                    "recipients": {"recipients_select": {"selected_users": [[MARIA]]}},
                    "amount": {"amount_input": {"value": ["5"]}},
                }
            },
        ),
        "metadata-not-ours": lambda: _view(
            serve, type="modal", callback_id="link_modal", private_metadata='{"campaign": [1]}'
        ),
    }[case]()
    return interaction(payload), form


ODD = [
    "command-with-a-view",
    "command-with-an-event",
    "command-with-actions",
    "click-with-a-command",
    "event-with-a-command",
    "view-without-a-type",
    "view-of-a-workflow-step",
    "closed-view-without-a-type",
    "ids-as-numbers",
    "nested-arrays",
    "action-without-a-ts-or-trigger",
    "authorizations-empty",
    "form-values-nested",
    "metadata-not-ours",
]


def test_no_signed_shape_slack_never_sends_is_a_500_or_gives_anything(
    serve: ServeProcess, no_500s: None
) -> None:
    before = serve.statuses()
    answers = {}
    for case in ODD:
        body, content_type = odd_bodies(serve, case)
        response = serve.post(body, {**signed_headers(body), "Content-Type": content_type})
        plain = response.status_code == 200 or bool(response.json().get("error"))
        answers[case] = (response.status_code, plain)
    assert {c: a for c, a in answers.items() if a[0] not in (200, 400, 404) or not a[1]} == {}
    serve.settle()
    read_as_a_reward = [case for case in ODD if rewards_citing(serve, f"odd {case}")]
    assert read_as_a_reward == []
    assert serve.statuses() == before


# ── headers no signature covers ──────────────────────────────────────────────────────────


@pytest.mark.parametrize(
    "bolt_headers",
    [
        {"X-Slack-Bolt-Lazy-Only": "1"},
        {"X-Slack-Bolt-Lazy-Only": "1", "X-Slack-Bolt-Lazy-Function-Name": "follow_up"},
    ],
    ids=["lazy-only", "lazy-function"],
)
def test_bolt_headers_on_a_signed_request_change_nothing(
    serve: ServeProcess, bolt_headers: dict[str, str]
) -> None:
    """Bolt reads `x-slack-bolt-*` headers as its own call to run a lazy listener alone (on
    AWS Lambda): sent from outside, they would skip the ack function, where the role checks,
    the quick answers and the forms' checks are."""
    form = command_form(serve, "links 7890 5")  # admins only: refused in the ack
    body = urlencode(form).encode()
    response = serve.post(body, {**signed_headers(body), **bolt_headers})
    assert response.status_code == 200
    assert "Only admins" in message_text(ack_of(response))
    serve.settle()
    assert not [c for c in serve.sandbox.requests if c["operation"] == "generateLink"]
    key = f"command:{form['trigger_id']}"
    assert journal(serve, key) == [(key, "done", "done", 0)]


def test_a_json_event_with_a_payload_key_is_an_event(serve: ServeProcess, no_500s: None) -> None:
    ws = serve.fake.workspace
    im, _ = ws.open_im(ADMIN)
    event = payloads.event_callback(
        ws,
        {"type": "app_home_opened", "user": ADMIN, "channel": im, "tab": "home"},
        event_id="EvPay1",
    )
    event["payload"] = urlencode({"command": "/reward", "text": f"<@{MARIA}> 1 via payload key"})
    body = json.dumps(event).encode()
    headers = {**signed_headers(body), "Content-Type": "application/json; charset=utf-8"}
    assert serve.post(body, headers).status_code == 200
    assert serve.wait(lambda: serve.fake.home(ADMIN))  # the App Home was drawn
    serve.settle()
    assert rewards_citing(serve, "via payload key") == []
