"""Locks and flags in the ledger, on SQLite and PostgreSQL: compare-and-sets that change once
(two threads at once included), each change audited in its transaction."""

from __future__ import annotations

import threading
from datetime import timedelta

from storage import audit, flags, locks, rewards
from storage.db import Store
from storage.models import RewardFlag
from storage.types import utcnow
from tests.storage.conftest import People

GIFTS = [{"reward_id": "R1", "giver": "UGIVER", "recipient": "UALICE", "points": 5}]


def actions(store: Store, subject_type: str, subject_id: str) -> list[str]:
    with store.read_session() as s:
        return [
            e.action for e in audit.events_for(s, subject_type=subject_type, subject_id=subject_id)
        ]


def test_a_member_is_locked_once_and_unlocked_once(store: Store, people: People) -> None:
    with store.session() as s:
        locked = locks.lock_member(s, member=people.giver, actor="UADMIN", reason="ring")
        assert locked is not None and locked.locked_by == "UADMIN"
        assert locks.lock_member(s, member=people.giver, actor="UOTHER", reason="again") is None
    with store.read_session() as s:
        assert locks.is_locked(s, slack_user_id="UGIVER")
        assert not locks.is_locked(s, slack_user_id="UALICE")
        assert [m.slack_user_id for m in locks.locked_members(s)] == ["UGIVER"]
    with store.session() as s:
        since = locks.unlock_member(s, member=people.giver, actor="UADMIN")
        assert since is not None
        assert locks.unlock_member(s, member=people.giver, actor="UADMIN") is None
    with store.read_session() as s:
        assert not locks.is_locked(s, slack_user_id="UGIVER")
    assert actions(store, "member", "UGIVER") == ["member.locked", "member.unlocked"]


def test_two_admins_locking_at_once_lock_once(store: Store, people: People) -> None:
    start = threading.Barrier(2)
    won: list[bool] = []

    def lock(actor: str) -> None:
        start.wait()
        with store.session() as s:
            won.append(
                locks.lock_member(s, member=people.alice, actor=actor, reason=None) is not None
            )

    threads = [threading.Thread(target=lock, args=(a,)) for a in ("UADMIN", "UOTHER")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(won) == [False, True]
    assert actions(store, "member", "UALICE") == ["member.locked"]


def test_a_flag_is_raised_once_per_rule_people_and_month(store: Store, people: People) -> None:
    with store.session() as s:
        first = flags.raise_flag(
            s, rule="ring", people="UALICE,UGIVER", giver="UGIVER", period="2026-12", gifts=GIFTS
        )
        again = flags.raise_flag(
            s, rule="ring", people="UALICE,UGIVER", giver="UGIVER", period="2026-12", gifts=GIFTS
        )
        later = flags.raise_flag(
            s, rule="ring", people="UALICE,UGIVER", giver="UGIVER", period="2027-01", gifts=GIFTS
        )
    assert first is not None and again is None and later is not None
    with store.read_session() as s:
        assert [f.id for f in flags.unreported_flags(s)] == [first.id, later.id]
    with store.session() as s:
        flags.mark_reported(s, flag_ids=[first.id or 0], at=utcnow())
    with store.read_session() as s:
        assert [f.id for f in flags.unreported_flags(s)] == [later.id]
    assert actions(store, "flag", str(first.id)) == ["flag.raised"]


def test_a_flag_is_decided_once_and_held_people_are_found(store: Store, people: People) -> None:
    with store.session() as s:
        flag = flags.raise_flag(
            s, rule="repeat", people="UALICE,UGIVER", giver="UGIVER", period="2026-12", gifts=GIFTS
        )
    assert flag is not None and flag.id is not None
    with store.session() as s:
        done = flags.decide_flag(s, flag_id=flag.id, decision="held", actor="UADMIN", reason="why")
        assert done is not None and (done.status, done.decided_by) == ("held", "UADMIN")
        assert flags.decide_flag(s, flag_id=flag.id, decision="dismissed", actor="UOTHER") is None
        assert flags.add_hold(s, rule="repeat", people="UALICE,UGIVER", actor="UADMIN")
        assert not flags.add_hold(s, rule="repeat", people="UALICE,UGIVER", actor="UADMIN")
    with store.read_session() as s:
        assert [h.people for h in flags.holds_involving(s, user_ids=["UALICE"])] == [
            "UALICE,UGIVER"
        ]
        assert flags.holds_involving(s, user_ids=["UBOB"]) == []
        row = s.get(RewardFlag, flag.id)
        assert row is not None and row.status == "held"
    assert actions(store, "flag", str(flag.id)) == ["flag.raised", "flag.decided"]


def test_the_gifts_the_rules_read_are_the_standing_rewards(store: Store, people: People) -> None:
    with store.session() as s:
        rewards.create_reward(
            s,
            giver=people.giver,
            recipients=[(people.alice, 100), (people.bob, 50)],
            citation="shipped it",
            idempotency_key="k1",
        )
    since = utcnow() - timedelta(days=1)
    with store.read_session() as s:
        rows = flags.gifts_since(s, since=since)
        assert sorted((r.giver, r.recipient, r.points, r.total) for r in rows) == [
            ("UGIVER", "UALICE", 100, 150),
            ("UGIVER", "UBOB", 50, 150),
        ]
        assert [r.recipient for r in flags.gifts_since(s, since=since, involving=["UBOB"])] == [
            "UBOB"
        ]
        assert flags.gifts_since(s, since=since, involving=["UNOBODY"]) == []
        assert flags.gifts_since(s, since=utcnow() + timedelta(minutes=1)) == []
