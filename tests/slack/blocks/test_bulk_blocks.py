"""`/reward bulk`'s messages and form, with ordinary and extreme inputs: Slack accepts them,
they say what a person needs, and what came from the file is text, never markup."""

from __future__ import annotations

from decimal import Decimal

from bot.rewards.balances import Account
from bot.rewards.bulk import Award, RowProblem, escape, shown
from bot.rewards.bulk_service import BulkPreview, BulkRejected
from bot.rewards.cards import MessageRef
from bot.rewards.events import BulkCard
from bot.slack.blocks import bulk
from tests.slack.blocks.blockkit_rules import check_message, check_view, everything

HOSTILE = "x" * 115 + " & <!channel> *bold* `tick` & <https://evil.test|click> " + "x" * 300
CARD = BulkCard(
    short_id="B7K2Q9",
    admin_id="UADMIN01",
    filename=HOSTILE + ".csv",
    rows=10_000,
    total=1_234_567,
    message=MessageRef(channel_id="D1", ts="1.2"),
)


def test_the_form_has_one_csv_file_input() -> None:
    view = bulk.form()
    assert check_view(view) == []
    assert check_view(bulk.checking(HOSTILE)) == []
    assert "<!channel>" not in everything(bulk.checking(HOSTILE))


def test_a_rejection_with_many_long_problems_fits_and_counts_the_rest() -> None:
    said = "the recipient " + shown(HOSTILE) + " is " + "long " * 100  # as bot.rewards.bulk says
    problems = tuple(RowProblem(n, said) for n in range(2, 60))
    payload = bulk.rejected(BulkRejected(filename=HOSTILE, rows=58, problems=problems))
    assert check_message(payload) == []
    text = everything(payload)
    assert "58 problems in its 58 rows" in text and "…and 38 more problems." in text


def test_a_preview_of_the_largest_file_fits_with_its_warning_and_buttons() -> None:
    reason = escape(HOSTILE)  # as a reason is kept
    sample = tuple(Award(line=n, user_id="UMARIA01", points=5_000, reason=reason) for n in range(5))
    for account in (None, Account(value=None), Account(value=Decimal("12.5"), currency="GBP")):
        for approval in (False, True):
            payload = bulk.preview(
                BulkPreview(bulk=CARD, sample=sample, needs_approval=approval), account
            )
            assert check_message(payload) == []
            text = everything(payload)
            assert "can't be recalled" in text and "…and 9,995 more." in text
            assert ("Ask for approval" in text) == approval
    assert "12.50 GBP" in everything(bulk.preview(BulkPreview(CARD, sample, False), account))


def test_progress_approval_and_the_end_fit() -> None:
    tallies = [{"queued": 10_000}, {"sent": 5_000, "queued": 4_000, "in_doubt": 4, "failed": 996}]
    for tally in tallies:
        assert check_message(bulk.progress(CARD, tally)) == []
        assert check_message(bulk.finished(CARD, tally)) == []
    assert "*5,996 of 10,000* done" in everything(bulk.progress(CARD, tallies[1]))
    assert "Failed rows were not paid" in everything(bulk.finished(CARD, {"failed": 1}))
    approvers = tuple(f"UAPPR{n:03d}" for n in range(30))
    for payload in (
        bulk.waiting(CARD, approvers),
        bulk.approval_request(CARD),
        bulk.decided(CARD, approver="UAPPR001", approved=True),
        bulk.decided(CARD, approver="UAPPR001", approved=False),
        bulk.cancelled(CARD),
        bulk.sent_before(CARD),
        bulk.started(CARD),
    ):
        assert check_message(payload) == []
        assert "<!channel>" not in everything(payload)
