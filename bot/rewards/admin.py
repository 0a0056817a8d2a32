"""What the admin commands (`/reward link`, `links`, `cancel`) share: who may run them, running
each slash command once when Slack retries it, and `Refusal(text)`, the answer when nothing (more)
was done: a sentence for the admin saying what happened and what to do.

The services are `bot.rewards.link_service.LinkService` and
`bot.rewards.cancel_service.CancelService`. Nothing here posts to Slack; the listeners deliver.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.settings import Settings
from bot.slack.blocks.common import mention
from bot.slack.people import role_for
from storage import once
from storage.db import Store
from storage.states import Role

COMMAND_ONCE_KIND = "admin_command"
DUPLICATE_COMMAND = (
    "I got this request twice (Slack retried it), so I'm only doing it once: "
    "see the answer to the first one."
)


@dataclass(frozen=True, slots=True)
class Refusal:
    """Nothing (more) was done; `text` (mrkdwn) tells the admin why and what to do."""

    text: str


def only_admins(settings: Settings, user_id: str, *, doing: str) -> Refusal | None:
    """None for an admin; else "Only admins can {doing}." for everybody else."""
    if role_for(settings, user_id) == Role.ADMIN:
        return None
    admins = [mention(a) for a in settings.REWARD_ADMINS]
    who = " or ".join([", ".join(admins[:-1]), admins[-1]] if len(admins) > 1 else admins)
    return Refusal(f"Only admins can {doing}. If it needs doing, ask {who or 'an admin'}.")


def first_delivery(store: Store, *, trigger_id: str | None) -> bool:
    """False when this slash command (by Slack's trigger_id) was handled before: Slack
    retried it. Claimed before anything is done, so a retry never makes links twice."""
    if not trigger_id:
        return True
    with store.session() as session:
        return once.claim_once(session, kind=COMMAND_ONCE_KIND, key=trigger_id[:255])


def plum_unreachable(what: str) -> Refusal:
    """Xoxoday could not be reached; `what` says what that left undone."""
    return Refusal(f"I couldn't reach Xoxoday just now; try again in a minute. {what}")
