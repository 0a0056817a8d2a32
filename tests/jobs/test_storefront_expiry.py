"""Points in the bot, through time: reminders name what is left of each credit (after spending
in the store) and carry Redeem; on the day, points-expiry expires what is left, once, and the
balance Xoxoday's store reads says so. With points at Xoxoday, points-expiry does nothing."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

import httpx
import time_machine
from sqlmodel import select

from storage import members as member_repo
from storage import storefront_secrets as secrets_repo
from storage.models import AuditEvent, PointLot
from storage.states import SecretKind
from tests.e2e.harness import BOB, CHEN, MARIA, BotHarness, actions_in, message_text
from tests.jobs.support import T0, dms, give, run_job, wait_status

STOREFRONT = {
    "REWARD_POINT_SYSTEM": "storefront",
    "STOREFRONT_API_KEY": "k",
    "REWARD_EXPIRY_MONTHS": 1,  # points credited on 2 March expire on 2 April
}
EXPIRES = date(2026, 4, 2)


def token_for(bot: BotHarness, user_id: str) -> str:
    with bot.runtime.store.session() as session:
        member = member_repo.get_member_by_slack_id(session, slack_user_id=user_id)
        assert member is not None and member.id is not None
        return secrets_repo.mint(
            session, member_id=member.id, kind=SecretKind.AUTH_TOKEN, lifetime=timedelta(days=90)
        ).raw


def store(bot: BotHarness, endpoint: str, body: dict[str, object]) -> dict[str, object]:
    answer = httpx.post(f"{bot.url}/storefront/{endpoint}", json=body, timeout=10)
    return dict(answer.json())


def test_reminders_name_what_is_left_and_the_rest_expires_on_its_day(
    clock: time_machine.Coordinates, make_bot: Callable[..., BotHarness]
) -> None:
    bot = make_bot(**STOREFRONT)
    wait_status(bot, give(bot, giver=BOB, to=MARIA, amount=100), "sent")
    wait_status(bot, give(bot, giver=BOB, to=CHEN, amount=50), "sent")
    maria, chen = token_for(bot, MARIA), token_for(bot, CHEN)
    spent = store(
        bot,
        "redeem",
        {"unique_id": MARIA, "auth_token": maria, "total_points_redeemed": "39.5", "order_id": "1"},
    )
    assert spent["status"] == "1"
    everything = {"unique_id": CHEN, "auth_token": chen, "total_points_redeemed": 50}
    assert store(bot, "redeem", {**everything, "order_id": "2"})["status"] == "1"

    clock.move_to(T0 + timedelta(days=26))  # 28 March: 5 days left
    assert run_job(bot, "expiry-reminders").detail == (
        "1 reminder(s) sent; 1 person(s) with no points left skipped"
    )
    (reminder,) = dms(bot, MARIA, "of your points expire")
    text = message_text(reminder)
    assert "*60.5* of your points expire on *2 April 2026* (in 5 days)" in text
    assert "You have *60.5 points* to spend" in text and "Press *Redeem*" in text
    assert "points_redeem" in actions_in(reminder)
    assert dms(bot, CHEN, "of your points expire") == []

    clock.move_to(T0 + timedelta(days=31))  # 2 April: their day
    auth = {"unique_id": MARIA, "auth_token": maria}
    assert store(bot, "balance", auth)["data"] == {"unique_id": MARIA, "points": "0"}
    assert run_job(bot, "points-expiry").detail == "60.5 point(s) of 1 person(s) expired"
    clock.shift(timedelta(hours=1))
    assert run_job(bot, "points-expiry").detail == "0 point(s) of 0 person(s) expired"
    with bot.runtime.store.read_session() as session:
        lots = {lot.member_id: lot for lot in session.exec(select(PointLot)).all()}
        expired = [
            e for e in session.exec(select(AuditEvent)).all() if e.action == "points.expired"
        ]
    assert sorted((lot.remaining, lot.expired) for lot in lots.values()) == [(0, 0), (0, 6050)]
    assert len(expired) == 1 and expired[0].after == {"points": "60.5", "lots": [1]}
    assert store(bot, "balance", auth)["points_info"] == {
        "points_received": "100",
        "points_redeemed": "39.5",
        "points_available": "0",
    }


def test_with_points_at_xoxoday_points_expiry_does_nothing(
    clock: time_machine.Coordinates, make_bot: Callable[..., BotHarness]
) -> None:
    bot = make_bot()
    assert run_job(bot, "points-expiry").detail == (
        "points live at Xoxoday, which expires them: nothing to do"
    )
