"""What recipients, channels, givers and admins read about a reward."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.rewards.cards import SETTLED_BY_RECORDS, RecipientLine, Settlement
from bot.slack.blocks import reward_messages as rm
from bot.slack.ids import ActionId
from tests.slack.blocks import samples as s
from tests.slack.blocks.blockkit_rules import (
    assert_valid_message,
    blocks_of,
    elements,
    everything,
    visible,
)


def test_recipient_dm_says_who_how_much_what_for_and_how_to_redeem() -> None:
    dm = rm.recipient_dm(reward=s.reward(), recipient_id=s.MARIA, tz="Europe/Berlin")
    assert_valid_message(dm)
    seen = visible(dm)
    assert f"<@{s.GIVER}> sent you *100 points*" in seen
    assert ">thanks for the demo &amp; the notes #teamwork" in seen
    assert (
        "Sign in to the Plum storefront with your work email to spend them (Xoxoday/Plum "
        "emailed you the link). Your points expire on *31 March 2027*."
    ) in seen
    assert "redeem" not in seen.lower()  # said once, not "How to redeem: … for how to redeem"
    assert "`AB12CD`" in seen
    assert "14:05 CET" in seen
    assert elements(dm, "button") == []
    assert f"<@{s.GIVER}> sent you 100 points" in dm["text"]


@pytest.mark.parametrize(
    ("tz", "day"),
    [("UTC", "31 March 2027"), ("Asia/Tokyo", "1 April 2027"), (None, "31 March 2027")],
)
def test_expiry_is_shown_in_the_recipients_time_zone(tz: str | None, day: str) -> None:
    card = s.reward(expires_on=datetime(2027, 3, 31, 23, 30, tzinfo=UTC))
    dm = rm.recipient_dm(reward=card, recipient_id=s.MARIA, tz=tz)
    assert f"expire on *{day}*" in visible(dm)


def test_recipient_dm_shows_their_own_points_and_who_else_got_some() -> None:
    card = s.reward(
        recipients=(
            RecipientLine(user_id=s.MARIA, points=70),
            RecipientLine(user_id=s.SAM, points=30),
        )
    )
    dm = rm.recipient_dm(reward=card, recipient_id=s.SAM, tz=None)
    assert "sent you *30 points* (along with <@UMARIA01>)" in visible(dm)


def test_recipient_dm_without_expiry_says_nothing_about_it() -> None:
    dm = rm.recipient_dm(reward=s.reward(expires_on=None), recipient_id=s.MARIA, tz=None)
    assert "expire" not in visible(dm)


def test_announcement_is_public_and_keeps_private_details_out() -> None:
    post = rm.channel_announcement(reward=s.two_people())
    seen = visible(post)
    assert "rewarded <@UMARIA01> and <@USAM0001> with *100 points* each" in seen
    assert "#teamwork" in seen
    assert "@example.com" not in everything(post)
    assert "expire" not in seen


def test_giver_confirmation_shows_short_id_amounts_and_where_it_was_announced() -> None:
    msg = rm.giver_confirmation(reward=s.two_people(), tz="Europe/Berlin", announced_in="CGENERAL1")
    seen = visible(msg)
    assert "✅ Sent!" in seen
    assert "*100 points each* (*200 points* in all)" in seen
    assert "<#CGENERAL1>" in seen
    assert "`AB12CD`" in seen and "AB12CD" in msg["text"]


def test_giver_confirmation_names_recipients_whose_part_failed() -> None:
    card = s.reward(
        recipients=(
            RecipientLine(user_id=s.MARIA, points=100, outcome="sent"),
            RecipientLine(user_id=s.SAM, points=100, outcome="failed", reason="no Xoxoday account"),
        )
    )
    msg = rm.giver_confirmation(reward=card, tz=None)
    seen = visible(msg)
    assert "<@UMARIA01> got *100 points*" in seen
    assert "Not sent to" in seen and "<@USAM0001>: no Xoxoday account" in seen


def test_private_reward_confirmation_says_it_was_not_announced() -> None:
    msg = rm.giver_confirmation(reward=s.reward(public=False), tz=None)
    assert "wasn't announced" in visible(msg)


GIVER_CASES = [
    (
        "pending via manager",
        lambda: rm.giver_pending_approval(
            reward=s.reward(status="pending_approval"),
            approver_ids=[s.APPROVER],
            tz=None,
            threshold=100,
            via_manager=True,
        ),
        [
            "needs approval",
            "rewards of 100 points or more",
            "your manager, <@UAPPR001>",
            "Nothing is sent",
            "`AB12CD`",
        ],
    ),
    (
        "pending, approvers",
        lambda: rm.giver_pending_approval(
            reward=s.reward(), approver_ids=[s.APPROVER, s.ADMIN], tz=None
        ),
        ["I've asked <@UAPPR001> and <@UADMIN01>"],
    ),
    (
        "pending, nobody to ask",
        lambda: rm.giver_pending_approval(reward=s.reward(), approver_ids=[], tz=None),
        [
            "nobody can approve it yet",
            "Ask whoever runs this bot to name approvers; it will wait until someone decides.",
        ],
    ),
    (
        "failed",
        lambda: rm.giver_failed(
            reward=s.reward(status="failed", failure_reason="The company account is empty."),
            tz=None,
        ),
        [
            "wasn't sent",
            "*What happened*\nThe company account is empty.",
            "*What to do*",
            "doesn't count against your monthly allowance",
            "press Send again",
            "`AB12CD`",
        ],
    ),
    (
        "failed without a reason",
        lambda: rm.giver_failed(reward=s.reward(status="failed"), tz=None),
        ["Xoxoday refused it and didn't say why."],
    ),
    (
        "in doubt",
        lambda: rm.giver_in_doubt(reward=s.reward(status="in_doubt"), tz=None),
        ["being checked", "an admin is checking", "don't send it again", "`AB12CD`"],
    ),
    (
        "in doubt, checked in Xoxoday's records first, saying which kind of failure",
        lambda: rm.giver_in_doubt(
            reward=s.reward(status="in_doubt", failure_reason="Xoxoday didn't answer in time."),
            tz=None,
            admins_check=False,
        ),
        [
            "Xoxoday didn't answer in time, so I don't know yet whether the points arrived.",
            "I'm checking Xoxoday's payment records",
            "don't send it again",
        ],
    ),
]


@pytest.mark.parametrize(("name", "build", "phrases"), GIVER_CASES, ids=[c[0] for c in GIVER_CASES])
def test_the_giver_is_told_plainly(name, build, phrases) -> None:
    msg = build()
    assert_valid_message(msg)
    seen = visible(msg)
    for phrase in phrases:
        assert phrase in seen, phrase
    buttons = [b["action_id"] for b in elements(msg, "button")]
    assert buttons == ([ActionId.SEND_AGAIN] if name.startswith("failed") else [])


def test_a_failed_reward_can_be_sent_again_with_a_confirmation() -> None:
    msg = rm.giver_failed(reward=s.two_people(status="failed"), tz=None)
    [again] = elements(msg, "button")
    assert (again["text"]["text"], again["value"]) == ("Send again", "AB12CD")
    assert blocks_of(msg, "actions")[0]["block_id"] == "again_actions:AB12CD"
    dialog = visible(again["confirm"])
    assert "Send it again?" in dialog
    assert "A new reward of *100 points* each (*200 points* in all) to <@UMARIA01> and" in dialog
    assert "the usual checks again (your allowance, approval)" in dialog


@pytest.mark.parametrize("status", ["in_doubt", "sent", "queued"])
def test_only_a_failed_reward_offers_to_be_sent_again(status: str) -> None:
    """A reward told failed but no longer failed (an admin settled it sent meanwhile) is never
    offered: only what failed can be sent again."""
    assert elements(rm.giver_failed(reward=s.reward(status=status), tz=None), "button") == []


def test_once_sent_again_the_message_names_the_new_reward() -> None:
    new = s.reward(short_id="NEW234")
    line = rm.sent_again_context(new, "Europe/Berlin")
    assert visible(line) == "🔁 You sent it again as reward `NEW234` on 5 March 2026 at 14:05 CET."


def test_the_in_doubt_alert_says_what_happened_in_plain_words() -> None:
    reason = "Xoxoday's answer was lost (RemoteProtocolError)."  # as older versions stored it
    card = s.two_people(status="in_doubt", failure_reason=reason)
    seen = visible(rm.admin_in_doubt_alert(reward=card, tz=None))
    assert "*What happened* Xoxoday's answer was lost." in seen
    assert "RemoteProtocolError" not in seen and ".)" not in seen


def test_admin_in_doubt_alert_has_settle_buttons_and_what_to_check() -> None:
    card = s.two_people(status="in_doubt", failure_reason="the request timed out")
    msg = rm.admin_in_doubt_alert(reward=card, tz="Asia/Tokyo")
    assert_valid_message(msg)
    seen = visible(msg)
    assert "Reward in doubt: AB12CD" in seen
    assert "*What happened* the request timed out." in seen
    assert "maria@example.com" in seen and "sam@example.com" in seen
    assert "22:05 JST" in seen
    buttons = {b["action_id"]: b for b in elements(msg, "button")}
    assert set(buttons) == {ActionId.SETTLE_SENT, ActionId.SETTLE_FAILED}
    assert {b["value"] for b in buttons.values()} == {"AB12CD"}
    assert buttons[ActionId.SETTLE_SENT]["text"]["text"] == "It was sent"
    assert buttons[ActionId.SETTLE_FAILED]["text"]["text"] == "It failed"
    assert all("confirm" in b for b in buttons.values())
    assert blocks_of(msg, "actions")[0]["block_id"] == "settle_actions:AB12CD"


@pytest.mark.parametrize(
    ("outcome", "said", "heading"),
    [
        ("sent", "Marked as sent", "Reward settled as sent: AB12CD"),
        ("failed", "failed", "Reward settled as not sent: AB12CD"),
    ],
)
def test_settled_alert_drops_the_buttons_and_says_who_and_when(outcome, said, heading) -> None:
    settled = Settlement(
        outcome=outcome, settled_by=s.ADMIN, settled_at=datetime(2026, 3, 6, 8, 0, tzinfo=UTC)
    )
    msg = rm.admin_in_doubt_alert(reward=s.reward(), tz="Europe/Berlin", settlement=settled)
    assert_valid_message(msg)
    assert elements(msg, "button") == []
    assert f"{said} by <@UADMIN01> on 6 March 2026 at 09:00 CET" in visible(msg)
    # the heading follows the state: settled, it no longer reads "in doubt"
    assert blocks_of(msg, "header")[0]["text"]["text"] == heading
    assert "in doubt" not in visible(msg).lower()


def test_crash_recovery_lists_each_reward_with_its_own_buttons() -> None:
    cards = [s.reward(short_id=f"R{i}", status="in_doubt") for i in range(3)]
    cards.append(cards[0])  # a repeat is shown once
    msg = rm.admin_crash_recovery_alert(rewards=cards, tz=None, now=s.CREATED)
    assert_valid_message(msg)
    assert "restarted on 5 March 2026 at 13:05 UTC while sending 3 rewards" in visible(msg)
    ids = [b["block_id"] for b in blocks_of(msg, "actions")]
    assert ids == ["settle_actions:R0", "settle_actions:R1", "settle_actions:R2"]
    assert [b["value"] for b in elements(msg, "button")] == ["R0", "R0", "R1", "R1", "R2", "R2"]


def test_cancellation_tells_the_recipient_how_much_was_withdrawn_and_why() -> None:
    msg = rm.recipient_cancelled(
        reward=s.reward(),
        recipient_id=s.MARIA,
        reason="sent to the wrong Maria",
        tz="Europe/Berlin",
        cancelled_by=s.ADMIN,
    )
    seen = visible(msg)
    assert "The *100 points* <@UGIVER01> sent you on 5 March 2026 were withdrawn" in seen
    assert "by <@UADMIN01>" in seen
    assert "*Reason:* sent to the wrong Maria" in seen
    assert "`AB12CD`" in seen
    assert "sent to the wrong Maria" in msg["text"]


def test_long_citation_is_cut_without_breaking_and_stays_valid() -> None:
    long_one = "x" * 2990 + " <@UMARIA01|maria> done"
    msg = rm.recipient_dm(reward=s.reward(citation=long_one), recipient_id=s.MARIA, tz=None)
    assert_valid_message(msg)
    quoted = next(t for t in msg["blocks"] if t.get("text", {}).get("text", "").startswith(">"))
    assert quoted["text"]["text"].endswith("…")
    assert "<@UMARIA01" not in quoted["text"]["text"]


@pytest.mark.parametrize(
    ("status", "said"),
    [("sent", "· given "), ("pending_approval", "· "), ("failed", "· "), ("in_doubt", "· ")],
)
def test_only_a_sent_reward_is_said_to_be_given(status: str, said: str) -> None:
    line = rm.id_context(s.reward(status=status), None)["elements"][0]["text"]
    assert said in line
    assert ("given" in line) == (status == "sent")


@pytest.mark.parametrize(
    ("waiting", "said"),
    [
        (0, "no reward is waiting for it any more."),
        (1, "the 1 reward that waited is going out now."),
        (3, "the 3 rewards that waited are going out now."),
    ],
)
def test_xoxoday_back_counts_the_rewards_that_waited(waiting: int, said: str) -> None:
    since = datetime(2026, 3, 5, 13, 5, tzinfo=UTC)
    msg = rm.admin_plum_reachable(since=since, waiting=waiting, tz="Europe/Berlin")
    assert blocks_of(msg, "section")[0]["text"]["text"] == (
        "✅ Xoxoday answers again (it couldn't be reached from 5 March 2026 at 14:05 CET); " + said
    )


def test_the_failure_dm_says_each_thing_once() -> None:
    reason = "<@UMARIA01> has no email address in Slack any more, so nothing was sent."
    dm = rm.giver_failed(reward=s.reward(status="failed", failure_reason=reason), tz=None)
    seen = "\n".join(b["text"]["text"] for b in blocks_of(dm, "section"))
    assert f"*What happened*\n{reason}" in seen
    assert "*What to do*\nIt doesn't count against your monthly allowance. If the problem" in seen
    assert seen.lower().count("nothing was sent") == 1
    assert seen.count("doesn't count against your monthly allowance") == 1


def test_xoxoday_down_reads_its_reason_with_one_full_stop() -> None:
    since = datetime(2026, 3, 5, 13, 5, tzinfo=UTC)
    reason = (
        "Xoxoday does not accept requests from this server's IP address. "
        "Ask Xoxoday to allow-list it."
    )
    msg = rm.admin_plum_unreachable(
        since=since, reason=reason, waiting=1, setup_problem=True, tz="UTC"
    )
    lead = blocks_of(msg, "section")[0]["text"]["text"]
    assert "Ask Xoxoday to allow-list it. 1 reward is waiting;" in lead
    assert ".." not in visible(msg)


def test_a_settlement_from_xoxodays_records_names_no_admin() -> None:
    card = s.two_people(status="sent")
    settled = Settlement(
        outcome="sent", settled_by=SETTLED_BY_RECORDS, settled_at=datetime(2026, 12, 7, tzinfo=UTC)
    )
    alert = rm.admin_in_doubt_alert(reward=card, tz=None, settlement=settled)
    seen = visible(alert)
    assert "Xoxoday's payment report shows it" in seen and "<@" + SETTLED_BY_RECORDS not in seen
    assert elements(alert, "button") == []


@pytest.mark.parametrize(
    ("kind", "button", "todo"),
    [
        ("passing", True, "It was a passing problem: press Send again."),
        ("low_balance", True, "Once an admin has topped it up, press Send again."),
        ("no_email", True, "Once their email is in their Slack profile, press Send again."),
        ("setup", False, "needs an admin to fix it (they have been told). Once they say it"),
        ("refused", False, "would be refused the same way, so there is no Send again here."),
    ],
)
def test_send_again_is_offered_where_it_may_work_and_otherwise_what_to_do_is_said(
    kind: str, button: bool, todo: str
) -> None:
    msg = rm.giver_failed(reward=s.reward(status="failed", failure_kind=kind), tz=None)
    assert_valid_message(msg)
    assert todo in visible(msg)
    buttons = [b["action_id"] for b in elements(msg, "button")]
    assert buttons == ([ActionId.SEND_AGAIN] if button else [])
    if not button:
        assert "press Send again" not in visible(msg)


def test_the_givers_confirmation_carries_undo_for_its_reward() -> None:
    reward = s.reward()
    note = rm.reward_note("👍 Sending *100 points* to <@UMARIA01>.")
    shown = rm.with_undo(note, reward, seconds=60)
    assert shown["blocks"][0] == note["blocks"][0] and shown["text"] == note["text"]
    [button] = [e for b in shown["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert (button["action_id"], button["value"], button["text"]["text"]) == (
        ActionId.UNDO,
        reward.short_id,
        "Undo",
    )
    assert "Undo within 60 seconds and nothing is sent" in str(shown["blocks"])
    assert rm.undone(reward)["text"].startswith("↩️ Undone: nothing was sent.")
