"""reconcile: every morning, yesterday (in REWARD_TIMEZONE) in the ledger against Xoxoday's
payment report for it (`bot.rewards.reconcile`): the gift card and donation orders placed, and
with points at Xoxoday the points sendBalance delivered. Any difference, order by order and
reward by reward, goes to every admin in one DM; when everything matches nobody is told and the
run's one-line account says so. Xoxoday unreachable: the run fails, saying why (nothing sent).
"""

from __future__ import annotations

import logging
from datetime import timedelta

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger

from bot.jobs.base import JobContext, JobSpec
from bot.jobs.scheduler import JobFailed
from bot.plum import PlumError
from bot.rewards.reconcile import Reconciler
from bot.settings import Settings
from bot.slack.blocks import orders as order_blocks
from bot.slack.blocks.common import local

log = logging.getLogger(__name__)


def trigger(settings: Settings) -> BaseTrigger:
    return CronTrigger(hour=7, minute=15, timezone=settings.REWARD_TIMEZONE)


def run(ctx: JobContext) -> str:
    runtime = ctx.runtime
    settings = runtime.settings
    day = local(ctx.scheduled_for, settings.REWARD_TIMEZONE).date() - timedelta(days=1)
    reconciler = Reconciler(store=runtime.store, plum=runtime.plum, settings=settings)
    try:
        result = reconciler.reconcile(day)
    except PlumError as err:
        raise JobFailed(
            f"{day}: couldn't read Xoxoday's payment report ({type(err).__name__}); nothing "
            "was compared"
        ) from err
    what = f"{result.orders_checked} order(s)"
    if result.points_at_xoxoday:
        what += f" and {result.recipients_checked} reward recipient(s)"
    if result.matches:
        return f"{day}: {what} match Xoxoday's payment report"
    admins = runtime.notifier.admin_ids()
    n = result.differences
    if not admins:
        return f"{day}: {n} difference(s) with Xoxoday's payment report, but REWARD_ADMINS is empty"
    balance = runtime.account_balance.get()
    payload = order_blocks.reconciliation_report(
        result=result, currency=balance.currency if balance is not None else None
    )
    told = sum(1 for admin in admins if runtime.notifier.dm(admin, payload) is not None)
    log.warning("reconciliation of %s: %d difference(s); %d admin(s) told", day, n, told)
    cut = " (report cut short)" if result.cut_short else ""
    return f"{day}: {n} difference(s) in {what}{cut}: told {told} admin(s)"


JOB = JobSpec(
    name="reconcile",
    description="Daily: yesterday's orders and points in the ledger against Xoxoday's payments",
    trigger=trigger,
    run=run,
    misfire_grace=timedelta(hours=12),
)
