"""Slack delivering the same signed request again, to the real `rewardbot serve`: for every kind
the intake journal records (a command, each form, each journaled click, a shortcut), three
copies at once (the repeats with X-Slack-Retry-Num) and one more, without it, once the work is
done. One effect, one answer to the person, and every copy acknowledged as the first was.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from urllib.parse import parse_qsl

import httpx
import pytest

from bot.simulators.fakeslack import payloads
from bot.slack.ids import ActionId
from bot.slack.journal import request_key
from tests.attacks.house import (
    Told,
    ack_of,
    cancel_question,
    click_body,
    command_body,
    deliver,
    gift_form,
    give_big,
    give_sent,
    in_doubt,
    interaction,
    journal,
    link_form,
    link_values,
    module_bot,
    opened_views,
    orders_noted,
    paid_for,
    payload_of,
    post,
    reason,
    reject_modal,
    reward_modal,
    rewards_citing,
    sandbox_calls,
    status_of,
    submission_body,
    texts,
)
from tests.attacks.serve_process import ServeProcess
from tests.e2e.harness import ADMIN, APPROVER, BOB, CHEN, MARIA, message_text
from tests.e2e.modal_form import form


@pytest.fixture(scope="module")
def serve(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServeProcess]:
    with module_bot(
        tmp_path_factory,
        "house-retries",
        REWARD_ALLOWANCE="0",
        REWARD_GIFT_MONTHLY_CAP="100000",
    ) as serve:
        yield serve


def again(serve: ServeProcess, body: bytes) -> list[httpx.Response]:
    """Three copies at once (the repeats with X-Slack-Retry-Num), then, once the first
    delivery's work is done, one more without it: every ack, in order; the bot settled after
    them."""
    key = key_of(body)
    first = deliver(serve, body, times=3, together=True)
    serve.wait_until(lambda: [s for _, s, _, _ in journal(serve, key)] == ["done"], every=0.05)
    late = post(serve, body)  # a repeat without X-Slack-Retry-Num
    serve.settle()
    return [*first, late]


def key_of(body: bytes) -> str:
    """The journal's key of a request (what Slack gives once)."""
    fields = dict(parse_qsl(body.decode()))
    key = request_key(json.loads(fields["payload"]) if "payload" in fields else fields)
    assert key is not None
    return key


def same_acks(responses: list[httpx.Response]) -> dict:
    acks = [ack_of(r) for r in responses]
    assert all(a == acks[0] for a in acks), acks
    return acks[0]


def entry(serve: ServeProcess, key: str) -> None:
    """The request is in the journal once, finished once."""
    assert journal(serve, key) == [(key, "done", "done", 0)]


# ── commands ─────────────────────────────────────────────────────────────────────────────


def test_a_command_gives_once_and_answers_once(serve: ServeProcess) -> None:
    body, key = command_body(serve, f"<@{MARIA}> 3 retried give")
    assert same_acks(again(serve, body)) == {}
    assert len(rewards_citing(serve, "retried give")) == 1
    assert paid_for(serve, "retried give") == 1
    assert len(serve.fake.responses(key)) == 1  # the one answer after the ack
    entry(serve, key_of(body))


def test_a_command_that_asks_first_asks_once(serve: ServeProcess) -> None:
    short = give_sent(serve, "retried cancel question")
    body, key = command_body(serve, f"cancel {short} asked twice", user=ADMIN)
    assert same_acks(again(serve, body)) == {}
    asked = [message_text(r["body"]) for r in serve.fake.responses(key)]
    assert len(asked) == 1 and short in asked[0]


# ── forms ────────────────────────────────────────────────────────────────────────────────


