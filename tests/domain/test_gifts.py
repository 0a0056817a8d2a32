"""Gift cards and donations (`bot.rewards.gifts`) and the order worker
(`bot.rewards.order_worker`) on their ports: an order committed before anything is sent and told
as queued or waiting for approval; who may, the monthly cap and the company balance refused
before anything is ordered; approval decided once; placeOrder once per order (a lost answer
looked up by poNumber, a crash's order sent again with the same poNumber); placed, failed and
in-doubt orders told; points paid with given back when the order fails."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest
from sqlmodel import col, select

from bot.rewards.events import (
    OrderAwaitsApproval,
    OrderDecided,
    OrderFailed,
    OrderInDoubt,
    OrderPlaced,
    OrderQueued,
)
from bot.rewards.gifts import CATALOGUE_UNREADABLE, GiftCard, GiftRequest
from bot.rewards.refusal import Refusal
from storage import members as member_repo
from storage import orders as orders_repo
from storage import points as points_repo
from storage.models import Order
from storage.states import OrderKind, OrderStatus
from tests.domain.conftest import Domain
from tests.domain.support import ADMIN, APPROVER, BOB, GONE, HELPERBOT, MARIA, NOMAIL

AMAZON_IN = 10001  # Amazon Pay e-Gift Card (Amazon.in): any amount from 10 to 10,000 INR
CHARITY = 15365  # Charity Donation: GiveDirectly (US): 1 to 1,000 USD, at 83 INR to the USD
# The sandbox's account is in INR.
GIFTS = {"REWARD_APPROVAL_THRESHOLD": 100_000, "REWARD_GIFT_MONTHLY_CAP": "100000"}


def gift(
    user: str = ADMIN, *, to: str | None = MARIA, amount: str = "500", key: str = "k1", **kw
) -> GiftRequest:
    donation = to is None
    return GiftRequest(
        user_id=user,
        request_key=key,
        donation=donation,
        recipient_id=to,
        product_id=CHARITY if donation else AMAZON_IN,
        amount=amount,
        channel_id="C0GENERAL",
        **kw,
    )


def submitted(domain: Domain, request: GiftRequest) -> GiftCard:
    card = domain.gifts.submit(request)
    assert isinstance(card, GiftCard), card
    return card


def orders(domain: Domain) -> list[Order]:
    with domain.store.read_session() as session:
        return list(session.exec(select(Order).order_by(col(Order.id))).all())


def place(domain: Domain) -> int:
    placed = 0
    while domain.orders.run_once():
        placed += 1
    return placed


# ── ordered and placed ───────────────────────────────────────────────────────────────────


def test_a_gift_card_is_committed_then_placed_once(make_domain) -> None:
    domain = make_domain(**GIFTS)
    card = submitted(domain, gift(note="for the launch"))
    assert card.status is OrderStatus.QUEUED and card.recipient_id == MARIA
    assert card.giver_id == ADMIN and card.amount == Decimal(500) and not card.donation
    [queued] = domain.teller.events
    assert isinstance(queued, OrderQueued) and queued.card == card
    assert domain.wakes["orders"] == 1 and domain.calls("placeOrder") == []
    # the same submission again (a retry) orders nothing more
    assert submitted(domain, gift(note="for the launch")).po_number == card.po_number
    assert len(orders(domain)) == 1 and len(domain.teller.events) == 1

    assert place(domain) == 1
    [call] = domain.calls("placeOrder")
    assert call["variables"]["data"]["poNumber"] == card.po_number
    assert call["variables"]["data"]["email"] == "maria@acme.test"
    [order] = orders(domain)
    assert order.status == OrderStatus.PLACED and order.plum_order_id
    assert [o.po_number for o in domain.xoxoday.state.orders()] == [card.po_number]
    [placed] = domain.teller.of(OrderPlaced)
    assert placed.card.po_number == card.po_number and placed.card.status is OrderStatus.PLACED
    assert placed.card.note == "for the launch" and placed.card.channel_id == "C0GENERAL"
    # the codes stay in the order's encrypted answer: never in what people are told
    code = domain.xoxoday.state.orders()[0].vouchers[0].code
    assert code and code not in repr(domain.teller.events)
    assert place(domain) == 0 and len(domain.calls("placeOrder")) == 1


def test_a_donation_is_in_the_teams_name(make_domain) -> None:
    domain = make_domain(**GIFTS)
    card = submitted(domain, gift(to=None, amount="20"))
    assert card.donation and card.recipient_id is None
    place(domain)
    [order] = orders(domain)
    assert order.kind == OrderKind.DONATION and order.recipient_id is None
    assert order.order_value == Decimal("1660.00")  # 20 USD at 83 INR
    [placed] = domain.teller.of(OrderPlaced)
    assert placed.card.donation and placed.card.recipient_id is None


def test_a_lost_answer_is_looked_up_and_ordered_once(make_domain) -> None:
    """Moved from tests/e2e/test_gifts.py (the recipient's DM that `OrderPlaced` is drawn as
    is shown end to end by test_search_pick_order_and_reveal_a_gift_card)."""
    domain = make_domain(**GIFTS)
    domain.xoxoday.faults.set("placeOrder", drop_after_apply=True, count=1)
    card = submitted(domain, gift())
    place(domain)
    assert [o.po_number for o in domain.xoxoday.state.orders()] == [card.po_number]
    [order] = orders(domain)
    assert order.status == OrderStatus.PLACED
    assert len(domain.teller.of(OrderPlaced)) == 1


def test_an_order_a_crash_left_being_placed_is_sent_again_with_its_ponumber(
    make_domain,
) -> None:
    domain = make_domain(**GIFTS)
    card = submitted(domain, gift())
    with domain.store.session() as session:  # claimed, then the process died
        assert orders_repo.claim_next_queued(session, claimed_by="crashed-worker") is not None
    assert domain.orders.recover() == 1
    place(domain)
    assert [o.po_number for o in domain.xoxoday.state.orders()] == [card.po_number]
    assert orders(domain)[0].status == OrderStatus.PLACED


# ── failed and in doubt ──────────────────────────────────────────────────────────────────


def test_an_order_in_doubt_is_told_to_the_admins_and_settled_by_one(make_domain) -> None:
    domain = make_domain(**GIFTS)
    domain.xoxoday.faults.set("placeOrder", drop_after_apply=True, count=1)
    domain.xoxoday.faults.set("getOrderDetails", error="503", count=50)
    card = submitted(domain, gift())
    place(domain)
    [order] = orders(domain)
    assert order.status == OrderStatus.UNKNOWN
    [doubt] = domain.teller.of(OrderInDoubt)
    assert doubt.card.po_number == card.po_number and doubt.admins == (ADMIN,)
    assert len(domain.xoxoday.state.orders()) == 1  # it was made, once
    assert domain.teller.of(OrderPlaced) == []

    domain.xoxoday.faults.clear()
    refused = domain.gifts.settle(po_number=card.po_number, user_id=APPROVER, placed=True)
    assert isinstance(refused, Refusal) and refused.text == "Only admins settle orders in doubt."
    settled = domain.gifts.settle(po_number=card.po_number, user_id=ADMIN, placed=True)
    assert isinstance(settled, GiftCard) and settled.status is OrderStatus.PLACED
    assert orders(domain)[0].plum_order_id == str(domain.xoxoday.state.orders()[0].order_id)
    [placed] = domain.teller.of(OrderPlaced)
    assert placed.card.po_number == card.po_number
    for po in (card.po_number, "RB-NOSUCH"):  # settled already; no such order
        refused = domain.gifts.settle(po_number=po, user_id=ADMIN, placed=False)
        assert isinstance(refused, Refusal) and "Nothing changed" in refused.text
    assert orders(domain)[0].status == OrderStatus.PLACED
    assert len(domain.teller.of(OrderPlaced)) == 1 and domain.teller.of(OrderFailed) == []


def test_paid_with_points_and_given_back_when_the_order_fails(make_domain) -> None:
    domain = make_domain(
        REWARD_POINT_SYSTEM="storefront",
        STOREFRONT_API_KEY="k",
        REWARD_APPROVAL_THRESHOLD=100_000,
        REWARD_MAX_PER_REWARD=100_000,
    )
    domain.give(ADMIN, BOB, 6000, "for the launch")
    domain.deliver()
    pay = gift(BOB, to=None, amount="30.5", pay_with_points=True)
    card = submitted(domain, pay)  # not a gift sender, but has points
    assert card.points == Decimal("2531.5")
    place(domain)
    [order] = orders(domain)
    assert order.status == OrderStatus.PLACED
    assert order.points_cents == 253150  # 30.5 USD at 83 INR, one point per rupee
    assert order.order_value == Decimal("2531.50")
    assert available(domain, BOB) == 600000 - 253150

    domain.xoxoday.faults.set("placeOrder", error="PLE10002")
    card = submitted(domain, gift(BOB, to=None, amount="30.5", pay_with_points=True, key="k2"))
    assert available(domain, BOB) == 600000 - 2 * 253150  # paid when ordered
    place(domain)
    failed = orders(domain)[-1]
    assert failed.status == OrderStatus.FAILED and failed.points_cents == 253150
    [told] = domain.teller.of(OrderFailed)
    assert told.card.po_number == card.po_number and told.card.points == Decimal("2531.5")
    assert told.card.message
    assert available(domain, BOB) == 600000 - 253150  # the points are back


def available(domain: Domain, user_id: str) -> int:
    with domain.store.read_session() as session:
        member = member_repo.get_member_by_slack_id(session, slack_user_id=user_id)
        assert member is not None and member.id is not None
        return points_repo.balance(session, member_id=member.id, today=date.today()).available


# ── who may, the cap, the balance, approval ──────────────────────────────────────────────


def test_only_admins_and_gift_senders_use_the_company_account(make_domain) -> None:
    domain = make_domain(**GIFTS)
    form = domain.gifts.form(BOB, donation=False, recipient=MARIA)
    assert isinstance(form, Refusal) and form.text == (
        "Only admins and the gift senders they chose can send gift cards from the company "
        "account. Ask an admin if you think you should."
    )
    refused = domain.gifts.submit(gift(BOB))
    assert isinstance(refused, Refusal)
    assert refused.fields["pay"] == "Only admins and gift senders can use the company account."
    sender = make_domain(**GIFTS, REWARD_GIFT_SENDERS=BOB)
    assert submitted(sender, gift(BOB, key="k2")).giver_id == BOB
    assert len(orders(domain)) == 1


BOT_PICKED = "That's a bot. Pick a person."
NO_EMAIL = (
    "They have no email address in Slack, and Xoxoday needs one for a gift card. Pick someone else."
)
SELF_DONATION = (
    "You can't donate in your own name. Pick someone else, or leave the person out to donate "
    "in the team's name."
)


@pytest.mark.parametrize(
    ("request_", "said"),
    [
        (gift(to=HELPERBOT), BOT_PICKED),
        (replace(gift(to=None), recipient_id=HELPERBOT), BOT_PICKED),
        (gift(to=GONE), "That account is deactivated. Pick someone else."),
        (gift(to=NOMAIL), NO_EMAIL),
        (gift(to="UNOBODY9"), "I can't find that person in Slack. Pick someone else."),
    ],
)
def test_the_person_picked_is_checked_as_slack_knows_them(
    make_domain, request_: GiftRequest, said: str
) -> None:
    """Slack's people picker offers bots, deactivated accounts and people without an email:
    the form's check says why beside the field, and the order refuses them too."""
    domain = make_domain(**GIFTS)
    assert domain.gifts.problems(request_) == {}  # nothing the bot knows without Slack
    assert domain.gifts.recipient_problem(request_) == said
    refused = domain.gifts.submit(request_)
    assert isinstance(refused, Refusal) and refused.fields == {"recipient": said}
    assert orders(domain) == []


