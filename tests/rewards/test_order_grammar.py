"""`/reward orders` and `/reward orders report …` as parsed, and the periods they name."""

from __future__ import annotations

from datetime import date

import pytest

from bot.rewards.commands import ErrorCode, ListOrders, OrdersReport
from bot.rewards.order_reports import month_of, shown_status
from bot.rewards.refusal import Refusal
from bot.slack.listeners.subcommands import SUBCOMMANDS


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("orders", ListOrders()),
        ("ORDERS", ListOrders()),
        ("orders report", OrdersReport(month="this")),
        ("orders report this month", OrdersReport(month="this")),
        ("orders report Last Month", OrdersReport(month="last")),
        (
            "orders report 2026-11-01 2026-11-30",
            OrdersReport(since=date(2026, 11, 1), until=date(2026, 11, 30)),
        ),
        (
            "orders report 01-11-2026 30-11-2026",
            OrdersReport(since=date(2026, 11, 1), until=date(2026, 11, 30)),
        ),
        (
            "orders report 2026-11-05",
            OrdersReport(since=date(2026, 11, 5), until=date(2026, 11, 5)),
        ),
    ],
)
def test_orders_commands(text: str, expected: object) -> None:
    assert SUBCOMMANDS.parse(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "orders everything",
        "orders report yesterday",
        "orders report 2026-02-30 2026-03-01",
        "orders report 2026-03-01 2026-02-01",
        "orders report 2025-01-01 2026-06-01",
    ],
)
def test_orders_mistakes_are_refusals(text: str) -> None:
    found = SUBCOMMANDS.parse(text)
    assert isinstance(found, Refusal)
    assert found.code in (ErrorCode.EXTRA_ARGUMENT, ErrorCode.BAD_DATE)


def test_months_across_the_year_end() -> None:
    assert month_of("this", today=date(2026, 12, 15)) == (date(2026, 12, 1), date(2026, 12, 31))
    assert month_of("last", today=date(2027, 1, 1)) == (date(2026, 12, 1), date(2026, 12, 31))
    assert month_of("last", today=date(2026, 3, 31)) == (date(2026, 2, 1), date(2026, 2, 28))


@pytest.mark.parametrize(
    ("status", "delivery", "shown"),
    [
        ("pending_approval", None, "pending approval"),
        ("queued", None, "being placed"),
        ("requested", None, "being placed"),
        ("placed", None, "placed"),
        ("placed", "pending", "placed"),
        ("placed", "delivered", "delivered"),
        ("placed", "canceled", "canceled"),
        ("unknown", None, "in doubt"),
        ("failed", None, "failed"),
        ("rejected", None, "rejected"),
    ],
)
def test_what_admins_read_of_an_order(status: str, delivery: str | None, shown: str) -> None:
    assert shown_status(status, delivery) == shown
