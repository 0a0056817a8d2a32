"""The API's operations, found by the request's `query`."""

from __future__ import annotations

from bot.simulators.plum_sandbox.operations import catalogue, links, orders, points
from bot.simulators.plum_sandbox.operations.base import Body, Handler, OpContext, Operation

_OPERATIONS = (
    Operation("getFilters", "plumProAPI", catalogue.get_filters),
    Operation("getVouchers", "plumProAPI", catalogue.get_vouchers),
    Operation("getBalance", "plumProAPI", catalogue.get_balance),
    Operation("placeOrder", "plumProAPI", orders.place_order),
    Operation("getOrderDetails", "plumProAPI", orders.get_order_details),
    Operation("getOrderHistory", "plumProAPI", orders.get_order_history),
    Operation("paymentHistory", "plumProAPI", orders.payment_history),
    Operation("sendBalance", "storeAdmin", points.send_balance),
    Operation("user_balance", "storeAdmin", points.user_balance),
    Operation("cancelBalance", "storeAdmin", points.cancel_balance),
    Operation("campaignList", "xoxo_link", links.campaign_list),
    Operation("generateLink", "xoxo_link", links.generate_link),
    Operation("generateLinkEmail", "xoxo_link", links.generate_link_email),
)
_PREFIX = {"plumProAPI": "plumProAPI", "storeAdmin": "storesAdmin", "xoxo_link": "xoxo_link"}

# Full query string -> operation. Sources differ on `query` vs `mutation`; both are accepted.
QUERIES: dict[str, Operation] = {
    f"{_PREFIX[op.tag]}.{kind}.{op.name}": op
    for op in _OPERATIONS
    for kind in ("query", "mutation")
}
BY_NAME: dict[str, Operation] = {op.name: op for op in _OPERATIONS}

__all__ = ["BY_NAME", "QUERIES", "Body", "Handler", "OpContext", "Operation"]
