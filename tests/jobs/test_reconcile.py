"""The reconcile job against the running bot and the sandbox: yesterday's gift card and donation
orders and (with points at Xoxoday) the points sendBalance delivered, against the sandbox's
payment report of that day. Nothing is said when everything matches; a difference reaches the
admins order by order and reward by reward; with points in the bot only orders count."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from sqlalchemy import update
from sqlmodel import col, select

from bot.jobs.registry import JOBS
from bot.plum import PlumConnectionError
from bot.rewards.reconcile import Reconciliation, days_to_check
from bot.slack.blocks.orders import reconciliation_report
from storage import jobs as job_repo
from storage.models import Reward, RewardRecipient
from storage.states import OrderKind
from tests.e2e.harness import ADMIN, APPROVER, BOB, MARIA, BotHarness, message_text
from tests.e2e.orders_support import order
from tests.jobs.support import dms, give, run_job, wait_status
from tests.slack.blocks.blockkit_rules import check_message

DAY = "2026-03-02"  # T0's day, reconciled the morning after
PAYMENTS = ("paymentHistory", "getPaymentReport")


def next_morning(clock: time_machine.Coordinates) -> None:
    clock.shift(timedelta(days=1))


def recipient_of(bot: BotHarness, short: str) -> RewardRecipient:
    with bot.runtime.store.read_session() as session:
        return session.exec(
            select(RewardRecipient)
            .join(Reward, col(Reward.id) == RewardRecipient.reward_id)
            .where(Reward.short_id == short)
        ).one()


def tamper(bot: BotHarness, short: str, **values: object) -> None:
    """Change what the ledger says of a reward's recipient (as a bug or a lost update would)."""
    row = recipient_of(bot, short)
    with bot.runtime.store.session() as session:
        session.exec(
            update(RewardRecipient).where(col(RewardRecipient.id) == row.id).values(**values)
        )


def reports(bot: BotHarness) -> list[str]:
    return [message_text(m) for m in dms(bot, ADMIN, "doesn't match the ledger")]


def test_a_day_where_everything_matches_says_so_and_tells_nobody(
    clock: time_machine.Coordinates, bot: BotHarness
) -> None:
    first = give(bot, giver=ADMIN, to=MARIA, amount=50)
    second = give(bot, giver=MARIA, to=BOB, amount=30)
    wait_status(bot, first, "sent")
    wait_status(bot, second, "sent")
    order(bot)  # Flipkart, INR, with a discount
    order(bot, product_id=10006, name="Uber Gift Card", denomination=25, currency="USD")
    order(bot, name="GlobalGiving", recipient=None, kind=OrderKind.DONATION)
    order(bot, outcome="failed")  # never charged, not expected
    order(bot, outcome="pending")  # not placed yet
    bot.sandbox.state.set_balance(Decimal(200000))  # a top-up is a credit, not spending
    next_morning(clock)

    result = run_job(bot, "reconcile")
    assert result.outcome == "ok", result.detail
    assert result.detail == (
        f"{DAY}: 3 order(s) and 2 reward recipient(s) match Xoxoday's payment report"
    )
    bot.settle()
    assert reports(bot) == []
    assert JOBS["reconcile"].trigger(bot.settings).fields  # a cron in REWARD_TIMEZONE


