"""Rewards in doubt, settled by an admin with "It was sent" / "It failed", end to end.

The rewards get into doubt the way they do in production: the sandbox applies sendBalance and
drops the connection, or never answers.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import select

from bot.slack.ids import ActionId
from storage import audit
from storage import rewards as reward_repo
from storage.audit import AuditAction
from storage.models import Reward
from storage.states import RewardStatus
from tests.e2e.harness import ADMIN, APPROVER, BOB, CHEN, MARIA, BotHarness, message_text
from tests.e2e.test_approvals import actions_in, click, decided, latest, status_of, told

TWO_ADMINS = f"{ADMIN},{APPROVER}"


def alert_to(bot: BotHarness, admin: str, short: str) -> dict[str, Any]:
    """The admin's in-doubt DM about `short`, with its settle buttons."""

    def found() -> list[dict[str, Any]]:
        return [
            m
            for m in bot.fake.dms_to(admin)
            if short in message_text(m) and ActionId.SETTLE_SENT in actions_in(m)
        ]

    return bot.wait(found)[0]


def in_doubt(bot: BotHarness, *, fault: dict[str, Any], to: str = MARIA) -> str:
    """A reward whose sendBalance outcome is unknown; returns its short id."""
    bot.sandbox.faults.set("sendBalance", count=1, **fault)
    bot.driver.command(f"<@{to}> 100 kept the lights on", user_id=BOB)
    rows = bot.wait(lambda: in_doubt_ids(bot))
    return rows[0]


def in_doubt_ids(bot: BotHarness) -> list[str]:
    with bot.runtime.store.read_session() as session:
        rows = session.exec(select(Reward).where(Reward.status == RewardStatus.IN_DOUBT.value))
        return [r.short_id for r in rows.all()]


def settled_events(bot: BotHarness, short: str) -> list[Any]:
    with bot.runtime.store.read_session() as session:
        events = audit.events_for(session, subject_type="reward", subject_id=short)
    return [e for e in events if e.action == AuditAction.REWARD_SETTLED]


def test_it_was_sent(make_bot) -> None:
    bot = make_bot(REWARD_ADMINS=TWO_ADMINS)
    short = in_doubt(bot, fault={"drop_after_apply": True})
    mine, theirs = alert_to(bot, ADMIN, short), alert_to(bot, APPROVER, short)
    assert bot.sandbox.state.points_of("maria@acme.test") == 100  # Plum did apply it
    assert bot.dm_texts(MARIA) == []

    click(bot, ADMIN, ActionId.SETTLE_SENT, short, mine)
    bot.wait(lambda: status_of(bot, short) == RewardStatus.SENT)
    # both admins' alerts say who settled it and how, without buttons
    for alert in (mine, theirs):
        text = message_text(decided(bot, alert))
        assert "Marked as sent" in text and f"<@{ADMIN}>" in text
    # the recipient gets the DM a delivered reward gets; the giver hears it arrived
    dm = bot.wait(lambda: [t for t in bot.dm_texts(MARIA) if "100 points" in t])
    assert "kept the lights on" in dm[0] and "Sign in to the Plum storefront" in dm[0]
    assert bot.wait(lambda: [t for t in bot.dm_texts(BOB) if "Sent!" in t])
    assert len(bot.sends()) == 1  # nothing was sent again
    [event] = settled_events(bot, short)
    assert event.actor == ADMIN

    # a second click, and the other admin's "It failed", change nothing
    click(bot, ADMIN, ActionId.SETTLE_SENT, short, latest(bot, mine))
    assert told(bot, ADMIN, f"You already marked reward `{short}` as sent")
    click(bot, APPROVER, ActionId.SETTLE_FAILED, short, theirs)
    assert told(bot, APPROVER, f"Already settled by <@{ADMIN}> on ")
    assert status_of(bot, short) == RewardStatus.SENT
    assert len(settled_events(bot, short)) == 1
    assert len([t for t in bot.dm_texts(MARIA) if "100 points" in t]) == 1


