"""`Refusal`: the one answer every use case gives when it did nothing (more): a sentence for the
person saying what happened and what to do. The command grammar (`bot.rewards.parse`), the
giving rules (`policy`), approvals, cancels, links and managers all answer with it, so the Slack
layer has one thing to render.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from storage.rewards import RewardDetails


@dataclass(frozen=True, slots=True)
class Refusal:
    """Nothing (more) was done. `text` (mrkdwn) tells the person why and what to do; `code`
    names the cause for programs (e.g. the grammar's `ErrorCode`); `fields` are the same
    problems by form field (a form shows them beside its inputs); `reward` is the reward
    concerned, when there is one (a decision that lost the race shows its current state)."""

    text: str
    code: str | None = None
    fields: Mapping[str, str] = field(default_factory=dict)
    reward: RewardDetails | None = None
