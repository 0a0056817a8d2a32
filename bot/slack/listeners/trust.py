"""`/reward lock @person [reason]`, `/reward unlock @person`, `/reward locks` (admins only; the
services are `bot.rewards.locks.LockService`), and the buttons of the admins' daily DM of flags
(`bot.rewards.flag_service.FlagService`: Dismiss, Hold future ones, Lock the giver).

A flag's button is acknowledged at once and journaled (a click a crash interrupted is run
again at the next start). The flag's compare-and-set lets the first decision win; the clicker
hears of it once: the flag's buttons in the clicked message become what was decided (a double
click, or the click resumed after a restart, changes nothing more and says nothing more).
Another admin who clicks a decided flag is told who decided it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from slack_bolt import App, BoltContext, Respond

from bot.rewards.commands import ListLocks, LockGiver, UnlockGiver
from bot.rewards.flag_service import DISMISS, HOLD, LOCK, FlagDecided
from bot.rewards.refusal import Refusal
from bot.slack.blocks import trust as trust_blocks
from bot.slack.blocks.common import text_only
from bot.slack.ids import ActionId
from bot.slack.journal import ack_at_once, after_ack
from bot.slack.listeners.action_replies import (
    action_value,
    clicked_message,
    id_value,
    tell,
    user_of,
)
from bot.slack.listeners.command_replies import reply
from bot.slack.request_entry import ENTRY, RequestEntry

if TYPE_CHECKING:
    from bot.runtime import Runtime


def register(app: App) -> None:
    app.action(ActionId.FLAG_DISMISS)(ack=ack_at_once, lazy=[dismiss_flag])
    app.action(ActionId.FLAG_HOLD)(ack=ack_at_once, lazy=[hold_flag])
    app.action(ActionId.FLAG_LOCK)(ack=ack_at_once, lazy=[lock_flag_giver])


# ── /reward lock, unlock, locks ───────────────────────────────────────────────────────────


def lock(
    runtime: Runtime, parsed: LockGiver | ListLocks, command: dict[str, Any], respond: Respond
) -> None:
    if isinstance(parsed, ListLocks):
        reply(respond, locks_payload(runtime, command["user_id"]))
        return
    said = runtime.locks.lock(
        parsed, admin_id=command["user_id"], team_id=command.get("team_id") or ""
    )
    reply(respond, text_only(said.text if isinstance(said, Refusal) else said))


def unlock(
    runtime: Runtime, parsed: UnlockGiver, command: dict[str, Any], respond: Respond
) -> None:
    said = runtime.locks.unlock(
        parsed, admin_id=command["user_id"], team_id=command.get("team_id") or ""
    )
    reply(respond, text_only(said.text if isinstance(said, Refusal) else said))


def list_locks(runtime: Runtime, parsed: ListLocks, command: dict[str, Any]) -> dict[str, Any]:
    """Answered in the ack: a quick read of the ledger."""
    return locks_payload(runtime, command["user_id"])


def locks_payload(runtime: Runtime, admin_id: str) -> dict[str, Any]:
    lines = runtime.locks.locks(admin_id)
    if isinstance(lines, Refusal):
        return text_only(lines.text)
    return trust_blocks.locks_list(lines=lines, tz=runtime.notifier.tz_of(admin_id))


# ── the flags' buttons ────────────────────────────────────────────────────────────────────


@after_ack
def dismiss_flag(
    body: dict[str, Any], respond: Respond, context: BoltContext, runtime: Runtime
) -> None:
    decide(runtime, body, respond, context, DISMISS)


@after_ack
def hold_flag(
    body: dict[str, Any], respond: Respond, context: BoltContext, runtime: Runtime
) -> None:
    decide(runtime, body, respond, context, HOLD)


@after_ack
def lock_flag_giver(
    body: dict[str, Any], respond: Respond, context: BoltContext, runtime: Runtime
) -> None:
    decide(runtime, body, respond, context, LOCK)


def decide(
    runtime: Runtime, body: dict[str, Any], respond: Respond, context: BoltContext, decision: str
) -> None:
    """The click that decided answers; the same admin's other clicks (a double click) say
    nothing more; a click resumed after a restart answers only if nobody has yet."""
    flag_id = id_value(action_value(body))
    if flag_id is None:
        tell(runtime, body, respond, "That button is out of date. Nothing was changed.")
        return
    entry = context.get(ENTRY)
    resumed = isinstance(entry, RequestEntry) and entry.resumed
    result = runtime.flags.decide(
        flag_id=flag_id, admin_id=user_of(body), decision=decision, resumed=resumed
    )
    if isinstance(result, Refusal):
        tell(runtime, body, respond, result.text)
        return
    flag_id = result.card.flag_id
    if not result.first and not (resumed and not runtime.flags.answered(flag_id)):
        return  # this admin's earlier click answers (a double click)
    answer(runtime, body, respond, result)
    runtime.flags.mark_answered(flag_id)


def answer(runtime: Runtime, body: dict[str, Any], respond: Respond, result: FlagDecided) -> None:
    """The clicked message edited: the flag's buttons become what was decided (chat.update,
    which a click resumed after a restart can do too); an answer of its own when the message
    can't be edited."""
    where = clicked_message(body)
    payload = trust_blocks.flag_decided(
        body.get("message") or {}, flag_id=result.card.flag_id, said=result.text
    )
    if (
        where is not None
        and payload is not None
        and runtime.notifier.update(where.channel_id, where.ts, payload)
    ):
        return
    tell(runtime, body, respond, result.text)
