"""Slow Xoxoday, fast answers: with Xoxoday taking 5 s, whoever asked sees a reply within
Slack's 3 s saying what is being fetched, and then the answer, for every `/reward` subcommand
that waits on Xoxoday (`/reward balance` has its own tests in test_balance.py)."""

from __future__ import annotations

import time
from unittest.mock import Mock

import pytest
from slack_bolt import Ack, BoltContext

from bot.rewards.gifts import GiftRequest
from bot.slack.ids import ActionId, BlockId
from bot.slack.listeners import gifts
from bot.slack.request_entry import ENTRY, RequestEntry
from tests.e2e.harness import ADMIN, APPROVER, MARIA, BotHarness, actions_in, message_text
from tests.e2e.test_cancel import cancel_calls, give_and_wait
from tests.e2e.test_gifts import (
    fill,
    gift_dm,
    gift_for_maria,
    open_form,
    orders,
    pick,
    placed,
    search,
    submit,
)
from tests.e2e.test_home import publishes
from tests.e2e.test_links import link_form, pick_campaign

SLOW_MS = 5000
SLOW = "Xoxoday is slow to answer right now"


@pytest.mark.parametrize(
    ("text", "operation", "fetching", "answer"),
    [
        ("campaigns", "campaignList", "fetching the reward link campaigns", "7890"),
        (
            f"link <@{MARIA}> 7890",
            "generateLink",
            "making the reward link",
            "I sent <@UMARIA01> a reward link",
        ),
        ("links 7890 3", "generateLink", "making 3 reward links", "CSV file in our DM"),
        (
            "orders report last month",
            "getOrderHistory",
            "reading its orders and payments for the report",
            "two CSV files in our DM",
        ),
    ],
    ids=["campaigns", "link", "links", "orders-report"],
)
def test_a_slow_xoxoday_is_said_at_once_and_the_answer_follows(
    make_bot, text: str, operation: str, fetching: str, answer: str
) -> None:
    bot: BotHarness = make_bot(plum_timeout=10.0)
    bot.sandbox.faults.set(operation, latency_ms=SLOW_MS)
    started = time.monotonic()
    response = bot.driver.command(text, user_id=ADMIN)
    assert response.status_code == 200 and response.text == ""
    first = bot.wait(lambda: bot.replies_to(ADMIN), timeout=3.0)
    assert time.monotonic() - started < 3.0
    assert len(first) == 1
    assert f"{SLOW}: {fetching}. I'll post the answer here as soon as it comes." in first[0]
    assert answer not in first[0]
    later = bot.wait(lambda: bot.replies_to(ADMIN)[1:], timeout=20.0)
    assert answer in later[0]
    assert time.monotonic() - started >= SLOW_MS / 1000
    bot.settle()
    assert len(bot.replies_to(ADMIN)) == 2  # the note and the answer, nothing more


def test_a_quick_xoxoday_gives_one_answer_and_no_note(bot: BotHarness) -> None:
    bot.driver.command("campaigns", user_id=ADMIN)
    bot.wait(lambda: bot.replies_to(ADMIN))
    bot.settle()
    [only] = bot.replies_to(ADMIN)
    assert "7890" in only and SLOW not in only


def test_the_gift_form_opens_at_once_while_a_slow_catalogue_loads(make_bot) -> None:
    """Xoxoday's catalogue was never read and Xoxoday takes 5 s: the command is acknowledged
    and the form opens within 3 s, saying the catalogue is loading; a search meanwhile
    answers at once that it is loading; when the catalogue is here, the form draws itself
    again with the filters and the search finds cards."""
    bot: BotHarness = make_bot(plum_timeout=10.0)
    bot.sandbox.faults.set("getVouchers", latency_ms=SLOW_MS)
    started = time.monotonic()
    response = bot.driver.command(f"gift <@{MARIA}>", user_id=ADMIN)
    assert response.status_code == 200 and response.text == ""
    opened = bot.wait(lambda: bot.fake.modal_stack(ADMIN), timeout=3.0)[-1]
    assert time.monotonic() - started < 3.0
    shown = message_text(opened)
    assert "Xoxoday is slow to answer right now: I'm loading its catalogue." in shown
    assert "The catalogue is still loading from Xoxoday: type again in a few seconds." in shown

    asked = time.monotonic()
    options = bot.driver.block_suggestion(
        user_id=ADMIN, action_id=str(ActionId.GIFT_PRODUCT_SELECT), value="amazon", view=opened
    )
    assert time.monotonic() - asked < 3.0
    assert [o["text"]["text"] for o in options] == [
        "⏳ Still loading Xoxoday's catalogue: type again"
    ]

    def drawn_again() -> dict | None:
        now = bot.fake.modal_stack(ADMIN)[-1]
        return now if "loading its catalogue" not in message_text(now) else None

    ready = bot.wait(drawn_again, timeout=20.0)
    assert not bot.runtime.gifts.catalogue.reading
    assert time.monotonic() - started >= SLOW_MS / 1000
    assert ready["id"] == opened["id"]  # the same form, drawn again
    assert any(b.get("block_id") == BlockId.GIFT_FILTERS for b in ready["blocks"])
    found = bot.driver.block_suggestion(
        user_id=ADMIN, action_id=str(ActionId.GIFT_PRODUCT_SELECT), value="amazon", view=ready
    )
    assert found and all("Amazon" in o["text"]["text"] for o in found)
    bot.settle()
    assert bot.replies_to(ADMIN) == []  # nothing said beside the form


