"""Telling people: DMs to recipients, givers and admins, and channel announcements.

Every payload comes from a Block Kit builder in `bot.slack.blocks`. Posting failures are logged,
never raised into delivery: the ledger, not Slack, is the record of what happened.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.rewards.announcing import announce_channel
from bot.rewards.cards import RewardCard, card_for, people_of
from bot.rewards.kinds import MessageKind, OnceKind
from bot.rewards.order_updates import DeliveryChange, OrderCard
from bot.rewards.redeem import RedeemService
from bot.settings import Settings
from bot.slack.blocks import deliveries as delivery_blocks
from bot.slack.blocks import reward_messages
from storage import messages as message_repo
from storage import once
from storage.db import Store
from storage.rewards import RewardDetails

log = logging.getLogger(__name__)

# Slack errors that pass: a message refused with one of these is tried again later.
PASSING_SLACK_ERRORS = frozenset(
    {"ratelimited", "internal_error", "fatal_error", "service_unavailable", "request_timeout"}
)

CANNOT_POST = {"not_in_channel", "channel_not_found", "is_archived", "restricted_action"}


class Notifier:
    def __init__(
        self,
        *,
        slack: WebClient,
        settings: Settings,
        store: Store,
        redeem: RedeemService | None = None,
        on_change: Callable[[list[str]], None] | None = None,
    ) -> None:
        """`redeem`: points in the bot (recipients' DMs carry a Redeem button); `on_change`
        refreshes what people see when their rewards change (the App Home refresher)."""
        self._slack = slack
        self._settings = settings
        self._store = store
        self._dm_channels: dict[str, str] = {}
        self._lock = threading.Lock()
        self.redeem = redeem
        self._change_hook = on_change

    # --- plumbing -------------------------------------------------------------------------

    def card(self, reward: RewardDetails) -> RewardCard:
        return card_for(reward)

    def dm_channel(self, user_id: str) -> str:
        with self._lock:
            known = self._dm_channels.get(user_id)
        if known:
            return known
        channel = self._slack.conversations_open(users=user_id)["channel"]["id"]
        with self._lock:
            self._dm_channels[user_id] = channel
        return channel

    def dm(
        self, user_id: str, payload: Mapping[str, Any], *, raise_passing: bool = False
    ) -> dict[str, Any] | None:
        """Post a DM; the posted message (channel, ts) or None when Slack refused. With
        `raise_passing`, a refusal for a passing reason (PASSING_SLACK_ERRORS) is raised."""
        try:
            response = self._slack.chat_postMessage(channel=self.dm_channel(user_id), **payload)
        except SlackApiError as err:
            error = str(err.response.get("error") or "")
            if raise_passing and error in PASSING_SLACK_ERRORS:
                raise
            log.warning("could not DM %s: %s", user_id, error)
            return None
        return {"channel": response["channel"], "ts": response["ts"]}

    def post(self, channel: str, payload: Mapping[str, Any]) -> dict[str, Any] | str:
        """Post in a channel: the message ref, or Slack's error code."""
        try:
            response = self._slack.chat_postMessage(channel=channel, **payload)
        except SlackApiError as err:
            return str(err.response.get("error") or "error")
        return {"channel": response["channel"], "ts": response["ts"]}

    def update(self, channel: str, ts: str, payload: Mapping[str, Any]) -> bool:
        """Edit a message posted before; False (logged) when Slack refused."""
        try:
            self._slack.chat_update(channel=channel, ts=ts, **payload)
        except SlackApiError as err:
            log.warning(
                "could not update message %s in %s: %s", ts, channel, err.response.get("error")
            )
            return False
        return True

    def admin_ids(self) -> list[str]:
        if not self._settings.REWARD_ADMINS:
            log.warning("REWARD_ADMINS is empty: nobody can be told about rewards in doubt")
        return list(self._settings.REWARD_ADMINS)

    def _tz(self, reward: RewardDetails, user_id: str) -> str | None:
        if reward.giver.slack_user_id == user_id:
            return reward.giver.tz
        for r in reward.recipients:
            if r.member.slack_user_id == user_id:
                return r.member.tz
        return self._settings.REWARD_TIMEZONE

    def _remember(self, reward: RewardDetails, kind: str, ref: Mapping[str, Any] | None) -> None:
        if not ref:
            return
        with self._store.session() as session:
            message_repo.record_reward_message(
                session,
                reward_id=reward.id,
                kind=kind,
                channel_id=ref["channel"],
                message_ts=ref["ts"],
            )

    # --- changes people should see (App Home) ---------------------------------------------

    def on_change(self, user_ids: Iterable[str]) -> None:
        """These people's rewards changed (given, received, decided, settled, cancelled): their
        App Home is refreshed. Never raises."""
        hook = self._change_hook
        ids = [uid for uid in dict.fromkeys(user_ids) if uid]
        if hook is None or not ids:
            return
        try:
            hook(ids)
        except Exception:
            log.exception("App Home refresh hook failed")

    # --- delivery outcomes ----------------------------------------------------------------

    # Telling how a reward ended may run twice (a process stopped half-way: see
    # `bot.rewards.told`), so each message is recorded with the reward once posted, and a
    # message already recorded is not posted again.

    def _posted(self, reward: RewardDetails, again: bool) -> dict[str, set[str]]:
        """The channels each kind of message about this reward was posted in (when telling it
        `again`; the first time nothing was)."""
        if not again:
            return {}
        with self._store.read_session() as session:
            found = message_repo.list_reward_messages(session, reward_id=reward.id)
        posted: dict[str, set[str]] = {}
        for message in found:
            posted.setdefault(message.kind, set()).add(message.channel_id)
        return posted

    def _dm_once(
        self,
        reward: RewardDetails,
        kind: str,
        user_id: str,
        payload: Mapping[str, Any],
        posted: Mapping[str, set[str]],
    ) -> None:
        """DM one part of telling an outcome, unless it was posted before. When Slack fails
        for a passing reason (an outage, rate limits outlasting the retries), raise, so the
        outcome stays untold and is told again later; a refusal for good (a deactivated
        account) is logged and the telling goes on."""
        if self.dm_channel(user_id) in posted.get(kind, ()):
            return
        self._remember(reward, kind, self.dm(user_id, payload, raise_passing=True))

    def delivered(self, reward: RewardDetails, *, again: bool = False) -> None:
        card = card_for(reward)
        posted = self._posted(reward, again)
        for r in reward.recipients:
            if r.recipient.outcome != "sent":
                continue
            uid = r.member.slack_user_id
            if self.dm_channel(uid) in posted.get(MessageKind.RECIPIENT_DM, ()):
                continue  # told before: mint no link for it
            redeem = self.redeem.button(uid) if self.redeem is not None else None
            payload = reward_messages.recipient_dm(
                reward=card, recipient_id=uid, tz=r.member.tz, redeem=redeem
            )
            self._dm_once(reward, MessageKind.RECIPIENT_DM, uid, payload, posted)
        announced = posted.get(MessageKind.ANNOUNCEMENT)
        announced_in = next(iter(announced)) if announced else self._announce(reward, card)
        payload = reward_messages.giver_confirmation(
            reward=card, tz=reward.giver.tz, announced_in=announced_in
        )
        self._dm_once(reward, MessageKind.GIVER_TOLD_SENT, card.giver_id, payload, posted)
        self.on_change(people_of(reward))

    def _announce(self, reward: RewardDetails, card: RewardCard) -> str | None:
        if not card.public:
            return None
        channel = announce_channel(self._settings, card.channel_id)
        if channel is None:
            return None  # given in a DM, or with no channel: nowhere public to announce
        result = self.post(channel, reward_messages.channel_announcement(reward=card))
        if isinstance(result, str) and result in PASSING_SLACK_ERRORS:  # told again later
            raise RuntimeError(f"Slack could not post the announcement ({result})")
        if isinstance(result, dict):
            self._remember(reward, MessageKind.ANNOUNCEMENT, result)
            return result["channel"]
        log.warning("could not announce reward %s in %s: %s", card.short_id, channel, result)
        return None

    def failed(self, reward: RewardDetails, reason: str, *, again: bool = False) -> None:
        card = card_for(reward)
        payload = reward_messages.giver_failed(reward=card, tz=reward.giver.tz)
        posted = self._posted(reward, again)
        self._dm_once(reward, MessageKind.GIVER_TOLD_FAILED, card.giver_id, payload, posted)
        self.on_change(people_of(reward))

    def in_doubt(self, reward: RewardDetails, reason: str, *, again: bool = False) -> None:
        card = card_for(reward)
        posted = self._posted(reward, again)
        payload = reward_messages.giver_in_doubt(reward=card, tz=reward.giver.tz)
        self._dm_once(reward, MessageKind.GIVER_TOLD_IN_DOUBT, card.giver_id, payload, posted)
        for admin in self.admin_ids():
            payload = reward_messages.admin_in_doubt_alert(
                reward=card, tz=self._settings.REWARD_TIMEZONE
            )
            self._dm_once(reward, MessageKind.IN_DOUBT_ALERT, admin, payload, posted)
        self.on_change([*people_of(reward), *self.admin_ids()])

    def delayed(self, reward: RewardDetails, reason: str) -> None:
        """The send never reached Xoxoday and waits for a retry: the giver hears it once."""
        with self._store.session() as session:
            first = once.claim_once(session, kind=OnceKind.DELIVERY_DELAYED, key=reward.short_id)
        if not first:
            return
        card = card_for(reward)
        self.dm(
            card.giver_id,
            reward_messages.giver_delayed(
                reward=card,
                hours=self._settings.REWARD_DELIVERY_RETRY_HOURS,
                tz=reward.giver.tz,
            ),
        )
        self.on_change(people_of(reward))

    def plum_unreachable(
        self, *, since: datetime, reason: str, waiting: int, setup_problem: bool
    ) -> None:
        for admin in self.admin_ids():
            self.dm(
                admin,
                reward_messages.admin_plum_unreachable(
                    since=since,
                    reason=reason,
                    waiting=waiting,
                    setup_problem=setup_problem,
                    tz=self._settings.REWARD_TIMEZONE,
                ),
            )

    def plum_reachable(self, *, since: datetime, waiting: int) -> None:
        for admin in self.admin_ids():
            self.dm(
                admin,
                reward_messages.admin_plum_reachable(
                    since=since,
                    waiting=waiting,
                    tz=self._settings.REWARD_TIMEZONE,
                ),
            )

    def recovered_in_doubt(self, rewards: Sequence[RewardDetails]) -> None:
        """Rewards a restart found mid-send: one alert to each admin, and each giver hears
        that theirs is being checked."""
        cards = [card_for(r) for r in rewards]
        for reward, card in zip(rewards, cards, strict=True):
            payload = reward_messages.giver_in_doubt(reward=card, tz=reward.giver.tz)
            self._dm_once(reward, MessageKind.GIVER_TOLD_IN_DOUBT, card.giver_id, payload, {})
        for admin in self.admin_ids():
            self.dm(
                admin,
                reward_messages.admin_crash_recovery_alert(
                    rewards=cards, tz=self._settings.REWARD_TIMEZONE
                ),
            )
        self.on_change([*(uid for r in rewards for uid in people_of(r)), *self.admin_ids()])

    # --- gift cards and donations: delivery (bot.rewards.order_updates) -------------------

    def order_delivery(self, change: DeliveryChange) -> None:
        """The gift or donation was delivered or canceled: its recipient (if any, and not the
        sender) and its sender hear it once (the domain calls this once per change)."""
        order = change.order
        if order.recipient_id and order.recipient_id != order.sender_id:
            self.dm(order.recipient_id, delivery_blocks.recipient_delivery(change=change))
        self.dm(order.sender_id, delivery_blocks.sender_delivery(change=change))
        self.on_change([order.sender_id, order.recipient_id or ""])

    def order_unresolved(self, order: OrderCard, *, reason: str) -> None:
        """An order's outcome needs a person: each admin hears it (once per order)."""
        for admin in self.admin_ids():
            self.dm(
                admin,
                delivery_blocks.admin_order_unresolved(
                    order=order, reason=reason, tz=self._settings.REWARD_TIMEZONE
                ),
            )
