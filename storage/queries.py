"""Reports for the bot: totals, leaderboards, allowance used, reminders, history.

Points "given in a period" are points delivered: recipients whose outcome is `sent` and whose
`sent_at` falls in [since, until). A reward cancelled later drops out (its recipients become
`cancelled`); a recipient Plum refused in an otherwise sent reward does not count. Period totals
read reward_recipients alone through its (outcome, sent_at) index; every query here is served by
an index of the migrations (timed on a million rewards by benchmarks/ledger_queries.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func
from sqlmodel import Session, col, select

from storage._sql import member_id
from storage.models import BulkRow, Member, Reward, RewardRecipient, RewardReport, RewardValue
from storage.reward_views import RewardDetails, load_details
from storage.states import (
    COUNTS_TOWARDS_ALLOWANCE,
    RecipientOutcome,
    ReportStatus,
    RewardStatus,
)
from storage.types import utcnow

S = RewardStatus
RR = RewardRecipient


@dataclass(frozen=True, slots=True)
class MemberRef:
    """A member as reports show them (plain values: cheap for thousands of rows)."""

    id: int
    team_id: str
    slack_user_id: str
    email: str | None
    display_name: str
    real_name: str
    tz: str | None
    role: str
    active: bool

    @property
    def name(self) -> str:
        return self.display_name or self.real_name or self.slack_user_id


_REF_COLUMNS = (
    Member.id,
    Member.team_id,
    Member.slack_user_id,
    Member.email,
    Member.display_name,
    Member.real_name,
    Member.tz,
    Member.role,
    Member.active,
)


@dataclass(frozen=True, slots=True)
class MemberTotal:
    member: MemberRef
    points: int
    rewards: int


@dataclass(frozen=True, slots=True)
class Total:
    key: str | None  # a value (#hashtag) or a channel id
    points: int
    rewards: int


@dataclass(frozen=True, slots=True)
class Leaderboard:
    recipients: list[MemberTotal]
    givers: list[MemberTotal]


@dataclass(frozen=True, slots=True)
class PeriodSummary:
    points: int
    rewards: int
    recipients: int  # people recognised
    givers: int


@dataclass(frozen=True, slots=True)
class ExpiringPoints:
    recipient_id: int
    reward_id: int
    short_id: str
    member: Member
    points: int | Decimal  # points in the bot: what is left of them (may be fractional)
    expires_on: date


@dataclass(frozen=True, slots=True)
class RecentRewards:
    given: list[RewardDetails]
    received: list[RewardDetails]


def _delivered(since: datetime, until: datetime) -> Any:
    """WHERE clause: recipients' points delivered in [since, until), of rewards not reported
    (an open report keeps a reward out until an admin decides)."""
    _aware(since, until)
    return (
        (RR.outcome == RecipientOutcome.SENT.value)
        & (RR.sent_at >= since)  # type: ignore[operator]
        & (RR.sent_at < until)  # type: ignore[operator]
        & col(RR.reward_id).not_in(reported_rewards())
    )


def reported_rewards() -> Any:
    """The ids of rewards reported and not yet decided: out of every ranking and summary."""
    return select(RewardReport.reward_id).where(RewardReport.status == ReportStatus.OPEN.value)


def _aware(*moments: datetime) -> None:
    for moment in moments:
        if moment.tzinfo is None:
            raise ValueError("pass timezone-aware datetimes")


def _totals(
    session: Session,
    key: Any,
    *,
    since: datetime,
    until: datetime,
    limit: int | None,
    join_values: bool = False,
) -> list[tuple[Any, int, int]]:
    """(key, points, rewards) per key over points delivered in the period, most points first."""
    points = func.sum(RR.points)
    query = select(key, points, func.count(func.distinct(RR.reward_id))).select_from(RR)
    if join_values:
        query = query.join(RewardValue, RewardValue.reward_id == RR.reward_id)  # type: ignore[arg-type]
    query = query.where(_delivered(since, until)).group_by(key).order_by(points.desc(), key)
    if limit is not None:
        query = query.limit(limit)
    return [(r[0], int(r[1]), int(r[2])) for r in session.exec(query).all()]


def _member_totals(
    session: Session,
    key: Any,
    *,
    since: datetime,
    until: datetime,
    limit: int | None,
    people_only: bool = False,
) -> list[MemberTotal]:
    points = func.sum(RR.points).label("points")
    delivered = _delivered(since, until)
    if people_only:  # a bulk file's rows are the company's, not the admin's own giving
        delivered = delivered & col(RR.reward_id).not_in(select(BulkRow.reward_id))
    totals = (
        select(key.label("member_id"), points, func.count(func.distinct(RR.reward_id)).label("n"))
        .where(delivered)
        .group_by(key)
        .subquery()
    )
    query = (
        select(*_REF_COLUMNS, totals.c.points, totals.c.n)  # type: ignore[call-overload]
        .join(totals, totals.c.member_id == Member.id)
        .order_by(totals.c.points.desc(), totals.c.member_id)
    )
    if people_only:
        query = query.where(col(Member.is_bot).is_(False))
    if limit is not None:
        query = query.limit(limit)
    return [
        MemberTotal(member=MemberRef(*row[:-2]), points=int(row[-2]), rewards=int(row[-1]))
        for row in session.exec(query).all()
    ]


def totals_by_recipient(
    session: Session, *, since: datetime, until: datetime, limit: int | None = None
) -> list[MemberTotal]:
    """Points received per member in [since, until), most first."""
    return _member_totals(session, RR.member_id, since=since, until=until, limit=limit)


def totals_by_giver(
    session: Session, *, since: datetime, until: datetime, limit: int | None = None
) -> list[MemberTotal]:
    """Points given per member in [since, until), most first. The bot itself is left out: what
    it gives is the company's (celebrations), not a person's giving; so are the rows of an
    admin's bulk file."""
    return _member_totals(
        session, RR.giver_id, since=since, until=until, limit=limit, people_only=True
    )


