"""Every builder that repeats someone's text (a citation, a reason, a note, an email, a campaign
name, Xoxoday's words) pings nobody with it and shows where its links really go: in the blocks
and in the notification `text` alike."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pytest

from bot.rewards.cards import RecipientLine
from bot.slack.blocks import approvals, home, jobs, links, lists, reward_messages
from bot.slack.blocks.cancel import admin_summary, giver_cancelled
from storage.states import RewardStatus
from tests.slack.blocks import samples as s
from tests.slack.blocks.blockkit_rules import everything

HOSTILE = (
    "thanks <!channel> <!here|here> <!everyone> <!subteam^S0DEVS|@devs> "
    "<https://evil.example|https://xoxoday.com/claim> <mailto:evil@evil.example|boss@acme.test>"
)
REAL_ADDRESSES = ("<https://evil.example>", "<mailto:evil@evil.example>")
DISGUISES = ("https://xoxoday.com/claim", "boss@acme.test")
TZ = "Europe/Berlin"

_REWARD = s.reward(
    citation=HOSTILE,
    failure_reason=HOSTILE,
    recipients=(
        RecipientLine(user_id=s.MARIA, points=10, email=HOSTILE),
        RecipientLine(user_id=s.SAM, points=10, outcome="failed", reason=HOSTILE),
    ),
)
_PENDING = s.approval(reward=_REWARD)
_DECISION = s.decision("rejected", reason=HOSTILE)
_LINK = s.link(note=HOSTILE, campaign_name=HOSTILE)
_HOME = s.home(
    received=(_REWARD,),
    given=(_REWARD,),
    is_approver=True,
    pending=(_PENDING,),
    is_admin=True,
    balance=s.admin_balance(),
    in_doubt=(_REWARD,),
    link_batches=(s.batch(campaign_name=HOSTILE, campaign_id=HOSTILE),),
)
_CANCELLED = SimpleNamespace(was=RewardStatus.PENDING_APPROVAL, withdrawn=(), in_ledger=False)
_KEPT = [(s.SAM, 10, HOSTILE)]

BUILDERS: dict[str, Callable[[], dict[str, Any]]] = {
    "recipient dm": lambda: reward_messages.recipient_dm(
        reward=_REWARD, recipient_id=s.MARIA, tz=TZ
    ),
    "announcement": lambda: reward_messages.channel_announcement(reward=_REWARD),
    "giver confirmation": lambda: reward_messages.giver_confirmation(reward=_REWARD, tz=TZ),
    "giver pending": lambda: reward_messages.giver_pending_approval(
        reward=_REWARD, approver_ids=[s.APPROVER], tz=TZ
    ),
    "giver failed": lambda: reward_messages.giver_failed(reward=_REWARD, tz=TZ),
    "giver in doubt": lambda: reward_messages.giver_in_doubt(reward=_REWARD, tz=TZ),
    "admin in doubt": lambda: reward_messages.admin_in_doubt_alert(reward=_REWARD, tz=TZ),
    "crash recovery": lambda: reward_messages.admin_crash_recovery_alert(rewards=[_REWARD], tz=TZ),
    "recipient cancelled": lambda: reward_messages.recipient_cancelled(
        reward=_REWARD, recipient_id=s.MARIA, reason=HOSTILE, tz=TZ
    ),
    "giver cancelled": lambda: giver_cancelled(
        reward=_REWARD,
        outcome=_CANCELLED,  # type: ignore[arg-type]
        admin_id=s.ADMIN,
        reason=HOSTILE,
        kept=_KEPT,
    ),
    "admin cancel summary": lambda: admin_summary(
        reward=_REWARD,
        outcome=SimpleNamespace(was=RewardStatus.SENT, withdrawn=(), in_ledger=False),  # type: ignore[arg-type]
        admin_id=s.ADMIN,
        kept=_KEPT,
    ),
    "admin cancel summary, points in the bot": lambda: admin_summary(
        reward=_REWARD,
        outcome=SimpleNamespace(  # type: ignore[arg-type]
            was=RewardStatus.SENT, withdrawn=(), in_ledger=True, taken_points={}
        ),
        admin_id=s.ADMIN,
        kept=_KEPT,
    ),
    "approval request": lambda: approvals.approval_request(request=_PENDING, tz=TZ),
    "approval decided": lambda: approvals.approval_decided(
        request=_PENDING, decision=_DECISION, tz=TZ
    ),
    "giver decision": lambda: approvals.giver_decision(reward=_REWARD, decision=_DECISION, tz=TZ),
    "approvals list": lambda: lists.approvals_list(requests=[_PENDING], tz=TZ),
    "history": lambda: lists.history_message(
        viewer_id=s.MARIA, given=[_REWARD], received=[_REWARD], tz=TZ
    ),
    "app home": lambda: home.home_view(home=_HOME, tz=TZ),
    "approval reminder": lambda: jobs.approval_reminder(
        request=_PENDING,
        waited=timedelta(days=1),
        expires_at=s.CREATED + timedelta(days=7),
        tz=TZ,
        escalated=True,
    ),
    "in-doubt report": lambda: jobs.in_doubt_report(rewards=[_REWARD], tz=TZ),
    "link dm": lambda: links.link_dm(link=_LINK),
    "link confirmation": lambda: links.link_sent_confirmation(link=_LINK),
    "link batch comment": lambda: links.link_batch_comment(batch=s.batch(campaign_name=HOSTILE)),
}


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_repeated_text_pings_nobody(name: str) -> None:
    shown = everything(BUILDERS[name]())
    assert "<!" not in shown
    assert "@channel" in shown and "@devs" in shown


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_repeated_links_show_their_real_address(name: str) -> None:
    shown = everything(BUILDERS[name]())
    for disguise in DISGUISES:
        assert disguise not in shown
    assert any(address in shown for address in REAL_ADDRESSES)


@pytest.mark.parametrize(
    "name", ["recipient dm", "announcement", "giver cancelled", "recipient cancelled"]
)
def test_the_notification_text_is_neutralised_too(name: str) -> None:
    text = BUILDERS[name]()["text"]
    assert "@channel" in text and "<https://evil.example>" in text
    assert "<!" not in text and "xoxoday.com/claim" not in text
