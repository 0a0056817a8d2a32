"""The request gate of the real `rewardbot serve`: nothing unsigned has an effect, nothing
malformed or oversized causes a 500, and signed-but-odd payloads get a plain answer.

Every forged request here carries a response_url on the fake Slack and a real user id, so that
anything the bot does with an unsigned body would show up as a post to that URL or a DM.

The requests that must have no effect share one bot (`module_serve`): each test asserts that
nothing at all was posted, sent or recorded, so any effect, this test's or an earlier one's,
fails it. The two that send a reward have a bot of their own.
"""

from __future__ import annotations

import json
import time
from urllib.parse import parse_qsl, urlencode

import httpx
import pytest

from bot.simulators.fakeslack import sign_request
from tests.attacks.serve_process import ServeProcess
from tests.e2e.harness import BOB, MARIA, SIGNING_SECRET

FORM = "application/x-www-form-urlencoded"
JSON = "application/json"


@pytest.fixture
def serve(module_serve: ServeProcess) -> ServeProcess:
    return module_serve


def command_form(serve: ServeProcess, text: str, *, trigger: str = "1.2.forged") -> bytes:
    return urlencode(
        {
            "command": "/reward",
            "text": text,
            "user_id": BOB,
            "user_name": "bob",
            "team_id": "T0001",
            "channel_id": "C0GENERAL",
            "trigger_id": trigger,
            "response_url": serve.fake.response_url("forged", channel="C0GENERAL", user=BOB),
        }
    ).encode()


def signed(body: bytes, *, timestamp: int | None = None) -> dict[str, str]:
    return sign_request(signing_secret=SIGNING_SECRET, body=body, timestamp=timestamp)


def assert_no_effect(serve: ServeProcess) -> None:
    serve.settle()  # the bot has done all it would do after an ack
    assert serve.fake.responses() == [], "the bot posted to a response_url from a forged body"
    assert serve.fake.dms_to(BOB) == [], "the bot DMed the user id of a forged body"
    assert serve.statuses() == {}
    assert serve.sends() == []


def assert_calm_log(serve: ServeProcess) -> None:
    log = serve.logs()
    assert "Traceback" not in log, log
    assert "unexpected error" not in log, log


@pytest.mark.parametrize(
    "timestamp",
    ["abc", "", "1e9", "-1", "99999999999999999999999", "0x10", "1 2", "١٢٣".encode()],
    ids=["letters", "empty", "float", "negative", "huge", "hex", "spaces", "arabic-digits"],
)
def test_a_timestamp_that_is_not_a_number_is_a_401_and_nothing_happens(
    serve: ServeProcess, timestamp: str | bytes
) -> None:
    body = command_form(serve, f"<@{MARIA}> 100 forged")
    headers: dict[str, str | bytes] = {
        "Content-Type": FORM,
        "X-Slack-Request-Timestamp": timestamp,
        "X-Slack-Signature": "v0=" + "0" * 64,
    }
    response = serve.post(body, headers)
    assert response.status_code == 401
    assert_no_effect(serve)
    assert_calm_log(serve)


@pytest.mark.parametrize("case", ["missing", "wrong-secret", "stale", "future", "not-v0", "short"])
def test_every_signature_that_does_not_verify_is_a_401(serve: ServeProcess, case: str) -> None:
    body = command_form(serve, f"<@{MARIA}> 100 forged")
    headers = {"Content-Type": FORM}
    now = int(time.time())
    if case == "wrong-secret":
        headers.update(sign_request(signing_secret="not-the-secret", body=body))
    elif case == "stale":
        headers.update(signed(body, timestamp=now - 310))
    elif case == "future":
        headers.update(signed(body, timestamp=now + 310))
    elif case == "not-v0":
        headers.update(signed(body))
        headers["X-Slack-Signature"] = headers["X-Slack-Signature"].replace("v0=", "v1=")
    elif case == "short":
        headers.update(signed(body))
        headers["X-Slack-Signature"] = headers["X-Slack-Signature"][:20]
    assert serve.post(body, headers).status_code == 401
    assert_no_effect(serve)


MALFORMED: dict[str, tuple[str, bytes]] = {
    "open-brace": (JSON, b"{"),
    "json-array": (JSON, b"[1, 2, 3]"),
    "json-null": (JSON, b"null"),
    "deep-nesting": (JSON, b"[" * 100_000 + b"]" * 100_000),
    "payload-not-json": (FORM, b"payload=not+json"),
    "payload-null": (FORM, b"payload=null"),
    "payload-array": (FORM, b"payload=%5B%5D"),
    "payload-deep": (FORM, b"payload=" + b"%5B" * 50_000 + b"%5D" * 50_000),
    "not-utf8-form": (FORM, b"command=%2Freward&text=\xff\xfe\xfa"),
    "not-utf8-json": (JSON, b'{"type": "\xff\xfe"}'),
    "percent-not-utf8": (FORM, b"command=%2Freward&text=%FF%FE&user_id=UBOB0001"),
    "empty": (FORM, b""),
    "no-content-type": ("", b'{"type": "url_verification", "challenge": "x"}'),
}


