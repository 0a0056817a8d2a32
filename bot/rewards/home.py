"""What one person's App Home shows, gathered from Slack (their profile), the ledger and Plum.

`HomeService.home(user_id)` returns a `HomeCard` for `bot.slack.blocks.home.home_view` and the
time zone to show it in. Everyone gets their redeemable points (Plum's user_balance by their
email), what they may still give this month and their recent rewards; approvers and managers
get what waits for their decision; admins get the company account balance, the rewards in doubt
and the last link batches (never the links). When Plum or Slack fails, that part says so and
the rest still shows. The balance part is `bot.rewards.balances.balance_card`, as for
`/reward balance`.

The account balance (getBalance, 10 calls a minute) is cached by `AccountBalanceCache`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from bot.plum import Balance, PlumClient, PlumError
from bot.rewards.adjustments import recent_lines
from bot.rewards.balances import balance_card
from bot.rewards.budgets import Budgets
from bot.rewards.cards import ApprovalCard, HomeCard, LinkBatchCard, card_for
from bot.rewards.directory import (
    Directory,
    DirectoryUnavailable,
    Profile,
    UnknownSlackUser,
    role_for,
)
from bot.settings import Settings
from storage import approvals, clock, queries
from storage import links as link_repo
from storage import members as member_repo
from storage.db import Store
from storage.models import LinkBatch, Member
from storage.rewards import RewardDetails
from storage.states import Role

log = logging.getLogger(__name__)

ACCOUNT_TTL_SECONDS = 60.0  # getBalance allows 10 calls a minute, shared with /reward balance
ACCOUNT_FAILURE_TTL_SECONDS = 15.0
RECENT_LIMIT = 5
PENDING_LIMIT = 100
IN_DOUBT_LIMIT = 50
BATCHES_LIMIT = 5


class AccountBalanceCache:
    """The company account balance, fetched at most once per `ttl_seconds` (a failure is
    remembered for `failure_ttl_seconds`, so a struggling Plum is not asked on every view)."""

    def __init__(
        self,
        *,
        fetch: Callable[[], Balance],
        ttl_seconds: float = ACCOUNT_TTL_SECONDS,
        failure_ttl_seconds: float = ACCOUNT_FAILURE_TTL_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._fetch = fetch
        self._ttl = ttl_seconds
        self._failure_ttl = failure_ttl_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._value: Balance | None = None
        self._expires = float("-inf")

    def get(self) -> Balance | None:
        """The balance, or None when Plum could not say (recently)."""
        with self._lock:  # one fetch at a time: concurrent views share its answer
            if self._clock() < self._expires:
                return self._value
            try:
                self._value = self._fetch()
                self._expires = self._clock() + self._ttl
            except PlumError as err:
                log.warning("could not get the account balance: %s", type(err).__name__)
                self._value = None
                self._expires = self._clock() + self._failure_ttl
            return self._value

    def forget(self) -> None:
        with self._lock:
            self._expires = float("-inf")


@dataclass(frozen=True, slots=True)
class Home:
    card: HomeCard
    tz: str | None


class HomeService:
    def __init__(
        self,
        *,
        store: Store,
        people: Directory,
        settings: Settings,
        plum: PlumClient,
        account: AccountBalanceCache,
        now: Callable[[], datetime] = clock.now,
        budgets: Budgets | None = None,
    ) -> None:
        self._store = store
        self._people = people
        self._settings = settings
        self._plum = plum
        self._account = account
        self._now = now
        self._budgets = budgets

    def home(self, user_id: str, *, ask_xoxoday: bool = True) -> Home:
        """`user_id`'s App Home; `ask_xoxoday=False`: only what the ledger knows, the figures
        Xoxoday holds marked as being fetched."""
        settings = self._settings
        profile = self._profile(user_id)
        role = role_for(settings, user_id)
        is_admin = role == Role.ADMIN
        is_approver = role in (Role.APPROVER, Role.ADMIN)  # admins decide for anyone too
        now = self._now()
        with self._store.session() as session:
            member = member_repo.get_member_by_slack_id(session, slack_user_id=user_id)
            tz = (profile.person.tz if profile else None) or (member.tz if member else None)
            tz = tz or settings.REWARD_TIMEZONE
            received: list[RewardDetails] = []
            sent: list[RewardDetails] = []
            pending: list[ApprovalCard] = []
            if member is not None:
                recent = queries.recent_rewards(
                    session, member=member, limit=RECENT_LIMIT, told_only=True
                )
                received, sent = recent.received, recent.given
                pending = self._pending(session, member, anyone=is_approver)
            in_doubt = (
                [card_for(r) for r in queries.rewards_in_doubt(session, limit=IN_DOUBT_LIMIT)]
                if is_admin
                else []
            )
            batches = self._batches(session) if is_admin else []
            adjusted = (
                recent_lines(session, member_id=member.id, limit=RECENT_LIMIT)
                if member is not None and member.id is not None and settings.storefront
                else ()
            )
        balance = balance_card(
            store=self._store,
            plum=self._plum,
            settings=settings,
            user_id=user_id,
            email=profile.person.email if profile else None,
            account=self._account.get,
            now=now,
            ask_xoxoday=ask_xoxoday,
            budgets=self._budgets,
        )
        card = HomeCard(
            user_id=user_id,
            balance=balance,
            received=tuple(card_for(r) for r in received),
            given=tuple(card_for(r) for r in sent),
            is_approver=is_approver,
            pending=tuple(pending),
            is_admin=is_admin,
            in_doubt=tuple(in_doubt),
            link_batches=tuple(batches),
            adjustments=adjusted,
        )
        return Home(card=card, tz=tz)

    # --- parts ----------------------------------------------------------------------------

    def _profile(self, user_id: str) -> Profile | None:
        try:
            return self._people.profile(user_id)
        except (UnknownSlackUser, DirectoryUnavailable) as err:
            log.warning("no Slack profile for %s's App Home: %s", user_id, type(err).__name__)
            return None

    def _pending(self, session: Session, member: Member, *, anyone: bool) -> list[ApprovalCard]:
        """Rewards waiting for this member's decision: everyone's for approvers and admins,
        their reports' for managers; never their own."""
        rows = approvals.list_pending_approvals(
            session,
            manager=None if anyone else member,
            exclude_member=member,
            limit=PENDING_LIMIT,
        )
        return [
            ApprovalCard(
                reward=card_for(r),
                threshold=self._settings.REWARD_APPROVAL_THRESHOLD,
                as_manager=r.giver.manager_id == member.id,
            )
            for r in rows
        ]

    def _batches(self, session: Session) -> list[LinkBatchCard]:
        rows = link_repo.list_link_batches(session, limit=BATCHES_LIMIT)
        by_id: dict[int, str] = {}
        for row in rows:
            if row.requested_by_id not in by_id:
                who = member_repo.get_member(session, member_id=row.requested_by_id)
                by_id[row.requested_by_id] = who.slack_user_id if who else "unknown"
        return [batch_card(row, requested_by=by_id[row.requested_by_id]) for row in rows]


def batch_card(batch: LinkBatch, *, requested_by: str) -> LinkBatchCard:
    return LinkBatchCard(
        batch_id=str(batch.id),
        campaign_id=batch.campaign_id,
        count=batch.count,
        requested_by=requested_by,
        created_at=batch.created_at,
        status=batch.status,
        campaign_name=batch.campaign_name,
        amount=batch.denomination_value,
        currency=batch.currency_code,
        expires_on=batch.link_expiry,
    )
