"""What Xoxoday's payment report proves of a reward in doubt (`bot.rewards.doubt.read_records`),
as a table: sent only when its rows can be nobody else's, not sent only when the report is known
to be up to date past it and shows nothing of its amounts."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from bot.plum import PaymentRecord
from bot.rewards.doubt import Claim, Finding, read_records

WHEN = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)
ANN, BOB = 1, 2


def row(ref: str, amount: int, status: str = "Complete") -> PaymentRecord:
    return PaymentRecord(
        invoice_number=None,
        reference_id=ref,
        date="2026-12-07",
        reason=f"Points sent (unique_id {ref})",
        adjusted_amount=Decimal(amount),
        transaction_status=status,
        closing_balance=None,
    )


CLAIM = Claim(reward_id=7, points=((ANN, 40), (BOB, 15)), in_doubt_at=WHEN)
KNOWN = {"100"}  # a send the ledger saw answered


@pytest.mark.parametrize(
    ("rows", "answered_after", "rivals", "finding"),
    [
        ([row("100", -5), row("101", -40), row("102", -15)], False, [], Finding.SENT),
        ([row("100", -5)], True, [], Finding.NOT_SENT),
        ([row("100", -5)], False, [], Finding.UNPROVEN),  # the report may be behind
        ([row("100", -5), row("FUND-1", 500)], True, [], Finding.NOT_SENT),  # a credit
        ([row("101", -40)], True, [], Finding.UNPROVEN),  # half of it: partly applied?
        ([row("101", -40), row("102", -15), row("103", -40)], False, [], Finding.UNPROVEN),
        ([row("101", -40), row("102", -15)], False, [Decimal(15)], Finding.UNPROVEN),
        ([row("101", -40), row("102", -15, "Cancelled")], False, [], Finding.UNPROVEN),
        ([row("101", -40, "Cancelled")], True, [], Finding.UNPROVEN),  # it existed once
        ([row("100", -40), row("100", -15)], True, [], Finding.NOT_SENT),  # the ledger's own
    ],
    ids=[
        "its-rows",
        "nothing-and-up-to-date",
        "nothing-but-maybe-behind",
        "credits-are-not-sends",
        "one-of-two",
        "one-row-too-many",
        "a-rival-could-own-one",
        "cancelled-since",
        "cancelled-row-blocks-not-sent",
        "known-rows-are-not-its",
    ],
)
def test_what_the_report_proves(
    rows: list[PaymentRecord], answered_after: bool, rivals: list[Decimal], finding: Finding
) -> None:
    proof = read_records(
        CLAIM, rows=rows, known=KNOWN, answered_after=answered_after, rival_amounts=rivals
    )
    assert proof.finding is finding, proof.why
    assert proof.why


def test_sent_names_each_recipients_unique_id_where_one_row_fits() -> None:
    proof = read_records(
        CLAIM,
        rows=[row("101", -40), row("102", -15)],
        known=KNOWN,
        answered_after=False,
        rival_amounts=[],
    )
    assert proof.unique_ids == {ANN: "101", BOB: "102"}


def test_equal_amounts_are_sent_but_no_id_is_guessed() -> None:
    twins = Claim(reward_id=8, points=((ANN, 20), (BOB, 20)), in_doubt_at=WHEN)
    proof = read_records(
        twins,
        rows=[row("201", -20), row("202", -20)],
        known=set(),
        answered_after=False,
        rival_amounts=[],
    )
    assert proof.finding is Finding.SENT and proof.unique_ids == {}
