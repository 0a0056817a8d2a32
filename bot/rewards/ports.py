"""What the domain needs from the messaging side, as Protocols the Slack layer implements: a
`Messenger` (DMs, edits, App Home refreshes: `bot.slack.notifier.Notifier`) and the
`ApprovalViews` an approval request is drawn with (`bot.slack.blocks.approvals`). Payloads are
opaque to the domain: it hands them from the views to the messenger."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Protocol

from bot.rewards.cards import ApprovalCard, ApprovalDecision, RewardCard

Payload = dict[str, Any]


class Messenger(Protocol):
    def dm(self, user_id: str, payload: Mapping[str, Any]) -> dict[str, Any] | None:
        """Post a DM; the message's {"channel", "ts"}, or None when it was refused."""
        ...

    def update(self, channel: str, ts: str, payload: Mapping[str, Any]) -> bool:
        """Edit a message posted before; False when it was refused."""
        ...

    def on_change(self, user_ids: Iterable[str]) -> None:
        """These people's rewards changed: refresh what they see (App Home); never raises."""
        ...


class ApprovalViews(Protocol):
    def approval_request(
        self,
        *,
        request: ApprovalCard,
        tz: str | None,
        decision: ApprovalDecision | None = None,
    ) -> Payload: ...

    def approval_decided(
        self, *, request: ApprovalCard, decision: ApprovalDecision, tz: str | None
    ) -> Payload: ...

    def giver_decision(
        self, *, reward: RewardCard, decision: ApprovalDecision, tz: str | None
    ) -> Payload: ...
