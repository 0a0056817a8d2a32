"""Admins add or deduct points by hand (`/reward adjust`): with points in the bot, never below
zero, once per request, audited, in the person's history; with points at Xoxoday, where to
change them."""

from __future__ import annotations

import json
from collections.abc import Callable

from sqlmodel import select

from bot.rewards.adjustments import Adjusted, AdjustmentsService
from bot.rewards.commands import AdjustPoints
from bot.rewards.events import PointsAdjusted
from bot.rewards.lists import ListsService
from bot.rewards.refusal import Refusal
from bot.slack.blocks.lists import history_message
from storage.models import AuditEvent, PointAdjustment
from tests.domain.conftest import Domain
from tests.domain.support import ADMIN, BOB, GONE, MARIA, TEAM


def storefront(make_domain: Callable[..., Domain]) -> Domain:
    return make_domain(REWARD_POINT_SYSTEM="storefront", STOREFRONT_API_KEY="k")


def service(domain: Domain) -> AdjustmentsService:
    return AdjustmentsService(
        store=domain.store, people=domain.people, settings=domain.settings, teller=domain.teller
    )


def adjust(domain: Domain, points: int, *, by: str = ADMIN, key: str = "k1", who: str = MARIA):
    return service(domain).adjust(
        AdjustPoints(member=who, points=points, reason="welcome <!channel> bonus"),
        admin_id=by,
        team_id=TEAM,
        request_key=key,
    )


def test_a_deduction_below_zero_is_refused_with_the_balance_and_changes_nothing(
    make_domain: Callable[..., Domain],
) -> None:
    domain = storefront(make_domain)
    domain.given_and_sent(BOB, MARIA, 40, "points at home")
    refused = adjust(domain, -50)
    assert isinstance(refused, Refusal)
    assert refused.text == (
        f"<@{MARIA}> has 40 points available, so I can't deduct 50 points: a balance never "
        "goes below zero. Nothing was changed; you can deduct up to 40 points."
    )
    with domain.store.read_session() as s:
        assert s.exec(select(PointAdjustment)).all() == []
    assert service(domain).available(member_id=MARIA) == 40


def test_adjustments_add_and_deduct_once_per_request_audited_and_in_the_history(
    make_domain: Callable[..., Domain],
) -> None:
    domain = storefront(make_domain)
    domain.given_and_sent(BOB, MARIA, 40, "points at home")
    added = adjust(domain, 25, key="k1")
    assert added == Adjusted(member=MARIA, points=25, reason="welcome <!channel> bonus", balance=65)
    again = adjust(domain, 25, key="k1")  # Slack delivered it again, or resumed after a crash
    assert again == added
    told = domain.teller.of(PointsAdjusted)
    assert [(e.user_id, e.points, e.admin_id, e.balance, e.key) for e in told] == [
        (MARIA, 25, ADMIN, 65, "k1"),
        (MARIA, 25, ADMIN, 65, "k1"),  # the Slack side tells each key once
    ]
    taken = adjust(domain, -60, key="k2")
    assert isinstance(taken, Adjusted) and taken.balance == 5
    assert service(domain).available(member_id=MARIA) == 5
    with domain.store.read_session() as s:
        events = s.exec(select(AuditEvent).where(AuditEvent.action == "points.adjusted")).all()
    assert [(e.actor, e.reason, e.after["points"]) for e in events] == [
        (ADMIN, "welcome <!channel> bonus", "25"),
        (ADMIN, "welcome <!channel> bonus", "-60"),
    ]
    history = ListsService(store=domain.store, people=domain.people, settings=domain.settings)
    lines = history.history(MARIA).adjustments
    assert [(line.points, line.by) for line in lines] == [(-60, ADMIN), (25, ADMIN)]
    shown = history_message(viewer_id=MARIA, given=(), received=(), tz="UTC", adjustments=lines)
    text = json.dumps(shown["blocks"], ensure_ascii=False)
    assert "*−60 points* by <@UADMIN01>" in text and "*+25 points* by <@UADMIN01>" in text
    assert "<!channel>" not in text  # the reason is shown, and pings nobody


def test_only_admins_adjust(make_domain: Callable[..., Domain]) -> None:
    domain = storefront(make_domain)
    refused = adjust(domain, 25, by=BOB)
    assert isinstance(refused, Refusal)
    assert refused.text.startswith("Only admins can add or deduct points.")


def test_with_points_at_xoxoday_it_says_where_balances_are_changed(domain: Domain) -> None:
    refused = adjust(domain, -5)
    assert isinstance(refused, Refusal)
    assert refused.text == (
        f"Points live at Xoxoday in this workspace, so <@{MARIA}>'s balance is kept in "
        "Xoxoday's dashboard, not in the bot: an admin of your Xoxoday account adds or deducts "
        "points there. Nothing was changed here."
    )
    assert domain.calls("sendBalance") == [] and domain.calls("cancelBalance") == []


def test_an_admin_cannot_add_points_to_themselves(make_domain: Callable[..., Domain]) -> None:
    domain = storefront(make_domain)
    refused = adjust(domain, 500, who=ADMIN)
    assert isinstance(refused, Refusal)
    assert refused.text == (
        "You can't add points to yourself: ask another admin to do it. Nothing was changed."
    )
    with domain.store.read_session() as s:
        assert s.exec(select(PointAdjustment)).all() == []
    assert domain.teller.of(PointsAdjusted) == []


def test_points_are_not_added_to_a_deactivated_account(make_domain: Callable[..., Domain]) -> None:
    domain = storefront(make_domain)
    refused = adjust(domain, 50, who=GONE)
    assert isinstance(refused, Refusal)
    assert refused.text == (
        f"<@{GONE}>'s Slack account is deactivated, so I can't add points to it. Nothing was "
        "changed."
    )
    with domain.store.read_session() as s:
        assert s.exec(select(PointAdjustment)).all() == []


def test_slack_not_answering_says_so_and_changes_nothing(
    make_domain: Callable[..., Domain],
) -> None:
    domain = storefront(make_domain)
    domain.people.unavailable = True
    refused = adjust(domain, 50)
    assert isinstance(refused, Refusal)
    assert refused.text == (
        "Slack isn't answering right now, so nothing was changed. Try again in a minute."
    )
    domain.people.unavailable = False
    with domain.store.read_session() as s:
        assert s.exec(select(PointAdjustment)).all() == []
