"""What every operation handler receives and returns."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bot.simulators.plum_sandbox.faults import Faults
from bot.simulators.plum_sandbox.state import SandboxState
from bot.simulators.plum_sandbox.webhooks import Webhooks

Body = dict[str, Any]


@dataclass(frozen=True, slots=True)
class OpContext:
    state: SandboxState
    faults: Faults  # for the response variants
    webhooks: Webhooks | None = None  # deliveries of placed orders

    def variant(self, name: str) -> str:
        return self.faults.variant(name)


Handler = Callable[[OpContext, Body], Body]


@dataclass(frozen=True, slots=True)
class Operation:
    name: str  # the query's last part, also the fault/rate-limit key
    tag: str
    handler: Handler
