"""The hosted store at `/chef/v1/oauth/redirect/stores/{ssoToken}`, playing Xoxoday.

- `GET  {store}`: asks the company's GetProfile (`api_key`, `employee_id` = unique_id) and
  balance, greets the person and lists gift cards priced in points.
- `POST {store}/buy` (form `offer`): the company's redeem with a fresh order id, then 303 to
  the order's page, which shows what the company said.
- `GET  {store}/orders`, `GET {store}/orders/{order_id}`: the person's orders.
- `POST {store}/orders/{order_id}/refund` (form `amount`, `comments`): Xoxoday's admin refunds
  all or part of an order through the company's refund endpoint.

`{store}` carries the ssoToken, which is the person's session for its 14 days.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Awaitable, Callable
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, quote

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from bot.simulators.plum_sandbox.storefront import company, offers, pages
from bot.simulators.plum_sandbox.storefront.book import StoreOrder, StoreRefund, StoreSession
from bot.simulators.plum_sandbox.storefront.company import Connection
from bot.simulators.plum_sandbox.storefront.offers import points_text

if TYPE_CHECKING:
    from bot.simulators.plum_sandbox.context import SandboxContext

log = logging.getLogger(__name__)

PREFIX = "/chef/v1/oauth/redirect/stores"
ORDER_ID_DIGITS = 10
NOT_CONNECTED = (
    "No company point system is connected to this sandbox store, so there are no points to "
    'spend. Connect one with POST /_sandbox/storefront {"base_url", "api_key"} or '
    "`rewardbot sandbox --storefront-url`."
)
MAX_FORM_BYTES = 16 * 1024


class _Stop(Exception):
    """A page that ends the request early (unknown link, nothing connected, bad form)."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status_code)
        self.response = response


