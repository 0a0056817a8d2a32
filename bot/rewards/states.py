"""The ledger's vocabulary as the domain hands it to the Slack layer: a reward's states, where a
reward came from, roles, and the reward record the services return. They are defined by
`storage` (the ledger enforces the state machine); the layers above name them from here, so
the Slack layer needs nothing of `storage`."""

from __future__ import annotations

from storage.rewards import RecipientDetails, RewardDetails
from storage.states import RecipientOutcome, RewardSource, RewardStatus, Role

__all__ = [
    "RecipientDetails",
    "RecipientOutcome",
    "RewardDetails",
    "RewardSource",
    "RewardStatus",
    "Role",
]
