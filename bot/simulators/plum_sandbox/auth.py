"""Tokens: client credentials, refresh-token rotation, validation.

Only the configured client id/secret and refresh tokens this sandbox issued are accepted.
Tokens are random and kept as SHA-256 digests in the state, so they survive restarts when the
state is persisted, and the state file never holds a usable token.

Lifetimes as documented: `user` (Rewards, Links) access 15 days / refresh 30 days, `company`
(Points, StoreFront) 30 / 60 days; client-credentials access tokens live 15 days and come
without a refresh token. The ttl arguments override every flow (tests force expiry).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.simulators.plum_sandbox.errors import InvalidToken, OAuthError
from bot.simulators.plum_sandbox.records import TokenRecord
from bot.simulators.plum_sandbox.state import SandboxState

DAY = 24 * 3600
LIFETIMES: dict[str, tuple[int, int | None]] = {
    "client_credentials": (15 * DAY, None),
    "user": (15 * DAY, 30 * DAY),
    "company": (30 * DAY, 60 * DAY),
}


def digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class IssuedTokens:
    access_token: str
    access_expires_at: datetime
    flow: str
    refresh_token: str | None = None
    refresh_expires_at: datetime | None = None

    def __repr__(self) -> str:  # never show the tokens
        return (
            f"IssuedTokens(flow={self.flow!r}, access_expires_at={self.access_expires_at!r}, "
            f"refresh_expires_at={self.refresh_expires_at!r})"
        )


class TokenAuthority:
    def __init__(
        self,
        *,
        state: SandboxState,
        client_id: str,
        client_secret: str,
        access_ttl_seconds: int | None = None,
        refresh_ttl_seconds: int | None = None,
        refresh_grace_seconds: int = 0,
    ) -> None:
        self._state = state
        self._client_id = client_id
        self._client_secret = client_secret
        self._access_ttl = access_ttl_seconds
        self._refresh_ttl = refresh_ttl_seconds
        self._grace = timedelta(seconds=refresh_grace_seconds)

    @property
    def client_id(self) -> str:
        return self._client_id

    def check_client(self, client_id: object, client_secret: object, *, status: int) -> None:
        """`status`: 400 on `POST /v1/oauth/token` (the seed spec's only error answer there),
        401 on the dashboard flows' refresh (RFC 6749 §5.2 allows either)."""
        good = (
            isinstance(client_id, str)
            and isinstance(client_secret, str)
            and hmac.compare_digest(client_id.encode(), self._client_id.encode())
            and hmac.compare_digest(client_secret.encode(), self._client_secret.encode())
        )
        if not good:
            raise OAuthError(
                "invalid_client",
                "Client authentication failed: unknown client_id or secret.",
                status=status,
            )

    def issue(self, flow: str) -> IssuedTokens:
        """A fresh token set for `flow` (what the dashboard does for the initial pair)."""
        access_life, refresh_life = LIFETIMES[flow]
        if self._access_ttl is not None:
            access_life = self._access_ttl
        if refresh_life is not None and self._refresh_ttl is not None:
            refresh_life = self._refresh_ttl
        now = self._state.now()
        access = "sbx_at_" + secrets.token_urlsafe(32)
        access_expires = now + timedelta(seconds=access_life)
        self._state.add_token(TokenRecord(digest(access), "access", flow, now, access_expires))
        if refresh_life is None:
            return IssuedTokens(access, access_expires, flow)
        refresh = "sbx_rt_" + secrets.token_urlsafe(32)
        refresh_expires = now + timedelta(seconds=refresh_life)
        self._state.add_token(TokenRecord(digest(refresh), "refresh", flow, now, refresh_expires))
        return IssuedTokens(access, access_expires, flow, refresh, refresh_expires)

    def client_credentials(self, client_id: object, client_secret: object) -> IssuedTokens:
        self.check_client(client_id, client_secret, status=400)
        return self.issue("client_credentials")

    def refresh(
        self, *, flow: str, refresh_token: object, client_id: object, client_secret: object
    ) -> IssuedTokens:
        """Rotate: a new access and refresh token; the old refresh token dies (after grace)."""
        self.check_client(client_id, client_secret, status=401)
        if not isinstance(refresh_token, str) or not refresh_token:
            raise OAuthError("invalid_request", "refresh_token is required.")
        with self._state.lock:
            record = self._state.token(digest(refresh_token))
            now = self._state.now()
            if record is None or record.kind != "refresh" or record.expires_at <= now:
                raise OAuthError(
                    "invalid_grant",
                    "The refresh token is invalid, expired or already used; generate a new one "
                    "in the Plum dashboard.",
                )
            self._state.end_token(record.digest, now + self._grace)
            return self.issue(flow)

    def access(self, token: str) -> TokenRecord:
        """The record of a valid access token, or `InvalidToken`."""
        record = self._state.token(digest(token))
        if record is None or record.kind != "access" or record.expires_at <= self._state.now():
            raise InvalidToken()
        return record
