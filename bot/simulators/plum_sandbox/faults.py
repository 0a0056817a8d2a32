"""Fault injection and response-shape variants, switchable at runtime and thread-safe.

Per operation (the query's last part, e.g. `sendBalance`, or `token` for the token endpoints):

- `latency_ms`: added delay (plus the global `latency_ms`).
- `error`: a PLE/PIPE id (`"PLE10024"`), an HTTP status (`"500"`, `"503"`), `"invalid_token"`,
  `"throttle"` (token refresh throttling) or `"rate_limit"`; `status` overrides the HTTP status.
- `rate`: probability (0..1) that error/hang/drop fire on a request; draws come from
  `random.Random(seed)`, so a seed replays the same sequence.
- `hang`: never answer (until the client gives up or the server stops).
- `drop_after_apply`: apply the operation, then cut the connection mid-response.
- `apply_first`: apply the operation before the error or hang fires (the ambiguous write).
- `count`: fire for the next N requests only, then the fault is removed.

And for the whole sandbox, `unreachable`: it stops listening, so every connection is refused
(as by a Xoxoday that is down or a firewall that rejects), until it is set back or the faults
are cleared. A refused connection proves nothing reached Xoxoday, unlike `"503"` (an answer
from a server that had the request). The server does this (`SandboxServer` watches the flag).
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

from bot.simulators.plum_sandbox.errors import (
    ApiFailure,
    Rendering,
    failure_for_code,
    is_known_fault_code,
)

OPERATIONS: frozenset[str] = frozenset(
    {
        "token",
        "validateToken",
        "getFilters",
        "getVouchers",
        "getBalance",
        "placeOrder",
        "getOrderDetails",
        "getOrderHistory",
        "paymentHistory",
        "sendBalance",
        "user_balance",
        "cancelBalance",
        "campaignList",
        "generateLink",
        "generateLinkEmail",
        "storeSso",
    }
)

# name -> allowed values; the first is the default (the seed spec's shape).
VARIANTS: dict[str, tuple[str, ...]] = {
    "sendBalance": ("spec", "flat", "quickstart"),
    "paymentHistory": ("spec", "guide"),
    "token": ("spec", "docs"),
    "error_code": ("string", "number"),
    "orderDetails": ("numbers", "strings"),
    "invalid_token": ("oauth", "success0"),
    "retry_after": ("header", "none"),
    "vouchers": ("spec", "loose"),
    "sso": ("data", "top", "snake"),
}


@dataclass(frozen=True, slots=True)
class FaultSpec:
    latency_ms: int = 0
    error: str | None = None
    status: int | None = None
    rate: float = 1.0
    hang: bool = False
    drop_after_apply: bool = False
    apply_first: bool = False
    count: int | None = None

    def __post_init__(self) -> None:
        if self.latency_ms < 0:
            raise ValueError("latency_ms must be >= 0")
        if not 0.0 <= self.rate <= 1.0:
            raise ValueError("rate must be between 0 and 1")
        if self.count is not None and self.count < 1:
            raise ValueError("count must be >= 1")
        if self.error is not None and not is_known_fault_code(self.error):
            raise ValueError(f"unknown error {self.error!r} (use a PLE/PIPE id or an HTTP status)")
        if self.status is not None and not 400 <= self.status <= 599:
            raise ValueError("status must be an HTTP error status (400..599)")

    @property
    def probabilistic(self) -> bool:
        return self.error is not None or self.hang or self.drop_after_apply

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> FaultSpec:
        raw = dict(raw)
        if "error_rate" in raw:
            raw["rate"] = raw.pop("error_rate")
        names = {f.name for f in fields(cls)}
        unknown = set(raw) - names
        if unknown:
            raise ValueError(f"unknown fault field(s): {', '.join(sorted(unknown))}")
        if raw.get("error") is not None:
            raw["error"] = str(raw["error"])
        return cls(**raw)


@dataclass(frozen=True, slots=True)
class Decision:
    """What the app does to one request."""

    latency_seconds: float = 0.0
    failure: ApiFailure | None = None
    hang: bool = False
    drop_after_apply: bool = False
    apply_first: bool = False


def parse_fault_spec(text: str) -> FaultSpec:
    """The CLI's compact form: `error:PLE10024,rate:0.5,count:2,latency:100,hang,drop,...`."""
    values: dict[str, Any] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        key, _, value = part.partition(":")
        key = key.strip().lower()
        if key in ("hang", "apply_first"):
            values[key] = True
        elif key in ("drop", "drop_after_apply"):
            values["drop_after_apply"] = True
        elif key in ("error", "status", "rate", "count", "latency", "latency_ms") and value:
            name = {"latency": "latency_ms"}.get(key, key)
            caster = {"rate": float, "error": str}.get(name, int)
            try:
                values[name] = caster(value.strip())
            except ValueError:
                raise ValueError(f"bad value for {key}: {value!r}") from None
        else:
            raise ValueError(
                f"unknown fault item {part!r} (use error:CODE, rate:F, count:N, latency:MS, "
                "status:N, hang, drop, apply_first)"
            )
    return FaultSpec(**values)


