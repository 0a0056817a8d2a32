"""Telling people how a reward ended: each message once, even when the telling runs again (a
process stopped half-way), and not lost when Slack asks the bot to slow down."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import delete
from sqlmodel import select

from storage import once
from storage import rewards as reward_repo
from storage.models import OnceKey, Reward
from storage.states import RewardStatus
from tests.e2e.harness import ADMIN, BOB, MARIA, BotHarness, wait_until


def details(bot: BotHarness, citation: str) -> reward_repo.RewardDetails:
    with bot.runtime.store.read_session() as session:
        (reward_id,) = session.exec(select(Reward.id).where(Reward.citation == citation)).all()
        return reward_repo.details_by_id(session, reward_id)


def counts(bot: BotHarness) -> tuple[int, int, int]:
    recipient = len(bot.dm_texts(MARIA))
    giver = len(bot.dm_texts(BOB))
    channel = len([t for t in bot.channel_texts("C0GENERAL") if "telling twice" in t])
    return recipient, giver, channel


def test_telling_a_sent_reward_again_posts_nothing_twice(bot: BotHarness) -> None:
    bot.driver.command(f"<@{MARIA}> 10 telling twice", user_id=BOB)
    bot.wait(lambda: bot.dm_texts(BOB))
    reward = details(bot, "telling twice")
    bot.wait(lambda: _told(bot, reward))
    assert counts(bot) == (1, 1, 1)
    bot.runtime.notifier.delivered(reward, again=True)
    assert counts(bot) == (1, 1, 1)


def test_an_untold_outcome_is_told_once_by_the_next_sweep(bot: BotHarness) -> None:
    bot.driver.command(f"<@{MARIA}> 10 telling twice", user_id=BOB)
    bot.wait(lambda: counts(bot) == (1, 1, 1))
    reward = details(bot, "telling twice")
    bot.wait(lambda: _told(bot, reward))
    with bot.runtime.store.session() as session:  # as if the process had stopped mid-telling
        session.exec(delete(OnceKey).where(OnceKey.key == reward_repo.told_key(reward)))  # type: ignore[arg-type]
    assert bot.runtime.worker.retell(quiet_for=timedelta(0)) == 1
    bot.wait(lambda: _told(bot, reward))
    assert counts(bot) == (1, 1, 1)
    assert bot.runtime.worker.retell(quiet_for=timedelta(0)) == 0


def _told(bot: BotHarness, reward: reward_repo.RewardDetails) -> bool:
    with bot.runtime.store.read_session() as session:
        return once.was_claimed(
            session, kind=reward_repo.TOLD_KIND, key=reward_repo.told_key(reward)
        )


def test_a_rate_limited_slack_still_gets_every_message(bot: BotHarness) -> None:
    bot.fake.fail_next("chat.postMessage", "ratelimited", count=2, retry_after=1)
    bot.driver.command(f"<@{MARIA}> 10 slow down please", user_id=BOB)
    assert bot.wait(lambda: bot.dm_texts(MARIA), timeout=20)
    assert bot.wait(lambda: bot.dm_texts(BOB), timeout=20)
    assert len(bot.dm_texts(MARIA)) == 1


def test_admins_hear_of_an_outcome_in_doubt_once(bot: BotHarness) -> None:
    bot.sandbox.faults.set("sendBalance", drop_after_apply=True, count=1)
    bot.driver.command(f"<@{MARIA}> 10 lost answer", user_id=BOB)
    bot.wait(lambda: [t for t in bot.dm_texts(ADMIN) if "in doubt" in t.lower()])
    reward = details(bot, "lost answer")
    bot.wait(lambda: _told(bot, reward))
    alerts = len(bot.dm_texts(ADMIN))
    bot.runtime.notifier.in_doubt(reward, "", again=True)
    assert len(bot.dm_texts(ADMIN)) == alerts
    assert len([t for t in bot.dm_texts(BOB) if "being checked" in t]) == 1


def test_the_worker_is_idle_only_once_a_reward_is_sent_and_told(bot: BotHarness) -> None:
    worker = bot.runtime.worker
    bot.settle()
    assert worker.idle() and bot.busy() == ""
    bot.sandbox.faults.set("sendBalance", latency_ms=1000)
    bot.fake.slow_next("chat.postMessage", seconds=1.0)  # the first message telling of it
    bot.driver.command(f"<@{MARIA}> 10 worth the wait", user_id=BOB)
    wait_until(lambda: [s for s in bot.sends() if s["status"] is None], what="the send")
    assert not worker.idle()  # sending
    wait_until(lambda: bot.fake.held("chat.postMessage"), what="the telling")
    assert details(bot, "worth the wait").status is RewardStatus.SENT
    assert not worker.idle() and "the delivery worker" in bot.busy()  # telling
    bot.settle()
    assert worker.idle()
    assert len(bot.dm_texts(MARIA)) == 1 and _told(bot, details(bot, "worth the wait"))


def _in_doubt(bot: BotHarness, citation: str) -> reward_repo.RewardDetails | None:
    with bot.runtime.store.read_session() as session:
        ids = session.exec(select(Reward.id).where(Reward.citation == citation)).all()
        found = [reward_repo.details_by_id(session, i) for i in ids]
    return found[0] if found and found[0].status is RewardStatus.IN_DOUBT else None


def test_an_admin_reads_the_alert_in_their_own_time_zone_as_in_every_other_message(
    make_bot,
) -> None:
    """Ada's Slack profile is in London; the company's zone is Tokyo. Her in-doubt alert names
    the same zone as her own reward's DM, never the company's beside it."""
    bot = make_bot(REWARD_TIMEZONE="Asia/Tokyo")
    london = datetime.now(ZoneInfo("Europe/London")).tzname()
    tokyo = datetime.now(ZoneInfo("Asia/Tokyo")).tzname()
    bot.sandbox.faults.set("sendBalance", drop_after_apply=True, count=1)
    bot.driver.command(f"<@{MARIA}> 10 lost answer", user_id=BOB)
    alert = bot.wait(lambda: [t for t in bot.dm_texts(ADMIN) if "in doubt" in t.lower()])[0]
    bot.driver.command(f"<@{MARIA}> 10 from ada", user_id=ADMIN)
    sent = bot.wait(lambda: [t for t in bot.dm_texts(ADMIN) if "Sent!" in t])[0]
    assert f" {london}" in alert and f" {london}" in sent
    assert f" {tokyo}" not in alert
