"""Allowances per person or user group (`Budgets`), carry-over across a month boundary, and the
once-a-month note when a giver reaches their limit."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import pytest
import time_machine

from bot.rewards.budgets import allowances_text
from bot.rewards.commands import GroupRef, SetAllowance
from bot.rewards.events import AllowanceReached
from bot.rewards.group_rewards import GroupGiveRequest, Preview
from bot.rewards.refusal import Refusal
from bot.rewards.service import GiveRequest
from storage import audit
from storage.states import RewardSource
from tests.domain.conftest import Domain
from tests.domain.support import ADMIN, BOB, CHEN, DESIGN, MARIA, TEAM

DESIGN_TEAM = GroupRef(group_id=DESIGN, handle="@design-team")
MID_MARCH = datetime(2026, 3, 14, 12, 0, tzinfo=UTC)
KEYS = iter(range(10**6))


@pytest.fixture
def clock() -> Iterator[time_machine.Coordinates]:
    with time_machine.travel(MID_MARCH, tick=True) as traveller:
        yield traveller


def try_give(domain: Domain, giver: str, to: str | list[str], amount: int) -> Refusal | str:
    outcome = domain.rewards.give(
        GiveRequest(
            giver_id=giver,
            team_id=TEAM,
            recipient_ids=(to,) if isinstance(to, str) else tuple(to),
            amount=amount,
            citation="thanks",
            values=(),
            channel_id="C0GENERAL",
            source=RewardSource.COMMAND,
            idempotency_key=f"budget:{next(KEYS)}",
        )
    )
    return outcome if isinstance(outcome, Refusal) else outcome.reward.short_id


def set_allowance(domain: Domain, **kw: object) -> str:
    said = domain.budgets.set(SetAllowance(**kw), admin_id=ADMIN)  # type: ignore[arg-type]
    assert isinstance(said, str), said
    return said


def test_a_persons_allowance_replaces_the_default(make_domain: Callable[..., Domain]) -> None:
    domain = make_domain(REWARD_ALLOWANCE="100")
    said = set_allowance(domain, person=BOB, points=500)
    assert said == f"✅ <@{BOB}> may give *500 points* a month from now on."
    said = set_allowance(domain, person=BOB, points=600)
    assert said == f"✅ <@{BOB}> may give *600 points* a month from now on (it was 500 points)."
    set_allowance(domain, person=BOB, points=500)
    assert isinstance(try_give(domain, BOB, MARIA, 400), str)
    refused = try_give(domain, BOB, MARIA, 200)
    assert isinstance(refused, Refusal)
    assert "you have 100 points of your 500 left" in refused.text
    assert domain.budgets.read(BOB).left == 100


def test_a_groups_allowance_is_its_members_the_largest_wins_own_wins_over_all(
    make_domain: Callable[..., Domain],
) -> None:
    domain = make_domain(REWARD_ALLOWANCE="100")
    domain.groups.groups["S0SMALL"] = (BOB,)
    set_allowance(domain, group=DESIGN_TEAM, points=2000)
    set_allowance(domain, group=GroupRef("S0SMALL", "@small"), points=300)
    bob = domain.budgets.read(BOB)
    assert (bob.allowance, bob.source, bob.group) == (2000, "group", "@design-team")
    assert domain.budgets.read(BOB).left == 2000
    assert domain.budgets.read(ADMIN).is_admin  # admins: no limit whatever their groups
    assert domain.budgets.read(ADMIN).left is None
    set_allowance(domain, person=BOB, points=50)
    assert domain.budgets.read(BOB).allowance == 50
    set_allowance(domain, person=BOB, points=None)  # default: back to his group's
    assert domain.budgets.read(BOB).allowance == 2000
    set_allowance(domain, group=DESIGN_TEAM, points=None)
    assert domain.budgets.read(BOB).allowance == 300
    # who is in a group is asked of Slack only for groups an allowance is set for
    looked = domain.groups.lookups
    domain.budgets.read(BOB)
    assert domain.groups.lookups == looked + 1


def test_every_change_is_audited_and_listed(make_domain: Callable[..., Domain]) -> None:
    domain = make_domain(REWARD_ALLOWANCE="100", REWARD_ALLOWANCE_CARRYOVER_MAX="50")
    set_allowance(domain, group=DESIGN_TEAM, points=2000)
    set_allowance(domain, person=MARIA, points=500)
    assert set_allowance(domain, person=MARIA, points=500) == (
        f"<@{MARIA}> already has 500 points a month. Nothing changed."
    )
    assert set_allowance(domain, person=MARIA, points=None) == (
        f"✅ <@{MARIA}>'s own allowance of 500 points a month is removed: they have their user "
        "group's, or the default (100 points a month)."
    )
    assert set_allowance(domain, person=MARIA, points=None) == (
        f"<@{MARIA}> has no allowance of their own, so nothing changed."
    )
    with domain.store.read_session() as session:
        maria = audit.events_for(session, subject_type="allowance.person", subject_id=MARIA)
        design = audit.events_for(session, subject_type="allowance.group", subject_id=DESIGN)
    assert [(e.actor, e.action, e.before, e.after) for e in maria] == [
        (ADMIN, "allowance.set", None, {"points": 500, "label": ""}),
        (ADMIN, "allowance.removed", {"points": 500, "label": ""}, None),
    ]
    assert [e.action for e in design] == ["allowance.set"]
    listed = domain.budgets.list(admin_id=ADMIN)
    assert not isinstance(listed, Refusal)
    text = allowances_text(listed)
    assert text.startswith("The default is *100 points* a month; up to 50 points left unspent")
    assert "• @design-team (user group): *2,000 points* a month, set by <@UADMIN01>" in text
    assert "<!subteam" not in text  # never a live group mention: it would ping them all


def test_members_may_not_set_or_list_allowances(domain: Domain) -> None:
    refused = domain.budgets.set(SetAllowance(person=BOB, points=9999), admin_id=BOB)
    assert isinstance(refused, Refusal) and refused.text.startswith("Only admins can")
    assert isinstance(domain.budgets.list(admin_id=MARIA), Refusal)
    assert domain.budgets.read(BOB).allowance == 1000


def test_an_unknown_group_bot_or_person_is_refused(domain: Domain) -> None:
    forged = domain.budgets.set(
        SetAllowance(group=GroupRef("S0FORGED", "@design-team"), points=10), admin_id=ADMIN
    )
    assert isinstance(forged, Refusal) and "can't find the user group" in forged.text
    nobody = domain.budgets.set(SetAllowance(person="U0NOBODY", points=10), admin_id=ADMIN)
    assert isinstance(nobody, Refusal) and "can't find" in nobody.text
    bot = domain.budgets.set(SetAllowance(person="UBOT0001", points=10), admin_id=ADMIN)
    assert isinstance(bot, Refusal) and "is a bot" in bot.text


def test_carry_over_across_a_month_boundary(
    make_domain: Callable[..., Domain], clock: time_machine.Coordinates
) -> None:
    domain = make_domain(REWARD_ALLOWANCE="300", REWARD_ALLOWANCE_CARRYOVER_MAX="150")
    assert isinstance(try_give(domain, BOB, MARIA, 100), str)  # March: 200 of 300 unspent
    march = domain.budgets.read(BOB)  # new in March: nothing carried from February
    assert (march.allowance, march.carried, march.given) == (300, 0, 100)
    clock.move_to(datetime(2026, 4, 2, 9, 0, tzinfo=UTC))
    april = domain.budgets.read(BOB)
    assert (april.allowance, april.base, april.carried, april.given) == (450, 300, 150, 0)
    assert isinstance(try_give(domain, BOB, MARIA, 450), str)
    refused = try_give(domain, BOB, MARIA, 1)
    assert (
        isinstance(refused, Refusal) and "all 450 points of your monthly allowance" in refused.text
    )
    clock.move_to(datetime(2026, 5, 2, 9, 0, tzinfo=UTC))
    may = domain.budgets.read(BOB)  # April was all spent: nothing carried
    assert (may.allowance, may.carried) == (300, 0)


def test_without_carry_over_nothing_carries(
    make_domain: Callable[..., Domain], clock: time_machine.Coordinates
) -> None:
    domain = make_domain(REWARD_ALLOWANCE="300")
    assert isinstance(try_give(domain, BOB, MARIA, 100), str)
    clock.move_to(datetime(2026, 4, 2, 9, 0, tzinfo=UTC))
    assert domain.budgets.read(BOB).allowance == 300


def test_reaching_the_limit_is_told_once_a_month(
    make_domain: Callable[..., Domain], clock: time_machine.Coordinates
) -> None:
    domain = make_domain(REWARD_ALLOWANCE="100")
    assert isinstance(try_give(domain, BOB, MARIA, 60), str)
    assert domain.teller.of(AllowanceReached) == []
    assert isinstance(try_give(domain, BOB, MARIA, 40), str)
    told = domain.teller.of(AllowanceReached)
    assert told == [
        AllowanceReached(user_id=BOB, allowance=100, resets_on=datetime(2026, 4, 1).date())
    ]
    assert isinstance(try_give(domain, BOB, MARIA, 1), Refusal)
    # an approver's rejection gives some back; reaching it again the same month: no second note
    assert len(domain.teller.of(AllowanceReached)) == 1
    clock.move_to(datetime(2026, 4, 2, 9, 0, tzinfo=UTC))
    assert isinstance(try_give(domain, BOB, MARIA, 100), str)
    assert len(domain.teller.of(AllowanceReached)) == 2  # April's


def test_a_group_reward_counts_members_times_amount_against_a_group_allowance(
    make_domain: Callable[..., Domain],
) -> None:
    domain = make_domain(REWARD_ALLOWANCE="10")
    set_allowance(domain, group=DESIGN_TEAM, points=40)
    shown = domain.group_rewards.preview(
        GroupGiveRequest(
            giver_id=BOB,
            team_id=TEAM,
            groups=(DESIGN_TEAM,),
            people=(),
            amount=20,
            citation="launch",
            values=(),
            channel_id=None,
            request_key="command:budget",
        )
    )
    assert isinstance(shown, Preview) and shown.recipients == (MARIA, CHEN)
    assert shown.allowance_left == 0
    domain.group_rewards.send(preview_id=shown.preview_id, user_id=BOB)
    assert domain.budgets.read(BOB).left == 0
    assert domain.teller.of(AllowanceReached)[0].allowance == 40


def test_an_approver_sees_the_givers_own_allowance(make_domain: Callable[..., Domain]) -> None:
    domain = make_domain(REWARD_ALLOWANCE="100", REWARD_APPROVAL_THRESHOLD="50")
    set_allowance(domain, person=BOB, points=2000)
    short = try_give(domain, BOB, MARIA, 60)
    assert isinstance(short, str)
    reward = domain.reward(short)
    with domain.store.read_session() as session:
        month = domain.approvals.giver_month(session, reward)
    assert (month.allowance, month.given_before) == (2000, 0)


def test_the_whole_allowance_flag_weighs_a_giver_against_their_own(
    make_domain: Callable[..., Domain], clock: time_machine.Coordinates
) -> None:
    domain = make_domain(REWARD_ALLOWANCE="1000")
    set_allowance(domain, person=BOB, points=300)
    assert isinstance(try_give(domain, BOB, MARIA, 300), str)  # all of March's, to Maria
    assert isinstance(try_give(domain, CHEN, MARIA, 300), str)  # a third of Chen's (default)
    clock.move_to(datetime(2026, 4, 3, 9, 0, tzinfo=UTC))
    assert isinstance(try_give(domain, BOB, MARIA, 300), str)  # and all of April's
    assert isinstance(try_give(domain, CHEN, MARIA, 300), str)
    flagged = domain.flags.scan()
    assert [(f.rule.value, f.people) for f in flagged] == [("allowance", (BOB, MARIA))]
