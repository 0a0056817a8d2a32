"""in-doubt-report: every morning, a DM to each admin listing the rewards still in doubt, each
with "It was sent" / "It failed"; nothing at all when there are none."""

from __future__ import annotations

from datetime import timedelta

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger

from bot.jobs.base import JobContext, JobSpec
from bot.rewards.cards import card_for
from bot.settings import Settings
from bot.slack.blocks import jobs as job_blocks
from storage import queries

REPORT_LIMIT = 100  # rewards read; the message shows as many as fit and counts the rest


def trigger(settings: Settings) -> BaseTrigger:
    return CronTrigger(hour=9, minute=0, timezone=settings.REWARD_TIMEZONE)


def run(ctx: JobContext) -> str:
    runtime = ctx.runtime
    with runtime.store.read_session() as session:
        rewards = queries.rewards_in_doubt(session, limit=REPORT_LIMIT)
    if not rewards:
        return "no rewards in doubt"
    admins = runtime.notifier.admin_ids()
    if not admins:
        return f"{len(rewards)} reward(s) in doubt, but REWARD_ADMINS is empty: nobody to tell"
    cards = [card_for(reward) for reward in rewards]
    told = 0
    for admin in admins:
        tz = _tz_of(ctx, admin)
        payload = job_blocks.in_doubt_report(rewards=cards, tz=tz)
        if runtime.notifier.dm(admin, payload) is not None:
            told += 1
    more = "+" if len(rewards) >= REPORT_LIMIT else ""
    return f"{len(rewards)}{more} reward(s) in doubt: told {told} admin(s)"


def _tz_of(ctx: JobContext, user_id: str) -> str:
    runtime = ctx.runtime
    try:
        return runtime.people.profile(user_id).person.tz or runtime.settings.REWARD_TIMEZONE
    except Exception:  # unknown user or Slack unreachable: the team's zone will do
        return runtime.settings.REWARD_TIMEZONE


JOB = JobSpec(
    name="in-doubt-report",
    description="Daily DM to admins listing rewards still in doubt, with settle buttons",
    trigger=trigger,
    run=run,
    misfire_grace=timedelta(hours=12),
)
