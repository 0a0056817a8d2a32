"""Gift cards and donations from Slack, end to end over signed HTTP against the fake Slack and the
Plum sandbox: search the catalogue as you type, pick a product and an amount, order it, reveal
its code (and find the code nowhere else: channels, DMs, logs at DEBUG, the audit trail, its
export), donate to a charity, one order after a lost answer, and the refusals (who may, the
monthly cap, the account balance, approval)."""

from __future__ import annotations

import io
import logging
from decimal import Decimal
from typing import Any

import pytest
from sqlmodel import select

from bot.slack.ids import ActionId, BlockId, CallbackId
from storage import audit
from storage.models import AuditEvent, Order
from tests.e2e.harness import (
    ADMIN,
    APPROVER,
    BOB,
    HELPERBOT,
    MARIA,
    NOMAIL,
    BotHarness,
    message_text,
)


@pytest.fixture
def bot(make_bot) -> BotHarness:
    # The sandbox's account is in INR; its charity is in USD at 83 INR: 20 USD costs 1,660.
    return make_bot(REWARD_APPROVAL_THRESHOLD=100_000, REWARD_GIFT_MONTHLY_CAP="100000")


def open_form(bot: BotHarness, text: str, user: str = ADMIN) -> dict[str, Any]:
    before = len(bot.fake.views)
    assert bot.driver.command(text, user_id=user).status_code == 200
    bot.wait(
        lambda: [v for v in bot.fake.views[before:] if v["view"].get("callback_id") == "gift_modal"]
    )
    return bot.fake.modal_stack(user)[-1]


def search(bot: BotHarness, view: dict[str, Any], text: str, user: str = ADMIN) -> list[dict]:
    return bot.driver.block_suggestion(
        user_id=user, action_id=str(ActionId.GIFT_PRODUCT_SELECT), value=text, view=view
    )


def pick(bot: BotHarness, view: dict[str, Any], option: dict, user: str = ADMIN) -> dict:
    """Pick a product: the form is drawn again with its amounts."""
    before = len(bot.fake.views)
    bot.driver.block_action(
        user_id=user,
        action_id=str(ActionId.GIFT_PRODUCT_SELECT),
        value={"selected_option": option},
        view=view,
    )
    bot.wait(lambda: bot.fake.views[before:])
    return bot.fake.modal_stack(user)[-1]


def fill(
    *, recipient: str | None, product: dict, amount: str, note: str = "", select: bool = True
) -> dict[str, Any]:
    amount_value: dict[str, Any] = (
        {"type": "static_select", "selected_option": {"text": {}, "value": amount}}
        if select
        else {"type": "plain_text_input", "value": amount}
    )
    return {
        str(BlockId.GIFT_RECIPIENT): {
            str(ActionId.GIFT_RECIPIENT_SELECT): {
                "type": "users_select",
                "selected_user": recipient,
            }
        },
        str(BlockId.GIFT_PRODUCT): {
            str(ActionId.GIFT_PRODUCT_SELECT): {
                "type": "external_select",
                "selected_option": product,
            }
        },
        str(BlockId.GIFT_AMOUNT): {str(ActionId.GIFT_AMOUNT_INPUT): amount_value},
        str(BlockId.GIFT_NOTE): {
            str(ActionId.GIFT_NOTE_INPUT): {"type": "plain_text_input", "value": note}
        },
    }


def submit(bot: BotHarness, view: dict, values: dict, user: str = ADMIN) -> dict[str, Any]:
    response = bot.driver.view_submission(user_id=user, view=view, values=values)
    assert response.status_code == 200
    return response.json() if response.content.strip() else {}


def orders(bot: BotHarness) -> list[Order]:
    with bot.runtime.store.read_session() as session:
        return list(session.exec(select(Order)).all())


def placed(bot: BotHarness) -> Order:
    return bot.wait(lambda: next((o for o in orders(bot) if o.status == "placed"), None), 20)


