"""The kinds the ledger files things under, as enums: messages posted about a reward
(`storage.messages`, so later changes can find every copy) and side effects done once
(`storage.once`). A kind's string is stored: never rename a value, add a new one."""

from __future__ import annotations

from enum import StrEnum

from storage.rewards import TOLD_KIND


class MessageKind(StrEnum):
    APPROVAL_REQUEST = "approval_request"  # each approver's copy of a request
    RECIPIENT_DM = "recipient_dm"
    ANNOUNCEMENT = "announcement"  # in the channel
    GIVER_TOLD_SENT = "giver_told_sent"
    GIVER_TOLD_FAILED = "giver_told_failed"
    GIVER_TOLD_IN_DOUBT = "giver_told_in_doubt"
    IN_DOUBT_ALERT = "in_doubt_alert"  # each admin's alert, updated once it is settled
    REPORT_ALERT = "report_alert"  # each admin's copy of a report, updated once it is decided


class OnceKind(StrEnum):
    OUTCOME_TOLD = TOLD_KIND  # how a delivery ended was told (`bot.rewards.told`)
    DECISION_TOLD = "decision_told"
    APPROVAL_COPIES = "approval_copies"
    DELIVERY_DELAYED = "delivery_delayed"
    APPROVAL_NUDGE = "approval_nudge"
    EXPIRY_REMINDER = "expiry_reminder"
    LOW_BALANCE_ALERT = "low_balance_alert"
    AUDIT_CHECKPOINT_DM = "audit_checkpoint_dm"
    PLUM_TOKEN_WARNING = "plum_token_warning"
    APP_HOME_OPENED = "app_home_opened"
    POINT_BOOKS_ALERT = "point_books_alert"  # the admins told the point books don't add up
    FORM_ANSWERED = "form_answered"  # a reward form's giver told it is on its way
    AGAIN_ANSWERED = "again_answered"  # a failed reward's giver told it was sent again
    ADJUSTMENT_TOLD = "adjustment_told"  # the person told of an admin's adjustment (its key)
    RECONCILED_DAY = "reconciled_day"  # a day compared with Xoxoday's payment report (ISO date)
    LOCK_TOLD = "lock_told"  # a locked (or unlocked) member told, once per lock
    FLAGS_DM = "flags_dm"  # an admin's daily DM of new flags (per run and admin)
    FLAG_ANSWERED = "flag_answered"  # a flag button's one answer
    ALLOWANCE_REACHED = "allowance_reached"  # a giver told they gave all of it (giver:YYYY-MM)
    REACTION_TOO_LATE = "reaction_too_late"  # a giver told their un-reacting came too late
    UNDO_TOO_LATE = "undo_too_late"  # a giver told their "Undo" click came too late