@pytest.mark.parametrize("name", sorted(MALFORMED))
def test_unsigned_malformed_bodies_are_a_401_never_a_500(serve: ServeProcess, name: str) -> None:
    content_type, body = MALFORMED[name]
    headers = {"Content-Type": content_type} if content_type else {}
    headers.update({"X-Slack-Request-Timestamp": "abc", "X-Slack-Signature": "v0=00"})
    assert serve.post(body, headers).status_code == 401
    assert_no_effect(serve)
    assert_calm_log(serve)


@pytest.mark.parametrize("name", sorted(MALFORMED))
def test_signed_malformed_bodies_are_a_400_never_a_500(serve: ServeProcess, name: str) -> None:
    content_type, body = MALFORMED[name]
    headers = {"Content-Type": content_type} if content_type else {}
    headers.update(signed(body))
    response = serve.post(body, headers)
    assert response.status_code == 400, response.text
    assert response.json()["error"]
    assert_no_effect(serve)
    assert_calm_log(serve)


@pytest.mark.parametrize("signed_body", [True, False], ids=["signed", "unsigned"])
def test_an_oversized_body_is_a_413_before_it_is_read(
    serve: ServeProcess, signed_body: bool
) -> None:
    body = command_form(serve, f"<@{MARIA}> 100 " + "x" * (2 * 1024 * 1024))
    headers = {"Content-Type": FORM}
    if signed_body:
        headers.update(signed(body))
    assert serve.post(body, headers).status_code == 413
    assert_no_effect(serve)
    assert_calm_log(serve)


def test_an_oversized_chunked_body_without_a_length_is_a_413(serve: ServeProcess) -> None:
    body = command_form(serve, f"<@{MARIA}> 100 " + "x" * (2 * 1024 * 1024))
    headers = {"Content-Type": FORM, **signed(body)}

    def chunks():  # no Content-Length: the gate must count as it reads
        for start in range(0, len(body), 64 * 1024):
            yield body[start : start + 64 * 1024]

    with httpx.Client(timeout=10.0) as client:
        response = client.post(serve.events_url, content=chunks(), headers=headers)
    assert response.status_code == 413
    assert_no_effect(serve)


def interaction(payload: dict[str, object]) -> bytes:
    return urlencode({"payload": json.dumps(payload)}).encode()


ODD_PAYLOADS: dict[str, dict[str, object]] = {
    "actions-empty": {
        "type": "block_actions",
        "user": {"id": BOB, "team_id": "T0001"},
        "team": {"id": "T0001"},
        "trigger_id": "1.2.odd",
        "actions": [],
    },
    "actions-not-a-list": {
        "type": "block_actions",
        "user": {"id": BOB},
        "team": {"id": "T0001"},
        "actions": "approve",
    },
    "action-without-id": {
        "type": "block_actions",
        "user": {"id": BOB},
        "team": {"id": "T0001"},
        "actions": [{"value": "R2345"}],
    },
    "view-state-not-an-object": {
        "type": "view_submission",
        "user": {"id": BOB, "team_id": "T0001"},
        "team": {"id": "T0001"},
        "trigger_id": "1.2.odd",
        "view": {"id": "V1", "callback_id": "reward_modal", "state": "values"},
    },
    "view-not-an-object": {
        "type": "view_submission",
        "user": {"id": BOB},
        "team": {"id": "T0001"},
        "view": ["reward_modal"],
    },
    "user-not-an-object": {
        "type": "block_actions",
        "user": "UBOB0001",
        "team": {"id": "T0001"},
        "actions": [{"action_id": "approve_reward", "value": "R2345"}],
    },
    "team-a-string": {
        "type": "block_actions",
        "user": {"id": BOB},
        "team": "T0001",
        "actions": [{"action_id": "approve_reward", "value": "R2345"}],
    },
    "channel-a-string": {
        "type": "block_actions",
        "user": {"id": BOB},
        "channel": "C0GENERAL",
        "actions": [{"action_id": "approve_reward", "value": "R2345"}],
    },
    "container-a-list": {
        "type": "block_actions",
        "user": {"id": BOB},
        "container": ["message"],
        "actions": [{"action_id": "approve_reward", "value": "R2345"}],
    },
    "message-a-string": {
        "type": "block_actions",
        "user": {"id": BOB},
        "message": "hello",
        "actions": [{"action_id": "approve_reward", "value": "R2345"}],
    },
    "trigger-id-a-number": {
        "type": "block_actions",
        "user": {"id": BOB},
        "trigger_id": 12,
        "actions": [{"action_id": "approve_reward", "value": "R2345"}],
    },
    "trigger-id-huge": {
        "type": "block_actions",
        "user": {"id": BOB},
        "trigger_id": "1." * 5000,
        "actions": [{"action_id": "approve_reward", "value": "R2345"}],
    },
    "view-type-a-number": {
        "type": "view_submission",
        "user": {"id": BOB},
        "trigger_id": "1.2.odd",
        "view": {"id": "V1", "callback_id": "reward_modal", "type": 7, "state": {"values": {}}},
    },
    "view-state-block-a-string": {
        "type": "view_submission",
        "user": {"id": BOB},
        "trigger_id": "1.2.odd",
        "view": {"id": "V1", "callback_id": "reward_modal", "state": {"values": {"b": "x"}}},
    },
    "response-urls-a-number": {
        "type": "view_submission",
        "user": {"id": BOB},
        "trigger_id": "1.2.odd",
        "response_urls": 123,
        "view": {"id": "V1", "callback_id": "reward_modal", "state": {"values": {}}},
    },
    "view-id-huge": {
        "type": "view_submission",
        "user": {"id": BOB},
        "trigger_id": "1.2.odd",
        "view": {"id": "V" + "x" * 300, "callback_id": "reward_modal", "state": {"values": {}}},
    },
    "unknown-type": {"type": "teleport", "user": {"id": BOB}},
    "no-type": {"user": {"id": BOB}},
}


