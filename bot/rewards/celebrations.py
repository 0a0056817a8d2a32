"""Celebrations: birthdays, work anniversaries and new-hire welcomes, paid by the company.

- **Dates** come from a CSV an admin imports (`rewardbot people import FILE`,
  `bot.rewards.people_import`): rejected whole when a row is wrong, else every row added or
  updated. A person named by email is matched to Slack (`users.lookupByEmail`) when they are
  celebrated, not at import, so a file can be imported before people join Slack or before
  the bot is installed; someone Slack doesn't know then is skipped (and counted) that run.
- **Rules** are `policy`'s: the occasions of a year, a weekend one on the Friday before,
  sent from 09:00 in the person's Slack time zone (else REWARD_TIMEZONE), a few days' catch-up.
- **Paying** is an ordinary reward (source `celebration`): its giver is the bot's own Slack
  user, so nobody's allowance pays; delivery pays it as any reward (sendBalance, or a credit of
  the bot's point ledger), the recipient's DM and the announcement in
  REWARD_CELEBRATION_CHANNEL say the occasion (`bot.slack.blocks.celebrations`). The reward and
  its celebration row (unique per person, kind and year) are written in one transaction, with
  the person's opt-out read in it: a celebration is paid once however many processes run the
  job, and however often it is rerun after a crash.
- **Opting out**: `/reward celebrations off` (and `on`); an opted-out person gets nothing and is
  not announced.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.rewards import policy
from bot.rewards.admin import only_admins
from bot.rewards.directory import Directory, DirectoryUnavailable, Profile, UnknownSlackUser
from bot.rewards.people_import import PeopleFile, parse_birthday, parse_start, read_people
from bot.rewards.policy import CelebrationAmounts, Due
from bot.rewards.refusal import Refusal
from bot.settings import Settings
from storage import celebrations as repo
from storage import clock
from storage import rewards as reward_repo
from storage.db import Store
from storage.errors import StorageError
from storage.models import CelebrationPerson
from storage.states import RewardSource, RewardStatus

log = logging.getLogger(__name__)

UPCOMING_DAYS = 30
# A run looks at occasions celebrated between these many days before and after today (UTC):
# every time zone's today, and the catch-up days, fall within.
LOOK_BACK = policy.CELEBRATION_CATCH_UP_DAYS + 1
LOOK_AHEAD = 1


def _earliest_nine(on: date) -> datetime:
    """When it is first CELEBRATION_HOUR on day `on` anywhere (UTC+14, Kiribati)."""
    return datetime.combine(on, time(policy.CELEBRATION_HOUR), tzinfo=UTC) - timedelta(hours=14)


class CelebrationDirectory(Directory, Protocol):
    """The directory, and what celebrations need besides: a person by email, and the bot's own
    Slack user (the giver of what the company pays)."""

    def by_email(self, email: str) -> Profile | None:
        """The Slack profile with this email; None when Slack has nobody with it. Raises
        DirectoryUnavailable when Slack can't say."""
        ...

    def bot_profile(self) -> Profile:
        """The bot's own Slack user. Raises DirectoryUnavailable when Slack can't say."""
        ...

    def people_ids(self) -> list[str]:
        """Everyone in the workspace who is a person. Raises DirectoryUnavailable."""
        ...

    def profile_fields(self, user_id: str) -> dict[str, str]:
        """A person's custom profile fields, field id → value. Raises UnknownSlackUser or
        DirectoryUnavailable."""
        ...


@dataclass(frozen=True, slots=True)
class ImportResult:
    """An import: the file's problems (nothing stored), or how many people were added and
    updated."""

    file: PeopleFile
    added: int = 0
    updated: int = 0


@dataclass(slots=True)
class CelebrationRun:
    """What one run did, counted."""

    sent: int = 0
    already: int = 0
    opted_out: int = 0
    not_in_slack: int = 0
    unavailable: int = 0
    inactive: int = 0
    failed: int = 0  # the ledger refused: logged, and tried again at the next run
    kinds: dict[str, int] = field(default_factory=dict)

    def summary(self) -> str:
        parts = [f"{self.sent} celebration(s) sent"]
        if self.kinds:
            parts[0] += " (" + ", ".join(f"{n} {k}" for k, n in sorted(self.kinds.items())) + ")"
        for count, what in (
            (self.already, "already sent"),
            (self.opted_out, "opted out"),
            (self.not_in_slack, "not found in Slack"),
            (self.inactive, "deactivated or bots"),
            (self.unavailable, "not looked up: Slack didn't answer"),
            (self.failed, "failed (see the log; tried again next run)"),
        ):
            if count:
                parts.append(f"{count} {what}")
        return "; ".join(parts)


