"""What the admin commands (`/reward link`, `links`, `cancel`, `manager`) share: who may run
them, and the refusals they give (`bot.rewards.refusal.Refusal`). (A command Slack delivers
twice is handled once by the intake journal.)

The services are `bot.rewards.link_service.LinkService`,
`bot.rewards.cancel_service.CancelService` and `bot.rewards.managers.ManagersService`.
Nothing here posts to Slack; the listeners deliver.
"""

from __future__ import annotations

from bot.rewards.directory import role_for
from bot.rewards.refusal import Refusal
from bot.rewards.wording import mention
from bot.settings import Settings
from storage.states import Role


def only_admins(settings: Settings, user_id: str, *, doing: str) -> Refusal | None:
    """None for an admin; else "Only admins can {doing}." for everybody else."""
    if role_for(settings, user_id) == Role.ADMIN:
        return None
    admins = [mention(a) for a in settings.REWARD_ADMINS]
    who = " or ".join([", ".join(admins[:-1]), admins[-1]] if len(admins) > 1 else admins)
    return Refusal(f"Only admins can {doing}. If it needs doing, ask {who or 'an admin'}.")


def plum_unreachable(what: str) -> Refusal:
    """Xoxoday could not be reached; `what` says what that left undone."""
    return Refusal(f"I couldn't reach Xoxoday just now; try again in a minute. {what}")