def test_a_stale_catalogue_answers_searches_while_it_is_read_again(make_bot) -> None:
    """After the catalogue's time is up, a search does not wait for Xoxoday (5 s): it answers
    from what was read, and the catalogue is read again behind it."""
    bot: BotHarness = make_bot(plum_timeout=10.0)
    catalogue = bot.runtime.gifts.catalogue
    catalogue.products()  # read once, quickly
    reads = len([r for r in bot.sandbox.requests if r["operation"] == "getVouchers"])
    catalogue._read_at -= catalogue._ttl  # its time is up
    bot.sandbox.faults.set("getVouchers", latency_ms=SLOW_MS)
    bot.driver.command(f"gift <@{MARIA}>", user_id=ADMIN)
    view = bot.wait(lambda: bot.fake.modal_stack(ADMIN), timeout=3.0)[-1]
    assert "loading" not in message_text(view)
    asked = time.monotonic()
    found = bot.driver.block_suggestion(
        user_id=ADMIN, action_id=str(ActionId.GIFT_PRODUCT_SELECT), value="amazon", view=view
    )
    assert time.monotonic() - asked < 3.0
    assert found and all("Amazon" in o["text"]["text"] for o in found)
    bot.wait(
        lambda: len([r for r in bot.sandbox.requests if r["operation"] == "getVouchers"]) > reads
    )
    bot.wait(lambda: not catalogue.reading, timeout=20.0)


def test_a_cancel_confirmed_while_xoxoday_is_slow_says_so_in_place_of_the_question(
    make_bot,
) -> None:
    """cancelBalance takes 5 s: within 3 s of the click the question (and its buttons) gives
    way to a note that the cancel is under way; the summary takes its place after."""
    bot: BotHarness = make_bot(plum_timeout=10.0)
    reward = give_and_wait(bot, f"<@{MARIA}> 100 great demo", total=100)
    bot.driver.command(f"cancel {reward.short_id} sent to the wrong person", user_id=ADMIN)
    asked = bot.wait(
        lambda: next(
            (e for e in bot.fake.ephemerals(ADMIN) if "reward_cancel_confirm" in actions_in(e)),
            None,
        )
    )
    value = next(
        el["value"]
        for b in asked["blocks"]
        if b["type"] == "actions"
        for el in b["elements"]
        if el["action_id"] == "reward_cancel_confirm"
    )
    bot.sandbox.faults.set("cancelBalance", latency_ms=SLOW_MS)

    def now() -> dict:
        return next(e for e in bot.fake.ephemerals(ADMIN) if e["ts"] == asked["ts"])

    started = time.monotonic()
    bot.driver.block_action(
        user_id=ADMIN, action_id="reward_cancel_confirm", value=value, message=asked
    )
    note = bot.wait(lambda: "Cancelling" in message_text(now()) and now(), timeout=3.0)
    assert time.monotonic() - started < 3.0
    assert f"⏳ Cancelling `{reward.short_id}`: {SLOW}." in message_text(note)
    assert actions_in(note) == []  # no button left to click twice
    done = bot.wait(lambda: "is cancelled" in message_text(now()) and now(), timeout=20.0)
    assert f"Reward `{reward.short_id}` is cancelled: Xoxoday withdrew 100 points" in (
        message_text(done)
    )
    assert len(cancel_calls(bot)) == 1


