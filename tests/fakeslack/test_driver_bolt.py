"""SlackDriver against a small real Bolt app served by uvicorn on loopback.

Bolt verifies every signature, so each accepted request proves the driver signs like Slack; the
app talks back to the FakeSlack with slack_sdk, so the round trip is the one the bot will make.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import pytest
from slack_bolt import App
from slack_bolt.adapter.starlette import SlackRequestHandler
from slack_sdk import WebClient
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bot.simulators.fakeslack import FakeSlack, SlackDriver, sign_request
from bot.simulators.fakeslack.server import ServerThread

SECRET = "test-signing-secret"
TOKEN = "xoxb-fake"

REWARD_MODAL = {
    "type": "modal",
    "callback_id": "reward_modal",
    "title": {"type": "plain_text", "text": "Send a reward"},
    "submit": {"type": "plain_text", "text": "Send"},
    "private_metadata": "C0KUDOS",
    "blocks": [
        {
            "type": "input",
            "block_id": "who",
            "label": {"type": "plain_text", "text": "Who"},
            "element": {"type": "users_select", "action_id": "user"},
        },
        {
            "type": "input",
            "block_id": "amount",
            "label": {"type": "plain_text", "text": "Points"},
            "element": {"type": "number_input", "action_id": "value", "is_decimal_allowed": False},
        },
    ],
}


def build_bolt_app(client: WebClient, seen: list[dict[str, Any]]) -> App:
    app = App(client=client, signing_secret=SECRET)

    @app.command("/reward")
    def reward(ack, command, respond, body, request) -> None:  # type: ignore[no-untyped-def]
        seen.append({"command": command, "retry": request.headers.get("x-slack-retry-num")})
        if command["text"] == "modal":
            ack()
            client.views_open(trigger_id=command["trigger_id"], view=REWARD_MODAL)
            return
        if command["text"] == "ask":
            ack()
            client.chat_postMessage(
                channel=command["channel_id"],
                text="Approve 600 points for maria?",
                blocks=[
                    {
                        "type": "actions",
                        "block_id": "approval",
                        "elements": [
                            {
                                "type": "button",
                                "action_id": "approve",
                                "text": {"type": "plain_text", "text": "Approve"},
                                "value": "reward-7",
                            }
                        ],
                    }
                ],
            )
            return
        if command["text"] == "help":
            ack(
                text="How to reward",
                blocks=[{"type": "section", "text": {"type": "mrkdwn", "text": "Type `/reward`"}}],
            )
            return
        if command["text"] == "shout":
            ack(text="Everyone: rewards are open", response_type="in_channel")
            return
        ack(f"Sending {command['text']}")
        respond(text="Done: reward sent", response_type="in_channel")
        client.chat_postMessage(channel=command["user_id"], text="You sent a reward")

    @app.action("approve")
    def approve(ack, body, respond) -> None:  # type: ignore[no-untyped-def]
        ack()
        seen.append({"action": body["actions"][0], "user": body["user"]["id"]})
        respond(replace_original=True, text=f"Approved by <@{body['user']['id']}>")

    @app.view("reward_modal")
    def submit(ack, view, body) -> None:  # type: ignore[no-untyped-def]
        values = view["state"]["values"]
        amount = values["amount"]["value"]["value"]
        seen.append({"view": view, "user": body["user"]["id"]})
        if not amount.isdigit() or int(amount) <= 0:
            ack(response_action="errors", errors={"amount": "Enter a whole number above 0"})
            return
        ack()
        client.chat_postMessage(
            channel=view["private_metadata"],
            text=f"<@{values['who']['user']['selected_user']}> got {amount} points",
        )

    @app.action("pick_value")
    def pick_value(ack, body, client) -> None:  # type: ignore[no-untyped-def]
        ack()
        seen.append({"action": body["actions"][0], "container": body["container"]})
        view = body["view"]
        client.views_update(
            view_id=view["id"],
            hash=view["hash"],
            view={
                "type": "modal",
                "callback_id": "values_modal",
                "title": {"type": "plain_text", "text": "Values"},
                "private_metadata": body["actions"][0]["selected_option"]["value"],
                "blocks": view["blocks"],
            },
        )

    @app.view_closed("values_modal")
    def closed(ack, body) -> None:  # type: ignore[no-untyped-def]
        ack()
        seen.append({"closed": body["view"]["id"], "cleared": body["is_cleared"]})

    @app.message_shortcut("reward_author")
    def reward_author(ack, shortcut, respond) -> None:  # type: ignore[no-untyped-def]
        ack()
        seen.append({"shortcut": shortcut})
        respond(text=f"Reward <@{shortcut['message']['user']}>?")

    @app.shortcut("give_reward")
    def shortcut(ack, shortcut) -> None:  # type: ignore[no-untyped-def]
        ack()
        client.views_open(trigger_id=shortcut["trigger_id"], view=REWARD_MODAL)

    @app.event("app_home_opened")
    def home(event) -> None:  # type: ignore[no-untyped-def]
        client.views_publish(
            user_id=event["user"],
            view={
                "type": "home",
                "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "Balance: 0"}}],
            },
        )

    return app


@pytest.fixture
def seen() -> list[dict[str, Any]]:
    return []


@pytest.fixture
def bot_url(fake: FakeSlack, seen: list[dict[str, Any]]) -> Iterator[str]:
    client = WebClient(base_url=fake.api_url, token=TOKEN, timeout=5)
    handler = SlackRequestHandler(build_bolt_app(client, seen))

    async def events(request: Request) -> Response:
        return await handler.handle(request)

    server = ServerThread(
        Starlette(routes=[Route("/slack/events", events, methods=["POST"])]), name="bolt"
    ).start()
    try:
        yield f"{server.url}slack/events"
    finally:
        server.stop()


@pytest.fixture
def driver(fake: FakeSlack, bot_url: str) -> Iterator[SlackDriver]:
    with SlackDriver(bot_url=bot_url, signing_secret=SECRET, fake=fake) as running:
        yield running


def test_bolt_verified_its_token_against_the_fake(fake: FakeSlack, driver: SlackDriver) -> None:
    assert fake.calls_to("auth.test")[0]["token_ok"] is True


def test_command_is_accepted_and_round_trips(
    fake: FakeSlack, driver: SlackDriver, seen: list[dict[str, Any]]
) -> None:
    response = driver.command("<@UMARIA01> 50 for the launch", user_id="UBOB0001")
    assert response.status_code == 200
    assert response.text == "Sending <@UMARIA01> 50 for the launch"  # Bolt acks text as text
    command = seen[0]["command"]
    assert command["user_id"] == "UBOB0001" and command["user_name"] == "bob"
    assert command["channel_name"] == "general" and command["team_domain"] == "acme"
    assert command["response_url"].startswith(fake.root_url)
    # the ack is shown to the user as Slack shows it; the rest arrive over the Web API
    acked = fake.ephemerals("UBOB0001", source="ack")
    assert [e["text"] for e in acked] == ["Sending <@UMARIA01> 50 for the launch"]
    fake.wait_for(lambda: fake.dms_to("UBOB0001") and fake.messages("C0GENERAL"))
    assert [m["text"] for m in fake.messages("C0GENERAL")] == ["Done: reward sent"]
    assert fake.responses(driver.last_response_key)[0]["body"]["response_type"] == "in_channel"
    assert [m["text"] for m in fake.dms_to("UBOB0001")] == ["You sent a reward"]


def test_trigger_ids_are_unique_and_retry_headers_reach_bolt(
    driver: SlackDriver, seen: list[dict[str, Any]]
) -> None:
    driver.command("a", user_id="UMARIA01")
    driver.command("b", user_id="UMARIA01", retry_num=1)
    assert seen[0]["command"]["trigger_id"] != seen[1]["command"]["trigger_id"]
    assert [s["retry"] for s in seen] == [None, ["1"]]


def test_forged_and_stale_requests_get_401(
    fake: FakeSlack, driver: SlackDriver, seen: list[dict[str, Any]]
) -> None:
    body = urlencode({"command": "/reward", "text": "1000000", "user_id": "UMARIA01"}).encode()
    forged = sign_request(signing_secret="not-the-secret", body=body)
    forged["Content-Type"] = "application/x-www-form-urlencoded"
    assert driver.raw(body, forged).status_code == 401
    unsigned = {"Content-Type": "application/x-www-form-urlencoded"}
    assert driver.raw(body, unsigned).status_code == 401
    stale = driver.command("50", user_id="UMARIA01", timestamp=int(time.time()) - 600)
    assert stale.status_code == 401
    assert seen == [] and fake.ephemerals() == []


def test_button_click_replaces_the_original_message(
    fake: FakeSlack, driver: SlackDriver, seen: list[dict[str, Any]]
) -> None:
    driver.command("ask", user_id="UBOB0001", channel_id="C0KUDOS")
    [message] = fake.wait_for(lambda: fake.messages("C0KUDOS"))
    response = driver.block_action(
        user_id="UAPPR001", action_id="approve", value="reward-7", message=message
    )
    assert response.status_code == 200
    action = seen[-1]["action"]
    assert action["block_id"] == "approval" and action["value"] == "reward-7"
    assert seen[-1]["user"] == "UAPPR001"
    fake.wait_for(lambda: fake.messages("C0KUDOS")[0]["text"].startswith("Approved"))
    [replaced] = fake.messages("C0KUDOS")
    assert replaced["ts"] == message["ts"] and replaced["text"] == "Approved by <@UAPPR001>"


def test_modal_errors_then_submits(
    fake: FakeSlack, driver: SlackDriver, seen: list[dict[str, Any]]
) -> None:
    driver.command("modal", user_id="UMARIA01")
    [view] = fake.wait_for(lambda: fake.modal_stack("UMARIA01"))
    assert view["callback_id"] == "reward_modal"

    def values(amount: str) -> dict[str, Any]:
        return {
            "who": {"user": {"type": "users_select", "selected_user": "UCHEN001"}},
            "amount": {"value": {"type": "number_input", "value": amount}},
        }

    bad = driver.view_submission(user_id="UMARIA01", view=view, values=values("-5"))
    assert bad.json() == {
        "response_action": "errors",
        "errors": {"amount": "Enter a whole number above 0"},
    }
    [still_open] = fake.modal_stack("UMARIA01")
    assert still_open["errors"] == {"amount": "Enter a whole number above 0"}
    assert seen[-1]["view"]["private_metadata"] == "C0KUDOS"

    good = driver.view_submission(user_id="UMARIA01", view=view, values=values("50"))
    assert good.status_code == 200 and good.content == b""
    assert fake.modal_stack("UMARIA01") == []
    assert fake.wait_for(lambda: fake.messages("C0KUDOS"))[0]["text"] == "<@UCHEN001> got 50 points"


def test_global_shortcut_opens_a_modal(fake: FakeSlack, driver: SlackDriver) -> None:
    assert driver.shortcut(user_id="UCHEN001", callback_id="give_reward").status_code == 200
    [view] = fake.wait_for(lambda: fake.modal_stack("UCHEN001"))
    assert view["title"]["text"] == "Send a reward"


def test_events_reach_bolt(fake: FakeSlack, driver: SlackDriver) -> None:
    response = driver.app_home_opened(user_id="UMARIA01")
    assert response.status_code == 200
    home = fake.wait_for(lambda: fake.home("UMARIA01"))
    assert home["blocks"][0]["text"]["text"] == "Balance: 0"
    challenge = driver.url_verification("3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P")
    assert challenge.json() == {"challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"}


def test_event_envelope_shape(fake: FakeSlack, driver: SlackDriver) -> None:
    captured: list[bytes] = []
    original = driver._client.post

    def spy(url: str, *, content: bytes, headers: dict[str, str]) -> Any:
        captured.append(content)
        return original(url, content=content, headers=headers)

    driver._client.post = spy  # type: ignore[method-assign]
    driver.event({"type": "app_mention", "user": "UBOB0001", "text": "hi"}, event_id="Ev1")
    envelope = json.loads(captured[0])
    assert envelope["type"] == "event_callback" and envelope["event_id"] == "Ev1"
    assert envelope["team_id"] == "T0001" and envelope["api_app_id"] == "A0001"
    assert envelope["authorizations"][0]["user_id"] == "UREWARDB"


def test_ack_with_blocks_or_in_channel_is_shown_like_slack(
    fake: FakeSlack, driver: SlackDriver
) -> None:
    driver.command("help", user_id="UCHEN001", channel_id="C0KUDOS")
    [help_message] = fake.ephemerals("UCHEN001", source="ack")
    assert help_message["text"] == "How to reward"
    assert help_message["blocks"][0]["text"]["text"] == "Type `/reward`"
    assert help_message["channel"] == "C0KUDOS"
    driver.command("shout", user_id="UCHEN001", channel_id="C0KUDOS")
    [shout] = fake.messages("C0KUDOS")
    assert shout["text"] == "Everyone: rewards are open" and shout["source"] == "ack"


def test_select_in_a_modal_then_close_it(
    fake: FakeSlack, driver: SlackDriver, seen: list[dict[str, Any]]
) -> None:
    values_modal = {
        "type": "modal",
        "callback_id": "values_modal",
        "notify_on_close": True,
        "title": {"type": "plain_text", "text": "Values"},
        "blocks": [
            {
                "type": "section",
                "block_id": "pick",
                "text": {"type": "mrkdwn", "text": "Pick a value"},
                "accessory": {
                    "type": "static_select",
                    "action_id": "pick_value",
                    "options": [
                        {"text": {"type": "plain_text", "text": "Teamwork"}, "value": "teamwork"}
                    ],
                },
            }
        ],
    }
    trigger = fake.workspace.issue_trigger("UBOB0001")
    WebClient(base_url=fake.api_url, token=TOKEN).views_open(trigger_id=trigger, view=values_modal)
    [view] = fake.modal_stack("UBOB0001")
    option = {"text": {"type": "plain_text", "text": "Teamwork"}, "value": "teamwork"}
    response = driver.block_action(
        user_id="UBOB0001",
        action_id="pick_value",
        value={"selected_option": option},
        view=view,
    )
    assert response.status_code == 200
    assert seen[-1]["action"]["type"] == "static_select"
    assert seen[-1]["action"]["block_id"] == "pick"
    assert seen[-1]["container"] == {"type": "view", "view_id": view["id"]}
    [updated] = fake.wait_for(
        lambda: [v for v in fake.modal_stack("UBOB0001") if v["private_metadata"] == "teamwork"]
    )
    assert updated["id"] == view["id"]
    assert driver.view_closed(user_id="UBOB0001", view=updated).status_code == 200
    assert seen[-1] == {"closed": view["id"], "cleared": False}
    assert fake.modal_stack("UBOB0001") == []


def test_message_shortcut_responds_in_place(
    fake: FakeSlack, driver: SlackDriver, seen: list[dict[str, Any]]
) -> None:
    message = fake.workspace.post_message(channel="C0GENERAL", text="Shipped it!", user="UMARIA01")
    response = driver.message_shortcut(
        user_id="UBOB0001", callback_id="reward_author", channel_id="C0GENERAL", message=message
    )
    assert response.status_code == 200
    shortcut = seen[-1]["shortcut"]
    assert shortcut["message_ts"] == message["ts"] and shortcut["channel"]["name"] == "general"
    [shown] = fake.wait_for(lambda: fake.ephemerals("UBOB0001", source="response_url"))
    assert shown["text"] == "Reward <@UMARIA01>?" and shown["channel"] == "C0GENERAL"
