"""Gift cards and charity donations sent from Slack (seeds 003, 004).

`GiftService.submit` checks a form and commits the order with its poNumber before anything is
sent (`storage.orders.create_order`, keyed by the Slack request, so a repeated submission orders
once); the `OrderWorker` (`bot.rewards.order_worker`) then places it. Who may: admins and
REWARD_GIFT_SENDERS, from the company account, each up to REWARD_GIFT_MONTHLY_CAP a calendar
month (REWARD_TIMEZONE); an order worth REWARD_APPROVAL_THRESHOLD or more waits for an approver
(admins' own orders too, as with rewards); the account balance is checked first. With points in
the bot anyone may also pay with their own points: the debit is made in the order's transaction
and given back if the order definitely fails.

Voucher codes, pins and links are bearer secrets: they are only in the order's encrypted
response, and `reveal` gives them to the recipient alone.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import ROUND_UP, Decimal, InvalidOperation
from typing import Any

from bot.plum import Balance, PlumClient, PlumError, Voucher
from bot.plum.parse import order_details, placed_order
from bot.rewards import policy
from bot.rewards.catalogue import (
    Catalogue,
    Filters,
    amount_problem,
    amounts_of,
    is_charity,
    rate_of,
)
from bot.rewards.directory import Directory, DirectoryUnavailable, UnknownSlackUser, role_for
from bot.rewards.events import (
    OrderAwaitsApproval,
    OrderDecided,
    OrderFailed,
    OrderPlaced,
    OrderQueued,
    Teller,
)
from bot.rewards.policy import Person
from bot.rewards.refusal import Refusal
from bot.rewards.wording import money
from bot.settings import Settings
from storage import audit, clock
from storage import links as order_repo
from storage import locks as lock_repo
from storage import members as member_repo
from storage import orders as orders_repo
from storage import points as points_repo
from storage.audit import AuditAction
from storage.db import Store
from storage.models import Order
from storage.points import CENTS, PointsRefused, points_value
from storage.queries import month_bounds
from storage.states import OrderKind, OrderStatus, Role

log = logging.getLogger(__name__)

NOTE_MAX_CHARS = 500


def new_po_number() -> str:
    return "RB-" + secrets.token_hex(6).upper()


def points_order_id(po_number: str) -> str:
    """The point ledger's order id for a gift paid with points."""
    return f"gift-{po_number}"


@dataclass(frozen=True, slots=True, kw_only=True)
class GiftCost:
    """What an order from the company account costs, as its approvers and sender see it: all
    in the account's currency (one point is one unit of it), where the approval threshold and
    the monthly cap are counted too."""

    value: Decimal  # fee included; a product in another currency converted at Xoxoday's rate
    currency: str | None  # the account's (None: Xoxoday could not say just now)
    threshold: Decimal  # REWARD_APPROVAL_THRESHOLD: orders worth this or more wait for approval
    spent_before: Decimal  # the sender's orders this calendar month, without this one
    cap: Decimal  # REWARD_GIFT_MONTHLY_CAP


@dataclass(frozen=True, slots=True)
class GiftCard:
    """What people are told about an order (never its codes)."""

    po_number: str
    donation: bool
    product: str
    amount: Decimal
    currency: str | None
    giver_id: str
    recipient_id: str | None  # None: a donation in the team's name
    status: OrderStatus
    note: str | None = None
    delivery_status: str | None = None
    points: int | Decimal | None = None  # paid with the sender's points
    message: str | None = None  # what went wrong, in plain words
    channel_id: str | None = None  # where it was sent from
    cost: GiftCost | None = None  # from the company account: what it costs, for approvals

    @property
    def price(self) -> str:
        return money(self.amount, self.currency)


@dataclass(frozen=True, slots=True)
class VoucherCode:
    code: str | None
    pin: str | None
    validity: str | None
    amount: Decimal | None
    currency: str | None


@dataclass(frozen=True, slots=True)
class Revealed:
    card: GiftCard
    codes: tuple[VoucherCode, ...]


@dataclass(frozen=True, slots=True)
class GiftForm:
    """What the form offers this person."""

    donation: bool
    recipient: str | None
    company: bool  # may send from the company account
    points: int | Decimal | None  # points in the bot: what they may spend (None: not offered)
    filters: dict[str, tuple[tuple[str, str], ...]] = field(default_factory=dict)
    loading: bool = False  # Xoxoday's catalogue is not read yet: no filters, no search yet