def test_differences_reach_the_admins_reward_by_reward_and_order_by_order(
    clock: time_machine.Coordinates, bot: BotHarness
) -> None:
    matching = give(bot, giver=ADMIN, to=MARIA, amount=40)
    more = give(bot, giver=ADMIN, to=BOB, amount=50)  # the ledger will say 80
    lost = give(bot, giver=MARIA, to=BOB, amount=20)  # the ledger will hold another id
    for short in (matching, more, lost):
        wait_status(bot, short, "sent")
    real_id = recipient_of(bot, lost).plum_unique_id
    tamper(bot, more, points=80)
    tamper(bot, lost, plum_unique_id="5700000")
    fine, _ = order(bot)
    missing, _ = order(bot, name="Ghost Gift Card", at_xoxoday=False, denomination=700)
    dearer, placed = order(
        bot, name="Myntra Gift Card", product_id=1234, ledger_charge=Decimal(900)
    )
    assert placed is not None
    bot.sandbox.state.add_payment(
        amount=Decimal(1234), reference_id="DASH-77", reason="Order placed in the dashboard"
    )
    next_morning(clock)

    result = run_job(bot, "reconcile")
    assert result.outcome == "ok", result.detail
    assert result.detail == (
        f"{DAY}: 6 difference(s) in 3 order(s) and 3 reward recipient(s): told 1 admin(s)"
    )
    (report,) = reports(bot)
    assert dms(bot, APPROVER) == []
    assert "Xoxoday spending on 2 March 2026 doesn't match the ledger" in report
    lines = report.splitlines()

    def line(*needles: str) -> str:
        found = [x for x in lines if all(n in x for n in needles)]
        assert len(found) == 1, (needles, report)
        return found[0]

    # order by order
    assert "in the ledger at *700.00*, not in Xoxoday's payment report" in line(missing)
    assert "Ghost Gift Card" in line(missing) and f"<@{MARIA}>" in line(missing)
    charged = placed.order.amount_charged
    assert f"the ledger expects *900.00*, Xoxoday charged *{charged:,.2f}*" in line(dearer)
    assert not [x for x in lines if fine in x]
    # reward by reward
    assert "80 points to <@UBOB0001>, Xoxoday charged *50.00*" in line(f"`{more}`")
    assert f"from <@{ADMIN}>" in line(f"`{more}`")
    assert "20 points to <@UBOB0001> not in Xoxoday's report (unique id 5700000)" in line(
        f"`{lost}`"
    )
    assert not [x for x in lines if f"`{matching}`" in x]
    # payments the ledger doesn't know
    assert "*1,234.00*, reference `DASH-77`" in line("DASH-77")
    assert "Order placed in the dashboard" in line("DASH-77")
    assert "*20.00*" in line(f"reference `{real_id}`")
    assert "Payments the ledger doesn't know" in report


def test_with_points_in_the_bot_only_orders_count(
    clock: time_machine.Coordinates, make_bot
) -> None:
    bot = make_bot(REWARD_POINT_SYSTEM="storefront", STOREFRONT_API_KEY="k")
    short = give(bot, giver=ADMIN, to=MARIA, amount=50)
    wait_status(bot, short, "sent")
    order(bot)
    next_morning(clock)
    assert run_job(bot, "reconcile").detail == f"{DAY}: 1 order(s) match Xoxoday's payment report"

    missing, _ = order(bot, at_xoxoday=False)
    next_morning(clock)  # the order above is today's; tomorrow reconciles it
    result = run_job(bot, "reconcile")
    assert result.detail == "2026-03-03: 1 difference(s) in 1 order(s): told 1 admin(s)"
    (report,) = reports(bot)
    assert missing in report and "only orders count" in report


def test_xoxoday_unreachable_fails_the_run_and_tells_nobody(
    clock: time_machine.Coordinates, bot: BotHarness
) -> None:
    order(bot, at_xoxoday=False)
    bot.sandbox.faults.set("paymentHistory", error="PIPE10017")
    next_morning(clock)
    result = run_job(bot, "reconcile")
    assert result.outcome == "failed"
    assert "couldn't read Xoxoday's payment report" in result.detail
    bot.settle()
    assert reports(bot) == []


def test_a_long_list_of_differences_fits_one_message(
    clock: time_machine.Coordinates, bot: BotHarness
) -> None:
    for i in range(400):
        bot.sandbox.state.add_payment(amount=Decimal(1), reference_id=f"FEE-{i}", reason="x" * 200)
    next_morning(clock)
    result = run_job(bot, "reconcile")
    assert result.detail.startswith(f"{DAY}: 400 difference(s)"), result.detail
    (dm,) = dms(bot, ADMIN, "doesn't match")
    check_message(dm)
    assert "more." in message_text(dm)


def test_the_report_blocks_are_valid_with_nothing_listed() -> None:
    empty = Reconciliation(
        day=date(2026, 3, 2),
        points_at_xoxoday=True,
        orders_checked=0,
        recipients_checked=0,
        ledger_total=Decimal(0),
        plum_total=Decimal(0),
        cut_short=True,
    )
    check_message(reconciliation_report(result=empty, currency="INR"))


