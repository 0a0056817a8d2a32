"""balance-alert: once a day, the Xoxoday account balance (getBalance); under REWARD_LOW_BALANCE
every admin gets one DM, at most one a day however often the job runs (a do-once key per day in
REWARD_TIMEZONE)."""

from __future__ import annotations

import logging
from datetime import timedelta

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger

from bot.jobs.base import JobContext, JobSpec
from bot.rewards.kinds import OnceKind
from bot.settings import Settings
from bot.slack.blocks import jobs as job_blocks
from bot.slack.blocks.common import local, money
from storage import once
from storage.types import utcnow

log = logging.getLogger(__name__)

ONCE_KIND = OnceKind.LOW_BALANCE_ALERT


def trigger(settings: Settings) -> BaseTrigger:
    return CronTrigger(hour=8, minute=30, timezone=settings.REWARD_TIMEZONE)


def run(ctx: JobContext) -> str:
    runtime = ctx.runtime
    settings = runtime.settings
    balance = runtime.plum.get_balance()
    left = money(balance.value, balance.currency)
    threshold = settings.REWARD_LOW_BALANCE
    if threshold is None:
        return f"balance {left}; REWARD_LOW_BALANCE is not set, so no alert"
    if balance.value >= threshold:
        return f"balance {left}, not under {money(threshold, balance.currency)}"
    admins = runtime.notifier.admin_ids()
    if not admins:
        return f"balance {left} is low, but REWARD_ADMINS is empty: nobody to tell"
    today = local(utcnow(), settings.REWARD_TIMEZONE).date().isoformat()
    with runtime.store.session() as session:
        first = once.claim_once(session, kind=ONCE_KIND, key=today)
    if not first:
        return f"balance {left} is low; the admins were already told today"
    payload = job_blocks.low_balance_alert(
        balance=balance.value,
        currency=balance.currency,
        threshold=threshold,
    )
    told = sum(1 for admin in admins if runtime.notifier.dm(admin, payload) is not None)
    log.warning("Xoxoday balance %s is under REWARD_LOW_BALANCE; %d admin(s) told", left, told)
    return f"balance {left} is under {money(threshold, balance.currency)}: told {told} admin(s)"


JOB = JobSpec(
    name="balance-alert",
    description="Daily Xoxoday balance check; admins get one DM a day when it's low",
    trigger=trigger,
    run=run,
    misfire_grace=timedelta(hours=12),
)