def test_app_home_shows_what_the_ledger_knows_at_once_and_the_balance_after(make_bot) -> None:
    bot: BotHarness = make_bot(plum_timeout=10.0)
    give_and_wait(bot, f"<@{MARIA}> 40 quick fix", total=40)
    bot.settle()  # everyone told of it
    bot.sandbox.faults.set("user_balance", latency_ms=SLOW_MS)
    started = time.monotonic()
    assert bot.driver.app_home_opened(user_id=MARIA).status_code == 200
    first = bot.wait(lambda: publishes(bot, MARIA), timeout=3.0)[0]
    assert time.monotonic() - started < 3.0
    seen = message_text(first)
    assert f"{SLOW}: its figure shows here as soon as it does." in seen
    assert "You can still give *1,000 points* this month" in seen  # the ledger answers
    assert "quick fix" in seen  # and the rewards it holds
    later = bot.wait(lambda: publishes(bot, MARIA)[1:], timeout=20.0)[0]
    assert "You have *40 points* to redeem" in message_text(later)
    assert SLOW not in message_text(later)
    bot.settle()
    assert len(publishes(bot, MARIA)) == 2


def test_a_quick_xoxoday_publishes_app_home_once(bot: BotHarness) -> None:
    bot.driver.app_home_opened(user_id=MARIA)
    bot.wait(lambda: publishes(bot, MARIA))
    bot.settle()
    [only] = publishes(bot, MARIA)
    assert SLOW not in message_text(only)


def test_reveal_opens_at_once_and_shows_the_code_when_xoxoday_gives_it(make_bot) -> None:
    """The code was not in Xoxoday's first answer and getOrderDetails takes 5 s: the window
    opens within the click's 3 s saying the card is being fetched, and shows the code after."""
    bot: BotHarness = make_bot(
        plum_timeout=10.0, REWARD_APPROVAL_THRESHOLD=100_000, REWARD_GIFT_MONTHLY_CAP="100000"
    )
    bot.sandbox.webhooks.delay_seconds = 1.0
    gift_for_maria(bot)
    order = placed(bot)
    dm = gift_dm(bot, MARIA)
    bot.wait(lambda: bot.sandbox.state.orders()[0].delivery_status == "delivered" or None, 10)
    bot.settle()
    bot.sandbox.faults.set("getOrderDetails", latency_ms=SLOW_MS)
    started = time.monotonic()
    bot.driver.block_action(
        user_id=MARIA, action_id=str(ActionId.GIFT_REVEAL), value=order.po_number, message=dm
    )
    opened = bot.wait(lambda: bot.fake.modal_stack(MARIA), timeout=3.0)[-1]
    assert time.monotonic() - started < 3.0
    assert "Fetching your gift card from Xoxoday, which is slow" in message_text(opened)
    code = bot.sandbox.state.orders()[0].vouchers[0].code
    shown = bot.wait(
        lambda: (
            f"`{code}`" in str(bot.fake.modal_stack(MARIA)[-1]["blocks"])
            and bot.fake.modal_stack(MARIA)[-1]
        ),
        timeout=20.0,
    )
    assert shown["id"] == opened["id"]  # the same window, updated


def test_the_link_form_opens_within_the_click_and_its_answer_is_said_at_once(
    make_bot,
) -> None:
    """A campaign picked after its minute in memory, with Xoxoday slow: the window opens
    within 3 s saying the campaign is being read, and becomes the form; the form sent, a DM
    says at once that the link is being made, then how it went."""
    bot: BotHarness = make_bot(plum_timeout=10.0)
    view_of_listing = pick_campaign(bot, "7891")  # the listing, and the form once, quickly
    assert view_of_listing["callback_id"] == "link_modal"
    listing = [e for e in bot.fake.ephemerals(ADMIN) if "link_campaign_pick" in actions_in(e)][-1]
    bot.runtime.links._campaigns = None  # its minute in memory is up
    bot.sandbox.faults.set("campaignList", latency_ms=SLOW_MS)
    started = time.monotonic()
    bot.driver.block_action(
        user_id=ADMIN,
        action_id="link_campaign_pick",
        value={"selected_option": {"value": "7891", "text": {"type": "plain_text", "text": "x"}}},
        message=listing,
    )

    def newest() -> dict:
        return bot.fake.modal_stack(ADMIN)[-1]

    waiting = bot.wait(lambda: "Reading the campaign" in message_text(newest()) and newest(), 3.0)
    assert time.monotonic() - started < 3.0
    assert "Reading the campaign from Xoxoday, which is slow" in message_text(waiting)
    form = bot.wait(lambda: newest().get("callback_id") == "link_modal" and newest(), 20.0)
    assert form["id"] == waiting["id"]  # the same window, now the form
    assert "Spot Award Link (US)" in message_text(form)

    bot.sandbox.faults.set("generateLink", latency_ms=SLOW_MS)
    before = len(bot.dm_texts(ADMIN))
    started = time.monotonic()
    submitted = bot.driver.view_submission(user_id=ADMIN, view=form, values=link_form())
    assert submitted.status_code == 200 and not submitted.content.strip()  # the form closes
    note = bot.wait(lambda: bot.dm_texts(ADMIN)[before:], timeout=3.0)
    assert time.monotonic() - started < 3.0
    assert "Making the reward link: Xoxoday is slow to answer right now." in note[0]
    told = bot.wait(lambda: bot.dm_texts(ADMIN)[before + 1 :], timeout=20.0)
    assert "I sent <@UMARIA01> a reward link worth *25.00 USD*" in told[0]


