"""SIGKILL around a group reward on the real `rewardbot serve`, restarted on the same database
(SQLite and PostgreSQL): with the preview shown and nothing pressed (nothing is given; the
preview's Send still works after the restart), and after Send was pressed twice, the reward
given and paid but the giver not yet answered (the journal resumes both clicks: one reward, one
sendBalance, each member paid once)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from bot.simulators.fakeslack import FakeSlack
from tests.attacks.conftest import DATABASES, on_database
from tests.attacks.house import click_body, command_body, post, sandbox_calls
from tests.attacks.serve_process import ServeProcess
from tests.e2e.harness import BOB, actions_in, message_text

DESIGN = "<!subteam^S0DESIGN|@design-team>"
SEND = "group_send"


def the_preview(fake: FakeSlack) -> dict[str, Any] | None:
    shown = [e for e in fake.ephemerals(BOB) if SEND in actions_in(e)]
    return shown[-1] if shown else None


def send_value(preview: dict[str, Any]) -> str:
    return next(
        element["value"]
        for block in preview["blocks"]
        if block.get("type") == "actions"
        for element in block["elements"]
        if element.get("action_id") == SEND
    )


@pytest.mark.parametrize("backend", DATABASES)
def test_sigkill_around_a_group_reward_pays_each_member_once(
    request: pytest.FixtureRequest,
    make_serve: Callable[..., ServeProcess],
    fake: FakeSlack,
    backend: str,
) -> None:
    with on_database(request, make_serve, backend) as (serve, sql):
        serve.start()
        journal = serve.sql_intake if backend == "sqlite" else sql
        body, _ = command_body(serve, f"{DESIGN} 10 for the launch", user=BOB)
        assert post(serve, body).status_code == 200
        preview = serve.wait_until(lambda: the_preview(fake), timeout=60)
        assert "*2 people* × 10 points = *20 points* in all" in message_text(preview)
        serve.settle()

        # 1. Killed with the preview shown: nothing given, nothing sent.
        serve.kill()
        serve.start()
        serve.settle()
        assert sql("SELECT COUNT(*) FROM rewards") == [(0,)]
        assert sandbox_calls(serve, "sendBalance") == []

        # 2. Send pressed twice; killed once the reward is given and paid, before any answer.
        fake.slow_next("response_url", seconds=120)
        value = send_value(preview)
        first, first_key = click_body(serve, user=BOB, action=SEND, value=value, message=preview)
        second, second_key = click_body(serve, user=BOB, action=SEND, value=value, message=preview)
        assert post(serve, first).status_code == 200
        assert post(serve, second).status_code == 200
        serve.wait_until(lambda: fake.held("response_url") >= 1, timeout=60)
        serve.wait_until(lambda: sql("SELECT status FROM rewards") == [("sent",)], timeout=60)
        assert len(sandbox_calls(serve, "sendBalance")) == 1
        serve.kill()
        fake.clear_faults()
        serve.start()
        serve.wait_until(
            lambda: fake.responses(first_key) and fake.responses(second_key), timeout=60
        )
        serve.settle()

        assert sql("SELECT COUNT(*) FROM rewards") == [(1,)]
        assert sql("SELECT status, total_points FROM rewards") == [("sent", 20)]
        assert len(sandbox_calls(serve, "sendBalance")) == 1
        assert serve.sandbox.state.points_of("maria@acme.test") == 10
        assert serve.sandbox.state.points_of("chen@acme.test") == 10
        assert journal("SELECT COUNT(*) FROM intake WHERE state = 'pending'") == [(0,)]
        [short] = [row[0] for row in sql("SELECT short_id FROM rewards")]
        said = [message_text(r["body"]) for k in (first_key, second_key) for r in fake.responses(k)]
        assert said and all(f"`{short}`" in s for s in said)  # each click: the one reward
