""" "It was sent" / "It failed" on a reward in doubt: admins settle it (audited by the ledger).

The first admin's answer wins (`storage.rewards.settle_in_doubt` is a compare-and-set); a second
click, or another admin, is told who settled it and when. Afterwards every admin's alert shows
who settled it and how, without the buttons; on "sent" the recipients get their DM (and the
announcement and the giver's confirmation) exactly as for a delivered reward; on "failed" the
giver is told nothing arrived and they may send it again.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from slack_bolt import Ack, App, Respond
from slack_sdk.errors import SlackApiError

from bot.rewards.approvals import unknown_reward_text
from bot.rewards.cards import MessageRef, Settlement, card_for, people_of
from bot.rewards.kinds import MessageKind
from bot.slack.blocks import reward_messages
from bot.slack.blocks.common import format_datetime, mention, short_id, status_label
from bot.slack.blocks.kit import keyed
from bot.slack.ids import ActionId, BlockId
from bot.slack.listeners.action_replies import action_value, clicked_message, tell, user_of
from storage import messages as message_repo
from storage import rewards as reward_repo
from storage.errors import AlreadyDecided
from storage.rewards import RewardDetails
from storage.states import RewardStatus

if TYPE_CHECKING:
    from bot.runtime import Runtime

log = logging.getLogger(__name__)

ALERT_KIND = MessageKind.IN_DOUBT_ALERT
LATE_ALERTS_SECONDS = 2.0
NEVER_ARRIVED = (
    "An admin checked with Xoxoday: the points never arrived, so nothing was sent. It doesn't "
    "count against your monthly allowance."
)


def register(app: App, runtime: Runtime) -> None:
    def on_sent(ack: Ack, body: dict[str, Any], respond: Respond) -> None:
        ack()
        settle(runtime, body, respond, RewardStatus.SENT)

    def on_failed(ack: Ack, body: dict[str, Any], respond: Respond) -> None:
        ack()
        settle(runtime, body, respond, RewardStatus.FAILED)

    runtime.intake.action(app, ActionId.SETTLE_SENT, on_sent)
    runtime.intake.action(app, ActionId.SETTLE_FAILED, on_failed)


def settle(runtime: Runtime, body: dict[str, Any], respond: Respond, outcome: RewardStatus) -> None:
    admin = user_of(body)
    short = action_value(body)
    if not runtime.approvals.is_admin(admin):
        tell(
            runtime, body, respond, "Only admins can settle rewards in doubt. Nothing was changed."
        )
        return
    reward = runtime.approvals.find(short)
    if reward is None:
        tell(runtime, body, respond, unknown_reward_text(short))
        return
    try:
        with runtime.store.session() as session:
            done = reward_repo.settle_in_doubt(
                session,
                reward_id=reward.id,
                outcome=outcome,
                actor=admin,
                reason=f"an admin marked it as {outcome.value} in Slack",
            )
    except AlreadyDecided:
        latest = runtime.approvals.find(short) or reward
        tell(runtime, body, respond, already_settled_text(runtime, latest, admin))
        found = settlement_of(latest)
        if found is not None:
            update_alerts(runtime, body, latest, found, recorded=False)
        return
    log.info("reward %s settled as %s by %s", done.short_id, outcome.value, admin)
    settlement = settlement_of(done)
    if settlement is not None:
        update_alerts(runtime, body, done, settlement, recorded=True)
    if outcome == RewardStatus.SENT:
        runtime.notifier.delivered(done)  # recipients' DMs, announcement, giver's "Sent!"
    else:
        tell_giver_failed(runtime, done)
    # App Homes: the giver's and recipients' rewards, every admin's "rewards in doubt"
    runtime.notifier.on_change([*people_of(done), *runtime.settings.REWARD_ADMINS])


def settlement_of(reward: RewardDetails) -> Settlement | None:
    row = reward.reward
    if not row.settled_by or row.settled_at is None:
        return None
    if reward.status not in (RewardStatus.SENT, RewardStatus.FAILED):
        return None  # e.g. sent, then cancelled: the alert keeps its last settlement shown
    return Settlement(
        outcome="sent" if reward.status == RewardStatus.SENT else "failed",
        settled_by=row.settled_by,
        settled_at=row.settled_at,
    )


def already_settled_text(runtime: Runtime, reward: RewardDetails, user_id: str) -> str:
    row = reward.reward
    ref = short_id(reward.short_id)
    if row.settled_by and row.settled_at is not None:
        tz = runtime.people.profile(user_id).person.tz or runtime.settings.REWARD_TIMEZONE
        when = format_datetime(row.settled_at, tz)
        how = "sent" if reward.status == RewardStatus.SENT else "failed"
        if row.settled_by == user_id:
            return f"You already marked reward {ref} as {how} on {when}. Nothing was changed."
        return (
            f"Already settled by {mention(row.settled_by)} on {when}: marked as {how}. "
            "Nothing was changed."
        )
    return (
        f"Reward {ref} isn't in doubt: it's {status_label(reward.status)}. "
        "There's nothing to settle, and nothing was changed."
    )


def update_alerts(
    runtime: Runtime,
    body: dict[str, Any],
    reward: RewardDetails,
    settlement: Settlement,
    *,
    recorded: bool,
) -> None:
    """Every recorded admin alert (when `recorded`), and the clicked message when it is not one
    of them (the after-restart alert lists several rewards), show the settlement."""
    clicked = clicked_message(body)
    refs = _recorded_alerts(runtime, reward)
    done = {(c.channel_id, c.ts) for c in [clicked] if c is not None}
    if recorded:
        done |= _update_recorded(runtime, reward, settlement, refs)
        # An alert posted just before the click may be recorded a moment after it: look again.
        timer = threading.Timer(
            LATE_ALERTS_SECONDS,
            _update_late,
            args=(runtime, reward, settlement, done | refs),
        )
        timer.daemon = True
        timer.start()
    if clicked is not None and (clicked.channel_id, clicked.ts) not in refs:
        message = body.get("message") or {}
        blocks = settled_blocks(message.get("blocks") or [], reward.short_id, settlement, runtime)
        if blocks is not None:
            _update(runtime, clicked, {"text": message.get("text") or "", "blocks": blocks})


def _recorded_alerts(runtime: Runtime, reward: RewardDetails) -> set[tuple[str, str]]:
    with runtime.store.read_session() as session:
        alerts = message_repo.list_reward_messages(session, reward_id=reward.id, kind=ALERT_KIND)
    return {(a.channel_id, a.message_ts) for a in alerts}


def _update_recorded(
    runtime: Runtime,
    reward: RewardDetails,
    settlement: Settlement,
    refs: set[tuple[str, str]],
) -> set[tuple[str, str]]:
    payload = reward_messages.admin_in_doubt_alert(
        reward=card_for(reward),
        tz=runtime.settings.REWARD_TIMEZONE,
        settlement=settlement,
    )
    for channel, ts in sorted(refs):
        _update(runtime, MessageRef(channel_id=channel, ts=ts), payload)
    return refs


def _update_late(
    runtime: Runtime,
    reward: RewardDetails,
    settlement: Settlement,
    done: set[tuple[str, str]],
) -> None:
    try:
        late = _recorded_alerts(runtime, reward) - done
        if late:
            _update_recorded(runtime, reward, settlement, late)
    except Exception:  # the bot may be stopping; the alert keeps its buttons, which answer
        log.warning("could not update late in-doubt alerts of %s", reward.short_id)


def settled_blocks(
    blocks: list[dict[str, Any]], short: str, settlement: Settlement, runtime: Runtime
) -> list[dict[str, Any]] | None:
    """`blocks` with this reward's settle buttons replaced by who settled it (None: no such
    buttons, nothing to change)."""
    wanted = keyed(BlockId.SETTLE_ACTIONS, short)
    if not any(b.get("block_id") == wanted for b in blocks):
        return None
    line = reward_messages.settlement_context(settlement, runtime.settings.REWARD_TIMEZONE)
    return [line if b.get("block_id") == wanted else b for b in blocks]


def _update(runtime: Runtime, ref: MessageRef, payload: dict[str, Any]) -> None:
    try:
        runtime.slack.chat_update(channel=ref.channel_id, ts=ref.ts, **payload)
    except SlackApiError as err:
        log.warning("could not update an in-doubt alert: %s", err.response.get("error"))


def tell_giver_failed(runtime: Runtime, reward: RewardDetails) -> None:
    card = replace(card_for(reward), failure_reason=NEVER_ARRIVED)
    giver = reward.giver
    runtime.notifier.dm(
        giver.slack_user_id,
        reward_messages.giver_failed(reward=card, tz=giver.tz),
    )
