"""`/reward celebrations off` racing the job that pays, on PostgreSQL (READ COMMITTED: a read
sees what committed before it, so an opt-out read early can be stale by the payment's commit).
Whatever the interleaving, once `off` has been answered no celebration is paid after it."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import select

from bot.rewards.celebrations import CelebrationService
from storage import rewards as reward_repo
from storage.db import Store
from storage.models import Reward
from tests.domain.conftest import Domain
from tests.domain.support import MARIA
from tests.domain.test_celebrations import MONDAY, ON, Clock, imported
from tests.storage.support import ledger_database

pytestmark = pytest.mark.postgres


@pytest.fixture
def ledger(tmp_path: Path, pg_url: str) -> Iterator[Store]:
    with ledger_database("postgresql", tmp_path=tmp_path, pg_url=pg_url) as database:
        yield database.store


def test_off_answered_while_the_job_pays_means_nothing_is_paid_after_it(
    make_domain, monkeypatch: pytest.MonkeyPatch
) -> None:
    domain: Domain = make_domain(**ON)
    celebrations = CelebrationService(
        store=domain.store, people=domain.people, settings=domain.settings, now=Clock(MONDAY)
    )
    imported(celebrations, f"person,birthday\n{MARIA},03-02\n")
    answered = threading.Event()
    paid_after: list[bool] = []
    create = reward_repo.create_reward

    def racing_create(session, **kwargs):  # type: ignore[no-untyped-def]
        # The job has read "not opted out" in its transaction: Maria says `off` now.
        chooser = threading.Thread(
            target=lambda: (celebrations.choose(MARIA, celebrate=False), answered.set())
        )
        chooser.start()
        answered.wait(timeout=2)  # with a lock the job holds, `off` waits for the job's commit
        paid_after.append(answered.is_set())
        racing_create.chooser = chooser  # type: ignore[attr-defined]
        return create(session, **kwargs)

    monkeypatch.setattr(reward_repo, "create_reward", racing_create)
    run = celebrations.run_due()
    racing_create.chooser.join(timeout=10)  # type: ignore[attr-defined]
    assert answered.is_set()
    with domain.store.read_session() as session:
        rewards = session.exec(select(Reward)).all()
    if paid_after == [True]:  # `off` was answered before the job committed: it must not pay
        assert (run.sent, run.opted_out, len(rewards)) == (0, 1, 0)
    else:  # `off` waited for the payment: paid once, before `off` took effect
        assert (run.sent, len(rewards)) == (1, 1)
    assert celebrations.mine(MARIA).celebrated is False
