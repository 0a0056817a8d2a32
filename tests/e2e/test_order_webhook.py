"""Xoxoday's delivery webhook, end to end over HTTP (POST /webhooks/plum): the sandbox posts it
as Xoxoday does, the bot keeps it once per event id, updates the order and tells the recipient
and the sender once each; a bad or missing key is 401 and changes nothing; an order the bot did
not place is kept and answered 200; malformed bodies are 400 (413 when too large); an update
that comes before placeOrder's answer was recorded is applied once it is; voucher codes never
appear in a DM or in the kept events."""

from __future__ import annotations

import json
import threading

import httpx
import pytest

from bot.simulators.embedded import WEBHOOK_API_KEY as SANDBOX_WEBHOOK_API_KEY
from storage.states import DeliveryStatus, OrderKind
from tests.e2e.harness import BOB, MARIA, BotHarness, wait_until
from tests.e2e.orders import (
    HOOK_KEY,
    delivery_audits,
    events,
    hook_body,
    order,
    place_order,
    post_hook,
    queue_order,
    record_placed,
    send_order,
    vouchers_of,
)


@pytest.fixture
def bot(make_bot) -> BotHarness:
    bot = make_bot(PLUM_WEBHOOK_API_KEY=HOOK_KEY)
    bot.sandbox.connect_webhook(f"{bot.url}/webhooks/plum", HOOK_KEY)
    return bot


def dms(bot: BotHarness, user: str, needle: str) -> list[str]:
    return [t for t in bot.dm_texts(user) if needle in t]


def test_a_delivery_posted_twice_is_one_update_and_one_dm_each(bot: BotHarness) -> None:
    place_order(bot, "PO-HOOK-1", sender=BOB, recipient=MARIA)
    told = bot.wait(lambda: dms(bot, MARIA, "has been delivered") or None)
    bot.wait(lambda: dms(bot, BOB, "has been delivered") or None)
    bot.settle()
    assert "Your gift card from <@UBOB0001>" in told[0] and "*Starbucks US eGift*" in told[0]
    assert "Reveal" in told[0]
    assert order(bot, "PO-HOOK-1").delivery_status == DeliveryStatus.DELIVERED
    [event] = bot.sandbox.webhooks.log
    assert event["outcome"] == "sent"
    # Xoxoday posts the same event again (a retry after a lost answer), and another event
    # with the same news.
    order_id = order(bot, "PO-HOOK-1").plum_order_id
    again = hook_body("PO-HOOK-1", "Delivered", event_id=event["event_id"], order_id=order_id)
    first = post_hook(bot, again)
    assert first.status_code == 200 and first.json()["duplicate"] is True
    other = post_hook(bot, hook_body("PO-HOOK-1", "DELIVERED"))
    assert other.status_code == 200 and other.json() == {
        "ok": True,
        "duplicate": False,
        "matched": True,
    }
    bot.settle()
    assert len(dms(bot, MARIA, "delivered")) == 1
    assert len(dms(bot, BOB, "delivered")) == 1
    assert len(delivery_audits(bot, "PO-HOOK-1")) == 1
    kept = events(bot)
    assert len(kept) == 2 and all(e.matched for e in kept)
    # The codes are in the order's encrypted response only.
    codes = vouchers_of(bot, "PO-HOOK-1")
    assert codes
    seen = " ".join([*bot.dm_texts(MARIA), *bot.dm_texts(BOB), *(str(e.body) for e in kept)])
    assert not any(code in seen for code in codes)
    assert "DEMO-PIN" not in seen


def test_a_canceled_order_is_told_as_canceled(bot: BotHarness) -> None:
    bot.sandbox.webhooks.cancel_next(1)
    place_order(bot, "PO-CANCEL", sender=BOB, recipient=MARIA)
    told = bot.wait(lambda: dms(bot, MARIA, "could not be delivered") or None)
    assert "Xoxoday canceled it" in told[0]
    bot.wait(lambda: dms(bot, BOB, "could not be delivered") or None)
    assert order(bot, "PO-CANCEL").delivery_status == DeliveryStatus.CANCELED


def test_a_donation_in_the_teams_name_tells_the_sender_only(bot: BotHarness) -> None:
    place_order(bot, "PO-GIVE", sender=BOB, recipient=None, kind=OrderKind.DONATION)
    told = bot.wait(lambda: dms(bot, BOB, "donation") or None)
    assert "in the team's name" in told[0] and "has been made" in told[0]
    bot.settle()
    assert dms(bot, MARIA, "donation") == []


