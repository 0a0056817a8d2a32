"""Reward links (Xoxoday's generateLink) for `/reward link` and `/reward links`.

Recorded in the ledger before and after talking to Xoxoday, so the audit trail holds every
attempt: a link batch is created (`requested`) before generateLink and finished as `created`
(links encrypted at rest, never in the audit events) or `failed`. A refusal comes back as
`Refusal(text)`. Nothing here posts to Slack; the listeners deliver.
"""

from __future__ import annotations

import csv
import io
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from bot.plum import (
    NotFoundError,
    PlumAPIError,
    PlumClient,
    PlumError,
    PlumOutcomeUnknownError,
    RewardLinks,
)
from bot.rewards import policy
from bot.rewards.admin import only_admins, plum_unreachable
from bot.rewards.arguments import parse_date
from bot.rewards.cards import CampaignLine, LinkBatchCard, RewardLink
from bot.rewards.directory import Directory, Profile, UnknownSlackUser
from bot.rewards.events import LinkBatchMade, PeopleChanged, RewardLinkMade, Teller
from bot.rewards.refusal import Refusal
from bot.rewards.wording import mention, one_line, safe_mrkdwn
from bot.settings import Settings
from storage import clock
from storage import links as link_repo
from storage import locks as lock_repo
from storage.csv_cells import csv_cell
from storage.db import Store
from storage.states import LinkBatchStatus

log = logging.getLogger(__name__)

CAMPAIGNS_TTL_SECONDS = 60.0
CAMPAIGNS_SUGGESTED = 5  # campaigns named in a refusal about a campaign
DEFAULT_LINK_DAYS = 30  # a link's life when the admin gives no expiry date


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


@dataclass(frozen=True, slots=True)
class GivenLink:
    """One link made for one person; `delivered`: it is in their DM."""

    link: RewardLink
    batch_id: int
    delivered: bool


@dataclass(frozen=True, slots=True)
class MadeBatch:
    """A batch of links made; `delivered`: its CSV is in the admin's DM."""

    made: MadeLinks
    delivered: bool


LINKS_CSV_COLUMNS = (
    "number",
    "link",
    "campaign_id",
    "campaign_name",
    "value",
    "currency",
    "expires_on",
)


