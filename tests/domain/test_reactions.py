"""Giving with a reaction (`ReactionService`): a reward emoji on a person's message gives its
author through the one give path, held for the undo window; removing it inside the window
takes it back with nothing said, adding it again gives once; after the window the giver hears
once that it was sent. Out-of-order and repeated events count once."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest

from bot.rewards.events import ReactionRefused, ReactionTooLate, RewardSent
from bot.rewards.reactions import UNDONE_WHY, Reaction, ReactionService, Undone
from bot.rewards.refusal import Refusal
from bot.rewards.service import Given
from storage import clock
from storage import messages as message_repo
from storage import reactions as reaction_repo
from tests.domain.conftest import Domain
from tests.domain.support import ADMIN, BOB, CHEN, HELPERBOT, MARIA, TEAM

CHANNEL, TS = "C0GENERAL", "1765000000.000100"
LINK = "https://acme.slack.com/archives/C0GENERAL/p1765000000000100"
_ticks = itertools.count(1)


@pytest.fixture(autouse=True)
def _clock_back() -> Iterator[None]:
    yield
    clock.reset()


@pytest.fixture
def domain(make_domain: Callable[..., Domain]) -> Domain:
    return make_domain(REWARD_REACTIONS="taco=5,star=10,trophy=600", REWARD_UNDO_SECONDS=60)


def service(domain: Domain) -> ReactionService:
    return ReactionService(
        store=domain.store,
        people=domain.people,
        settings=domain.settings,
        rewards=domain.rewards,
        teller=domain.teller,
        requests_withdrawn=domain.approvals.refresh_copies,
    )


def event(
    by: str = BOB,
    emoji: str = "taco",
    author: str | None = MARIA,
    ts: str | None = None,
    message: str = TS,
) -> Reaction:
    """A reaction event; each one made later than the one before (Slack's event_ts)."""
    return Reaction(
        team_id=TEAM,
        channel_id=CHANNEL,
        message_ts=message,
        reactor_id=by,
        author_id=author,
        emoji=emoji,
        event_ts=ts or f"1765000001.{next(_ticks):06d}",
    )


def later(seconds: float) -> None:
    clock.set_offset(clock.offset() + timedelta(seconds=seconds))


def links() -> Callable[[], str]:
    asked: list[int] = []

    def link() -> str:
        asked.append(1)
        return LINK

    link.asked = asked  # type: ignore[attr-defined]
    return link


def test_a_reward_emoji_gives_its_author_after_the_window(domain: Domain) -> None:
    given = service(domain).added(event(emoji="taco::skin-tone-3"), link=lambda: LINK)
    assert isinstance(given, Given) and given.created
    reward = given.reward
    assert (reward.giver.slack_user_id, [r.member.slack_user_id for r in reward.recipients]) == (
        BOB,
        [MARIA],
    )
    assert reward.reward.citation == f"for {LINK}"
    assert reward.total_points == 5
    assert reward.reward.source == "reaction"

    assert domain.deliver() == 0  # held: nothing leaves inside the window
    assert domain.sends() == []
    later(61)
    assert domain.deliver() == 1
    assert len(domain.sends()) == 1
    assert domain.reward(reward.short_id).status == "sent"


def test_removed_inside_the_window_is_cancelled_and_nobody_hears(domain: Domain) -> None:
    reactions = service(domain)
    given = reactions.added(event(), link=lambda: LINK)
    assert isinstance(given, Given)
    domain.teller.clear()
    undone = reactions.removed(event())
    assert isinstance(undone, Undone)
    reward = domain.reward(given.reward.short_id)
    assert reward.status == "cancelled" and reward.reward.cancel_reason == UNDONE_WHY
    assert domain.teller.kinds() == []  # no trace anywhere
    later(61)
    assert domain.deliver() == 0 and domain.sends() == []


def test_removed_and_added_again_inside_the_window_is_one_reward(domain: Domain) -> None:
    reactions = service(domain)
    reactions.added(event(), link=lambda: LINK)
    reactions.removed(event())
    again = reactions.added(event(), link=lambda: LINK)
    assert isinstance(again, Given) and again.created
    assert reactions.added(event(), link=lambda: LINK) is None  # Slack's repeat: nothing
    later(61)
    assert domain.deliver() == 1
    assert len(domain.sends()) == 1
    assert sorted(domain.statuses()) == ["cancelled", "sent"]


def test_events_handled_out_of_order_end_as_slack_sent_them(domain: Domain) -> None:
    reactions = service(domain)
    added, removed = event(), event()  # added first, then removed (by event_ts)
    assert reactions.removed(removed) is None  # handled first: nothing to take back yet
    assert reactions.added(added, link=lambda: LINK) is None  # older than the removal
    later(61)
    assert domain.deliver() == 0 and domain.statuses() == []


def test_after_the_window_removing_tells_the_giver_once(domain: Domain) -> None:
    reactions = service(domain)
    given = reactions.added(event(), link=lambda: LINK)
    assert isinstance(given, Given)
    later(61)
    domain.deliver()
    assert isinstance(reactions.removed(event()), ReactionTooLate)
    reactions.added(event(), link=lambda: LINK)  # added again: it gave already
    assert reactions.removed(event()) is None  # told once
    [late] = domain.teller.of(ReactionTooLate)
    assert late.reward.short_id == given.reward.short_id
    assert domain.reward(given.reward.short_id).status == "sent"
    assert len(domain.sends()) == 1


def test_once_per_emoji(domain: Domain) -> None:
    reactions = service(domain)
    reactions.added(event(emoji="taco"), link=lambda: LINK)
    reactions.added(event(emoji="taco::skin-tone-2"), link=lambda: LINK)  # the same emoji
    reactions.added(event(emoji="star"), link=lambda: LINK)
    later(61)
    domain.deliver()  # one sendBalance call may carry both
    amounts = [r["amount"] for s in domain.sends() for r in s["variables"]["recipients"]]
    assert sorted(amounts) == ["10", "5"]


def test_other_emoji_bots_and_system_messages_do_nothing_and_say_nothing(domain: Domain) -> None:
    reactions = service(domain)
    link = links()
    assert reactions.added(event(emoji="eyes"), link=link) is None
    assert reactions.added(event(author=HELPERBOT), link=link) is None
    assert reactions.added(event(author=None), link=link) is None
    assert reactions.added(event(author="USLACKBOT"), link=link) is None
    assert reactions.added(event(author="UNOBODY1"), link=link) is None
    assert link.asked == []  # type: ignore[attr-defined]  # not even a permalink
    assert domain.statuses() == [] and domain.teller.kinds() == []


def test_another_teams_event_does_nothing(domain: Domain) -> None:
    other = Reaction(
        team_id="T0THERS1",
        channel_id=CHANNEL,
        message_ts=TS,
        reactor_id=BOB,
        author_id=MARIA,
        emoji="taco",
        event_ts="1765000002.000001",
    )
    assert service(domain).added(other, link=lambda: LINK) is None
    assert domain.statuses() == []


def test_the_rules_apply_and_the_giver_hears_why_privately(
    make_domain: Callable[..., Domain],
) -> None:
    domain = make_domain(REWARD_REACTIONS="taco=5", REWARD_ALLOWANCE=8)
    reactions = service(domain)
    assert isinstance(reactions.added(event(), link=lambda: LINK), Given)
    over = reactions.added(event(author=CHEN, message="1765000000.000200"), link=lambda: LINK)
    assert isinstance(over, Refusal)
    own = reactions.added(event(by=MARIA, author=MARIA), link=lambda: LINK)  # her own
    assert isinstance(own, Refusal)
    told = domain.teller.of(ReactionRefused)
    assert [(t.user_id, t.channel_id) for t in told] == [(BOB, CHANNEL), (MARIA, CHANNEL)]
    assert "allowance" in told[0].text.lower() or "left" in told[0].text.lower()
    assert len(domain.statuses()) == 1


def test_over_the_threshold_waits_for_an_approver_and_undo_withdraws_the_request(
    domain: Domain,
) -> None:
    reactions = service(domain)
    given = reactions.added(event(emoji="trophy"), link=lambda: LINK)  # 600: over 500
    assert isinstance(given, Given) and given.needs_approval
    assert "ApprovalAsked" in domain.teller.kinds()
    undone = reactions.removed(event(emoji="trophy"))
    assert isinstance(undone, Undone)
    assert domain.reward(given.reward.short_id).status == "cancelled"
    assert domain.teller.of(RewardSent) == []


def test_no_window_sends_at_once(make_domain: Callable[..., Domain]) -> None:
    domain = make_domain(REWARD_REACTIONS="taco=5", REWARD_UNDO_SECONDS=0)
    given = service(domain).added(event(), link=lambda: LINK)
    assert isinstance(given, Given)
    assert domain.deliver() == 1


# ── pile-on: a reward emoji on the bot's announcement of a reward ──────────────────────────

ANNOUNCEMENT_TS = "1765000009.000900"


def announced(domain: Domain, giver: str = BOB, to: str | list[str] = MARIA, amount: int = 40):
    reward = domain.given_and_sent(giver, to, amount, "shipped the release")
    with domain.store.session() as session:
        message_repo.record_reward_message(
            session,
            reward_id=reward.id,
            kind="announcement",
            channel_id=CHANNEL,
            message_ts=ANNOUNCEMENT_TS,
        )
    return reward


def test_a_reward_emoji_on_an_announcement_joins_the_reward(domain: Domain) -> None:
    joined = announced(domain, to=[MARIA, CHEN], amount=40)
    given = service(domain).added(
        event(by=ADMIN, author=None, message=ANNOUNCEMENT_TS), link=lambda: LINK
    )
    assert isinstance(given, Given) and given.created
    reward = given.reward
    assert reward.giver.slack_user_id == ADMIN
    assert sorted(r.member.slack_user_id for r in reward.recipients) == sorted([MARIA, CHEN])
    assert {r.points for r in reward.recipients} == {40}  # the same amount, not the emoji's
    assert reward.reward.citation == joined.reward.citation
    with domain.store.read_session() as session:
        group = reaction_repo.group_of(session, reward_id=reward.id)
    assert group == reaction_repo.Group(CHANNEL, ANNOUNCEMENT_TS)
    later(61)
    assert domain.deliver() == 1


def test_a_recipient_joining_leaves_themselves_out_and_the_giver_gives_nothing(
    domain: Domain,
) -> None:
    announced(domain, to=[MARIA, CHEN], amount=40)
    reactions = service(domain)
    assert (
        reactions.added(event(by=BOB, author=None, message=ANNOUNCEMENT_TS), link=links()) is None
    )
    given = reactions.added(event(by=MARIA, author=None, message=ANNOUNCEMENT_TS), link=links())
    assert isinstance(given, Given)
    assert [r.member.slack_user_id for r in given.reward.recipients] == [CHEN]
    assert domain.teller.of(ReactionRefused) == []


def test_thanking_for_your_own_reward_gives_nothing_and_says_nothing(domain: Domain) -> None:
    announced(domain, to=MARIA)
    given = service(domain).added(
        event(by=MARIA, author=None, message=ANNOUNCEMENT_TS), link=lambda: LINK
    )
    assert given is None
    assert domain.teller.of(ReactionRefused) == []
    assert domain.statuses() == ["sent"]


def test_joining_spends_the_joiners_allowance(make_domain: Callable[..., Domain]) -> None:
    domain = make_domain(REWARD_REACTIONS="taco=5", REWARD_ALLOWANCE=30)
    announced(domain, giver=ADMIN, to=MARIA, amount=40)  # admins have no allowance
    refused = service(domain).added(
        event(by=CHEN, author=None, message=ANNOUNCEMENT_TS), link=lambda: LINK
    )
    assert isinstance(refused, Refusal)
    [told] = domain.teller.of(ReactionRefused)
    assert told.user_id == CHEN


def test_joining_then_removing_inside_the_window_takes_it_back(domain: Domain) -> None:
    announced(domain)
    reactions = service(domain)
    given = reactions.added(event(by=CHEN, author=None, message=ANNOUNCEMENT_TS), link=links())
    assert isinstance(given, Given)
    assert isinstance(reactions.removed(event(by=CHEN, message=ANNOUNCEMENT_TS)), Undone)
    assert domain.reward(given.reward.short_id).status == "cancelled"