def test_a_bad_or_missing_key_is_refused_and_changes_nothing(bot: BotHarness) -> None:
    bot.sandbox.disconnect_webhook()
    place_order(bot, "PO-KEY")
    bot.settle()
    for key in (None, "wrong", HOOK_KEY + "x", ""):
        refused = post_hook(bot, hook_body("PO-KEY"), key=key)
        assert refused.status_code == 401, key
    bot.settle()
    assert events(bot) == []
    assert order(bot, "PO-KEY").delivery_status is None
    assert dms(bot, MARIA, "delivered") == []


def test_an_order_the_bot_did_not_place_is_kept_and_answered_200(bot: BotHarness) -> None:
    for body in (hook_body("PO-NOT-OURS"), hook_body(None, order_id=424242)):
        answer = post_hook(bot, body)
        assert answer.status_code == 200 and answer.json()["matched"] is False
    kept = events(bot)
    assert [(e.po_number, e.plum_order_id, e.matched) for e in kept] == [
        ("PO-NOT-OURS", None, False),
        (None, "424242", False),
    ]


def test_an_update_found_by_xoxodays_order_id_alone(bot: BotHarness) -> None:
    bot.sandbox.disconnect_webhook()
    placed = place_order(bot, "PO-BY-ID")
    answer = post_hook(bot, hook_body(None, "delivered", order_id=int(placed.plum_order_id or 0)))
    assert answer.json()["matched"] is True
    bot.wait(lambda: dms(bot, MARIA, "has been delivered") or None)


@pytest.mark.parametrize(
    ("raw", "why"),
    [
        (b"not json", "the body must be JSON"),
        (b"[1, 2]", "the body must be a JSON object"),
        (b'{"data": {"poNumber": "PO-1"}}', "id (the event's id) is required"),
        (b'{"id": "e1", "data": "delivered"}', "data must be an object"),
        (b'{"id": "e1", "data": {"deliveryStatus": "delivered"}}', "data.poNumber or"),
        (b'{"id": {"x": 1}, "data": {"poNumber": "PO-1"}}', "id must be a string"),
        (b'{"id": "e1", "data": {"poNumber": "PO-1", "deliveryStatus": 5}}', "must be a string"),
        (json.dumps({"id": "e" * 101, "data": {"poNumber": "P"}}).encode(), "longer than 100"),
        (b"[" * 100_000 + b"]" * 100_000, ""),  # too large, and too deep
    ],
)
def test_malformed_bodies_are_400_and_kept_nowhere(bot: BotHarness, raw: bytes, why: str) -> None:
    answer = post_hook(bot, None, raw=raw)
    assert answer.status_code in ((413,) if not why else (400,)), answer.text
    assert why in answer.json()["error"]
    assert events(bot) == []


def test_an_oversized_body_is_413(bot: BotHarness) -> None:
    body = hook_body("PO-BIG")
    body["padding"] = "x" * 70_000
    assert post_hook(bot, body).status_code == 413
    chunks = (b"x" * 1024 for _ in range(100))  # no content-length: counted as it comes
    streamed = httpx.post(
        f"{bot.url}/webhooks/plum", content=chunks, headers={"x-api-key": HOOK_KEY}, timeout=10
    )
    assert streamed.status_code == 413
    assert events(bot) == []


def test_an_update_before_the_placeorder_answer_is_applied_once_it_is_recorded(
    bot: BotHarness,
) -> None:
    bot.sandbox.disconnect_webhook()
    queue_order(bot, "PO-EARLY", sender=BOB, recipient=MARIA)
    placed = send_order(bot, "PO-EARLY")  # Xoxoday has it; the bot has not recorded it yet
    early = post_hook(bot, hook_body("PO-EARLY", "delivered", order_id=placed.order.order_id))
    assert early.status_code == 200 and early.json()["matched"] is True
    bot.settle()
    assert order(bot, "PO-EARLY").delivery_status is None  # kept, not applied yet
    assert dms(bot, MARIA, "delivered") == []
    record_placed(bot, "PO-EARLY", placed)  # the worker records the answer
    assert order(bot, "PO-EARLY").delivery_status == DeliveryStatus.DELIVERED
    bot.wait(lambda: dms(bot, MARIA, "has been delivered") or None)
    bot.wait(lambda: dms(bot, BOB, "has been delivered") or None)
    bot.runtime.order_updates.order_placed("PO-EARLY")  # again: nothing more
    bot.settle()
    assert len(dms(bot, MARIA, "delivered")) == len(dms(bot, BOB, "delivered")) == 1


