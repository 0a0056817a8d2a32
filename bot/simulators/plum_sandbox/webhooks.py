"""The delivery webhook, as Xoxoday sends it: when an order is delivered (at once for realtime
products, after a delay for delayed ones or when a delay is set) or canceled, a JSON POST to the
URL the company set, with its static `x-api-key`:

    {"id": "evt_…", "data": {"orderId", "poNumber", "orderDate", "deliveryStatus"}, "createdAt"}

A call that is not answered 2xx (or not answered at all) is retried 3 times (after
`retry_delays`: short here, Xoxoday waits longer); after the last retry fails the webhook is
disabled for that URL (nothing more is sent there until it is connected again). Faults: the next
N webhooks dropped (the order is delivered, nobody is told: a missed webhook), the next N
orders canceled instead of delivered. The capitalisation of `deliveryStatus` can be switched
(`lower`, `title`, `upper`), as Xoxoday's varies.

Sending runs on one daemon thread of its own, started with the first delivery; nothing here
logs a body or the key.
"""

from __future__ import annotations

import functools
import heapq
import itertools
import logging
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx

from bot.simulators.plum_sandbox.catalogue import Product
from bot.simulators.plum_sandbox.clock import iso_z
from bot.simulators.plum_sandbox.records import Order
from bot.simulators.plum_sandbox.state import SandboxState

log = logging.getLogger(__name__)

RETRIES = 3
RETRY_DELAYS = (0.2, 0.4, 0.8)  # seconds before retry 1, 2 and 3
DELAYED_SECONDS = 5.0  # products of delivery type "delayed" are delivered this long after
DEFAULT_TIMEOUT_SECONDS = 5.0
CASES: dict[str, Callable[[str], str]] = {
    "lower": str.lower,
    "title": str.title,
    "upper": str.upper,
}
MAX_LOGGED = 10_000
USER_AGENT = "plum-sandbox-webhook/0.1"


@dataclass(slots=True)
class Target:
    url: str
    api_key: str
    timeout: float = DEFAULT_TIMEOUT_SECONDS
    disabled: bool = False

    def __repr__(self) -> str:  # never show the key
        return f"Target(url={self.url!r}, disabled={self.disabled})"


@dataclass(frozen=True, slots=True)
class Plan:
    """How one order's delivery goes, decided when it is placed."""

    delay: float  # seconds; 0: delivered with the order
    status: str  # delivered | canceled
    drop: bool  # the webhook is not sent (a missed webhook)

    @property
    def pending(self) -> bool:
        return self.delay > 0 or self.status != "delivered"


