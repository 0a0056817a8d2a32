"""Rewards reported from their announcement, and the admins' decisions on them.

A report is one row per reward (the first reporter's; a unique index stands behind it): while
it is `open` the reward leaves every ranking and summary (`storage.queries`); an admin then
restores it or cancels the reward (through the cancel service), each a compare-and-set from
`open` with its audit event in the same transaction, so two clicks decide once.

Which reward an announcement is comes from the bot's own record of the messages it posted
(`reward_messages`, kind `announcement`), never from Slack's message history.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import update
from sqlmodel import Session, col, select

from storage import audit
from storage.audit import AuditAction
from storage.models import Member, RewardMessage, RewardReport
from storage.reward_views import RewardDetails, details_by_id
from storage.states import ReportStatus
from storage.types import utcnow

ANNOUNCEMENT = "announcement"  # bot.rewards.kinds.MessageKind.ANNOUNCEMENT, as stored


@dataclass(frozen=True, slots=True)
class Report:
    reward_id: int
    reporter: str  # Slack user id
    reason: str
    status: ReportStatus
    decided_by: str | None
    decided_at: datetime | None
    created_at: datetime


def announced_reward(session: Session, *, channel_id: str, message_ts: str) -> RewardDetails | None:
    """The reward this channel message announces, from the bot's record (None: not one)."""
    found = session.exec(
        select(RewardMessage.reward_id)
        .where(RewardMessage.channel_id == channel_id)
        .where(RewardMessage.message_ts == message_ts)
        .where(RewardMessage.kind == ANNOUNCEMENT)
    ).first()
    return details_by_id(session, found) if found is not None else None


def report_of(session: Session, *, reward_id: int) -> Report | None:
    row = session.exec(
        select(RewardReport, Member.slack_user_id)
        .join(Member, col(Member.id) == col(RewardReport.reporter_id))
        .where(RewardReport.reward_id == reward_id)
    ).first()
    if row is None:
        return None
    report, reporter = row
    return Report(
        reward_id=report.reward_id,
        reporter=reporter,
        reason=report.reason,
        status=ReportStatus(report.status),
        decided_by=report.decided_by,
        decided_at=report.decided_at,
        created_at=report.created_at,
    )


def report_reward(
    session: Session, *, reward: RewardDetails, reporter: Member, reason: str
) -> tuple[Report, bool]:
    """Record the report (open), audited; (the report, True) when this call made it, or (the
    one there already, False): one report per reward, whoever and however often."""
    audit.lock_chain(session)  # reporters of one reward one at a time (PostgreSQL)
    there = report_of(session, reward_id=reward.id)
    if there is not None:
        return there, False
    session.add(
        RewardReport(
            reward_id=reward.id,
            reporter_id=reporter.id or 0,
            reason=reason,
            status=ReportStatus.OPEN.value,
            created_at=utcnow(),
        )
    )
    session.flush()
    audit.append(
        session,
        actor=reporter.slack_user_id,
        action=AuditAction.REWARD_REPORTED,
        subject_type="reward",
        subject_id=reward.short_id,
        after={"status": ReportStatus.OPEN.value},
        reason=reason,
    )
    found = report_of(session, reward_id=reward.id)
    assert found is not None
    return found, True


def decide_report(
    session: Session, *, reward: RewardDetails, to: ReportStatus, actor: str, reason: str
) -> bool:
    """open → `to` (restored or cancelled) by `actor`, audited with why; False when the report
    was not open (decided already, or none)."""
    now = utcnow()
    moved = session.execute(
        update(RewardReport)
        .where(col(RewardReport.reward_id) == reward.id)
        .where(col(RewardReport.status) == ReportStatus.OPEN.value)
        .values(status=to.value, decided_by=actor, decided_at=now)
    ).rowcount  # type: ignore[attr-defined]
    if moved != 1:
        return False
    audit.append(
        session,
        actor=actor,
        action=AuditAction.REPORT_DECIDED,
        subject_type="reward",
        subject_id=reward.short_id,
        before={"status": ReportStatus.OPEN.value},
        after={"status": to.value},
        reason=reason,
    )
    return True