@dataclass(frozen=True, slots=True)
class ProfileDates:
    """Dates read from someone's Slack profile fields (None: the field is empty there)."""

    slack_user_id: str
    email: str | None
    birthday: tuple[int, int] | None
    start_date: date | None


@dataclass(slots=True)
class ProfilesRead:
    """What reading the profile fields did, counted."""

    people: int = 0
    with_dates: int = 0
    added: int = 0
    updated: int = 0
    unreadable: int = 0  # a value that is not a date: left as it was
    unavailable: int = 0

    def summary(self) -> str:
        parts = [
            f"{self.people} profile(s) read, {self.with_dates} with dates: {self.added} added, "
            f"{self.updated} updated"
        ]
        if self.unreadable:
            parts.append(f"{self.unreadable} value(s) that aren't dates left as they were")
        if self.unavailable:
            parts.append(f"{self.unavailable} not read: Slack didn't answer")
        return "; ".join(parts)


@dataclass(frozen=True, slots=True)
class Upcoming:
    """One celebration in the next days, for `/reward celebrations`: who (a Slack id, or the
    imported email when they aren't matched yet), what, the day it is sent, its points."""

    who: str
    matched: bool
    kind: policy.Occasion
    on: date
    points: int
    years: int | None
    opted_out: bool


@dataclass(frozen=True, slots=True)
class MyCelebrations:
    """What a member sees: whether they are celebrated, and whether the bot has dates for
    them (never the dates' years)."""

    celebrated: bool
    has_dates: bool
    changed: bool = False
    active: bool = True  # False: no kind has points in this workspace


def import_file(store: Store, data: bytes, *, actor: str, today: date) -> ImportResult:
    """`rewardbot people import FILE`: the file read whole; when every row is good, everyone
    added or updated in one transaction (audited with the counts), else nothing stored."""
    read = read_people(data, today=today)
    if not read.ok:
        return ImportResult(file=read)
    with store.session() as session:
        done = repo.import_people(session, read.people, actor=actor)
    log.info("people imported by %s: %d added, %d updated", actor, done.added, done.updated)
    return ImportResult(file=read, added=done.added, updated=done.updated)


