"""expiry-reminders: recipients hear before their points expire.

For each threshold of REWARD_EXPIRY_REMIND_DAYS (default 30, 7, 1), points delivered to someone
that expire within that many days are reminded of once per reward, recipient and threshold, even
across restarts and processes (`storage.once`, key `<reward>:<recipient row>:<days>`). Only the
tightest threshold a grant is in counts (a grant first seen 5 days before it expires gets the
7-day reminder, not the 30-day one as well), and each person gets one DM per run listing their
grants. Nobody is reminded unless Xoxoday's user_balance shows them points left to spend; a
person whose balance is 0 or unknown to Xoxoday gets nothing (and is looked at again next run).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger

from bot.jobs.base import JobContext, JobSpec
from bot.plum import PlumError
from bot.rewards.kinds import OnceKind
from bot.settings import Settings
from bot.slack.blocks import jobs as job_blocks
from bot.slack.blocks.common import local
from storage import once, queries
from storage import points as points_repo
from storage.models import Member
from storage.points import points_value
from storage.queries import ExpiringPoints
from storage.types import utcnow

log = logging.getLogger(__name__)

ONCE_KIND = OnceKind.EXPIRY_REMINDER
PAGE = 1000


def trigger(settings: Settings) -> BaseTrigger:
    return CronTrigger(hour=10, minute=0, timezone=settings.REWARD_TIMEZONE)


def threshold_for(days_left: int, thresholds: Sequence[int]) -> int | None:
    """The tightest threshold `days_left` is within (None: none)."""
    inside = [d for d in thresholds if days_left <= d]
    return min(inside) if inside else None


def once_key(item: ExpiringPoints, threshold: int) -> str:
    return f"{item.short_id}:{item.recipient_id}:{threshold}"


def expiring(ctx: JobContext, *, today: date, within: int) -> list[ExpiringPoints]:
    found: list[ExpiringPoints] = []
    after: tuple[date, int] | None = None
    with ctx.runtime.store.read_session() as session:
        while True:
            page = queries.expiring_points(
                session, within_days=within, today=today, after=after, limit=PAGE
            )
            found += page
            if len(page) < PAGE:
                return found
            after = (page[-1].expires_on, page[-1].recipient_id)


def run(ctx: JobContext) -> str:
    runtime = ctx.runtime
    thresholds = sorted(set(runtime.settings.REWARD_EXPIRY_REMIND_DAYS))
    if not thresholds:
        return "REWARD_EXPIRY_REMIND_DAYS is empty: no reminders"
    today = utcnow().date()  # expiry dates are UTC dates (the day Xoxoday's expiry falls on)
    due: dict[int, list[tuple[ExpiringPoints, str]]] = defaultdict(list)
    members: dict[int, Member] = {}
    items = expiring(ctx, today=today, within=max(thresholds))
    with runtime.store.read_session() as session:
        for item in items:
            threshold = threshold_for((item.expires_on - today).days, thresholds)
            if threshold is None or not item.member.active or item.member.is_bot:
                continue
            key = once_key(item, threshold)
            if once.was_claimed(session, kind=ONCE_KIND, key=key):
                continue
            due[item.member.id or 0].append((item, key))
            members[item.member.id or 0] = item.member
    outcomes: dict[str, int] = defaultdict(int)
    for member_id, member_items in due.items():
        outcomes[remind(ctx, members[member_id], member_items)] += 1
    parts = [f"{outcomes['sent']} reminder(s) sent"]
    labels = {
        "nothing left": "person(s) with no points left skipped",
        "unchecked": "person(s) whose points could not be checked",
        "failed": "DM(s) Slack refused",
    }
    parts += [f"{outcomes[k]} {label}" for k, label in labels.items() if outcomes[k]]
    return "; ".join(parts)


def remind(ctx: JobContext, member: Member, items: list[tuple[ExpiringPoints, str]]) -> str:
    """Check the person's balance, claim the reminders, DM them once. Returns what happened."""
    runtime = ctx.runtime
    if runtime.settings.storefront:
        return _remind_from_ledger(ctx, member, items)
    if not member.email:
        log.info("member %s has no email: cannot check their points", member.slack_user_id)
        return "unchecked"
    try:
        balance = runtime.plum.user_balance(email=member.email)
    except PlumError as err:
        log.warning(
            "could not read %s's points from Xoxoday: %s", member.slack_user_id, type(err).__name__
        )
        return "unchecked"
    if not balance.found or not balance.total or balance.total <= 0:
        return "nothing left"
    return _send(ctx, member, items, balance.total)


def _remind_from_ledger(
    ctx: JobContext, member: Member, items: list[tuple[ExpiringPoints, str]]
) -> str:
    """Points in the bot: each grant's reminder names what is left of it (spent points are
    not reminded of), and the balance is the ledger's."""
    today = utcnow().date()
    left: list[tuple[ExpiringPoints, str]] = []
    with ctx.runtime.store.read_session() as session:
        total = points_repo.balance(session, member_id=member.id or 0, today=today).available
        for item, key in items:
            mine = [
                lot
                for lot in points_repo.reward_points(session, reward_id=item.reward_id)
                if lot.member_id == member.id
            ]
            remaining = sum(lot.remaining for lot in mine)
            if remaining > 0:
                left.append((replace(item, points=points_value(remaining)), key))
    if not left or total <= 0:
        return "nothing left"
    return _send(ctx, member, left, points_value(total))


def _send(
    ctx: JobContext,
    member: Member,
    items: list[tuple[ExpiringPoints, str]],
    balance: int | Decimal,
) -> str:
    runtime = ctx.runtime
    claimed: list[ExpiringPoints] = []
    with runtime.store.session() as session:
        for item, key in items:
            if once.claim_once(session, kind=ONCE_KIND, key=key):
                claimed.append(item)
    if not claimed:
        return "already reminded"  # another process got there first
    grants = [
        job_blocks.ExpiringGrant(
            short_id=item.short_id, points=item.points, expires_on=item.expires_on
        )
        for item in claimed
    ]
    tz = member.tz or runtime.settings.REWARD_TIMEZONE
    redeem = runtime.redeem.button(member.slack_user_id) if runtime.redeem else None
    payload = job_blocks.expiry_reminder(
        grants=grants,
        balance=balance,
        today=local(utcnow(), tz).date(),
        tz=tz,
        redeem=redeem,
    )
    return "sent" if runtime.notifier.dm(member.slack_user_id, payload) is not None else "failed"


JOB = JobSpec(
    name="expiry-reminders",
    description="DM recipients whose points expire soon (REWARD_EXPIRY_REMIND_DAYS ahead)",
    trigger=trigger,
    run=run,
    misfire_grace=timedelta(hours=12),
)
