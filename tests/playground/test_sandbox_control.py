"""The page's sandbox control over HTTP: each named fault becomes the sandbox's own fault on the
calls picked, for as long as picked; the page reads them back in the same words, whoever set
them; and a lost answer set from the page leaves a reward in doubt."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from bot.simulators.playground import sandbox_control
from bot.simulators.playground.server import Playground
from bot.simulators.plum_sandbox import Faults, FaultSpec
from bot.simulators.plum_sandbox.faults import OPERATIONS
from tests.e2e.harness import ADMIN, BOB, message_text


def poll(probe: Callable[[], bool], *, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not probe():
        assert time.monotonic() < deadline, "not within the time"
        time.sleep(0.05)


def call(playground: Playground, path: str, **body: Any) -> httpx.Response:
    return httpx.post(f"{playground.url}{path.lstrip('/')}", json=body, timeout=10)


@pytest.mark.parametrize(
    ("preset", "expected", "said"),
    [
        ("lost", FaultSpec(drop_after_apply=True, count=1), "a lost answer"),
        ("refuse", FaultSpec(error="PLE10001", count=1), "a refusal (PLE10001)"),
        ("slow", FaultSpec(latency_ms=5000, count=1), "slow (+5 s)"),
        ("outage", FaultSpec(error="503", count=1), "an outage (503)"),
        ("rate_limit", FaultSpec(error="rate_limit:30", count=1), "rate limit (429)"),
        ("ip", FaultSpec(error="PIPE10017", count=1), "IP not allow-listed"),
    ],
)
def test_each_fault_is_the_sandboxs_own_on_the_next_send(
    preset: str, expected: FaultSpec, said: str
) -> None:
    faults = Faults()
    sandbox_control.apply(faults, preset=preset, target="sendBalance", times="1")
    assert faults.get("sendBalance") == expected
    assert faults.get("getBalance") is None
    [active] = sandbox_control.describe(faults)
    assert (active.calls, active.what, active.until) == ("Sending points", said, "the next call")


def test_every_call_until_cleared_and_clearing() -> None:
    faults = Faults()
    sandbox_control.apply(faults, preset="outage", target="*", times="")
    assert all(faults.get(op) == FaultSpec(error="503") for op in OPERATIONS)
    [active] = sandbox_control.describe(faults)
    assert (active.calls, active.until) == ("Every call", "until cleared")
    faults.decide("sendBalance")  # a call: "until cleared" stays
    assert faults.get("sendBalance") == FaultSpec(error="503")
    sandbox_control.clear(faults, list(active.operations))
    assert sandbox_control.describe(faults) == []


def test_a_fault_on_sending_over_one_on_every_call() -> None:
    faults = Faults()
    sandbox_control.apply(faults, preset="outage", target="*", times="")
    sandbox_control.apply(faults, preset="lost", target="sendBalance", times="3")
    described = [(a.calls, a.what, a.until) for a in sandbox_control.describe(faults)]
    assert described == [
        ("Sending points", "a lost answer", "the next 3 calls"),
        ("Every call but sending points", "an outage (503)", "until cleared"),
    ]


def test_faults_set_elsewhere_read_back_in_the_same_words() -> None:
    faults = Faults()
    faults.update({"latency_ms": 250, "operations": {"getBalance": {"hang": True, "count": 3}}})
    described = [(a.calls, a.what, a.until) for a in sandbox_control.describe(faults)]
    assert described == [
        ("The account balance", "no answer at all", "the next 3 calls"),
        ("Every call", "slow (+0.25 s)", "until cleared"),
    ]
    sandbox_control.clear(faults, ["getBalance"])
    assert [a.what for a in sandbox_control.describe(faults)] == ["slow (+0.25 s)"]
    sandbox_control.clear(faults, ["*"])
    assert sandbox_control.describe(faults) == [] and faults.latency_ms == 0


@pytest.mark.parametrize(
    "body",
    [
        {"fault": "explode"},
        {"fault": "lost", "target": "placeOrder"},
        {"fault": "lost", "times": "7"},
    ],
)
def test_what_the_control_does_not_offer_is_refused(playground: Playground, body: dict) -> None:
    answer = call(playground, "/ui/sandbox/faults", **{"as": ADMIN, **body})
    assert answer.status_code == 400 and answer.json()["error"]
    assert playground.sandbox is not None
    assert playground.sandbox.faults.to_json()["operations"] == {}


def test_the_page_sets_reads_and_clears_faults(playground: Playground) -> None:
    assert call(playground, "/ui/sandbox/faults", fault="lost").status_code == 403  # who?
    before = playground.version()
    answer = call(
        playground, "/ui/sandbox/faults", **{"as": ADMIN, "fault": "ip", "target": "*", "times": ""}
    )
    assert answer.status_code == 200, answer.text
    assert playground.version() != before  # open pages redraw
    shown = httpx.get(f"{playground.url}ui/sandbox", timeout=10).json()["faults"]
    assert [(f["calls"], f["what"], f["until"]) for f in shown] == [
        ("Every call", "IP not allow-listed", "until cleared")
    ]
    pane = httpx.get(
        f"{playground.url}ui/pane", params={"as": ADMIN, "view": "sandbox"}, timeout=10
    ).json()["main"]
    assert "IP not allow-listed · until cleared" in pane
    cleared = call(playground, "/ui/sandbox/faults/clear", **{"as": ADMIN})
    assert cleared.status_code == 200
    assert httpx.get(f"{playground.url}ui/sandbox", timeout=10).json()["faults"] == []
    assert (
        call(
            playground, "/ui/sandbox/faults/clear", **{"as": ADMIN, "operations": "sendBalance"}
        ).status_code
        == 400
    )


def test_a_lost_answer_set_from_the_page_leaves_the_next_reward_in_doubt(
    playground: Playground,
) -> None:
    assert (
        call(playground, "/ui/sandbox/faults", **{"as": ADMIN, "fault": "lost"}).status_code == 200
    )
    sent = call(
        playground, "/ui/send", **{"as": BOB, "view": "C0GENERAL", "text": "/reward @maria 40 x"}
    )
    assert sent.status_code == 200, sent.text
    alert = playground.fake.wait_for(
        lambda: [m for m in playground.fake.dms_to(ADMIN) if "in doubt" in message_text(m)],
        timeout=10,
    )
    assert "It was sent" in str(alert[-1]["blocks"])
    assert playground.sandbox is not None
    assert playground.sandbox.state.points_of("maria@acme.test") == 40  # it did go
    assert playground.sandbox_json()["faults"] == []  # type: ignore[index]  # one call only


def test_unreachable_refuses_every_connection_until_cleared() -> None:
    faults = Faults()
    sandbox_control.apply(faults, preset="unreachable", target="sendBalance", times="1")
    assert faults.unreachable  # the whole sandbox, whatever the target and the count
    assert all(faults.get(op) is None for op in OPERATIONS)
    [active] = sandbox_control.describe(faults)
    assert (active.calls, active.what, active.until) == (
        "Every call",
        "unreachable (connections refused)",
        "until cleared",
    )
    sandbox_control.clear(faults, list(active.operations))
    assert not faults.unreachable and sandbox_control.describe(faults) == []


def test_unreachable_from_the_page_delays_the_reward_and_it_goes_once_when_cleared(
    playground: Playground,
) -> None:
    """Beside "outage" (a 503, which proves nothing): a refused connection proves nothing
    reached Xoxoday, so the reward waits, and nobody is asked to settle anything."""
    answer = call(playground, "/ui/sandbox/faults", **{"as": ADMIN, "fault": "unreachable"})
    assert answer.status_code == 200, answer.text
    sandbox = playground.sandbox
    assert sandbox is not None
    poll(lambda: not sandbox.reachable, timeout=10)
    sent = call(
        playground, "/ui/send", **{"as": BOB, "view": "C0GENERAL", "text": "/reward @maria 40 x"}
    )
    assert sent.status_code == 200, sent.text
    playground.fake.wait_for(
        lambda: [m for m in playground.fake.dms_to(BOB) if "delayed" in message_text(m)],
        timeout=20,
    )
    assert sandbox.state.points_of("maria@acme.test") == 0
    assert call(playground, "/ui/sandbox/faults/clear", **{"as": ADMIN}).status_code == 200
    poll(lambda: sandbox.state.points_of("maria@acme.test") == 40, timeout=60)
    assert not [m for m in playground.fake.dms_to(ADMIN) if "in doubt" in message_text(m)]