def links_csv(made: MadeLinks) -> str:
    """The batch as the admin's CSV file: one row per link, with the campaign, value and expiry
    date (every cell guarded against spreadsheet formulas)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(LINKS_CSV_COLUMNS)
    expires_on = made.expires_on.strftime("%d-%m-%Y")
    for n, link in enumerate(made.links, start=1):
        row = (n, link, made.campaign_id, made.campaign_name, made.amount, made.currency)
        writer.writerow([csv_cell(value) for value in (*row, expires_on)])
    return out.getvalue()


class LinkService:
    def __init__(
        self,
        *,
        store: Store,
        plum: PlumClient,
        people: Directory,
        settings: Settings,
        teller: Teller,
        now: Callable[[], datetime] = clock.now,
    ) -> None:
        self._store = store
        self._plum = plum
        self._people = people
        self._settings = settings
        self._teller = teller
        self._now = now
        self._campaigns: tuple[float, tuple[CampaignLine, ...]] | None = None
        self._campaigns_lock = threading.Lock()

    # ── campaigns ─────────────────────────────────────────────────────────────────────────

    def campaigns(self, admin_id: str) -> tuple[CampaignLine, ...] | Refusal:
        """The account's reward link campaigns, enabled first (`/reward campaigns`)."""
        refused = only_admins(self._settings, admin_id, doing="see the reward link campaigns")
        if refused:
            return refused
        try:
            return self._campaign_lines()
        except PlumError as err:
            log.warning("campaignList failed: %s", type(err).__name__)
            return plum_unreachable("Ask again with `/reward campaigns`.")

    def _campaign_lines(self) -> tuple[CampaignLine, ...]:
        """campaignList, kept for CAMPAIGNS_TTL_SECONDS (the forms and refusals ask often)."""
        with self._campaigns_lock:
            cached = self._campaigns
            if cached is not None and time.monotonic() - cached[0] < CAMPAIGNS_TTL_SECONDS:
                return cached[1]
            found = self._plum.campaign_list()
            lines = tuple(
                sorted(
                    (
                        CampaignLine(
                            campaign_id=c.campaign_id,
                            name=c.name,
                            amount=c.denomination,
                            currency=c.currency_code,
                            country=c.country_name,
                            enabled=c.enabled is not False,
                        )
                        for c in found
                        if c.campaign_id
                    ),
                    key=lambda c: (not c.enabled, c.name or "", c.campaign_id),
                )
            )
            self._campaigns = (time.monotonic(), lines)
            return lines

    def _pick_from(self) -> str:
        """A sentence naming the enabled campaigns to pick from, like "Your campaigns: `7890`
        Thank You Link (India), …" (empty when Xoxoday can't say right now)."""
        try:
            enabled = [c for c in self._campaign_lines() if c.enabled]
        except PlumError:
            return ""
        if not enabled:
            return ""
        shown = ", ".join(
            f"`{c.campaign_id}` {safe_mrkdwn(one_line(c.name or ''))}".rstrip()
            for c in enabled[:CAMPAIGNS_SUGGESTED]
        )
        extra = len(enabled) - CAMPAIGNS_SUGGESTED
        more = f" and {extra} more" if extra > 0 else ""
        return f" Your campaigns: {shown}{more} (`/reward campaigns` lists them all)."

    def today(self, tz: str | None) -> date:
        return self._now().astimezone(ZoneInfo(tz or self._settings.REWARD_TIMEZONE)).date()

    def expiry(self, asked: date | None, *, tz: str | None) -> date | Refusal:
        """The date asked for (after today in the admin's time zone), else today + 30 days."""
        today = self.today(tz)
        if asked is None:
            return today + timedelta(days=DEFAULT_LINK_DAYS)
        checked = parse_date(f"{asked:%d-%m-%Y}", today=today)
        return Refusal(checked.text) if isinstance(checked, Refusal) else checked

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

    def give_link(
        self,
        *,
        admin_id: str,
        team_id: str,
        campaign_id: int,
        recipient_id: str,
        expiry: date | None,
        note: str | None,
        request_key: str | None,
    ) -> GivenLink | Refusal:
        """One link for one person, made and DM'd to them alone (`RewardLinkMade`)."""
        made = self.make(
            admin_id=admin_id,
            team_id=team_id,
            campaign_id=campaign_id,
            count=1,
            expiry=expiry,
            recipient_id=recipient_id,
            request_key=request_key,
        )
        self._teller.tell(PeopleChanged.of(self._settings.REWARD_ADMINS))  # "last link batches"
        if isinstance(made, Refusal):
            return made
        link = RewardLink(
            recipient_id=recipient_id,
            admin_id=admin_id,
            url=made.links[0],
            campaign_id=made.campaign_id,
            campaign_name=made.campaign_name,
            amount=made.amount,
            currency=made.currency,
            expires_on=made.expires_on,
            note=note,
        )
        return GivenLink(
            link=link, batch_id=made.batch_id, delivered=self._teller.tell(RewardLinkMade(link))
        )

    def make_batch(
        self,
        *,
        admin_id: str,
        team_id: str,
        campaign_id: int,
        count: int,
        expiry: date | None,
        request_key: str | None,
    ) -> MadeBatch | Refusal:
        """A batch of links, made and put in a CSV file in the admin's DM (`LinkBatchMade`)."""
        made = self.make(
            admin_id=admin_id,
            team_id=team_id,
            campaign_id=campaign_id,
            count=count,
            expiry=expiry,
            request_key=request_key,
        )
        self._teller.tell(PeopleChanged.of(self._settings.REWARD_ADMINS))  # "last link batches"
        if isinstance(made, Refusal):
            return made
        card = LinkBatchCard(
            batch_id=str(made.batch_id),
            campaign_id=made.campaign_id,
            count=len(made.links),
            requested_by=admin_id,
            created_at=self._now(),
            campaign_name=made.campaign_name,
            amount=made.amount,
            currency=made.currency,
            expires_on=made.expires_on,
            filename=f"reward-links-{made.campaign_id}-batch-{made.batch_id}.csv",
        )
        delivered = self._teller.tell(LinkBatchMade(batch=card, made=made))
        return MadeBatch(made=made, delivered=delivered)

    def make(
        self,
        *,
        admin_id: str,
        team_id: str,
        campaign_id: int,
        count: int,
        expiry: date | None,
        recipient_id: str | None = None,
        request_key: str | None = None,
    ) -> MadeLinks | Refusal:
        """Generate `count` links of a campaign, recorded as a batch (for `recipient_id` when
        they go to one person). A request seen before (`request_key`, e.g. resumed after a
        restart) gets what its batch holds; Xoxoday is never asked twice for one request."""
        refused = only_admins(self._settings, admin_id, doing="make reward links")
        if refused:
            return refused
        if request_key is not None:
            earlier = self._earlier(request_key, recipient_id=recipient_id)
            if earlier is not None:
                return earlier
        with self._store.read_session() as session:  # a link is a reward: locked, none
            locked = policy.may_give(locked=lock_repo.is_locked(session, slack_user_id=admin_id))
        if locked is not None:
            return locked
        admin = self._people.profile(admin_id)
        expires = self.expiry(expiry, tz=admin.person.tz)
        if isinstance(expires, Refusal):
            return expires
        target: Profile | None = None
        if recipient_id is not None:
            found = self.recipient(recipient_id)
            if isinstance(found, Refusal):
                return found
            target = found
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
                request_key=request_key,
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

    def _earlier(self, request_key: str, *, recipient_id: str | None) -> MadeLinks | Refusal | None:
        """What an earlier run of the same request left (None: there was none)."""
        with self._store.session() as session:
            batch = link_repo.get_link_batch_by_request_key(session, request_key=request_key)
            if batch is None or batch.id is None:
                return None
            if batch.status == LinkBatchStatus.CREATED:
                links = link_repo.reveal_links(session, batch_id=batch.id)
                return MadeLinks(
                    batch_id=batch.id,
                    links=tuple(links),
                    campaign_id=batch.campaign_id,
                    expires_on=batch.link_expiry or self.today(None),
                    campaign_name=batch.campaign_name,
                    amount=batch.denomination_value,
                    currency=batch.currency_code,
                    recipient_id=recipient_id,
                )
            if batch.status == LinkBatchStatus.FAILED:
                return Refusal(
                    f"Xoxoday didn't make the links: {batch.message or 'no reason given'}"
                )
            link_repo.fail_link_batch(
                session,
                batch_id=batch.id,
                actor="system",
                message="the bot restarted while Xoxoday was making the links; outcome unknown",
            )
        return Refusal(
            "I restarted while Xoxoday was making these links, so I don't know whether it made "
            "them (and charged the account). Check the link batches in the Xoxoday dashboard "
            "before asking again."
        )

    def _generate(
        self, batch_id: int, admin_id: str, campaign_id: int, count: int, expires: date
    ) -> RewardLinks | Refusal:
        try:
            made = self._plum.generate_link(campaign_id=campaign_id, quantity=count, expiry=expires)
        except NotFoundError:
            refusal = Refusal(
                f"Xoxoday has no campaign `{campaign_id}`, so no links were made."
                + (self._pick_from() or " Check the campaign id with `/reward campaigns`.")
            )
            self._fail(batch_id, admin_id, f"no campaign {campaign_id}")
            return refusal
        except PlumAPIError as err:
            said = err.detail or err.message
            self._fail(batch_id, admin_id, said)
            pick = self._pick_from() if "campaign" in said.lower() else ""
            return Refusal(f"Xoxoday didn't make the links: {said}{pick}")
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