def test_a_gift_and_a_donation_sent_from_slack_match_the_payment_report(
    clock: time_machine.Coordinates, make_bot: Callable[..., BotHarness]
) -> None:
    """Orders placed by the gift form and its worker (not made by hand) reconcile, a
    donation in dollars converted at Xoxoday's rate."""
    from tests.e2e import test_gifts as gifts

    bot = make_bot(REWARD_APPROVAL_THRESHOLD=100_000)

    gifts.gift_for_maria(bot)
    view = gifts.open_form(bot, "donate")
    charity = gifts.search(bot, view, "")[0]
    view = gifts.pick(bot, view, charity)
    gifts.submit(bot, view, gifts.fill(recipient=None, product=charity, amount="20", select=False))
    bot.wait(lambda: [o.status for o in gifts.orders(bot)] == ["placed", "placed"], 20)
    next_morning(clock)
    result = run_job(bot, "reconcile")
    assert result.detail == (
        f"{DAY}: 2 order(s) and 0 reward recipient(s) match Xoxoday's payment report"
    )
    bot.settle()
    assert reports(bot) == []


# ── every day since the last one reconciled ──────────────────────────────────────────────


def test_after_downtime_every_day_missed_is_compared_one_by_one(
    clock: time_machine.Coordinates, bot: BotHarness
) -> None:
    """Runs missed for three mornings: the next run compares each day in turn (not just
    yesterday), tells the one with a difference, and then has nothing new to compare."""
    order(bot)
    next_morning(clock)
    assert run_job(bot, "reconcile").detail.startswith(f"{DAY}: 1 order(s)")
    order(bot)  # 3 March: matches
    next_morning(clock)
    missing, _ = order(bot, name="Ghost Gift Card", at_xoxoday=False)  # 4 March: not at Xoxoday
    next_morning(clock)
    order(bot, name="GlobalGiving", recipient=None, kind=OrderKind.DONATION)  # 5 March
    next_morning(clock)  # the morning of 6 March; the bot was down since the 3rd

    result = run_job(bot, "reconcile")
    assert result.outcome == "ok", result.detail
    assert result.detail == (
        "3 days from 2026-03-03 to 2026-03-05: 2 match; difference(s) on 2026-03-04 (1): "
        "told 1 admin DM(s)"
    )
    (report,) = reports(bot)
    assert "Xoxoday spending on 4 March 2026 doesn't match the ledger" in report
    assert missing in report
    days = [r["variables"]["data"] for r in bot.sandbox.requests if r["operation"] in PAYMENTS]
    assert [(d["startDate"], d["endDate"]) for d in days[-3:]] == [
        ("2026-03-03", "2026-03-03"),
        ("2026-03-04", "2026-03-04"),
        ("2026-03-05", "2026-03-05"),
    ]

    again = run_job(bot, "reconcile")
    assert again.detail == (
        "nothing to compare: 2026-03-05 was reconciled already (yesterday was 2026-03-05)"
    )
    assert len(reports(bot)) == 1


def test_a_day_xoxoday_could_not_report_is_retried_never_skipped(
    clock: time_machine.Coordinates, bot: BotHarness
) -> None:
    order(bot)
    next_morning(clock)
    run_job(bot, "reconcile")
    missing, _ = order(bot, name="Ghost Gift Card", at_xoxoday=False)  # 3 March
    bot.sandbox.faults.set("paymentHistory", error="PIPE10017")
    next_morning(clock)
    failed = run_job(bot, "reconcile")  # the morning of 4 March
    assert failed.outcome == "failed"
    assert "2026-03-03: couldn't read Xoxoday's payment report (" in failed.detail
    next_morning(clock)
    failed = run_job(bot, "reconcile")  # 5 March: 3 March still first
    assert failed.outcome == "failed"
    assert "2026-03-03: couldn't read Xoxoday's payment report (" in failed.detail
    assert (
        "nothing was compared; 2 day(s) from 2026-03-03 to 2026-03-04 wait for the next run"
    ) in failed.detail
    assert reports(bot) == []

    bot.sandbox.faults.clear()
    next_morning(clock)  # 6 March: Xoxoday answers again
    result = run_job(bot, "reconcile")
    assert result.outcome == "ok", result.detail
    assert result.detail == (
        "3 days from 2026-03-03 to 2026-03-05: 2 match; difference(s) on 2026-03-03 (1): "
        "told 1 admin DM(s)"
    )
    (report,) = reports(bot)
    assert "3 March 2026" in report and missing in report