def test_a_donation_in_someone_s_name_needs_no_email_and_not_yourself(make_domain) -> None:
    domain = make_domain(**GIFTS)
    in_their_name = replace(gift(to=None), recipient_id=NOMAIL)
    assert domain.gifts.recipient_problem(in_their_name) is None
    mine = replace(gift(to=None), recipient_id=ADMIN)
    assert domain.gifts.problems(mine) == {"recipient": SELF_DONATION}
    refused = domain.gifts.form(ADMIN, donation=True, recipient=ADMIN)
    assert isinstance(refused, Refusal) and refused.text == SELF_DONATION
    assert domain.gifts.problems(gift(to=ADMIN)) == {
        "recipient": "You can't send yourself a gift card."
    }


def test_the_monthly_cap_is_refused_before_anything_is_ordered(make_domain) -> None:
    domain = make_domain(REWARD_GIFT_MONTHLY_CAP="2000", REWARD_APPROVAL_THRESHOLD=100_000)
    refused = domain.gifts.submit(gift(to=None, amount="31"))
    assert isinstance(refused, Refusal) and refused.code == "cap"
    assert "more than you can send this month: it costs 2,573.00 INR" in refused.text
    assert "you have 2,000.00 INR of your 2,000.00 INR left" in refused.text
    assert orders(domain) == [] and domain.teller.events == []
    submitted(domain, gift(to=None, amount="20", key="k2"))  # 1,660 INR
    refused = domain.gifts.submit(gift(amount="500", key="k3"))
    assert isinstance(refused, Refusal)
    assert "you have 340.00 INR of your 2,000.00 INR left" in refused.text
    assert len(orders(domain)) == 1


