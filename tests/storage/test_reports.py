"""Reported rewards in the ledger (SQLite and PostgreSQL): one report per reward however many
report it at once; a decision is a compare-and-set from `open`, audited once; a cancel decides
the report in its own transaction."""

from __future__ import annotations

import threading

from sqlmodel import func, select

from storage import reports, rewards
from storage.db import Store
from storage.models import AuditEvent, RewardReport
from storage.rewards import RewardDetails
from storage.states import ReportStatus, RewardStatus
from tests.storage.conftest import People


def sent(store: Store, people: People) -> RewardDetails:
    with store.session() as s:
        created = rewards.create_reward(
            s,
            giver=people.giver,
            recipients=[(people.alice, 40)],
            citation="shipped it",
            idempotency_key=f"k-{rewards.new_short_id()}",
            channel_id="C1",
            status=RewardStatus.QUEUED,
        )
        rewards.claim_for_delivery(s, reward_id=created.reward.id)
    with store.session() as s:
        return rewards.record_delivery(s, reward_id=created.reward.id, outcome=RewardStatus.SENT)


def actions(store: Store, short_id: str) -> list[tuple[str, str]]:
    with store.read_session() as s:
        found = s.exec(
            select(AuditEvent.action, AuditEvent.actor)
            .where(AuditEvent.subject_id == short_id)
            .where(AuditEvent.action.in_(["reward.reported", "report.decided"]))  # type: ignore[attr-defined]
            .order_by(AuditEvent.id)
        ).all()
    return [(a, b) for a, b in found]


def test_twenty_reports_of_one_reward_at_once_make_one(store: Store, people: People) -> None:
    reward = sent(store, people)
    reporters = [people.bob, people.approver, people.admin, people.giver] * 5
    start = threading.Barrier(len(reporters))
    made: list[bool] = []
    lock = threading.Lock()

    def one(n: int) -> None:
        start.wait()
        with store.session() as s:
            _, new = reports.report_reward(
                s, reward=reward, reporter=reporters[n], reason=f"report {n}"
            )
        with lock:
            made.append(new)

    threads = [threading.Thread(target=one, args=(n,)) for n in range(len(reporters))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert made.count(True) == 1 and len(made) == len(reporters)
    with store.read_session() as s:
        assert s.exec(select(func.count()).select_from(RewardReport)).one() == 1
    assert [a for a, _ in actions(store, reward.short_id)] == ["reward.reported"]


def test_a_decision_is_made_once_and_a_cancel_decides_it(store: Store, people: People) -> None:
    reward = sent(store, people)
    with store.session() as s:
        reports.report_reward(s, reward=reward, reporter=people.bob, reason="swapped")
    with store.session() as s:
        assert reports.decide_report(
            s, reward=reward, to=ReportStatus.RESTORED, actor="UADMIN", reason="fine"
        )
    with store.session() as s:
        assert not reports.decide_report(
            s, reward=reward, to=ReportStatus.RESTORED, actor="UOTHER", reason="fine"
        )
    other = sent(store, people)
    with store.session() as s:
        reports.report_reward(s, reward=other, reporter=people.bob, reason="odd")
    with store.session() as s:
        rewards.cancel_reward(s, reward_id=other.id, actor="UADMIN", reason="reported")
    with store.read_session() as s:
        first = reports.report_of(s, reward_id=reward.id)
        second = reports.report_of(s, reward_id=other.id)
    assert first is not None and (first.status, first.decided_by) == (
        ReportStatus.RESTORED,
        "UADMIN",
    )
    assert second is not None and (second.status, second.decided_by) == (
        ReportStatus.CANCELLED,
        "UADMIN",
    )
    assert actions(store, reward.short_id) == [
        ("reward.reported", "UBOB"),
        ("report.decided", "UADMIN"),
    ]
    assert actions(store, other.short_id) == [
        ("reward.reported", "UBOB"),
        ("report.decided", "UADMIN"),
    ]