def totals_by_value(
    session: Session, *, since: datetime, until: datetime, limit: int | None = None
) -> list[Total]:
    """Points per company value (#hashtag) in [since, until), most first."""
    rows = _totals(
        session, RewardValue.value, since=since, until=until, limit=limit, join_values=True
    )
    return [Total(key=k, points=p, rewards=n) for k, p, n in rows]


def totals_by_channel(
    session: Session, *, since: datetime, until: datetime, limit: int | None = None
) -> list[Total]:
    """Points per Slack channel the rewards were given in (None: no channel), most first."""
    rows = _totals(session, RR.channel_id, since=since, until=until, limit=limit)
    return [Total(key=k, points=p, rewards=n) for k, p, n in rows]


def leaderboard(
    session: Session, *, since: datetime, until: datetime, limit: int = 10
) -> Leaderboard:
    """Top recipients and top givers by points delivered in [since, until)."""
    return Leaderboard(
        recipients=totals_by_recipient(session, since=since, until=until, limit=limit),
        givers=totals_by_giver(session, since=since, until=until, limit=limit),
    )


def period_summary(session: Session, *, since: datetime, until: datetime) -> PeriodSummary:
    """Points delivered, rewards, people recognised and givers in [since, until)."""
    row = session.exec(
        select(
            func.coalesce(func.sum(RR.points), 0),
            func.count(func.distinct(RR.reward_id)),
            func.count(func.distinct(RR.member_id)),
        ).where(_delivered(since, until))
    ).one()
    givers = session.exec(  # people who gave: celebrations and bulk files are the company's
        select(func.count(func.distinct(RR.giver_id)))
        .join(Member, col(Member.id) == RR.giver_id)
        .where(_delivered(since, until))
        .where(col(Member.is_bot).is_(False))
        .where(col(RR.reward_id).not_in(select(BulkRow.reward_id)))
    ).one()
    return PeriodSummary(
        points=int(row[0]), rewards=int(row[1]), recipients=int(row[2]), givers=int(givers)
    )


def month_bounds(tz: str, *, now: datetime | None = None) -> tuple[datetime, datetime]:
    """[start, end) of the calendar month containing `now` in time zone `tz`, in UTC."""
    zone = ZoneInfo(tz)
    local = (now or utcnow()).astimezone(zone)
    start = datetime(local.year, local.month, 1, tzinfo=zone)
    end = (
        datetime(local.year + 1, 1, 1, tzinfo=zone)
        if local.month == 12
        else datetime(local.year, local.month + 1, 1, tzinfo=zone)
    )
    return start.astimezone(UTC), end.astimezone(UTC)


def given_this_month(
    session: Session, *, giver: Member | int, tz: str, now: datetime | None = None
) -> int:
    """Points the giver has committed this calendar month in `tz` (all recipients counted).

    Counts rewards pending approval, queued, sending, sent and in doubt; not rejected, failed,
    cancelled or expired ones.
    """
    return month_so_far(session, giver=giver, tz=tz, now=now)[0]