def test_a_gift_order_and_its_approval_say_at_once_when_xoxoday_is_slow(make_bot) -> None:
    """The company account is checked with Xoxoday (5 s) before an order: the sender hears
    within 3 s that it is being checked, then that it is ordered; the approver's click,
    which asks Xoxoday for the account's currency, gives way at once to a note, then to the
    decision."""
    bot: BotHarness = make_bot(
        plum_timeout=10.0, REWARD_GIFT_MONTHLY_CAP="100000", REWARD_APPROVAL_THRESHOLD=1500
    )
    view = open_form(bot, f"gift <@{MARIA}>")
    option = next(o for o in search(bot, view, "amazon.com"))
    view = pick(bot, view, option)
    bot.runtime.account_balance.forget()
    bot.sandbox.faults.set("getBalance", latency_ms=SLOW_MS)
    before = len(bot.dm_texts(ADMIN))
    started = time.monotonic()
    submit(bot, view, fill(recipient=MARIA, product=option, amount="20", select=False))
    note = bot.wait(lambda: bot.dm_texts(ADMIN)[before:], timeout=3.0)
    assert time.monotonic() - started < 3.0
    assert "Checking the company account with Xoxoday before ordering" in note[0]
    bot.wait(lambda: [t for t in bot.dm_texts(ADMIN)[before + 1 :] if "needs an approver" in t], 20)

    asked = bot.wait(
        lambda: [m for m in bot.fake.dms_to(APPROVER) if "wants to send" in message_text(m)]
    )[0]
    [order] = orders(bot)
    bot.runtime.account_balance.forget()

    def now() -> dict:
        return next(m for m in bot.fake.dms_to(APPROVER) if m["ts"] == asked["ts"])

    started = time.monotonic()
    bot.driver.block_action(
        user_id=APPROVER, action_id=str(ActionId.GIFT_APPROVE), value=order.po_number, message=asked
    )
    waiting = bot.wait(lambda: "Approving order" in message_text(now()) and now(), timeout=3.0)
    assert time.monotonic() - started < 3.0
    assert actions_in(waiting) == []
    decided = bot.wait(lambda: "Approved" in message_text(now()) and now(), timeout=20.0)
    assert f"✅ *Approved* by <@{APPROVER}>" in message_text(decided)
    placed(bot)


def test_settling_an_order_in_doubt_says_at_once_that_it_is_under_way(make_bot) -> None:
    """ "It was placed" reads the order from Xoxoday (5 s): within 3 s the admin's alert
    gives way to a note (its buttons gone), then says how it was settled."""
    bot: BotHarness = make_bot(
        plum_timeout=10.0, REWARD_APPROVAL_THRESHOLD=100_000, REWARD_GIFT_MONTHLY_CAP="100000"
    )
    bot.sandbox.faults.set("placeOrder", drop_after_apply=True, count=1)
    bot.sandbox.faults.set("getOrderDetails", error="503", count=50)
    gift_for_maria(bot)
    alert = bot.wait(
        lambda: next(
            (m for m in bot.fake.dms_to(ADMIN) if "can't tell whether" in message_text(m)), None
        ),
        30,
    )
    bot.settle()
    bot.sandbox.faults.clear()
    bot.sandbox.faults.set("getOrderDetails", latency_ms=SLOW_MS)
    [order] = orders(bot)

    def now() -> dict:
        return next(m for m in bot.fake.dms_to(ADMIN) if m["ts"] == alert["ts"])

    started = time.monotonic()
    bot.driver.block_action(
        user_id=ADMIN,
        action_id=str(ActionId.GIFT_SETTLE_PLACED),
        value=order.po_number,
        message=alert,
    )
    waiting = bot.wait(lambda: "Settling order" in message_text(now()) and now(), timeout=3.0)
    assert time.monotonic() - started < 3.0
    assert f"⏳ Settling order `{order.po_number}`: {SLOW}." in message_text(waiting)
    assert actions_in(waiting) == []
    done = bot.wait(lambda: "Settled:" in message_text(now()) and now(), timeout=20.0)
    assert f"Settled: order `{order.po_number}` was ordered." in message_text(done)
    assert placed(bot).po_number == order.po_number


