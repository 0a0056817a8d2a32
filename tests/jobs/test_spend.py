"""The weekly summary's spend against the sandbox's payment history, end to end: rewards given
with `/reward` and delivered by sendBalance, one of them cancelled, a gift card and a dollar
donation ordered through the gift form, all in one week; the next Monday the admins' DM says
what the account paid, part by part, to the cent of what the sandbox recorded: its debits for
points, gift cards and donations, and its credits for what came back."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal

import time_machine

from bot.jobs.weekly_summary import week_bounds
from bot.rewards.spending import spend_between
from bot.simulators.plum_sandbox.records import LedgerEntry
from bot.slack.blocks.common import money
from storage.states import DeliveryStatus, OrderKind
from tests.e2e.harness import ADMIN, BOB, CHEN, MARIA, BotHarness, answer_cancel, message_text
from tests.e2e.orders_support import order
from tests.jobs.support import dms, give, run_job, wait_status

MONDAY = date(2026, 3, 2)  # T0's week


def in_week(entry: LedgerEntry) -> bool:
    since, until = week_bounds(MONDAY, "UTC")
    return since <= entry.at < until


def test_the_weekly_spend_is_what_xoxoday_recorded_as_paid(
    clock: time_machine.Coordinates, make_bot: Callable[..., BotHarness]
) -> None:
    from tests.e2e import test_gifts as gifts

    bot = make_bot(REWARD_APPROVAL_THRESHOLD=100_000, REWARD_GIFT_MONTHLY_CAP="100000")
    for giver, to, amount in ((ADMIN, MARIA, 50), (MARIA, BOB, 30), (ADMIN, CHEN, 45)):
        wait_status(bot, give(bot, giver=giver, to=to, amount=amount), "sent")
    cancelled = give(bot, giver=BOB, to=CHEN, amount=25)
    wait_status(bot, cancelled, "sent")
    bot.driver.command(f"cancel {cancelled} sent twice", user_id=ADMIN)
    assert "withdrew" in answer_cancel(bot.fake, bot.driver, ADMIN).lower()
    wait_status(bot, cancelled, "cancelled")

    gifts.gift_for_maria(bot)
    view = gifts.open_form(bot, "donate")
    charity = gifts.search(bot, view, "")[0]
    view = gifts.pick(bot, view, charity)
    gifts.submit(
        bot, view, gifts.fill(recipient=None, product=charity, amount="20.5", select=False)
    )
    bot.wait(lambda: [o.status for o in gifts.orders(bot)] == ["placed", "placed"] or None, 20)

    clock.move_to(datetime(2026, 3, 9, 7, 0, tzinfo=UTC))  # next Monday, before the summary
    wait_status(bot, give(bot, giver=ADMIN, to=BOB, amount=70), "sent")  # next week's spending

    result = run_job(bot, "weekly-summary")
    assert result.outcome == "ok", result.detail
    (dm,) = dms(bot, ADMIN, "Spend")
    seen = message_text(dm)

    # what the sandbox recorded that week: debits by what made them, and the credits back
    history = [e for e in bot.sandbox.state.ledger() if in_week(e)]
    points_ids = {str(t.unique_id) for t in bot.sandbox.state.transactions()}
    kinds = {str(o.plum_order_id): o.kind for o in gifts.orders(bot)}
    debits = [e for e in history if e.amount < 0]
    points = -sum((e.amount for e in debits if e.reference_id in points_ids), Decimal(0))
    cards = -sum(
        (e.amount for e in debits if kinds.get(e.reference_id) == OrderKind.GIFT), Decimal(0)
    )
    donated = -sum(
        (e.amount for e in debits if kinds.get(e.reference_id) == OrderKind.DONATION), Decimal(0)
    )
    back = sum((e.amount for e in history if e.amount > 0 and e.status == "Cancelled"), Decimal(0))
    assert points + cards + donated == -sum((e.amount for e in debits), Decimal(0))  # nothing else
    assert points == 150 and back == 25 and cards > 0 and donated == Decimal(1702)  # 20.5 USD
    currency = bot.sandbox.state.currency
    assert (
        f"*Spend*\n{money(points + cards + donated, currency)}\n"  # nothing the week before
        f"points {money(points, None)} · gift cards {money(cards, None)} · "
        f"donations {money(donated, None)}\n"
        f"{money(back, None)} refunded (rewards and orders cancelled)"
    ) in seen
    assert f"Spend: {money(points + cards + donated, currency)}." in dm["text"]


def test_orders_count_at_what_xoxoday_charged_and_doubt_and_refunds_apart(
    bot: BotHarness,
) -> None:
    """Placed orders at Xoxoday's amountCharged (a discounted card, a dollar card, a donation);
    one whose outcome is unknown is counted apart, a failed one not at all; one Xoxoday canceled
    is refunded its charge; rewards in the bot's points (storefront) would count nothing."""
    _, card = order(bot)  # Flipkart, INR, with a discount
    _, dollars = order(
        bot, product_id=10006, name="Uber Gift Card", denomination=25, currency="USD"
    )
    _, donation = order(bot, name="GlobalGiving", recipient=None, kind=OrderKind.DONATION)
    _, canceled = order(bot, delivery=DeliveryStatus.CANCELED)
    order(bot, outcome="unknown")
    order(bot, outcome="failed")
    assert card and dollars and donation and canceled
    since, until = week_bounds(MONDAY, "UTC")
    with bot.runtime.store.read_session() as session:
        spend = spend_between(session, since=since, until=until, points_at_xoxoday=True)
        in_the_bot = spend_between(session, since=since, until=until, points_at_xoxoday=False)
    charged = [p.order.amount_charged for p in (card, dollars, canceled)]
    assert spend.gift_cards == sum(charged, Decimal(0))
    assert card.order.amount_charged < 500  # the discount: what was charged, not the face value
    assert spend.donations == donation.order.amount_charged
    assert spend.points == 0 and spend.orders_in_doubt == 1
    assert spend.refunded == canceled.order.amount_charged
    assert spend.total == spend.gift_cards + spend.donations
    assert in_the_bot == replace(spend, points_at_xoxoday=False)
