"""Rewards: creation, idempotency, each transition and its audit event, lookups."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from storage import audit, messages, rewards
from storage.errors import AlreadyDecided, InvalidTransition, NotPermitted, RewardNotFound
from storage.models import AuditEvent, Reward, RewardRecipient
from storage.rewards import RecipientResult, add_months
from storage.states import RecipientOutcome, RewardStatus
from tests.storage.conftest import People
from tests.storage.support import TestDatabase

S = RewardStatus


def _create(store, people: People, *, key: str = "trigger-1", status=S.QUEUED, **kw):  # type: ignore[no-untyped-def]
    with store.session() as s:
        return rewards.create_reward(
            s,
            giver=people.giver,
            recipients=kw.pop("recipients", [(people.alice, 100), (people.bob, 50)]),
            citation=kw.pop("citation", "shipped the release #Teamwork #ownership"),
            idempotency_key=key,
            channel_id="C123",
            values=kw.pop("values", ["#Teamwork", "ownership", "teamwork"]),
            status=status,
            expiry_months=kw.pop("expiry_months", 12),
            **kw,
        )


def _events(store, short_id: str) -> list[AuditEvent]:  # type: ignore[no-untyped-def]
    with store.read_session() as s:
        return audit.events_for(s, subject_type="reward", subject_id=short_id)


def _audit_count(store) -> int:  # type: ignore[no-untyped-def]
    with store.read_session() as s:
        return len(list(audit.iter_rows(s)))


def test_create_reward_records_everything(store, people: People) -> None:
    created = _create(store, people)

    assert created.created
    r = created.reward
    assert re.fullmatch(r"[23456789ABCDEFGHJKMNPQRSTVWXYZ]{6}", r.short_id)
    assert r.status == S.QUEUED
    assert r.total_points == 150
    assert r.giver.slack_user_id == "UGIVER"
    assert [(x.member.slack_user_id, x.points, x.outcome) for x in r.recipients] == [
        ("UALICE", 100, RecipientOutcome.PENDING),
        ("UBOB", 50, RecipientOutcome.PENDING),
    ]
    assert r.values == ("ownership", "teamwork")
    assert r.reward.channel_id == "C123"
    assert r.reward.source == "command"
    assert r.reward.public is True
    assert r.reward.created_at.tzinfo is UTC
    assert r.reward.queued_at == r.reward.created_at
    [event] = _events(store, r.short_id)
    assert event.action == "reward.created"
    assert event.actor == "UGIVER"
    assert event.after["recipients"] == [
        {"member": "UALICE", "points": 100},
        {"member": "UBOB", "points": 50},
    ]
    assert event.after["status"] == "queued"


def test_the_same_idempotency_key_never_makes_a_second_reward(store, people: People) -> None:
    first = _create(store, people, key="view-V1")
    events = _audit_count(store)

    again = _create(
        store, people, key="view-V1", recipients=[(people.bob, 999)], citation="different"
    )

    assert not again.created
    assert again.reward.id == first.reward.id
    assert again.reward.total_points == 150
    assert _audit_count(store) == events
    with store.read_session() as s:
        assert len(s.exec(text("SELECT id FROM rewards")).all()) == 1


def test_pending_approval_is_not_queued(store, people: People) -> None:
    r = _create(store, people, status=S.PENDING_APPROVAL).reward
    assert r.status == S.PENDING_APPROVAL
    assert r.reward.queued_at is None


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"recipients": []}, "at least one recipient"),
        ({"recipients": "zero"}, "positive whole number"),
        ({"recipients": "negative"}, "positive whole number"),
        ({"recipients": "float"}, "positive whole number"),
        ({"recipients": "bool"}, "positive whole number"),
        ({"recipients": "twice"}, "appears twice"),
        ({"citation": "  "}, "citation"),
        ({"status": S.SENT}, "queued or pending_approval"),
        ({"expiry_months": 0}, "expiry_months"),
        ({"key": ""}, "idempotency_key"),
        ({"values": ["x" * 65]}, "at most 64"),
    ],
)
def test_bad_rewards_are_refused(store, people: People, kwargs, error) -> None:  # type: ignore[no-untyped-def]
    shapes = {
        "zero": [(people.alice, 0)],
        "negative": [(people.alice, -5)],
        "float": [(people.alice, 1.5)],
        "bool": [(people.alice, True)],
        "twice": [(people.alice, 1), (people.alice, 2)],
    }
    if isinstance(kwargs.get("recipients"), str):
        kwargs = {**kwargs, "recipients": shapes[kwargs["recipients"]]}
    with pytest.raises(ValueError, match=error):
        _create(store, people, **kwargs)
    assert _audit_count(store) == 0


def test_nobody_rewards_themselves(store, people: People) -> None:
    with pytest.raises(NotPermitted, match="themselves"):
        _create(store, people, recipients=[(people.giver, 10)])


def test_the_database_itself_refuses_a_self_reward(db: TestDatabase, people: People) -> None:
    created = _create(db.store, people)
    with pytest.raises(IntegrityError), db.store.session() as s:
        s.add(
            RewardRecipient(
                reward_id=created.reward.id,
                member_id=people.giver.id,
                giver_id=people.giver.id,
                points=5,
            )
        )


def test_the_database_refuses_unknown_statuses_and_zero_points(db: TestDatabase, people) -> None:  # type: ignore[no-untyped-def]
    r = _create(db.store, people).reward
    with pytest.raises(IntegrityError), db.store.session() as s:
        s.exec(text("UPDATE rewards SET status = 'lost' WHERE id = :id"), params={"id": r.id})
    with pytest.raises(IntegrityError), db.store.session() as s:
        s.exec(
            text("UPDATE reward_recipients SET points = 0 WHERE reward_id = :id"),
            params={"id": r.id},
        )


def test_delivery_lifecycle_sent(store, people: People) -> None:
    r = _create(store, people).reward
    with time_machine.travel(datetime(2025, 1, 31, 10, 0, tzinfo=UTC), tick=False):
        with store.session() as s:
            claimed = rewards.claim_next_queued(s, claimed_by="worker-1")
        assert claimed is not None and claimed.id == r.id
        assert claimed.status == S.SENDING
        assert claimed.reward.claimed_by == "worker-1"
        with store.session() as s:
            done = rewards.record_delivery(
                s,
                reward_id=r.id,
                outcome=S.SENT,
                recipients=[
                    RecipientResult(member=people.alice, unique_id="uid-a"),
                    RecipientResult(member=people.bob.id, unique_id="uid-b", message="ok"),
                ],
                response={"error": False, "message": "Points sent"},
                message="Points sent",
            )
    assert done.status == S.SENT
    assert done.reward.sending_at == datetime(2025, 1, 31, 10, 0, tzinfo=UTC)
    assert done.reward.sent_at == datetime(2025, 1, 31, 10, 0, tzinfo=UTC)
    assert done.reward.delivery_response == {"error": False, "message": "Points sent"}
    assert [
        (x.recipient.plum_unique_id, x.outcome, x.recipient.expires_on) for x in done.recipients
    ] == [
        ("uid-a", RecipientOutcome.SENT, date(2026, 1, 31)),
        ("uid-b", RecipientOutcome.SENT, date(2026, 1, 31)),
    ]
    actions = [(e.action, e.before, e.after["status"]) for e in _events(store, r.short_id)]
    assert actions == [
        ("reward.created", None, "queued"),
        ("reward.status_changed", {"status": "queued"}, "sending"),
        ("reward.status_changed", {"status": "sending"}, "sent"),
    ]
    last = _events(store, r.short_id)[-1]
    assert last.after["recipients"][0]["unique_id"] == "uid-a"


@pytest.mark.parametrize("outcome", [S.FAILED, S.IN_DOUBT])
def test_delivery_failed_or_in_doubt(store, people: People, outcome: S) -> None:
    r = _create(store, people).reward
    with store.session() as s:
        rewards.claim_for_delivery(s, reward_id=r.id)
    with store.session() as s:
        done = rewards.record_delivery(
            s,
            reward_id=r.id,
            outcome=outcome,
            recipients=[
                RecipientResult(member=people.bob, outcome="failed", message="no such user")
            ],
            message="timeout" if outcome == S.IN_DOUBT else "rejected",
        )
    assert done.status == outcome
    assert getattr(done.reward, f"{outcome.value}_at") is not None
    outcomes = {x.member.slack_user_id: x.outcome for x in done.recipients}
    assert outcomes == {"UALICE": RecipientOutcome(outcome.value), "UBOB": RecipientOutcome.FAILED}
    assert all(x.recipient.expires_on is None for x in done.recipients)


def test_a_result_for_someone_else_is_refused(store, people: People) -> None:
    r = _create(store, people, recipients=[(people.alice, 10)]).reward
    with store.session() as s:
        rewards.claim_for_delivery(s, reward_id=r.id)
    with pytest.raises(ValueError, match="not recipients"), store.session() as s:
        rewards.record_delivery(
            s, reward_id=r.id, outcome=S.SENT, recipients=[RecipientResult(member=people.bob)]
        )


def test_transitions_outside_the_state_machine_raise_with_the_current_status(store, people) -> None:  # type: ignore[no-untyped-def]
    r = _create(store, people).reward
    with pytest.raises(AlreadyDecided) as caught, store.session() as s:
        rewards.record_delivery(s, reward_id=r.id, outcome=S.SENT)
    assert caught.value.current == S.QUEUED
    assert caught.value.short_id == r.short_id
    assert isinstance(caught.value, InvalidTransition)
    with pytest.raises(ValueError), store.session() as s:
        rewards.record_delivery(s, reward_id=r.id, outcome=S.CANCELLED)
    with pytest.raises(RewardNotFound), store.session() as s:
        rewards.claim_for_delivery(s, reward_id=987654)


def test_claim_next_queued_takes_the_oldest_and_returns_none_when_empty(store, people) -> None:  # type: ignore[no-untyped-def]
    with time_machine.travel(datetime(2025, 1, 1, tzinfo=UTC), tick=False):
        first = _create(store, people, key="a").reward
    with time_machine.travel(datetime(2025, 1, 2, tzinfo=UTC), tick=False):
        second = _create(store, people, key="b").reward
    _create(store, people, key="c", status=S.PENDING_APPROVAL)
    with store.session() as s:
        assert rewards.claim_next_queued(s).id == first.id  # type: ignore[union-attr]
    with store.session() as s:
        assert rewards.claim_next_queued(s).id == second.id  # type: ignore[union-attr]
    with store.session() as s:
        assert rewards.claim_next_queued(s) is None


@pytest.mark.parametrize("start", [S.PENDING_APPROVAL, S.QUEUED])
def test_cancel_before_sending(store, people: People, start: S) -> None:
    r = _create(store, people, status=start).reward
    with store.session() as s:
        done = rewards.cancel_reward(s, reward_id=r.id, actor="UADMIN", reason="duplicate")
    assert done.status == S.CANCELLED
    assert done.reward.cancel_reason == "duplicate"
    assert done.reward.cancelled_by == "UADMIN"
    assert done.reward.cancelled_at is not None
    assert {x.outcome for x in done.recipients} == {RecipientOutcome.NOT_SENT}
    event = _events(store, r.short_id)[-1]
    assert (event.action, event.actor, event.reason) == ("reward.cancelled", "UADMIN", "duplicate")


def _sent(store, people: People, key: str = "sent-1"):  # type: ignore[no-untyped-def]
    r = _create(store, people, key=key).reward
    with store.session() as s:
        rewards.claim_for_delivery(s, reward_id=r.id)
    with store.session() as s:
        return rewards.record_delivery(s, reward_id=r.id, outcome=S.SENT)


def test_cancel_after_sending_records_plums_answer(store, people: People) -> None:
    r = _sent(store, people)
    with store.session() as s:
        done = rewards.cancel_reward(
            s,
            reward_id=r.id,
            actor="UADMIN",
            reason="sent to the wrong person",
            recipients=[RecipientResult(member=people.alice, message="cancelled")],
            response={"error": False, "recipients": [{"unique_id": "x", "success": True}]},
        )
    assert done.status == S.CANCELLED
    assert {x.outcome for x in done.recipients} == {RecipientOutcome.CANCELLED}
    assert done.recipients[0].recipient.message == "cancelled"
    assert _events(store, r.short_id)[-1].after["response"]["error"] is False


def test_cancel_needs_a_reason_and_a_cancellable_status(store, people: People) -> None:
    r = _create(store, people).reward
    with pytest.raises(ValueError, match="reason"), store.session() as s:
        rewards.cancel_reward(s, reward_id=r.id, actor="UADMIN", reason=" ")
    with store.session() as s:
        rewards.claim_for_delivery(s, reward_id=r.id)
    with pytest.raises(AlreadyDecided) as caught, store.session() as s:
        rewards.cancel_reward(s, reward_id=r.id, actor="UADMIN", reason="x")
    assert caught.value.current == S.SENDING


def test_record_cancel_refused_is_audited_and_changes_nothing(store, people: People) -> None:
    r = _sent(store, people)
    with store.session() as s:
        rewards.record_cancel_refused(
            s, reward_id=r.id, actor="UADMIN", reason="typo", message="already redeemed"
        )
    event = _events(store, r.short_id)[-1]
    assert event.action == "reward.cancel_refused"
    assert event.after["message"] == "already redeemed"
    with store.read_session() as s:
        assert rewards.get_reward(s, reward_id=r.id).status == S.SENT  # type: ignore[union-attr]


@pytest.mark.parametrize("verdict", [S.SENT, S.FAILED])
def test_an_admin_settles_an_in_doubt_reward(store, people: People, verdict: S) -> None:
    r = _create(store, people).reward
    with store.session() as s:
        rewards.claim_for_delivery(s, reward_id=r.id)
    with store.session() as s:
        rewards.record_delivery(s, reward_id=r.id, outcome=S.IN_DOUBT, message="timeout")
    with store.session() as s:
        done = rewards.settle_in_doubt(
            s, reward_id=r.id, outcome=verdict, actor="UADMIN", reason="checked in Plum"
        )
    assert done.status == verdict
    assert done.reward.settled_by == "UADMIN"
    assert done.reward.settled_at is not None
    assert {x.outcome for x in done.recipients} == {RecipientOutcome(verdict.value)}
    if verdict == S.SENT:
        assert all(x.recipient.expires_on is not None for x in done.recipients)
    event = _events(store, r.short_id)[-1]
    assert (event.action, event.before, event.after["status"]) == (
        "reward.settled",
        {"status": "in_doubt"},
        verdict.value,
    )
    with pytest.raises(AlreadyDecided), store.session() as s:
        rewards.settle_in_doubt(s, reward_id=r.id, outcome=S.SENT, actor="UADMIN")


def test_stale_sending_rewards_become_in_doubt(store, people: People) -> None:
    with time_machine.travel(datetime(2025, 1, 1, 9, 0, tzinfo=UTC), tick=False):
        old = _create(store, people, key="old").reward
        with store.session() as s:
            rewards.claim_for_delivery(s, reward_id=old.id)
    with time_machine.travel(datetime(2025, 1, 1, 9, 9, tzinfo=UTC), tick=False):
        fresh = _create(store, people, key="fresh").reward
        with store.session() as s:
            rewards.claim_for_delivery(s, reward_id=fresh.id)
        with store.session() as s:
            only_old = rewards.mark_stale_sending_in_doubt(s, older_than=timedelta(minutes=5))
        assert [r.id for r in only_old] == [old.id]
        with store.session() as s:
            rest = rewards.mark_stale_sending_in_doubt(s)
    assert [r.id for r in rest] == [fresh.id]
    assert rest[0].status == S.IN_DOUBT
    assert {x.outcome for x in rest[0].recipients} == {RecipientOutcome.IN_DOUBT}
    assert _events(store, old.short_id)[-1].reason.startswith("the bot stopped")


def test_pending_rewards_expire(store, people: People) -> None:
    with time_machine.travel(datetime(2025, 1, 1, tzinfo=UTC), tick=False):
        old = _create(store, people, key="old", status=S.PENDING_APPROVAL).reward
    with time_machine.travel(datetime(2025, 1, 14, tzinfo=UTC), tick=False):
        recent = _create(store, people, key="recent", status=S.PENDING_APPROVAL).reward
    with (
        time_machine.travel(datetime(2025, 1, 15, 12, tzinfo=UTC), tick=False),
        store.session() as s,
    ):
        expired = rewards.expire_pending(s, older_than=timedelta(days=14))
    assert [r.id for r in expired] == [old.id]
    assert expired[0].status == S.EXPIRED
    assert expired[0].reward.expired_at == datetime(2025, 1, 15, 12, tzinfo=UTC)
    assert _events(store, old.short_id)[-1].action == "reward.expired"
    with store.read_session() as s:
        assert rewards.get_reward(s, reward_id=recent.id).status == S.PENDING_APPROVAL  # type: ignore[union-attr]


def test_lookups(store, people: People) -> None:
    r = _create(store, people, key="shortcut-T1").reward
    with store.read_session() as s:
        assert rewards.get_reward(s, reward_id=r.id).short_id == r.short_id  # type: ignore[union-attr]
        assert rewards.get_reward_by_short_id(s, short_id=f" #{r.short_id.lower()} ").id == r.id  # type: ignore[union-attr]
        assert rewards.get_reward_by_idempotency_key(s, idempotency_key="shortcut-T1").id == r.id  # type: ignore[union-attr]
        assert rewards.get_reward(s, reward_id=424242) is None
        assert rewards.get_reward_by_short_id(s, short_id="ZZZZZZ") is None


def test_short_ids_are_retried_on_collision(store, people: People, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    first = _create(store, people, key="one").reward
    ids = iter([first.short_id, first.short_id, "NEW234"])
    monkeypatch.setattr(rewards, "new_short_id", lambda: next(ids))
    second = _create(store, people, key="two").reward
    assert second.short_id == "NEW234"


def test_reward_messages_are_remembered_once(store, people: People) -> None:
    r = _create(store, people, status=S.PENDING_APPROVAL).reward
    with store.session() as s:
        messages.record_reward_message(
            s,
            reward_id=r.id,
            kind="approval_request",
            channel_id="D1",
            message_ts="1.1",
            member=people.approver,
        )
        messages.record_reward_message(
            s, reward_id=r.id, kind="approval_request", channel_id="D2", message_ts="1.2"
        )
        again = messages.record_reward_message(
            s, reward_id=r.id, kind="approval_request", channel_id="D1", message_ts="1.1"
        )
        messages.record_reward_message(
            s, reward_id=r.id, kind="announcement", channel_id="C1", message_ts="2.0"
        )
    assert again.member_id == people.approver.id
    with store.read_session() as s:
        found = messages.list_reward_messages(s, reward_id=r.id, kind="approval_request")
        everything = messages.list_reward_messages(s, reward_id=r.id)
    assert [(m.channel_id, m.message_ts) for m in found] == [("D1", "1.1"), ("D2", "1.2")]
    assert len(everything) == 3


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (date(2025, 1, 31), 1, date(2025, 2, 28)),
        (date(2024, 1, 31), 1, date(2024, 2, 29)),
        (date(2025, 11, 15), 2, date(2026, 1, 15)),
        (date(2025, 3, 31), 12, date(2026, 3, 31)),
        (date(2025, 12, 31), 120, date(2035, 12, 31)),
    ],
)
def test_add_months(day: date, months: int, expected: date) -> None:
    assert add_months(day, months) == expected


def test_rewards_are_plain_rows(store, people: People) -> None:
    r = _create(store, people).reward
    assert isinstance(r.reward, Reward)
