"""flags: every day, the flag rules over the ledger (`bot.rewards.flags`); new flags are stored
once per rule, people and month, and each admin gets one DM listing the flags not reported yet,
with the rewards behind each and its buttons. Nothing at all when there are none."""

from __future__ import annotations

from datetime import timedelta

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger

from bot.jobs.base import JobContext, JobSpec
from bot.settings import Settings


def trigger(settings: Settings) -> BaseTrigger:
    return CronTrigger.from_crontab(settings.REWARD_FLAG_CRON, timezone=settings.REWARD_TIMEZONE)


def run(ctx: JobContext) -> str:
    flags = ctx.runtime.flags
    raised = flags.scan()
    if not ctx.runtime.settings.REWARD_ADMINS:
        return f"{len(raised)} new flag(s), but REWARD_ADMINS is empty: nobody to tell"
    reported, told = flags.report(ctx.scheduled_for.isoformat())
    if not reported:
        return "no new flags"
    return f"{len(raised)} new flag(s); {reported} reported to {told} admin(s)"


JOB = JobSpec(
    name="flags",
    description="Daily DM to admins listing new flags (rings, repeated reasons, ...) with buttons",
    trigger=trigger,
    run=run,
    misfire_grace=timedelta(hours=12),
)
