"""Names the ledger stores, and the reward state machine (see design.md, "A reward's life")."""

from __future__ import annotations

from enum import StrEnum


class RewardStatus(StrEnum):
    PENDING_APPROVAL = "pending_approval"
    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    IN_DOUBT = "in_doubt"
    CANCELLED = "cancelled"
    REJECTED = "rejected"
    EXPIRED = "expired"


S = RewardStatus

# Every transition the ledger accepts; anything else raises InvalidTransition.
TRANSITIONS: dict[RewardStatus, frozenset[RewardStatus]] = {
    S.PENDING_APPROVAL: frozenset({S.QUEUED, S.REJECTED, S.EXPIRED, S.CANCELLED}),
    S.QUEUED: frozenset({S.SENDING, S.CANCELLED}),
    # sending → queued: the send provably never reached Xoxoday; it is tried again later.
    S.SENDING: frozenset({S.SENT, S.FAILED, S.IN_DOUBT, S.QUEUED}),
    # in_doubt → queued: Xoxoday's records prove the send was not applied; it is sent again.
    S.IN_DOUBT: frozenset({S.SENT, S.FAILED, S.QUEUED}),
    S.SENT: frozenset({S.CANCELLED}),
    S.FAILED: frozenset(),
    S.CANCELLED: frozenset(),
    S.REJECTED: frozenset(),
    S.EXPIRED: frozenset(),
}

# The column that records when a reward reached each status.
STEP_COLUMN: dict[RewardStatus, str] = {
    S.PENDING_APPROVAL: "created_at",
    S.QUEUED: "queued_at",
    S.SENDING: "sending_at",
    S.SENT: "sent_at",
    S.FAILED: "failed_at",
    S.IN_DOUBT: "in_doubt_at",
    S.CANCELLED: "cancelled_at",
    S.REJECTED: "decided_at",
    S.EXPIRED: "expired_at",
}

# What counts against a giver's monthly allowance: everything not definitely undone.
COUNTS_TOWARDS_ALLOWANCE: frozenset[RewardStatus] = frozenset(
    {S.PENDING_APPROVAL, S.QUEUED, S.SENDING, S.SENT, S.IN_DOUBT}
)


def can_transition(current: RewardStatus | str, new: RewardStatus | str) -> bool:
    return RewardStatus(new) in TRANSITIONS[RewardStatus(current)]


class RecipientOutcome(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"
    IN_DOUBT = "in_doubt"
    CANCELLED = "cancelled"  # sent, then withdrawn (cancelBalance)
    NOT_SENT = "not_sent"  # the reward was rejected, expired or cancelled before sending


class RewardSource(StrEnum):
    COMMAND = "command"
    MODAL = "modal"
    SHORTCUT = "shortcut"
    CELEBRATION = "celebration"  # a birthday, work anniversary or welcome, paid by the company
    REACTION = "reaction"  # an emoji reaction on a message, or joining a reward (pile-on)
    MESSAGE = "message"  # `@maria ++ 20 for …` in a channel
    BULK = "bulk"  # a row of an admin's file (`/reward bulk`), paid by the company


class CelebrationKind(StrEnum):
    BIRTHDAY = "birthday"
    ANNIVERSARY = "anniversary"
    WELCOME = "welcome"


class Role(StrEnum):
    MEMBER = "member"
    APPROVER = "approver"
    ADMIN = "admin"


class Decision(StrEnum):
    APPROVED = "approved"
    REJECTED = "rejected"


class LinkBatchStatus(StrEnum):
    REQUESTED = "requested"
    CREATED = "created"
    FAILED = "failed"


class OrderStatus(StrEnum):
    PENDING_APPROVAL = "pending_approval"  # a gift of the threshold or more, waiting
    QUEUED = "queued"  # committed with its poNumber, not yet sent
    REQUESTED = "requested"  # sent (or being sent) to placeOrder
    PLACED = "placed"
    FAILED = "failed"
    UNKNOWN = "unknown"  # placeOrder's outcome is not known: looked up by poNumber
    REJECTED = "rejected"  # an approver said no


class OrderKind(StrEnum):
    GIFT = "gift"  # a gift card for a person
    DONATION = "donation"  # a charity donation, in someone's name or the team's


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    CANCELED = "canceled"


class PointSystem(StrEnum):
    """Where recipients' points live: at Xoxoday (sendBalance) or in the bot's own ledger,
    which Xoxoday's hosted store reads and debits (StoreFront, seed 002)."""

    PLUM = "plum"
    STOREFRONT = "storefront"


class LotSource(StrEnum):
    REWARD = "reward"  # a delivered reward's points for one recipient
    REFUND = "refund"  # points a refund gave back after the lot they came from had expired
    ADJUSTMENT = "adjustment"  # points an admin added by hand (`/reward adjust`), with a reason


class ReportStatus(StrEnum):
    OPEN = "open"  # reported from its announcement; out of rankings until an admin decides
    RESTORED = "restored"  # an admin kept the reward: it counts again
    CANCELLED = "cancelled"  # an admin cancelled the reward through the cancel path


class BulkStatus(StrEnum):
    """A bulk award (`/reward bulk`): checked and shown to its admin, then sent (its rows
    became rewards in one transaction) and done when every row has an outcome; or cancelled
    before sending."""

    PREVIEWED = "previewed"  # checked, waiting for the admin's Send or Cancel
    CANCELLED = "cancelled"  # the admin cancelled it: nothing was sent
    PENDING_APPROVAL = "pending_approval"  # Send pressed; its total needs an approver's OK
    REJECTED = "rejected"  # an approver said no: nothing was sent
    SENDING = "sending"  # its rewards are queued for the delivery worker
    DONE = "done"  # every row has an outcome; the outcomes CSV is in the admin's DM


class SecretKind(StrEnum):
    AUTH_TOKEN = "auth_token"  # what Xoxoday's store presents on each call for a person
    REDEEM_LINK = "redeem_link"  # the single-use redirect behind a Redeem button


class IntakeState(StrEnum):
    PENDING = "pending"  # acknowledged; its work is not known to be finished
    DONE = "done"


class JobOutcome(StrEnum):
    RUNNING = "running"
    OK = "ok"
    FAILED = "failed"


def sql_in(values: object) -> str:
    """`'a', 'b'` for a CHECK constraint from a StrEnum class or an iterable of strings."""
    return ", ".join(f"'{v}'" for v in values)  # type: ignore[attr-defined]
