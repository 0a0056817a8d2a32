"""What /metrics reads from the ledger and the journal, on SQLite and PostgreSQL: counts by state,
the oldest queued reward (since it was queued, however often it was put back), when each job last
ended well, and the journal's unfinished entries."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from storage import jobs, rewards
from storage.db import Store
from storage.intake import IntakeJournal
from storage.ledger_figures import journal_figures, ledger_figures
from storage.states import RewardStatus
from tests.storage.conftest import People
from tests.storage.support import TestDatabase

NINE = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
S = RewardStatus


@pytest.fixture
def journal(db: TestDatabase) -> Iterator[IntakeJournal]:
    found = IntakeJournal.open(ledger=db.engine, database_url=db.url, worker_id="host:1")
    yield found.start()
    found.stop()


def give(store: Store, people: People, key: str, *, status: RewardStatus = S.QUEUED) -> str:
    with store.session() as s:
        made = rewards.create_reward(
            s,
            giver=people.giver,
            recipients=[(people.alice, 10)],
            citation="figures",
            idempotency_key=key,
            channel_id="C1",
            values=[],
            status=status,
            expiry_months=12,
        )
    return made.reward.short_id


def test_an_empty_ledger_has_nothing_to_show(db: TestDatabase, journal: IntakeJournal) -> None:
    figures = ledger_figures(db.engine)
    assert (figures.rewards, figures.orders, figures.last_ok) == ({}, {}, {})
    waiting = journal_figures(journal.engine)
    assert (waiting.unfinished, waiting.oldest) == (0, None)


def test_states_the_oldest_queued_and_the_last_good_job_run(
    db: TestDatabase, store: Store, people: People, journal: IntakeJournal
) -> None:
    with time_machine.travel(NINE, tick=False):
        give(store, people, "first")
    with time_machine.travel(NINE + timedelta(minutes=5), tick=False):
        give(store, people, "second")
        give(store, people, "waits", status=S.PENDING_APPROVAL)
        with store.session() as s:  # the oldest is being sent, then put back: still the oldest
            claimed = rewards.claim_next_queued(s, claimed_by="w1")
            assert claimed is not None
            rewards.defer_delivery(
                s,
                reward_id=claimed.id,
                message="unreachable",
                next_attempt_at=NINE + timedelta(minutes=6),
                retry_until=NINE + timedelta(hours=24),
            )
        for job, at, outcome in (
            ("weekly-summary", NINE - timedelta(days=7), "ok"),
            ("weekly-summary", NINE, "failed"),
            ("balance-alert", NINE - timedelta(hours=1), "ok"),
        ):
            with store.session() as s:
                jobs.claim_job_run(s, job=job, scheduled_for=at, claimed_by="p1")
            with time_machine.travel(at + timedelta(minutes=1), tick=False), store.session() as s:
                jobs.finish_job_run(s, job=job, scheduled_for=at, outcome=outcome, detail="")
        body = {"command": "/reward"}
        done = journal.record(key="k1", kind="command:/reward", user_id="U1", body=body)
        journal.record(key="k2", kind="command:/reward", user_id="U1", body=body)
        journal.finish(done.entry_id, outcome="done", wait=5)

    figures = ledger_figures(db.engine)
    assert {state: c.count for state, c in figures.rewards.items()} == {
        "queued": 2,
        "pending_approval": 1,
    }
    assert figures.rewards["queued"].oldest == NINE
    assert figures.orders == {}
    assert figures.last_ok == {
        "weekly-summary": NINE - timedelta(days=7) + timedelta(minutes=1),
        "balance-alert": NINE - timedelta(hours=1) + timedelta(minutes=1),
    }
    waiting = journal_figures(journal.engine)
    assert (waiting.unfinished, waiting.oldest) == (1, NINE + timedelta(minutes=5))