@dataclass(frozen=True, slots=True)
class GiftRequest:
    user_id: str
    request_key: str
    donation: bool
    recipient_id: str | None
    product_id: int | None
    amount: str
    note: str | None = None
    pay_with_points: bool = False
    channel_id: str | None = None


SELF_DONATION = (
    "You can't donate in your own name. Pick someone else, or leave the person out to donate "
    "in the team's name."
)
NOT_FOUND = "I can't find that person in Slack. Pick someone else."
CATALOGUE_UNREADABLE = (
    "I can't reach Xoxoday's catalogue right now, so I can't check this one. Try again in a "
    "few minutes."
)


def recipient_problem(person: Person, *, donation: bool) -> str | None:
    """Why this person can't be picked for a gift card (or as the one a donation is made in
    the name of), in words for the form's field (plain text: no mentions); None: they can."""
    if person.is_bot:
        return "That's a bot. Pick a person."
    if person.deleted:
        return "That account is deactivated. Pick someone else."
    if not donation and not person.email:
        return (
            "They have no email address in Slack, and Xoxoday needs one for a gift card. "
            "Pick someone else."
        )
    return None


def company_sender(settings: Settings, user_id: str) -> bool:
    """Admins and REWARD_GIFT_SENDERS send gift cards from the company account."""
    return role_for(settings, user_id) == Role.ADMIN or user_id in settings.REWARD_GIFT_SENDERS


def may_open_gifts(settings: Settings, user_id: str) -> bool:
    """Who may open the gift form: company senders, and anyone paying with points in the bot."""
    return company_sender(settings, user_id) or settings.storefront


def card_of(order: Order, *, giver: str, recipient: str | None) -> GiftCard:
    return GiftCard(
        po_number=order.po_number,
        donation=order.kind == OrderKind.DONATION.value,
        product=order.product_name or f"product {order.product_id}",
        amount=order.denomination * order.quantity,
        currency=order.currency_code,
        giver_id=giver,
        recipient_id=recipient,
        status=OrderStatus(order.status),
        note=order.note,
        delivery_status=order.delivery_status,
        points=points_value(order.points_cents) if order.points_cents else None,
        message=order.message,
        channel_id=order.channel_id,
    )


def load_card(session: Any, order: Order) -> GiftCard:
    giver = member_repo.get_member(session, member_id=order.giver_id) if order.giver_id else None
    recipient = (
        member_repo.get_member(session, member_id=order.recipient_id)
        if order.recipient_id
        else None
    )
    return card_of(
        order,
        giver=giver.slack_user_id if giver else order.requested_by,
        recipient=recipient.slack_user_id if recipient else None,
    )