def test_without_a_key_the_route_is_not_served(make_bot) -> None:
    bot = make_bot()
    answer = post_hook(bot, hook_body("PO-1"))
    assert answer.status_code == 404


def test_a_ledger_that_cannot_take_it_answers_503_not_500(bot: BotHarness, monkeypatch) -> None:
    def broken(body: object) -> None:
        raise RuntimeError("database is locked")

    monkeypatch.setattr(bot.runtime.order_updates, "receive", broken)
    assert post_hook(bot, hook_body("PO-1")).status_code == 503


def test_the_embedded_sandbox_posts_to_the_bots_own_webhook(make_bot) -> None:
    bot = make_bot(PLUM_BASE_URL="sandbox")
    sandbox = bot.embedded_sandbox
    assert sandbox is not None and bot.bot.plum_webhook is not None
    target = sandbox.webhooks.target
    assert target is not None
    assert target.url == f"{bot.url}/webhooks/plum"  # where the bot's web app listens
    assert target.api_key == SANDBOX_WEBHOOK_API_KEY
    bot.sandbox = sandbox  # the order's vouchers are in the embedded sandbox
    place_order(bot, "PO-EMBEDDED", sender=BOB, recipient=MARIA)
    bot.wait(lambda: dms(bot, MARIA, "has been delivered") or None)
    # the sandbox notes the webhook's outcome once the bot has answered it (after the DM, maybe)
    wait_until(lambda: sandbox.webhooks.log[-1]["outcome"] == "sent", what="the webhook answered")


def race(bot: BotHarness, po: str) -> None:
    """The webhook and the poll's lookup of `po`, let go at the same instant."""
    start = threading.Barrier(2)

    def hook() -> None:
        start.wait()
        assert post_hook(bot, hook_body(po)).status_code == 200

    def poll() -> None:
        start.wait()
        bot.runtime.order_updates.check(po)

    threads = [threading.Thread(target=hook), threading.Thread(target=poll)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)


def test_the_webhook_and_the_poll_racing_tell_each_change_once(bot: BotHarness) -> None:
    pos = [f"PO-RACE-{i}" for i in range(5)]
    for po in pos:
        bot.sandbox.webhooks.drop_next(1)  # the webhook below is the only one
        place_order(bot, po, sender=BOB, recipient=MARIA)
        race(bot, po)
    bot.wait(lambda: len(dms(bot, BOB, "has been delivered")) == len(pos) or None)
    bot.settle()
    assert len(dms(bot, MARIA, "has been delivered")) == len(pos)
    assert len(dms(bot, BOB, "has been delivered")) == len(pos)
    assert all(len(delivery_audits(bot, po)) == 1 for po in pos)


def test_a_delivery_the_placeorder_answer_gave_is_not_told_again_by_the_webhook(
    bot: BotHarness,
) -> None:
    """The worker tells what placeOrder answered (the Reveal DM): a realtime order's
    `delivered`, confirmed by the webhook, is not told a second time."""
    place_order(bot, "PO-SAID", sender=BOB, recipient=MARIA, note_answer=True)
    bot.wait(lambda: bot.sandbox.webhooks.log and bot.sandbox.webhooks.log[-1]["outcome"] == "sent")
    bot.settle()
    assert order(bot, "PO-SAID").delivery_status == DeliveryStatus.DELIVERED
    assert [e.matched for e in events(bot)] == [True]
    assert dms(bot, MARIA, "delivered") == [] and dms(bot, BOB, "delivered") == []
    assert len(delivery_audits(bot, "PO-SAID")) == 1


def test_a_delivery_after_a_pending_answer_is_told_once(bot: BotHarness) -> None:
    bot.sandbox.webhooks.delay_seconds = 0.5  # Xoxoday answers "pending", delivers later
    placed = place_order(bot, "PO-LATER", sender=BOB, recipient=MARIA, note_answer=True)
    assert placed.status == "placed"
    assert order(bot, "PO-LATER").delivery_status == DeliveryStatus.PENDING
    bot.wait(lambda: dms(bot, MARIA, "has been delivered") or None)
    bot.wait(lambda: dms(bot, BOB, "has been delivered") or None)
    bot.settle()
    assert len(dms(bot, MARIA, "delivered")) == len(dms(bot, BOB, "delivered")) == 1
    assert order(bot, "PO-LATER").delivery_status == DeliveryStatus.DELIVERED
