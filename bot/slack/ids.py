"""Every identifier Slack and the bot exchange, in one place, as `StrEnum`s.

The slash command, shortcuts and events must match `manifest.yml` (a test checks both ways);
action, block and view callback ids are the bot's own and only need to be unique. Listeners and
Block Kit builders use these members, never string literals.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from types import MappingProxyType
from typing import Literal


class Command(StrEnum):
    REWARD = "/reward"


class Shortcut(StrEnum):
    SEND_REWARD = "send_reward"  # global: "Send a reward"
    REWARD_MESSAGE = "reward_message"  # message: "Reward this message"
    REPORT_REWARD = "report_reward"  # message: "Report this reward" (on an announcement)


SHORTCUT_TYPES: Mapping[Shortcut, Literal["global", "message"]] = MappingProxyType(
    {
        Shortcut.SEND_REWARD: "global",
        Shortcut.REWARD_MESSAGE: "message",
        Shortcut.REPORT_REWARD: "message",
    }
)


class Event(StrEnum):
    APP_HOME_OPENED = "app_home_opened"
    REACTION_ADDED = "reaction_added"
    REACTION_REMOVED = "reaction_removed"
    # Slack delivers these as `message` events (channels, and private channels the bot is in;
    # its DMs: a people file an admin drops there).
    MESSAGE_CHANNELS = "message.channels"
    MESSAGE_GROUPS = "message.groups"
    MESSAGE_IM = "message.im"


class CallbackId(StrEnum):
    """`callback_id` of the bot's modals (views)."""

    REWARD_MODAL = "reward_modal"
    REJECT_REASON = "reject_reason_modal"
    LINK_MODAL = "link_modal"  # "Send a reward link" (from /reward campaigns)
    STORE_LINK = "store_link_modal"  # Redeem answered with a fresh link to Xoxoday's store
    GIFT_MODAL = "gift_modal"  # a gift card or a donation, from the catalogue
    GIFT_CODE = "gift_code_modal"  # Reveal: a gift card's code, for its recipient
    REPORT_MODAL = "report_modal"  # "Report this reward": why
    BULK_MODAL = "bulk_modal"  # /reward bulk: a CSV file of awards


class BlockId(StrEnum):
    """`block_id`s. The reward modal's input blocks share their names with
    `bot.rewards.policy.Field`, so a decision's `errors_by_field()` maps straight onto them."""

    # the reward modal's inputs
    RECIPIENTS = "recipients"
    AMOUNT = "amount"
    CITATION = "citation"
    VALUES = "values"
    ANNOUNCE = "announce"
    # the reject modal's input
    REJECT_REASON = "reject_reason"
    REPORT_REASON = "report_reason"  # the report modal's input
    # button rows in messages and the App Home
    APPROVAL_ACTIONS = "approval_actions"
    SETTLE_ACTIONS = "settle_actions"
    AGAIN_ACTIONS = "again_actions"  # a failed reward's "Send again"
    UNDO_ACTIONS = "undo_actions"  # a reward on its way: the giver's "Undo"
    HOME_ACTIONS = "home_actions"
    CANCEL_ACTIONS = "cancel_actions"
    BULK_FILE = "bulk_file"  # the bulk form's file input
    BULK_ACTIONS = "bulk_actions"  # a bulk file's Send / Cancel
    BULK_APPROVAL = "bulk_approval"  # an approver's Approve / Reject of a file
    LINK_PICK = "link_pick"  # /reward campaigns: "Send a link of…"
    REDEEM_ACTIONS = "redeem_actions"  # points in the bot: "Redeem"
    GIFT_RECIPIENT = "gift_recipient"  # the gift form's inputs
    GIFT_FILTERS = "gift_filters"
    GIFT_PRODUCT = "gift_product"
    GIFT_AMOUNT = "gift_amount"
    GIFT_NOTE = "gift_note"
    GIFT_PAY = "gift_pay"
    GIFT_ACTIONS = "gift_actions"  # Reveal, Approve / Reject
    LINK_RECIPIENT = "link_recipient"  # the link form's inputs
    LINK_EXPIRY = "link_expiry"
    LINK_NOTE = "link_note"
    REPORT_ACTIONS = "report_actions"  # an admin's Restore / Cancel on a reported reward
    FLAG_ACTIONS = "flag_actions"  # a flag's Dismiss / Hold future ones / Lock the giver
    GROUP_ACTIONS = "group_actions"  # a group reward's preview: Send / Cancel