def month_so_far(
    session: Session, *, giver: Member | int, tz: str, now: datetime | None = None
) -> tuple[int, int]:
    """(points, rewards) the giver has committed this calendar month in `tz`, counted as
    `given_this_month` counts them."""
    start, end = month_bounds(tz, now=now)
    points, rewards = session.exec(
        select(func.coalesce(func.sum(Reward.total_points), 0), func.count())
        .where(Reward.giver_id == member_id(giver))
        .where(Reward.created_at >= start)
        .where(Reward.created_at < end)
        .where(Reward.status.in_([s.value for s in COUNTS_TOWARDS_ALLOWANCE]))  # type: ignore[attr-defined]
    ).one()
    return int(points), int(rewards)


def pending_approvals_older_than(
    session: Session, *, hours: float, now: datetime | None = None, limit: int = 500
) -> list[RewardDetails]:
    """Rewards waiting for approval for more than `hours`, oldest first."""
    cutoff = (now or utcnow()) - timedelta(hours=hours)
    rewards = session.exec(
        select(Reward)
        .where(Reward.status == S.PENDING_APPROVAL.value)
        .where(Reward.created_at < cutoff)
        .order_by(Reward.created_at, Reward.id)  # type: ignore[arg-type]
        .limit(limit)
    ).all()
    return load_details(session, list(rewards))


def expiring_points(
    session: Session,
    *,
    within_days: int,
    today: date | None = None,
    after: tuple[date, int] | None = None,
    limit: int = 1000,
) -> list[ExpiringPoints]:
    """Delivered points expiring between today and today + `within_days`, soonest first.

    Pages with `after=(last.expires_on, last.recipient_id)` of the previous page.
    """
    start = today or utcnow().date()
    query = (
        select(RR, Reward.short_id, Member)
        .join(Reward, Reward.id == RR.reward_id)  # type: ignore[arg-type]
        .join(Member, Member.id == RR.member_id)  # type: ignore[arg-type]
        .where(RR.outcome == RecipientOutcome.SENT.value)
        .where(RR.expires_on >= start)  # type: ignore[operator]
        .where(RR.expires_on <= start + timedelta(days=within_days))  # type: ignore[operator]
    )
    if after is not None:
        query = query.where(
            (RR.expires_on > after[0]) | ((RR.expires_on == after[0]) & (RR.id > after[1]))  # type: ignore[operator]
        )
    rows = session.exec(query.order_by(RR.expires_on, RR.id).limit(limit)).all()  # type: ignore[arg-type]
    return [
        ExpiringPoints(
            recipient_id=rr.id,  # type: ignore[arg-type]
            reward_id=rr.reward_id,
            short_id=short_id,
            member=member,
            points=rr.points,
            expires_on=rr.expires_on,  # type: ignore[arg-type]
        )
        for rr, short_id, member in rows
    ]


def rewards_in_doubt(session: Session, *, limit: int = 100) -> list[RewardDetails]:
    """Rewards whose delivery outcome is unknown, oldest first (an admin must settle them)."""
    rewards = session.exec(
        select(Reward)
        .where(Reward.status == S.IN_DOUBT.value)
        .order_by(Reward.created_at, Reward.id)  # type: ignore[arg-type]
        .limit(limit)
    ).all()
    return load_details(session, list(rewards))


# What a recipient was told of: points sent to them (and withdrawn later, which they hear too).
TOLD_RECIPIENT = (RecipientOutcome.SENT.value, RecipientOutcome.CANCELLED.value)


def recent_rewards(
    session: Session, *, member: Member | int, limit: int = 10, told_only: bool = False
) -> RecentRewards:
    """A member's last `limit` rewards given and received (any status), newest first. With
    `told_only`, the rewards received are only those they were told of (their points were
    sent), not ones waiting, failed, in doubt or never approved."""
    mid = member_id(member)
    given = session.exec(
        select(Reward)
        .where(Reward.giver_id == mid)
        .order_by(Reward.created_at.desc(), Reward.id.desc())  # type: ignore[attr-defined,union-attr]
        .limit(limit)
    ).all()
    mine = select(RR.reward_id).where(RR.member_id == mid)
    if told_only:
        mine = mine.where(RR.outcome.in_(TOLD_RECIPIENT))  # type: ignore[attr-defined]
    received_ids = session.exec(
        mine.order_by(RR.reward_id.desc()).limit(limit)  # type: ignore[attr-defined]
    ).all()
    received = (
        session.exec(
            select(Reward)
            .where(Reward.id.in_(list(received_ids)))  # type: ignore[union-attr]
            .order_by(Reward.id.desc())  # type: ignore[union-attr]
        ).all()
        if received_ids
        else []
    )
    return RecentRewards(
        given=load_details(session, list(given)), received=load_details(session, list(received))
    )
