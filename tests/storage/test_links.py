"""Link batches and orders: bearer secrets only ever stored encrypted; audit without them."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import text

from storage import audit, links
from storage.db import Store
from storage.errors import DuplicateOrder, NotFound
from tests.storage.conftest import People

LINKS = ["https://xoxo.link/secret-AAA", "https://xoxo.link/secret-BBB"]
VOUCHER = {"voucherCode": "DEMO-1676340039265-p6aqnl", "pin": "DEMO-PIN", "validity": "2026-01-01"}


def _dump(store: Store) -> str:
    """Every row of every table, as text: what someone with the database file can read."""
    with store.read_session() as s:
        tables = [
            "link_batches",
            "orders",
            "audit_events",
            "rewards",
            "reward_recipients",
        ]
        return "\n".join(
            str(row) for t in tables for row in s.exec(text(f"SELECT * FROM {t}")).all()
        )


def test_a_link_batch_keeps_its_links_encrypted(store: Store, people: People) -> None:
    with store.session() as s:
        batch = links.create_link_batch(
            s,
            campaign_id="CAMP-1",
            count=2,
            requested_by=people.admin,
            link_expiry=date(2025, 12, 31),
        )
    assert batch.status == "requested"
    with store.session() as s:
        done = links.complete_link_batch(
            s,
            batch_id=batch.id,
            links=LINKS,
            plum_batch_id="B-77",
            actor="UADMIN",  # type: ignore[arg-type]
            campaign_name="Thanks",
            denomination_value=Decimal("25.00"),
            currency_code="INR",
            country_name="India",
        )
    assert done.status == "created" and done.plum_batch_id == "B-77"
    assert done.denomination_value == Decimal("25.00")
    everything = _dump(store)
    assert all(link not in everything for link in LINKS)
    with store.read_session() as s:
        assert links.reveal_links(s, batch_id=batch.id) == LINKS  # type: ignore[arg-type]
        assert [b.id for b in links.list_link_batches(s)] == [batch.id]
        trail = audit.events_for(s, subject_type="link_batch", subject_id=batch.id)
    assert [e.action for e in trail] == ["link_batch.created", "link_batch.completed"]
    assert trail[0].actor == "UADMIN" and trail[0].after["count"] == 2
    assert trail[1].after["links_received"] == 2
    with pytest.raises(links.StaleStatus), store.session() as s:
        links.fail_link_batch(s, batch_id=batch.id, actor="UADMIN", message="late")  # type: ignore[arg-type]


def test_a_single_link_for_a_person_and_a_failed_batch(store: Store, people: People) -> None:
    with store.session() as s:
        batch = links.create_link_batch(
            s, campaign_id="CAMP-2", count=1, requested_by=people.admin, recipient=people.alice
        )
        failed = links.fail_link_batch(s, batch_id=batch.id, actor="UADMIN", message="no budget")  # type: ignore[arg-type]
    assert failed.status == "failed" and failed.recipient_id == people.alice.id
    with store.read_session() as s:
        assert links.reveal_links(s, batch_id=batch.id) == []  # type: ignore[arg-type]
        trail = audit.events_for(s, subject_type="link_batch", subject_id=batch.id)
    assert trail[0].after["recipient"] == "UALICE"
    assert trail[-1].action == "link_batch.failed"
    with pytest.raises(ValueError), store.session() as s:
        links.create_link_batch(s, campaign_id="C", count=0, requested_by=people.admin)
    with pytest.raises(NotFound), store.session() as s:
        links.fail_link_batch(s, batch_id=424242, actor="UADMIN", message="x")


def test_an_order_keeps_request_and_response_with_vouchers_encrypted(store: Store) -> None:
    request = {
        "productId": "P-1",
        "quantity": 1,
        "denomination": 500,
        "poNumber": "PO-1",
        "email": "a@example.com",
    }
    with store.session() as s:
        order = links.record_order_request(
            s,
            po_number="PO-1",
            product_id="P-1",
            quantity=1,
            denomination=Decimal("500"),
            request=request,
            requested_by="UADMIN",
            currency_code="INR",
        )
    assert order.status == "requested" and order.request == request
    response = {
        "data": {
            "placeOrder": {
                "status": 1,
                "data": {
                    "orderId": 9,
                    "vouchers": [{**VOUCHER, "code": "SEED-CODE", "amount": 500}],
                },
            }
        }
    }
    with store.session() as s:
        placed = links.record_order_response(
            s,
            po_number="PO-1",
            status="placed",
            response=response,
            actor="system",
            plum_order_id="9",
        )
    assert placed.status == "placed" and placed.plum_order_id == "9"
    voucher = placed.response_redacted["data"]["placeOrder"]["data"]["vouchers"][0]  # type: ignore[index]
    assert voucher == {
        "voucherCode": "[redacted]",
        "pin": "[redacted]",
        "code": "[redacted]",
        "validity": "2026-01-01",
        "amount": 500,
    }
    everything = _dump(store)
    for secret in ("DEMO-1676340039265-p6aqnl", "DEMO-PIN", "SEED-CODE"):
        assert secret not in everything
    with store.read_session() as s:
        assert links.reveal_order_response(s, po_number="PO-1") == response
        trail = audit.events_for(s, subject_type="order", subject_id="PO-1")
    assert [e.action for e in trail] == ["order.requested", "order.placed"]


def test_order_po_numbers_are_unique_and_unknown_outcomes_resolve(store: Store) -> None:
    with store.session() as s:
        links.record_order_request(
            s,
            po_number="PO-2",
            product_id="P",
            quantity=1,
            denomination=Decimal("10"),
            request={},
            requested_by="UADMIN",
        )
    with pytest.raises(DuplicateOrder), store.session() as s:
        links.record_order_request(
            s,
            po_number="PO-2",
            product_id="P",
            quantity=1,
            denomination=Decimal("10"),
            request={},
            requested_by="UADMIN",
        )
    with store.session() as s:
        links.record_order_response(
            s,
            po_number="PO-2",
            status="unknown",
            response=None,
            actor="system",
            message="timeout",
        )
    with store.session() as s:
        found = links.record_order_response(
            s,
            po_number="PO-2",
            status="failed",
            response={"code": 404, "errorId": "PLE10016"},
            actor="system",
        )
    assert found.status == "failed"
    assert found.response_redacted == {"code": 404, "errorId": "PLE10016"}  # not a voucher code
    with pytest.raises(links.StaleStatus), store.session() as s:
        links.record_order_response(s, po_number="PO-2", status="placed", response={}, actor="x")
    with pytest.raises(NotFound), store.session() as s:
        links.record_order_response(s, po_number="PO-404", status="placed", response={}, actor="x")
