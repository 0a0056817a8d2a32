"""Giving in a message (`MessageGiving`): a gift line gives through the one give path, held
for the window; a deletion inside it cancels, whatever order the events are handled in; a
message gives once however often it is delivered; what makes no reward is told to its author."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest

from bot.rewards.events import MessageGiftRefused
from bot.rewards.message_gifts import DELETED_WHY, GiftMessage, MessageGiving
from bot.rewards.reactions import Undone
from bot.rewards.refusal import Refusal
from bot.rewards.service import Given
from storage import clock
from storage import reactions as reaction_repo
from tests.domain.conftest import Domain
from tests.domain.support import BOB, CHEN, MARIA, TEAM

CHANNEL, TS = "C0GENERAL", "1765000100.000100"


@pytest.fixture(autouse=True)
def _clock_back() -> Iterator[None]:
    yield
    clock.reset()


@pytest.fixture
def domain(make_domain: Callable[..., Domain]) -> Domain:
    return make_domain(REWARD_UNDO_SECONDS=60, REWARD_VALUES="ownership")


def giving(domain: Domain) -> MessageGiving:
    return MessageGiving(
        store=domain.store,
        people=domain.people,
        settings=domain.settings,
        rewards=domain.rewards,
        teller=domain.teller,
        requests_withdrawn=domain.approvals.refresh_copies,
    )


def said(text: str, by: str = BOB, ts: str = TS) -> GiftMessage:
    return GiftMessage(team_id=TEAM, channel_id=CHANNEL, ts=ts, author_id=by, text=text)


def later(seconds: float) -> None:
    clock.set_offset(clock.offset() + timedelta(seconds=seconds))


def test_a_gift_line_gives_after_the_window_with_its_values(domain: Domain) -> None:
    given = giving(domain).posted(said(f"<@{MARIA}> <@{CHEN}> ++ 20 the release #ownership"))
    assert isinstance(given, Given) and given.created
    assert given.reward.total_points == 40
    assert given.reward.reward.source == "message"
    assert given.reward.values == ("ownership",)
    with domain.store.read_session() as session:
        group = reaction_repo.group_of(session, reward_id=given.reward.id)
    assert group == reaction_repo.Group(CHANNEL, TS)  # announced in the message's thread
    assert domain.deliver() == 0
    later(61)
    assert domain.deliver() == 1


def test_delivered_twice_it_gives_once(domain: Domain) -> None:
    messages = giving(domain)
    assert isinstance(messages.posted(said(f"<@{MARIA}> ++ 5 thanks")), Given)
    assert messages.posted(said(f"<@{MARIA}> ++ 5 thanks")) is None
    assert len(domain.statuses()) == 1


def test_deleted_inside_the_window_nothing_is_sent(domain: Domain) -> None:
    messages = giving(domain)
    given = messages.posted(said(f"<@{MARIA}> ++ 5 thanks"))
    assert isinstance(given, Given)
    undone = messages.deleted(channel_id=CHANNEL, ts=TS, event_ts="1765000101.000001")
    assert isinstance(undone, Undone)
    reward = domain.reward(given.reward.short_id)
    assert (reward.status, reward.reward.cancel_reason) == ("cancelled", DELETED_WHY)
    later(61)
    assert domain.deliver() == 0 and domain.sends() == []


def test_a_deletion_handled_first_means_it_never_gives(domain: Domain) -> None:
    messages = giving(domain)
    assert messages.deleted(channel_id=CHANNEL, ts=TS, event_ts="1765000101.000001") is None
    assert messages.posted(said(f"<@{MARIA}> ++ 5 thanks")) is None
    assert domain.statuses() == []


def test_deleted_after_the_window_it_stands(domain: Domain) -> None:
    messages = giving(domain)
    messages.posted(said(f"<@{MARIA}> ++ 5 thanks"))
    later(61)
    domain.deliver()
    assert messages.deleted(channel_id=CHANNEL, ts=TS, event_ts="1765000200.000001") is None
    assert domain.statuses() == ["sent"]


def test_what_makes_no_reward_is_told_to_its_author_alone(domain: Domain) -> None:
    messages = giving(domain)
    assert isinstance(messages.posted(said(f"<@{MARIA}> ++ lots")), Refusal)
    assert isinstance(messages.posted(said(f"<@{BOB}> ++ 5 me", ts="1765000100.000200")), Refusal)
    told = domain.teller.of(MessageGiftRefused)
    assert [(t.user_id, t.channel_id) for t in told] == [(BOB, CHANNEL), (BOB, CHANNEL)]
    assert told[0].thread_ts == TS
    assert domain.statuses() == []


def test_not_a_gift_says_nothing(domain: Domain) -> None:
    assert giving(domain).posted(said(f"thanks <@{MARIA}> for the 20 fixes")) is None
    assert domain.teller.kinds() == []


def test_turned_off(make_domain: Callable[..., Domain]) -> None:
    domain = make_domain(REWARD_MESSAGE_GIVING="false")
    assert giving(domain).posted(said(f"<@{MARIA}> ++ 5 thanks")) is None
    assert domain.statuses() == [] and domain.teller.kinds() == []


def test_a_guest_from_another_company_gives_nothing(domain: Domain) -> None:
    message = GiftMessage(
        team_id="T0THERS1",
        channel_id=CHANNEL,
        ts=TS,
        author_id=BOB,
        text=f"<@{MARIA}> ++ 5 thanks",
    )
    assert giving(domain).posted(message) is None
    assert domain.statuses() == [] and domain.teller.kinds() == []