class GiftService:
    def __init__(
        self,
        *,
        store: Store,
        plum: PlumClient,
        people: Directory,
        settings: Settings,
        catalogue: Catalogue,
        teller: Teller,
        on_queued: Callable[[], None] = lambda: None,
        account: Callable[[], Balance | None] | None = None,
        now: Callable[[], datetime] = clock.now,
    ) -> None:
        self._store = store
        self._account = account or plum.get_balance
        self._plum = plum
        self._people = people
        self._settings = settings
        self.catalogue = catalogue
        self._teller = teller
        self._on_queued = on_queued
        self._now = now

    # --- who may -------------------------------------------------------------------------------

    def company_sender(self, user_id: str) -> bool:
        return company_sender(self._settings, user_id)

    def may_open(self, user_id: str) -> bool:
        return may_open_gifts(self._settings, user_id)

    def form(
        self,
        user_id: str,
        *,
        donation: bool,
        recipient: str | None,
        wait: bool = True,
        within: float = 0.0,
    ) -> GiftForm | Refusal:
        """What the form offers `user_id`, or why they can't open it. `wait=False`: waiting
        at most `within` seconds for Xoxoday's catalogue if it was never read (then
        `GiftForm.loading`)."""
        if not self.may_open(user_id):
            what = "donations" if donation else "gift cards"
            return Refusal(
                f"Only admins and the gift senders they chose can send {what} from the "
                "company account. Ask an admin if you think you should.",
                code="not_allowed",
            )
        with self._store.read_session() as session:
            locked = policy.may_give(locked=lock_repo.is_locked(session, slack_user_id=user_id))
        if locked is not None:
            return locked
        if recipient == user_id:
            return Refusal(
                SELF_DONATION
                if donation
                else "You can't send yourself a gift card. Pick someone else.",
                code="self",
            )
        points = self._my_points(user_id) if self._settings.storefront else None
        groups = (
            ("country", "currency") if donation else ("country", "product_category", "currency")
        )
        loading = not wait and not self.catalogue.loaded(within)
        filters = {
            g: tuple((c.label, c.value) for c in self.catalogue.filter_choices(g, wait=wait))
            for g in groups
        }
        return GiftForm(
            donation=donation,
            recipient=recipient,
            company=self.company_sender(user_id),
            points=points,
            filters=filters,
            loading=loading,
        )

    def _my_points(self, user_id: str) -> int | Decimal:
        with self._store.read_session() as session:
            member = member_repo.get_member_by_slack_id(session, slack_user_id=user_id)
            if member is None or member.id is None:
                return 0
            bal = points_repo.balance(session, member_id=member.id, today=self._now().date())
        return points_value(bal.available)

    # --- the catalogue -------------------------------------------------------------------------

    def options(
        self, query: str, *, filters: Filters, donation: bool, within: float = 0.0
    ) -> list[Voucher] | None:
        """The products a form's search finds, from the catalogue in memory, waiting at most
        `within` seconds for its first read (None: not read yet; a read has been started)."""
        if not self.catalogue.loaded(within):
            return None
        return self.catalogue.search(query[:100], filters=filters, charity=donation, wait=False)

    def product(self, product_id: int) -> Voucher | None:
        return self.catalogue.product(product_id)

    # --- ordering ------------------------------------------------------------------------------

    def problems(self, request: GiftRequest) -> dict[str, str]:
        """What is wrong with the form, by field (recipient, product, amount, note, pay),
        from what the bot knows without asking anyone (empty: nothing)."""
        problems: dict[str, str] = {}
        company = self.company_sender(request.user_id)
        with_points = request.pay_with_points and self._settings.storefront
        if not with_points and not company:
            problems["pay"] = "Only admins and gift senders can use the company account."
        product = self.product(request.product_id) if request.product_id is not None else None
        if product is None and request.product_id is not None and self.catalogue.unreadable():
            problems["product"] = CATALOGUE_UNREADABLE
        elif product is None:
            problems["product"] = "Pick a " + ("charity." if request.donation else "gift card.")
        elif is_charity(product) != request.donation:
            problems["product"] = "That one isn't a " + (
                "charity." if request.donation else "gift card."
            )
        if not request.donation and request.recipient_id is None:
            problems["recipient"] = "Pick who gets the gift card."
        if request.recipient_id == request.user_id:
            problems["recipient"] = (
                SELF_DONATION if request.donation else "You can't send yourself a gift card."
            )
        amount = _amount(request.amount)
        if amount is None:
            problems["amount"] = "Enter an amount, like 500."
        elif product is not None:
            why = amount_problem(product, amount)
            if why:
                problems["amount"] = why
        note = (request.note or "").strip()
        if len(note) > NOTE_MAX_CHARS:
            problems["note"] = f"Keep the message under {NOTE_MAX_CHARS} characters."
        return problems

    def recipient_problem(self, request: GiftRequest) -> str | None:
        """What is wrong with the person picked, as Slack knows them: a bot, a deactivated
        account, or (for a gift card) nobody Xoxoday can email. Slack's people picker offers
        them all (it has no filter), so the form's check says it beside the field. None when
        they will do, or when Slack can't say right now (the order checks again)."""
        if request.recipient_id is None:
            return None
        try:
            person = self._people.profile(request.recipient_id).person
        except UnknownSlackUser:
            return NOT_FOUND
        except DirectoryUnavailable:
            return None
        return recipient_problem(person, donation=request.donation)

    def submit(self, request: GiftRequest) -> GiftCard | Refusal:
        """Check the form and commit the order (see the module doc). A Refusal's `fields`
        name the form's inputs: recipient, product, amount, note, pay."""
        problems = self.problems(request)
        settings = self._settings
        with_points = request.pay_with_points and settings.storefront
        product = self.product(request.product_id) if request.product_id is not None else None
        amount = _amount(request.amount)
        note = (request.note or "").strip() or None
        if problems or product is None or amount is None:
            return Refusal(next(iter(problems.values())), code="form", fields=problems)
        fee = product.fee or Decimal(0)
        cost = self._in_account_currency(amount + fee, product)
        if isinstance(cost, Refusal):
            return cost
        value, account_currency = cost
        try:
            giver = self._people.profile(request.user_id)
            recipient = self._people.profile(request.recipient_id) if request.recipient_id else None
        except UnknownSlackUser:
            return Refusal(NOT_FOUND, fields={"recipient": NOT_FOUND})
        except DirectoryUnavailable:
            return Refusal("Slack isn't answering right now. Try again in a minute.")
        wrong = (
            recipient_problem(recipient.person, donation=request.donation) if recipient else None
        )
        if wrong is not None:
            return Refusal(wrong, fields={"recipient": wrong})
        if not with_points:
            refused = self._company_checks(request.user_id, value, account_currency)
            if refused is not None:
                return refused
        needs_approval = value >= settings.REWARD_APPROVAL_THRESHOLD and not with_points
        po_number = new_po_number()
        kind = OrderKind.DONATION if request.donation else OrderKind.GIFT
        try:
            with self._store.session() as session:
                giver_member = self._people.member(session, giver, team_id=giver.team_id)
                locked = policy.may_give(locked=giver_member.locked)
                if locked is not None:
                    return locked
                recipient_member = (
                    self._people.member(session, recipient, team_id=giver.team_id)
                    if recipient is not None
                    else None
                )
                cents = int(value * CENTS) if with_points else None
                created = orders_repo.create_order(
                    session,
                    po_number=po_number,
                    kind=kind,
                    giver=giver_member,
                    recipient=recipient_member,
                    product_id=str(product.product_id),
                    product_name=product.name,
                    quantity=1,
                    denomination=amount,
                    currency_code=product.currency_code,
                    order_value=value,
                    request={"productId": product.product_id, "denomination": str(amount)},
                    request_key=request.request_key,
                    needs_approval=needs_approval,
                    note=note,
                    points_cents=cents,
                    channel_id=request.channel_id,
                )
                if created.fresh and cents is not None:
                    points_repo.redeem(
                        session,
                        member_id=giver_member.id or 0,
                        order_id=points_order_id(created.order.po_number),
                        cents=cents,
                        today=self._now().date(),
                        details={"gift": product.name, "po_number": created.order.po_number},
                    )
                card = card_of(
                    created.order,
                    giver=giver.person.user_id,
                    recipient=recipient.person.user_id if recipient else None,
                )
        except PointsRefused as err:
            return Refusal(err.text, code="points", fields={"pay": err.text})
        if not created.fresh:
            return card
        log.info("order %s committed (%s)", card.po_number, card.status)
        if card.status is OrderStatus.PENDING_APPROVAL:
            card = replace(card, cost=self._cost(card.giver_id, value, account_currency, po_number))
            self._teller.tell(OrderAwaitsApproval(card, tuple(self._approvers())))
        else:
            self._on_queued()
            self._teller.tell(OrderQueued(card))
        return card

    def _in_account_currency(
        self, price: Decimal, product: Voucher
    ) -> tuple[Decimal, str | None] | Refusal:
        """What `price` (in the product's currency) costs the account, in its currency (one
        point is one unit of it), rounded up to the cent; with that currency."""
        account = self._account()
        currency = account.currency if account is not None else None
        if currency is None:
            return Refusal(
                "I couldn't read the company account's currency from Xoxoday, so nothing was "
                "ordered. Try again in a minute."
            )
        if (product.currency_code or currency).upper() == currency.upper():
            return price, currency
        rate = rate_of(product)
        if rate is None:
            return Refusal(
                f"Xoxoday didn't say what {product.currency_code} costs in {currency} right now, "
                "so nothing was ordered. Try again in a minute."
            )
        return (price * rate).quantize(Decimal("0.01"), rounding=ROUND_UP), currency

    def _spent_this_month(self, user_id: str, *, excluding: str | None = None) -> Decimal:
        """What `user_id`'s orders from the company account are worth this calendar month
        (REWARD_TIMEZONE), without the order `excluding` (a poNumber)."""
        since, until = month_bounds(self._settings.REWARD_TIMEZONE, now=self._now())
        with self._store.read_session() as session:
            member = member_repo.get_member_by_slack_id(session, slack_user_id=user_id)
            if member is None or member.id is None:
                return Decimal(0)
            return orders_repo.spent_between(
                session, giver_id=member.id, since=since, until=until, excluding=excluding
            )

    def _cost(self, user_id: str, value: Decimal, currency: str | None, po_number: str) -> GiftCost:
        settings = self._settings
        return GiftCost(
            value=value,
            currency=currency,
            threshold=Decimal(settings.REWARD_APPROVAL_THRESHOLD),
            spent_before=self._spent_this_month(user_id, excluding=po_number),
            cap=settings.REWARD_GIFT_MONTHLY_CAP,
        )

    def _company_checks(self, user_id: str, value: Decimal, currency: str | None) -> Refusal | None:
        settings = self._settings
        spent = self._spent_this_month(user_id)
        cap = settings.REWARD_GIFT_MONTHLY_CAP
        if spent + value > cap:
            left = max(cap - spent, Decimal(0))
            return Refusal(
                f"That's more than you can send this month: it costs {money(value, currency)}, "
                f"and you have {money(left, currency)} of your {money(cap, currency)} left. "
                "Pick a smaller amount, or ask an admin.",
                code="cap",
                fields={"amount": f"You have {money(left, currency)} left this month."},
            )
        try:
            balance = self._plum.get_balance()
        except PlumError as err:
            log.warning("getBalance failed before an order: %s", type(err).__name__)
            return Refusal(
                "I couldn't check the company account with Xoxoday, so nothing was ordered. "
                "Try again in a minute."
            )
        if balance.value < value:
            return Refusal(
                f"The company account has {money(balance.value, balance.currency)}, and this "
                f"needs {money(value, currency)}. Ask an admin to add funds; "
                "nothing was ordered.",
                code="balance",
                fields={"amount": "More than the company account holds."},
            )
        return None

    def _approvers(self) -> list[str]:
        s = self._settings
        return list(dict.fromkeys([*s.REWARD_APPROVERS, *s.REWARD_ADMINS]))

    # --- approvals and codes -------------------------------------------------------------------

    def decide(self, *, po_number: str, user_id: str, approve: bool) -> GiftCard | Refusal:
        if role_for(self._settings, user_id) not in (Role.APPROVER, Role.ADMIN):
            return Refusal("Only approvers and admins decide on gift orders.", code="not_allowed")
        try:
            with self._store.session() as session:
                order = orders_repo.get_order(session, po_number=po_number)
                if order is None:
                    return Refusal("I can't find that order any more.")
                if order.requested_by == user_id:
                    return Refusal(
                        "You can't decide on your own order: another approver will.",
                        code="own",
                    )
                if approve and lock_repo.is_locked(session, slack_user_id=order.requested_by):
                    who = f"<@{order.requested_by}>"
                    return Refusal(
                        f"{who} is locked from giving, so their order can't be approved now. "
                        f"Reject it, or ask an admin to unlock them first (`/reward unlock "
                        f"{who}`). Nothing was changed.",
                        code="locked",
                    )
                done = orders_repo.decide(
                    session, po_number=po_number, approver=user_id, approve=approve
                )
                card = load_card(session, done)
                value = done.order_value
        except orders_repo.OrderChanged as err:
            return Refusal(f"That order was already decided (it is {err.status}).")
        if value is not None and done.points_cents is None:  # the approver's copy keeps it
            account = self._account()
            currency = account.currency if account is not None else None
            card = replace(card, cost=self._cost(card.giver_id, value, currency, po_number))
        if approve:
            self._on_queued()
        self._teller.tell(OrderDecided(card, approver=user_id, approved=approve))
        return card

    def settle(self, *, po_number: str, user_id: str, placed: bool) -> GiftCard | Refusal:
        """An admin settles an order in doubt: placed (its answer is read from Xoxoday by
        poNumber when it can be) or failed (points paid with are given back)."""
        if role_for(self._settings, user_id) != Role.ADMIN:
            return Refusal("Only admins settle orders in doubt.", code="not_allowed")
        with self._store.read_session() as session:
            known = orders_repo.get_order(session, po_number=po_number)
        if known is None:
            return Refusal("I can't find that order. Nothing changed.")
        if known.status != OrderStatus.UNKNOWN.value:
            return Refusal("That order isn't in doubt any more. Nothing changed.")
        answer: dict[str, Any] | None = None
        plum_id: str | None = None
        if placed:
            try:
                found = self._plum.get_order_details(po_number=po_number)
                answer = dict(found.raw)
                plum_id = str(found.order_id) if found.order_id is not None else None
            except PlumError:
                answer = None  # the admin knows better than a lookup that failed
        try:
            with self._store.session() as session:
                done = order_repo.record_order_response(
                    session,
                    po_number=po_number,
                    status=OrderStatus.PLACED if placed else OrderStatus.FAILED,
                    response=answer,
                    actor=user_id,
                    plum_order_id=plum_id,
                    message=None if placed else "an admin found it was not ordered",
                )
                if not placed and done.points_cents:
                    give_points_back(session, done)
                card = load_card(session, done)
        except order_repo.StaleStatus:
            return Refusal("That order isn't in doubt any more. Nothing changed.")
        self._teller.tell(OrderPlaced(card) if placed else OrderFailed(card))
        return card

    def reveal(self, *, po_number: str, user_id: str) -> Revealed | Refusal:
        """The codes of a placed gift card, for its recipient only (audited, codes never)."""
        with self._store.session() as session:
            order = orders_repo.get_order(session, po_number=po_number)
            if order is None:
                return Refusal("I can't find that gift card.")
            card = load_card(session, order)
            if card.recipient_id != user_id or card.donation:
                return Refusal("Only the person the gift card is for can see its code.")
            if card.status is not OrderStatus.PLACED:
                return Refusal("The gift card isn't ready yet: I'll DM you when it is.")
            answer = order_repo.reveal_order_response(session, po_number=po_number)
            audit.append(
                session,
                actor=user_id,
                action=AuditAction.ORDER_REVEALED,
                subject_type="order",
                subject_id=po_number,
            )
        codes = codes_in(answer, po_number)
        if not codes:
            codes = self._codes_sent_later(po_number, user_id)
        if not codes:
            return Refusal(
                "Xoxoday hasn't sent the code yet: I'll DM you when the gift card is delivered, "
                "and then Reveal shows it."
                if card.delivery_status in (None, "pending")
                else "Xoxoday sent no code with this gift card: it comes by email from Xoxoday."
            )
        return Revealed(card=card, codes=codes)

    def _codes_sent_later(self, po_number: str, user_id: str) -> tuple[VoucherCode, ...]:
        """A gift card delivered after placeOrder answered: its codes, read from Xoxoday now
        and kept encrypted like the first answer."""
        try:
            found = self._plum.get_order_details(po_number=po_number)
        except PlumError as err:
            log.info("order %s: could not read its codes (%s)", po_number, type(err).__name__)
            return ()
        codes = codes_in(dict(found.raw), po_number)
        if codes:
            with self._store.session() as session:
                order_repo.refresh_placed_response(
                    session, po_number=po_number, response=dict(found.raw), actor=user_id
                )
        return codes