class ActionId(StrEnum):
    # buttons; each carries the reward's id as its `value`
    APPROVE = "reward_approve"
    REJECT = "reward_reject"
    SETTLE_SENT = "reward_settle_sent"  # in doubt → "It was sent"
    SETTLE_FAILED = "reward_settle_failed"  # in doubt → "It failed"
    SEND_AGAIN = "reward_send_again"  # failed → "Send again" (a new reward, every rule again)
    UNDO = "reward_undo"  # the giver's "Undo" inside the undo window (value: the short id)
    OPEN_REWARD_MODAL = "open_reward_modal"  # App Home "Send a reward"
    CANCEL_CONFIRM = "reward_cancel_confirm"  # `/reward cancel`'s "Cancel reward" (a JSON value)
    CANCEL_KEEP = "reward_cancel_keep"  # … and "Keep it"
    BULK_FILE_INPUT = "bulk_file_input"
    BULK_SEND = "bulk_send"  # a checked bulk file's "Send" (value: its short id)
    BULK_CANCEL = "bulk_cancel"  # … and "Cancel"
    BULK_APPROVE = "bulk_approve"  # an approver's decision on a file (value: its short id)
    BULK_REJECT = "bulk_reject"
    LINK_CAMPAIGN_PICK = "link_campaign_pick"  # a campaign picked to send a link of
    REDEEM = "points_redeem"  # opens Xoxoday's store (a JSON value: the link's id)
    STORE_OPEN = "store_open"  # the fresh link's button (a link: only acknowledged)
    OPEN_GIFT_MODAL = "open_gift_modal"  # App Home "Send a gift card"
    OPEN_DONATE_MODAL = "open_donate_modal"  # App Home "Donate"
    GIFT_RECIPIENT_SELECT = "gift_recipient_select"
    GIFT_FILTER = "gift_filter"  # a filter select (country, category, currency): its value
    GIFT_PRODUCT_SELECT = "gift_product_select"  # external_select, answered by block_suggestion
    GIFT_AMOUNT_INPUT = "gift_amount_input"
    GIFT_NOTE_INPUT = "gift_note_input"
    GIFT_PAY_SELECT = "gift_pay_select"
    GIFT_REVEAL = "gift_reveal"  # the recipient's "Reveal" (value: the poNumber)
    GIFT_APPROVE = "gift_approve"  # an approver's decision on an order (value: the poNumber)
    GIFT_REJECT = "gift_reject"
    GIFT_SETTLE_PLACED = "gift_settle_placed"  # an order in doubt → "It was ordered"
    GIFT_SETTLE_FAILED = "gift_settle_failed"  # … → "It wasn't"
    REPORT_RESTORE = "report_restore"  # a reported reward kept (value: the reward's id)
    REPORT_CANCEL = "report_cancel"  # … or cancelled: asks as `/reward cancel` does
    FLAG_DISMISS = "flag_dismiss"  # a flag in the admins' daily DM (value: the flag's id)
    FLAG_HOLD = "flag_hold"  # … "Hold future ones"
    FLAG_LOCK = "flag_lock"  # … "Lock the giver"
    GROUP_SEND = "group_send"  # a group reward's preview: Send (value: the preview's id)
    GROUP_CANCEL = "group_cancel"  # … Cancel
    # input elements (read from `view.state.values[block_id][action_id]`)
    RECIPIENTS_SELECT = "recipients_select"
    AMOUNT_INPUT = "amount_input"
    CITATION_INPUT = "citation_input"
    VALUES_SELECT = "values_select"
    ANNOUNCE_CHECKBOX = "announce_checkbox"
    REJECT_REASON_INPUT = "reject_reason_input"
    LINK_RECIPIENT_SELECT = "link_recipient_select"
    LINK_EXPIRY_DATE = "link_expiry_date"
    LINK_NOTE_INPUT = "link_note_input"
    REPORT_REASON_INPUT = "report_reason_input"


# The bot token scopes in manifest.yml, each with the reason the code needs it. A test keeps the
# two equal; nothing else may be asked for.
BOT_SCOPES: Mapping[str, str] = MappingProxyType(
    {
        "commands": "the /reward command and the shortcuts",
        "chat:write": "DMs to recipients, givers, approvers and admins; announcements; "
        "updating approval requests once decided",
        "chat:write.public": "announce a reward in the public channel where it was given "
        "(or REWARD_ANNOUNCE_CHANNEL) without inviting the bot first",
        "im:write": "conversations.open, to get a DM channel id for file uploads",
        "users:read": "users.info: names, time zones, and whether someone is a bot or deactivated",
        "users:read.email": "recipients' emails, which Xoxoday sends points to, and "
        "users.lookupByEmail",
        "users.profile:read": "users.profile.get: the custom profile fields "
        "REWARD_CELEBRATION_PROFILE_FIELDS names (birthdays, start dates)",
        "files:write": "the CSV of reward links in an admin's DM, the weekly summary chart and "
        "a bulk file's outcomes",
        "files:read": "files.info and url_private: the CSV an admin uploads into /reward bulk",
        "reactions:read": "the reaction_added and reaction_removed events: reacting with a "
        "reward emoji (REWARD_REACTIONS) gives, removing it inside the undo window takes it back",
        "channels:history": "the message.channels event (never conversations.history): "
        "`@maria ++ 20 for …` in a public channel the bot is in gives",
        "groups:history": "the message.groups event (never conversations.history): "
        "`@maria ++ 20 for …` in a private channel the bot is in gives",
        "im:history": "the message.im event (never conversations.history): a CSV of people's "
        "dates an admin drops in their DM with the bot is imported",
        "usergroups:read": "usergroups.users.list: the members of a user group rewarded "
        "(/reward @design-team 10 …) or given an allowance (/reward allowance @design-team 2000)",
    }
)
