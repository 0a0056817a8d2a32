"""`GiftNotices` in Slack: DMs about gift and donation orders (`bot.rewards.gifts`)."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from bot.rewards.announcing import announce_channel
from bot.rewards.gifts import GiftCard
from bot.settings import Settings
from bot.slack.blocks import gifts as gift_blocks
from bot.slack.notifier import Notifier

log = logging.getLogger(__name__)


class SlackGiftNotices:
    def __init__(self, notifier: Notifier, settings: Settings) -> None:
        self._notifier = notifier
        self._settings = settings

    def _dm(self, user_id: str | None, payload: dict[str, object]) -> None:
        if user_id:
            self._notifier.dm(user_id, payload)

    def queued(self, card: GiftCard) -> None:
        self._dm(card.giver_id, gift_blocks.sender_queued(card))

    def pending(self, card: GiftCard, approvers: Sequence[str]) -> None:
        self._dm(card.giver_id, gift_blocks.sender_pending(card))
        for approver in approvers:
            if approver != card.giver_id:
                self._dm(approver, gift_blocks.approval_request(card))

    def decided(self, card: GiftCard, *, approver: str, approved: bool) -> None:
        self._dm(card.giver_id, gift_blocks.decided(card, approver=approver, approved=approved))

    def placed(self, card: GiftCard) -> None:
        if card.donation:
            if card.recipient_id and card.recipient_id != card.giver_id:
                self._dm(card.recipient_id, gift_blocks.donated_in_your_name(card))
        else:
            self._dm(card.recipient_id, gift_blocks.recipient_gift(card))
        self._dm(card.giver_id, gift_blocks.sender_placed(card))
        channel = announce_channel(self._settings, card.channel_id)
        if channel is not None:
            self._notifier.post(channel, gift_blocks.announcement(card))
        self._notifier.on_change([u for u in (card.giver_id, card.recipient_id) if u])

    def failed(self, card: GiftCard) -> None:
        self._dm(card.giver_id, gift_blocks.sender_failed(card))
        self._notifier.on_change([card.giver_id])

    def unknown(self, card: GiftCard, admins: Sequence[str]) -> None:
        for admin in admins:
            self._dm(admin, gift_blocks.admin_unknown(card))
