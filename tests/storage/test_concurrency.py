"""Races with real threads: exactly one winner, one valid audit chain.

PostgreSQL (several bot processes in production) gets 20 threads per race; SQLite, where every
write transaction is serialized by BEGIN IMMEDIATE, gets the idempotency and approval races too.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from storage import approvals, audit, jobs, members, once, rewards
from storage.db import Store
from storage.errors import AlreadyDecided
from storage.models import Member
from storage.states import RewardStatus
from tests.storage.support import TEST_AUDIT_KEY, TestDatabase

S = RewardStatus
THREADS = 20


def race(n: int, work: Callable[[int], Any]) -> list[Any]:
    """Run work(i) in n threads released together; return each result or exception."""
    barrier = threading.Barrier(n)
    results: list[Any] = [None] * n

    def run(i: int) -> None:
        barrier.wait()
        try:
            results[i] = work(i)
        except Exception as err:  # collected for the assertions
            results[i] = err

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads), "a thread hung"
    return results


def _staff(store: Store, n: int) -> tuple[Member, Member, list[Member]]:
    with store.session() as s:
        giver = members.upsert_member(s, team_id="T", slack_user_id="UGIVER")
        alice = members.upsert_member(s, team_id="T", slack_user_id="UALICE")
        deciders = [
            members.upsert_member(s, team_id="T", slack_user_id=f"UAPPROVER{i}") for i in range(n)
        ]
    return giver, alice, deciders


def _reward(store: Store, giver: Member, alice: Member, status: S, key: str = "k") -> int:
    with store.session() as s:
        return rewards.create_reward(
            s,
            giver=giver,
            recipients=[(alice, 700)],
            citation="race",
            idempotency_key=key,
            status=status,
        ).reward.id


def _verify(store: Store) -> audit.VerifyResult:
    with store.read_session() as s:
        return audit.verify_chain(s, audit_key=TEST_AUDIT_KEY.encode())


def _one_winner(results: list[Any]) -> Any:
    winners = [r for r in results if not isinstance(r, Exception)]
    losers = [r for r in results if isinstance(r, Exception)]
    assert len(winners) == 1, results
    assert all(isinstance(err, AlreadyDecided) for err in losers), losers
    return winners[0]


@pytest.mark.postgres
def test_twenty_approvers_at_once_one_wins(pg_db: TestDatabase) -> None:
    store = pg_db.store
    giver, alice, deciders = _staff(store, THREADS)
    reward_id = _reward(store, giver, alice, S.PENDING_APPROVAL)

    def approve(i: int) -> Any:
        with store.session() as s:
            return approvals.decide_approval(
                s, reward_id=reward_id, approver=deciders[i], approve=i % 2 == 0, reason="r"
            )

    winner = _one_winner(race(THREADS, approve))
    assert winner.status in (S.QUEUED, S.REJECTED)
    with store.read_session() as s:
        trail = audit.events_for(s, subject_type="reward", subject_id=winner.short_id)
    assert [e.action for e in trail] == ["reward.created", "approval.decided"]
    assert _verify(store).ok


@pytest.mark.postgres
def test_twenty_admins_cancelling_at_once_one_wins(pg_db: TestDatabase) -> None:
    store = pg_db.store
    giver, alice, _ = _staff(store, 0)
    reward_id = _reward(store, giver, alice, S.QUEUED)

    def cancel(i: int) -> Any:
        with store.session() as s:
            return rewards.cancel_reward(s, reward_id=reward_id, actor=f"UADMIN{i}", reason="dup")

    winner = _one_winner(race(THREADS, cancel))
    assert winner.status == S.CANCELLED
    assert _verify(store).count == 2


@pytest.mark.postgres
def test_twenty_workers_claiming_the_same_reward_one_wins(pg_db: TestDatabase) -> None:
    store = pg_db.store
    giver, alice, _ = _staff(store, 0)
    reward_id = _reward(store, giver, alice, S.QUEUED)

    def claim(i: int) -> Any:
        with store.session() as s:
            return rewards.claim_for_delivery(s, reward_id=reward_id, claimed_by=f"w{i}")

    winner = _one_winner(race(THREADS, claim))
    assert winner.status == S.SENDING


@pytest.mark.postgres
def test_twenty_workers_polling_the_outbox_share_it_without_overlap(pg_db: TestDatabase) -> None:
    store = pg_db.store
    giver, alice, _ = _staff(store, 0)
    queued = {_reward(store, giver, alice, S.QUEUED, key=f"k{i}") for i in range(5)}

    def poll(i: int) -> Any:
        with store.session() as s:
            found = rewards.claim_next_queued(s, claimed_by=f"w{i}")
            return None if found is None else found.id

    results = race(THREADS, poll)
    assert not [r for r in results if isinstance(r, Exception)], results
    claimed = [r for r in results if r is not None]
    assert sorted(claimed) == sorted(queued)  # each reward claimed exactly once
    assert results.count(None) == THREADS - len(queued)


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def test_twenty_deliveries_of_one_slack_request_make_one_reward(
    backend: str, request: pytest.FixtureRequest, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    from tests.storage.support import ledger_database

    pg = request.getfixturevalue("pg_url") if backend == "postgresql" else None
    with ledger_database(backend, tmp_path=tmp_path, pg_url=pg, pool_size=12) as database:
        store = database.store
        giver, alice, _ = _staff(store, 0)

        def submit(i: int) -> Any:
            with store.session() as s:
                made = rewards.create_reward(
                    s,
                    giver=giver,
                    recipients=[(alice, 10 + i)],
                    citation=f"attempt {i}",
                    idempotency_key="trigger-123.456",
                )
                return made.created, made.reward.id

        results = race(THREADS, submit)
        assert not [r for r in results if isinstance(r, Exception)], results
        assert [created for created, _ in results].count(True) == 1
        assert len({reward_id for _, reward_id in results}) == 1
        result = _verify(store)
        assert result.ok and result.count == 1


@pytest.mark.postgres
def test_concurrent_appends_form_one_valid_chain(pg_db: TestDatabase) -> None:
    store = pg_db.store
    giver, alice, _ = _staff(store, 0)
    per_thread = 3

    def work(i: int) -> None:
        for j in range(per_thread):
            with store.session(correlation_id=f"t{i}") as s:
                rid = rewards.create_reward(
                    s,
                    giver=giver,
                    recipients=[(alice, 1)],
                    citation="chain",
                    idempotency_key=f"{i}-{j}",
                ).reward.id
            with store.session() as s:
                rewards.claim_for_delivery(s, reward_id=rid)

    results = race(THREADS, work)
    assert not [r for r in results if isinstance(r, Exception)], results
    result = _verify(store)
    assert result.ok, result.broken
    assert result.count == THREADS * per_thread * 2


@pytest.mark.postgres
def test_a_job_run_is_claimed_once_across_threads(pg_db: TestDatabase) -> None:
    store = pg_db.store
    at = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)

    def claim(i: int) -> bool:
        with store.session() as s:
            return jobs.claim_job_run(s, job="weekly-summary", scheduled_for=at, claimed_by=f"p{i}")

    results = race(THREADS, claim)
    assert results.count(True) == 1 and results.count(False) == THREADS - 1


@pytest.mark.postgres
def test_a_once_key_is_claimed_once_across_threads(pg_db: TestDatabase) -> None:
    store = pg_db.store

    def claim(i: int) -> bool:
        with store.session() as s:
            return once.claim_once(s, kind="expiry_reminder", key="R7K2Q9:30")

    results = race(THREADS, claim)
    assert results.count(True) == 1 and results.count(False) == THREADS - 1
