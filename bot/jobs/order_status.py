"""order-status: every 10 minutes, gift cards and donations whose delivery Xoxoday has not told
yet are looked up by poNumber (getOrderDetails), so a missed webhook changes nothing.

It looks at placed orders still pending delivery `PENDING_AFTER` after their last change, and at
orders whose placeOrder outcome is not known: `unknown`, or `requested` for `REQUESTED_AFTER`
(a process that died mid-call). One Xoxoday has becomes placed; one it does not have stays
unknown and the admins hear of it once (`bot.rewards.order_updates`). A delivery change is told
once, whichever of the webhook and this job sees it first.
"""

from __future__ import annotations

from datetime import timedelta

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger

from bot.jobs.base import JobContext, JobSpec
from bot.jobs.scheduler import JobFailed
from bot.settings import Settings

PENDING_AFTER = timedelta(minutes=10)
REQUESTED_AFTER = timedelta(minutes=15)  # well past placeOrder's 120 s for realtime products
LIMIT = 100  # orders looked up per run (getOrderDetails has its rate limit too)


def trigger(settings: Settings) -> BaseTrigger:
    return CronTrigger(minute="*/10", timezone=settings.REWARD_TIMEZONE)


def run(ctx: JobContext) -> str:
    report = ctx.runtime.order_updates.poll(
        pending_after=PENDING_AFTER, requested_after=REQUESTED_AFTER, limit=LIMIT
    )
    if report.errors:
        raise JobFailed(f"{report.text()}; failed: {', '.join(report.errors[:5])}")
    return report.text()


JOB = JobSpec(
    name="order-status",
    description="Every 10 minutes, look up gift card and donation orders still waiting for "
    "their delivery status",
    trigger=trigger,
    run=run,
)
