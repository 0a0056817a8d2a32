"""The giver's "Undo" on a reward given with `/reward` or the form (`RewardService.undo`): the
reward waits REWARD_UNDO_SECONDS; inside the window the giver's click cancels it (audited,
nothing sent, nothing told); after it the giver hears once that it was on its way. A double
click undoes once; nobody else's click counts; a reward waiting for approval has no Undo."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest

from bot.rewards.refusal import Refusal
from bot.rewards.service import UNDO_WHY, Given, GiveRequest, UndoneByGiver, UndoTooLate
from storage import audit, clock
from storage.audit import AuditAction
from storage.rewards import RewardDetails
from storage.states import RewardSource
from tests.domain.conftest import Domain
from tests.domain.support import ADMIN, BOB, MARIA, TEAM

_keys = itertools.count(1)


@pytest.fixture(autouse=True)
def _clock_back() -> Iterator[None]:
    yield
    clock.reset()


@pytest.fixture
def domain(make_domain: Callable[..., Domain]) -> Domain:
    return make_domain(REWARD_UNDO_SECONDS=60, REWARD_APPROVAL_THRESHOLD=500)


def later(seconds: float) -> None:
    clock.set_offset(clock.offset() + timedelta(seconds=seconds))


def give(domain: Domain, amount: int = 50, *, giver: str = BOB) -> RewardDetails:
    """`/reward @maria <amount> …` as the command's listener asks for it."""
    outcome = domain.rewards.give(
        GiveRequest(
            giver_id=giver,
            team_id=TEAM,
            recipient_ids=(MARIA,),
            amount=amount,
            citation="shipped the release",
            values=(),
            channel_id="C0GENERAL",
            source=RewardSource.COMMAND,
            idempotency_key=f"command:{next(_keys)}",
            hold=domain.rewards.giving_hold(),
        )
    )
    assert isinstance(outcome, Given), outcome
    return outcome.reward


def audited(domain: Domain, short_id: str) -> list[str]:
    with domain.store.read_session() as session:
        events = audit.events_for(session, subject_type="reward", subject_id=short_id)
    return [e.action for e in events]


def test_a_command_reward_waits_the_window_then_goes(domain: Domain) -> None:
    reward = give(domain)
    assert reward.reward.held_until is not None
    assert domain.deliver() == 0 and domain.sends() == []
    later(61)
    assert domain.deliver() == 1
    assert domain.reward(reward.short_id).status == "sent"


def test_undo_inside_the_window_cancels_it_and_nothing_is_sent(domain: Domain) -> None:
    reward = give(domain)
    domain.teller.clear()
    undone = domain.rewards.undo(giver_id=BOB, short_id=reward.short_id)
    assert isinstance(undone, UndoneByGiver) and undone.first
    now = domain.reward(reward.short_id)
    assert now.status == "cancelled" and now.reward.cancel_reason == UNDO_WHY
    assert now.reward.cancelled_by == BOB
    assert audited(domain, reward.short_id).count(AuditAction.REWARD_CANCELLED) == 1
    assert domain.teller.kinds() == []  # nobody told: nothing was announced
    later(61)
    assert domain.deliver() == 0 and domain.sends() == []


def test_a_double_click_undoes_once(domain: Domain) -> None:
    reward = give(domain)
    first = domain.rewards.undo(giver_id=BOB, short_id=reward.short_id)
    second = domain.rewards.undo(giver_id=BOB, short_id=reward.short_id)
    assert isinstance(first, UndoneByGiver) and first.first
    assert isinstance(second, UndoneByGiver) and not second.first
    assert audited(domain, reward.short_id).count(AuditAction.REWARD_CANCELLED) == 1


def test_only_the_giver_can_undo(domain: Domain) -> None:
    reward = give(domain)
    for someone in (MARIA, ADMIN):
        refused = domain.rewards.undo(giver_id=someone, short_id=reward.short_id)
        assert isinstance(refused, Refusal)
        assert refused.text == f"Only <@{BOB}>, who gave it, can undo it."
    assert domain.reward(reward.short_id).status == "queued"
    later(61)
    assert domain.deliver() == 1 and len(domain.sends()) == 1


def test_after_the_window_it_stands_and_the_giver_hears_once(domain: Domain) -> None:
    reward = give(domain)
    later(61)
    late = domain.rewards.undo(giver_id=BOB, short_id=reward.short_id)  # not delivered yet
    assert isinstance(late, UndoTooLate) and late.first
    again = domain.rewards.undo(giver_id=BOB, short_id=reward.short_id)
    assert isinstance(again, UndoTooLate) and not again.first
    assert domain.deliver() == 1
    after_sending = domain.rewards.undo(giver_id=BOB, short_id=reward.short_id)
    assert isinstance(after_sending, UndoTooLate) and not after_sending.first
    assert domain.reward(reward.short_id).status == "sent"
    assert AuditAction.REWARD_CANCELLED not in audited(domain, reward.short_id)


def test_a_reward_waiting_for_approval_is_not_undone(domain: Domain) -> None:
    reward = give(domain, 500)
    assert reward.status == "pending_approval"
    refused = domain.rewards.undo(giver_id=BOB, short_id=reward.short_id)
    assert isinstance(refused, Refusal) and "waiting for approval" in refused.text
    assert domain.reward(reward.short_id).status == "pending_approval"


@pytest.mark.parametrize("value", ["ZZZZZZ", "", "<!channel>", "x" * 10_000, "\x00\u202e"])
def test_an_unknown_or_forged_reward_says_so(domain: Domain, value: str) -> None:
    give(domain)
    refused = domain.rewards.undo(giver_id=BOB, short_id=value)
    assert isinstance(refused, Refusal) and refused.text == "I can't find that reward any more."
    assert domain.statuses() == ["queued"]


@pytest.mark.parametrize("settings", [{"REWARD_UNDO_SECONDS": 0}, {"REWARD_UNDO_COMMANDS": False}])
def test_no_window_sends_at_once(
    make_domain: Callable[..., Domain], settings: dict[str, object]
) -> None:
    domain = make_domain(**settings)
    reward = give(domain)
    assert reward.reward.held_until is None
    assert domain.deliver() == 1 and len(domain.sends()) == 1


def test_the_button_offers_what_is_left_of_the_window(domain: Domain) -> None:
    reward = give(domain)
    assert domain.rewards.undo_left(reward) == 60
    later(45)
    assert domain.rewards.undo_left(domain.reward(reward.short_id)) == 15
    later(16)  # a command resumed after a restart, past the window: no button
    assert domain.rewards.undo_left(domain.reward(reward.short_id)) is None
    pending = give(domain, 500)
    assert domain.rewards.undo_left(pending) is None  # waiting for approval: no Undo
