"""The trust messages: the locked giver's DM, `/reward locks` and the admins' daily DM of flags,
valid Block Kit at their largest, with reasons typed by people kept harmless."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.rewards.flag_service import REPORT_LIMIT
from bot.rewards.flags import FlagCard, FlagRule, Gift
from bot.rewards.locks import LockLine
from bot.rewards.policy import LOCKED_TEXT
from bot.slack.blocks import trust
from bot.slack.ids import ActionId
from bot.slack.listeners.action_replies import notice_modal
from tests.e2e.harness import message_text
from tests.slack.blocks.blockkit_rules import check_message, check_view

AT = datetime(2026, 12, 3, 10, 0, tzinfo=UTC)
NASTY = "<!channel> *great* <https://evil.test|click me> " + "very long reason " * 40


def card(flag_id: int, *, gifts: int = 30, rule: FlagRule = FlagRule.RING) -> FlagCard:
    return FlagCard(
        flag_id=flag_id,
        rule=rule,
        people=("UBOB0001", "UMARIA01", "UCHEN001"),
        giver="UBOB0001",
        period="2026-12",
        gifts=tuple(
            Gift(
                reward_id=f"R{flag_id:02d}{i:03d}",
                giver="UBOB0001",
                recipient="UMARIA01",
                points=4999,
                total=4999,
                reason=NASTY,
                at=AT - timedelta(days=i),
            )
            for i in range(gifts)
        ),
    )


@pytest.mark.parametrize("rule", list(FlagRule))
def test_the_daily_dm_at_its_largest_is_valid_and_defuses_what_people_typed(
    rule: FlagRule,
) -> None:
    payload = trust.flags_report(
        flags=[card(i, rule=rule) for i in range(1, REPORT_LIMIT + 1)], tz="Asia/Tokyo"
    )
    assert check_message(payload) == []
    text = message_text(payload)
    assert "<!channel>" not in text and "@channel" in text
    assert "click me" not in text  # a link shows its real address, never a label
    assert "…and 24 more" in text  # 6 rewards shown per flag, the rest counted
    assert "R01000 3 December 2026" in text.replace("`", "")
    rows = [b for b in payload["blocks"] if b["type"] == "actions"]
    assert len(rows) == REPORT_LIMIT
    assert [e["action_id"] for e in rows[0]["elements"]] == [
        ActionId.FLAG_DISMISS,
        ActionId.FLAG_HOLD,
        ActionId.FLAG_LOCK,
    ]
    assert {e["value"] for e in rows[0]["elements"]} == {"1"}


def test_a_decided_flag_loses_its_buttons_and_keeps_the_others() -> None:
    payload = trust.flags_report(flags=[card(1, gifts=2), card(2, gifts=2)], tz=None)
    edited = trust.flag_decided(payload, flag_id=1, said="🔒 Flag 1: locked")
    assert edited is not None and check_message(edited) == []
    rows = [b["block_id"] for b in edited["blocks"] if b["type"] == "actions"]
    assert rows == ["flag_actions:2"]
    assert "🔒 Flag 1: locked" in message_text(edited)
    assert trust.flag_decided(payload, flag_id=3, said="x") is None


def test_the_locked_dm_and_form_say_it_plainly_without_the_reason() -> None:
    for locked in (True, False):
        assert check_message(trust.lock_dm(locked=locked)) == []
    assert "talk to an admin" in message_text(trust.lock_dm(locked=True))
    assert check_view(notice_modal("Send a reward", LOCKED_TEXT)) == []


def test_the_list_of_locks_at_its_largest_is_valid() -> None:
    lines = [
        LockLine(user_id=f"U{i:07d}", locked_at=AT, locked_by="UADMIN01", reason=NASTY)
        for i in range(60)
    ]
    payload = trust.locks_list(lines=lines, tz="Europe/Berlin")
    assert check_message(payload) == []
    assert "<!channel>" not in message_text(payload)
    assert "…and 20 more locked givers not shown here." in message_text(payload)
    assert "Nobody is locked" in message_text(trust.locks_list(lines=[], tz=None))


def test_a_long_lock_reason_is_clipped_whole_in_the_list() -> None:
    """Cut at 200 characters, never in the middle of an escaped `&amp;`."""
    line = LockLine(user_id="U0000001", locked_at=AT, locked_by="UADMIN01", reason="a&" * 300)
    text = message_text(trust.locks_list(lines=[line], tz=None))
    why = text.split("Why: ", 1)[1].split("\n", 1)[0]
    assert why.endswith("…")
    assert why.rstrip("…").endswith(("a", "&amp;")), why[-12:]
    assert "…and" not in text
