"""The Plum operations: query, tag, path, and how a failed call of each may be retried.

Most operations send the GraphQL envelope `{query, tag, variables}` to `/v1/oauth/api`; an
operation with `envelope=False` (the StoreFront SSO) sends its body as it is to its own path."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from bot.plum.retry import Kind

API_PATH = "/v1/oauth/api"
TOKEN_PATH = "/v1/oauth/token"
STORE_SSO_PATH = "/v1/oauth/sso/stores/company"

PLUM_PRO = "plumProAPI"
STORE_ADMIN = "storeAdmin"
LINKS = "xoxo_link"


@dataclass(frozen=True, slots=True)
class Operation:
    name: str
    query: str
    tag: str
    kind: Kind
    path: str = API_PATH
    method: str = "POST"
    envelope: bool = True  # False: the body is sent as it is, without {query, tag, variables}


OPERATIONS: Mapping[str, Operation] = {
    op.name: op
    for op in (
        Operation("validateToken", "", "", Kind.READ, TOKEN_PATH, "GET"),
        Operation("getFilters", "plumProAPI.mutation.getFilters", PLUM_PRO, Kind.READ),
        Operation("getVouchers", "plumProAPI.mutation.getVouchers", PLUM_PRO, Kind.READ),
        Operation("getBalance", "plumProAPI.query.getBalance", PLUM_PRO, Kind.READ),
        Operation("placeOrder", "plumProAPI.mutation.placeOrder", PLUM_PRO, Kind.ORDER),
        Operation("getOrderDetails", "plumProAPI.mutation.getOrderDetails", PLUM_PRO, Kind.READ),
        Operation("getOrderHistory", "plumProAPI.mutation.getOrderHistory", PLUM_PRO, Kind.READ),
        Operation("paymentHistory", "plumProAPI.mutation.paymentHistory", PLUM_PRO, Kind.READ),
        Operation("sendBalance", "storesAdmin.mutation.sendBalance", STORE_ADMIN, Kind.WRITE),
        Operation("user_balance", "storesAdmin.query.user_balance", STORE_ADMIN, Kind.READ),
        Operation("cancelBalance", "storesAdmin.mutation.cancelBalance", STORE_ADMIN, Kind.WRITE),
        Operation("campaignList", "xoxo_link.query.campaignList", LINKS, Kind.READ),
        Operation(
            "generateLink",
            "xoxo_link.mutation.generateLink",
            LINKS,
            Kind.WRITE,
            API_PATH + "/generateLink",
        ),
        Operation(
            "sendLinks",
            "xoxo_link.mutation.generateLinkEmail",
            LINKS,
            Kind.WRITE,
            API_PATH + "/sendLinks",
        ),
        # A repeat only mints another ssoToken, so it is retried like a read.
        Operation("storeSso", "", "", Kind.READ, STORE_SSO_PATH, envelope=False),
    )
}
