"""The four endpoints Xoxoday's hosted store calls when points live in the bot (seed 002):
balance, GetProfile, update redemption (the debit) and refund.

`StoreFrontService` takes a request body as Xoxoday sends it (the seed's shapes and the newer
guide's) and gives an `Answer`: the HTTP status and the JSON body. Nothing here knows HTTP
beyond that; `bot.storefront_web` serves it. Every answer carries `status` "1" or "0" and a
message; bad or unauthenticated calls change nothing:
- 401: the auth token is unknown, expired, revoked or someone else's (GetProfile: the api_key);
- 400: the request is not one of these shapes (the message says which field);
- 200 with status "0": understood and refused (not enough points, a refund larger than the
  order, an order id already used for another amount).
Debits and refunds are idempotent on the order id (`storage.points`).
"""

from __future__ import annotations

import hmac
import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import Connection
from sqlmodel import Session

from bot.rewards.events import PeopleChanged, Teller
from storage import clock
from storage import members as member_repo
from storage import points as points_repo
from storage import storefront_secrets as secrets_repo
from storage.db import Store
from storage.models import Member
from storage.points import CENTS, PointsRefused, points_text
from storage.states import SecretKind
from storage.storefront_secrets import Holder

log = logging.getLogger(__name__)

MAX_POINTS = Decimal(1_000_000_000)
HUNDREDTH = Decimal("0.01")
_ID = re.compile(r"^[\x21-\x7e]{1,100}$")  # printable ASCII, no spaces


@dataclass(frozen=True, slots=True)
class Answer:
    status_code: int
    body: dict[str, Any]


class _Bad(Exception):
    def __init__(self, status_code: int, message: str) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.message = message


def refused(message: str, status_code: int = 200) -> Answer:
    return Answer(status_code, {"status": "0", "message": message})


UNAUTHENTICATED = "The auth_token is not valid for this person (unknown, expired or revoked)."


def parse_points(value: object, name: str) -> int:
    """A positive amount of points (string or number, at most two decimals) in cents."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise _Bad(400, f'{name} must be an amount of points, like "129" or "348.5".')
    if isinstance(value, str) and (not value.isascii() or "_" in value):
        # Decimal reads other scripts' digits ("٣", "１") and separators ("1_0") as numbers.
        raise _Bad(400, f'{name} must be an amount of points, like "129" or "348.5".')
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        raise _Bad(400, f'{name} must be an amount of points, like "129" or "348.5".') from None
    if not amount.is_finite() or amount <= 0:
        raise _Bad(400, f"{name} must be more than 0.")
    if amount > MAX_POINTS:
        raise _Bad(400, f"{name} is larger than any balance here.")
    # Compared exactly: multiplying first rounds to 28 digits, and underflows to 0 cents.
    if amount != amount.quantize(HUNDREDTH):
        raise _Bad(400, f"{name} can have at most two decimals (hundredths of a point).")
    return int(amount * CENTS)


def _zero(value: object) -> bool:
    """0 however it is written: 0, 0.0, "0", "0.00"."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return False
    try:
        return Decimal(str(value).strip()) == 0
    except InvalidOperation:
        return False


def _text(body: Mapping[str, Any], name: str, *, required: bool = True) -> str | None:
    value = body.get(name)
    if value is None or value == "":
        if required:
            raise _Bad(400, f"{name} is missing.")
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise _Bad(400, f"{name} must be a string.")
    text = str(value).strip()
    if not _ID.match(text):
        raise _Bad(400, f"{name} must be 1 to 100 printable characters without spaces.")
    return text


def _plain(value: object, limit: int) -> str:
    """Text that can be stored and hashed: printable characters only (no NUL, no lone
    surrogates, which JSON allows), at most `limit` of them."""
    return "".join(ch for ch in str(value) if ch.isprintable())[:limit]


def _comments(body: Mapping[str, Any]) -> str | None:
    value = body.get("comments")
    if not isinstance(value, str) or not value.strip():
        return None
    cleaned = "".join(ch for ch in value if ch.isprintable() or ch == " ")
    return cleaned.strip()[:500] or None