@pytest.mark.parametrize("name", sorted(ODD_PAYLOADS))
def test_signed_but_odd_payloads_get_a_plain_answer(serve: ServeProcess, name: str) -> None:
    body = interaction(ODD_PAYLOADS[name])
    response = serve.post(body, {"Content-Type": FORM, **signed(body)})
    assert response.status_code in (200, 400), response.text
    if response.status_code == 400:
        assert response.json()["error"]
    assert_no_effect(serve)
    assert_calm_log(serve)


def test_a_signed_command_still_works_after_all_that(make_serve) -> None:
    serve: ServeProcess = make_serve()
    for name in sorted(MALFORMED):
        content_type, body = MALFORMED[name]
        serve.post(body, {"Content-Type": content_type or FORM})
    serve.driver.command(f"<@{MARIA}> 10 thanks for the gate", user_id=BOB)
    serve.wait(lambda: any("10" in t for t in serve.dm_texts(MARIA)))
    assert len(serve.sends()) == 1


def test_a_command_whose_text_says_payload_is_not_lost(make_serve) -> None:
    serve: ServeProcess = make_serve()
    # Bolt's own body parser reads any form containing "payload" as an empty request.
    response = serve.driver.command(
        f"<@{MARIA}> 10 for the payload=work on the release", user_id=BOB
    )
    assert response.status_code == 200
    serve.wait(lambda: any("payload=work" in t for t in serve.dm_texts(MARIA)))
    assert len(serve.sends()) == 1


@pytest.mark.parametrize("missing", ["trigger_id", "response_url"])
def test_a_signed_command_without_what_slack_always_sends_is_a_400(
    serve: ServeProcess, missing: str
) -> None:
    fields = dict(parse_qsl(command_form(serve, f"<@{MARIA}> 10 half a command").decode()))
    del fields[missing]
    body = urlencode(fields).encode()
    response = serve.post(body, {"Content-Type": FORM, **signed(body)})
    assert response.status_code == 400
    assert missing in response.json()["error"]
    assert_no_effect(serve)
    assert_calm_log(serve)


@pytest.mark.parametrize("user", [123, True, ["UBOB0001"]])
def test_a_signed_event_with_an_odd_user_is_acked_and_ignored(
    serve: ServeProcess, user: object
) -> None:
    """Slack turns off event delivery for an app whose endpoint keeps failing: a signed event
    of a shape Slack never sends is answered 200, and nothing is done with it."""
    event = {
        "type": "event_callback",
        "team_id": "T0001",
        "event_id": "Ev1",
        "event": {"type": "app_home_opened", "user": user, "tab": "home"},
    }
    body = json.dumps(event).encode()
    response = serve.post(body, {"Content-Type": "application/json", **signed(body)})
    assert response.status_code == 200
    assert_no_effect(serve)
    assert_calm_log(serve)
