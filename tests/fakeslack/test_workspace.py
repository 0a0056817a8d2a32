"""Workspace state: the demo team, JSON snapshots, modal stacks and concurrent use."""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.simulators.fakeslack import FakeSlack, Workspace

MODAL: dict[str, Any] = {
    "type": "modal",
    "callback_id": "m",
    "title": {"type": "plain_text", "text": "Step"},
    "blocks": [],
}


def test_demo_team_has_the_people_the_tests_rely_on() -> None:
    ws = Workspace.demo()
    assert ws.team["id"] == "T0001" and ws.team["name"] == "Acme"
    people = {u["id"]: u for u in ws.users()}
    assert people["UADMIN01"]["name"] == "ada" and people["UADMIN01"]["is_admin"] is True
    assert people["UADMIN01"]["profile"]["email"] == "ada@acme.test"
    assert people["UADMIN01"]["tz"] == "Europe/London"
    assert people["UAPPR001"]["name"] == "arthur"
    members = ("UMARIA01", "UBOB0001", "UCHEN001")
    assert [people[m]["name"] for m in members] == ["maria", "bob", "chen"]
    assert len({people[m]["tz"] for m in members}) == 3
    assert all(people[m]["profile"]["email"].endswith("@acme.test") for m in members)
    assert "email" not in people["UNOMAIL1"]["profile"]
    assert people["UGONE001"]["deleted"] is True
    assert people["UBOT0001"]["is_bot"] is True
    assert people["UREWARDB"]["is_bot"] is True and people["UREWARDB"]["name"] == "rewardbot"
    assert {c["id"]: c["name"] for c in ws.channels()} == {
        "C0GENERAL": "general",
        "C0KUDOS": "kudos",
    }


def test_snapshot_is_json_after_activity(fake: FakeSlack, client: WebClient) -> None:
    client.chat_postMessage(channel="UMARIA01", text="hi")
    client.chat_postEphemeral(channel="C0GENERAL", user="UBOB0001", text="psst")
    client.views_publish(user_id="UBOB0001", view={"type": "home", "blocks": []})
    client.files_upload_v2(content=b"\x00\xffbinary", filename="b.bin", channel="C0GENERAL")
    snapshot = json.loads(json.dumps(fake.workspace.snapshot()))
    assert snapshot["ims"] == {"UMARIA01": "DMARIA01"}
    assert snapshot["messages"][0]["text"] == "hi"
    assert snapshot["ephemerals"][0]["user"] == "UBOB0001"
    assert snapshot["homes"]["UBOB0001"] == snapshot["views"][0]["id"]
    assert snapshot["files"][0]["content_b64"] == "AP9iaW5hcnk="
    assert snapshot["version"] == fake.workspace.version


def test_concurrent_posts_get_unique_ordered_ts(fake: FakeSlack) -> None:
    def post(worker: int) -> list[str]:
        client = WebClient(base_url=fake.api_url, token="xoxb-fake", timeout=10)
        return [
            client.chat_postMessage(channel="C0KUDOS", text=f"{worker}-{i}")["ts"]
            for i in range(25)
        ]

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(post, range(8)))
    stamps = [ts for batch in results for ts in batch]
    stored = fake.messages("C0KUDOS")
    assert len(set(stamps)) == len(stored) == 200
    assert [m["ts"] for m in stored] == sorted(m["ts"] for m in stored)
    assert all(batch == sorted(batch) for batch in results)
    assert len(fake.calls_to("chat.postMessage")) == 200


def test_wait_changed_wakes_on_change() -> None:
    ws = Workspace.demo()
    seen = ws.version
    poster = threading.Timer(0.05, lambda: ws.post_message(channel="C0GENERAL", text="x"))
    poster.start()
    assert ws.wait_changed(seen, timeout=10) > seen
    poster.join()


def _open(ws: Workspace, user: str) -> dict[str, Any]:
    return ws.views.open(trigger_id=ws.issue_trigger(user), view=MODAL)


def test_submission_acks_move_the_modal_stack_like_slack() -> None:
    ws = Workspace.demo()
    first = _open(ws, "UMARIA01")
    pushed_view = dict(MODAL, callback_id="pushed")
    ws.views.apply_submission_ack(
        user_id="UMARIA01",
        view_id=first["id"],
        body={"response_action": "push", "view": pushed_view},
    )
    stack = ws.views.stack("UMARIA01")
    assert [v["callback_id"] for v in stack] == ["m", "pushed"]
    assert stack[1]["previous_view_id"] == first["id"]
    ws.views.apply_submission_ack(
        user_id="UMARIA01",
        view_id=stack[1]["id"],
        body={"response_action": "update", "view": dict(MODAL, callback_id="updated")},
    )
    assert [v["callback_id"] for v in ws.views.stack("UMARIA01")] == ["m", "updated"]
    ws.views.apply_submission_ack(user_id="UMARIA01", view_id=stack[1]["id"], body={})
    assert [v["id"] for v in ws.views.stack("UMARIA01")] == [first["id"]]
    ws.views.apply_submission_ack(
        user_id="UMARIA01", view_id=first["id"], body={"response_action": "clear"}
    )
    assert ws.views.stack("UMARIA01") == []


def test_push_is_limited_to_three_modals(client: WebClient, fake: FakeSlack) -> None:
    ws = fake.workspace
    _open(ws, "UBOB0001")
    for _ in range(2):
        client.views_push(trigger_id=ws.issue_trigger("UBOB0001"), view=MODAL)
    with pytest.raises(SlackApiError) as caught:
        client.views_push(trigger_id=ws.issue_trigger("UBOB0001"), view=MODAL)
    assert caught.value.response["error"] == "push_limit_reached"
    assert len(fake.modal_stack("UBOB0001")) == 3


def test_response_url_replaces_an_ephemeral_original(fake: FakeSlack) -> None:
    shown = fake.workspace.post_ephemeral(channel="C0GENERAL", user="UBOB0001", text="Confirm?")
    original = {"channel": "C0GENERAL", "ts": shown["ts"], "ephemeral": True}
    url = fake.response_url("eph", channel="C0GENERAL", user="UBOB0001", original=original)
    httpx.post(url, json={"replace_original": True, "text": "Confirmed"}, timeout=5)
    assert [e["text"] for e in fake.ephemerals("UBOB0001")] == ["Confirmed"]
    assert httpx.post(url, content=b"not json", timeout=5).status_code == 400
