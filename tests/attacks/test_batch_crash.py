"""SIGKILL while rewards are out in one sendBalance call together, then a restart: every reward
is paid exactly once, none lost, none paid twice, and the ones the kill caught mid-call are
settled together from Xoxoday's payment report, never sent again blindly.

The bot is the real `rewardbot serve` process, sending up to 10 recipients a call
(`PLUM_SEND_BATCH_MAX`). Xoxoday is unreachable while the rewards are given, so they wait and
the first call after it answers carries many of them; that call never gets its answer (the
sandbox hangs), and the bot is killed while it waits. Either Xoxoday applied the call before
hanging (then the report shows each reward's payment: settled as sent) or it did not (the
report shows none, and later sends: sent again, once). Every reward is of the same amount, so
only reading the call's rewards together proves them: one by one, each row could be any of
them.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterator

import pytest

from bot.rewards.cards import SETTLED_BY_RECORDS
from bot.simulators.fakeslack import FakeSlack, Workspace
from tests.attacks.conftest import DATABASES, Query, on_database
from tests.attacks.serve_process import ServeProcess

REWARDS = 40
PEOPLE = [f"UBATCH{n:02d}" for n in range(1, 9)]


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    ws = Workspace.demo()
    for uid in PEOPLE:
        ws.add_user(
            id=uid, name=uid.lower(), real_name=f"Batch {uid[-2:]}", email=f"{uid}@acme.test"
        )
    with FakeSlack(workspace=ws) as fake:
        yield fake


@pytest.fixture(params=DATABASES)
def ledger(
    request: pytest.FixtureRequest, make_serve: Callable[..., ServeProcess]
) -> Iterator[tuple[ServeProcess, Query]]:
    rules = {
        "REWARD_ALLOWANCE": "0",
        "REWARD_APPROVAL_THRESHOLD": "1000000",
        "PLUM_SEND_BATCH_MAX": "10",
        # Settled from the payment report first (checked from 6 s in doubt), admins after 18 s.
        "REWARD_IN_DOUBT_ADMIN_MINUTES": "0.3",
    }
    with on_database(request, make_serve, request.param, **rules) as (serve, sql):
        yield serve, sql


def citation(i: int) -> str:
    return f"batch crash step {i:02d}"


@pytest.mark.parametrize("applied", [True, False], ids=["applied", "not-applied"])
def test_sigkill_mid_batch_pays_each_reward_exactly_once(
    ledger: tuple[ServeProcess, Query], fake: FakeSlack, applied: bool
) -> None:
    serve, sql = ledger
    sandbox = serve.sandbox
    serve.start()
    sandbox.faults.unreachable = True  # the rewards wait, and go out together
    for i in range(REWARDS):
        giver, to = PEOPLE[i % len(PEOPLE)], PEOPLE[(i + 1) % len(PEOPLE)]
        response = serve.driver.command(f"<@{to}> 5 {citation(i)}", user_id=giver)
        assert response.status_code == 200
    sandbox.faults.set("sendBalance", hang=True, apply_first=applied)  # never answered
    sandbox.faults.unreachable = False

    def in_flight() -> bool:
        if applied:
            return bool(sandbox.state.transactions())
        return bool(sql("SELECT COUNT(*) FROM rewards WHERE status = 'sending'")[0][0])

    serve.wait_until(in_flight, timeout=60, every=0.05)
    if not applied:
        time.sleep(1.0)  # claimed, then sent: the call waits at Xoxoday, unapplied
    serve.kill()
    caught = dict(sql("SELECT short_id, send_batch FROM rewards WHERE status = 'sending'"))
    sandbox.faults.clear()
    assert len(caught) > 1 and len(set(caught.values())) == 1  # one call, many rewards
    assert len(sandbox.state.transactions()) == (len(caught) if applied else 0)

    serve.start()  # the same database: what was in `sending` is now in doubt

    def done() -> bool:
        left = sql("SELECT COUNT(*) FROM rewards WHERE status IN ('queued', 'sending', 'in_doubt')")
        return left[0][0] == 0

    serve.wait_until(done, timeout=90, every=0.5)

    rows = sql("SELECT short_id, status, settled_by, send_batch FROM rewards")
    assert len(rows) == REWARDS
    assert {status for _, status, _, _ in rows} == {"sent"}
    # What Xoxoday holds: each reward's points exactly once, to the right person.
    paid = Counter(t.citation for t in sandbox.state.transactions())
    assert sorted(paid) == sorted(citation(i) for i in range(REWARDS))
    assert set(paid.values()) == {1}, "a reward was paid twice"
    for i in range(REWARDS):
        to = PEOPLE[(i + 1) % len(PEOPLE)]
        [tx] = [t for t in sandbox.state.transactions() if t.citation == citation(i)]
        assert (tx.email, tx.points) == (f"{to.lower()}@acme.test", 5)
    # The call the kill caught: settled by Xoxoday's records, each of its rewards: as sent, or
    # sent again (once: the payments above) after the report proved it unpaid.
    settled = {short for short, _, by, _ in rows if by == SETTLED_BY_RECORDS}
    requeued = {
        short
        for short, reason in sql(
            "SELECT subject_id, reason FROM audit_events WHERE subject_type = 'reward' "
            f"AND actor = '{SETTLED_BY_RECORDS}'"
        )
        if "shows no payment for it" in (reason or "")
    }
    assert (settled, requeued) == ((set(caught), set()) if applied else (set(), set(caught)))
    # Calls carried many rewards, none over the limit.
    calls = [c for c in serve.sends() if c["status"] == 200]
    assert len(calls) < REWARDS - len(caught)
    assert all(len(c["variables"]["recipients"]) <= 10 for c in calls)
    assert "Traceback" not in serve.logs()