def test_a_reward_form_gives_once_and_tells_once(serve: ServeProcess) -> None:
    view = reward_modal(serve, BOB)
    values = form(recipients=[MARIA], amount="6", citation="retried form")
    body = submission_body(serve, user=BOB, view=view, values=values)
    assert same_acks(again(serve, body)) == {}  # the form closes, every time
    [(short, _)] = rewards_citing(serve, "retried form")
    assert paid_for(serve, "retried form") == 1
    assert len(texts(serve, BOB, "Sending *6 points*")) <= 1  # (see the test below)
    assert len([t for t in texts(serve, BOB, short) if "Sent!" in t]) == 1
    entry(serve, key_of(body))


def test_a_reward_form_delivered_twice_at_once_tells_its_giver_it_is_on_its_way(
    serve: ServeProcess,
) -> None:
    giver = "UFORM001"
    serve.fake.workspace.add_user(
        id=giver, name="form", real_name="Form Giver", email="f@acme.test"
    )
    view = reward_modal(serve, giver)
    values = form(recipients=[MARIA], amount="8", citation="a form sent twice at once")
    body = submission_body(serve, user=giver, view=view, values=values)
    # the first delivery waits a second for the giver's profile; the repeat arrives meanwhile
    serve.fake.slow_next("users.info", seconds=1.0)
    with ThreadPoolExecutor(max_workers=1) as pool:
        first = pool.submit(post, serve, body)
        serve.wait_until(lambda: serve.fake.held("users.info") == 1, every=0.01)
        repeat = post(serve, body, retry=1)
        assert ack_of(first.result()) == ack_of(repeat) == {}
    serve.settle()
    assert len(rewards_citing(serve, "a form sent twice at once")) == 1
    assert len(texts(serve, giver, "Sending *8 points*")) == 1


def test_a_reject_reason_rejects_once_and_tells_the_giver_once(serve: ServeProcess) -> None:
    short, request = give_big(serve, "retried rejection")
    view = reject_modal(serve, short, request)
    body = submission_body(serve, user=APPROVER, view=view, values=reason("not this one"))
    again(serve, body)
    assert status_of(serve, short) == "rejected"
    assert len([t for t in texts(serve, BOB, short) if "didn't approve" in t]) == 1


def test_a_reject_reason_delivered_again_is_acknowledged_as_the_first(serve: ServeProcess) -> None:
    short, request = give_big(serve, "retried rejection ack")
    view = reject_modal(serve, short, request)
    body = submission_body(serve, user=APPROVER, view=view, values=reason("nope"))
    assert same_acks(again(serve, body)) == {}


def test_a_link_form_makes_one_link(serve: ServeProcess) -> None:
    view = link_form(serve)
    day = (date.today() + timedelta(days=40)).isoformat()
    before = len(sandbox_calls(serve, "generateLink"))
    body = submission_body(serve, user=ADMIN, view=view, values=link_values(MARIA, day))
    admin, maria = Told(serve, ADMIN), Told(serve, MARIA)
    assert same_acks(again(serve, body)) == {}
    assert len(sandbox_calls(serve, "generateLink")) == before + 1
    assert [t for t in admin.since() if "reward link" in t] == admin.since()
    assert len(admin.since()) == 1 and len(maria.since()) == 1
    entry(serve, key_of(body))


def test_a_gift_form_orders_once(serve: ServeProcess) -> None:
    view, values = gift_form(serve, "retried gift")
    body = submission_body(serve, user=ADMIN, view=view, values=values)
    admin, maria = Told(serve, ADMIN), Told(serve, MARIA)
    assert same_acks(again(serve, body)) == {}
    [(po_number, _)] = orders_noted(serve, "retried gift")
    assert [t.split()[1] for t in admin.since()] == ["Ordering", "Sent:"]  # each said once
    assert len(maria.since()) == 1 and "sent you a gift card" in maria.since()[0]
    placed = [
        c
        for c in sandbox_calls(serve, "placeOrder")
        if c["variables"]["data"].get("poNumber") == po_number
    ]
    assert len(placed) == 1
    entry(serve, key_of(body))


# ── clicks and shortcuts ─────────────────────────────────────────────────────────────────


