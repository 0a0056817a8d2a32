"""The App Home for a member, an approver and an admin."""

from __future__ import annotations

from bot.slack.blocks.home import home_view
from bot.slack.ids import ActionId, BlockId
from tests.slack.blocks import samples as s
from tests.slack.blocks.blockkit_rules import (
    assert_valid_view,
    blocks_of,
    elements,
    everything,
    visible,
)


def _actions(view: dict) -> dict[str, list[str]]:
    return {
        b["block_id"]: [e["action_id"] for e in b["elements"]] for b in blocks_of(view, "actions")
    }


def test_member_home_shows_balance_recent_rewards_and_the_send_button() -> None:
    view = home_view(home=s.home(), tz="Europe/Berlin")
    assert_valid_view(view)
    assert view["type"] == "home"
    seen = visible(view)
    assert "*1,234 points* to redeem" in seen
    assert "*700 points* this month" in seen
    assert "*Recently received*" in seen and "`REC001`" in seen
    assert (
        "*Recently given*" in seen and "`GIV001`" in seen and "*40 points* to <@USAM0001>" in seen
    )
    assert _actions(view) == {BlockId.HOME_ACTIONS: [ActionId.OPEN_REWARD_MODAL]}
    (send,) = elements(view, "button")
    assert send["text"]["text"] == "Send a reward"
    assert "Waiting for your approval" not in seen
    assert "Admin" not in seen and "Company account" not in seen


def test_approver_home_lists_pending_requests_with_buttons() -> None:
    pending = (s.approval(), s.approval(reward=s.reward(short_id="PEND02")))
    view = home_view(home=s.home(is_approver=True, pending=pending), tz=None)
    assert_valid_view(view)
    assert "Waiting for your approval (2)" in visible(view)
    actions = _actions(view)
    assert actions["approval_actions:PEND01"] == [ActionId.APPROVE, ActionId.REJECT]
    assert actions["approval_actions:PEND02"] == [ActionId.APPROVE, ActionId.REJECT]


def test_approver_with_nothing_pending_is_told_so() -> None:
    view = home_view(home=s.home(is_approver=True), tz=None)
    assert "Nothing is waiting for you" in visible(view)


def test_admin_home_shows_account_doubts_and_batches_without_links() -> None:
    admin = s.home(
        is_admin=True,
        balance=s.admin_balance(),
        in_doubt=(s.reward(short_id="DOUBT1", status="in_doubt"),),
        link_batches=(s.batch(),),
    )
    view = home_view(home=admin, tz="Europe/Berlin", updated_at=s.CREATED)
    assert_valid_view(view)
    seen = visible(view)
    assert "950.50 USD" in seen and "⚠️" in seen
    assert "*Rewards in doubt (1)*" in seen and "maria@example.com" in seen
    assert _actions(view)["settle_actions:DOUBT1"] == [
        ActionId.SETTLE_SENT,
        ActionId.SETTLE_FAILED,
    ]
    assert "25 links of 25.00 USD · *Spring thanks* (7890) · by <@UADMIN01>" in seen
    assert "valid until 31 December 2026" in seen
    assert "Updated 5 March 2026 at 14:05 CET" in seen
    assert "no real reward was sent" not in seen  # added as it leaves, not here
    assert "https://" not in everything(view)


def test_admin_with_no_doubts_sees_none() -> None:
    view = home_view(home=s.home(is_admin=True, balance=s.admin_balance()), tz=None)
    seen = visible(view)
    assert "*Rewards in doubt (0)*\nNone." in seen
    assert "*Last link batches*\nNone yet." in seen


def test_a_failed_link_batch_promises_no_validity() -> None:
    from bot.slack.blocks.home import batch_row

    assert "valid until 31 December 2026" in batch_row(s.batch(), None)
    failed = batch_row(s.batch(status="failed"), None)
    assert "valid until" not in failed and "failed" in failed
