"""order-status: a missed webhook is caught by the poll (getOrderDetails by poNumber), told once
whether the webhook comes late or not; an order left `unknown` is found placed; a `requested`
order Xoxoday never got stays unknown (never failed) and the admins hear of it once."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
import time_machine

from bot.jobs.registry import JOBS
from bot.jobs.scheduler import next_fire_time
from storage.links import record_order_response, reveal_order_response
from storage.states import DeliveryStatus, OrderStatus
from tests.e2e.harness import ADMIN, BOB, MARIA, BotHarness, message_text
from tests.e2e.orders import (
    HOOK_KEY,
    delivery_audits,
    hook_body,
    order,
    place_order,
    post_hook,
    queue_order,
    send_order,
    vouchers_of,
)
from tests.jobs.support import T0, dms, run_job


@pytest.fixture
def bot(make_bot: Callable[..., BotHarness]) -> BotHarness:
    bot = make_bot(PLUM_WEBHOOK_API_KEY=HOOK_KEY)
    bot.sandbox.connect_webhook(f"{bot.url}/webhooks/plum", HOOK_KEY)
    return bot


def test_it_runs_every_ten_minutes_in_the_teams_time_zone(bot: BotHarness) -> None:
    trigger = JOBS["order-status"].trigger(bot.settings)
    assert next_fire_time(trigger, now=T0 + timedelta(minutes=1)) == T0 + timedelta(minutes=10)


def test_a_missed_webhook_is_caught_by_the_poll_and_told_once(
    bot: BotHarness, clock: time_machine.Coordinates
) -> None:
    bot.sandbox.webhooks.drop_next(1)
    place_order(bot, "PO-MISSED", sender=BOB, recipient=MARIA)
    bot.settle()
    assert bot.sandbox.webhooks.log[-1]["outcome"] == "dropped"
    assert order(bot, "PO-MISSED").delivery_status is None
    assert run_job(bot, "order-status").detail == "no orders waiting for their delivery status"
    clock.move_to(T0 + timedelta(minutes=11))
    result = run_job(bot, "order-status")
    assert result.ok and result.detail == "checked 1 order(s); 1 delivered", result
    assert order(bot, "PO-MISSED").delivery_status == DeliveryStatus.DELIVERED
    bot.wait(lambda: dms(bot, MARIA, "has been delivered") or None)
    bot.wait(lambda: dms(bot, BOB, "has been delivered") or None)
    lookups = [r for r in bot.sandbox.requests if r["operation"] == "getOrderDetails"]
    assert len(lookups) == 1
    # The webhook comes after all (late), and the poll runs again: nobody hears it twice.
    assert post_hook(bot, hook_body("PO-MISSED", "Delivered")).status_code == 200
    clock.move_to(T0 + timedelta(minutes=30))
    assert run_job(bot, "order-status").detail == "no orders waiting for their delivery status"
    bot.settle()
    assert len(dms(bot, MARIA, "delivered")) == len(dms(bot, BOB, "delivered")) == 1
    assert len(delivery_audits(bot, "PO-MISSED")) == 1
    codes = vouchers_of(bot, "PO-MISSED")
    assert not any(c in " ".join(bot.dm_texts(MARIA) + bot.dm_texts(BOB)) for c in codes)


def test_a_delivery_still_pending_is_asked_again_next_time(
    bot: BotHarness, clock: time_machine.Coordinates
) -> None:
    bot.sandbox.webhooks.drop_next(1)
    bot.sandbox.webhooks.delay_seconds = 3600  # Xoxoday delivers in an hour
    place_order(bot, "PO-SLOW")
    clock.move_to(T0 + timedelta(minutes=11))
    assert run_job(bot, "order-status").detail == "checked 1 order(s)"
    assert order(bot, "PO-SLOW").delivery_status == DeliveryStatus.PENDING
    assert dms(bot, MARIA, "delivered") == []
    assert bot.sandbox.state.deliver(
        bot.sandbox.state.order(po_number="PO-SLOW").order_id  # type: ignore[union-attr]
    )
    clock.move_to(T0 + timedelta(minutes=31))
    assert run_job(bot, "order-status").detail == "checked 1 order(s); 1 delivered"
    bot.wait(lambda: dms(bot, MARIA, "has been delivered") or None)


def test_an_unknown_order_is_found_placed_by_its_po_number(
    bot: BotHarness, clock: time_machine.Coordinates
) -> None:
    bot.sandbox.disconnect_webhook()
    queue_order(bot, "PO-LOST", sender=BOB, recipient=MARIA)
    send_order(bot, "PO-LOST")  # Xoxoday placed it; the answer was lost
    with bot.runtime.store.session() as session:
        record_order_response(
            session, po_number="PO-LOST", status="unknown", response=None, actor="test-worker"
        )
    clock.move_to(T0 + timedelta(minutes=11))
    result = run_job(bot, "order-status")
    assert result.detail == "checked 1 order(s); 1 delivered; 1 found placed by poNumber"
    found = order(bot, "PO-LOST")
    assert found.status == OrderStatus.PLACED and found.plum_order_id
    assert found.delivery_status == DeliveryStatus.DELIVERED
    codes = vouchers_of(bot, "PO-LOST")
    assert not any(c in str(found.response_redacted) for c in codes)  # shown redacted
    with bot.runtime.store.read_session() as session:
        full = reveal_order_response(session, po_number="PO-LOST")
    assert all(c in str(full) for c in codes)  # kept, encrypted, for Reveal
    bot.wait(lambda: dms(bot, MARIA, "has been delivered") or None)
    assert len([r for r in bot.sandbox.requests if r["operation"] == "placeOrder"]) == 1


def test_a_request_xoxoday_never_got_stays_unknown_and_the_admins_hear_once(
    bot: BotHarness, clock: time_machine.Coordinates
) -> None:
    queue_order(bot, "PO-NEVER", sender=BOB, recipient=MARIA)  # the worker died before sending
    clock.move_to(T0 + timedelta(minutes=10))
    assert run_job(bot, "order-status").detail == "no orders waiting for their delivery status"
    clock.move_to(T0 + timedelta(minutes=16))
    result = run_job(bot, "order-status")
    assert result.detail == "checked 1 order(s); 1 not found at Xoxoday (kept unknown)"
    assert order(bot, "PO-NEVER").status == OrderStatus.UNKNOWN  # not failed: can't prove it
    told = bot.wait(lambda: dms(bot, ADMIN, "needs a look") or None)
    assert "PO-NEVER" in message_text(told[0]) and "stays unknown" in message_text(told[0])
    clock.move_to(T0 + timedelta(minutes=40))
    assert run_job(bot, "order-status").detail.startswith("checked 1 order(s); 1 not found")
    bot.settle()
    assert len(dms(bot, ADMIN, "needs a look")) == 1
    assert dms(bot, BOB, "needs a look") == [] and dms(bot, MARIA, "delivered") == []


def test_an_order_xoxoday_cannot_be_asked_about_waits_for_the_next_run(
    bot: BotHarness, clock: time_machine.Coordinates
) -> None:
    bot.sandbox.webhooks.drop_next(1)
    place_order(bot, "PO-OUTAGE")
    bot.sandbox.faults.set("getOrderDetails", error="503")
    clock.move_to(T0 + timedelta(minutes=11))
    result = run_job(bot, "order-status")
    assert result.ok and result.detail == "checked 1 order(s); 1 could not be looked up"
    bot.sandbox.faults.clear()
    clock.move_to(T0 + timedelta(minutes=21))
    assert run_job(bot, "order-status").detail == "checked 1 order(s); 1 delivered"


def test_an_order_the_worker_left_unknown_is_looked_up_again_without_new_alerts(
    bot: BotHarness, clock: time_machine.Coordinates
) -> None:
    queue_order(bot, "PO-UNSURE")  # never reached Xoxoday; the worker said unknown (and told)
    with bot.runtime.store.session() as session:
        record_order_response(
            session, po_number="PO-UNSURE", status="unknown", response=None, actor="test-worker"
        )
    for minutes in (11, 21):
        clock.move_to(T0 + timedelta(minutes=minutes))
        result = run_job(bot, "order-status")
        assert result.detail == "checked 1 order(s); 1 not found at Xoxoday (kept unknown)"
    assert order(bot, "PO-UNSURE").status == OrderStatus.UNKNOWN
    bot.settle()
    assert dms(bot, ADMIN, "needs a look") == []
    lookups = [r for r in bot.sandbox.requests if r["operation"] == "getOrderDetails"]
    assert len(lookups) == 2