class Webhooks:
    def __init__(self, *, state: SandboxState, stopping: threading.Event) -> None:
        self._state = state
        self._stopping = stopping
        self._cond = threading.Condition()
        self._queue: list[tuple[float, int, Callable[[], None]]] = []
        self._seq = itertools.count()
        self._thread: threading.Thread | None = None
        self._target: Target | None = None
        self._drop = 0
        self._cancel = 0
        self._busy = 0
        self._client: httpx.Client | None = None
        self.delay_seconds = 0.0  # every delivery this long after its order (0: at once)
        self.retry_delays: tuple[float, ...] = RETRY_DELAYS
        self.case = "lower"
        self.log: list[dict[str, Any]] = []  # one entry per event: its calls and outcome

    # ----- configuration --------------------------------------------------------------------
    def connect(
        self, url: str, api_key: str, *, timeout: float = DEFAULT_TIMEOUT_SECONDS
    ) -> Target:
        """Post deliveries to `url` with `x-api-key: api_key` (enabled again if disabled)."""
        parts = urlsplit(url.strip())
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"url must be an http(s) URL, got {url!r}")
        if not api_key:
            raise ValueError("api_key is required (the webhook's only protection)")
        if timeout <= 0:
            raise ValueError("timeout must be more than 0 seconds")
        target = Target(url=url.strip(), api_key=api_key, timeout=timeout)
        with self._cond:
            self._target = target
        return target

    def disconnect(self) -> None:
        with self._cond:
            self._target = None

    @property
    def target(self) -> Target | None:
        with self._cond:
            return self._target

    def drop_next(self, count: int = 1) -> None:
        """The next `count` webhooks are not sent (their orders are still delivered)."""
        if count < 0:
            raise ValueError("count must be >= 0")
        with self._cond:
            self._drop = count

    def cancel_next(self, count: int = 1) -> None:
        """The next `count` orders are canceled instead of delivered."""
        if count < 0:
            raise ValueError("count must be >= 0")
        with self._cond:
            self._cancel = count

    def set_case(self, case: str) -> None:
        if case not in CASES:
            raise ValueError(f"case must be one of {', '.join(CASES)}")
        self.case = case

    def update(self, doc: dict[str, Any]) -> None:
        """The admin JSON (`POST /_sandbox/webhooks`): `url` + `api_key` (+ `timeout`) to
        connect, `url: null` to disconnect, `drop`, `cancel`, `delay_seconds`,
        `retry_delays`, `case`. Validated before anything changes."""
        allowed = {"url", "api_key", "timeout", "drop", "cancel", "delay_seconds"}
        allowed |= {"retry_delays", "case"}
        unknown = set(doc) - allowed
        if unknown:
            raise ValueError(f"unknown key(s): {', '.join(sorted(unknown))}")
        for name in ("drop", "cancel"):
            value = doc.get(name)
            if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
                raise ValueError(f"{name} must be a whole number of webhooks")
        delay = doc.get("delay_seconds")
        if delay is not None and (not _number(delay) or delay < 0):
            raise ValueError("delay_seconds must be a number >= 0")
        delays = doc.get("retry_delays")
        if delays is not None and (
            not isinstance(delays, list)
            or len(delays) != RETRIES
            or not all(_number(d) and d >= 0 for d in delays)
        ):
            raise ValueError(f"retry_delays must be {RETRIES} numbers of seconds")
        if doc.get("case") is not None and doc["case"] not in CASES:
            raise ValueError(f"case must be one of {', '.join(CASES)}")
        timeout = doc.get("timeout", DEFAULT_TIMEOUT_SECONDS)
        if not _number(timeout) or timeout <= 0:
            raise ValueError("timeout must be a number of seconds")
        if "url" in doc:
            if doc["url"] is None:
                self.disconnect()
            elif not isinstance(doc["url"], str) or not isinstance(doc.get("api_key"), str):
                raise ValueError('send {"url", "api_key"} (or {"url": null})')
            else:
                self.connect(doc["url"], doc["api_key"], timeout=float(timeout))
        if doc.get("drop") is not None:
            self.drop_next(doc["drop"])
        if doc.get("cancel") is not None:
            self.cancel_next(doc["cancel"])
        if delay is not None:
            self.delay_seconds = float(delay)
        if delays is not None:
            self.retry_delays = tuple(float(d) for d in delays)
        if doc.get("case") is not None:
            self.set_case(doc["case"])

    def to_json(self) -> dict[str, Any]:
        with self._cond:
            target = self._target
            return {
                "connected": target is not None,
                "url": target.url if target else None,
                "api_key_set": target is not None,
                "disabled": target.disabled if target else False,
                "drop_next": self._drop,
                "cancel_next": self._cancel,
                "delay_seconds": self.delay_seconds,
                "retry_delays": list(self.retry_delays),
                "case": self.case,
                "events": [dict(e, calls=list(e["calls"])) for e in self.log[-100:]],
            }

    # ----- orders ---------------------------------------------------------------------------
    def plan(self, product: Product) -> Plan:
        """How the next order of `product` is delivered (the faults are used up once it is
        placed: `order_placed`)."""
        delay = self.delay_seconds
        if product.delivery_type == "delayed":
            delay = max(delay, DELAYED_SECONDS)
        with self._cond:
            cancel, drop = self._cancel > 0, self._drop > 0
        return Plan(delay=delay, status="canceled" if cancel else "delivered", drop=drop)

    @staticmethod
    def deliver_after(plan: Plan) -> timedelta | None:
        return timedelta(seconds=plan.delay) if plan.pending else None

    def order_placed(self, order: Order, plan: Plan) -> None:
        """After placeOrder: deliver a pending order when due, then send its webhook."""
        with self._cond:
            if plan.status == "canceled":
                self._cancel = max(self._cancel - 1, 0)
            if plan.drop:
                self._drop = max(self._drop - 1, 0)
        self._schedule(plan.delay, lambda: self._deliver(order.order_id, plan))

    def resume(self) -> None:
        """On start: deliver the orders a stopped sandbox left pending (when due)."""
        now = self._state.now()
        for order in self._state.orders():
            if order.delivery_status == "pending":
                due = order.deliver_at or now
                delay = max((due - now).total_seconds(), 0.0)
                plan = Plan(delay=delay, status="delivered", drop=False)
                self._schedule(delay, functools.partial(self._deliver, order.order_id, plan))

    def idle(self) -> bool:
        """Nothing is due or being sent."""
        with self._cond:
            return not self._queue and not self._busy

    # ----- the sender -------------------------------------------------------------------------
    def _schedule(self, delay: float, job: Callable[[], None]) -> None:
        with self._cond:
            heapq.heappush(self._queue, (time.monotonic() + delay, next(self._seq), job))
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name="plum-sandbox-webhooks", daemon=True
                )
                self._thread.start()
            self._cond.notify()

    def _run(self) -> None:
        with httpx.Client(headers={"user-agent": USER_AGENT}) as client:
            self._client = client
            while not self._stopping.is_set():
                with self._cond:
                    if not self._queue:
                        self._cond.wait(0.05)
                        continue
                    due, _, job = self._queue[0]
                    wait = due - time.monotonic()
                    if wait > 0:
                        self._cond.wait(min(wait, 0.05))
                        continue
                    heapq.heappop(self._queue)
                    self._busy += 1
                try:
                    job()
                except Exception:
                    log.exception("sandbox webhooks: a delivery failed")
                finally:
                    with self._cond:
                        self._busy -= 1

    def _deliver(self, order_id: int, plan: Plan) -> None:
        order = self._state.order(order_id=order_id)
        if order is None:
            return
        if plan.pending:
            delivered = self._state.deliver(order_id, status=plan.status)
            if delivered is None:
                return  # delivered already (by another path): its webhook went then
            order = delivered
        status = order.delivery_status
        event = {
            "id": "evt_" + secrets.token_hex(12),
            "data": {
                "orderId": order.order_id,
                "poNumber": order.po_number,
                "orderDate": iso_z(order.created_at),
                "deliveryStatus": CASES.get(self.case, str.lower)(status),
            },
            "createdAt": iso_z(self._state.now()),
        }
        entry: dict[str, Any] = {
            "event_id": event["id"],
            "order_id": order.order_id,
            "po_number": order.po_number,
            "delivery_status": status,
            "calls": [],
            "outcome": "sending",
        }
        with self._cond:
            if len(self.log) >= MAX_LOGGED:
                del self.log[: MAX_LOGGED // 10]
            self.log.append(entry)
        if plan.drop:
            entry["outcome"] = "dropped"
            log.info("sandbox fault: the webhook of order %s was dropped", order.order_id)
            return
        self._send(event, entry, attempt=0)

    def _send(self, event: dict[str, Any], entry: dict[str, Any], *, attempt: int) -> None:
        target = self.target
        if target is None:
            entry["outcome"] = "not_connected"
            return
        if target.disabled:
            entry["outcome"] = "disabled"
            return
        status: int | None = None
        error: str | None = None
        try:
            assert self._client is not None  # set by the sender thread, which calls this
            response = self._client.post(
                target.url,
                json=event,
                headers={"x-api-key": target.api_key},
                timeout=target.timeout,
            )
            status = response.status_code
        except httpx.HTTPError as err:
            error = type(err).__name__
        entry["calls"].append({"url": target.url, "status": status, "error": error})
        if status is not None and 200 <= status < 300:
            entry["outcome"] = "sent"
            return
        if attempt < RETRIES:
            delay = self.retry_delays[attempt] if attempt < len(self.retry_delays) else 0.0
            entry["outcome"] = "retrying"
            self._schedule(delay, lambda: self._send(event, entry, attempt=attempt + 1))
            return
        entry["outcome"] = "failed"
        with self._cond:
            if self._target is target:
                target.disabled = True
        log.warning("sandbox webhooks: %s failed %d times; disabled", target.url, RETRIES + 1)


def _number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
