"""points-expiry: with points in the bot, what is left of each credit expires on its day.

Every hour, the lots whose `expires_on` has come give up what is left of them (each person's
in one audit event, `storage.points.expire_lots`), and the App Homes of those people are
refreshed. The reminders before (`expiry-reminders`) name what is left. Secrets minted for
store visits that expired more than 30 days ago are dropped (auth tokens an order refers to are
kept, for its refunds). With points at Xoxoday, Xoxoday expires them: nothing to do.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger

from bot.jobs.base import JobContext, JobSpec
from bot.settings import Settings
from storage import members as member_repo
from storage import points as points_repo
from storage import storefront_secrets as secrets_repo
from storage.points import points_text
from storage.types import utcnow

log = logging.getLogger(__name__)

FORGET_SECRETS_AFTER = timedelta(days=30)


def trigger(settings: Settings) -> BaseTrigger:
    # Hourly: expiry dates are UTC dates, whatever the team's time zone (balances already
    # leave expired points out; this makes it so in the ledger soon after).
    return CronTrigger(minute=10, timezone=settings.REWARD_TIMEZONE)


def run(ctx: JobContext) -> str:
    runtime = ctx.runtime
    if not runtime.settings.storefront:
        return "points live at Xoxoday, which expires them: nothing to do"
    today = utcnow().date()
    with runtime.store.session() as session:
        expired = points_repo.expire_lots(session, today=today)
        forgotten = secrets_repo.forget_expired(session, older_than=FORGET_SECRETS_AFTER)
        people = [member_repo.get_member(session, member_id=e.member_id) for e in expired]
    runtime.notifier.on_change([m.slack_user_id for m in people if m is not None])
    total = sum(e.cents for e in expired)
    parts = [f"{points_text(total)} point(s) of {len(expired)} person(s) expired"]
    if forgotten:
        parts.append(f"{forgotten} old store secret(s) dropped")
    return "; ".join(parts)


JOB = JobSpec(
    name="points-expiry",
    description="expire what is left of points past their day (points in the bot)",
    trigger=trigger,
    run=run,
)
