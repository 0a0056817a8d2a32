"""Every operation against the sandbox, in every response variant the notes list."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from bot.plum import NoVouchersError, OrderNotFoundError, Recipient, ValidationError
from tests.plum.conftest import api_ops

A = Recipient(email="ann@example.com", points=100, name="Ann", citation="great demo")
B = Recipient(email="bob@example.com", points=40, name="Bob")


def set_variant(srv, name, value):
    srv.faults.set_variant(name, value)


def test_validate_reports_expiry(client, fake_time):
    info = client.validate()
    assert info.token_type == "bearer"
    assert info.expires_at is not None and info.expires_at > fake_time.now()
    assert info.expires_in and info.expires_in > 0


def test_validate_with_docs_token_variant(srv, make_client, fake_time):
    set_variant(srv, "token", "docs")  # expires_in as a string, *_expiry in epoch ms strings
    info = make_client().validate()
    assert info.expires_at is not None and info.expires_at > fake_time.now()


def test_balance_is_decimal(client, srv):
    balance = client.get_balance()
    assert balance.value == srv.state.account_balance
    assert isinstance(balance.value, Decimal)
    assert balance.currency == srv.state.currency


def test_filters(client):
    groups = {g.code: g for g in client.get_filters()}
    assert "country" in groups and groups["country"].filters
    only = client.get_filters(filter_group_code="country")
    assert [g.code for g in only] == ["country"]


@pytest.mark.parametrize("variant", ["spec", "loose"])
def test_vouchers_in_both_type_styles(srv, client, variant):
    set_variant(srv, "vouchers", variant)
    vouchers = client.get_vouchers(limit=5)
    assert vouchers and all(v.product_id for v in vouchers)
    fixed = [v for v in vouchers if v.value_type == "fixed_denomination"]
    assert fixed and all(isinstance(d, Decimal) for d in fixed[0].denominations)
    assert all(v.min_value is None or isinstance(v.min_value, Decimal) for v in vouchers)


def test_vouchers_none_found(client):
    with pytest.raises(NoVouchersError):
        client.get_vouchers(filters={"productName": "no such product anywhere"})


def _fixed_product(client):
    return next(v for v in client.get_vouchers(limit=20) if v.denominations)


@pytest.mark.parametrize("variant", ["numbers", "strings"])
def test_place_order_and_look_it_up(srv, client, variant):
    set_variant(srv, "orderDetails", variant)
    product = _fixed_product(client)
    placed = client.place_order(
        product_id=product.product_id,
        quantity=1,
        denomination=product.denominations[0],
        po_number="PO-100",
        email="ann@example.com",
    )
    assert not placed.recovered and placed.order.order_id
    assert placed.order.vouchers and placed.order.vouchers[0].code  # for the caller, not reprs
    assert placed.request["variables"]["data"]["poNumber"] == "PO-100"
    assert placed.response["data"]["placeOrder"]["data"]["orderId"] == placed.order.order_id
    by_po = client.get_order_details(po_number="PO-100")
    by_id = client.get_order_details(order_id=placed.order.order_id)
    assert by_po.order_id == by_id.order_id == placed.order.order_id
    assert isinstance(by_po.order_discount, Decimal)


def test_order_not_found(client):
    with pytest.raises(OrderNotFoundError) as info:
        client.get_order_details(po_number="PO-NOPE")
    assert info.value.error_id == "PLE10016" and info.value.status == 404


def test_order_history_and_payment_history(srv, client, fake_time):
    product = _fixed_product(client)
    client.place_order(
        product_id=product.product_id,
        quantity=1,
        denomination=product.denominations[0],
        po_number="PO-H1",
    )
    today = fake_time.now().date()
    history = client.get_order_history(start_date=today - timedelta(days=1), end_date=today)
    assert [o.po_number for o in history.orders] == ["PO-H1"]
    for style in ("spec", "guide"):
        for variant in ("spec", "guide"):
            set_variant(srv, "paymentHistory", variant)
            rows = client.payment_history(
                start_date=today - timedelta(days=1), end_date=today, request_style=style
            )
            assert rows and all(isinstance(r.adjusted_amount, Decimal) for r in rows)
            assert any(r.adjusted_amount < 0 for r in rows)  # the order's debit


@pytest.mark.parametrize("payload_style", ["flat", "recipients_data"])
def test_send_balance_spec_answer_many_recipients_in_one_call(srv, client, payload_style):
    result = client.send_balance(
        sender_email="boss@example.com",
        expiry_month=12,
        recipients=[A, B],
        payload_style=payload_style,
    )
    assert result.ids_known
    assert [(r.email, r.points) for r in result.recipients] == [
        ("ann@example.com", 100),
        ("bob@example.com", 40),
    ]
    assert api_ops(srv) == ["sendBalance"]
    assert srv.state.points_of("ann@example.com") == 100
    assert {t.unique_id for t in srv.state.transactions()} == set(result.unique_ids)


def test_send_balance_flat_answer(srv, client):
    set_variant(srv, "sendBalance", "flat")
    result = client.send_balance(sender_email="boss@example.com", expiry_month=6, recipients=[A])
    assert result.ids_known
    assert result.unique_ids == (srv.state.transactions("ann@example.com")[0].unique_id,)


def test_send_balance_flat_account_refuses_several_recipients(srv, client):
    set_variant(srv, "sendBalance", "flat")
    with pytest.raises(ValidationError) as info:
        client.send_balance(sender_email="boss@example.com", expiry_month=6, recipients=[A, B])
    assert "one recipient per call" in str(info.value).lower()
    assert srv.state.transactions() == []


def test_send_balance_quickstart_answer_has_unknown_ids(srv, client):
    set_variant(srv, "sendBalance", "quickstart")
    result = client.send_balance(sender_email="boss@example.com", expiry_month=6, recipients=[A, B])
    assert not result.ids_known and result.unique_ids == ()
    assert [r.points for r in result.recipients] == [100, 40]
    assert srv.state.points_of("bob@example.com") == 40


def test_user_balance_and_cancel(srv, client):
    sent = client.send_balance(sender_email="boss@example.com", expiry_month=12, recipients=[A, B])
    assert client.user_balance(email="ann@example.com").total == 100
    missing = client.user_balance(email="nobody@example.com")
    assert not missing.found and missing.total is None
    cancelled = client.cancel_balance(unique_ids=[sent.recipients[0].unique_id])
    assert cancelled.ok and cancelled.recipients[0].success
    assert client.user_balance(email="ann@example.com").total == 0
    again = client.cancel_balance(unique_ids=[sent.recipients[0].unique_id])
    assert not again.ok and not again.recipients[0].success and again.recipients[0].message


def test_cancel_of_redeemed_points_is_refused(srv, client):
    sent = client.send_balance(sender_email="boss@example.com", expiry_month=12, recipients=[B])
    srv.state.redeem("bob@example.com", 10)
    result = client.cancel_balance(unique_ids=list(sent.unique_ids))
    assert not result.ok


def test_links(srv, client, fake_time):
    campaigns = client.campaign_list(enabled=True)
    assert campaigns and all(c.enabled for c in campaigns)
    campaign_id = int(campaigns[0].campaign_id)
    expiry = fake_time.now().date() + timedelta(days=30)
    links = client.generate_link(campaign_id=campaign_id, quantity=3, expiry=expiry)
    assert len(links.links) == 3 and links.campaign_id == str(campaign_id)
    assert links.denomination == campaigns[0].denomination
    sent = client.send_links(campaign_id=campaign_id, emails=["ann@example.com"], expiry=expiry)
    assert sent.success
    request = next(r for r in srv.requests if r["operation"] == "generateLink")
    assert request["path"].endswith("/v1/oauth/api/generateLink")
    assert request["variables"]["data"]["link_expiry"] == expiry.strftime("%d-%m-%Y")
    assert srv.requests[-1]["path"].endswith("/v1/oauth/api/sendLinks")


def test_link_with_a_past_expiry_is_refused(client, fake_time):
    with pytest.raises(ValidationError, match="link_expiry"):
        client.generate_link(
            campaign_id=7890, quantity=1, expiry=fake_time.now().date() - timedelta(days=1)
        )
