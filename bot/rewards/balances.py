"""What a member can redeem and still give, and (for admins) what the company account holds.

With points in the bot (REWARD_POINT_SYSTEM=storefront) the member's points come from the
ledger (`ledger_points`), with the earliest expiry; Xoxoday is not asked.

`balance_card(...)` asks Xoxoday for the member's redeemable points (user_balance, by their Slack
email) and, for admins, the account balance (getBalance); the ledger says what they have given
this month. A Plum failure never raises: the lookup that failed is left unknown (None) and the
message says so in plain words. Used by `/reward balance` and the App Home.

`BalanceService.card_soon` gives Xoxoday a moment: when it is slow, the card shows what the
ledger knows at once, marked `fetching`, and the full card follows when Xoxoday answers.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as WaitedTooLong
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from bot.plum import Balance, PlumClient, PlumError
from bot.rewards.budgets import Budgets
from bot.rewards.cards import BalanceCard
from bot.rewards.directory import DirectoryUnavailable, role_for
from bot.rewards.policy import next_month_start
from bot.settings import Settings
from storage import clock, queries
from storage import members as member_repo
from storage import points as points_repo
from storage.db import Store
from storage.points import points_value
from storage.states import Role

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Points:
    """A member's redeemable points: `total` None when Xoxoday could not be asked. With points
    in the bot, the earliest day some expire and how many (`next_expiry`, `expiring`)."""

    total: int | Decimal | None
    found: bool
    next_expiry: date | None = None
    expiring: int | Decimal | None = None


def ledger_points(store: Store, *, user_id: str, today: date) -> Points:
    """Points in the bot's ledger (StoreFront): never unknown, never "not found"."""
    with store.read_session() as session:
        member = member_repo.get_member_by_slack_id(session, slack_user_id=user_id)
        if member is None or member.id is None:
            return Points(total=0, found=True)
        bal = points_repo.balance(session, member_id=member.id, today=today)
    return Points(
        total=points_value(bal.available),
        found=True,
        next_expiry=bal.next_expiry,
        expiring=points_value(bal.expiring) if bal.next_expiry else None,
    )


@dataclass(frozen=True, slots=True)
class Account:
    """The company account at Xoxoday; `value` None when it could not be read."""

    value: Decimal | None
    currency: str | None = None


def redeemable_points(plum: PlumClient, *, email: str | None) -> Points:
    """user_balance by email. No email, or no such user at Xoxoday: 0 points, not found."""
    if not email:
        return Points(total=0, found=False)
    try:
        answer = plum.user_balance(email=email)
    except PlumError as err:
        log.warning("user_balance failed: %s", type(err).__name__)
        return Points(total=None, found=False)
    if not answer.found:
        return Points(total=0, found=False)
    return Points(total=answer.total or 0, found=True)


def account_balance(fetch: Callable[[], Balance | None]) -> Account:
    """getBalance through `fetch` (the client's, or a cache shared with the App Home)."""
    try:
        answer = fetch()
    except PlumError as err:
        log.warning("getBalance failed: %s", type(err).__name__)
        return Account(value=None)
    if answer is None:
        return Account(value=None)
    return Account(value=answer.value, currency=answer.currency)


def given_this_month(store: Store, *, user_id: str, tz: str, now: datetime) -> int:
    """Points the member has committed this calendar month (0 when the ledger never saw them)."""
    with store.read_session() as session:
        member = member_repo.get_member_by_slack_id(session, slack_user_id=user_id)
        if member is None:
            return 0
        return queries.given_this_month(session, giver=member, tz=tz, now=now)


def balance_card(
    *,
    store: Store,
    plum: PlumClient,
    settings: Settings,
    user_id: str,
    email: str | None,
    account: Callable[[], Balance | None] | None = None,
    now: datetime | None = None,
    ask_xoxoday: bool = True,
    budgets: Budgets | None = None,
) -> BalanceCard:
    """Everything `/reward balance` shows one person (the allowance month is REWARD_TIMEZONE's,
    as for everyone). `account` fetches the company balance for admins (default:
    `plum.get_balance`). `ask_xoxoday=False`: only what the ledger knows; what Xoxoday holds
    is left unknown and the card says it is being fetched."""
    now = now or clock.now()
    zone = settings.REWARD_TIMEZONE
    is_admin = role_for(settings, user_id) == Role.ADMIN
    if settings.storefront:
        points = ledger_points(store, user_id=user_id, today=now.date())
    elif ask_xoxoday:
        points = redeemable_points(plum, email=email)
    else:
        points = Points(total=None, found=bool(email))
    company = (
        account_balance(account or plum.get_balance)
        if is_admin and ask_xoxoday
        else Account(value=None)
    )
    given = given_this_month(store, user_id=user_id, tz=zone, now=now)
    allowance, carried = settings.REWARD_ALLOWANCE, 0
    if budgets is not None:
        try:
            budget = budgets.read(user_id, now=now)
            allowance, carried = budget.allowance, budget.carried
        except DirectoryUnavailable:  # who is in which group: Slack can't say now
            log.warning("could not read %s's allowance from their user groups", user_id)
    resets = next_month_start(now, zone, fallback=settings.REWARD_TIMEZONE).date()
    return BalanceCard(
        points=points.total,
        points_found=points.found,
        storefront=settings.storefront,
        next_expiry=points.next_expiry,
        expiring=points.expiring,
        allowance=allowance,
        carried=carried,
        given_this_month=given,
        resets_on=resets,
        is_admin=is_admin,
        account_balance=company.value,
        account_currency=company.currency,
        low_balance=settings.REWARD_LOW_BALANCE,
        fetching=not ask_xoxoday,
    )


class BalanceService:
    """`/reward balance`: `balance_card` for one person, wired once (`Runtime.balances`)."""

    def __init__(
        self,
        *,
        store: Store,
        plum: PlumClient,
        settings: Settings,
        account: Callable[[], Balance | None],
        budgets: Budgets | None = None,
    ) -> None:
        self._store = store
        self._plum = plum
        self._settings = settings
        self._account = account
        self._budgets = budgets
        self._lock = threading.Lock()
        self._pool: ThreadPoolExecutor | None = None

    def card(self, *, user_id: str, email: str | None, ask_xoxoday: bool = True) -> BalanceCard:
        return balance_card(
            store=self._store,
            plum=self._plum,
            settings=self._settings,
            user_id=user_id,
            email=email,
            account=self._account,
            ask_xoxoday=ask_xoxoday,
            budgets=self._budgets,
        )

    def card_soon(
        self, *, user_id: str, email: str | None, wait: float
    ) -> tuple[BalanceCard, Callable[[], BalanceCard] | None]:
        """The whole card if Xoxoday answers within `wait` seconds (then None); otherwise what
        the ledger knows at once (`fetching`), and a call that returns the whole card when
        Xoxoday has answered (or failed: the client's own timeouts bound it)."""
        if self._settings.storefront and role_for(self._settings, user_id) != Role.ADMIN:
            return self.card(user_id=user_id, email=email), None  # Xoxoday is not asked
        whole: Future[BalanceCard] = self._asking().submit(self.card, user_id=user_id, email=email)
        try:
            return whole.result(timeout=wait), None
        except WaitedTooLong:
            return self.card(user_id=user_id, email=email, ask_xoxoday=False), whole.result

    def _asking(self) -> ThreadPoolExecutor:
        """The threads that wait on Xoxoday for balances (made when first needed)."""
        with self._lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="balance")
            return self._pool

    def close(self) -> None:
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)
