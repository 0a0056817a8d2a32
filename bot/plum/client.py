"""`PlumClient`: the Xoxoday Plum API over httpx, shared by every thread of the bot.

One instance per process. Every operation is a keyword-only method returning a typed result
from `bot.plum.models` or raising an error from `bot.plum.errors`. Reads repeat on transient
failures; writes never repeat unless the request provably never left (see `bot.plum.retry`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from types import TracebackType
from typing import Any, Literal

import httpx
from pydantic import SecretStr

from bot.plum import parse
from bot.plum.errors import (
    DuplicatePoNumberError,
    OrderNotFoundError,
    PlumError,
    PlumOutcomeUnknownError,
    RateLimitedError,
    RequestRejectedError,
)
from bot.plum.models import (
    Balance,
    Campaign,
    CancelBalanceResult,
    FilterGroup,
    Order,
    OrderHistory,
    PaymentRecord,
    PlacedOrder,
    Recipient,
    RewardLinks,
    SendBalanceResult,
    SendLinksResult,
    StoreSso,
    TokenInfo,
    UserBalance,
    Voucher,
)
from bot.plum.observe import CallObserver
from bot.plum.operations import OPERATIONS
from bot.plum.ratelimit import PUBLISHED_LIMITS, RateLimiter
from bot.plum.requester import Requester
from bot.plum.retry import RetryPolicy
from bot.plum.storefront import SSO_VALID_DAYS, redirect_url, store_root
from bot.plum.tokens import TokenFlow, TokenSet, TokenStore

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=5.0)
ORDER_READ_TIMEOUT = 130.0  # a realtime order may take up to 120 s
DEFAULT_MAX_RETRIES = 2


class PlumClient:
    """The Xoxoday Plum API.

    Token flows: `client_credentials` (POST /v1/oauth/token with the client id and secret) or
    `user` / `company` (a dashboard-issued refresh token, rotated through
    /v1/oauth/token/user or /company). `access_token` / `refresh_token` seed `token_store`
    when it holds nothing for this flow; afterwards the store is the source of truth.
    `store_url` is the root of Xoxoday's hosted store (StoreFront sign-ins); by default it
    follows from `base_url` (see `bot.plum.storefront`). `clock` tells the time in seconds since
    the epoch (token expiry, sign-in links, the rate limiter): the system clock unless the
    builder passes the process's clock (`build_client`). `observer` is told about each HTTP
    call to Xoxoday (`bot.plum.observe`).
    """

    def __init__(
        self,
        *,
        base_url: str,
        token_store: TokenStore,
        client_id: str | None = None,
        client_secret: SecretStr | str | None = None,
        token_flow: TokenFlow = "client_credentials",
        access_token: SecretStr | str | None = None,
        refresh_token: SecretStr | str | None = None,
        http_client: httpx.Client | None = None,
        timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
        order_timeout: httpx.Timeout | float | None = None,
        max_retries: int = DEFAULT_MAX_RETRIES,
        retry_policy: RetryPolicy | None = None,
        rate_limit: bool = True,
        rate_limits: Mapping[str, int] = PUBLISHED_LIMITS,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
        store_url: str | None = None,
        observer: CallObserver | None = None,
    ) -> None:
        if token_flow not in ("client_credentials", "user", "company"):
            raise ValueError(
                f"token_flow must be client_credentials, user or company: {token_flow!r}"
            )
        self.base_url = base_url.rstrip("/")
        self.store_url = store_root(self.base_url, store_url)
        client_secret_value = _secret(client_secret)
        if token_flow == "client_credentials" and not (client_id and client_secret_value):
            raise ValueError("the client_credentials flow needs client_id and client_secret")
        self._timeout = timeout if isinstance(timeout, httpx.Timeout) else httpx.Timeout(timeout)
        if order_timeout is None:
            order_timeout = httpx.Timeout(
                max(self._timeout.read or 0, ORDER_READ_TIMEOUT), connect=self._timeout.connect
            )
        self._order_timeout = (
            order_timeout
            if isinstance(order_timeout, httpx.Timeout)
            else httpx.Timeout(order_timeout)
        )
        self._owns_http = http_client is None
        self._http = http_client or httpx.Client(timeout=self._timeout)
        self._r = Requester(
            base_url=self.base_url,
            http=self._http,
            timeout=self._timeout,
            policy=retry_policy or RetryPolicy(max_retries=max_retries),
            limiter=RateLimiter(limits=rate_limits, clock=clock, sleep=sleep)
            if rate_limit
            else None,
            sleep=sleep,
            clock=clock,
            client_id=client_id,
            client_secret=client_secret_value,
            token_store=token_store,
            token_flow=token_flow,
            seed=_seed(token_flow, _secret(access_token), _secret(refresh_token)),
            observer=observer,
        )

    def __repr__(self) -> str:
        return f"PlumClient(base_url={self.base_url!r}, token_flow={self._r.tokens.flow!r})"

    # --- lifecycle -----------------------------------------------------------------------------

    def close(self) -> None:
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> PlumClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @property
    def token_flow(self) -> TokenFlow:
        return self._r.tokens.flow

    @property
    def tokens_issued(self) -> int:
        """How many times this client obtained tokens from Xoxoday (for monitoring)."""
        return self._r.tokens.issued

    # --- tokens --------------------------------------------------------------------------------

    def get_access_token(self) -> str:
        """A valid access token (cached; obtained or refreshed only when needed)."""
        return self._r.tokens.token()

    def refresh(self) -> None:
        """Obtain new tokens now (client credentials, or the refresh-token grant)."""
        self._r.tokens.refresh()

    def validate(self) -> TokenInfo:
        """Check the credentials with GET /v1/oauth/token; raises the AuthError that explains."""
        body = self._call_op("validateToken", None)
        return parse.token_info(body, now=self._r.now())

    validate_token = validate

    # --- catalogue and account -----------------------------------------------------------------

    def get_filters(
        self,
        *,
        filter_group_code: str | None = None,
        include_filters: str | None = None,
        exclude_filters: str | None = None,
    ) -> list[FilterGroup]:
        data = _compact(
            filterGroupCode=filter_group_code,
            includeFilters=include_filters,
            excludeFilters=exclude_filters,
        )
        return parse.filters(self._call_op("getFilters", {"data": data}))

    def get_vouchers(
        self,
        *,
        limit: int = 10,
        page: int = 1,
        filters: Mapping[str, str] | None = None,
        include_products: str | None = None,
        exclude_products: str | None = None,
        exchange_rate: bool | None = None,
        sort: tuple[str, str] | None = None,
    ) -> list[Voucher]:
        data = _compact(
            limit=limit,
            page=page,
            includeProducts=include_products,
            excludeProducts=exclude_products,
            exchangeRate=exchange_rate,
            sort={"field": sort[0], "order": sort[1]} if sort else None,
            filters=[{"key": k, "value": v} for k, v in filters.items()] if filters else None,
        )
        return parse.vouchers(self._call_op("getVouchers", {"data": data}))

    def get_balance(self) -> Balance:
        return parse.balance(self._call_op("getBalance", {"data": {}}))

    # --- orders --------------------------------------------------------------------------------

    def place_order(
        self,
        *,
        product_id: int,
        quantity: int,
        denomination: Decimal | int,
        po_number: str,
        email: str | None = None,
        contact: str | None = None,
        tag: str | None = None,
        notify_receiver_email: bool = False,
        notify_admin_email: bool = False,
    ) -> PlacedOrder:
        """Place an order; safe to call again with the same poNumber.

        After an ambiguous failure (timeout, dropped connection, 5xx) the order is looked up by
        poNumber: if Xoxoday has it, that order is returned (`recovered=True`); if not, the
        order is sent again. Store `request` and `response` of the result, as Xoxoday asks.
        """
        if not po_number:
            raise ValueError("po_number is required: it is what makes placeOrder safe to retry")
        data = _compact(
            productId=product_id,
            quantity=quantity,
            denomination=_number(denomination),
            email=email,
            contact=contact,
            tag=tag,
            poNumber=po_number,
            notifyReceiverEmail=int(notify_receiver_email),
            notifyAdminEmail=int(notify_admin_email),
        )
        variables = {"data": data}
        op = OPERATIONS["placeOrder"]
        sent = {
            "po_number": po_number,
            "product_id": product_id,
            "quantity": quantity,
            "denomination": denomination,
        }
        request = {"query": op.query, "tag": op.tag, "variables": variables}
        unsure: PlumOutcomeUnknownError | None = None
        for attempt in range(self._r.policy.max_retries + 1):
            try:
                body = self._r.call(op, variables, sent=sent, timeout=self._order_timeout)
                order = parse.placed_order(body, po_number=po_number)
                return PlacedOrder(order=order, po_number=po_number, request=request, response=body)
            except PlumOutcomeUnknownError as err:
                unsure = err
            except DuplicatePoNumberError:
                if unsure is None:
                    raise  # the caller reused a poNumber: not ours to resolve
            except RateLimitedError as err:
                delay = self._r.policy.delay(attempt, err.retry_after)
                if delay is None or attempt == self._r.policy.max_retries:
                    raise
                self._r.sleep(delay)
                continue
            found = self._find_order(po_number, unsure)
            if found is not None:
                return PlacedOrder(
                    order=found[0],
                    po_number=po_number,
                    request=request,
                    response=found[1],
                    recovered=True,
                )
            log.info("placeOrder %s not found after an ambiguous failure; sending again", po_number)
            if attempt < self._r.policy.max_retries:
                self._r.sleep(self._r.policy.backoff(attempt))
        assert unsure is not None
        raise unsure

    def _find_order(
        self, po_number: str, unsure: PlumOutcomeUnknownError
    ) -> tuple[Order, dict[str, Any]] | None:
        try:
            body = self._call_op("getOrderDetails", {"data": {"poNumber": po_number}})
        except OrderNotFoundError:
            return None
        except PlumError as err:
            raise unsure from err  # cannot tell: say so, never guess
        return parse.order_details(body, po_number=po_number), body

    def get_order_details(
        self,
        *,
        order_id: int | None = None,
        po_number: str | None = None,
        send_mail_to_receiver: bool = False,
    ) -> Order:
        if (order_id is None) == (po_number is None):
            raise ValueError("give exactly one of order_id and po_number")
        data = _compact(orderId=order_id, poNumber=po_number)
        data["sendMailToReceiver"] = int(send_mail_to_receiver)
        body = self._call_op("getOrderDetails", {"data": data})
        return parse.order_details(body, po_number=po_number)

    def get_order_history(
        self,
        *,
        start_date: date,
        end_date: date,
        limit: int = 10,
        page: int = 1,
        tag: str | None = None,
    ) -> OrderHistory:
        data = _compact(
            startDate=start_date.isoformat(),
            endDate=end_date.isoformat(),
            limit=limit,
            page=page,
            tag=tag,
        )
        return parse.order_history(self._call_op("getOrderHistory", {"data": data}))

    def payment_history(
        self,
        *,
        start_date: date,
        end_date: date,
        limit: int = 10,
        page: int = 1,
        request_style: Literal["spec", "guide"] = "spec",
    ) -> list[PaymentRecord]:
        """Payment report. `spec` sends `variables.data`; `guide` sends a top-level `data` key
        (Xoxoday's guide). Both answers (`paymentHistory`, `getPaymentReport`) are read."""
        data = {
            "startDate": start_date.isoformat(),
            "endDate": end_date.isoformat(),
            "limit": limit,
            "page": page,
        }
        if request_style == "guide":
            body = self._call_op("paymentHistory", {}, extra={"data": data})
        else:
            body = self._call_op("paymentHistory", {"data": data})
        return parse.payment_history(body)

    # --- points --------------------------------------------------------------------------------

    def send_balance(
        self,
        *,
        sender_email: str,
        expiry_month: int,
        recipients: Sequence[Recipient],
        payload_style: Literal["flat", "recipients_data"] = "flat",
    ) -> SendBalanceResult:
        """Send points to many recipients in one call. Never repeated once it may have left:
        an unknown outcome raises PlumOutcomeUnknownError listing what was sent."""
        if not recipients:
            raise ValueError("send_balance needs at least one recipient")
        fields = {
            "sender_email": sender_email,
            "expiry_month": expiry_month,
            "recipients": [
                {
                    "to_name": r.name or r.email,
                    "to_email": r.email,
                    "amount": str(r.points),
                    "citation": r.citation,
                }
                for r in recipients
            ],
        }
        variables = {"recipients_data": fields} if payload_style == "recipients_data" else fields
        sent = {
            "sender_email": sender_email,
            "recipients": [{"email": r.email, "points": r.points} for r in recipients],
            "total_points": sum(r.points for r in recipients),
        }
        body = self._call_op("sendBalance", variables, sent=sent)
        result, failure = parse.send_balance(body, recipients)
        if failure is not None:
            raise RequestRejectedError(
                "Xoxoday did not send the points.",
                detail=self._r.scrub(failure),
                operation="sendBalance",
            )
        return result

    def user_balance(self, *, email: str | None = None, phone: str | None = None) -> UserBalance:
        if (email is None) == (phone is None):
            raise ValueError("give exactly one of email and phone")
        user = {"email": email} if email is not None else {"phone": phone}
        return parse.user_balance(self._call_op("user_balance", {"user_data": user}))

    def cancel_balance(self, *, unique_ids: Sequence[int]) -> CancelBalanceResult:
        """Cancel whole sendBalance transactions (within 90 days, if not redeemed). Per-id
        outcomes are in the result's `recipients`; `ok` is False when any failed."""
        if not unique_ids:
            raise ValueError("cancel_balance needs at least one unique_id")
        variables = {"recipients_data": {"recipients": [{"unique_id": i} for i in unique_ids]}}
        body = self._call_op("cancelBalance", variables, sent={"unique_ids": list(unique_ids)})
        return parse.cancel_balance(body)

    # --- links ---------------------------------------------------------------------------------

    def generate_link(self, *, campaign_id: int, quantity: int, expiry: date) -> RewardLinks:
        data = {
            "campaignId": campaign_id,
            "links_quantity": quantity,
            "link_expiry": expiry.strftime("%d-%m-%Y"),
        }
        sent = {"campaign_id": campaign_id, "quantity": quantity, "expiry": expiry.isoformat()}
        body = self._call_op("generateLink", {"data": data}, sent=sent)
        links, success = parse.reward_links(body)
        if not success:
            raise RequestRejectedError(
                "Xoxoday did not generate the reward links.",
                detail=self._r.scrub(links.message or ""),
                operation="generateLink",
            )
        return links

    def campaign_list(
        self,
        *,
        limit: int | None = None,
        offset: int | None = None,
        name: str | None = None,
        enabled: bool | None = None,
    ) -> list[Campaign]:
        add = _compact(limit=limit, offset=offset, name=name, enabled=enabled)
        return parse.campaigns(self._call_op("campaignList", {"add_data": add}))

    def send_links(
        self, *, campaign_id: int, emails: Sequence[str], expiry: date
    ) -> SendLinksResult:
        """Email reward links to people (generateLinkEmail)."""
        if not emails:
            raise ValueError("send_links needs at least one email")
        data = {
            "campaignId": campaign_id,
            "email_ids": ",".join(emails),
            "link_expiry": expiry.strftime("%d-%m-%Y"),
        }
        sent = {"campaign_id": campaign_id, "emails": list(emails)}
        result = parse.send_links(self._call_op("sendLinks", {"data": data}, sent=sent))
        if not result.success:
            raise RequestRejectedError(
                "Xoxoday did not send the reward links.",
                detail=self._r.scrub(result.message or ""),
                operation="sendLinks",
            )
        return result

    # --- StoreFront ----------------------------------------------------------------------------

    def store_sso(
        self,
        *,
        email: str,
        auth_token: str,
        unique_id: str,
        name: str | None = None,
    ) -> StoreSso:
        """Sign a person in to Xoxoday's hosted store (POST /v1/oauth/sso/stores/company).

        Xoxoday creates the person's store account if needed and later calls the company's
        point system with `unique_id` and `auth_token` (balance, redeem, refund). The email is
        fixed at checkout and no OTP is asked (the person came from the company's own
        session). `name`, when given, travels as a custom `tpd` field. A repeat mints another
        ssoToken, so failures are retried like a read. The result's token and URL are bearer
        secrets, valid 14 days."""
        if not email or not auth_token or not unique_id:
            raise ValueError("store_sso needs email, auth_token and unique_id")
        tpd: dict[str, Any] = {
            "auth_token": auth_token,
            "unique_id": unique_id,
            "email": {
                "default_value": email,
                "editable": False,
                "hidden": False,
                "support_alternate": False,
            },
            "phone": {"default_value": "", "phone_code": "", "editable": True, "hidden": True},
            "otp": "none",
        }
        if name:
            tpd["name"] = name
        body = self._r.call(
            OPERATIONS["storeSso"], {"user_input": email, "tpd": tpd}, secrets=(auth_token,)
        )
        token = parse.sso_token(body)
        return StoreSso(
            sso_token=token,
            url=redirect_url(self.store_url, token),
            store_url=self.store_url,
            expires_at=self._r.now() + timedelta(days=SSO_VALID_DAYS),
        )

    def _call_op(
        self,
        name: str,
        variables: dict[str, Any] | None,
        *,
        sent: Mapping[str, Any] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> Any:
        return self._r.call(OPERATIONS[name], variables, sent=sent, extra=extra)


def _secret(value: SecretStr | str | None) -> str | None:
    if isinstance(value, SecretStr):
        value = value.get_secret_value()
    return value or None


def _seed(flow: TokenFlow, access: str | None, refresh: str | None) -> TokenSet | None:
    if not access and not refresh:
        return None
    return TokenSet(
        access_token=access or "",
        access_expires_at=None if access else datetime.fromtimestamp(0, tz=UTC),
        refresh_token=refresh,
        flow=flow,
    )


def _compact(**fields: Any) -> dict[str, Any]:
    return {k: v for k, v in fields.items() if v is not None}


def _number(value: Decimal | int | float) -> int | float:
    number = Decimal(str(value))
    return int(number) if number == number.to_integral_value() else float(number)
