"""Plum tokens: the value object and the store interface the client persists them through.

A rotated refresh token is saved through a `TokenStore` *before* it is used, so a restart never
strands the bot. `refresh_lock()` makes refreshing exclusive across processes: holders reload the
stored tokens inside the lock, because another process may have refreshed meanwhile.

The stores are the client's (`FileTokenStore`) or storage's (`storage.tokens.DatabaseTokenStore`,
which imports nothing of the client): a store's `load` hands back any `Tokens`, a `TokenSet` or
its own record with the same fields, so the interface is checked by shape, not by class.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol

TokenFlow = Literal["client_credentials", "user", "company"]


class Tokens(Protocol):
    """The fields of a set of tokens, as a store gives them back (read-only)."""

    @property
    def access_token(self) -> str: ...

    @property
    def access_expires_at(self) -> datetime | None: ...

    @property
    def refresh_token(self) -> str | None: ...

    @property
    def refresh_expires_at(self) -> datetime | None: ...

    @property
    def flow(self) -> str: ...


@dataclass(frozen=True, slots=True)
class TokenSet:
    access_token: str
    access_expires_at: datetime | None  # timezone-aware UTC; None = unknown
    refresh_token: str | None = None
    refresh_expires_at: datetime | None = None
    flow: TokenFlow = "client_credentials"

    def __repr__(self) -> str:  # never show the secrets
        return (
            f"TokenSet(flow={self.flow!r}, access_expires_at={self.access_expires_at!r}, "
            f"refresh_expires_at={self.refresh_expires_at!r})"
        )


class TokenStore(Protocol):
    def load(self) -> Tokens | None: ...

    def save(self, tokens: TokenSet) -> None:
        """Persist durably (fsync / commit) before returning."""
        ...

    def refresh_lock(self) -> AbstractContextManager[None]:
        """Exclusive across threads and processes while a refresh is in progress."""
        ...
