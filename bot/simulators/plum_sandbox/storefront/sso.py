"""`POST /chef/v1/oauth/sso/stores/company`: a store sign-in for one person.

Body (the newer guide): `{"user_input": email, "tpd": {"auth_token", "unique_id", "email":
{...}, "phone": {...}, "otp"}}`; any other `tpd` field is the company's own (a `name` is kept
as the person's name when GetProfile gives none). Answer: `{"data": {"ssoToken"}}`, or in
the `sso` variants `{"ssoToken"}` (top) or `{"data": {"sso_token"}}` (snake).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from bot.simulators.plum_sandbox.errors import AppError
from bot.simulators.plum_sandbox.storefront.book import StoreBook

HIDDEN = "[hidden]"


@dataclass(frozen=True, slots=True)
class SignIn:
    email: str
    unique_id: str
    auth_token: str
    name: str = ""

    def __repr__(self) -> str:  # never show the auth_token
        return f"SignIn(email={self.email!r}, unique_id={self.unique_id!r})"


def _text(value: Any) -> str:
    if isinstance(value, bool) or value is None or isinstance(value, (dict, list)):
        return ""
    return str(value).strip()


def parse(body: dict[str, Any]) -> SignIn:
    email = _text(body.get("user_input"))
    tpd = body.get("tpd")
    if not email or "@" not in email:
        raise AppError(None, "user_input must be the person's email address.", status=400)
    if not isinstance(tpd, dict):
        raise AppError(None, "tpd must be an object with auth_token and unique_id.", status=400)
    auth_token, unique_id = _text(tpd.get("auth_token")), _text(tpd.get("unique_id"))
    if not auth_token or not unique_id:
        raise AppError(None, "tpd.auth_token and tpd.unique_id are required.", status=400)
    name = _text(tpd.get("name"))
    return SignIn(email=email, unique_id=unique_id, auth_token=auth_token, name=name)


def logged(body: dict[str, Any]) -> dict[str, Any]:
    """What the request log keeps: the body without the auth_token."""
    out = {k: v for k, v in body.items() if k != "tpd"}
    tpd = body.get("tpd")
    if isinstance(tpd, dict):
        out["tpd"] = {k: (HIDDEN if k == "auth_token" else v) for k, v in tpd.items()}
    return out


def sign_in(book: StoreBook, request: SignIn, *, variant: str) -> dict[str, Any]:
    token = "sbx_sso_" + secrets.token_urlsafe(32)
    book.sign_in(
        token=token,
        email=request.email,
        unique_id=request.unique_id,
        auth_token=request.auth_token,
        name=request.name,
    )
    if variant == "top":
        return {"ssoToken": token}
    if variant == "snake":
        return {"data": {"sso_token": token}}
    return {"data": {"ssoToken": token}}
