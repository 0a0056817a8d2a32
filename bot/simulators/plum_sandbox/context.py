"""Everything one running sandbox shares: state, tokens, faults, limits, the request log."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from bot.simulators.plum_sandbox.auth import TokenAuthority
from bot.simulators.plum_sandbox.clock import Clock, checked_now, iso_z, utc_now
from bot.simulators.plum_sandbox.faults import Faults
from bot.simulators.plum_sandbox.ratelimit import RateLimiter
from bot.simulators.plum_sandbox.state import DEFAULT_BALANCE, DEFAULT_CURRENCY, SandboxState
from bot.simulators.plum_sandbox.storefront.company import Storefront
from bot.simulators.plum_sandbox.webhooks import Webhooks

MAX_LOGGED_REQUESTS = 100_000
INITIAL_FLOW = "company"  # the dashboard pair printed at start: Points/StoreFront lifetimes


class RequestLog:
    """Requests the sandbox received, without secrets, and how many asked for a token."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self.entries: list[dict[str, Any]] = []
        self.token_requests = 0

    def record(self, operation: str, path: str, variables: Any) -> dict[str, Any]:
        entry = {
            "operation": operation,
            "path": path,
            "variables": variables,
            "at": iso_z(checked_now(self._clock)),
            "status": None,
        }
        with self._lock:
            if len(self.entries) >= MAX_LOGGED_REQUESTS:
                del self.entries[: MAX_LOGGED_REQUESTS // 10]
            self.entries.append(entry)
            if operation == "token":
                self.token_requests += 1
        return entry


@dataclass
class SandboxContext:
    state: SandboxState
    tokens: TokenAuthority
    faults: Faults
    limiter: RateLimiter
    log: RequestLog
    clock: Clock
    access_token: str
    refresh_token: str
    stopping: threading.Event = field(default_factory=threading.Event)
    storefront: Storefront = field(default_factory=Storefront)  # the company's point system
    webhooks: Webhooks | None = None  # the delivery webhook (set by `build`)

    def __post_init__(self) -> None:
        if self.webhooks is None:
            self.webhooks = Webhooks(state=self.state, stopping=self.stopping)

    @property
    def hooks(self) -> Webhooks:
        assert self.webhooks is not None
        return self.webhooks

    @classmethod
    def build(
        cls,
        *,
        client_id: str = "sandbox",
        client_secret: str = "sandbox",
        seed: int = 0,
        state_path: Path | None = None,
        access_ttl_seconds: int | None = None,
        refresh_ttl_seconds: int | None = None,
        refresh_grace_seconds: int = 0,
        rate_limits: bool = True,
        clock: Clock | None = None,
        balance: Decimal = DEFAULT_BALANCE,
        currency: str = DEFAULT_CURRENCY,
        latency_ms: int = 0,
    ) -> SandboxContext:
        """A ready sandbox. `balance` and `currency` only shape a new state (not a loaded one).
        A fresh dashboard token pair is issued on every build (older ones stay valid)."""
        clock = clock or utc_now
        state = SandboxState(
            balance=balance, currency=currency, seed=seed, clock=clock, path=state_path
        )
        tokens = TokenAuthority(
            state=state,
            client_id=client_id,
            client_secret=client_secret,
            access_ttl_seconds=access_ttl_seconds,
            refresh_ttl_seconds=refresh_ttl_seconds,
            refresh_grace_seconds=refresh_grace_seconds,
        )
        initial = tokens.issue(INITIAL_FLOW)
        assert initial.refresh_token is not None
        return cls(
            state=state,
            tokens=tokens,
            faults=Faults(seed=seed, latency_ms=latency_ms),
            limiter=RateLimiter(clock=clock, enabled=rate_limits),
            log=RequestLog(clock),
            clock=clock,
            access_token=initial.access_token,
            refresh_token=initial.refresh_token,
        )

    def __repr__(self) -> str:  # never show the tokens
        return f"SandboxContext(client_id={self.tokens.client_id!r}, state={self.state.path!r})"