class Faults:
    def __init__(self, *, seed: int = 0, latency_ms: int = 0) -> None:
        self._lock = threading.Lock()
        self._seed = seed
        self._rng = random.Random(f"faults:{seed}")
        self._latency_ms = latency_ms
        self._specs: dict[str, FaultSpec] = {}
        self._variants: dict[str, str] = {}
        self._unreachable = False
        self._watchers: list[Callable[[bool], None]] = []

    # ----- configuration --------------------------------------------------------------------
    @property
    def latency_ms(self) -> int:
        return self._latency_ms

    @latency_ms.setter
    def latency_ms(self, value: int) -> None:
        if value < 0:
            raise ValueError("latency_ms must be >= 0")
        with self._lock:
            self._latency_ms = int(value)

    @property
    def unreachable(self) -> bool:
        """The whole sandbox refuses connections (see the module doc)."""
        with self._lock:
            return self._unreachable

    @unreachable.setter
    def unreachable(self, value: bool) -> None:
        with self._lock:
            changed = self._unreachable != bool(value)
            self._unreachable = bool(value)
            watchers = list(self._watchers)
        if changed:
            for watcher in watchers:
                watcher(bool(value))

    def watch_unreachable(self, watcher: Callable[[bool], None]) -> None:
        """Call `watcher(unreachable)` whenever the flag changes (the server's listener)."""
        with self._lock:
            self._watchers.append(watcher)

    def set(self, operation: str, spec: FaultSpec | None = None, **fields_: Any) -> None:
        """Set (replace) the fault of one operation: `faults.set("placeOrder", hang=True)`."""
        _check_operation(operation)
        spec = spec if spec is not None else FaultSpec(**fields_)
        with self._lock:
            self._specs[operation] = spec

    def get(self, operation: str) -> FaultSpec | None:
        with self._lock:
            return self._specs.get(operation)

    def clear(self, operation: str | None = None) -> None:
        """Clear one operation's fault, or everything (faults, latency, variants, the RNG, and
        the sandbox being unreachable)."""
        with self._lock:
            if operation is not None:
                self._specs.pop(operation, None)
                return
            self._specs.clear()
            self._variants.clear()
            self._latency_ms = 0
            self._rng = random.Random(f"faults:{self._seed}")
        self.unreachable = False

    def set_variant(self, name: str, value: str | None) -> None:
        """Switch a response shape; None restores the default."""
        if name not in VARIANTS:
            raise ValueError(f"unknown variant {name!r} (known: {', '.join(sorted(VARIANTS))})")
        if value is not None and value not in VARIANTS[name]:
            raise ValueError(f"variant {name} must be one of {', '.join(VARIANTS[name])}")
        with self._lock:
            if value is None or value == VARIANTS[name][0]:
                self._variants.pop(name, None)
            else:
                self._variants[name] = value

    def variant(self, name: str) -> str:
        with self._lock:
            return self._variants.get(name, VARIANTS[name][0])

    def rendering(self) -> Rendering:
        return Rendering(
            code_as_number=self.variant("error_code") == "number",
            invalid_token_body=self.variant("invalid_token"),
            retry_after_header=self.variant("retry_after") == "header",
        )

    def update(self, doc: dict[str, Any]) -> None:
        """Apply the admin JSON: `clear`, `latency_ms`, `operations{op: spec|null}`,
        `variants{name: value|null}`. Validated completely before anything changes."""
        allowed = {"clear", "latency_ms", "operations", "variants", "unreachable"}
        unknown = set(doc) - allowed
        if unknown:
            raise ValueError(f"unknown key(s): {', '.join(sorted(unknown))}")
        ops = doc.get("operations") or {}
        variants = doc.get("variants") or {}
        if not isinstance(ops, dict) or not isinstance(variants, dict):
            raise ValueError("operations and variants must be JSON objects")
        specs: dict[str, FaultSpec | None] = {}
        for op, raw in ops.items():
            _check_operation(op)
            if raw is not None and not isinstance(raw, dict):
                raise ValueError(f"the fault of {op} must be an object or null")
            specs[op] = None if raw is None else FaultSpec.from_json(raw)
        for name, value in variants.items():
            if name not in VARIANTS or (value is not None and value not in VARIANTS[name]):
                raise ValueError(f"bad variant {name}={value!r}")
        latency = doc.get("latency_ms")
        if latency is not None and (not isinstance(latency, int) or latency < 0):
            raise ValueError("latency_ms must be a whole number >= 0")
        unreachable = doc.get("unreachable")
        if unreachable is not None and not isinstance(unreachable, bool):
            raise ValueError("unreachable must be true or false")
        if doc.get("clear"):
            self.clear()
        if latency is not None:
            self.latency_ms = latency
        for op, spec in specs.items():
            if spec is None:
                self.clear(op)
            else:
                self.set(op, spec)
        for name, value in variants.items():
            self.set_variant(name, value)
        if unreachable is not None:
            self.unreachable = unreachable

    def to_json(self) -> dict[str, Any]:
        with self._lock:
            return {
                "latency_ms": self._latency_ms,
                "operations": {op: asdict(spec) for op, spec in sorted(self._specs.items())},
                "variants": {name: self._variants.get(name, v[0]) for name, v in VARIANTS.items()},
                "unreachable": self._unreachable,
            }

    # ----- per request ----------------------------------------------------------------------
    def decide(self, operation: str) -> Decision:
        """Roll the dice for one request of `operation` and consume one-shot counts."""
        with self._lock:
            latency = self._latency_ms
            spec = self._specs.get(operation)
            if spec is None:
                return Decision(latency_seconds=latency / 1000)
            latency += spec.latency_ms
            fires = spec.probabilistic and (spec.rate >= 1.0 or self._rng.random() < spec.rate)
            if spec.count is not None and (fires or not spec.probabilistic):
                if spec.count <= 1:
                    del self._specs[operation]
                else:
                    self._specs[operation] = replace(spec, count=spec.count - 1)
            if not fires:
                return Decision(latency_seconds=latency / 1000)
            return Decision(
                latency_seconds=latency / 1000,
                failure=failure_for_code(spec.error, status=spec.status) if spec.error else None,
                hang=spec.hang,
                drop_after_apply=spec.drop_after_apply,
                apply_first=spec.apply_first,
            )


def _check_operation(operation: str) -> None:
    if operation not in OPERATIONS:
        raise ValueError(
            f"unknown operation {operation!r} (known: {', '.join(sorted(OPERATIONS))})"
        )
