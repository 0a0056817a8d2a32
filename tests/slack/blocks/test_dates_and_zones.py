"""One way to write a date in every message (`5 March 2026`: list rows, prose, the orders list
alike) and one name for a person's time zone (the label their times carry, `CET`, also where a
list says which zone its times are in)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from bot.rewards.order_reports import OrderLine, OrdersList
from bot.slack.blocks import jobs, lists, orders
from tests.slack.blocks import samples as s
from tests.slack.blocks.blockkit_rules import visible
from tests.slack.blocks.test_all_builders import MESSAGES, TEXT_ONLY, VIEWS

MONTH = "January|February|March|April|May|June|July|August|September|October|November|December"
SHORT = r"\b\d{1,2} (?:Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)\b"
OTHER_WAYS = [
    SHORT,  # 5 Mar 2026
    rf"\b0\d (?:{MONTH})\b",  # 05 March 2026
    rf"\b\d{{1,2}} (?:{MONTH})\b(?! \d{{4}})",  # 5 March (no year)
    r"\b\d{4}-\d{2}-\d{2}\b",  # 2026-03-05
    r"\b\d{2}[-/.]\d{2}[-/.]\d{4}\b",  # 05-03-2026
]


def dates_written_another_way(text: str) -> list[str]:
    """Dates not written `5 March 2026`, outside `code` (commands shown to be typed)."""
    prose = re.sub(r"`[^`]*`", "", text)
    return [m.group(0) for way in OTHER_WAYS for m in re.finditer(way, prose)]


def _orders(*created: datetime) -> OrdersList:
    lines = tuple(
        OrderLine(
            po_number=f"PO-{n}",
            kind="gift",
            status="placed",
            product="Amazon Pay e-Gift Card",
            value=Decimal("500"),
            currency="INR",
            giver_id=s.GIVER,
            recipient_id=s.MARIA,
            created_at=when,
        )
        for n, when in enumerate(created)
    )
    return OrdersList(lines=lines, tz="Europe/Berlin", counts={"placed": len(lines)})


EXTRA = {
    "orders list": lambda: orders.orders_message(orders=_orders(s.CREATED)),
    "expiry reminder": lambda: jobs.expiry_reminder(
        grants=[
            jobs.ExpiringGrant(short_id="AB12CD", points=10, expires_on=date(2026, 3, 12)),
            jobs.ExpiringGrant(short_id="EF34GH", points=5, expires_on=date(2026, 4, 2)),
        ],
        balance=15,
        today=date(2026, 3, 5),
        tz="Europe/Berlin",
    ),
    "history": lambda: lists.history_message(
        viewer_id=s.MARIA, given=[s.reward()], received=[s.reward()], tz="Asia/Tokyo"
    ),
}


@pytest.mark.parametrize("name", sorted([*MESSAGES, *TEXT_ONLY, *VIEWS, *EXTRA]), ids=str)
def test_every_date_is_written_one_way(name: str) -> None:
    build = {**MESSAGES, **TEXT_ONLY, **VIEWS, **EXTRA}[name]
    assert dates_written_another_way(visible(build())) == []


def test_the_check_would_notice_a_date_written_another_way() -> None:
    assert dates_written_another_way("on 5 Mar 2026, 05 March 2026, 5 March and 2026-03-05") == [
        "5 Mar",
        "05 March",
        "5 March",
        "2026-03-05",
    ]
    assert (
        dates_written_another_way("on 5 March 2026; type `/reward orders report 2026-11-01`") == []
    )


def test_the_orders_list_names_the_zone_as_the_admin_s_other_messages_do() -> None:
    winter = datetime(2026, 3, 5, 13, 5, tzinfo=UTC)
    seen = visible(orders.orders_message(orders=_orders(winter)))
    assert "· 5 March 2026 at 14:05 ·" in seen
    assert "Times in CET." in seen and "Europe/Berlin" not in seen
    summer = datetime(2026, 7, 1, 9, 0, tzinfo=UTC)
    assert "Times in CEST." in visible(orders.orders_message(orders=_orders(summer, winter)))