def gift_dm(bot: BotHarness, user: str) -> dict[str, Any]:
    return bot.wait(
        lambda: next((m for m in bot.fake.dms_to(user) if "sent you a" in message_text(m)), None),
        20,
    )


def gift_for_maria(bot: BotHarness) -> None:
    view = open_form(bot, f"gift <@{MARIA}>")
    option = search(bot, view, "amazon")[0]
    view = pick(bot, view, option)
    element = next(b for b in view["blocks"] if b.get("block_id") == BlockId.GIFT_AMOUNT)["element"]
    fixed = element["type"] == "static_select"
    amount = element["options"][0]["value"] if fixed else "25"
    submit(bot, view, fill(recipient=MARIA, product=option, amount=amount, select=fixed))


def test_search_pick_order_and_reveal_a_gift_card(
    bot: BotHarness, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    view = open_form(bot, f"gift <@{MARIA}>")
    found = search(bot, view, "amazon")
    assert found and len(found) <= 100
    assert all("amazon" in o["text"]["text"].lower() for o in found)
    assert not [o for o in search(bot, view, "") if "Charity" in o["text"]["text"]]
    amazon = found[0]
    view = pick(bot, view, amazon)
    amount_block = next(b for b in view["blocks"] if b.get("block_id") == BlockId.GIFT_AMOUNT)
    element = amount_block["element"]
    if element["type"] == "static_select":
        amount, fixed = element["options"][0]["value"], True
    else:
        amount, fixed = "25", False
    ack = submit(
        bot,
        view,
        fill(recipient=MARIA, product=amazon, amount=amount, note="for the launch", select=fixed),
    )
    assert ack == {} or ack.get("response_action") in (None, "clear")
    assert bot.wait(
        lambda: [m for m in bot.fake.dms_to(ADMIN) if "Ordering" in message_text(m)] or None
    )
    order = placed(bot)
    sandbox_orders = bot.sandbox.state.orders()
    assert [o.po_number for o in sandbox_orders] == [order.po_number]
    dm = gift_dm(bot, MARIA)
    assert "gift_reveal" in str(dm["blocks"])
    before = len(bot.fake.views)
    bot.driver.block_action(
        user_id=MARIA, action_id=str(ActionId.GIFT_REVEAL), value=order.po_number, message=dm
    )
    shown = bot.wait(
        lambda: next(
            (
                v["view"]
                for v in bot.fake.views[before:]
                if v["view"].get("callback_id") == CallbackId.GIFT_CODE
            ),
            None,
        )
    )
    secret = sandbox_orders[0].vouchers[0].code
    text = str(shown["blocks"])
    assert f"*Code:* `{secret}`" in text
    # The code is nowhere else: channels and DMs, the logs at DEBUG, the audit trail.
    everywhere = [message_text(m) + str(m.get("blocks")) for m in bot.fake.messages()]
    assert not any(secret in t for t in everywhere)
    assert secret not in caplog.text
    with bot.runtime.store.read_session() as session:
        events = session.exec(select(AuditEvent)).all()
        assert not any(secret in str(e.after) + str(e.before) for e in events)
        out = io.StringIO()
        audit.export_events(session, since=None, until=None, fmt="jsonl", out=out)
    assert secret not in out.getvalue() and order.po_number in out.getvalue()
    assert "order.revealed" in [e.action for e in events]


def test_only_the_recipient_can_reveal(bot: BotHarness) -> None:
    gift_for_maria(bot)
    order = placed(bot)
    dm = gift_dm(bot, MARIA)
    before = len(bot.fake.views)
    bot.driver.block_action(
        user_id=BOB, action_id=str(ActionId.GIFT_REVEAL), value=order.po_number, message=dm
    )
    shown = bot.wait(lambda: [v["view"] for v in bot.fake.views[before:]] or None)
    assert "Only the person the gift card is for" in str(shown)
    assert "Code:" not in str(shown)


def test_donate_to_a_charity_in_the_teams_name(bot: BotHarness) -> None:
    view = open_form(bot, "donate")
    charities = search(bot, view, "")
    assert charities and all("Charity" in o["text"]["text"] for o in charities)
    view = pick(bot, view, charities[0])
    submit(bot, view, fill(recipient=None, product=charities[0], amount="20", select=False))
    order = placed(bot)
    assert order.kind == "donation" and order.recipient_id is None
    done = bot.wait(
        lambda: [m for m in bot.fake.dms_to(ADMIN) if "Done:" in message_text(m)] or None, 20
    )
    assert "in the team's name" in message_text(done[0])


def test_who_may_the_cap_the_balance_and_approval(make_bot) -> None:
    bot = make_bot(REWARD_GIFT_MONTHLY_CAP="2000", REWARD_APPROVAL_THRESHOLD=1500)
    bot.driver.command(f"gift <@{MARIA}>", user_id=BOB)
    refusal = bot.wait(lambda: [t for t in bot.replies_to(BOB) if "Only admins" in t])
    assert refusal[0].startswith(
        "Only admins and the gift senders they chose can send gift cards from the company "
        "account. Ask an admin if you think you should."
    )
    assert "REWARD_" not in refusal[0]  # a member reads no setting's name
    view = open_form(bot, "donate")
    charity = search(bot, view, "")[0]
    view = pick(bot, view, charity)
    ack = submit(bot, view, fill(recipient=None, product=charity, amount="31", select=False))
    assert ack == {} or "errors" not in ack
    told = bot.wait(
        lambda: [m for m in bot.fake.dms_to(ADMIN) if "Nothing was ordered" in message_text(m)]
    )
    assert "more than you can send this month: it costs 2,573.00 INR" in message_text(told[0])
    assert "you have 2,000.00 INR of your 2,000.00 INR left" in message_text(told[0])
    view = open_form(bot, "donate")
    view = pick(bot, view, charity)
    submit(bot, view, fill(recipient=None, product=charity, amount="20", select=False))
    asked = bot.wait(
        lambda: [m for m in bot.fake.dms_to(APPROVER) if "wants to send" in message_text(m)]
    )
    assert [o.status for o in orders(bot)] == ["pending_approval"]
    waiting = [t for t in bot.dm_texts(ADMIN) if "needs an approver" in t]
    assert "A donation of *20.00 USD* to *Charity Donation: GiveDirectly (US)*" in waiting[0]
    bot.driver.block_action(
        user_id=APPROVER,
        action_id=str(ActionId.GIFT_APPROVE),
        value=orders(bot)[0].po_number,
        message=asked[0],
    )
    placed(bot)
    assert "approved" in message_text(
        bot.wait(lambda: [m for m in bot.fake.dms_to(ADMIN) if "approved" in message_text(m)])[0]
    )


def test_an_approver_sees_what_a_gift_costs_confirms_and_keeps_it_after(make_bot) -> None:
    """The approver's card: the price in the account's currency, who sends it to whom, the
    sender's spend this month; Approve asks first; the decided copy keeps it all."""
    bot = make_bot(REWARD_GIFT_MONTHLY_CAP="5000", REWARD_APPROVAL_THRESHOLD=1500)
    view = open_form(bot, f"gift <@{MARIA}>")
    option = next(o for o in search(bot, view, "amazon.com"))
    view = pick(bot, view, option)
    amount = next(b for b in view["blocks"] if b.get("block_id") == BlockId.GIFT_AMOUNT)
    assert amount["element"]["placeholder"]["text"] == "Between 1 and 2,000 USD"
    submit(bot, view, fill(recipient=MARIA, product=option, amount="20", select=False))

    asked = bot.wait(
        lambda: [m for m in bot.fake.dms_to(APPROVER) if "wants to send" in message_text(m)]
    )[0]
    seen = message_text(asked)
    [order] = orders(bot)
    value = f"{order.order_value:,.2f} INR"  # 20 USD at the sandbox's rate, in the account's INR
    assert "Gift card to approve" in seen
    assert f"<@{ADMIN}> wants to send a *20.00 USD* Amazon.com Gift Card for <@{MARIA}>." in seen
    assert f"it costs {value}, and orders of 1,500.00 INR or more need one" in seen
    assert f"*From*\n<@{ADMIN}>" in seen and f"*To*\n<@{MARIA}>" in seen
    assert f"*Costs the company*\n{value}" in seen
    assert f"*Sender's spend this month*\n0.00 INR before this one; {value} of 5,000.00 INR" in seen
    approve = next(
        e
        for b in asked["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"] == ActionId.GIFT_APPROVE
    )
    assert approve["confirm"]["title"]["text"] == "Approve this gift card?"
    assert f"{value} from the company account will be spent" in approve["confirm"]["text"]["text"]
    sender = bot.wait(lambda: [t for t in bot.dm_texts(ADMIN) if "needs an approver" in t])[0]
    assert f"it costs {value}, and orders of 1,500.00 INR or more need one" in sender

    bot.driver.block_action(
        user_id=APPROVER, action_id=str(ActionId.GIFT_APPROVE), value=order.po_number, message=asked
    )
    placed(bot)
    now = bot.wait(
        lambda: next(
            (
                m
                for m in bot.fake.dms_to(APPROVER)
                if m["ts"] == asked["ts"] and "Approved" in message_text(m)
            ),
            None,
        )
    )
    kept = message_text(now)
    assert f"✅ *Approved* by <@{APPROVER}>" in kept
    assert f"*From*\n<@{ADMIN}>" in kept and f"*To*\n<@{MARIA}>" in kept
    assert f"*Costs the company*\n{value}" in kept and "*20.00 USD* Amazon.com Gift Card" in kept
    assert str(ActionId.GIFT_APPROVE) not in str(now["blocks"])


def test_a_shortfall_in_the_company_account_is_said_plainly(bot: BotHarness) -> None:
    bot.sandbox.state.set_balance(Decimal(5))
    view = open_form(bot, "donate")
    charity = search(bot, view, "")[0]
    view = pick(bot, view, charity)
    submit(bot, view, fill(recipient=None, product=charity, amount="20", select=False))
    told = bot.wait(
        lambda: [m for m in bot.fake.dms_to(ADMIN) if "Nothing was ordered" in message_text(m)]
    )
    assert "The company account has" in message_text(told[0])
    assert "Ask an admin to add funds" in message_text(told[0])
    assert orders(bot) == [] and bot.sandbox.state.orders() == []


def test_a_bad_amount_is_shown_beside_its_field(bot: BotHarness) -> None:
    view = open_form(bot, "donate")
    charity = search(bot, view, "")[0]
    view = pick(bot, view, charity)
    ack = submit(bot, view, fill(recipient=None, product=charity, amount="-5", select=False))
    assert ack["response_action"] == "errors"
    assert str(BlockId.GIFT_AMOUNT) in ack["errors"]
    ack = submit(bot, view, fill(recipient=None, product=charity, amount="1e9", select=False))
    assert "largest amount" in ack["errors"][str(BlockId.GIFT_AMOUNT)]
    assert orders(bot) == []


def test_a_bot_or_someone_without_email_is_refused_beside_the_people_picker(
    bot: BotHarness,
) -> None:
    """Slack's people picker has no filter: the form's check names what is wrong with the person
    picked, beside the picker, and the form stays open; nothing is ordered or DMed."""
    view = open_form(bot, "gift")
    option = search(bot, view, "amazon")[0]
    view = pick(bot, view, option)
    element = next(b for b in view["blocks"] if b.get("block_id") == BlockId.GIFT_AMOUNT)["element"]
    fixed = element["type"] == "static_select"
    amount = element["options"][0]["value"] if fixed else "25"
    said = {}
    for who in (HELPERBOT, NOMAIL, ADMIN):
        ack = submit(bot, view, fill(recipient=who, product=option, amount=amount, select=fixed))
        assert ack["response_action"] == "errors"
        said[who] = ack["errors"][str(BlockId.GIFT_RECIPIENT)]
    assert said == {
        HELPERBOT: "That's a bot. Pick a person.",
        NOMAIL: "They have no email address in Slack, and Xoxoday needs one for a gift card. "
        "Pick someone else.",
        ADMIN: "You can't send yourself a gift card.",
    }
    view = open_form(bot, "donate")
    charity = search(bot, view, "")[0]
    view = pick(bot, view, charity)
    ack = submit(bot, view, fill(recipient=ADMIN, product=charity, amount="20", select=False))
    assert ack["errors"] == {
        str(BlockId.GIFT_RECIPIENT): "You can't donate in your own name. Pick someone else, or "
        "leave the person out to donate in the team's name."
    }
    assert orders(bot) == [] and bot.sandbox.state.orders() == []
    assert not [m for m in bot.fake.dms_to(ADMIN) if "Nothing was ordered" in message_text(m)]


def test_the_app_home_and_the_reward_form_open_the_gift_form(bot: BotHarness) -> None:
    bot.driver.app_home_opened(user_id=ADMIN)
    home = bot.wait(lambda: bot.fake.home(ADMIN))
    before = len(bot.fake.views)
    bot.driver.block_action(user_id=ADMIN, action_id=str(ActionId.OPEN_GIFT_MODAL), view=home)
    opened = bot.wait(lambda: [v for v in bot.fake.views[before:] if "gift_modal" in str(v)])
    assert opened[0]["method"] == "views.open"
    bot.driver.app_home_opened(user_id=BOB)  # not a gift sender: no such buttons
    assert "open_gift_modal" not in str(bot.wait(lambda: bot.fake.home(BOB)))
    assert bot.driver.command("", user_id=ADMIN).status_code == 200
    form = bot.wait(
        lambda: next(
            (
                v
                for v in reversed(bot.fake.modal_stack(ADMIN))
                if v["callback_id"] == "reward_modal"
            ),
            None,
        )
    )
    before = len(bot.fake.views)
    bot.driver.block_action(user_id=ADMIN, action_id=str(ActionId.OPEN_DONATE_MODAL), view=form)
    pushed = bot.wait(lambda: [v for v in bot.fake.views[before:] if "gift_modal" in str(v)])
    assert pushed[0]["method"] == "views.push"


def test_with_points_in_the_bot_a_person_pays_with_their_points(make_bot) -> None:
    bot = make_bot(
        REWARD_POINT_SYSTEM="storefront",
        STOREFRONT_API_KEY="k",
        REWARD_APPROVAL_THRESHOLD=100_000,
        REWARD_MAX_PER_REWARD=100_000,
    )
    bot.driver.command(f"<@{BOB}> 6000 for the launch", user_id=ADMIN)
    bot.wait(lambda: [t for t in bot.dm_texts(BOB) if "sent you" in t] or None)
    view = open_form(bot, "donate", user=BOB)  # not a gift sender, but has points
    pay = next(b for b in view["blocks"] if b.get("block_id") == BlockId.GIFT_PAY)
    assert [o["value"] for o in pay["element"]["options"]] == ["points"]
    charity = search(bot, view, "", user=BOB)[0]
    view = pick(bot, view, charity, user=BOB)
    values = fill(recipient=None, product=charity, amount="30.5", select=False)
    values[str(BlockId.GIFT_PAY)] = {
        str(ActionId.GIFT_PAY_SELECT): {
            "type": "radio_buttons",
            "selected_option": {"value": "points"},
        }
    }
    submit(bot, view, values, user=BOB)
    order = placed(bot)
    assert order.points_cents == 253150  # 30.5 USD at 83 INR, one point per rupee
    assert order.order_value == Decimal("2531.50")
    bot.driver.command("balance", user_id=BOB)
    assert bot.wait(lambda: [t for t in bot.replies_to(BOB) if "3,468.5 points" in t] or None)
    # A refused order gives the points back.
    bot.sandbox.faults.set("placeOrder", error="PLE10002")
    view = open_form(bot, "donate", user=BOB)
    view = pick(bot, view, charity, user=BOB)
    submit(bot, view, values, user=BOB)
    failed = bot.wait(lambda: next((o for o in orders(bot) if o.status == "failed"), None), 20)
    assert failed.points_cents == 253150
    told = bot.wait(
        lambda: [m for m in bot.fake.dms_to(BOB) if "wasn't ordered" in message_text(m)], 20
    )
    assert "Your points are back" in message_text(told[0])
    before = len(bot.replies_to(BOB))
    bot.driver.command("balance", user_id=BOB)
    assert bot.wait(
        lambda: [t for t in bot.replies_to(BOB)[before:] if "3,468.5 points" in t] or None
    )


def test_only_the_person_who_paid_hears_how_many_of_their_points_it_took(make_bot) -> None:
    """Bob pays with his points for a gift card for Maria and a donation in her name: his DMs
    say what they cost him; Maria's say what she got and the order, never "your points"."""
    bot = make_bot(
        REWARD_POINT_SYSTEM="storefront",
        STOREFRONT_API_KEY="k",
        REWARD_APPROVAL_THRESHOLD=100_000,
        REWARD_MAX_PER_REWARD=100_000,
    )
    bot.driver.command(f"<@{BOB}> 6000 for the launch", user_id=ADMIN)
    bot.wait(lambda: [t for t in bot.dm_texts(BOB) if "sent you" in t] or None)
    pay = {
        str(BlockId.GIFT_PAY): {
            str(ActionId.GIFT_PAY_SELECT): {
                "type": "radio_buttons",
                "selected_option": {"value": "points"},
            }
        }
    }
    view = open_form(bot, f"gift <@{MARIA}>", user=BOB)
    card = search(bot, view, "amazon", user=BOB)[0]
    view = pick(bot, view, card, user=BOB)
    element = next(b for b in view["blocks"] if b.get("block_id") == BlockId.GIFT_AMOUNT)["element"]
    fixed = element["type"] == "static_select"
    amount = element["options"][0]["value"] if fixed else "25"
    submit(
        bot, view, {**fill(recipient=MARIA, product=card, amount=amount, select=fixed), **pay}, BOB
    )
    view = open_form(bot, "donate", user=BOB)
    charity = search(bot, view, "", user=BOB)[0]
    view = pick(bot, view, charity, user=BOB)
    submit(
        bot, view, {**fill(recipient=MARIA, product=charity, amount="20", select=False), **pay}, BOB
    )
    bot.wait(lambda: [o.status for o in orders(bot)] == ["placed", "placed"] or None, 20)

    gift, donation = sorted(orders(bot), key=lambda o: o.kind != "gift")
    for order in (gift, donation):
        assert order.points_cents
        spent = f"paid with {order.points_cents / 100:,g} of your points"
        to_bob = bot.wait(
            lambda po=order.po_number: [t for t in bot.dm_texts(BOB) if po in t and "✅" in t],
            20,
        )
        assert spent in to_bob[0], to_bob
        to_maria = bot.wait(
            lambda po=order.po_number: [t for t in bot.dm_texts(MARIA) if po in t], 20
        )
        assert len(to_maria) == 1, to_maria
        assert f"Order `{order.po_number}`" in to_maria[0]
        assert "your points" not in to_maria[0] and "paid with" not in to_maria[0]
    assert any("sent you a" in t for t in bot.dm_texts(MARIA))
    assert any("donated" in t and "in your name" in t for t in bot.dm_texts(MARIA))


def test_the_channel_sees_a_gift_was_sent_and_the_request_is_kept(bot: BotHarness) -> None:
    gift_for_maria(bot)
    order = placed(bot)
    announced = bot.wait(
        lambda: [t for t in bot.channel_texts("C0GENERAL") if "a gift card" in t] or None
    )
    assert f"<@{ADMIN}> sent <@{MARIA}> a gift card" in announced[0]
    [sandbox_order] = bot.sandbox.state.orders()
    assert sandbox_order.vouchers[0].code not in str(bot.fake.messages())
    assert order.request["variables"]["data"]["poNumber"] == order.po_number
    assert order.response_encrypted and "REDACTED" in str(order.response_redacted).upper()


def test_an_order_in_doubt_is_settled_by_an_admin(bot: BotHarness) -> None:
    bot.sandbox.faults.set("placeOrder", drop_after_apply=True, count=1)
    bot.sandbox.faults.set("getOrderDetails", error="503", count=50)
    gift_for_maria(bot)
    alert = bot.wait(
        lambda: next(
            (m for m in bot.fake.dms_to(ADMIN) if "can't tell whether" in message_text(m)), None
        ),
        30,
    )
    assert [o.status for o in orders(bot)] == ["unknown"]
    assert len(bot.sandbox.state.orders()) == 1  # it was made, once
    bot.sandbox.faults.clear()
    bot.driver.block_action(
        user_id=ADMIN,
        action_id=str(ActionId.GIFT_SETTLE_PLACED),
        value=orders(bot)[0].po_number,
        message=alert,
    )
    assert placed(bot).plum_order_id == str(bot.sandbox.state.orders()[0].order_id)
    gift_dm(bot, MARIA)
    for po in (orders(bot)[0].po_number, "RB-NOSUCH", "x" * 300):  # settled; garbled buttons
        before = len(bot.fake.ephemerals(ADMIN, source="response_url"))
        bot.driver.block_action(
            user_id=ADMIN, action_id=str(ActionId.GIFT_SETTLE_FAILED), value=po, message=alert
        )
        said = bot.wait(lambda b=before: bot.fake.ephemerals(ADMIN, source="response_url")[b:])
        assert "Nothing changed" in message_text(said[0])
    assert [o.status for o in orders(bot)] == ["placed"]


def test_a_code_delivered_after_the_answer_is_revealed_once_it_is_there(
    bot: BotHarness,
) -> None:
    """Xoxoday answered "pending" without the code and delivered it later: Reveal reads it from
    Xoxoday then, and keeps it encrypted like the first answer."""
    from bot.rewards.gifts import codes_in
    from storage import links

    bot.sandbox.webhooks.delay_seconds = 1.0
    gift_for_maria(bot)
    order = placed(bot)
    with bot.runtime.store.read_session() as session:
        first = links.reveal_order_response(session, po_number=order.po_number)
    assert codes_in(first, order.po_number) == ()  # the pending answer had no code
    dm = gift_dm(bot, MARIA)
    bot.wait(lambda: bot.sandbox.state.orders()[0].delivery_status == "delivered" or None, 10)
    before = len(bot.fake.views)
    bot.driver.block_action(
        user_id=MARIA, action_id=str(ActionId.GIFT_REVEAL), value=order.po_number, message=dm
    )
    shown = str(bot.wait(lambda: [v["view"] for v in bot.fake.views[before:]] or None))
    code = bot.sandbox.state.orders()[0].vouchers[0].code
    assert f"`{code}`" in shown
    with bot.runtime.store.read_session() as session:
        kept = session.exec(select(Order)).one()
        again = links.reveal_order_response(session, po_number=order.po_number)
    assert code not in str(kept.response_redacted) and code in str(again)


def test_a_forged_product_value_is_asked_for_again_beside_its_field(bot: BotHarness) -> None:
    """An option value no search offered ("²": str.isdigit says yes, int() says no)."""
    view = open_form(bot, f"gift <@{MARIA}>")
    forged = {"text": {"type": "plain_text", "text": "Amazon"}, "value": "\u00b2"}
    before = len(bot.fake.views)
    bot.driver.block_action(
        user_id=ADMIN,
        action_id=str(ActionId.GIFT_PRODUCT_SELECT),
        value={"selected_option": forged},
        view=view,
    )
    bot.wait(lambda: bot.fake.views[before:])  # the form drawn again, no product picked
    ack = submit(bot, view, fill(recipient=MARIA, product=forged, amount="25", select=False))
    assert ack["response_action"] == "errors"
    assert list(ack["errors"]) == [str(BlockId.GIFT_PRODUCT)]
    assert orders(bot) == []
