"""Allowances per person or user group on top of the default (`/reward allowance`,
`/reward allowances`; admins only), and what each giver may give this month.

A giver's monthly allowance is `policy.base_allowance` (their own, else the largest of their
user groups', else `REWARD_ALLOWANCE`) plus, with `REWARD_ALLOWANCE_CARRYOVER_MAX`, what they
left unspent of last month (`policy.carried_over`, counted against their base allowance as it is
set now). The month is the one every rule counts (`policy.month_start` in `REWARD_TIMEZONE`).
Who is in a user group is asked of Slack (`GroupDirectory`, which caches each group's members
for a few minutes), and only for groups an admin set an allowance for, only for givers without
their own.

Setting and removing an allowance are audited (`storage.allowances`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session

from bot.rewards import policy
from bot.rewards.admin import only_admins
from bot.rewards.commands import SetAllowance
from bot.rewards.directory import (
    Directory,
    DirectoryUnavailable,
    GroupDirectory,
    GroupsNotAllowed,
    UnknownGroup,
    UnknownSlackUser,
    role_for,
)
from bot.rewards.refusal import Refusal
from bot.rewards.wording import format_date, mention, points, safe_mrkdwn
from bot.settings import Settings
from storage import allowances as allowance_repo
from storage import clock, queries
from storage import members as member_repo
from storage.db import Store
from storage.models import Member
from storage.states import Role

log = logging.getLogger(__name__)

SLACK_DOWN = "Slack isn't answering right now. Try again in a minute."


@dataclass(frozen=True, slots=True)
class GiverBudget:
    """One giver's month: what they may give (0 = no limit), where it comes from, what they
    have given."""

    allowance: int  # base + carried; 0 = no limit
    base: int
    carried: int = 0
    source: str = "default"  # "own", "group" (then `group` is its handle), "default", "admin"
    group: str = ""
    given: int = 0
    is_admin: bool = False

    @property
    def left(self) -> int | None:
        return policy.allowance_left(
            self.allowance, given_this_month=self.given, is_admin=self.is_admin
        )


@dataclass(frozen=True, slots=True)
class AllowanceLine:
    """One allowance set, for `/reward allowances`."""

    kind: str  # "person" or "group"
    slack_id: str
    label: str
    points: int
    set_by: str
    set_at: datetime


@dataclass(frozen=True, slots=True)
class AllowanceList:
    default: int
    carryover_max: int
    lines: tuple[AllowanceLine, ...]


class Budgets:
    def __init__(
        self,
        *,
        store: Store,
        settings: Settings,
        groups: GroupDirectory | None = None,
        people: Directory | None = None,
        now: Callable[[], datetime] = clock.now,
    ) -> None:
        self._store = store
        self._settings = settings
        self._groups = groups
        self._people = people
        self._now = now
        self._tz = settings.REWARD_TIMEZONE

    # ── what a giver may give ─────────────────────────────────────────────────────────────

    def of(
        self, session: Session, *, user_id: str, member: Member | int | None, now: datetime
    ) -> GiverBudget:
        """`user_id`'s month (`member`: their ledger row, None when the ledger never saw
        them). Raises DirectoryUnavailable when Slack can't say who is in a user group whose
        allowance could be theirs."""
        is_admin = role_for(self._settings, user_id) == Role.ADMIN
        if is_admin:  # exempt: no limit, whatever is set for them or their groups
            return GiverBudget(allowance=0, base=0, source="admin", is_admin=True)
        rows = allowance_repo.allowances_for(session, slack_user_id=user_id)  # one read
        own = next((r for r in rows if r.kind == allowance_repo.PERSON), None)
        source, group_label, group_points = "default", "", []
        if own is not None:
            source = "own"
        else:
            best = None
            for row in sorted(rows, key=lambda r: r.slack_id):
                if row.kind == allowance_repo.GROUP and self._in_group(row.slack_id, user_id):
                    group_points.append(row.points)
                    if best is None or row.points > best.points:
                        best = row
            if best is not None:
                source, group_label = "group", best.label or f"@{best.slack_id}"
        base = policy.base_allowance(
            default=self._settings.REWARD_ALLOWANCE,
            own=own.points if own is not None else None,
            groups=group_points,
        )
        if not base or member is None:
            return GiverBudget(allowance=base, base=base, source=source, group=group_label)
        given = queries.given_this_month(session, giver=member, tz=self._tz, now=now)
        carried = 0
        if self._settings.REWARD_ALLOWANCE_CARRYOVER_MAX and self._known_before(
            session, member, policy.month_start(now, self._tz)
        ):
            last_month = policy.month_start(now, self._tz) - timedelta(seconds=1)
            carried = policy.carried_over(
                last_allowance=base,
                given_last_month=queries.given_this_month(
                    session, giver=member, tz=self._tz, now=last_month
                ),
                cap=self._settings.REWARD_ALLOWANCE_CARRYOVER_MAX,
            )
        return GiverBudget(
            allowance=policy.monthly_allowance(base=base, carried=carried),
            base=base,
            carried=carried,
            source=source,
            group=group_label,
            given=given,
        )

    @staticmethod
    def _known_before(session: Session, member: Member | int, start: datetime) -> bool:
        """Whether the ledger knew this giver before the month began: someone new this month
        left nothing unspent last month (they carry nothing over)."""
        row = session.get(Member, member) if isinstance(member, int) else member
        return row is not None and row.created_at < start

    def read(self, user_id: str, *, now: datetime | None = None) -> GiverBudget:
        """`of`, in a read session of its own."""
        with self._store.read_session() as session:
            member = member_repo.get_member_by_slack_id(session, slack_user_id=user_id)
            return self.of(session, user_id=user_id, member=member, now=now or self._now())

    def allowance_of(self) -> Callable[[str], int]:
        """A giver's base monthly allowance by Slack id (their own, else their groups', else
        the default; admins too: what the flag rules weigh giving against), each read once
        per call of this; the default when Slack can't say who is in a group."""
        known: dict[str, int] = {}

        def base(user_id: str) -> int:
            if user_id not in known:
                known[user_id] = self._base(user_id)
            return known[user_id]

        return base

    def _base(self, user_id: str) -> int:
        default = self._settings.REWARD_ALLOWANCE
        try:
            with self._store.read_session() as session:
                rows = allowance_repo.allowances_for(session, slack_user_id=user_id)
            own = next((r for r in rows if r.kind == allowance_repo.PERSON), None)
            rows = [] if own is not None else rows
            groups = [
                r.points
                for r in rows
                if r.kind == allowance_repo.GROUP and self._in_group(r.slack_id, user_id)
            ]
        except DirectoryUnavailable:
            log.warning("could not read %s's user groups: the default allowance", user_id)
            return default
        return policy.base_allowance(
            default=default, own=own.points if own is not None else None, groups=groups
        )

    def _in_group(self, group_id: str, user_id: str) -> bool:
        if self._groups is None:
            return False
        try:
            return user_id in self._groups.members(group_id)
        except UnknownGroup:  # deleted in Slack since: its allowance is no one's
            log.info("user group %s of an allowance is gone from Slack", group_id)
            return False

    # ── admins ────────────────────────────────────────────────────────────────────────────

    def set(self, parsed: SetAllowance, *, admin_id: str) -> str | Refusal:
        """`/reward allowance @x N|default`: the sentence saying what changed, or why not."""
        refused = only_admins(self._settings, admin_id, doing="set allowances")
        if refused is not None:
            return refused
        target = self._target(parsed)
        if isinstance(target, Refusal):
            return target
        kind, slack_id, label, shown = target
        group = kind == allowance_repo.GROUP
        default = self._settings.REWARD_ALLOWANCE
        fallback = f"the default ({points(default)} a month)" if default else "no limit"
        with self._store.session() as session:
            if parsed.points is None:
                before = allowance_repo.remove_allowance(
                    session, kind=kind, slack_id=slack_id, actor=admin_id
                )
            else:
                _, before = allowance_repo.set_allowance(
                    session,
                    kind=kind,
                    slack_id=slack_id,
                    points=parsed.points,
                    actor=admin_id,
                    label=label,
                )
        if parsed.points is None:
            if before is None:
                whose = "its" if group else "their"
                return f"{shown} has no allowance of {whose} own, so nothing changed."
            if group:
                return (
                    f"✅ {shown}'s allowance of {points(before)} a month is removed: its members "
                    f"have {fallback}, unless they have their own or another group's."
                )
            return (
                f"✅ {shown}'s own allowance of {points(before)} a month is removed: they have "
                f"their user group's, or {fallback}."
            )
        if before == parsed.points:
            return f"{shown} already has {points(before)} a month. Nothing changed."
        was = f" (it was {points(before)})" if before is not None else ""
        if group:
            return (
                f"✅ Each member of {shown} may give *{points(parsed.points)}* a month from now "
                f"on, unless they have an allowance of their own{was}."
            )
        return f"✅ {shown} may give *{points(parsed.points)}* a month from now on{was}."

    def _target(self, parsed: SetAllowance) -> tuple[str, str, str, str] | Refusal:
        """(kind, Slack id, label, how it is shown) of the person or group named."""
        if parsed.group is not None:
            group = parsed.group
            if self._groups is None:
                return Refusal("I can't look up user groups here.")
            try:
                self._groups.members(group.group_id)
            except UnknownGroup:
                return Refusal(
                    f"I can't find the user group {safe_mrkdwn(group.shown)}. Pick it from the "
                    "list Slack suggests as you type `@`."
                )
            except GroupsNotAllowed:
                return Refusal(
                    "Slack doesn't let me see who is in user groups: update the app with "
                    "manifest.yml's scopes (it needs `usergroups:read`), then try again."
                )
            except DirectoryUnavailable:
                return Refusal(SLACK_DOWN)
            return allowance_repo.GROUP, group.group_id, group.handle, safe_mrkdwn(group.shown)
        user_id = parsed.person or ""
        if self._people is not None:
            try:
                profile = self._people.profile(user_id)
            except UnknownSlackUser:
                return Refusal(
                    f"I can't find {mention(user_id)} in this workspace. Mention someone from "
                    "the list Slack suggests."
                )
            except DirectoryUnavailable:
                return Refusal(SLACK_DOWN)
            if profile.person.is_bot:
                return Refusal(f"{mention(user_id)} is a bot, and bots don't give rewards.")
        return allowance_repo.PERSON, user_id, "", mention(user_id)

    def list(self, *, admin_id: str) -> AllowanceList | Refusal:
        refused = only_admins(self._settings, admin_id, doing="see the allowances")
        if refused is not None:
            return refused
        with self._store.read_session() as session:
            rows = allowance_repo.list_allowances(session)
        return AllowanceList(
            default=self._settings.REWARD_ALLOWANCE,
            carryover_max=self._settings.REWARD_ALLOWANCE_CARRYOVER_MAX,
            lines=tuple(
                AllowanceLine(
                    kind=r.kind,
                    slack_id=r.slack_id,
                    label=r.label,
                    points=r.points,
                    set_by=r.set_by,
                    set_at=r.set_at,
                )
                for r in rows
            ),
        )


def allowances_text(listed: AllowanceList) -> str:
    """`/reward allowances`, as one mrkdwn message."""
    default = (
        f"The default is *{points(listed.default)}* a month"
        if listed.default
        else "There is no default limit"
    )
    carry = (
        f"; up to {points(listed.carryover_max)} left unspent carries over to the next month"
        if listed.carryover_max
        else ""
    )
    head = f"{default}{carry}. Admins give without a limit."
    if not listed.lines:
        return (
            f"{head}\nNobody has an allowance of their own. Set one with "
            "`/reward allowance @design-team 2000` or `/reward allowance @maria 500`."
        )
    rows = []
    for line in listed.lines[:50]:
        who = (
            safe_mrkdwn(line.label or f"@{line.slack_id}")
            if line.kind == "group"
            else (mention(line.slack_id))
        )
        what = " (user group)" if line.kind == "group" else ""
        rows.append(
            f"• {who}{what}: *{points(line.points)}* a month, set by {mention(line.set_by)} "
            f"on {format_date(line.set_at.date())}"
        )
    more = f"\n…and {len(listed.lines) - 50} more." if len(listed.lines) > 50 else ""
    return f"{head}\n" + "\n".join(rows) + more