def _html(text: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(text, status_code=status, headers={"Cache-Control": "no-store"})


def new_order_id() -> str:
    """Like Xoxoday's `AB1890082790`: two letters and ten digits, random so that a restarted
    sandbox never repeats an id the company already holds."""
    return "SB" + str(secrets.randbelow(10**ORDER_ID_DIGITS)).zfill(ORDER_ID_DIGITS)


def person_name(profile: dict[str, Any] | None) -> str:
    """First and last name from GetProfile's `employee_data` (seed) or `user_data` (guide)."""
    for key in ("employee_data", "user_data", "data"):
        node = (profile or {}).get(key)
        if isinstance(node, dict):
            parts = [str(node.get(k) or "").strip() for k in ("first_name", "last_name")]
            name = " ".join(p for p in parts if p)
            if name:
                return name
    return ""


def balance_points(body: dict[str, Any] | None) -> Decimal | None:
    """`points_info.points_available` (seed) or `data.points` (guide)."""
    body = body or {}
    for node, key in ((body.get("points_info"), "points_available"), (body.get("data"), "points")):
        if isinstance(node, dict) and node.get(key) is not None:
            try:
                value = Decimal(str(node[key]).replace(",", "").strip())
            except InvalidOperation:
                continue
            if value.is_finite():
                return value
    return None


async def _form(request: Request) -> dict[str, str]:
    raw = await request.body()
    if len(raw) > MAX_FORM_BYTES:
        raise _Stop(_html(pages.message("Too much", "The form was too large."), 413))
    try:
        return dict(parse_qsl(raw.decode("utf-8"), keep_blank_values=True))
    except UnicodeDecodeError:
        page = pages.message("Unreadable form", "The form was not UTF-8.")
        raise _Stop(_html(page, 400)) from None


def routes(ctx: SandboxContext) -> list[Route]:
    book = ctx.state.store

    def session_of(request: Request) -> tuple[StoreSession, str]:
        token = request.path_params["token"]
        session = book.session(token)
        if session is None:
            text = "This store link is not known here. Open the store again."
            raise _Stop(_html(pages.message("Unknown store link", text), 404))
        if session.expires_at <= ctx.state.now():
            text = "This store link has expired (links last 14 days). Open the store again."
            raise _Stop(_html(pages.message("Store link expired", text), 410))
        return session, f"{PREFIX}/{quote(token, safe='')}"

    def connection(home: str) -> Connection:
        found = ctx.storefront.connection
        if found is None:
            page = pages.message("No point system connected", NOT_CONNECTED, home=home)
            raise _Stop(_html(page, 503))
        return found

    def endpoint(
        handler: Callable[[Request], Awaitable[Response]],
    ) -> Callable[[Request], Awaitable[Response]]:
        async def run(request: Request) -> Response:
            try:
                return await handler(request)
            except _Stop as stop:
                return stop.response

        return run

    async def home(request: Request) -> Response:
        session, home_url = session_of(request)
        conn = connection(home_url)
        profile = await company.call(
            conn, "profile", {"api_key": conn.api_key, "employee_id": session.unique_id}
        )
        if not profile.ok:
            text = f"Your company did not confirm your account: {profile.message}"
            return _html(pages.message("Account not confirmed", text, home=home_url), 502)
        balance = await company.call(
            conn, "balance", {"unique_id": session.unique_id, "auth_token": session.auth_token}
        )
        points = balance_points(balance.body) if balance.ok else None
        problem = None
        if not balance.ok:
            problem = f"Your points could not be read: {balance.message}"
        elif points is None:
            problem = "Your company's answer did not say how many points you have."
        name = person_name(profile.body) or session.name or session.email
        return _html(
            pages.store(
                home=home_url,
                name=name,
                points=points,
                offers=offers.offers(ctx.state.currency),
                problem=problem,
            )
        )

    async def buy(request: Request) -> Response:
        session, home_url = session_of(request)
        conn = connection(home_url)
        form = await _form(request)
        item = offers.offer(ctx.state.currency, form.get("offer", ""))
        if item is None:
            text = "That gift card is not in this store. Go back to the store and pick one."
            return _html(pages.message("Unknown gift card", text, home=home_url), 400)
        order_id = new_order_id()
        now = ctx.state.now()
        price = points_text(item.points)
        body = {
            "unique_id": session.unique_id,
            "auth_token": session.auth_token,
            "total_points_redeemed": price,
            "total_points_added": None,
            "order_id": order_id,
            "comments": f"Xoxoday store: 1 x {item.label}",
            "order_date": int(now.timestamp()),
            "orderData": [
                {
                    "quantity": 1,
                    "orderAmount": price,
                    "product": {
                        "productId": item.product.product_id,
                        "name": item.name,
                        "category": offers.CATEGORY,
                        "price": price,
                    },
                }
            ],
        }
        answer = await company.call(conn, "redeem", body)
        data = (answer.body or {}).get("data")
        after = data.get("points") if isinstance(data, dict) else None
        status = "placed" if answer.ok else ("refused" if answer.answered else "no answer")
        book.add_order(
            StoreOrder(
                order_id=order_id,
                unique_id=session.unique_id,
                product_id=item.product.product_id,
                product_name=item.label,
                points=item.points,
                at=now,
                status=status,
                message=answer.message,
                balance_after=None if after is None else str(after),
            )
        )
        return RedirectResponse(f"{home_url}/orders/{order_id}", status_code=303)

    async def order_list(request: Request) -> Response:
        session, home_url = session_of(request)
        mine = book.orders(session.unique_id)
        return _html(pages.orders(home=home_url, name=session.name or session.email, items=mine))

    def order_of(request: Request, session: StoreSession, home_url: str) -> StoreOrder:
        found = book.order(request.path_params["order_id"])
        if found is None or found.unique_id != session.unique_id:
            text = "There is no such order among yours."
            raise _Stop(_html(pages.message("Unknown order", text, home=home_url), 404))
        return found

    async def order_page(request: Request) -> Response:
        session, home_url = session_of(request)
        item = order_of(request, session, home_url)
        said, ok = _outcome(item, request.query_params.get("refund"))
        return _html(pages.order(home=home_url, item=item, said=said, said_ok=ok))

    async def refund(request: Request) -> Response:
        session, home_url = session_of(request)
        item = order_of(request, session, home_url)
        conn = connection(home_url)
        form = await _form(request)
        amount, problem = _amount(form.get("amount", ""), item)
        if amount is None:
            return _html(pages.order(home=home_url, item=item, said=problem, said_ok=False), 400)
        body = {
            "unique_id": session.unique_id,
            "auth_token": session.auth_token,
            "order_id": item.order_id,
            "transactionid": item.order_id,
            "redemption_amount": points_text(amount),
            "comments": form.get("comments", "").strip()[:500],
        }
        answer = await company.call(conn, "refund", body)
        status = "refunded" if answer.ok else ("refused" if answer.answered else "no answer")
        book.add_refund(
            item.order_id,
            StoreRefund(amount=amount, at=ctx.state.now(), status=status, message=answer.message),
        )
        index = len(item.refunds) - 1
        return RedirectResponse(
            f"{home_url}/orders/{item.order_id}?refund={index}", status_code=303
        )

    return [
        Route(PREFIX + "/{token}", endpoint(home), methods=["GET"]),
        Route(PREFIX + "/{token}/buy", endpoint(buy), methods=["POST"]),
        Route(PREFIX + "/{token}/orders", endpoint(order_list), methods=["GET"]),
        Route(PREFIX + "/{token}/orders/{order_id}", endpoint(order_page), methods=["GET"]),
        Route(PREFIX + "/{token}/orders/{order_id}/refund", endpoint(refund), methods=["POST"]),
    ]


def _outcome(item: StoreOrder, refund_index: str | None) -> tuple[str, bool]:
    """The notice at the top of an order's page: the refund just asked for, else the order's."""
    index = int(refund_index) if refund_index and refund_index.isdigit() else len(item.refunds)
    if index < len(item.refunds):
        r = item.refunds[index]
        if r.status == "refunded":
            return f"Refunded {points_text(r.amount)} points. The company said: {r.message}", True
        if r.status == "no answer":
            return f"Refund of {points_text(r.amount)} points unconfirmed: {r.message}", False
        return f"The company refused the refund: {r.message}", False
    if item.status == "placed":
        return f"Order placed. The company said: {item.message}", True
    if item.status == "no answer":
        return f"The order is unconfirmed: {item.message}", False
    return f"The company refused the order: {item.message}", False


def _amount(text: str, item: StoreOrder) -> tuple[Decimal | None, str]:
    try:
        amount = Decimal(text.strip())
    except InvalidOperation:
        return None, "Write the points to refund as a number, like 100 or 48.5."
    if not amount.is_finite() or amount <= 0:
        return None, "The points to refund must be more than 0."
    if amount > item.refundable:
        left = points_text(item.refundable)
        return None, f"At most {left} points of this order can still be refunded."
    if amount != amount.quantize(Decimal("0.01")):
        return None, "Points go to the hundredth at most, like 48.25."
    return amount, ""
