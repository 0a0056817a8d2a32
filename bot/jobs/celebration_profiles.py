"""celebration-profiles: daily, the birthdays and start dates in the custom Slack profile fields
REWARD_CELEBRATION_PROFILE_FIELDS names, read for everyone (`users.list`, then
`users.profile.get` for each person: one call a person a day, paced by Slack's rate limits) and
added to the people the celebrations job pays (`bot.rewards.celebrations.read_profiles`). Early,
so a date added in Slack yesterday is celebrated at today's 09:00."""

from __future__ import annotations

from datetime import timedelta

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger

from bot.jobs.base import JobContext, JobSpec
from bot.settings import Settings


def trigger(settings: Settings) -> BaseTrigger:
    return CronTrigger(hour=5, minute=30, timezone=settings.REWARD_TIMEZONE)


def run(ctx: JobContext) -> str:
    if not ctx.runtime.settings.REWARD_CELEBRATION_PROFILE_FIELDS:
        return "REWARD_CELEBRATION_PROFILE_FIELDS is empty: no profile fields to read"
    return ctx.runtime.celebrations.read_profiles().summary()


JOB = JobSpec(
    name="celebration-profiles",
    description="Daily: birthdays and start dates from the Slack profile fields named",
    trigger=trigger,
    run=run,
    misfire_grace=timedelta(hours=12),
)