def _order_details(body: Mapping[str, Any]) -> dict[str, Any] | None:
    """What the order bought, from the newer guide's `orderData` (names and amounts only)."""
    details: dict[str, Any] = {}
    order_date = body.get("order_date")
    if isinstance(order_date, int | str) and not isinstance(order_date, bool):
        details["order_date"] = _plain(order_date, 20)
    items = body.get("orderData")
    if isinstance(items, list):
        kept = []
        for item in items[:20]:
            if not isinstance(item, Mapping):
                continue
            product = item.get("product") if isinstance(item.get("product"), Mapping) else {}
            assert isinstance(product, Mapping)
            kept.append(
                {
                    "product": _plain(product.get("name", ""), 200),
                    "product_id": _plain(product.get("productId", ""), 64),
                    "category": _plain(product.get("category", ""), 32),
                    "quantity": _plain(item.get("quantity", ""), 10),
                    "amount": _plain(item.get("orderAmount", ""), 20),
                }
            )
        if kept:
            details["items"] = kept
    comments = _comments(body)
    if comments:
        details["comments"] = comments
    return details or None


class StoreFrontService:
    """The point system Xoxoday's store talks to (`Runtime.storefront`)."""

    def __init__(
        self,
        *,
        store: Store,
        api_key: str,
        company: str = "",
        teller: Teller,
        today: Callable[[], date] = lambda: clock.now().date(),
    ) -> None:
        self._store = store
        self._api_key = api_key.encode()
        self._company = company
        self._teller = teller
        self._today = today

    def answer(self, endpoint: str, body: object) -> Answer:
        """Dispatch one call (`balance`, `profile`, `redeem`, `refund`)."""
        handler = {
            "balance": self.balance,
            "profile": self.profile,
            "redeem": self.redeem,
            "refund": self.refund,
        }.get(endpoint)
        if handler is None:
            return refused("There is no such endpoint.", 404)
        if not isinstance(body, Mapping):
            return refused("The request must be a JSON object.", 400)
        try:
            return handler(body)
        except _Bad as bad:
            return refused(bad.message, bad.status_code)

    # --- the four endpoints -------------------------------------------------------------------

    def balance(self, body: Mapping[str, Any]) -> Answer:
        unique_id = _text(body, "unique_id") or ""
        raw = _token(body)
        with self._store.one_read() as conn:
            found = secrets_repo.find_with_figures(
                conn, raw=raw, kind=SecretKind.AUTH_TOKEN, today=self._today()
            )
        if found is None or found[0].slack_user_id != unique_id or not found[0].active:
            raise _Bad(401, UNAUTHENTICATED)
        bal = found[1]
        available = points_text(bal.available)
        return Answer(
            200,
            {
                "status": "1",
                "message": "Balance fetched",
                "points_info": {
                    "points_received": points_text(bal.received),
                    "points_redeemed": points_text(bal.redeemed),
                    "points_available": available,
                },
                "data": {"unique_id": unique_id, "points": available},
            },
        )

    def profile(self, body: Mapping[str, Any]) -> Answer:
        key = body.get("api_key")
        if not isinstance(key, str) or not hmac.compare_digest(
            key.encode("utf-8", "surrogatepass"), self._api_key
        ):
            return refused("The api_key is not valid.", 401)
        employee_id = _text(body, "employee_id") or ""
        with self._store.read_session() as session:
            member = member_repo.get_member_by_slack_id(session, slack_user_id=employee_id)
            if member is None or not member.active or member.is_bot:
                return refused(f"There is no employee {employee_id} here.")
            bal = points_repo.balance(session, member_id=_id(member), today=self._today())
        first, last = _names(member)
        email = member.email or ""
        return Answer(
            200,
            {
                "status": 1,
                "message": "Successfully loaded employee's data",
                "employee_data": {
                    "employee_id": employee_id,
                    "company_email_id": email,
                    "first_name": first,
                    "last_name": last,
                    "primary_mobile_number": "",
                    "designation_name": "",
                    "department": "",
                    "group_company": self._company,
                },
                "user_data": {
                    "unique_id": employee_id,
                    "company_email_id": email,
                    "first_name": first,
                    "last_name": last,
                    "mobile_number": "",
                    "points": points_text(bal.available),
                },
            },
        )

    def redeem(self, body: Mapping[str, Any]) -> Answer:
        unique_id = _text(body, "unique_id") or ""
        order_id = _text(body, "order_id") or ""
        added = body.get("total_points_added")
        if (
            added not in (None, "")
            and not _zero(added)
            and parse_points(added, "total_points_added")
        ):
            return refused(
                "Points can't be added with an update: only a refund of an order gives points back."
            )
        cents = parse_points(body.get("total_points_redeemed"), "total_points_redeemed")
        details = _order_details(body)
        with self._store.session() as session:
            holder = self._authenticated(session, body, unique_id)
            try:
                done = points_repo.redeem(
                    session,
                    member_id=holder.member_id,
                    order_id=order_id,
                    cents=cents,
                    today=self._today(),
                    token_id=holder.secret_id,
                    details=details,
                )
            except PointsRefused as err:
                log.info("storefront: redemption of order %s refused (%s)", order_id, err.code)
                return refused(err.text)
        if not done.repeat:
            log.info("storefront: order %s redeemed %s points", order_id, points_text(cents))
            self._teller.tell(PeopleChanged.of([holder.slack_user_id]))
        return Answer(
            200,
            {
                "status": "1",
                "message": "Successfully updated",
                "data": {"order_id": order_id, "points": points_text(done.balance_after)},
            },
        )

    def refund(self, body: Mapping[str, Any]) -> Answer:
        unique_id = _text(body, "unique_id") or ""
        order_id = _text(body, "order_id", required=False)
        transaction_id = _text(body, "transactionid", required=False) or _text(
            body, "transaction_id", required=False
        )
        order_id = order_id or transaction_id
        if order_id is None:
            raise _Bad(400, "order_id (or transactionid) is missing.")
        cents = parse_points(body.get("redemption_amount"), "redemption_amount")
        # A refund reference distinct from the order id, when Xoxoday sends one, tells two
        # partial refunds of the same amount apart; without one they are the same refund.
        reference = transaction_id if transaction_id and transaction_id != order_id else ""
        key = f"{order_id}\x1f{reference}\x1f{cents}"
        comments = _comments(body)
        with self._store.session() as session:
            holder = self._authenticated(session, body, unique_id, for_order=order_id)
            try:
                done = points_repo.refund(
                    session,
                    member_id=holder.member_id,
                    order_id=order_id,
                    cents=cents,
                    refund_key=key,
                    today=self._today(),
                    comments=comments,
                )
            except PointsRefused as err:
                log.info("storefront: refund of order %s refused (%s)", order_id, err.code)
                return refused(err.text)
        if not done.repeat:
            log.info("storefront: order %s refunded %s points", order_id, points_text(cents))
            self._teller.tell(PeopleChanged.of([holder.slack_user_id]))
        return Answer(
            200,
            {
                "status": "1",
                "message": "Successfully updated",
                "data": {
                    "transaction_id": transaction_id or order_id,
                    "order_id": order_id,
                    "points": points_text(done.balance_after),
                },
            },
        )

    # --- auth -------------------------------------------------------------------------------

    def _authenticated(
        self,
        reader: Session | Connection,
        body: Mapping[str, Any],
        unique_id: str,
        *,
        for_order: str | None = None,
    ) -> Holder:
        """The token `auth_token` and the person `unique_id` names, when the token is theirs and
        alive. A refund may come after the token expired or was revoked (the person left): the
        token that paid for that order still counts for its refunds, which only ever give
        points back."""
        refund = for_order is not None
        holder = secrets_repo.find_with_member(
            reader,
            raw=_token(body),
            kind=SecretKind.AUTH_TOKEN,
            expired_ok=refund,
            revoked_ok=refund,
        )
        if holder is None or holder.slack_user_id != unique_id:
            raise _Bad(401, UNAUTHENTICATED)
        if not holder.active and for_order is None:
            raise _Bad(401, UNAUTHENTICATED)
        dead = not holder.alive or holder.revoked or not holder.active
        if for_order is not None and dead:
            assert isinstance(reader, Session)
            order = points_repo.find_order(reader, order_id=for_order)
            if order is None or order.token_id != holder.secret_id:
                raise _Bad(401, UNAUTHENTICATED)
        return holder


def _token(body: Mapping[str, Any]) -> str:
    raw = body.get("auth_token")
    if not isinstance(raw, str) or not raw:
        raise _Bad(401, UNAUTHENTICATED)
    return raw


def _id(member: Member) -> int:
    assert member.id is not None
    return member.id


def _names(member: Member) -> tuple[str, str]:
    full = (member.real_name or member.display_name or member.slack_user_id).strip()
    first, _, last = full.partition(" ")
    return first, last.strip()