def test_a_shortfall_in_the_company_account_is_refused(make_domain) -> None:
    domain = make_domain(**GIFTS)
    domain.xoxoday.state.set_balance(Decimal(5))
    refused = domain.gifts.submit(gift(to=None, amount="20"))
    assert isinstance(refused, Refusal) and refused.code == "balance"
    assert refused.text.startswith("The company account has 5.00 INR")
    assert "Ask an admin to add funds" in refused.text
    assert orders(domain) == [] and domain.xoxoday.state.orders() == []
    assert domain.teller.events == []


def test_an_order_over_the_threshold_waits_for_one_approver(make_domain) -> None:
    domain = make_domain(REWARD_GIFT_MONTHLY_CAP="2000", REWARD_APPROVAL_THRESHOLD=1500)
    card = submitted(domain, gift(to=None, amount="20"))  # 1,660 INR
    assert card.status is OrderStatus.PENDING_APPROVAL
    [waiting] = domain.teller.events
    assert isinstance(waiting, OrderAwaitsApproval) and waiting.approvers == (APPROVER, ADMIN)
    assert domain.wakes["orders"] == 0 and place(domain) == 0

    for user, text in [
        (ADMIN, "You can't decide on your own order: another approver will."),
        (BOB, "Only approvers and admins decide on gift orders."),
    ]:
        refused = domain.gifts.decide(po_number=card.po_number, user_id=user, approve=True)
        assert isinstance(refused, Refusal) and refused.text == text
    decided = domain.gifts.decide(po_number=card.po_number, user_id=APPROVER, approve=True)
    assert isinstance(decided, GiftCard) and decided.status is OrderStatus.QUEUED
    [told] = domain.teller.of(OrderDecided)
    assert told.approved and told.approver == APPROVER and domain.wakes["orders"] == 1
    again = domain.gifts.decide(po_number=card.po_number, user_id=APPROVER, approve=False)
    assert isinstance(again, Refusal) and again.text.startswith("That order was already decided")
    assert place(domain) == 1
    assert orders(domain)[0].status == OrderStatus.PLACED
    assert len(domain.teller.of(OrderDecided)) == 1