class CelebrationService:
    def __init__(
        self,
        *,
        store: Store,
        people: CelebrationDirectory,
        settings: Settings,
        on_queued: Callable[[], None] = lambda: None,
        now: Callable[[], datetime] = clock.now,
    ) -> None:
        self._store = store
        self._people = people
        self._settings = settings
        self._amounts = CelebrationAmounts.from_settings(settings)
        self._on_queued = on_queued
        self._now = now

    @property
    def amounts(self) -> CelebrationAmounts:
        return self._amounts

    # ── the file ─────────────────────────────────────────────────────────────────────────

    def import_file(self, data: bytes, *, actor: str) -> ImportResult:
        """Read the file; when every row is good, add or update everyone (audited)."""
        return import_file(self._store, data, actor=actor, today=self._now().date())

    # ── the job ──────────────────────────────────────────────────────────────────────────

    def run_due(self) -> CelebrationRun:
        """Pay every celebration due now (see the module doc); each once."""
        run = CelebrationRun()
        if not self._amounts.any:
            return run
        now = self._now()
        with self._store.read_session() as session:
            rows = repo.people(session)
            opted = repo.opted_out_ids(session)
        candidates = [(row, due) for row in rows for due in self._occasions_near(row, now.date())]
        if not candidates:
            return run
        company: Profile | None = None  # the bot's own user, once something is paid
        with self._store.read_session() as session:  # paid before: no Slack call for them
            members = repo.member_ids_by_slack_id(
                session, {row.slack_user_id for row, _ in candidates if row.slack_user_id}
            )
            paid = repo.paid(
                session, member_ids=members.values(), years={due.year for _, due in candidates}
            )
        profiles: dict[int, Profile | None] = {}
        for row, due in candidates:
            assert row.id is not None
            if row.slack_user_id in opted:
                run.opted_out += 1
                continue
            known = members.get(row.slack_user_id or "")
            if known is not None and (known, due.kind.value, due.year) in paid:
                run.already += 1
                continue
            if now < _earliest_nine(due.on):  # not 09:00 there anywhere yet: no Slack call
                continue
            if row.id not in profiles:
                try:
                    profiles[row.id] = self._profile_of(row)
                except DirectoryUnavailable:
                    run.unavailable += 1
                    continue
            profile = profiles[row.id]
            if profile is None:
                run.not_in_slack += 1
                continue
            if profile.person.user_id in opted:
                run.opted_out += 1
                continue
            if profile.person.is_bot or profile.person.deleted:
                run.inactive += 1
                continue
            if not policy.celebration_due(due.on, now.astimezone(self._zone(profile))):
                continue
            if company is None:
                try:
                    company = self._people.bot_profile()
                except DirectoryUnavailable:
                    run.unavailable += 1
                    continue
            try:
                outcome = self._pay(profile, due, company=company)
            except Exception:  # one person's trouble stops nobody else's celebration
                log.exception(
                    "celebration %s of %s could not be paid", due.kind.value, row.slack_user_id
                )
                run.failed += 1
                continue
            if outcome == "sent":
                run.sent += 1
                run.kinds[due.kind.value] = run.kinds.get(due.kind.value, 0) + 1
            elif outcome == "opted out":
                run.opted_out += 1
            else:
                run.already += 1
        if run.sent:
            self._on_queued()
        return run

    def _occasions_near(self, row: CelebrationPerson, today: date) -> list[Due]:
        birthday = (
            (row.birth_month, row.birth_day)
            if row.birth_month is not None and row.birth_day is not None
            else None
        )
        found = []
        for year in (today.year - 1, today.year, today.year + 1):
            for due in policy.occasions_in(
                year, birthday=birthday, start=row.start_date, amounts=self._amounts
            ):
                if -LOOK_BACK <= (due.on - today).days <= LOOK_AHEAD:
                    found.append(due)
        return found

    def _profile_of(self, row: CelebrationPerson) -> Profile | None:
        """The person's Slack profile (by id, else by email: the id found is kept), or None."""
        if row.slack_user_id:
            try:
                return self._people.profile(row.slack_user_id)
            except UnknownSlackUser:
                return None
        if not row.email:
            return None
        found = self._people.by_email(row.email)
        if found is not None and row.id is not None:
            with self._store.session() as session:
                repo.remember_slack_id(
                    session, person_id=row.id, slack_user_id=found.person.user_id
                )
        return found

    def _zone(self, profile: Profile) -> ZoneInfo:
        for name in (profile.person.tz, self._settings.REWARD_TIMEZONE):
            if name:
                try:
                    return ZoneInfo(name)
                except (ZoneInfoNotFoundError, ValueError):
                    continue
        return ZoneInfo("UTC")

    def _pay(self, profile: Profile, due: Due, *, company: Profile) -> str:
        """One celebration's reward and its row, in one transaction: "sent", "opted out", or
        "already" (paid before, by this process or another)."""
        channel = self._settings.REWARD_CELEBRATION_CHANNEL
        with self._store.session() as session:
            if repo.opted_out_before_paying(session, slack_user_id=profile.person.user_id):
                return "opted out"  # said `off` since the run began
            giver = self._people.member(session, company, team_id=profile.team_id)
            member = self._people.member(session, profile, team_id=profile.team_id)
            assert member.id is not None
            created = reward_repo.create_reward(
                session,
                giver=giver,
                recipients=[(member, due.points)],
                citation=policy.celebration_reason(due),
                idempotency_key=f"celebration:{member.id}:{due.kind.value}:{due.year}",
                source=RewardSource.CELEBRATION,
                channel_id=channel,
                public=channel is not None,
                status=RewardStatus.QUEUED,
                expiry_months=self._settings.REWARD_EXPIRY_MONTHS,
            )
            if not created.created:
                return "already"
            if not repo.claim(
                session,
                member_id=member.id,
                kind=due.kind.value,
                year=due.year,
                reward_id=created.reward.id,
            ):  # a row without its reward's key: never pay beside it
                raise StorageError(f"celebration {due.kind} {due.year} is claimed twice")
        log.info(
            "celebration %s sent to %s: %d points (reward %s)",
            due.kind.value,
            profile.person.user_id,
            due.points,
            created.reward.short_id,
            extra={"reward_id": created.reward.short_id},
        )
        return "sent"

    # ── Slack profile fields ─────────────────────────────────────────────────────────────

    def read_profiles(self) -> ProfilesRead:
        """REWARD_CELEBRATION_PROFILE_FIELDS: everyone's custom fields read, and their dates
        added or updated (a field empty in Slack leaves what the bot has; a value that isn't a
        date is counted and left). Audited as an import by `slack-profiles`."""
        fields = self._settings.REWARD_CELEBRATION_PROFILE_FIELDS
        done = ProfilesRead()
        if not fields:
            return done
        today = self._now().date()
        try:
            ids = self._people.people_ids()
        except DirectoryUnavailable:
            done.unavailable += 1
            return done
        found: list[ProfileDates] = []
        for user_id in ids:
            done.people += 1
            try:
                values = self._people.profile_fields(user_id)
            except UnknownSlackUser:
                continue
            except DirectoryUnavailable:
                done.unavailable += 1
                continue
            birthday: tuple[int, int] | None = None
            start: date | None = None
            raw = values.get(fields.get("birthday", ""), "").strip()
            if raw:
                read = parse_birthday(raw)
                if isinstance(read, str):
                    done.unreadable += 1
                else:
                    birthday = read
            raw = values.get(fields.get("start_date", ""), "").strip()
            if raw:
                began = parse_start(raw, today=today)
                if isinstance(began, str):
                    done.unreadable += 1
                else:
                    start = began
            if birthday is not None or start is not None:
                found.append(ProfileDates(user_id, None, birthday, start))
        done.with_dates = len(found)
        if found:
            with self._store.session() as session:
                merged = repo.import_people(session, found, actor="slack-profiles", keep=True)
            done.added, done.updated = merged.added, merged.updated
        return done

    # ── what people see ──────────────────────────────────────────────────────────────────

    def upcoming(self, *, admin_id: str, days: int = UPCOMING_DAYS) -> list[Upcoming] | Refusal:
        """Admins: the celebrations of the next `days` days (today's included), by day."""
        refused = only_admins(self._settings, admin_id, doing="see the coming celebrations")
        if refused is not None:
            return refused
        today = self._now().date()
        with self._store.read_session() as session:
            rows = repo.people(session)
            opted = repo.opted_out_ids(session)
        found: list[Upcoming] = []
        for row in rows:
            birthday = (
                (row.birth_month, row.birth_day)
                if row.birth_month is not None and row.birth_day is not None
                else None
            )
            for year in (today.year, today.year + 1):
                for due in policy.occasions_in(
                    year, birthday=birthday, start=row.start_date, amounts=self._amounts
                ):
                    if 0 <= (due.on - today).days < days:
                        found.append(
                            Upcoming(
                                who=row.slack_user_id or row.email or "?",
                                matched=row.slack_user_id is not None,
                                kind=due.kind,
                                on=due.on,
                                points=due.points,
                                years=due.years,
                                opted_out=row.slack_user_id in opted,
                            )
                        )
        return sorted(found, key=lambda u: (u.on, u.kind.value, u.who))

    def mine(self, user_id: str) -> MyCelebrations:
        email = self._email_of(user_id)
        with self._store.read_session() as session:
            out = repo.opted_out(session, slack_user_id=user_id)
            dates = repo.dates_of(session, slack_user_id=user_id, email=email)
        return MyCelebrations(
            celebrated=not out, has_dates=dates is not None, active=self._amounts.any
        )

    def choose(self, user_id: str, *, celebrate: bool) -> MyCelebrations:
        """`/reward celebrations on|off`: audited when it changes something."""
        email = self._email_of(user_id)
        with self._store.session() as session:
            changed = repo.choose(session, slack_user_id=user_id, celebrate=celebrate)
            dates = repo.dates_of(session, slack_user_id=user_id, email=email)
        return MyCelebrations(
            celebrated=celebrate,
            has_dates=dates is not None,
            changed=changed,
            active=self._amounts.any,
        )

    def _email_of(self, user_id: str) -> str | None:
        """Their email in Slack, to find dates imported by email (None: by Slack id only)."""
        with suppress(UnknownSlackUser, DirectoryUnavailable):
            return self._people.profile(user_id).person.email
        return None
