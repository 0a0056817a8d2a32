"""Every builder, with ordinary and extreme inputs, produces a payload Slack accepts, and says
"no real reward was sent" exactly when the sandbox is in use (the notice added as the payload
leaves, as `bot.slack.sandbox_notice` does)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from bot.rewards.cards import (
    AdjustmentLine,
    ApprovalCard,
    CampaignLine,
    HomeCard,
    Leaderboard,
    LeaderRow,
    ManagerLine,
    MessageRef,
    RecipientLine,
    Settlement,
)
from bot.rewards.group_rewards import Preview
from bot.simulators.sandbox_notice import SANDBOX_NOTICE, comment_with_notice, with_sandbox_notice
from bot.slack.blocks import (
    adjustments,
    approvals,
    budgets,
    give_modal,
    groups,
    home,
    links,
    lists,
    reports,
    reward_messages,
)
from bot.slack.listeners.subcommands import SUBCOMMANDS
from tests.slack.blocks import samples as s
from tests.slack.blocks.blockkit_rules import check_message, check_view, everything

LONG = s.long_citation()
RAW = "1 < 2 & 3 > 0 <b>bold</b> &am"  # typed in a modal, or from an API error, unescaped
LONG_REASON = "Xoxoday said: " + "the request could not be processed &amp; retried " * 60
Build = Callable[[], dict[str, Any]]
TZ = "Europe/Berlin"


def _preview(**changes: Any) -> Preview:
    base = Preview(
        preview_id=7,
        giver_id=s.GIVER,
        groups="@design-team",
        recipients=(s.MARIA, "UCHEN001"),
        left_out=((s.GIVER, "self"), ("UBOT0001", "bot"), ("UGONE001", "deactivated")),
        amount=10,
        citation="for the launch &amp; the party <@UMARIA01>",
        status="open",
    )
    return replace(base, **changes)


def _meta() -> give_modal.RewardModalMetadata:
    return give_modal.RewardModalMetadata(
        source="shortcut", channel_id="C1", message=MessageRef(channel_id="C1", ts="1.2")
    )


def _crowd(n: int) -> HomeCard:
    return s.home(
        received=tuple(s.reward(short_id=f"R{i:05d}", citation=LONG) for i in range(30)),
        given=tuple(s.many_people(100, short_id=f"G{i:05d}", citation=LONG) for i in range(30)),
        is_approver=True,
        pending=tuple(
            s.approval(reward=s.many_people(100, short_id=f"P{i:05d}", citation=LONG))
            for i in range(n)
        ),
        is_admin=True,
        balance=s.admin_balance(),
        in_doubt=tuple(s.many_people(100, short_id=f"D{i:05d}") for i in range(n)),
        link_batches=tuple(s.batch(batch_id=str(i), campaign_name="N" * 300) for i in range(20)),
    )


MESSAGES: dict[str, Build] = {
    "campaigns": lambda: links.campaigns_message(
        campaigns=[
            CampaignLine(campaign_id=str(7000 + i), name=f"Campaign {i}", enabled=i % 3 > 0)
            for i in range(150)
        ]
    ),
    "campaigns, none": lambda: links.campaigns_message(campaigns=[]),
    "recipient dm": lambda: reward_messages.recipient_dm(
        reward=s.reward(), recipient_id=s.MARIA, tz=TZ
    ),
    "recipient dm, long, crowded": lambda: reward_messages.recipient_dm(
        reward=s.many_people(200, citation=LONG, values=tuple(f"v{i}" for i in range(50))),
        recipient_id="UPERSON0007",
        tz="Nowhere/Unknown",
    ),
    "announcement": lambda: reward_messages.channel_announcement(reward=s.two_people()),
    "announcement, long, crowded": lambda: reward_messages.channel_announcement(
        reward=s.many_people(300, citation=LONG)
    ),
    "giver confirmation": lambda: reward_messages.giver_confirmation(
        reward=s.two_people(), tz=TZ, announced_in="CGENERAL1"
    ),
    "giver confirmation, some failed": lambda: reward_messages.giver_confirmation(
        reward=s.reward(
            recipients=tuple(
                RecipientLine(
                    user_id=f"UPERSON{i:04d}",
                    points=10,
                    outcome="failed" if i % 2 else "sent",
                    reason=LONG_REASON,
                )
                for i in range(150)
            ),
            citation=LONG,
        ),
        tz=TZ,
    ),
    "giver pending": lambda: reward_messages.giver_pending_approval(
        reward=s.reward(status="pending_approval"),
        approver_ids=[s.APPROVER],
        tz=TZ,
        threshold=500,
        via_manager=True,
    ),
    "giver pending, many approvers": lambda: reward_messages.giver_pending_approval(
        reward=s.many_people(100, citation=LONG),
        approver_ids=[f"UAPPR{i:04d}" for i in range(200)],
        tz=TZ,
    ),
    "giver undo": lambda: reward_messages.with_undo(
        reward_messages.reward_note("👍 Sending *100 points* to <@UMARIA01> (reward `AB12CD`)."),
        s.reward(),
        seconds=60,
    ),
    "giver undone, many people": lambda: reward_messages.undone(s.many_people(100)),
    "giver undo too late, many people": lambda: reward_messages.undo_too_late(s.many_people(100)),
    "giver failed": lambda: reward_messages.giver_failed(
        reward=s.reward(status="failed", failure_reason="The points account is empty."),
        tz=TZ,
    ),
    "giver failed, long reason": lambda: reward_messages.giver_failed(
        reward=s.many_people(100, status="failed", failure_reason=LONG_REASON, citation=LONG),
        tz=TZ,
    ),
    "giver in doubt": lambda: reward_messages.giver_in_doubt(
        reward=s.reward(status="in_doubt"), tz=TZ
    ),
    "admin in doubt": lambda: reward_messages.admin_in_doubt_alert(
        reward=s.reward(status="in_doubt", failure_reason="timed out"), tz=TZ
    ),
    "admin in doubt, crowded": lambda: reward_messages.admin_in_doubt_alert(
        reward=s.many_people(250, failure_reason=LONG_REASON, citation=LONG), tz=TZ
    ),
    "admin in doubt, settled": lambda: reward_messages.admin_in_doubt_alert(
        reward=s.reward(status="sent"),
        tz=TZ,
        settlement=Settlement(outcome="sent", settled_by=s.ADMIN, settled_at=s.CREATED),
    ),
    "crash recovery": lambda: reward_messages.admin_crash_recovery_alert(
        rewards=[s.reward(status="in_doubt")], tz=TZ, now=s.CREATED
    ),
    "crash recovery, 60 rewards": lambda: reward_messages.admin_crash_recovery_alert(
        rewards=[s.many_people(100, short_id=f"C{i:05d}") for i in range(60)], tz=TZ
    ),
    "cancelled": lambda: reward_messages.recipient_cancelled(
        reward=s.reward(status="cancelled"),
        recipient_id=s.MARIA,
        reason="sent twice by mistake",
        tz=TZ,
        cancelled_by=s.ADMIN,
    ),
    "cancelled, long reason": lambda: reward_messages.recipient_cancelled(
        reward=s.reward(citation=LONG), recipient_id=s.MARIA, reason=LONG, tz=TZ
    ),
    "approval request": lambda: approvals.approval_request(
        request=s.approval(as_manager=True), tz=TZ
    ),
    "approval request, crowded": lambda: approvals.approval_request(
        request=ApprovalCard(reward=s.many_people(300, citation=LONG)), tz=TZ
    ),
    "approval decided": lambda: approvals.approval_decided(
        request=s.approval(),
        decision=s.decision("rejected", reason=LONG),
        tz=TZ,
    ),
    "giver told of decision": lambda: approvals.giver_decision(
        reward=s.reward(), decision=s.decision("approved"), tz=TZ
    ),
    "help": lambda: lists.help_message(
        text=SUBCOMMANDS.help_text(values=("teamwork", "ownership"))
    ),
    "history": lambda: lists.history_message(
        viewer_id=s.MARIA, given=[s.reward()], received=[s.reward()], tz=TZ
    ),
    "history, empty": lambda: lists.history_message(
        viewer_id=s.MARIA, given=[], received=[], tz=TZ
    ),
    "history, long": lambda: lists.history_message(
        viewer_id="UPERSON0001",
        given=[s.many_people(100, short_id=f"G{i}", citation=LONG) for i in range(15)],
        received=[s.many_people(100, short_id=f"R{i}", citation=LONG) for i in range(15)],
        tz=TZ,
    ),
    "leaderboard": lambda: lists.leaderboard_message(
        board=Leaderboard(
            period="month",
            since=date(2026, 3, 1),
            recipients=tuple(LeaderRow(user_id=f"U{i:08d}", points=10**6 - i) for i in range(40)),
            givers=tuple(LeaderRow(user_id=f"U{i:08d}", points=1000, rewards=i) for i in range(40)),
        ),
    ),
    "leaderboard, empty": lambda: lists.leaderboard_message(
        board=Leaderboard(period="week", since=date(2026, 3, 2))
    ),
    "approvals list": lambda: lists.approvals_list(requests=[s.approval()], tz=TZ),
    "approvals list, empty": lambda: lists.approvals_list(requests=[], tz=TZ),
    "approvals list, 40": lambda: lists.approvals_list(
        requests=[
            s.approval(reward=s.many_people(100, short_id=f"P{i:05d}", citation=LONG))
            for i in range(40)
        ],
        tz=TZ,
    ),
    "balance": lambda: lists.balance_message(balance=s.balance()),
    "balance, carried over": lambda: lists.balance_message(
        balance=s.balance(allowance=1200, carried=200)
    ),
    "group preview": lambda: groups.preview(_preview(), threshold=500),
    "group preview, 100 people, 80 left out, long citation": lambda: groups.preview(
        _preview(
            recipients=tuple(f"U{i:07d}" for i in range(100)),
            left_out=tuple((f"UL{i:06d}", "no_email") for i in range(80)),
            citation=LONG,
            needs_approval=True,
            allowance_left=12_345,
        ),
        threshold=500,
    ),
    "group cancelled": lambda: groups.cancelled(_preview()),
    "allowance reached": lambda: budgets.limit_reached_dm(
        allowance=1200, resets_on=date(2026, 4, 1)
    ),
    "balance, admin low": lambda: lists.balance_message(balance=s.admin_balance()),
    "balance, lookups failed": lambda: lists.balance_message(
        balance=s.admin_balance(points=None, account_balance=None)
    ),
    "managers": lambda: lists.managers_message(
        managers=[ManagerLine(member_id=s.MARIA, manager_id=s.APPROVER)]
    ),
    "managers, none": lambda: lists.managers_message(managers=[]),
    "managers, 2000": lambda: lists.managers_message(
        managers=[ManagerLine(member_id=f"U{i:08d}", manager_id="UBOSS001") for i in range(2000)],
    ),
    "link dm": lambda: links.link_dm(link=s.link()),
    "link dm, long note": lambda: links.link_dm(
        link=s.link(note=LONG * 3, campaign_name="C" * 500, amount=Decimal("1234567.891")),
    ),
    "link confirmation": lambda: links.link_sent_confirmation(link=s.link()),
    "raw text everywhere: dm": lambda: reward_messages.recipient_dm(
        reward=s.reward(citation=RAW, values=(RAW,)), recipient_id=s.MARIA, tz=TZ
    ),
    "raw text everywhere: failed": lambda: reward_messages.giver_failed(
        reward=s.reward(citation=RAW, failure_reason=RAW), tz=TZ
    ),
    "raw text everywhere: partial": lambda: reward_messages.giver_confirmation(
        reward=s.reward(
            citation=RAW,
            recipients=(RecipientLine(user_id=s.SAM, points=1, outcome="failed", reason=RAW),),
        ),
        tz=TZ,
    ),
    "raw text everywhere: in doubt": lambda: reward_messages.admin_in_doubt_alert(
        reward=s.reward(
            failure_reason=RAW,
            recipients=(RecipientLine(user_id=s.SAM, points=1, email="a&b<c>@x.test"),),
        ),
        tz=TZ,
    ),
    "raw text everywhere: cancelled": lambda: reward_messages.recipient_cancelled(
        reward=s.reward(citation=RAW), recipient_id=s.MARIA, reason=RAW, tz=TZ
    ),
    "raw text everywhere: decided": lambda: approvals.approval_decided(
        request=s.approval(reward=s.reward(citation=RAW)),
        decision=s.decision("rejected", reason=RAW),
        tz=TZ,
    ),
    "raw text everywhere: giver decision": lambda: approvals.giver_decision(
        reward=s.reward(citation=RAW),
        decision=s.decision("rejected", reason=RAW),
        tz=TZ,
    ),
    "raw text everywhere: lists": lambda: lists.approvals_list(
        requests=[s.approval(reward=s.reward(citation=RAW))], tz=TZ
    ),
    "raw text everywhere: history": lambda: lists.history_message(
        viewer_id=s.MARIA, given=[s.reward(citation=RAW)], received=[], tz=TZ
    ),
    "raw text everywhere: link": lambda: links.link_dm(link=s.link(note=RAW, campaign_name=RAW)),
    "report, an admin's copy": lambda: reports.admin_report(
        reward=s.reward(), reporter=s.MARIA, reason="they swap points <!channel>", tz=TZ
    ),
    "report, crowded and long": lambda: reports.admin_report(
        reward=s.many_people(200, citation=LONG), reporter=s.MARIA, reason=LONG_REASON, tz=TZ
    ),
    "report, restored": lambda: reports.report_restored(reward=s.reward(), admin="UADMIN01"),
    "report, cancelled": lambda: reports.report_cancelled(
        reward=s.many_people(200, citation=LONG), admin="UADMIN01"
    ),
    "adjusted, the person's DM": lambda: adjustments.person_told(
        amount=-50, reason=LONG_REASON + RAW, admin_id="UADMIN01", balance=Decimal("12.5")
    ),
    "report, thanks": lambda: reports.reporter_thanks(reward=s.reward()),
    "report, already yours": lambda: reports.already_yours(reward=s.reward()),
    "history with adjustments, raw": lambda: lists.history_message(
        viewer_id=s.MARIA,
        given=[],
        received=[s.reward()],
        tz=TZ,
        adjustments=[
            AdjustmentLine(points=-50, reason=RAW, by="UADMIN01", at=s.CREATED),
            AdjustmentLine(points=Decimal("2.5"), reason=LONG_REASON, by="UADMIN01", at=s.CREATED),
        ],
    ),
}

TEXT_ONLY: dict[str, Build] = {
    "batch comment": lambda: links.link_batch_comment(batch=s.batch()),
    "batch comment, long name": lambda: links.link_batch_comment(
        batch=s.batch(campaign_name="N" * 5000, count=1)
    ),
}

VIEWS: dict[str, Build] = {
    "link modal": lambda: links.link_modal(
        campaign=CampaignLine(
            campaign_id="7891", name="N" * 500, amount=Decimal("25"), currency="USD"
        ),
        note_max=500,
    ),
    "reward modal": lambda: give_modal.reward_modal(metadata=_meta()),
    "reward modal, everything": lambda: give_modal.reward_modal(
        metadata=_meta(),
        values=[f"value{i}" for i in range(150)],
        initial_users=[s.MARIA, s.MARIA, s.SAM],
        initial_amount=50,
        initial_citation=LONG,
        initial_value="value3",
        max_per_reward=5000,
        allowance_left=0,
    ),
    "reject modal": lambda: approvals.reject_reason_modal(
        reward_id="AB12CD", messages=[MessageRef(channel_id="D1", ts="1.2")], reward=s.reward()
    ),
    "reject modal, many copies": lambda: approvals.reject_reason_modal(
        reward_id="AB12CD",
        messages=[
            MessageRef(channel_id=f"D{i:010d}", ts=f"1712345678.{i:06d}") for i in range(500)
        ],
        reward=s.many_people(300, citation=LONG),
    ),
    "home": lambda: home.home_view(home=s.home(), tz=TZ),
    "home, empty": lambda: home.home_view(
        home=HomeCard(user_id=s.MARIA, balance=s.balance(points=None)), tz=None
    ),
    "home, raw text": lambda: home.home_view(
        home=s.home(
            is_admin=True,
            balance=s.admin_balance(),
            received=(s.reward(citation=RAW),),
            link_batches=(s.batch(campaign_name=RAW, campaign_id="<7&8>"),),
        ),
        tz=TZ,
    ),
    "home, crowded admin approver": lambda: home.home_view(
        home=_crowd(60), tz=TZ, updated_at=s.CREATED
    ),
    "report modal": lambda: reports.report_modal(
        reward=s.many_people(200, citation=LONG),
        meta=reports.ReportMetadata(channel_id="C1", message_ts="1.2"),
    ),
    "home with adjustments": lambda: home.home_view(
        home=s.home(
            adjustments=tuple(
                AdjustmentLine(points=-5 * i, reason=LONG, by="UADMIN01", at=s.CREATED)
                for i in range(1, 11)
            )
        ),
        tz=TZ,
    ),
}


def built(build: Build, sandbox: bool) -> dict[str, Any]:
    """What `build` makes, as it leaves the process: builders know nothing of the sandbox, and
    in sandbox mode the notice is added on the way out (`bot.slack.sandbox_notice`)."""
    payload = build()
    assert SANDBOX_NOTICE not in everything(payload)
    return with_sandbox_notice(payload) if sandbox else payload


def build_comment(build: Build, sandbox: bool) -> dict[str, Any]:
    """A file comment as it leaves the process (the notice as its last line in sandbox mode)."""
    payload = build()
    return {"text": comment_with_notice(payload["text"])} if sandbox else payload


@pytest.mark.parametrize("sandbox", [False, True], ids=["live", "sandbox"])
@pytest.mark.parametrize("name", sorted(MESSAGES))
def test_messages_are_valid_block_kit(name: str, sandbox: bool) -> None:
    payload = built(MESSAGES[name], sandbox)
    assert check_message(payload) == []
    notices = [b for b in payload["blocks"] if SANDBOX_NOTICE in everything(b)]
    assert len(notices) == (1 if sandbox else 0)
    assert notices == payload["blocks"][-1:] if sandbox else True  # a quiet last line
    assert SANDBOX_NOTICE not in payload["text"]  # not in the notification


@pytest.mark.parametrize("sandbox", [False, True], ids=["live", "sandbox"])
@pytest.mark.parametrize("name", sorted(TEXT_ONLY))
def test_file_comments_are_text_only(name: str, sandbox: bool) -> None:
    payload = build_comment(TEXT_ONLY[name], sandbox)
    assert set(payload) == {"text"}
    assert check_message(payload) == []
    assert (SANDBOX_NOTICE in payload["text"]) is sandbox


@pytest.mark.parametrize("sandbox", [False, True], ids=["live", "sandbox"])
@pytest.mark.parametrize("name", sorted(VIEWS))
def test_views_are_valid_block_kit(name: str, sandbox: bool) -> None:
    view = built(VIEWS[name], sandbox)
    assert check_view(view) == []
    assert (SANDBOX_NOTICE in everything(view)) is sandbox


def test_crowded_payloads_stay_within_the_block_limits() -> None:
    crowded_home = built(VIEWS["home, crowded admin approver"], True)
    assert 90 <= len(crowded_home["blocks"]) <= 100
    crash = built(MESSAGES["crash recovery, 60 rewards"], True)
    shown = [b for b in crash["blocks"] if b.get("type") == "actions"]
    assert 5 <= len(shown) < 60
    assert f"and {60 - len(shown)} more" in everything(crash["blocks"][-2])
