"""approval-nudges: no approval request stalls silently.

Every hour:
1. Requests pending longer than REWARD_APPROVAL_EXPIRE_DAYS expire (`storage.rewards.
   expire_pending`, a compare-and-set: a decision that lands first wins). Every copy of the
   request then shows it expired, without buttons, and the giver is told nothing was sent.
2. Requests pending longer than REWARD_APPROVAL_REMIND_HOURS remind whoever was asked (the
   giver's manager or the approvers; when nobody could be asked, the approvers now, else the
   admins), with Approve / Reject.
3. Past REWARD_APPROVAL_ESCALATE_HOURS the request goes to the admins (other than the giver),
   saying who was asked.
Each request gets each stage once (`storage.once`, key `<reward>:remind|escalate`), across
restarts and processes; a request first seen past the escalation age is escalated only. Every
reminder is recorded as a copy of the request, so the first decision updates it too.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from sqlmodel import Session

from bot.jobs.base import JobContext, JobSpec
from bot.jobs.scheduler import JobFailed
from bot.rewards.approvals import REQUEST_KIND, Target, concerned_ids
from bot.rewards.cards import ApprovalCard, ApprovalDecision, GiverMonth, card_for
from bot.rewards.kinds import OnceKind
from bot.settings import Settings
from bot.slack.blocks import approvals as approval_blocks
from bot.slack.blocks import jobs as job_blocks
from bot.slack.people import UnknownSlackUser
from storage import members as member_repo
from storage import messages as message_repo
from storage import once, queries
from storage import rewards as reward_repo
from storage.rewards import RewardDetails
from storage.states import RewardStatus
from storage.types import utcnow

log = logging.getLogger(__name__)

ONCE_KIND = OnceKind.APPROVAL_NUDGE
REMIND = "remind"
ESCALATE = "escalate"


def trigger(settings: Settings) -> BaseTrigger:
    return CronTrigger(minute=5, timezone=settings.REWARD_TIMEZONE)


def run(ctx: JobContext) -> str:
    settings = ctx.runtime.settings
    now = utcnow()
    expired, untold = expire(ctx)
    remind_after = timedelta(hours=settings.REWARD_APPROVAL_REMIND_HOURS)
    escalate_after = timedelta(hours=settings.REWARD_APPROVAL_ESCALATE_HOURS)
    with ctx.runtime.store.read_session() as session:
        pending = queries.pending_approvals_older_than(
            session,
            hours=min(remind_after, escalate_after).total_seconds() / 3600,
            now=now,
        )
    reminded = escalated = 0
    for reward in pending:
        stage = ESCALATE if now - reward.reward.created_at >= escalate_after else REMIND
        with ctx.runtime.store.session() as session:
            if not once.claim_once(session, kind=ONCE_KIND, key=f"{reward.short_id}:{stage}"):
                continue
        if stage == REMIND:
            reminded += remind(ctx, reward, now=now)
        else:
            escalated += escalate(ctx, reward, now=now)
        catch_up(ctx, reward)
    account = f"{len(expired)} expired, {reminded} reminder(s) and {escalated} escalation(s) sent"
    if untold:
        raise JobFailed(f"{account}; {untold} giver(s) of expired requests could not be told")
    return account


# ── 1. expiry ────────────────────────────────────────────────────────────────────────────


def expire(ctx: JobContext) -> tuple[list[RewardDetails], int]:
    """Expire what waited too long; update every copy and tell each giver. Returns the expired
    rewards and how many givers could not be told."""
    runtime = ctx.runtime
    days = runtime.settings.REWARD_APPROVAL_EXPIRE_DAYS
    with runtime.store.session() as session:
        expired = reward_repo.expire_pending(
            session,
            older_than=timedelta(days=days),
            reason=f"nobody decided within {days} days",
        )
    untold = 0
    for reward in expired:
        try:
            runtime.approvals.refresh_copies(reward)  # "Expired", the buttons gone
            giver = reward.giver
            decision = ApprovalDecision(
                outcome="expired", decided_at=reward.reward.expired_at or utcnow()
            )
            payload = approval_blocks.giver_decision(
                reward=card_for(reward),
                decision=decision,
                tz=giver.tz or runtime.settings.REWARD_TIMEZONE,
            )
            if runtime.notifier.dm(giver.slack_user_id, payload) is None:
                untold += 1
            runtime.notifier.on_change([giver.slack_user_id])
        except Exception:
            log.exception("reward %s expired, but its people could not be told", reward.short_id)
            untold += 1
    if expired:
        log.info("%d approval request(s) expired after %d days", len(expired), days)
    return expired, untold


# ── 2. reminders ─────────────────────────────────────────────────────────────────────────


def asked_members(session: Session, reward: RewardDetails) -> list[Target]:
    """Who has a copy of the request (in the order asked), the giver left out."""
    found: dict[int, Target] = {}
    for copy in message_repo.list_reward_messages(session, reward_id=reward.id, kind=REQUEST_KIND):
        if copy.member_id is None or copy.member_id in found:
            continue
        member = member_repo.get_member(session, member_id=copy.member_id)
        if member is None or member.id == reward.giver.id or not member.active:
            continue
        found[copy.member_id] = Target(member, as_manager=member.id == reward.giver.manager_id)
    return list(found.values())


def remind(ctx: JobContext, reward: RewardDetails, *, now: datetime) -> int:
    """Remind whoever was asked; when nobody was, ask the approvers now, else the admins."""
    approvals = ctx.runtime.approvals
    with ctx.runtime.store.session() as session:
        targets = asked_members(session, reward)
        if not targets:
            targets = list(approvals.targets(session, reward))
        month = approvals.giver_month(session, reward)
    if not targets:
        log.warning(
            "reward %s waits for approval and nobody was asked: escalating", reward.short_id
        )
        return escalate(ctx, reward, now=now)
    return post(ctx, reward, targets, month=month, now=now, escalated=False, asked=[])


# ── 3. escalation ────────────────────────────────────────────────────────────────────────


def escalate(ctx: JobContext, reward: RewardDetails, *, now: datetime) -> int:
    runtime = ctx.runtime
    giver = reward.giver
    admins: list[Target] = []
    with runtime.store.session() as session:
        asked = [a.member.slack_user_id for a in asked_members(session, reward)]
        concerned = concerned_ids(reward)
        for uid in dict.fromkeys(runtime.settings.REWARD_ADMINS):
            if uid in concerned:
                continue
            try:
                profile = runtime.people.profile(uid)
            except UnknownSlackUser:
                log.warning("admin %s is not in this Slack workspace", uid)
                continue
            if profile.person.deleted or profile.person.is_bot:
                continue
            member = runtime.people.member(session, profile, team_id=giver.team_id)
            admins.append(Target(member, as_manager=member.id == giver.manager_id))
        month = runtime.approvals.giver_month(session, reward)
    if not admins:
        log.warning(
            "reward %s has waited too long and there is no admin to tell (REWARD_ADMINS)",
            reward.short_id,
        )
        return 0
    return post(ctx, reward, admins, month=month, now=now, escalated=True, asked=asked)


# ── posting ──────────────────────────────────────────────────────────────────────────────


def post(
    ctx: JobContext,
    reward: RewardDetails,
    targets: list[Target],
    *,
    month: GiverMonth,
    now: datetime,
    escalated: bool,
    asked: list[str],
) -> int:
    """DM each target the request with its buttons; record each as a copy of the request."""
    runtime = ctx.runtime
    settings = runtime.settings
    card = card_for(reward)
    created = reward.reward.created_at
    expires_at = created + timedelta(days=settings.REWARD_APPROVAL_EXPIRE_DAYS)
    sent = 0
    for target in targets:
        request = ApprovalCard(
            reward=card,
            month=month,
            threshold=settings.REWARD_APPROVAL_THRESHOLD,
            as_manager=target.as_manager,
        )
        payload = job_blocks.approval_reminder(
            request=request,
            waited=now - created,
            expires_at=expires_at,
            tz=target.member.tz or settings.REWARD_TIMEZONE,
            escalated=escalated,
            asked=asked,
        )
        if (
            runtime.notifier.post_request_copy(reward, member=target.member, payload=payload)
            is None
        ):
            continue
        sent += 1
    return sent


def catch_up(ctx: JobContext, reward: RewardDetails) -> None:
    """Someone may have decided while the reminders went out: then every copy, the new ones
    included, shows the decision."""
    latest = ctx.runtime.approvals.find(reward.short_id)
    if latest is not None and latest.status != RewardStatus.PENDING_APPROVAL:
        ctx.runtime.approvals.refresh_copies(latest)


JOB = JobSpec(
    name="approval-nudges",
    description="Hourly: remind approvers, escalate to admins, expire requests nobody decided",
    trigger=trigger,
    run=run,
    misfire_grace=timedelta(hours=1),
)
