"""`/reward help`, `history`, `leaderboard`, `approvals`, `balance` and `managers`."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from bot.rewards.cards import STATUSES, Leaderboard, LeaderRow, ManagerLine, RecipientLine
from bot.slack.blocks import lists
from bot.slack.blocks.common import STATUS_LABELS
from bot.slack.ids import ActionId
from bot.slack.listeners.subcommands import SUBCOMMANDS
from tests.slack.blocks import samples as s
from tests.slack.blocks.blockkit_rules import assert_valid_message, blocks_of, elements, visible


def test_every_ledger_status_has_a_label() -> None:
    assert set(STATUS_LABELS) == set(STATUSES)
    states = pytest.importorskip("storage.states")
    assert {str(x) for x in states.RewardStatus} == set(STATUSES)


def test_help_shows_the_grammar_and_the_values() -> None:
    msg = lists.help_message(text=SUBCOMMANDS.help_text(values=("teamwork",)))
    seen = visible(msg)
    assert SUBCOMMANDS.help_text() in seen and "`#teamwork`" in seen


@pytest.mark.parametrize(
    ("status", "shown"),
    [
        ("sent", "✅"),
        ("pending_approval", "⏳ "),
        ("queued", "🕓"),
        ("in_doubt", "🔎"),
        ("failed", "❌"),
        ("cancelled", "↩️"),
        ("rejected", "🚫"),
        ("expired", "⌛"),
    ],
)
def test_history_marks_each_reward_with_its_status(status: str, shown: str) -> None:
    given = s.reward(short_id="G1", giver_id=s.MARIA, status=status)
    msg = lists.history_message(viewer_id=s.MARIA, given=[given], received=[], tz=None)
    row = next(line for line in visible(msg).splitlines() if "`G1`" in line)
    assert row.startswith(shown.strip())
    assert STATUS_LABELS[status][1] in row


def test_history_shows_what_i_got_and_what_i_gave_newest_ten() -> None:
    received = [
        s.reward(
            short_id=f"R{i:02d}",
            recipients=(
                RecipientLine(user_id=s.MARIA, points=40 + i),
                RecipientLine(user_id=s.SAM, points=1),
            ),
        )
        for i in range(12)
    ]
    given = [s.reward(short_id="G01", giver_id=s.MARIA)]
    msg = lists.history_message(viewer_id=s.MARIA, given=given, received=received, tz="Asia/Tokyo")
    assert_valid_message(msg)
    seen = visible(msg)
    assert "*40 points* from <@UGIVER01>" in seen
    assert "`R09`" in seen and "`R10`" not in seen
    assert "*100 points* to <@UMARIA01>" in seen
    assert "5 March 2026" in seen
    assert "10 received, 1 given" in msg["text"]


def test_a_withdrawn_share_shows_as_withdrawn_to_its_recipient() -> None:
    card = s.reward(recipients=(RecipientLine(user_id=s.MARIA, points=10, outcome="cancelled"),))
    msg = lists.history_message(viewer_id=s.MARIA, given=[], received=[card], tz=None)
    assert "↩️" in visible(msg) and "withdrawn" in visible(msg)


def test_empty_history_says_how_to_start() -> None:
    seen = visible(lists.history_message(viewer_id=s.MARIA, given=[], received=[], tz=None))
    assert "Nothing yet" in seen and "/reward @maria 50" in seen


def test_leaderboard_ranks_recipients_and_givers() -> None:
    board = Leaderboard(
        period="week",
        since=date(2026, 3, 2),
        recipients=(
            LeaderRow(user_id="UA", points=900, rewards=3),
            LeaderRow(user_id="UB", points=500, rewards=1),
            LeaderRow(user_id="UC", points=100),
            LeaderRow(user_id="UD", points=50),
        ),
        givers=(LeaderRow(user_id="UE", points=1000, rewards=4),),
    )
    msg = lists.leaderboard_message(board=board)
    assert_valid_message(msg)
    seen = visible(msg)
    assert "Leaderboard this week" in seen
    assert "🥇 <@UA> · 900 points received in 3 rewards" in seen
    assert "🥈 <@UB> · 500 points received in 1 reward" in seen
    assert "4. <@UD>" in seen
    assert "🥇 <@UE> · 1,000 points given in 4 rewards" in seen
    assert "Since 2 March 2026" in seen
    assert "<@UA> leads" in msg["text"]


def test_quiet_leaderboard_is_friendly() -> None:
    msg = lists.leaderboard_message(board=Leaderboard(period="month", since=date(2026, 3, 1)))
    assert "No rewards this month yet" in visible(msg)


def test_approvals_list_gives_each_request_its_buttons() -> None:
    requests = [s.approval(reward=s.two_people(short_id=f"P{i}")) for i in range(3)]
    msg = lists.approvals_list(requests=[*requests, requests[0]], tz=None)
    assert_valid_message(msg)
    assert "Waiting for your approval (3)" in visible(msg)
    ids = [b["block_id"] for b in blocks_of(msg, "actions")]
    assert ids == ["approval_actions:P0", "approval_actions:P1", "approval_actions:P2"]
    assert [(b["action_id"], b["value"]) for b in elements(msg, "button")][:2] == [
        (ActionId.APPROVE, "P0"),
        (ActionId.REJECT, "P0"),
    ]


def test_nothing_to_approve() -> None:
    msg = lists.approvals_list(requests=[], tz=None)
    assert "Nothing is waiting for your approval" in visible(msg)
    assert elements(msg, "button") == []


BALANCES = [
    (
        "member",
        s.balance(),
        ["*1,234 points* to redeem", "Xoxoday/Plum", "*700 points* this month", "1 April 2026"],
        ["Company account"],
    ),
    (
        "no allowance",
        s.balance(allowance=0),
        ["no monthly limit"],
        ["this month (of"],
    ),
    (
        "nothing yet",
        s.balance(points=0, points_found=False),
        ["no points to redeem yet"],
        ["to redeem. Sign in"],
    ),
    (
        "lookup failed",
        s.balance(points=None),
        ["couldn't look up your points"],
        [],
    ),
    (
        "admin, low",
        s.admin_balance(),
        ["As an admin", "950.50 USD", "⚠️", "1,000.00 USD", "Top up"],
        [],
    ),
    (
        "admin, fine",
        s.admin_balance(account_balance=Decimal("5000")),
        ["5,000.00 USD"],
        ["⚠️"],
    ),
    (
        "admin, balance unknown",
        s.admin_balance(account_balance=None),
        ["couldn't get the balance"],
        ["⚠️"],
    ),
]


@pytest.mark.parametrize(
    ("name", "card", "present", "absent"), BALANCES, ids=[b[0] for b in BALANCES]
)
def test_balance(name, card, present, absent) -> None:
    msg = lists.balance_message(balance=card)
    assert_valid_message(msg)
    seen = visible(msg)
    for phrase in present:
        assert phrase in seen, phrase
    for phrase in absent:
        assert phrase not in seen, phrase


def test_managers_list_and_its_empty_state() -> None:
    msg = lists.managers_message(managers=[ManagerLine(member_id=s.MARIA, manager_id=s.APPROVER)])
    assert "<@UMARIA01> → <@UAPPR001>" in visible(msg)
    empty = lists.managers_message(managers=[])
    assert "No managers recorded yet" in visible(empty)


def test_a_huge_managers_list_is_counted_not_cut() -> None:
    managers = [ManagerLine(member_id=f"U{i:08d}", manager_id="UBOSS001") for i in range(2000)]
    msg = lists.managers_message(managers=managers)
    assert_valid_message(msg)
    seen = visible(msg)
    shown = seen.count("→")
    assert 100 < shown < 2000
    assert f"…and {2000 - shown} more" in seen
    assert "Managers (2000)" in seen