def give_points_back(session: Any, order: Order) -> None:
    """A gift paid with points that definitely failed: the points come back (once)."""
    try:
        points_repo.refund(
            session,
            member_id=order.giver_id or 0,
            order_id=points_order_id(order.po_number),
            cents=order.points_cents or 0,
            refund_key=f"gift-failed-{order.po_number}",
            today=clock.now().date(),
            comments="the gift order failed",
        )
    except PointsRefused as err:  # pragma: no cover - the order took exactly these
        log.error("order %s: points not given back (%s)", order.po_number, err.code)


def _amount(text: str) -> Decimal | None:
    cleaned = (text or "").strip().replace(",", "")
    if not cleaned or len(cleaned) > 20:
        return None
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


def codes_in(answer: Any, po_number: str) -> tuple[VoucherCode, ...]:
    """The codes in a stored placeOrder (or getOrderDetails) answer: secrets, never logged."""
    if not isinstance(answer, dict):
        return ()
    order = None
    for read in (placed_order, order_details):  # placeOrder's answer, or a lookup's
        try:
            order = read(answer, po_number=po_number)
            break
        except Exception:  # not this shape
            continue
    if order is None:
        return ()
    return tuple(
        VoucherCode(
            code=v.code,
            pin=v.pin,
            validity=v.validity or v.valid_to,
            amount=v.amount,
            currency=v.currency,
        )
        for v in order.vouchers
        if v.code or v.pin
    )


def denominations_text(voucher: Voucher) -> str:
    fixed = amounts_of(voucher)
    currency = voucher.currency_code or ""
    if fixed:
        return ", ".join(f"{d:,}" for d in fixed) + f" {currency}"
    low = f"{voucher.min_value:,}" if voucher.min_value is not None else "any"
    high = f"{voucher.max_value:,}" if voucher.max_value is not None else "any"
    return f"{low} to {high} {currency}"
