"""The Slack side of the one way to tell people: `Notifier.tell(event)`.

The domain reports what happened as events (`bot.rewards.events`); `tell` turns each into the
right messages: DMs to recipients, givers, approvers and admins, channel announcements, edits of
messages posted before, files in an admin's DM, App Homes redrawn. Every payload comes from a
Block Kit builder in `bot.slack.blocks`. The plain ways to post (`dm`, `post`, `update`) serve
the jobs, and `answer` the listeners' answers to a request that has no response_url (a form, an
App Home button). Posting failures are logged, never raised into delivery, except a passing one
while telling an outcome (it is told again later): the ledger, not Slack, is the record of what
happened.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.rewards import events as ev
from bot.rewards.announcing import announce_channel
from bot.rewards.cards import MessageRef, RewardCard, Settlement, card_for, people_of
from bot.rewards.gifts import GiftCard
from bot.rewards.kinds import MessageKind, OnceKind
from bot.rewards.link_service import links_csv
from bot.rewards.order_updates import DeliveryChange, OrderCard
from bot.rewards.policy import FailureKind
from bot.rewards.redeem import RedeemService
from bot.settings import Settings
from bot.slack.blocks import adjustments as adjustment_blocks
from bot.slack.blocks import approvals as approval_blocks
from bot.slack.blocks import budgets as budget_blocks
from bot.slack.blocks import bulk as bulk_blocks
from bot.slack.blocks import cancel as cancel_blocks
from bot.slack.blocks import celebrations as celebration_blocks
from bot.slack.blocks import deliveries as delivery_blocks
from bot.slack.blocks import gifts as gift_blocks
from bot.slack.blocks import links as link_blocks
from bot.slack.blocks import orders as order_blocks
from bot.slack.blocks import reactions as reaction_blocks
from bot.slack.blocks import reports as report_blocks
from bot.slack.blocks import reward_messages
from bot.slack.blocks import trust as trust_blocks
from bot.slack.blocks.kit import keyed
from bot.slack.group_updates import GroupUpdates
from bot.slack.ids import BlockId
from storage import messages as message_repo
from storage import once
from storage import reactions as reaction_repo
from storage.bulk import is_bulk_key
from storage.db import Store
from storage.models import Member
from storage.reactions import Group
from storage.reward_views import details_by_id
from storage.rewards import RewardDetails
from storage.states import RewardSource

log = logging.getLogger(__name__)

# Rewards an announcement shows with others (`storage.reactions` groups).
GROUPED_SOURCES = frozenset({RewardSource.REACTION, RewardSource.MESSAGE})
GROUP_LOCKS = 16

# Slack errors that pass: a message refused with one of these is tried again later.
PASSING_SLACK_ERRORS = frozenset(
    {"ratelimited", "internal_error", "fatal_error", "service_unavailable", "request_timeout"}
)

CANNOT_POST = {"not_in_channel", "channel_not_found", "is_archived", "restricted_action"}
# An in-doubt alert posted just before an admin settled it may be recorded a moment after: its
# settlement is shown on it after this long too.
LATE_ALERTS_SECONDS = 2.0
# What happened, for the giver's "wasn't sent" DM (which says what it means for them).
NEVER_ARRIVED = "An admin checked with Xoxoday: the points never arrived."
# The one message with a reward link is posted with a logger that never dumps bodies.
QUIET_LOGGER = "bot.slack.secret_messages"


class Notifier:
    def __init__(
        self,
        *,
        slack: WebClient,
        settings: Settings,
        store: Store,
        redeem: RedeemService | None = None,
        on_change: Callable[[list[str]], None] | None = None,
        tz_of: Callable[[str], str | None] | None = None,
    ) -> None:
        """`redeem`: points in the bot (recipients' DMs carry a Redeem button); `on_change`
        refreshes what people see when their rewards change (the App Home refresher); `tz_of`
        says a person's own time zone (their Slack profile's), which every message to them
        shows times in."""
        self._slack = slack
        self._settings = settings
        self._store = store
        self._dm_channels: dict[str, str] = {}
        self._lock = threading.Lock()
        self.redeem = redeem
        self._change_hook = on_change
        self._tz_of = tz_of
        self._group_locks = tuple(threading.Lock() for _ in range(GROUP_LOCKS))
        self.group_updates = GroupUpdates(refresh=self._refresh_group)

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

    def tz_of(self, user_id: str) -> str:
        """The time zone `user_id` reads times in, in every message: their own (from Slack),
        else REWARD_TIMEZONE when Slack can't say, as the listeners and the jobs choose it."""
        if self._tz_of is not None:
            try:
                tz = self._tz_of(user_id)
            except Exception:  # unknown to Slack, or Slack not answering
                tz = None
            if tz:
                return tz
        return self._settings.REWARD_TIMEZONE

    def _zone(self, tz: str | None) -> str:
        """A member's time zone as the ledger has it from Slack, else REWARD_TIMEZONE (as
        `tz_of`), never UTC by default for one message and the company's for the next."""
        return tz or self._settings.REWARD_TIMEZONE

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
            dm = (
                celebration_blocks.recipient_dm
                if card.celebration
                else reward_messages.recipient_dm
            )
            payload = dm(reward=card, recipient_id=uid, tz=self._zone(r.member.tz), redeem=redeem)
            self._dm_once(reward, MessageKind.RECIPIENT_DM, uid, payload, posted)
        announced = posted.get(MessageKind.ANNOUNCEMENT)
        group = self._group_of(reward)
        if announced:
            announced_in: str | None = next(iter(announced))
        elif group is not None:
            announced_in = self._announce_in_group(reward, card, group)
        else:
            announced_in = self._announce(reward, card)
        if card.celebration:  # the company gave it: no giver to tell, no App Home of its own
            self.on_change(card.recipient_ids)
            return
        if not is_bulk_key(reward.reward.idempotency_key):  # a file's admin reads its progress
            payload = reward_messages.giver_confirmation(
                reward=card, tz=self._zone(reward.giver.tz), announced_in=announced_in
            )
            self._dm_once(reward, MessageKind.GIVER_TOLD_SENT, card.giver_id, payload, posted)
        self.on_change(people_of(reward))

    # --- announcements that show several rewards (reactions, pile-ons) ------------------------

    def _group_of(self, reward: RewardDetails) -> Group | None:
        if reward.reward.source not in GROUPED_SOURCES:
            return None  # (no ledger read for the others)
        with self._store.read_session() as session:
            return reaction_repo.group_of(session, reward_id=reward.id)

    def _announce_in_group(
        self, reward: RewardDetails, card: RewardCard, group: Group
    ) -> str | None:
        """A reward given with a reaction (or joining a reward from its announcement): the
        group's announcement shows it, updated in place (coalesced, at most once a second per
        channel); the first of the group delivered posts it (REWARD_ANNOUNCE: in the thread of
        the message reacted to, in the channel, or nowhere)."""
        mode = self._settings.REWARD_ANNOUNCE
        lock = self._group_locks[hash(group) % len(self._group_locks)]
        with lock:  # one post per group from this process's delivery threads
            with self._store.read_session() as session:
                existing = reaction_repo.group_announcement(session, group)
            if existing is None and mode == "off":
                return None
            if existing is None:
                thread = group.group_ts if mode == "thread" else None
                channel = card.channel_id if thread else None
                announced_in = self._announce(reward, card, channel=channel, thread_ts=thread)
                if announced_in is not None:
                    self.group_updates.posted(announced_in)
                    self.group_updates.request(group)  # any delivered meanwhile
                return announced_in
        self.group_updates.request(group)
        return existing.channel_id

    def _refresh_group(self, group: Group) -> None:
        """Draw the group's announcement again from the ledger: the reward it was posted for
        and, on one line, everyone who joined it (sent)."""
        with self._store.read_session() as session:
            found = reaction_repo.group_announcement(session, group)
            if found is None:
                return
            base = details_by_id(session, found.reward_id)
            members = reaction_repo.group_rewards(session, group)
        joined = [card_for(r) for r in members if r.id != base.id and r.status == "sent"]
        payload = reward_messages.group_announcement(reward=card_for(base), joined=joined)
        self.update(found.channel_id, found.message_ts, payload)

    def _announce(
        self,
        reward: RewardDetails,
        card: RewardCard,
        *,
        channel: str | None = None,
        thread_ts: str | None = None,
    ) -> str | None:
        if not card.public:
            return None
        if card.celebration:  # REWARD_CELEBRATION_CHANNEL, kept on the reward
            channel = card.channel_id
            payload = dict(celebration_blocks.announcement(reward=card))
        else:
            channel = channel or announce_channel(self._settings, card.channel_id)
            payload = dict(reward_messages.channel_announcement(reward=card))
        if channel is None or channel.startswith("D"):
            return None  # given in a DM, or with no channel: nowhere public to announce
        if thread_ts:
            payload["thread_ts"] = thread_ts
        result = self.post(channel, payload)
        if isinstance(result, str) and result in PASSING_SLACK_ERRORS:  # told again later
            raise RuntimeError(f"Slack could not post the announcement ({result})")
        if isinstance(result, dict):
            self._remember(reward, MessageKind.ANNOUNCEMENT, result)
            return result["channel"]
        log.warning("could not announce reward %s in %s: %s", card.short_id, channel, result)
        return None

    def failed(self, reward: RewardDetails, reason: str, *, again: bool = False) -> None:
        card = card_for(reward)
        posted = self._posted(reward, again)
        if card.celebration:  # nobody gave it: the admins hear it wasn't sent
            note = celebration_blocks.admin_not_sent(reward=card)
            for admin in self.admin_ids():
                self._dm_once(reward, MessageKind.GIVER_TOLD_FAILED, admin, note, posted)
            self.on_change(card.recipient_ids)
            return
        if not is_bulk_key(reward.reward.idempotency_key):  # a file's rows: its outcomes CSV
            payload = reward_messages.giver_failed(reward=card, tz=self._zone(reward.giver.tz))
            self._dm_once(reward, MessageKind.GIVER_TOLD_FAILED, card.giver_id, payload, posted)
        self.on_change(people_of(reward))

    def in_doubt(
        self, reward: RewardDetails, reason: str, *, again: bool = False, ask_admins: bool = True
    ) -> None:
        card = card_for(reward)
        posted = self._posted(reward, again)
        # a celebration's giver is the bot itself; a file's rows are in its outcomes CSV
        if not card.celebration and not is_bulk_key(reward.reward.idempotency_key):
            payload = reward_messages.giver_in_doubt(
                reward=card, tz=self._zone(reward.giver.tz), admins_check=ask_admins
            )
            self._dm_once(reward, MessageKind.GIVER_TOLD_IN_DOUBT, card.giver_id, payload, posted)
        if not ask_admins:  # the bot checks Xoxoday's records first (bot.rewards.doubt)
            self.on_change(people_of(reward))
            return
        for admin in self.admin_ids():
            payload = reward_messages.admin_in_doubt_alert(reward=card, tz=self.tz_of(admin))
            self._dm_once(reward, MessageKind.IN_DOUBT_ALERT, admin, payload, posted)
        self.on_change([*people_of(reward), *self.admin_ids()])

    def delayed(self, reward: RewardDetails, reason: str) -> None:
        """The send never reached Xoxoday and waits for a retry: the giver hears it once (a
        celebration's giver is the bot: nobody to tell)."""
        if reward.reward.source == RewardSource.CELEBRATION:
            return
        with self._store.session() as session:
            first = once.claim_once(session, kind=OnceKind.DELIVERY_DELAYED, key=reward.short_id)
        if not first or is_bulk_key(reward.reward.idempotency_key):
            return
        card = card_for(reward)
        self.dm(
            card.giver_id,
            reward_messages.giver_delayed(
                reward=card,
                hours=self._settings.REWARD_DELIVERY_RETRY_HOURS,
                tz=self._zone(reward.giver.tz),
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
                    tz=self.tz_of(admin),
                ),
            )

    def plum_reachable(self, *, since: datetime, waiting: int) -> None:
        for admin in self.admin_ids():
            self.dm(
                admin,
                reward_messages.admin_plum_reachable(
                    since=since,
                    waiting=waiting,
                    tz=self.tz_of(admin),
                ),
            )

    def recovered_in_doubt(
        self, rewards: Sequence[RewardDetails], *, ask_admins: bool = True
    ) -> None:
        """Rewards a restart found mid-send: one alert to each admin (unless the bot checks
        Xoxoday's records first), and each giver hears that theirs is being checked."""
        cards = [card_for(r) for r in rewards]
        for reward, card in zip(rewards, cards, strict=True):
            if card.celebration:  # the bot gave it: the admins' alert is all
                continue
            payload = reward_messages.giver_in_doubt(
                reward=card, tz=self._zone(reward.giver.tz), admins_check=ask_admins
            )
            self._dm_once(reward, MessageKind.GIVER_TOLD_IN_DOUBT, card.giver_id, payload, {})
        if not ask_admins:
            self.on_change([uid for r in rewards for uid in people_of(r)])
            return
        for admin in self.admin_ids():
            self.dm(
                admin,
                reward_messages.admin_crash_recovery_alert(rewards=cards, tz=self.tz_of(admin)),
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
                    order=order, reason=reason, tz=self.tz_of(admin)
                ),
            )

    # --- the one port: what happened, told -------------------------------------------------

    def tell(self, event: ev.Event) -> bool:
        """Tell what happened (`bot.rewards.events`): True when everything was posted, False
        when Slack refused something for good; a passing failure while telling an outcome is
        raised (it is told again later)."""
        match event:
            case ev.AllowanceReached(user_id=user_id, allowance=allowance, resets_on=resets_on):
                payload = budget_blocks.limit_reached_dm(allowance=allowance, resets_on=resets_on)
                return self.dm(user_id, payload) is not None
            case ev.BulkProgressed(bulk=bulk, tally=tally):
                if bulk.message is None:
                    return False
                ref = bulk.message
                return self.update(ref.channel_id, ref.ts, bulk_blocks.progress(bulk, tally))
            case ev.BulkFinished():
                return self._bulk_finished(event)
            case ev.BulkApprovalAsked(bulk=bulk, approvers=approvers):
                for approver in approvers:
                    self.dm(approver, bulk_blocks.approval_request(bulk))
                if bulk.message is not None:
                    ref = bulk.message
                    self.update(ref.channel_id, ref.ts, bulk_blocks.waiting(bulk, approvers))
            case ev.BulkDecided(bulk=bulk, approver=approver, approved=approved):
                payload = bulk_blocks.decided(bulk, approver=approver, approved=approved)
                if bulk.message is not None:
                    return self.update(bulk.message.channel_id, bulk.message.ts, payload)
                self.dm(bulk.admin_id, payload)
            case ev.PointsAdjusted():
                return self._adjusted(event)
            case ev.RewardReported(reward=reward, reporter=reporter, reason=reason, again=again):
                return self._reported(reward, reporter=reporter, reason=reason, again=again)
            case ev.ReportDecided(reward=reward, admin=admin):
                self._report_restored(reward, admin=admin)
            case ev.ReactionRefused(user_id=user_id, channel_id=channel_id, text=text):
                self.answer(user_id, reaction_blocks.refused(text), channel_id=channel_id)
            case ev.MessageGiftRefused(user_id=user_id, channel_id=channel_id, thread_ts=ts):
                payload = {**reaction_blocks.message_refused(event.text), "thread_ts": ts}
                self.answer(user_id, payload, channel_id=channel_id)
            case ev.ReactionTooLate(reward=reward):
                payload = reaction_blocks.too_late(card_for(reward))
                return self.dm(reward.giver.slack_user_id, payload) is not None
            case ev.RewardSent(reward=reward, again=again):
                self.delivered(reward, again=again)
            case ev.RewardFailed(reward=reward, reason=reason, again=again):
                self.failed(reward, reason, again=again)
            case ev.RewardInDoubt(reward=reward, reason=reason, again=again):
                self.in_doubt(reward, reason, again=again, ask_admins=event.ask_admins)
            case ev.RewardDelayed(reward=reward, reason=reason):
                self.delayed(reward, reason)
            case ev.RewardsFoundInDoubt(rewards=rewards):
                self.recovered_in_doubt(rewards, ask_admins=event.ask_admins)
            case ev.RewardSettled(reward=reward, settlement=settlement, again=again):
                self._settled(reward, settlement, again=again)
            case ev.RewardCancelled():
                return self._cancelled(event)
            case ev.XoxodayDown():
                self.plum_unreachable(
                    since=event.since,
                    reason=event.reason,
                    waiting=event.waiting,
                    setup_problem=event.setup_problem,
                )
            case ev.XoxodayBack(since=since, waiting=waiting):
                self.plum_reachable(since=since, waiting=waiting)
            case ev.ApprovalAsked(reward=reward, asks=asks):
                return self._ask_approval(reward, asks)
            case ev.ApprovalEnded(reward=reward, decision=decision, copies=copies):
                return self._show_approval_end(reward, decision, copies)
            case ev.GiverDecided(reward=reward, decision=decision):
                card = card_for(reward)
                payload = approval_blocks.giver_decision(
                    reward=card, decision=decision, tz=self._zone(reward.giver.tz)
                )
                return self.dm(card.giver_id, payload) is not None
            case ev.RewardLinkMade(link=link):
                return self._dm_link(link)
            case ev.LinkBatchMade(batch=batch, made=made):
                return self._upload(
                    batch.requested_by,
                    [
                        {
                            "filename": batch.filename,
                            "title": batch.filename,
                            "content": links_csv(made),
                        }
                    ],
                    comment=link_blocks.link_batch_comment(batch=batch)["text"],
                    what=f"link batch {made.batch_id}",
                )
            case ev.OrdersReportMade(admin_id=admin_id, report=report):
                files = [
                    {"filename": name, "title": name, "content": content}
                    for name, content in (
                        (report.orders_filename, report.orders_csv),
                        (report.payments_filename, report.payments_csv),
                    )
                ]
                comment = order_blocks.report_comment(report=report)["text"]
                return self._upload(admin_id, files, comment=comment, what="the orders report")
            case ev.OrderQueued(card=card):
                self._dm_if(card.giver_id, gift_blocks.sender_queued(card))
            case ev.OrderAwaitsApproval(card=card, approvers=approvers):
                self._order_pending(card, approvers)
            case ev.OrderDecided(card=card, approver=approver, approved=approved):
                payload = gift_blocks.decided(card, approver=approver, approved=approved)
                self._dm_if(card.giver_id, payload)
            case ev.OrderPlaced(card=card):
                self._order_placed(card)
            case ev.OrderFailed(card=card):
                self._dm_if(card.giver_id, gift_blocks.sender_failed(card))
                self.on_change([card.giver_id])
            case ev.OrderInDoubt(card=card, admins=admins):
                for admin in admins:
                    self._dm_if(admin, gift_blocks.admin_unknown(card))
            case ev.OrderDeliveryChanged(change=change):
                self.order_delivery(change)
            case ev.OrderUnresolved(order=order, reason=reason):
                self.order_unresolved(order, reason=reason)
            case ev.LockChanged(user_id=user_id, locked=locked):
                return self.dm(user_id, trust_blocks.lock_dm(locked=locked)) is not None
            case ev.FlagsReported(admin_id=admin_id, flags=flags):
                payload = trust_blocks.flags_report(flags=flags, tz=self.tz_of(admin_id))
                return self.dm(admin_id, payload) is not None
            case ev.PeopleChanged(user_ids=user_ids):
                self.on_change(user_ids)
        return True

    def answer(
        self, user_id: str, payload: Mapping[str, Any], *, channel_id: str | None = None
    ) -> None:
        """Answer someone whose request has no response_url (a form, an App Home button): an
        ephemeral in `channel_id` when given, else (or when that fails) a DM."""
        if channel_id:
            try:
                self._slack.chat_postEphemeral(channel=channel_id, user=user_id, **payload)
                return
            except SlackApiError as err:
                error = err.response.get("error")
                log.info("no ephemeral in %s: %s; DMing instead", channel_id, error)
        self.dm(user_id, payload)

    # --- approvals ------------------------------------------------------------------------

    def post_request_copy(
        self, reward: RewardDetails, *, member: Member, payload: Mapping[str, Any]
    ) -> dict[str, Any] | None:
        """DM one copy of an approval request (or a reminder of it) and record it, so the first
        decision updates it too. None when Slack refused the DM."""
        ref = self.dm(member.slack_user_id, payload)
        if ref is None:
            return None
        with self._store.session() as session:
            message_repo.record_reward_message(
                session,
                reward_id=reward.id,
                kind=MessageKind.APPROVAL_REQUEST,
                channel_id=ref["channel"],
                message_ts=ref["ts"],
                member=member,
            )
        return ref

    def _ask_approval(self, reward: RewardDetails, asks: Sequence[ev.ApprovalAsk]) -> bool:
        posted = True
        for ask in asks:
            payload = approval_blocks.approval_request(
                request=ask.card, tz=self._zone(ask.member.tz)
            )
            ref = self.post_request_copy(reward, member=ask.member, payload=payload)
            posted = ref is not None and posted
        return posted

    def _show_approval_end(
        self,
        reward: RewardDetails,
        decision: Any,
        copies: Sequence[ev.ApprovalCopy],
    ) -> bool:
        shown = True
        for copy in copies:
            payload = approval_blocks.approval_decided(
                request=copy.card, decision=decision, tz=copy.tz
            )
            if not self.update(copy.channel_id, copy.ts, payload):
                log.warning("could not update an approval request of %s", reward.short_id)
                shown = False
        return shown

    # --- cancelled, settled ---------------------------------------------------------------

    def _cancelled(self, event: ev.RewardCancelled) -> bool:
        """The recipients whose points were withdrawn and the giver hear why."""
        outcome, admin_id = event.outcome, event.admin_id
        card = card_for(outcome.reward)
        self.on_change([card.giver_id, *card.recipient_ids])  # their App Homes
        self._report_ended(
            outcome.reward, report_blocks.report_cancelled(reward=card, admin=admin_id)
        )
        told = True
        for line in outcome.withdrawn:
            uid = line.member.slack_user_id
            payload = reward_messages.recipient_cancelled(
                reward=card,
                recipient_id=uid,
                reason=event.reason,
                tz=self._zone(line.member.tz),
                cancelled_by=admin_id,
            )
            told = self.dm(uid, payload) is not None and told
        if card.giver_id != admin_id and not card.celebration:
            payload = cancel_blocks.giver_cancelled(
                reward=card,
                outcome=outcome,
                admin_id=admin_id,
                reason=event.reason,
                kept=cancel_blocks.kept_lines(outcome),
            )
            told = self.dm(card.giver_id, payload) is not None and told
        return told

    def _settled(self, reward: RewardDetails, settlement: Settlement, *, again: bool) -> None:
        """Every admin's recorded alert shows the settlement (and one recorded a moment later,
        shortly after); sent, it is told as a delivery; failed, the giver hears nothing
        arrived."""
        done = self._show_on_alerts(reward, settlement, self._alerts(reward))
        timer = threading.Timer(
            LATE_ALERTS_SECONDS, self._show_on_late_alerts, args=(reward, settlement, done)
        )
        timer.daemon = True
        timer.start()
        if settlement.outcome == "sent":
            self.delivered(reward, again=again)  # recipients' DMs, announcement, "Sent!"
        else:
            card = replace(  # nothing was sent: a new reward like it may well arrive
                card_for(reward), failure_reason=NEVER_ARRIVED, failure_kind=FailureKind.PASSING
            )
            posted = self._posted(reward, again)
            if card.celebration:  # the bot gave it: the admins give it by hand if it should be
                note = celebration_blocks.admin_not_sent(reward=card)
                for admin in self.admin_ids():
                    self._dm_once(reward, MessageKind.GIVER_TOLD_FAILED, admin, note, posted)
            else:
                payload = reward_messages.giver_failed(reward=card, tz=self._zone(reward.giver.tz))
                self._dm_once(reward, MessageKind.GIVER_TOLD_FAILED, card.giver_id, payload, posted)
        # App Homes: the giver's and recipients' rewards, every admin's "rewards in doubt"
        self.on_change([*people_of(reward), *self._settings.REWARD_ADMINS])

    def show_settlement(
        self,
        clicked: MessageRef,
        message: Mapping[str, Any],
        *,
        reward: RewardDetails,
        settlement: Settlement,
    ) -> None:
        """The message an admin clicked shows the settlement too, when it is not one of the
        recorded alerts (those show it already): the alert after a restart lists several
        rewards, and only this one's buttons give way."""
        if clicked in self._alerts(reward):
            return
        wanted = keyed(BlockId.SETTLE_ACTIONS, reward.short_id)
        blocks = list(message.get("blocks") or [])
        if not any(b.get("block_id") == wanted for b in blocks):
            return
        line = reward_messages.settlement_context(settlement, self.tz_of(settlement.settled_by))
        shown = [line if b.get("block_id") == wanted else b for b in blocks]
        self.update(
            clicked.channel_id, clicked.ts, {"text": message.get("text") or "", "blocks": shown}
        )

    def show_sent_again(
        self,
        clicked: MessageRef,
        message: Mapping[str, Any],
        *,
        failed_short_id: str,
        new: RewardDetails,
    ) -> None:
        """The failure message whose "Send again" was pressed says which reward it became,
        in place of the button (so it is not pressed again later)."""
        wanted = keyed(BlockId.AGAIN_ACTIONS, failed_short_id)
        blocks = list(message.get("blocks") or [])
        if not any(b.get("block_id") == wanted for b in blocks):
            return
        line = reward_messages.sent_again_context(card_for(new), new.giver.tz)
        shown = [line if b.get("block_id") == wanted else b for b in blocks]
        self.update(
            clicked.channel_id, clicked.ts, {"text": message.get("text") or "", "blocks": shown}
        )

    def _adjusted(self, event: ev.PointsAdjusted) -> bool:
        """The person hears of an admin's adjustment of their points, once. Noted once told,
        so a crash while the DM was posted leaves it untold and the request resumed after the
        restart tells it; only the request that made the adjustment tells at once, and of
        those repeating it (resumed together) the first to claim it."""
        with self._store.session() as session:
            if once.was_claimed(session, kind=OnceKind.ADJUSTMENT_TOLD, key=event.key):
                return True
            if event.repeat and not once.claim_once(
                session, kind=OnceKind.ADJUSTMENT_TOLD, key=f"repeat:{event.key}"
            ):
                return True
        payload = adjustment_blocks.person_told(
            amount=event.points,
            reason=event.reason,
            admin_id=event.admin_id,
            balance=event.balance,
        )
        told = self.dm(event.user_id, payload) is not None
        with self._store.session() as session:
            once.claim_once(session, kind=OnceKind.ADJUSTMENT_TOLD, key=event.key)
        self.on_change([event.user_id])
        return told

    def _reported(self, reward: RewardDetails, *, reporter: str, reason: str, again: bool) -> bool:
        """Each admin's DM about a report, once (`again`: only those not posted before)."""
        card = card_for(reward)
        posted = self._posted(reward, again).get(MessageKind.REPORT_ALERT, set())
        told = True
        for admin in self.admin_ids():
            if self.dm_channel(admin) in posted:
                continue
            payload = report_blocks.admin_report(
                reward=card, reporter=reporter, reason=reason, tz=self.tz_of(admin)
            )
            ref = self.dm(admin, payload)
            told = told and ref is not None
            self._remember(reward, MessageKind.REPORT_ALERT, ref)
        return told

    def _report_restored(self, reward: RewardDetails, *, admin: str) -> None:
        payload = report_blocks.report_restored(reward=card_for(reward), admin=admin)
        self._report_ended(reward, payload)
        self.on_change(people_of(reward))

    def _report_ended(self, reward: RewardDetails, payload: Mapping[str, Any]) -> None:
        """Every admin's copy of a report (when there is one) says how it ended, without its
        buttons."""
        with self._store.read_session() as session:
            found = message_repo.list_reward_messages(
                session, reward_id=reward.id, kind=MessageKind.REPORT_ALERT
            )
        for copy in found:
            self.update(copy.channel_id, copy.message_ts, payload)

    def _alerts(self, reward: RewardDetails) -> set[MessageRef]:
        with self._store.read_session() as session:
            found = message_repo.list_reward_messages(
                session, reward_id=reward.id, kind=MessageKind.IN_DOUBT_ALERT
            )
        return {MessageRef(channel_id=a.channel_id, ts=a.message_ts) for a in found}

    def _show_on_alerts(
        self, reward: RewardDetails, settlement: Settlement, refs: set[MessageRef]
    ) -> set[MessageRef]:
        card = card_for(reward)
        owners = self._admins_by_dm(refs)
        for ref in sorted(refs, key=lambda r: (r.channel_id, r.ts)):
            owner = owners.get(ref.channel_id)
            tz = self.tz_of(owner) if owner else self._settings.REWARD_TIMEZONE
            payload = reward_messages.admin_in_doubt_alert(
                reward=card, tz=tz, settlement=settlement
            )
            self.update(ref.channel_id, ref.ts, payload)
        return refs

    def _admins_by_dm(self, refs: set[MessageRef]) -> dict[str, str]:
        """The admin whose DM each alert is in (an alert shows their own time zone)."""
        if not refs:
            return {}
        owners: dict[str, str] = {}
        for admin in self.admin_ids():
            try:
                owners[self.dm_channel(admin)] = admin
            except SlackApiError:
                continue
        return owners

    def _show_on_late_alerts(
        self, reward: RewardDetails, settlement: Settlement, done: set[MessageRef]
    ) -> None:
        try:
            late = self._alerts(reward) - done
            if late:
                self._show_on_alerts(reward, settlement, late)
        except Exception:  # the bot may be stopping; the alert keeps its buttons, which answer
            log.warning("could not update late in-doubt alerts of %s", reward.short_id)

    # --- links and files ------------------------------------------------------------------

    def _dm_link(self, link: Any) -> bool:
        payload = link_blocks.link_dm(link=link)
        try:
            channel = self.dm_channel(link.recipient_id)
            self._quiet().chat_postMessage(channel=channel, **payload)
        except SlackApiError as err:
            log.warning("could not DM a reward link to %s: %s", link.recipient_id, _error(err))
            return False
        return True

    def _quiet(self) -> WebClient:
        """A copy of the Slack client whose logger never dumps bodies (for the one message with
        a link). It is of the client's own class, so it sends what the client would."""
        slack = self._slack
        quiet = logging.getLogger(QUIET_LOGGER)
        quiet.setLevel(logging.INFO)
        return type(slack)(
            token=slack.token,
            base_url=slack.base_url,
            timeout=slack.timeout,
            ssl=slack.ssl,
            proxy=slack.proxy,
            headers=dict(slack.headers),
            retry_handlers=slack.retry_handlers,
            logger=quiet,
        )

    def _bulk_finished(self, event: ev.BulkFinished) -> bool:
        """The progress message says it is done, and the outcomes CSV goes to the admin's DM;
        raises when the CSV could not be uploaded (the file stays sending and is told again)."""
        bulk = event.bulk
        if bulk.message is not None:
            ref = bulk.message
            self.update(ref.channel_id, ref.ts, bulk_blocks.finished(bulk, event.tally))
        files = [{"filename": event.filename, "title": event.filename, "content": event.csv}]
        comment = bulk_blocks.outcomes_comment(bulk, event.tally)
        if not self._upload(bulk.admin_id, files, comment=comment, what=f"bulk {bulk.short_id}"):
            raise RuntimeError(f"Slack did not take the outcomes of bulk {bulk.short_id}")
        return True

    def _upload(
        self, user_id: str, files: list[dict[str, Any]], *, comment: str, what: str
    ) -> bool:
        """Files in `user_id`'s DM, in one message (all of them, or none)."""
        try:
            self._slack.files_upload_v2(
                channel=self.dm_channel(user_id), file_uploads=files, initial_comment=comment
            )
        except SlackApiError as err:
            log.warning("could not upload %s for %s: %s", what, user_id, _error(err))
            return False
        return True

    # --- gift cards and donations: ordering (bot.rewards.gifts, order_worker) -------------

    def _dm_if(self, user_id: str | None, payload: Mapping[str, Any]) -> None:
        if user_id:
            self.dm(user_id, payload)

    def _order_pending(self, card: GiftCard, approvers: Sequence[str]) -> None:
        self._dm_if(card.giver_id, gift_blocks.sender_pending(card))
        for approver in approvers:
            if approver != card.giver_id:
                self._dm_if(approver, gift_blocks.approval_request(card))

    def _order_placed(self, card: GiftCard) -> None:
        if card.donation:
            if card.recipient_id and card.recipient_id != card.giver_id:
                self._dm_if(card.recipient_id, gift_blocks.donated_in_your_name(card))
        else:
            self._dm_if(card.recipient_id, gift_blocks.recipient_gift(card))
        self._dm_if(card.giver_id, gift_blocks.sender_placed(card))
        channel = announce_channel(self._settings, card.channel_id)
        if channel is not None:
            self.post(channel, gift_blocks.announcement(card))
        self.on_change([u for u in (card.giver_id, card.recipient_id) if u])


def _error(err: SlackApiError) -> str:
    return str(err.response.get("error") or "error") if err.response else "error"