def test_an_approval_decides_once_and_pays_once(serve: ServeProcess) -> None:
    short, request = give_big(serve, "retried approval")
    body, _ = click_body(
        serve, user=APPROVER, action=ActionId.APPROVE, value=short, message=request
    )
    approver = Told(serve, APPROVER)
    assert same_acks(again(serve, body)) == {}
    serve.wait_until(lambda: status_of(serve, short) == "sent")
    assert paid_for(serve, "retried approval") == 1
    assert len([t for t in texts(serve, BOB, short) if "approved your reward" in t]) == 1
    assert approver.since() == []  # their request shows the decision; nothing else is said
    entry(serve, key_of(body))


def test_a_reject_click_opens_one_form(serve: ServeProcess) -> None:
    short, request = give_big(serve, "retried reject click")
    body, _ = click_body(serve, user=APPROVER, action=ActionId.REJECT, value=short, message=request)
    approver = Told(serve, APPROVER)
    assert same_acks(again(serve, body)) == {}
    trigger = payload_of(body)["trigger_id"]
    assert len(opened_views(serve, "reject_reason_modal", trigger)) == 1
    assert approver.since() == []


def test_a_cancel_confirmation_cancels_once(serve: ServeProcess) -> None:
    short = give_sent(serve, "retried cancel", to=CHEN)
    question, button = cancel_question(serve, short, "sent by mistake")
    before = len(sandbox_calls(serve, "cancelBalance"))
    body, key = click_body(
        serve, user=ADMIN, action=ActionId.CANCEL_CONFIRM, value=button["value"], message=question
    )
    assert same_acks(again(serve, body)) == {}
    assert status_of(serve, short) == "cancelled"
    withdrawn = [c for c in sandbox_calls(serve, "cancelBalance")[before:] if c["status"] == 200]
    assert len(withdrawn) == 1
    assert len([t for t in serve.dm_texts(CHEN) if short in t and "were withdrawn" in t]) == 1
    assert key is not None and len(serve.fake.responses(key)) == 1  # the question answered once


def test_a_settle_click_settles_once(serve: ServeProcess) -> None:
    short, alert = in_doubt(serve, "retried settle")
    body, _ = click_body(serve, user=ADMIN, action=ActionId.SETTLE_SENT, value=short, message=alert)
    admin = Told(serve, ADMIN)
    assert same_acks(again(serve, body)) == {}
    assert status_of(serve, short) == "sent"
    settled = "SELECT id FROM audit_events WHERE action = 'reward.settled' AND subject_id = ?"
    assert len(serve.sql(settled, short)) == 1
    assert len([t for t in serve.dm_texts(MARIA) if "retried settle" in t]) == 1
    assert admin.since() == []  # every alert shows the settlement; nothing else is said


def test_a_shortcut_opens_one_form(serve: ServeProcess) -> None:
    ws = serve.fake.workspace
    trigger = ws.issue_trigger(CHEN)
    shortcut = payloads.global_shortcut(
        ws, user_id=CHEN, callback_id="send_reward", trigger_id=trigger
    )
    chen = Told(serve, CHEN)
    assert same_acks(again(serve, interaction(shortcut))) == {}
    assert len(opened_views(serve, "reward_modal", trigger)) == 1
    assert chen.since() == []
    entry(serve, key_of(interaction(shortcut)))


def test_send_a_reward_in_the_app_home_opens_one_form(serve: ServeProcess) -> None:
    ws = serve.fake.workspace
    trigger = ws.issue_trigger(MARIA)
    click = payloads.block_actions(
        ws,
        user_id=MARIA,
        actions=[
            payloads.action(
                action_id=ActionId.OPEN_REWARD_MODAL, block_id="home", value="", element=None
            )
        ],
        trigger_id=trigger,
        response_url=None,
        channel_id=None,
        message=None,
        view={"id": ws.new_id("V"), "type": "home", "blocks": []},
    )
    maria = Told(serve, MARIA)
    assert same_acks(again(serve, interaction(click))) == {}
    assert len(opened_views(serve, "reward_modal", trigger)) == 1
    assert maria.since() == []
