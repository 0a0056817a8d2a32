"""Admin services: reward links (generateLink) and cancelling a reward (cancelBalance).

Both record in the ledger before and after talking to Xoxoday, so the audit trail holds every
attempt: a link batch is created (`requested`) before generateLink and finished as `created`
(links encrypted at rest, never in the audit events) or `failed`; a cancel either moves the reward
to `cancelled` (compare-and-set) or, when Xoxoday refuses, is recorded as refused and changes
nothing. A refusal comes back as `Refusal(text)`: a sentence for the admin saying what happened
and what to do. Nothing here posts to Slack; the listeners deliver.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from bot.plum import (
    NotFoundError,
    PlumAPIError,
    PlumClient,
    PlumError,
    PlumOutcomeUnknownError,
    RequestRejectedError,
    RewardLinks,
)
from bot.plum import ValidationError as PlumValidationError
from bot.rewards.arguments import parse_date
from bot.rewards.commands import ParseError
from bot.settings import Settings
from bot.slack.blocks.common import format_date, mention, points
from bot.slack.people import People, Profile, UnknownSlackUser, role_for
from storage import links as link_repo
from storage import once
from storage import rewards as reward_repo
from storage.db import Store
from storage.errors import AlreadyDecided
from storage.rewards import RecipientDetails, RecipientResult, RewardDetails
from storage.states import RecipientOutcome, RewardStatus, Role

log = logging.getLogger(__name__)

DEFAULT_LINK_DAYS = 30  # a link's life when the admin gives no expiry date
COMMAND_ONCE_KIND = "admin_command"
DUPLICATE_COMMAND = (
    "I got this request twice (Slack retried it), so I'm only doing it once: "
    "see the answer to the first one."
)
S = RewardStatus


@dataclass(frozen=True, slots=True)
class Refusal:
    """Nothing (more) was done; `text` (mrkdwn) tells the admin why and what to do."""

    text: str


def only_admins(settings: Settings, user_id: str, *, doing: str) -> Refusal | None:
    """None for an admin; else "Only admins can {doing}." for everybody else."""
    if role_for(settings, user_id) == Role.ADMIN:
        return None
    admins = [mention(a) for a in settings.REWARD_ADMINS]
    who = " or ".join([", ".join(admins[:-1]), admins[-1]] if len(admins) > 1 else admins)
    return Refusal(f"Only admins can {doing}. If it needs doing, ask {who or 'an admin'}.")


def first_delivery(store: Store, *, trigger_id: str | None) -> bool:
    """False when this slash command (by Slack's trigger_id) was handled before: Slack
    retried it. Claimed before anything is done, so a retry never makes links twice."""
    if not trigger_id:
        return True
    with store.session() as session:
        return once.claim_once(session, kind=COMMAND_ONCE_KIND, key=trigger_id[:255])


def plum_unreachable(what: str) -> Refusal:
    return Refusal(f"I couldn't reach Xoxoday just now; try again in a minute. {what}")


# ── reward links ─────────────────────────────────────────────────────────────────────────


@dataclass(frozen=True, slots=True)
class MadeLinks:
    """Links Xoxoday made, recorded (encrypted) as ledger batch `batch_id`. The links are bearer
    secrets: they stay out of `repr` and go only into the one DM or file meant for them."""

    batch_id: int
    links: tuple[str, ...] = field(repr=False)
    campaign_id: str
    expires_on: date
    campaign_name: str | None = None
    amount: Decimal | None = None
    currency: str | None = None
    recipient_id: str | None = None


class LinkService:
    def __init__(
        self,
        *,
        store: Store,
        plum: PlumClient,
        people: People,
        settings: Settings,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._store = store
        self._plum = plum
        self._people = people
        self._settings = settings
        self._now = now

    def today(self, tz: str | None) -> date:
        return self._now().astimezone(ZoneInfo(tz or self._settings.REWARD_TIMEZONE)).date()

    def expiry(self, asked: date | None, *, tz: str | None) -> date | Refusal:
        """The date asked for (after today in the admin's time zone), else today + 30 days."""
        today = self.today(tz)
        if asked is None:
            return today + timedelta(days=DEFAULT_LINK_DAYS)
        checked = parse_date(f"{asked:%d-%m-%Y}", today=today)
        return Refusal(checked.message) if isinstance(checked, ParseError) else checked

    def recipient(self, user_id: str) -> Profile | Refusal:
        """Someone a link can be DM'd to: a person in the workspace, active, with an email."""
        try:
            profile = self._people.profile(user_id)
        except UnknownSlackUser:
            return Refusal(
                f"I can't find {mention(user_id)} in this workspace. Pick the person from the "
                "list Slack suggests as you type `@`."
            )
        person = profile.person
        if person.is_bot:
            return Refusal(f"{mention(user_id)} is a bot: reward links are for people.")
        if person.deleted:
            return Refusal(
                f"{mention(user_id)}'s Slack account is deactivated, so I can't DM them a link."
            )
        if not person.email:
            return Refusal(
                f"Slack has no email address for {mention(user_id)}, so I can't make them a "
                "reward link. Ask a Slack admin to add it to their profile."
            )
        return profile

    def make(
        self,
        *,
        admin_id: str,
        team_id: str,
        campaign_id: int,
        count: int,
        expiry: date | None,
        recipient_id: str | None = None,
    ) -> MadeLinks | Refusal:
        """Generate `count` links of a campaign, recorded as a batch (for `recipient_id` when
        they go to one person)."""
        refused = only_admins(self._settings, admin_id, doing="make reward links")
        if refused:
            return refused
        admin = self._people.profile(admin_id)
        expires = self.expiry(expiry, tz=admin.person.tz)
        if isinstance(expires, Refusal):
            return expires
        target = None
        if recipient_id is not None:
            target = self.recipient(recipient_id)
            if isinstance(target, Refusal):
                return target
        with self._store.session() as session:
            asker = self._people.member(session, admin, team_id=team_id)
            member = None
            if target is not None:
                member = self._people.member(session, target, team_id=team_id)
            batch = link_repo.create_link_batch(
                session,
                campaign_id=str(campaign_id),
                count=count,
                requested_by=asker,
                link_expiry=expires,
                recipient=member,
            )
            batch_id = batch.id
        assert batch_id is not None
        made = self._generate(batch_id, admin_id, campaign_id, count, expires)
        if isinstance(made, Refusal):
            return made
        with self._store.session() as session:
            link_repo.complete_link_batch(
                session,
                batch_id=batch_id,
                links=made.links,
                plum_batch_id=made.batch_id,
                actor=admin_id,
                campaign_name=made.campaign_name,
                denomination_value=made.denomination,
                currency_code=made.currency_code,
                country_name=made.country_name,
                message=made.message,
            )
        log.info(
            "link batch %s: %d link(s) of campaign %s made for %s",
            batch_id,
            len(made.links),
            campaign_id,
            admin_id,
        )
        return MadeLinks(
            batch_id=batch_id,
            links=made.links,
            campaign_id=made.campaign_id or str(campaign_id),
            expires_on=expires,
            campaign_name=made.campaign_name,
            amount=made.denomination,
            currency=made.currency_code,
            recipient_id=recipient_id,
        )

    def _generate(
        self, batch_id: int, admin_id: str, campaign_id: int, count: int, expires: date
    ) -> RewardLinks | Refusal:
        try:
            made = self._plum.generate_link(campaign_id=campaign_id, quantity=count, expiry=expires)
        except NotFoundError:
            refusal = Refusal(
                f"Xoxoday has no campaign `{campaign_id}`, so no links were made. Check the "
                "campaign id in the Xoxoday dashboard (Reward Links → Campaigns)."
            )
            self._fail(batch_id, admin_id, f"no campaign {campaign_id}")
            return refusal
        except PlumAPIError as err:
            said = err.detail or err.message
            self._fail(batch_id, admin_id, said)
            return Refusal(f"Xoxoday didn't make the links: {said}")
        except PlumOutcomeUnknownError as err:
            self._fail(batch_id, admin_id, f"outcome unknown: {err.reason}")
            return Refusal(
                "Xoxoday's answer was lost, so I don't know whether it made the links (and "
                "charged the account). Check the link batches in the Xoxoday dashboard before "
                "asking again."
            )
        except PlumError as err:
            log.warning("generateLink failed: %s", type(err).__name__)
            self._fail(batch_id, admin_id, f"Xoxoday unreachable ({type(err).__name__})")
            return plum_unreachable("No links were made.")
        if len(made.links) != count:
            log.warning("generateLink: asked for %d links, got %d", count, len(made.links))
        if not made.links:
            self._fail(batch_id, admin_id, "Xoxoday answered without links")
            return Refusal(
                "Xoxoday said yes but sent no links. Check the link batches in the Xoxoday "
                "dashboard before asking again."
            )
        return made

    def _fail(self, batch_id: int, admin_id: str, message: str) -> None:
        with self._store.session() as session:
            link_repo.fail_link_batch(session, batch_id=batch_id, actor=admin_id, message=message)


# ── cancelling a reward ──────────────────────────────────────────────────────────────────


@dataclass(frozen=True, slots=True)
class Cancelled:
    """The reward is now `cancelled`. `withdrawn`: recipients whose points Xoxoday took back
    (empty when it was never sent); `kept`: (recipient, why) whose points Xoxoday kept."""

    reward: RewardDetails
    was: RewardStatus
    withdrawn: tuple[RecipientDetails, ...] = ()
    kept: tuple[tuple[RecipientDetails, str], ...] = ()


def plain_refusal(message: str | None) -> str:
    """Xoxoday's reason for not cancelling, in plain words."""
    text = (message or "").strip()
    lowered = text.lower()
    if "90 days" in lowered:
        return "Xoxoday only withdraws points within 90 days of sending"
    if "redeem" in lowered:
        return "they have already redeemed some or all of them"
    if "not found" in lowered:
        return "Xoxoday has no record of that transaction"
    return f"Xoxoday said: {text}" if text else "Xoxoday gave no reason"


def _already_cancelled(message: str | None) -> bool:
    return "already cancelled" in (message or "").lower()


def status_refusal(reward: RewardDetails, *, tz: str | None) -> Refusal | None:
    """Why a reward in this status can't be cancelled; None when it can."""
    row = reward.reward
    rid = f"`{reward.short_id}`"
    status = reward.status
    if status == S.CANCELLED:
        by = f" by {mention(row.cancelled_by)}" if row.cancelled_by else ""
        when = f" on {format_date(row.cancelled_at, tz)}" if row.cancelled_at else ""
        return Refusal(f"Reward {rid} was already cancelled{by}{when}. Nothing more to do.")
    if status == S.SENDING:
        return Refusal(
            f"Reward {rid} is being sent to Xoxoday right now. Wait a minute, then cancel it "
            "once it's sent."
        )
    if status == S.IN_DOUBT:
        return Refusal(
            f"Reward {rid} is in doubt: nobody knows yet whether Xoxoday sent the points. "
            "Settle it first with *It was sent* or *It failed* (in the admins' alert or the "
            "App Home); if it was sent, cancel it then."
        )
    if status == S.FAILED:
        return Refusal(
            f"Reward {rid} was never sent (Xoxoday didn't take it), so there are no points to "
            "withdraw."
        )
    if status == S.REJECTED:
        return Refusal(f"Reward {rid} was rejected, so no points were sent. Nothing to cancel.")
    if status == S.EXPIRED:
        return Refusal(
            f"Reward {rid} expired before anyone approved it, so no points were sent. "
            "Nothing to cancel."
        )
    return None


class CancelService:
    def __init__(
        self, *, store: Store, plum: PlumClient, settings: Settings, people: People
    ) -> None:
        self._store = store
        self._plum = plum
        self._settings = settings
        self._people = people

    def find(self, short_id: str) -> RewardDetails | Refusal:
        with self._store.session() as session:
            reward = reward_repo.get_reward_by_short_id(session, short_id=short_id)
        if reward is None:
            return Refusal(
                f"I can't find a reward `{short_id.upper()[:40]}`. The id is in the reward's "
                "confirmation and in `/reward history` (six letters and digits, like `4F7Q2K`)."
            )
        return reward

    def cancel(self, *, admin_id: str, short_id: str, reason: str) -> Cancelled | Refusal:
        refused = only_admins(self._settings, admin_id, doing="cancel rewards")
        if refused:
            return refused
        tz = self._tz(admin_id)
        reward = self.find(short_id)
        if isinstance(reward, Refusal):
            return reward
        problem = status_refusal(reward, tz=tz)
        if problem:
            return problem
        if reward.status == S.SENT:
            return self._withdraw(reward, admin_id=admin_id, reason=reason, tz=tz)
        return self._record(reward, admin_id=admin_id, reason=reason, tz=tz)

    def _tz(self, user_id: str) -> str:
        try:
            return self._people.profile(user_id).person.tz or self._settings.REWARD_TIMEZONE
        except UnknownSlackUser:
            return self._settings.REWARD_TIMEZONE

    def _record(
        self,
        reward: RewardDetails,
        *,
        admin_id: str,
        reason: str,
        tz: str | None,
        results: Sequence[RecipientResult] = (),
        response: dict[str, object] | None = None,
    ) -> Cancelled | Refusal:
        """The ledger's compare-and-set; a lost race is explained from the reward's new state."""
        try:
            with self._store.session() as session:
                done = reward_repo.cancel_reward(
                    session,
                    reward_id=reward.id,
                    actor=admin_id,
                    reason=reason,
                    recipients=results,
                    response=response,
                )
        except AlreadyDecided:
            latest = self.find(reward.short_id)
            if isinstance(latest, Refusal):  # pragma: no cover - rewards are never deleted
                return latest
            return status_refusal(latest, tz=tz) or Refusal(
                f"Reward `{reward.short_id}` changed while I was cancelling it "
                f"(it is now {latest.status.replace('_', ' ')}). Try again."
            )
        log.info("reward %s cancelled by %s (was %s)", reward.short_id, admin_id, reward.status)
        return Cancelled(reward=done, was=reward.status)

    def _withdraw(
        self, reward: RewardDetails, *, admin_id: str, reason: str, tz: str | None
    ) -> Cancelled | Refusal:
        sent = [r for r in reward.recipients if r.outcome == RecipientOutcome.SENT]
        missing = [r for r in sent if not (r.recipient.plum_unique_id or "").isdigit()]
        if missing or not sent:
            message = "the transaction ids of these points are unknown"
            self._refused(reward, admin_id=admin_id, reason=reason, message=message)
            emails = ", ".join(r.member.email or mention(r.member.slack_user_id) for r in missing)
            return Refusal(
                f"Xoxoday didn't tell me the transaction ids when reward `{reward.short_id}` "
                "was sent, so I can't withdraw its points from here. Cancel them in the "
                f"Xoxoday dashboard (points sent to {emails or 'its recipients'}). Nothing "
                "changed here; the attempt is in the audit trail."
            )
        by_id = {int(r.recipient.plum_unique_id or 0): r for r in sent}
        try:
            answer = self._plum.cancel_balance(unique_ids=list(by_id))
        except PlumOutcomeUnknownError:
            return Refusal(
                "Xoxoday's answer was lost, so I don't know whether it withdrew the points of "
                f"reward `{reward.short_id}`. Run the same command again in a minute: it's safe "
                "(points already withdrawn are recognised)."
            )
        except (PlumValidationError, NotFoundError, RequestRejectedError) as err:
            said = err.detail or err.message
            self._refused(reward, admin_id=admin_id, reason=reason, message=said)
            return Refusal(
                f"Xoxoday refused to withdraw the points of reward `{reward.short_id}` "
                f"({said}). Nothing changed; the refusal is in the audit trail."
            )
        except PlumAPIError as err:  # credentials, rate limit, server trouble: not a "no"
            log.warning("cancelBalance failed: %s", err)
            return Refusal(
                f"Xoxoday couldn't take the request just now: {err.message} Nothing was "
                "withdrawn; try again in a minute."
            )
        except PlumError as err:
            log.warning("cancelBalance failed: %s", type(err).__name__)
            return plum_unreachable("Nothing was withdrawn.")
        outcomes = {row.unique_id: row for row in answer.recipients}
        withdrawn: list[RecipientDetails] = []
        kept: list[tuple[RecipientDetails, str]] = []
        for unique_id, line in by_id.items():
            row = outcomes.get(unique_id)
            if row is not None and (row.success or _already_cancelled(row.message)):
                withdrawn.append(line)
            else:
                kept.append((line, row.message if row and row.message else "no answer"))
        response: dict[str, object] = {
            "message": answer.message,
            "recipients": [
                {"unique_id": r.unique_id, "success": r.success, "message": r.message}
                for r in answer.recipients
            ],
        }
        if not withdrawn:
            self._refused(
                reward,
                admin_id=admin_id,
                reason=reason,
                message="; ".join(m for _, m in kept),
                response=response,
            )
            return Refusal(self._refusal_text(reward, kept, tz=tz))
        results = [
            RecipientResult(member=r.member, outcome=RecipientOutcome.CANCELLED) for r in withdrawn
        ] + [
            RecipientResult(member=r.member, outcome=RecipientOutcome.SENT, message=m)
            for r, m in kept
        ]
        outcome = self._record(
            reward,
            admin_id=admin_id,
            reason=reason,
            tz=tz,
            results=results,
            response=response,
        )
        if isinstance(outcome, Refusal):
            return outcome
        return Cancelled(
            reward=outcome.reward,
            was=S.SENT,
            withdrawn=tuple(withdrawn),
            kept=tuple((r, plain_refusal(m)) for r, m in kept),
        )

    def _refused(
        self,
        reward: RewardDetails,
        *,
        admin_id: str,
        reason: str,
        message: str,
        response: dict[str, object] | None = None,
    ) -> None:
        with self._store.session() as session:
            reward_repo.record_cancel_refused(
                session,
                reward_id=reward.id,
                actor=admin_id,
                reason=reason,
                message=message,
                response=response,
            )
        log.info("cancel of reward %s refused by Xoxoday: %s", reward.short_id, message)

    @staticmethod
    def _refusal_text(
        reward: RewardDetails, kept: Sequence[tuple[RecipientDetails, str]], *, tz: str | None
    ) -> str:
        sent_on = reward.reward.sent_at
        lines = []
        for line, message in kept:
            why = plain_refusal(message)
            if "90 days" in why and sent_on is not None:
                why += f" (these were sent on {format_date(sent_on, tz)})"
            lines.append(f"• {mention(line.member.slack_user_id)} ({points(line.points)}): {why}.")
        return (
            f"Xoxoday refused to withdraw the points of reward `{reward.short_id}`, so nothing "
            "changed:\n" + "\n".join(lines) + "\nThe refusal is recorded in the audit trail."
        )
