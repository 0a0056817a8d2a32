"""Reaction events against the real `rewardbot serve`: forged, stale, malformed, oversized and
other teams' events have no effect and never a 5xx; SIGKILL between the ack and the hold's
release, then a restart: the reaction gift is paid once, and not before its window."""

from __future__ import annotations

import json
import time
from collections.abc import Callable

import pytest

from bot.simulators.fakeslack import payloads, sign_request
from tests.attacks.conftest import DATABASES, on_database
from tests.attacks.serve_process import ServeProcess
from tests.e2e.harness import BOB, MARIA, SIGNING_SECRET

JSON = "application/json"
UNDO = 3  # seconds


def signed(body: bytes, *, timestamp: int | None = None) -> dict[str, str]:
    return sign_request(signing_secret=SIGNING_SECRET, body=body, timestamp=timestamp)


def message_by_maria(serve: ServeProcess) -> str:
    posted = serve.fake.workspace.post_message(channel="C0GENERAL", text="the demo", user=MARIA)
    return str(posted["ts"])


def reaction_body(serve: ServeProcess, ts: str, *, team: str = "T0001") -> bytes:
    ws = serve.fake.workspace
    event = payloads.reaction(
        added=True,
        user_id=BOB,
        channel_id="C0GENERAL",
        ts=ts,
        name="taco",
        item_user=MARIA,
        event_ts=ws.new_ts(),
    )
    envelope = payloads.event_callback(ws, event, event_id=ws.new_id("Ev"))
    envelope["team_id"] = team
    return json.dumps(envelope).encode()


def nothing_happened(serve: ServeProcess) -> None:
    serve.settle()
    assert serve.statuses() == {}
    assert serve.sends() == []
    assert serve.fake.calls_to("chat.getPermalink") == []
    assert serve.fake.ephemerals(BOB) == [] and serve.fake.dms_to(BOB) == []


def test_forged_stale_malformed_oversized_and_foreign_events_do_nothing(
    make_serve: Callable[..., ServeProcess],
) -> None:
    serve = make_serve(REWARD_REACTIONS="taco=5", REWARD_UNDO_SECONDS=str(UNDO))
    ts = message_by_maria(serve)
    body = reaction_body(serve, ts)

    unsigned = serve.post(body, {"Content-Type": JSON})
    forged = serve.post(
        body,
        {"Content-Type": JSON, **sign_request(signing_secret="not-the-secret", body=body)},
    )
    stale = serve.post(
        body, {"Content-Type": JSON, **signed(body, timestamp=int(time.time()) - 3600)}
    )
    assert [r.status_code for r in (unsigned, forged, stale)] == [401, 401, 401]

    broken = b'{"type": "event_callback", "event": {"type": "reaction_added"'
    assert serve.post(broken, {"Content-Type": JSON, **signed(broken)}).status_code == 400

    huge = json.dumps({"type": "event_callback", "pad": "x" * (1024 * 1024)}).encode()
    assert serve.post(huge, {"Content-Type": JSON, **signed(huge)}).status_code == 413

    odd = json.loads(body)
    odd["event"]["item"] = "C0GENERAL"  # not an object
    odd["event_id"] = "Ev0DD"
    odd_body = json.dumps(odd).encode()
    assert serve.post(odd_body, {"Content-Type": JSON, **signed(odd_body)}).status_code == 200

    foreign = reaction_body(serve, ts, team="T0THERS1")
    assert serve.post(foreign, {"Content-Type": JSON, **signed(foreign)}).status_code == 200

    unknown = json.dumps(
        {
            "type": "event_callback",
            "team_id": "T0001",
            "event_id": "Ev0NKNWN",
            "event": {"type": "pin_added", "user": BOB},
        }
    ).encode()
    assert serve.post(unknown, {"Content-Type": JSON, **signed(unknown)}).status_code == 200

    nothing_happened(serve)
    log = serve.logs()
    assert "Traceback" not in log, log


@pytest.mark.parametrize("backend", DATABASES)
def test_killed_while_a_reaction_gift_is_held_it_is_paid_once_after_the_window(
    request: pytest.FixtureRequest, make_serve: Callable[..., ServeProcess], backend: str
) -> None:
    settings = {"REWARD_REACTIONS": "taco=5", "REWARD_UNDO_SECONDS": str(UNDO)}
    with on_database(request, make_serve, backend, **settings) as (serve, sql):
        serve.start()

        def statuses() -> dict[str, int]:
            return dict(sql("SELECT status, COUNT(*) FROM rewards GROUP BY status"))

        ts = message_by_maria(serve)
        reacted = serve.driver.react(user_id=BOB, channel_id="C0GENERAL", ts=ts, name="taco")
        assert reacted.status_code == 200
        serve.wait_until(lambda: statuses() == {"queued": 1} or None)
        serve.kill()  # acked and held: nothing sent yet
        assert serve.sends() == []

        serve.start()
        serve.wait_until(lambda: statuses() == {"sent": 1} or None, timeout=60)
        time.sleep(0.5)
        assert len(serve.sends()) == 1
        assert serve.sandbox.state.points_of("maria@acme.test") == 5
        [(late,)] = sql(
            "SELECT COUNT(*) FROM rewards WHERE held_until IS NOT NULL AND sent_at >= held_until"
        )
        assert late == 1  # not before its window


def test_killed_between_the_ack_and_the_work_the_reaction_still_gives_once(
    make_serve: Callable[..., ServeProcess],
) -> None:
    serve = make_serve(REWARD_REACTIONS="taco=5", REWARD_UNDO_SECONDS=str(UNDO))
    ts = message_by_maria(serve)
    serve.fake.slow_next("chat.getPermalink", seconds=30)  # the work waits there
    response = serve.driver.react(user_id=BOB, channel_id="C0GENERAL", ts=ts, name="taco")
    assert response.status_code == 200  # acked (journaled first)
    serve.wait_until(lambda: serve.fake.held("chat.getPermalink") or None)
    serve.kill()
    assert serve.statuses() == {}
    serve.fake.clear_faults()

    serve.start()  # resumes the journaled event
    serve.wait_until(lambda: serve.statuses() == {"sent": 1} or None, timeout=60)
    serve.settle()
    assert len(serve.sends()) == 1
    assert serve.sandbox.state.points_of("maria@acme.test") == 5
    pending = serve.sql_intake("SELECT COUNT(*) FROM intake WHERE state = 'pending'")
    assert pending == [(0,)]


def test_a_message_gift_killed_while_held_is_paid_once_after_the_window(
    make_serve: Callable[..., ServeProcess],
) -> None:
    serve = make_serve(REWARD_UNDO_SECONDS=str(UNDO))
    _, answered = serve.driver.say(
        user_id=BOB, channel_id="C0GENERAL", text=f"<@{MARIA}> ++ 7 for the demo"
    )
    assert answered.status_code == 200
    serve.wait_until(lambda: serve.statuses() == {"queued": 1} or None)
    serve.kill()
    assert serve.sends() == []

    serve.start()
    serve.wait_until(lambda: serve.statuses() == {"sent": 1} or None, timeout=60)
    time.sleep(0.5)
    assert len(serve.sends()) == 1
    assert serve.sandbox.state.points_of("maria@acme.test") == 7
    [(source, held_until, sent_at)] = serve.sql("SELECT source, held_until, sent_at FROM rewards")
    assert source == "message" and held_until and sent_at >= held_until