def test_it_failed(make_bot) -> None:
    bot = make_bot(plum_timeout=1.0)
    short = in_doubt(bot, fault={"hang": True})
    alert = alert_to(bot, ADMIN, short)

    click(bot, ADMIN, ActionId.SETTLE_FAILED, short, alert)
    bot.wait(lambda: status_of(bot, short) == RewardStatus.FAILED)
    assert "Marked as failed" in message_text(decided(bot, alert))
    giver = bot.wait(lambda: [t for t in bot.dm_texts(BOB) if "wasn't sent" in t])
    assert "An admin checked with Xoxoday: the points never arrived." in giver[0]
    assert "It was a passing problem: press Send again." in giver[0]  # in doubt, never sent
    assert giver[0].count("doesn't count against your monthly allowance") == 1
    assert giver[0].lower().count("nothing was sent") == 1
    assert bot.dm_texts(MARIA) == []
    assert len(settled_events(bot, short)) == 1
    assert len(bot.sends()) == 1


def test_only_admins_settle(bot: BotHarness) -> None:
    short = in_doubt(bot, fault={"drop_after_apply": True})
    alert = alert_to(bot, ADMIN, short)
    for user in (BOB, APPROVER):  # the giver, an approver (not an admin)
        click(bot, user, ActionId.SETTLE_SENT, short)
        assert told(bot, user, "Only admins can settle rewards in doubt")
    assert status_of(bot, short) == RewardStatus.IN_DOUBT
    assert settled_events(bot, short) == []
    assert actions_in(latest(bot, alert))  # the admin's buttons are still there


def test_settling_from_the_after_restart_alert(make_bot) -> None:
    first = make_bot(worker=False)
    first.driver.command(f"<@{MARIA}> 100 thanks", user_id=BOB)
    first.driver.command(f"<@{CHEN}> 100 thanks", user_id=BOB)
    first.wait(lambda: len(queued(first)) == 2)
    with first.runtime.store.session() as session:
        for _ in range(2):
            assert reward_repo.claim_next_queued(session, claimed_by="crashed-worker")
    first.stop()  # the process "dies" with both rewards in `sending`

    second = make_bot()
    alert = second.wait(
        lambda: [m for m in second.fake.dms_to(ADMIN) if "restart" in message_text(m)]
    )[0]
    assert actions_in(alert).count(ActionId.SETTLE_SENT) == 2
    [one, other] = sorted(in_doubt_ids(second))
    click(second, ADMIN, ActionId.SETTLE_FAILED, one, alert)
    second.wait(lambda: status_of(second, one) == RewardStatus.FAILED)
    # that reward's buttons become who settled it; the other's stay
    updated = second.wait(
        lambda: (
            latest(second, alert)
            if actions_in(latest(second, alert)).count(ActionId.SETTLE_SENT) == 1
            else None
        )
    )
    assert "Marked as failed" in message_text(updated)
    assert status_of(second, other) == RewardStatus.IN_DOUBT
    assert second.sends() == []


def queued(bot: BotHarness) -> list[str]:
    with bot.runtime.store.read_session() as session:
        rows = session.exec(select(Reward).where(Reward.status == RewardStatus.QUEUED.value))
        return [r.short_id for r in rows.all()]


def test_settling_from_the_app_home(bot: BotHarness) -> None:
    short = in_doubt(bot, fault={"drop_after_apply": True})
    alert = alert_to(bot, ADMIN, short)
    bot.driver.app_home_opened(user_id=ADMIN)
    home = bot.wait(
        lambda: (h := bot.fake.home(ADMIN)) and ActionId.SETTLE_SENT in actions_in(h) and h
    )
    click_view = bot.driver.block_action(
        user_id=ADMIN, action_id=ActionId.SETTLE_SENT, value=short, view=home
    )
    assert click_view.status_code == 200
    bot.wait(lambda: status_of(bot, short) == RewardStatus.SENT)
    assert "Marked as sent" in message_text(decided(bot, alert))
    # the home no longer lists it; a stale click there is answered in the DM
    bot.wait(lambda: ActionId.SETTLE_SENT not in actions_in(bot.fake.home(ADMIN) or {}))
    bot.driver.block_action(user_id=ADMIN, action_id=ActionId.SETTLE_FAILED, value=short, view=home)
    assert told(bot, ADMIN, f"You already marked reward `{short}` as sent")
    assert status_of(bot, short) == RewardStatus.SENT