def test_a_gift_form_sent_before_the_catalogue_is_read_again_says_so_beside_the_field(
    make_bot,
) -> None:
    """The bot restarted while the form was open (its catalogue in memory is gone) and Xoxoday
    takes 5 s: the form's ack does not wait for it; it says beside the product to send the
    form again in a few seconds, and then it goes through."""
    bot: BotHarness = make_bot(
        plum_timeout=10.0, REWARD_APPROVAL_THRESHOLD=100_000, REWARD_GIFT_MONTHLY_CAP="100000"
    )
    view = open_form(bot, f"gift <@{MARIA}>")
    option = next(o for o in search(bot, view, "amazon.com"))
    view = pick(bot, view, option)
    catalogue = bot.runtime.gifts.catalogue
    catalogue._products = None  # as after a restart
    bot.sandbox.faults.set("getVouchers", latency_ms=SLOW_MS)
    values = fill(recipient=MARIA, product=option, amount="20", select=False)
    started = time.monotonic()
    answer = submit(bot, view, values)
    assert time.monotonic() - started < 3.0
    assert answer["response_action"] == "errors"
    assert answer["errors"] == {
        str(BlockId.GIFT_PRODUCT): "Xoxoday's catalogue is still loading (it is slow to answer "
        "right now): send the form again in a few seconds."
    }
    assert orders(bot) == []
    bot.wait(lambda: not catalogue.reading and catalogue.loaded(), timeout=20.0)
    assert submit(bot, view, values) == {}  # the form closes
    bot.wait(lambda: orders(bot))


def test_a_gift_form_resumed_after_a_crash_waits_for_the_catalogue(make_bot) -> None:
    """The same form resumed after a crash (no Slack waits for its ack, nobody would see its
    errors): its check waits for the catalogue however slow Xoxoday is, and accepts it."""
    bot: BotHarness = make_bot(
        plum_timeout=10.0, REWARD_APPROVAL_THRESHOLD=100_000, REWARD_GIFT_MONTHLY_CAP="100000"
    )
    view = open_form(bot, f"gift <@{MARIA}>")
    option = next(o for o in search(bot, view, "amazon.com"))
    view = pick(bot, view, option)
    bot.runtime.gifts.catalogue._products = None  # as after the restart
    bot.sandbox.faults.set("getVouchers", latency_ms=SLOW_MS)
    values = fill(recipient=MARIA, product=option, amount="20", select=False)
    ack, context = Mock(spec=Ack), BoltContext()
    context[ENTRY] = RequestEntry(0, bot.runtime.journal, resumed=True)
    body = {"type": "view_submission", "user": {"id": ADMIN}, "trigger_id": "9.9.resumed"}
    view = {**view, "state": {"values": values}}
    gifts.check(
        ack=ack, body={**body, "view": view}, view=view, context=context, runtime=bot.runtime
    )
    ack.assert_called_once_with()  # accepted: the order follows
    assert isinstance(context.get(gifts.ORDER), GiftRequest)


def test_app_homes_gift_button_opens_the_form_at_once_while_the_catalogue_loads(
    make_bot,
) -> None:
    bot: BotHarness = make_bot(plum_timeout=10.0)
    bot.driver.app_home_opened(user_id=ADMIN)
    home = bot.wait(lambda: bot.fake.home(ADMIN))
    bot.settle()
    bot.sandbox.faults.set("getVouchers", latency_ms=SLOW_MS)
    started = time.monotonic()
    bot.driver.block_action(user_id=ADMIN, action_id=str(ActionId.OPEN_GIFT_MODAL), view=home)
    opened = bot.wait(lambda: bot.fake.modal_stack(ADMIN), timeout=3.0)[-1]
    assert time.monotonic() - started < 3.0
    assert "I'm loading its catalogue" in message_text(opened)
    ready = bot.wait(
        lambda: (
            "loading" not in message_text(bot.fake.modal_stack(ADMIN)[-1])
            and bot.fake.modal_stack(ADMIN)[-1]
        ),
        timeout=20.0,
    )
    assert ready["id"] == opened["id"]
    assert any(b.get("block_id") == BlockId.GIFT_FILTERS for b in ready["blocks"])
