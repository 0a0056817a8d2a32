"""The access token every request carries: cached, shared by all threads, refreshed once.

- The token is refreshed ahead of expiry, when less than min(10 % of its lifetime, 1 h) is left.
- When Xoxoday rejects a token, `replace(rejected)` refreshes only if no other thread already
  did: fifty threads holding the same dead token cause one refresh.
- Refreshing happens under `TokenStore.refresh_lock()` (exclusive across processes) and reloads
  the store inside it, since another process may have refreshed meanwhile.
- Xoxoday rotates refresh tokens (the old one dies), so new tokens are saved through the store
  *before* they are used. If saving fails they are kept aside, unused, and saving is tried
  again on the next call instead of spending the refresh token a second time.

Token HTTP calls are the client's business: the manager gets an `issue(refresh_token)` callable.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from bot.plum.errors import AuthError, InvalidGrantError, TokenStoreError, scrub
from bot.plum.tokens import TokenFlow, Tokens, TokenSet, TokenStore

log = logging.getLogger(__name__)

MAX_EARLY_REFRESH = 3600.0  # seconds
EARLY_REFRESH_SHARE = 0.1

Issue = Callable[[str | None], TokenSet]


class TokenManager:
    def __init__(
        self,
        *,
        store: TokenStore,
        flow: TokenFlow,
        issue: Issue,
        seed: TokenSet | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._store = store
        self._flow: TokenFlow = flow
        self._issue = issue
        self._seed = seed
        self._clock = clock
        self._lock = threading.Lock()
        self._state: tuple[Tokens, float] | None = None  # (tokens, refresh at), swapped whole
        self._unsaved: TokenSet | None = None
        self._deadlines: dict[str, float] = {}
        self.issued = 0  # tokens obtained from Xoxoday by this manager

    @property
    def flow(self) -> TokenFlow:
        return self._flow

    def known_secrets(self) -> tuple[str | None, ...]:
        """Token values to scrub from any text that leaves the client."""
        out: list[str | None] = []
        current = self._state[0] if self._state else None
        for tokens in (current, self._unsaved, self._seed):
            if tokens is not None:
                out += [tokens.access_token, tokens.refresh_token]
        return tuple(out)

    def token(self) -> str:
        """A usable access token, refreshing first if it is missing or about to expire."""
        state = self._state
        if state is not None and self._clock() < state[1]:
            return state[0].access_token
        with self._lock:
            state = self._state
            if state is not None and self._clock() < state[1]:
                return state[0].access_token
            return self._renew(stale=state[0].access_token if state else None)

    def replace(self, rejected: str) -> str:
        """Xoxoday rejected `rejected`: return a newer token, refreshing only if none exists."""
        with self._lock:
            state = self._state
            fresh = state is not None and self._clock() < state[1]
            if state is not None and fresh and state[0].access_token != rejected:
                return state[0].access_token
            return self._renew(stale=rejected)

    def refresh(self) -> str:
        """Obtain new tokens now, whatever the cached ones look like."""
        with self._lock, self._store.refresh_lock():
            if self._unsaved is None:
                fresh = self._obtain(self._load())
            else:
                fresh, self._unsaved = self._unsaved, None
            self._save(fresh)
            self._adopt(fresh)
            return fresh.access_token

    # --- under self._lock -------------------------------------------------------------------

    def _renew(self, *, stale: str | None) -> str:
        with self._store.refresh_lock():
            stored = self._load()
            if stored is not None and stored.access_token != stale and self._usable(stored):
                self._adopt(stored)  # first use, or another process refreshed meanwhile
                return stored.access_token
            pending = self._unsaved
            if pending is not None:
                self._save(pending)
                self._unsaved = None
                self._adopt(pending)
                return pending.access_token
            fresh = self._obtain(stored)
            self._save(fresh)
            self._adopt(fresh)
            return fresh.access_token

    def _load(self) -> Tokens | None:
        try:
            stored = self._store.load()
        except Exception as err:
            raise TokenStoreError(
                "Could not read the Plum token store "
                f"({type(err).__name__}: {scrub(str(err), self.known_secrets())})."
            ) from err
        seed = self._seed
        if seed is not None and (stored is None or stored.flow != seed.flow):
            try:
                self._store.save(seed)  # first run, or the configured flow changed
            except Exception as err:
                raise TokenStoreError(
                    f"Could not save the configured Plum tokens ({type(err).__name__}). "
                    "Fix the token store (disk, permissions, database) and try again."
                ) from err
            return seed
        return stored

    def _obtain(self, stored: Tokens | None) -> TokenSet:
        if self._flow == "client_credentials":
            tokens = self._issue(None)
            self.issued += 1
            return tokens
        refresh = stored.refresh_token if stored else None
        seed_refresh = self._seed.refresh_token if self._seed else None
        if not refresh:
            refresh = seed_refresh
        if not refresh:
            raise AuthError(
                "The Plum access token is missing, expired or rejected, and there is no refresh "
                "token to get a new one. Set PLUM_REFRESH_TOKEN (with PLUM_CLIENT_ID and "
                "PLUM_CLIENT_SECRET), or use client credentials."
            )
        try:
            tokens = self._issue(refresh)
        except InvalidGrantError:
            # The operator may have put a new refresh token in the settings after the stored
            # one died: try that once.
            if not seed_refresh or seed_refresh == refresh:
                raise
            log.warning("stored Plum refresh token was rejected; trying the configured one")
            tokens = self._issue(seed_refresh)
        self.issued += 1
        return tokens

    def _save(self, tokens: TokenSet) -> None:
        try:
            self._store.save(tokens)
        except Exception as err:
            if tokens.flow == "client_credentials":
                # Nothing rotates in this flow: a lost token only costs one more request.
                log.warning("could not save the Plum access token (%s)", type(err).__name__)
                return
            self._unsaved = tokens
            raise TokenStoreError(
                "Xoxoday issued new tokens but saving them failed "
                f"({type(err).__name__}), so they are not used: the old refresh token may "
                "already be dead. Fix the token store (disk, permissions, database); the "
                "next call saves the new tokens and carries on."
            ) from err

    def _usable(self, tokens: Tokens) -> bool:
        return bool(tokens.access_token) and self._clock() < self._deadline(tokens)

    def _adopt(self, tokens: Tokens) -> None:
        self._state = (tokens, self._deadline(tokens))

    def _deadline(self, tokens: Tokens) -> float:
        """When to refresh: min(10 % of the lifetime, 1 h) before expiry.

        The lifetime is what was left when this manager first saw the token (exact for tokens
        it obtained itself), remembered per token so the deadline does not drift.
        """
        if tokens.access_expires_at is None:
            return float("inf")
        known = self._deadlines.get(tokens.access_token)
        if known is not None:
            return known
        expires = tokens.access_expires_at.timestamp()
        left = max(0.0, expires - self._clock())
        deadline = expires - min(EARLY_REFRESH_SHARE * left, MAX_EARLY_REFRESH)
        if len(self._deadlines) >= 8:
            self._deadlines.clear()
        self._deadlines[tokens.access_token] = deadline
        return deadline