def test_a_rejected_order_is_never_placed(make_domain) -> None:
    domain = make_domain(REWARD_GIFT_MONTHLY_CAP="2000", REWARD_APPROVAL_THRESHOLD=1500)
    card = submitted(domain, gift(to=None, amount="20"))
    decided = domain.gifts.decide(po_number=card.po_number, user_id=APPROVER, approve=False)
    assert isinstance(decided, GiftCard) and decided.status is OrderStatus.REJECTED
    [told] = domain.teller.of(OrderDecided)
    assert not told.approved
    assert place(domain) == 0 and domain.calls("placeOrder") == []


def test_an_order_in_doubt_is_settled_from_its_ponumber_and_the_admins_hear_only_after_the_bound(
    make_domain,
) -> None:
    """With REWARD_IN_DOUBT_ADMIN_MINUTES set: nobody is asked when the order goes unknown; the
    order-status poll places the one Xoxoday has; one it can't look up goes to the admins once
    it has been unresolved that long, once."""
    from datetime import timedelta

    from bot.rewards.events import OrderUnresolved
    from bot.rewards.order_updates import OrderUpdates
    from storage.models import Order as OrderRow

    domain = make_domain(REWARD_IN_DOUBT_ADMIN_MINUTES=30, **GIFTS)
    updates = OrderUpdates(
        store=domain.store,
        plum=domain.plum,
        teller=domain.teller,
        ask_after=timedelta(minutes=30),
    )
    for key in ("found", "lost"):
        domain.xoxoday.faults.set("placeOrder", drop_after_apply=True, count=1)
        domain.xoxoday.faults.set("getOrderDetails", error="503", count=50)
        submitted(domain, gift(key=key))
        place(domain)
    found, lost = orders(domain)
    assert {found.status, lost.status} == {OrderStatus.UNKNOWN}
    assert [d.admins for d in domain.teller.of(OrderInDoubt)] == [(), ()]  # nobody asked yet

    domain.xoxoday.faults.clear()
    assert updates.check(found.po_number).placed  # Xoxoday has it: placed, by its poNumber
    assert orders(domain)[0].status == OrderStatus.PLACED
    domain.xoxoday.faults.set("getOrderDetails", error="503")  # the other can't be looked up
    updates.check(lost.po_number)
    assert domain.teller.of(OrderUnresolved) == []  # not before the bound
    with domain.store.session() as session:  # it has been unknown for 31 minutes
        row = session.get(OrderRow, lost.id)
        assert row is not None
        row.updated_at = row.updated_at - timedelta(minutes=31)
        session.add(row)
    updates.check(lost.po_number)
    updates.check(lost.po_number)
    [asked] = domain.teller.of(OrderUnresolved)
    assert asked.order.po_number == lost.po_number and "poNumber" in asked.reason
    assert len(domain.xoxoday.state.orders()) == 2  # each made once


def test_a_catalogue_xoxoday_cannot_give_says_so_and_not_pick_a_card(make_domain) -> None:
    """With no catalogue read yet and Xoxoday's getVouchers failing, the card picked is not
    "missing": the form says Xoxoday can't be reached, and nothing is ordered."""
    domain = make_domain(**GIFTS)
    domain.xoxoday.faults.set("getVouchers", error="503", count=50)
    assert domain.gifts.problems(gift()) == {"product": CATALOGUE_UNREADABLE}
    refused = domain.gifts.submit(gift())
    assert isinstance(refused, Refusal) and refused.fields == {"product": CATALOGUE_UNREADABLE}
    assert orders(domain) == []
    domain.xoxoday.faults.clear()
    assert domain.gifts.problems(replace(gift(), product_id=None)) == {
        "product": "Pick a gift card."
    }
