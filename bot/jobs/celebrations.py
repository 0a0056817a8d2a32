"""celebrations: every 15 minutes, the birthdays, work anniversaries and welcomes due now
(`bot.rewards.celebrations`): each sent from 09:00 in the person's time zone, a weekend one on
the Friday before, once per person, kind and year however many processes run it. Quarter
hours, so every time zone's 09:00 (India's :30, Nepal's :45) is met on time."""

from __future__ import annotations

from datetime import timedelta

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger

from bot.jobs.base import JobContext, JobSpec
from bot.jobs.scheduler import JobFailed
from bot.settings import Settings


def trigger(settings: Settings) -> BaseTrigger:
    return CronTrigger(minute="*/15", timezone=settings.REWARD_TIMEZONE)


def run(ctx: JobContext) -> str:
    service = ctx.runtime.celebrations
    if not service.amounts.any:
        return "no celebration has points (REWARD_BIRTHDAY_POINTS, ...): nothing to do"
    run = service.run_due()
    if run.failed:  # the run is recorded as failed, so operators see it
        raise JobFailed(run.summary())
    return run.summary()


JOB = JobSpec(
    name="celebrations",
    description="Birthdays, work anniversaries and welcomes at 09:00 in each person's time zone",
    trigger=trigger,
    run=run,
    misfire_grace=timedelta(hours=1),  # a missed run is caught up at start (it is idempotent)
)
