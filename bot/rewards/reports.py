"""Reports (anyone, from a reward's announcement: a message shortcut) and the admins'
decisions on them.

A reported reward leaves the leaderboard, the weekly summary and every other ranking until an
admin decides (`storage.queries` leaves out rewards with an open report). The reward is found
through the bot's own record of the announcements it posted, never Slack's message history.
The admins each get a DM (`RewardReported`) with the reward, who reported it and why, and two
buttons: Restore (it counts again) or Cancel the reward, which goes the usual cancel path
(`CancelService`: its question with a confirm, then the recipients and giver told); that cancel
decides the report in the same transaction (`storage.rewards.cancel_reward`). One report per
reward; a second, a message that is not an announcement, a reward already cancelled and a
decision clicked twice each get one plain answer and change nothing. Every decision is audited
with who and why.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.rewards.admin import only_admins
from bot.rewards.cancel_service import CancelService
from bot.rewards.directory import Directory, DirectoryUnavailable, UnknownSlackUser
from bot.rewards.events import ReportDecided, RewardReported, Teller
from bot.rewards.refusal import Refusal
from bot.rewards.wording import mention
from bot.settings import Settings
from storage import reports as report_repo
from storage import rewards as reward_repo
from storage.db import Store
from storage.reports import Report
from storage.rewards import RewardDetails
from storage.states import ReportStatus, RewardStatus

DECIDING = "decide on reported rewards"
NOT_AN_ANNOUNCEMENT = (
    "That message isn't one of my reward announcements, so there's nothing to report. Use "
    "*Report this reward* on the message in which I announced the reward."
)
RESTORED_WHY = "kept after a report: it counts again"
CANCEL_WHY = "it was reported, and an admin decided it should not stand"


@dataclass(frozen=True, slots=True)
class Reported:
    reward: RewardDetails
    reason: str
    again: bool  # this reporter's own report, made before (a repeat, or resumed after a crash)


@dataclass(frozen=True, slots=True)
class Restored:
    reward: RewardDetails
    admin: str


class ReportService:
    def __init__(
        self,
        *,
        store: Store,
        people: Directory,
        settings: Settings,
        teller: Teller,
        cancels: CancelService,
    ) -> None:
        self._cancels = cancels
        self._store = store
        self._people = people
        self._settings = settings
        self._teller = teller

    def check(self, *, channel_id: str, message_ts: str) -> RewardDetails | Refusal:
        """Before the report form opens: the reward the message announces, or why it can't be
        reported."""
        with self._store.read_session() as session:
            reward = report_repo.announced_reward(
                session, channel_id=channel_id, message_ts=message_ts
            )
            report = report_repo.report_of(session, reward_id=reward.id) if reward else None
        if reward is None:
            return Refusal(NOT_AN_ANNOUNCEMENT, code="not_an_announcement")
        return self._refused(reward, report, reporter=None) or reward

    def report(
        self, *, reporter_id: str, team_id: str, channel_id: str, message_ts: str, reason: str
    ) -> Reported | Refusal:
        """Record the report (the reward leaves the rankings at once), or why not."""
        try:
            profile = self._people.profile(reporter_id)
        except (UnknownSlackUser, DirectoryUnavailable):
            return Refusal("I couldn't look you up in Slack just now. Please try again.")
        with self._store.session() as session:
            reward = report_repo.announced_reward(
                session, channel_id=channel_id, message_ts=message_ts
            )
            if reward is None:
                return Refusal(NOT_AN_ANNOUNCEMENT, code="not_an_announcement")
            there = report_repo.report_of(session, reward_id=reward.id)
            refused = self._refused(reward, there, reporter=reporter_id)
            if refused is not None:
                return refused
            if there is not None:  # their own, open: made before
                return Reported(reward=reward, reason=there.reason, again=True)
            reporter = self._people.member(session, profile, team_id=team_id)
            made, _ = report_repo.report_reward(
                session, reward=reward, reporter=reporter, reason=reason
            )
        if made.reporter != reporter_id:  # someone else's landed first
            return Refusal(_already_reported(reward), code="already_reported")
        return Reported(reward=reward, reason=reason, again=False)

    def tell_admins(self, reported: Reported, *, reporter_id: str) -> None:
        self._teller.tell(
            RewardReported(
                reward=reported.reward,
                reporter=reporter_id,
                reason=reported.reason,
                again=reported.again,
            )
        )

    def restore(self, *, admin_id: str, short_id: str) -> Restored | Refusal:
        """The admin keeps the reward: it counts again. A second click says who decided."""
        refused = only_admins(self._settings, admin_id, doing=DECIDING)
        if refused is not None:
            return refused
        with self._store.session() as session:
            reward = reward_repo.get_reward_by_short_id(session, short_id=short_id)
            if reward is None:
                return Refusal(f"I can't find a reward `{short_id[:40]}`.")
            concerned = {
                reward.giver.slack_user_id,
                *(r.member.slack_user_id for r in reward.recipients),
            }
            if admin_id in concerned:  # nobody keeps their own reported reward
                return Refusal(
                    f"Reward `{reward.short_id}` is yours (you gave or received it), so another "
                    "admin decides on its report. Nothing was changed.",
                    code="own_reward",
                    reward=reward,
                )
            moved = report_repo.decide_report(
                session,
                reward=reward,
                to=ReportStatus.RESTORED,
                actor=admin_id,
                reason=RESTORED_WHY,
            )
            report = report_repo.report_of(session, reward_id=reward.id)
        if not moved:
            return Refusal(_decided_text(reward, report), code="already_decided", reward=reward)
        self._teller.tell(ReportDecided(reward=reward, admin=admin_id))
        return Restored(reward=reward, admin=admin_id)

    def cancel_question(self, *, admin_id: str, short_id: str) -> RewardDetails | Refusal:
        """Before the cancel path asks its question: the reward, when its report still waits
        and the cancel service would cancel it now (else why not, in its words)."""
        refused = only_admins(self._settings, admin_id, doing=DECIDING)
        if refused is not None:
            return refused
        with self._store.read_session() as session:
            reward = reward_repo.get_reward_by_short_id(session, short_id=short_id)
            report = report_repo.report_of(session, reward_id=reward.id) if reward else None
        if reward is None:
            return Refusal(f"I can't find a reward `{short_id[:40]}`.")
        if report is None or report.status is not ReportStatus.OPEN:
            return Refusal(_decided_text(reward, report), code="already_decided", reward=reward)
        return self._cancels.check(admin_id=admin_id, short_id=reward.short_id)

    def _refused(
        self, reward: RewardDetails, report: Report | None, *, reporter: str | None
    ) -> Refusal | None:
        rid = f"`{reward.short_id}`"
        if reward.status == RewardStatus.CANCELLED:
            return Refusal(
                f"Reward {rid} was already cancelled, so there's nothing to report.",
                code="cancelled",
            )
        if report is None:
            return None
        if report.status is ReportStatus.RESTORED:
            return Refusal(
                f"Reward {rid} was reported before, and an admin looked at it and kept it.",
                code="already_decided",
            )
        if report.status is ReportStatus.CANCELLED:  # pragma: no cover - the reward is too
            return Refusal(f"Reward {rid} was cancelled after a report.", code="cancelled")
        if reporter is not None and report.reporter == reporter:
            return None  # their own, still open: `report` answers it as made before
        return Refusal(_already_reported(reward), code="already_reported")


def _already_reported(reward: RewardDetails) -> str:
    return (
        f"Thanks: reward `{reward.short_id}` was already reported, and the admins will decide "
        "on it. It stays off the leaderboard until then."
    )


def _decided_text(reward: RewardDetails, report: Report | None) -> str:
    rid = f"`{reward.short_id}`"
    if report is None:
        return f"Reward {rid} has no report waiting for a decision."
    by = mention(report.decided_by) if report.decided_by else "an admin"
    if report.status is ReportStatus.RESTORED:
        return f"{by} already restored reward {rid}: it counts again. Nothing changed."
    if report.status is ReportStatus.CANCELLED:
        return f"{by} already cancelled reward {rid}. Nothing changed."
    return f"Reward {rid}'s report still waits for a decision."
