"""A reward to a user group (`GroupRewards`): the preview (who, how many, the total, who is left
out), Send given once however often it is pressed, Cancel, and the rules of any reward."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from bot.rewards.commands import GroupRef
from bot.rewards.group_rewards import Cancelled, GroupGiveRequest, Preview
from bot.rewards.refusal import Refusal
from bot.rewards.service import Given
from storage import audit
from storage.models import GroupPreview, Reward
from tests.domain.conftest import Domain
from tests.domain.support import (
    ADMIN,
    BOB,
    CHEN,
    DESIGN,
    GONE,
    HELPERBOT,
    MARIA,
    NOMAIL,
    TEAM,
)

DESIGN_TEAM = GroupRef(group_id=DESIGN, handle="@design-team")


def ask(
    domain: Domain,
    *,
    giver: str = BOB,
    groups: tuple[GroupRef, ...] = (DESIGN_TEAM,),
    people: tuple[str, ...] = (),
    amount: int = 10,
    key: str = "command:1",
) -> Preview | Refusal:
    return domain.group_rewards.preview(
        GroupGiveRequest(
            giver_id=giver,
            team_id=TEAM,
            groups=groups,
            people=people,
            amount=amount,
            citation="for the launch",
            values=(),
            channel_id="C0GENERAL",
            request_key=key,
        )
    )


def preview(domain: Domain, **kw: object) -> Preview:
    shown = ask(domain, **kw)  # type: ignore[arg-type]
    assert isinstance(shown, Preview), shown
    return shown


def rewards(domain: Domain) -> list[Reward]:
    with domain.store.read_session() as session:
        return list(session.exec(select(Reward)).all())


def test_the_preview_says_who_gets_what_and_who_is_left_out_and_gives_nothing(
    domain: Domain,
) -> None:
    shown = preview(domain)
    assert shown.recipients == (MARIA, CHEN)
    assert shown.total == 20 and shown.amount == 10
    assert shown.left_out == (
        (BOB, "self"),
        (NOMAIL, "no_email"),
        (GONE, "deactivated"),
        (HELPERBOT, "bot"),
    )
    assert shown.groups == "@design-team"
    assert rewards(domain) == []  # nothing given before Send
    assert domain.sends() == []


def test_send_gives_once_however_often_it_is_pressed(domain: Domain) -> None:
    shown = preview(domain)
    with ThreadPoolExecutor(4) as pool:
        outcomes = list(
            pool.map(
                lambda _: domain.group_rewards.send(preview_id=shown.preview_id, user_id=BOB),
                range(4),
            )
        )
    assert all(isinstance(o, Given) for o in outcomes)
    given = [o for o in outcomes if isinstance(o, Given)]
    assert sum(o.created for o in given) == 1
    assert len({o.reward.short_id for o in given}) == 1
    assert len(rewards(domain)) == 1
    domain.deliver()
    sends = domain.sends()
    assert len(sends) == 1
    variables = sends[0]["variables"]
    recipients = variables.get("recipients") or variables["recipients_data"]["recipients"]
    assert sorted(r["to_email"] for r in recipients) == ["chen@acme.test", "maria@acme.test"]
    assert {r["amount"] for r in recipients} == {"10"}
    assert domain.xoxoday.state.points_of("maria@acme.test") == 10


def test_cancel_gives_nothing_and_send_after_it_is_refused(domain: Domain) -> None:
    shown = preview(domain)
    cancelled = domain.group_rewards.cancel(preview_id=shown.preview_id, user_id=BOB)
    assert isinstance(cancelled, Cancelled)
    again = domain.group_rewards.cancel(preview_id=shown.preview_id, user_id=BOB)
    assert isinstance(again, Cancelled)  # a double click says the same
    sent = domain.group_rewards.send(preview_id=shown.preview_id, user_id=BOB)
    assert isinstance(sent, Refusal) and "cancelled" in sent.text
    assert rewards(domain) == []
    with domain.store.read_session() as session:
        actions = [
            e.action
            for e in audit.events_for(
                session, subject_type="group_preview", subject_id=shown.preview_id
            )
        ]
    assert actions == ["group_reward.previewed", "group_reward.cancelled"]


def test_cancel_after_send_says_where_the_reward_is(domain: Domain) -> None:
    shown = preview(domain)
    sent = domain.group_rewards.send(preview_id=shown.preview_id, user_id=BOB)
    assert isinstance(sent, Given)
    late = domain.group_rewards.cancel(preview_id=shown.preview_id, user_id=BOB)
    assert isinstance(late, Given) and not late.created
    assert late.reward.short_id == sent.reward.short_id


@pytest.mark.parametrize(
    "forged",
    [lambda p: p + 1000, lambda p: 0],
    ids=["unknown-id", "zero"],
)
def test_a_forged_preview_id_or_someone_else_sends_nothing(
    domain: Domain, forged: Callable[[int], int]
) -> None:
    shown = preview(domain)
    refused = domain.group_rewards.send(preview_id=forged(shown.preview_id), user_id=BOB)
    assert isinstance(refused, Refusal) and "out of date" in refused.text
    stranger = domain.group_rewards.send(preview_id=shown.preview_id, user_id=MARIA)
    assert isinstance(stranger, Refusal) and f"Only <@{BOB}>" in stranger.text
    cancel = domain.group_rewards.cancel(preview_id=shown.preview_id, user_id=MARIA)
    assert isinstance(cancel, Refusal)
    assert rewards(domain) == []


def test_the_same_command_shows_the_same_preview(domain: Domain) -> None:
    first = preview(domain, key="command:same")
    domain.groups.groups[DESIGN] = (MARIA,)  # the group changed: the preview stands
    second = preview(domain, key="command:same")
    assert second.preview_id == first.preview_id
    assert second.recipients == (MARIA, CHEN)
    with domain.store.read_session() as session:
        assert len(session.exec(select(GroupPreview)).all()) == 1


@pytest.mark.parametrize(
    ("members", "says"),
    [
        ((), "@design-team has no members"),
        ((BOB,), "You're the only member of @design-team"),
        ((HELPERBOT, NOMAIL), "Nobody in @design-team can receive points"),
    ],
    ids=["empty", "only-the-giver", "nobody-eligible"],
)
def test_a_group_with_nobody_to_reward(domain: Domain, members: tuple[str, ...], says: str) -> None:
    domain.groups.groups[DESIGN] = members
    refused = ask(domain)
    assert isinstance(refused, Refusal)
    assert refused.text.startswith(says)
    assert len(refused.text) < 400


def test_a_forged_group_id_is_not_found(domain: Domain) -> None:
    refused = ask(domain, groups=(GroupRef(group_id="S0FORGED", handle="@design-team"),))
    assert isinstance(refused, Refusal)
    assert refused.text.startswith("I can't find the user group @design-team")


def test_a_group_of_500_is_refused_with_the_cap_before_any_profile_is_read(
    domain: Domain,
) -> None:
    domain.groups.groups["S0BIG"] = tuple(f"U{i:07d}" for i in range(500))  # nobody Slack knows
    refused = ask(domain, groups=(GroupRef(group_id="S0BIG", handle="@everyone-else"),))
    assert isinstance(refused, Refusal)
    assert refused.text == (
        "@everyone-else has 500 people, and one reward goes to at most 100. Reward a smaller "
        "group, or mention people one by one."
    )


def test_slack_down_is_said_plainly(domain: Domain) -> None:
    domain.groups.unavailable = True
    refused = ask(domain)
    assert isinstance(refused, Refusal) and "Slack isn't answering" in refused.text


def test_the_allowance_counts_every_member(make_domain: Callable[..., Domain]) -> None:
    domain = make_domain(REWARD_ALLOWANCE="15")
    refused = ask(domain)
    assert isinstance(refused, Refusal)
    assert refused.text.startswith(
        "That's 20 points in all (2 people × 10), but you have 15 points of your 15 left"
    )
    assert "Lower the amount to 7 or less" in refused.text


def test_a_total_from_the_threshold_waits_for_approval(make_domain: Callable[..., Domain]) -> None:
    domain = make_domain(REWARD_APPROVAL_THRESHOLD="20")
    shown = preview(domain)
    assert shown.needs_approval
    sent = domain.group_rewards.send(preview_id=shown.preview_id, user_id=BOB)
    assert isinstance(sent, Given) and sent.needs_approval
    assert domain.sends() == []


def test_people_mentioned_beside_the_group_go_through_the_rules(domain: Domain) -> None:
    shown = preview(domain, people=(ADMIN, MARIA))
    assert shown.recipients == (ADMIN, MARIA, CHEN)  # Maria once
    refused = ask(domain, people=(HELPERBOT,), key="command:2")  # named: refused, not left out
    assert isinstance(refused, Refusal) and "is a bot" in refused.text


def test_a_locked_giver_gets_no_preview(domain: Domain) -> None:
    from bot.rewards.commands import LockGiver

    domain.locks.lock(LockGiver(member=BOB, reason="ring"), admin_id=ADMIN, team_id=TEAM)
    refused = ask(domain)
    assert isinstance(refused, Refusal) and "paused your giving" in refused.text


def test_killed_between_confirming_and_giving_the_resumed_click_gives_once(
    domain: Domain,
) -> None:
    """A SIGKILL after Send was recorded (the preview confirmed) but before the reward was
    committed: the click, resumed from the journal, gives it; any other click finds it."""
    from storage import group_previews

    shown = preview(domain)
    with domain.store.session() as session:
        assert group_previews.decide(
            session, preview_id=shown.preview_id, to=group_previews.CONFIRMED, actor=BOB
        )
    assert rewards(domain) == []
    resumed = domain.group_rewards.send(preview_id=shown.preview_id, user_id=BOB)
    assert isinstance(resumed, Given) and resumed.created
    again = domain.group_rewards.send(preview_id=shown.preview_id, user_id=BOB)
    assert isinstance(again, Given) and not again.created
    cancel = domain.group_rewards.cancel(preview_id=shown.preview_id, user_id=BOB)
    assert isinstance(cancel, Given) and not cancel.created
    assert len(rewards(domain)) == 1


def test_without_the_scope_the_giver_is_told_to_mention_people(domain: Domain) -> None:
    from bot.rewards.directory import GroupsNotAllowed

    def refuse(group_id: str) -> tuple[str, ...]:
        raise GroupsNotAllowed("missing_scope")

    domain.groups.members = refuse  # type: ignore[method-assign]
    refused = ask(domain)
    assert isinstance(refused, Refusal)
    assert refused.text.startswith("Slack doesn't let me see who is in user groups yet")
    assert "Meanwhile, mention people one by one." in refused.text


def test_a_preview_older_than_a_day_sends_nothing(domain: Domain) -> None:
    import time_machine

    shown = preview(domain)
    with time_machine.travel(datetime.now(UTC) + timedelta(hours=25), tick=True):
        refused = domain.group_rewards.send(preview_id=shown.preview_id, user_id=BOB)
    assert isinstance(refused, Refusal) and "more than a day old" in refused.text
    assert rewards(domain) == []


def test_at_most_five_groups_in_one_reward(domain: Domain) -> None:
    many = tuple(GroupRef(group_id=f"S{i}", handle=f"@g{i}") for i in range(6))
    looked = domain.groups.lookups
    refused = ask(domain, groups=many)
    assert isinstance(refused, Refusal) and refused.text.startswith("Name at most 5 user groups")
    assert domain.groups.lookups == looked  # refused before asking Slack


def test_the_command_again_after_send_or_cancel_shows_how_it_ended(domain: Domain) -> None:
    first = preview(domain, key="command:a")
    domain.group_rewards.send(preview_id=first.preview_id, user_id=BOB)
    again = preview(domain, key="command:a")
    assert again.sent and not again.cancelled
    second = preview(domain, key="command:b")
    domain.group_rewards.cancel(preview_id=second.preview_id, user_id=BOB)
    assert preview(domain, key="command:b").cancelled
