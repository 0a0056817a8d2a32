"""Admins add or deduct points by hand, with a reason (`/reward adjust @person -50 reason`).

With points in the bot (StoreFront) an adjustment is a movement of its point ledger
(`storage.points.adjust`): added points are a lot of their own, with the rewards' expiry; a
deduction takes from the lots that expire first, and never more than the person has available
(refused with their balance). It is keyed on the Slack request, so a request Slack delivers
again, or one resumed after a crash, adjusts once; audited with who and why; the person sees
it in `/reward history` and their App Home; `points verify` counts it.

With points at Xoxoday the bot holds no balance: the command says where to change it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlmodel import Session

from bot.rewards import policy
from bot.rewards.admin import only_admins
from bot.rewards.cards import AdjustmentLine
from bot.rewards.commands import AdjustPoints
from bot.rewards.directory import Directory, DirectoryUnavailable, UnknownSlackUser
from bot.rewards.events import PointsAdjusted, Teller
from bot.rewards.refusal import Refusal
from bot.rewards.wording import mention, points
from bot.settings import Settings
from storage import clock
from storage import locks as lock_repo
from storage import members as member_repo
from storage import points as points_repo
from storage.db import Store
from storage.points import CENTS, PointsRefused, points_value
from storage.transitions import add_months

DOING = "add or deduct points"
AT_XOXODAY = (
    "Points live at Xoxoday in this workspace, so {who}'s balance is kept in Xoxoday's "
    "dashboard, not in the bot: an admin of your Xoxoday account adds or deducts points "
    "there. Nothing was changed here."
)


@dataclass(frozen=True, slots=True, kw_only=True)
class Adjusted:
    """What an adjustment did, for the admin: whose points, by how much, why, the balance
    after (points; a Decimal when not whole)."""

    member: str
    points: int
    reason: str
    balance: int | Decimal


class AdjustmentsService:
    def __init__(
        self,
        *,
        store: Store,
        people: Directory,
        settings: Settings,
        teller: Teller | None = None,
        today: Callable[[], date] = lambda: clock.now().date(),
    ) -> None:
        self._teller = teller
        self._store = store
        self._people = people
        self._settings = settings
        self._today = today

    def adjust(
        self, parsed: AdjustPoints, *, admin_id: str, team_id: str, request_key: str
    ) -> Adjusted | Refusal:
        """Add or deduct: what changed and the balance now, or why nothing did."""
        refused = only_admins(self._settings, admin_id, doing=DOING)
        if refused is not None:
            return refused
        who = mention(parsed.member)
        if not self._settings.storefront:
            return Refusal(AT_XOXODAY.format(who=who), code="points_at_xoxoday")
        if parsed.points > 0:  # adding points is giving: a locked admin gives nothing
            with self._store.read_session() as session:
                locked = policy.may_give(
                    locked=lock_repo.is_locked(session, slack_user_id=admin_id)
                )
            if locked is not None:
                return locked
        if parsed.points > 0 and parsed.member == admin_id:  # nobody pays themselves
            return Refusal(
                "You can't add points to yourself: ask another admin to do it. Nothing was "
                "changed.",
                code="self_adjustment",
            )
        try:
            profile = self._people.profile(parsed.member)
        except UnknownSlackUser:
            return Refusal(
                f"I can't find {who} in this workspace. Mention someone from the list Slack "
                "suggests."
            )
        except DirectoryUnavailable:
            return Refusal(
                "Slack isn't answering right now, so nothing was changed. Try again in a minute."
            )
        if profile.person.is_bot:
            return Refusal(f"{who} is a bot, so they have no points to adjust.")
        if parsed.points > 0 and profile.person.deleted:  # a deduction may still tidy up
            return Refusal(
                f"{who}'s Slack account is deactivated, so I can't add points to it. Nothing "
                "was changed.",
                code="deactivated",
            )
        today = self._today()
        expires_on = add_months(today, self._settings.REWARD_EXPIRY_MONTHS)
        try:
            with self._store.session() as session:
                member = self._people.member(session, profile, team_id=team_id)
                assert member.id is not None
                done = points_repo.adjust(
                    session,
                    member_id=member.id,
                    cents=parsed.points * CENTS,
                    reason=parsed.reason,
                    actor=admin_id,
                    request_key=request_key,
                    today=today,
                    expires_on=expires_on if parsed.points > 0 else None,
                )
        except PointsRefused as err:
            if err.code != "insufficient_points":
                return Refusal(f"I couldn't adjust {who}'s points: {err.text}")
            have = self.available(member_id=parsed.member)
            return Refusal(
                f"{who} has {points(have)} available, so I can't deduct "
                f"{points(-parsed.points)}: a balance never goes below zero. Nothing was "
                f"changed; you can deduct up to {points(have)}."
                if have
                else f"{who} has no points available, so there is nothing to deduct. Nothing "
                "was changed.",
                code="insufficient_points",
            )
        adjusted = Adjusted(
            member=parsed.member,
            points=done.cents // CENTS,
            reason=parsed.reason,
            balance=points_value(done.balance_after),
        )
        if self._teller is not None:  # told once per adjustment, however often it is resumed
            self._teller.tell(
                PointsAdjusted(
                    user_id=parsed.member,
                    points=adjusted.points,
                    reason=parsed.reason,
                    admin_id=admin_id,
                    balance=adjusted.balance,
                    key=request_key,
                    repeat=done.repeat,
                )
            )
        return adjusted

    def available(self, *, member_id: str) -> int | Decimal:
        """The person's available points now (whole, or a Decimal)."""
        with self._store.read_session() as session:
            member = member_repo.get_member_by_slack_id(session, slack_user_id=member_id)
            if member is None or member.id is None:
                return 0
            cents = points_repo.balance(session, member_id=member.id, today=self._today()).available
        return points_value(cents)


def recent_lines(
    session: Session, *, member_id: int, limit: int = 10
) -> tuple[AdjustmentLine, ...]:
    """A person's latest adjustments, newest first, for their history and App Home."""
    rows = points_repo.recent_adjustments(session, member_id=member_id, limit=limit)
    return tuple(
        AdjustmentLine(points=points_value(r.cents), reason=r.reason, by=r.actor, at=r.created_at)
        for r in rows
    )