def test_a_run_stops_at_the_first_day_it_cannot_read_and_keeps_what_it_compared(
    clock: time_machine.Coordinates, bot: BotHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Days before the unreadable one stay compared (told once); it and the days after it are
    the next run's first."""
    order(bot)
    next_morning(clock)
    run_job(bot, "reconcile")
    missing, _ = order(bot, name="Ghost Gift Card", at_xoxoday=False)  # 3 March
    next_morning(clock)
    order(bot)  # 4 March
    next_morning(clock)
    plum = bot.runtime.plum
    reads = plum.payment_history

    def lost_on_the_4th(**query: Any) -> Any:
        if query["start_date"] == date(2026, 3, 4):
            raise PlumConnectionError("connection reset")
        return reads(**query)

    monkeypatch.setattr(plum, "payment_history", lost_on_the_4th)
    failed = run_job(bot, "reconcile")
    assert failed.outcome == "failed"
    assert (
        "2026-03-03: 1 difference(s) in 1 order(s) and 0 reward recipient(s): told 1 admin(s); "
        "2026-03-04: couldn't read Xoxoday's payment report (PlumConnectionError); nothing was "
        "compared (ref "
    ) in failed.detail
    (report,) = reports(bot)
    assert missing in report

    monkeypatch.undo()
    retried = run_job(bot, "reconcile")
    assert retried.detail == (
        "2026-03-04: 1 order(s) and 0 reward recipient(s) match Xoxoday's payment report"
    )
    assert len(reports(bot)) == 1  # 3 March's differences are not told twice


def test_a_clock_that_jumped_ahead_compares_every_day_in_between(
    clock: time_machine.Coordinates, bot: BotHarness
) -> None:
    order(bot)
    next_morning(clock)
    run_job(bot, "reconcile")
    clock.shift(timedelta(days=40))  # more days than one run compares
    first = run_job(bot, "reconcile")
    assert first.detail == (
        "31 days from 2026-03-03 to 2026-04-02: all match Xoxoday's payment report; "
        "9 more day(s) to 2026-04-11 wait for the next run"
    )
    clock.shift(timedelta(days=1))
    assert run_job(bot, "reconcile").detail == (
        "10 days from 2026-04-03 to 2026-04-12: all match Xoxoday's payment report"
    )


def test_a_ledger_reconciled_before_days_were_recorded_goes_on_from_its_last_run(
    clock: time_machine.Coordinates, bot: BotHarness
) -> None:
    """An upgrade: the last run that ended ok (it compared the day before it ran) is where the
    first run of this version starts."""
    with bot.runtime.store.session() as session:
        scheduled = datetime.now(UTC) - timedelta(days=1)  # 1 March's run compared 28 February
        job_repo.claim_job_run(session, job="reconcile", scheduled_for=scheduled)
        job_repo.finish_job_run(session, job="reconcile", scheduled_for=scheduled, outcome="ok")
    next_morning(clock)
    assert run_job(bot, "reconcile").detail == (
        "2 days from 2026-03-01 to 2026-03-02: all match Xoxoday's payment report"
    )


def test_which_days_a_run_compares() -> None:
    day = date(2026, 3, 10)
    assert days_to_check(last_done=None, yesterday=day) == ([day], 0)
    assert days_to_check(last_done=day - timedelta(days=1), yesterday=day) == ([day], 0)
    assert days_to_check(last_done=day, yesterday=day) == ([], 0)
    assert days_to_check(last_done=day + timedelta(days=3), yesterday=day) == ([], 0)  # went back
    found, waiting = days_to_check(last_done=day - timedelta(days=5), yesterday=day, limit=3)
    assert found == [day - timedelta(days=n) for n in (4, 3, 2)] and waiting == 2
