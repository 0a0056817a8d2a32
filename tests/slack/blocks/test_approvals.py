"""The approval request, its decided versions, the reject modal and what the giver hears."""

from __future__ import annotations

import json

import pytest

from bot.rewards.cards import GiverMonth, MessageRef
from bot.rewards.commands import REASON_MAX_CHARS
from bot.slack.blocks import approvals as ap
from bot.slack.ids import ActionId, BlockId, CallbackId
from tests.slack.blocks import samples as s
from tests.slack.blocks.blockkit_rules import (
    assert_valid_message,
    assert_valid_view,
    blocks_of,
    elements,
    visible,
)


def test_request_shows_the_details_an_approver_needs() -> None:
    msg = ap.approval_request(request=s.approval(as_manager=True), tz="Europe/Berlin")
    assert_valid_message(msg)
    seen = visible(msg)
    for phrase in [
        "<@UGIVER01> wants to give *100 points* each (*200 points* in all) to <@UMARIA01> and "
        "<@USAM0001>",
        "You're asked as <@UGIVER01>'s manager",
        "Rewards of 200 points or more need approval",
        "*Amount*\n100 points each",
        "*Total*\n200 points",
        "*Values*\n#teamwork",
        "300 points in 2 rewards before this one; 500 of 1,000 with it",
        ">thanks for the demo &amp; the notes #teamwork",
        "`PEND01`",
        "asked 5 March 2026 at 14:05 CET",
    ]:
        assert phrase in seen, phrase


def test_request_has_approve_and_reject_carrying_the_short_id() -> None:
    msg = ap.approval_request(request=s.approval(), tz=None)
    buttons = elements(msg, "button")
    assert [b["action_id"] for b in buttons] == [ActionId.APPROVE, ActionId.REJECT]
    assert [b["value"] for b in buttons] == ["PEND01", "PEND01"]
    assert [b["style"] for b in buttons] == ["primary", "danger"]
    assert blocks_of(msg, "actions")[0]["block_id"] == f"{BlockId.APPROVAL_ACTIONS}:PEND01"


@pytest.mark.parametrize(
    ("month", "expected"),
    [
        (GiverMonth(given_before=0, rewards_before=0), "0 points in 0 rewards before this one"),
        (GiverMonth(given_before=50, rewards_before=1, allowance=0), "250 points with it"),
        (GiverMonth(given_before=900, rewards_before=3, is_admin=True), "no monthly limit"),
    ],
)
def test_month_so_far_reads_right(month: GiverMonth, expected: str) -> None:
    msg = ap.approval_request(request=s.approval(month=month), tz=None)
    assert expected in visible(msg)


DECIDED = [
    ("approved", None, "✅ *Approved* by <@UAPPR001> on 5 March 2026 at 16:30 CET."),
    ("rejected", "too big for one demo", "🚫 *Rejected* by <@UAPPR001> on 5 March 2026"),
    ("cancelled", "duplicate", "↩️ *Cancelled* by <@UAPPR001>"),
]


@pytest.mark.parametrize(("outcome", "reason", "line"), DECIDED)
def test_decided_request_loses_its_buttons_and_says_who_when_why(outcome, reason, line) -> None:
    decision = s.decision(outcome, reason=reason)
    msg = ap.approval_decided(request=s.approval(), decision=decision, tz="Europe/Berlin")
    assert_valid_message(msg)
    assert elements(msg, "button") == []
    assert blocks_of(msg, "actions") == []
    seen = visible(msg)
    assert line in seen
    if reason:
        assert f"*Reason:* {reason}" in seen
    assert "`PEND01`" in seen


def test_decision_time_follows_the_viewer() -> None:
    decision = s.decision("approved")
    tokyo = ap.approval_decided(request=s.approval(), decision=decision, tz="Asia/Tokyo")
    assert "on 6 March 2026 at 00:30 JST" in visible(tokyo)


def test_expired_request_says_nobody_decided() -> None:
    decision = s.decision("expired", decided_by=None)
    msg = ap.approval_decided(request=s.approval(), decision=decision, tz=None)
    assert "nobody decided in time, so nothing was sent" in visible(msg)


GIVER_HEARS = [
    ("approved", None, ["<@UAPPR001> approved your reward", "on its way"]),
    ("rejected", "over budget", ["didn't approve", "Nothing was sent", "*Reason:* over budget"]),
    ("expired", None, ["Nobody decided", "expired", "`/reward`"]),
    ("cancelled", "duplicate", ["was cancelled", "*Reason:* duplicate"]),
]


@pytest.mark.parametrize(("outcome", "reason", "phrases"), GIVER_HEARS)
def test_giver_hears_the_decision(outcome, reason, phrases) -> None:
    by = None if outcome == "expired" else s.APPROVER
    msg = ap.giver_decision(
        reward=s.reward(short_id="PEND01"),
        decision=s.decision(outcome, reason=reason, decided_by=by),
        tz=None,
    )
    assert_valid_message(msg)
    seen = visible(msg)
    for phrase in phrases:
        assert phrase in seen, phrase
    assert "`PEND01`" in seen


def test_reject_modal_asks_for_a_reason_and_carries_its_context() -> None:
    refs = [MessageRef(channel_id="D111", ts="1712.0001"), MessageRef(channel_id="D222", ts="9.9")]
    view = ap.reject_reason_modal(reward_id="PEND01", messages=refs, reward=s.reward())
    assert_valid_view(view)
    assert view["callback_id"] == CallbackId.REJECT_REASON
    (block,) = [b for b in view["blocks"] if b["type"] == "input"]
    assert block["block_id"] == BlockId.REJECT_REASON
    assert block["element"]["action_id"] == ActionId.REJECT_REASON_INPUT
    assert block["element"]["max_length"] == REASON_MAX_CHARS
    assert block.get("optional") is False
    assert "Nothing will be sent" in visible(view)
    meta = ap.decode_reject_metadata(view["private_metadata"])
    assert meta == ap.RejectMetadata(short_id="PEND01", messages=tuple(refs))


def test_reject_metadata_fits_even_with_hundreds_of_copies() -> None:
    refs = [MessageRef(channel_id=f"D{i:010d}", ts=f"1712345678.{i:06d}") for i in range(500)]
    view = ap.reject_reason_modal(reward_id="PEND01", messages=refs)
    assert len(view["private_metadata"]) <= 3000
    meta = ap.decode_reject_metadata(view["private_metadata"])
    assert meta is not None and meta.short_id == "PEND01"
    assert 0 < len(meta.messages) < 500
    assert meta.messages == tuple(refs[: len(meta.messages)])


@pytest.mark.parametrize(
    "text",
    [None, "", "not json", "[]", json.dumps({"messages": []}), json.dumps({"reward": 5})],
)
def test_foreign_reject_metadata_is_refused(text: str | None) -> None:
    assert ap.decode_reject_metadata(text) is None
