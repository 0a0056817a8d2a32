"""Every table of the ledger, as SQLModel classes. Changes here need an Alembic revision.

Enumerated columns are plain strings guarded by CHECK constraints (see `storage.states` for the
names); times are `UTCDateTime`, money `Money`, points integers.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlmodel import Column, Field, SQLModel

from storage.states import (
    BulkStatus,
    CelebrationKind,
    Decision,
    DeliveryStatus,
    IntakeState,
    JobOutcome,
    LinkBatchStatus,
    LotSource,
    OrderKind,
    OrderStatus,
    RecipientOutcome,
    ReportStatus,
    RewardSource,
    RewardStatus,
    Role,
    SecretKind,
    sql_in,
)
from storage.types import JSONValue, Money, UTCDateTime, utcnow

SQLModel.metadata.naming_convention = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = SQLModel.metadata


def _when(*, nullable: bool = True) -> Any:
    if nullable:
        return Field(default=None, sa_type=UTCDateTime, nullable=True)
    return Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


def _str(length: int, *, nullable: bool = False, default: Any = ..., **kw: Any) -> Any:
    if default is ...:
        default = None if nullable else ...
    return Field(default=default, sa_type=String(length), nullable=nullable, **kw)


def _fk(target: str, *, nullable: bool = False) -> Any:
    return Field(
        default=None,
        sa_column=Column(Integer, ForeignKey(target), nullable=nullable),
    )


class Member(SQLModel, table=True):
    """A Slack user the bot has seen, with their role and (optionally) their manager."""

    __tablename__ = "members"
    __table_args__ = (
        UniqueConstraint("team_id", "slack_user_id"),
        CheckConstraint(f"role IN ({sql_in(Role)})", name="role"),
        CheckConstraint("manager_id IS NULL OR manager_id <> id", name="not_own_manager"),
        Index(None, "email"),
        Index(None, "manager_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    team_id: str = _str(32)
    slack_user_id: str = _str(32)
    email: str | None = _str(320, nullable=True)
    display_name: str = _str(200, default="")
    real_name: str = _str(200, default="")
    tz: str | None = _str(64, nullable=True)
    role: str = _str(16, default=Role.MEMBER.value)
    is_bot: bool = Field(default=False, sa_type=Boolean, nullable=False)
    active: bool = Field(default=True, sa_type=Boolean, nullable=False)
    manager_id: int | None = _fk("members.id", nullable=True)
    # Locked by an admin: they can receive, not give (`storage.locks`). NULL: not locked.
    locked_at: datetime | None = _when()
    locked_by: str | None = _str(64, nullable=True)
    lock_reason: str | None = Field(default=None, sa_type=Text, nullable=True)
    created_at: datetime = _when(nullable=False)
    updated_at: datetime = _when(nullable=False)

    @property
    def locked(self) -> bool:
        return self.locked_at is not None

    @property
    def name(self) -> str:
        return self.display_name or self.real_name or self.slack_user_id


class Reward(SQLModel, table=True):
    """One reward: a giver, one or more recipients, a citation, and where it is in its life."""

    __tablename__ = "rewards"
    __table_args__ = (
        UniqueConstraint("short_id"),
        UniqueConstraint("idempotency_key"),
        CheckConstraint(f"status IN ({sql_in(RewardStatus)})", name="status"),
        CheckConstraint(f"source IN ({sql_in(RewardSource)})", name="source"),
        CheckConstraint("total_points > 0", name="total_points_positive"),
        Index(None, "status", "queued_at"),
        Index(None, "status", "created_at"),
        Index(None, "giver_id", "created_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    short_id: str = _str(8)
    idempotency_key: str = _str(255)
    giver_id: int = _fk("members.id")
    channel_id: str | None = _str(32, nullable=True)
    source: str = _str(16)
    citation: str = Field(sa_type=Text, nullable=False)
    public: bool = Field(default=True, sa_type=Boolean, nullable=False)
    status: str = _str(20)
    total_points: int = Field(sa_type=Integer, nullable=False)
    expiry_months: int | None = Field(default=None, sa_type=Integer, nullable=True)
    claimed_by: str | None = _str(100, nullable=True)
    # The sendBalance call (`bot.rewards.batching`) it was last claimed for: rewards in doubt
    # from one call are settled together.
    send_batch: str | None = _str(32, nullable=True)
    # Deliveries that provably did not reach Xoxoday (unreachable, rate-limited, refused the
    # bot's credentials): how many, when the next may start, and until when to keep trying.
    attempts: int = Field(default=0, sa_column=Column(Integer, nullable=False, server_default="0"))
    next_attempt_at: datetime | None = _when()
    retry_until: datetime | None = _when()
    # A reward given with a reaction is not sent before this (the undo window); None: at once.
    held_until: datetime | None = _when()
    delivery_message: str | None = Field(default=None, sa_type=Text, nullable=True)
    delivery_response: dict[str, Any] | None = Field(default=None, sa_type=JSONValue)
    cancel_reason: str | None = Field(default=None, sa_type=Text, nullable=True)
    # The flag rule that held it for an admin (`storage.flags`), when one did.
    held_for: str | None = _str(16, nullable=True)
    cancelled_by: str | None = _str(64, nullable=True)
    settled_by: str | None = _str(64, nullable=True)
    created_at: datetime = _when(nullable=False)
    decided_at: datetime | None = _when()
    queued_at: datetime | None = _when()
    sending_at: datetime | None = _when()
    sent_at: datetime | None = _when()
    failed_at: datetime | None = _when()
    in_doubt_at: datetime | None = _when()
    settled_at: datetime | None = _when()
    cancelled_at: datetime | None = _when()
    expired_at: datetime | None = _when()
    updated_at: datetime = _when(nullable=False)


class RewardRecipient(SQLModel, table=True):
    """One recipient of a reward: their points and what Plum answered for them.

    `giver_id` and `channel_id` are copies of the reward's (they never change) and `sent_at` is
    set when this recipient's points are delivered, so period reports read this table alone
    through one index (outcome, sent_at).
    """

    __tablename__ = "reward_recipients"
    __table_args__ = (
        UniqueConstraint("reward_id", "member_id"),
        CheckConstraint("points > 0", name="points_positive"),
        CheckConstraint("member_id <> giver_id", name="not_self"),
        CheckConstraint(f"outcome IN ({sql_in(RecipientOutcome)})", name="outcome"),
        Index(None, "member_id", "reward_id"),
        Index(None, "outcome", "expires_on"),
        Index(None, "outcome", "sent_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    reward_id: int = _fk("rewards.id")
    member_id: int = _fk("members.id")
    giver_id: int = _fk("members.id")  # copied from the reward so a CHECK forbids self-rewards
    channel_id: str | None = _str(32, nullable=True)
    points: int = Field(sa_type=Integer, nullable=False)
    outcome: str = _str(16, default=RecipientOutcome.PENDING.value)
    plum_unique_id: str | None = _str(100, nullable=True)
    message: str | None = Field(default=None, sa_type=Text, nullable=True)
    sent_at: datetime | None = _when()
    expires_on: date | None = Field(default=None, sa_type=Date, nullable=True)
    updated_at: datetime = _when(nullable=False)


class RewardValue(SQLModel, table=True):
    """A company value (#hashtag) a reward was given for, lower case without the '#'."""

    __tablename__ = "reward_values"
    __table_args__ = (Index(None, "value"),)

    reward_id: int = Field(
        sa_column=Column(Integer, ForeignKey("rewards.id"), primary_key=True, nullable=False)
    )
    value: str = Field(sa_type=String(64), primary_key=True)


class Approval(SQLModel, table=True):
    """The decision on a reward that needed approval. At most one per reward."""

    __tablename__ = "approvals"
    __table_args__ = (
        UniqueConstraint("reward_id"),
        CheckConstraint(f"decision IN ({sql_in(Decision)})", name="decision"),
        Index(None, "approver_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    reward_id: int = _fk("rewards.id")
    approver_id: int = _fk("members.id")
    decision: str = _str(16)
    reason: str | None = Field(default=None, sa_type=Text, nullable=True)
    decided_at: datetime = _when(nullable=False)


class RewardMessage(SQLModel, table=True):
    """A Slack message posted about a reward (approval request, announcement, DM...).

    Kept so later changes can update every copy (e.g. remove the buttons of all approvers).
    """

    __tablename__ = "reward_messages"
    __table_args__ = (
        UniqueConstraint("channel_id", "message_ts"),
        Index(None, "reward_id", "kind"),
    )

    id: int | None = Field(default=None, primary_key=True)
    reward_id: int = _fk("rewards.id")
    kind: str = _str(32)
    member_id: int | None = _fk("members.id", nullable=True)
    channel_id: str = _str(32)
    message_ts: str = _str(32)
    created_at: datetime = _when(nullable=False)


class BulkAward(SQLModel, table=True):
    """`/reward bulk`: one CSV file of awards from an admin, checked whole. Its rows (as
    checked) are kept here until the admin sends it; sending makes each row a reward
    (`BulkRow`) in one transaction. Keyed on the Slack request that uploaded it."""

    __tablename__ = "bulk_awards"
    __table_args__ = (
        UniqueConstraint("short_id"),
        UniqueConstraint("request_key"),
        CheckConstraint(f"status IN ({sql_in(BulkStatus)})", name="status"),
        CheckConstraint("row_count > 0", name="row_count_positive"),
        CheckConstraint("total_points > 0", name="total_points_positive"),
        Index(None, "status"),
        Index(None, "digest"),
    )

    id: int | None = Field(default=None, primary_key=True)
    short_id: str = _str(8)
    request_key: str = _str(255)
    admin_id: int = _fk("members.id")
    filename: str = _str(200, default="")
    digest: str = _str(64)  # sha256 of the rows as checked: the same file sent again
    status: str = _str(16, default=BulkStatus.PREVIEWED.value)
    row_count: int = Field(sa_type=Integer, nullable=False)
    total_points: int = Field(sa_type=Integer, nullable=False)
    rows: list[Any] = Field(
        sa_type=JSONValue, nullable=False
    )  # [[line, user, points, reason, value]]
    message_channel: str | None = _str(32, nullable=True)  # the progress message
    message_ts: str | None = _str(32, nullable=True)
    created_at: datetime = _when(nullable=False)
    confirmed_at: datetime | None = _when()
    finished_at: datetime | None = _when()
    updated_at: datetime = _when(nullable=False)


class BulkRow(SQLModel, table=True):
    """One row of a sent bulk award: the reward it became (its line in the file)."""

    __tablename__ = "bulk_rows"
    __table_args__ = (UniqueConstraint("reward_id"), UniqueConstraint("bulk_id", "line"))

    id: int | None = Field(default=None, primary_key=True)
    bulk_id: int = _fk("bulk_awards.id")
    line: int = Field(sa_type=Integer, nullable=False)
    reward_id: int = _fk("rewards.id")


class AuditEvent(SQLModel, table=True):
    """One entry of the append-only, HMAC-chained audit trail (see `storage.audit`)."""

    __tablename__ = "audit_events"
    __table_args__ = (
        UniqueConstraint("hash"),
        Index(None, "at"),
        Index(None, "subject_type", "subject_id"),
    )

    id: int = Field(
        sa_column=Column(Integer, primary_key=True, autoincrement=False, nullable=False)
    )
    at: datetime = _when(nullable=False)
    actor: str = _str(64)
    action: str = _str(64)
    subject_type: str = _str(32)
    subject_id: str = _str(64)
    before: dict[str, Any] | None = Field(default=None, sa_type=JSONValue)
    after: dict[str, Any] | None = Field(default=None, sa_type=JSONValue)
    reason: str | None = Field(default=None, sa_type=Text, nullable=True)
    correlation_id: str | None = _str(64, nullable=True)
    prev_hash: str = _str(64)
    hash: str = _str(64)


class LinkBatch(SQLModel, table=True):
    """A request for reward links (generateLink). The links themselves are stored encrypted."""

    __tablename__ = "link_batches"
    __table_args__ = (
        UniqueConstraint("request_key"),
        CheckConstraint("count > 0", name="count_positive"),
        CheckConstraint(f"status IN ({sql_in(LinkBatchStatus)})", name="status"),
        Index(None, "created_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: str = _str(64)
    # The Slack request (intake key) that asked for this batch: a resumed command finds it.
    request_key: str | None = _str(255, nullable=True)
    campaign_name: str | None = _str(200, nullable=True)
    count: int = Field(sa_type=Integer, nullable=False)
    link_expiry: date | None = Field(default=None, sa_type=Date, nullable=True)
    requested_by_id: int = _fk("members.id")
    recipient_id: int | None = _fk("members.id", nullable=True)
    status: str = _str(16, default=LinkBatchStatus.REQUESTED.value)
    plum_batch_id: str | None = _str(100, nullable=True)
    denomination_value: Decimal | None = Field(default=None, sa_type=Money, nullable=True)
    currency_code: str | None = _str(8, nullable=True)
    country_name: str | None = _str(64, nullable=True)
    links_encrypted: str | None = Field(default=None, sa_type=Text, nullable=True)
    message: str | None = Field(default=None, sa_type=Text, nullable=True)
    created_at: datetime = _when(nullable=False)
    completed_at: datetime | None = _when()


class Order(SQLModel, table=True):
    """A placeOrder call keyed by its poNumber: request and response (secrets encrypted).

    A gift card or donation sent from Slack also records who sent it, for whom (none: a
    donation in the team's name), what it is worth, the Slack request that asked for it and
    Xoxoday's delivery status; with points in the bot, the points it took from the sender."""

    __tablename__ = "orders"
    __table_args__ = (
        UniqueConstraint("po_number"),
        UniqueConstraint("request_key"),
        CheckConstraint(f"status IN ({sql_in(OrderStatus)})", name="status"),
        CheckConstraint(f"kind IN ({sql_in(OrderKind)})", name="kind"),
        CheckConstraint(
            f"delivery_status IS NULL OR delivery_status IN ({sql_in(DeliveryStatus)})",
            name="delivery_status",
        ),
        CheckConstraint("quantity > 0", name="quantity_positive"),
        Index(None, "created_at"),
        Index(None, "status", "updated_at"),
        Index(None, "giver_id", "created_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    po_number: str = _str(64)
    status: str = _str(16, default=OrderStatus.REQUESTED.value)
    product_id: str = _str(64)
    quantity: int = Field(sa_type=Integer, nullable=False)
    denomination: Decimal = Field(sa_type=Money, nullable=False)
    currency_code: str | None = _str(8, nullable=True)
    requested_by: str = _str(64)
    plum_order_id: str | None = _str(100, nullable=True)
    request: dict[str, Any] = Field(sa_type=JSONValue, nullable=False)
    response_redacted: dict[str, Any] | None = Field(default=None, sa_type=JSONValue)
    response_encrypted: str | None = Field(default=None, sa_type=Text, nullable=True)
    message: str | None = Field(default=None, sa_type=Text, nullable=True)
    kind: str = Field(
        default=OrderKind.GIFT.value,
        sa_column=Column(String(16), nullable=False, server_default=OrderKind.GIFT.value),
    )
    giver_id: int | None = _fk("members.id", nullable=True)
    recipient_id: int | None = _fk("members.id", nullable=True)
    product_name: str | None = _str(200, nullable=True)
    # What it costs the account, in the account's currency (fee included; a product in another
    # currency converted at Xoxoday's rate); the face value is denomination × quantity.
    order_value: Decimal | None = Field(default=None, sa_type=Money, nullable=True)
    note: str | None = Field(default=None, sa_type=Text, nullable=True)  # the sender's words
    request_key: str | None = _str(255, nullable=True)
    channel_id: str | None = _str(32, nullable=True)  # where it was sent from (announced)
    delivery_status: str | None = _str(16, nullable=True)
    points_cents: int | None = Field(default=None, sa_type=BigInteger, nullable=True)
    decided_by: str | None = _str(64, nullable=True)
    created_at: datetime = _when(nullable=False)
    updated_at: datetime = _when(nullable=False)


class PlumWebhookEvent(SQLModel, table=True):
    """A delivery update Xoxoday posted (`/webhooks/plum`), once per event id; `matched` says
    whether it named an order this bot placed (unknown ones are kept, not refused)."""

    __tablename__ = "plum_webhook_events"
    __table_args__ = (UniqueConstraint("event_id"), Index(None, "po_number"))

    id: int | None = Field(default=None, primary_key=True)
    event_id: str = _str(100)
    po_number: str | None = _str(64, nullable=True)
    plum_order_id: str | None = _str(100, nullable=True)
    delivery_status: str | None = _str(32, nullable=True)
    matched: bool = Field(default=False, sa_type=Boolean, nullable=False)
    body: dict[str, Any] | None = Field(default=None, sa_type=JSONValue)
    received_at: datetime = _when(nullable=False)


class PlumToken(SQLModel, table=True):
    """Plum OAuth tokens, encrypted; the expiry times are kept in clear for upkeep jobs."""

    __tablename__ = "plum_tokens"

    name: str = Field(sa_type=String(64), primary_key=True)
    ciphertext: str = Field(sa_type=Text, nullable=False)
    flow: str = _str(32)
    access_expires_at: datetime | None = _when()
    refresh_expires_at: datetime | None = _when()
    updated_at: datetime = _when(nullable=False)


class JobRun(SQLModel, table=True):
    """One claimed run of a scheduled job. The unique key makes each run happen once."""

    __tablename__ = "job_runs"
    __table_args__ = (
        UniqueConstraint("job", "scheduled_for"),
        CheckConstraint(f"outcome IN ({sql_in(JobOutcome)})", name="outcome"),
    )

    id: int | None = Field(default=None, primary_key=True)
    job: str = _str(64)
    scheduled_for: datetime = _when(nullable=False)
    claimed_at: datetime = _when(nullable=False)
    claimed_by: str | None = _str(100, nullable=True)
    outcome: str = _str(16, default=JobOutcome.RUNNING.value)
    detail: str | None = Field(default=None, sa_type=Text, nullable=True)
    finished_at: datetime | None = _when()


class IntakeEntry(SQLModel, table=True):
    """A Slack request the bot acknowledged (a command, a form submission, a click), recorded
    before the acknowledgement left the process and finished when its work is done, so a crash
    in between leaves it pending for the next start to resume (see `storage.intake`).

    `key` is what Slack gives once (the trigger id, or the action's ts), so a request Slack
    delivers twice is recorded once. `body` is the request as Slack sent it; it is cleared when
    the entry is finished.
    """

    __tablename__ = "intake"
    __table_args__ = (
        UniqueConstraint("key"),
        CheckConstraint(f"state IN ({sql_in(IntakeState)})", name="state"),
        Index(None, "state", "received_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    key: str = _str(255)
    kind: str = _str(64)
    user_id: str = _str(32, default="")
    body: dict[str, Any] | None = Field(default=None, sa_type=JSONValue)
    state: str = _str(16, default=IntakeState.PENDING.value)
    outcome: str | None = _str(64, nullable=True)
    received_at: datetime = _when(nullable=False)
    claimed_by: str | None = _str(100, nullable=True)
    claimed_at: datetime | None = _when()
    resumes: int = Field(default=0, sa_column=Column(Integer, nullable=False, server_default="0"))
    finished_at: datetime | None = _when()


class Heartbeat(SQLModel, table=True):
    """The last time a process proved the database takes writes (its health check)."""

    __tablename__ = "heartbeats"

    name: str = Field(sa_type=String(100), primary_key=True)
    at: datetime = _when(nullable=False)


class OnceKey(SQLModel, table=True):
    """A side effect that must happen once (a reminder per reward and threshold, an event id)."""

    __tablename__ = "once_keys"
    __table_args__ = (Index(None, "created_at"),)

    kind: str = Field(sa_type=String(64), primary_key=True)
    key: str = Field(sa_type=String(255), primary_key=True)
    created_at: datetime = _when(nullable=False)


class SettingValue(SQLModel, table=True):
    """The last rules setting the bot started with, so a change can be audited."""

    __tablename__ = "settings_snapshot"

    key: str = Field(sa_type=String(64), primary_key=True)
    value: Any = Field(default=None, sa_type=JSONValue, nullable=True)
    updated_at: datetime = _when(nullable=False)


# --- the bot's own point system (StoreFront, seed 002) ---------------------------------------
# Amounts are whole hundredths of a point ("cents"): Xoxoday's store debits fractions such as
# 348.5, and integers keep every sum and CHECK exact on both backends.


def _cents(*, default: Any = ...) -> Any:
    if default is ...:
        return Field(sa_type=BigInteger, nullable=False)
    return Field(
        default=default, sa_column=Column(BigInteger, nullable=False, server_default=str(default))
    )


class PointLot(SQLModel, table=True):
    """Points credited to one person, with their expiry: a delivered reward's points for one
    recipient, or a refund whose original points had expired. Redemptions take from the lots
    that expire first; `remaining` is what is left to spend."""

    __tablename__ = "point_lots"
    __table_args__ = (
        UniqueConstraint("reward_id", "member_id"),
        CheckConstraint(f"source IN ({sql_in(LotSource)})", name="source"),
        CheckConstraint("cents > 0", name="cents_positive"),
        CheckConstraint(
            "remaining >= 0 AND expired >= 0 AND taken_back >= 0 AND "
            "remaining + expired + taken_back <= cents",
            name="remaining_in_range",
        ),
        Index(None, "member_id", "expires_on"),
        Index(None, "expires_on", "remaining"),
    )

    id: int | None = Field(default=None, primary_key=True)
    member_id: int = _fk("members.id")
    reward_id: int | None = _fk("rewards.id", nullable=True)
    source: str = _str(16)
    cents: int = _cents()
    remaining: int = _cents()
    expired: int = _cents(default=0)
    taken_back: int = _cents(default=0)
    expires_on: date | None = Field(default=None, sa_type=Date, nullable=True)
    created_at: datetime = _when(nullable=False)
    updated_at: datetime = _when(nullable=False)


class PointOrder(SQLModel, table=True):
    """One redemption in Xoxoday's store (update redemption), keyed by Xoxoday's order id: what
    it debited, what has been refunded, and the answer given (a repeat gets the same one)."""

    __tablename__ = "point_orders"
    __table_args__ = (
        UniqueConstraint("order_id"),
        CheckConstraint("cents > 0", name="cents_positive"),
        CheckConstraint("refunded >= 0 AND refunded <= cents", name="refunded_in_range"),
        Index(None, "member_id", "created_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    order_id: str = _str(100)
    member_id: int = _fk("members.id")
    cents: int = _cents()
    refunded: int = _cents(default=0)
    # The auth token the store debited with: refunds for this order may come with it later.
    token_id: int | None = _fk("storefront_secrets.id", nullable=True)
    details: dict[str, Any] | None = Field(default=None, sa_type=JSONValue)
    balance_after: int = _cents()
    created_at: datetime = _when(nullable=False)
    updated_at: datetime = _when(nullable=False)


class PointOrderLot(SQLModel, table=True):
    """How much of an order came out of each lot, and how much of that was refunded."""

    __tablename__ = "point_order_lots"
    __table_args__ = (
        CheckConstraint("cents > 0", name="cents_positive"),
        CheckConstraint("refunded >= 0 AND refunded <= cents", name="refunded_in_range"),
        Index(None, "lot_id"),
    )

    order_pk: int = Field(
        sa_column=Column(Integer, ForeignKey("point_orders.id"), primary_key=True, nullable=False)
    )
    lot_id: int = Field(
        sa_column=Column(Integer, ForeignKey("point_lots.id"), primary_key=True, nullable=False)
    )
    cents: int = _cents()
    refunded: int = _cents(default=0)


class PointRefund(SQLModel, table=True):
    """One refund of (part of) an order, keyed so a repeated call refunds once."""

    __tablename__ = "point_refunds"
    __table_args__ = (
        UniqueConstraint("refund_key"),
        CheckConstraint("cents > 0", name="cents_positive"),
        Index(None, "order_pk"),
    )

    id: int | None = Field(default=None, primary_key=True)
    refund_key: str = _str(255)
    order_pk: int = _fk("point_orders.id")
    cents: int = _cents()
    balance_after: int = _cents()
    comments: str | None = Field(default=None, sa_type=Text, nullable=True)
    created_at: datetime = _when(nullable=False)


class PointAdjustment(SQLModel, table=True):
    """Points an admin added (`cents` > 0: a lot of source `adjustment`, `lot_id`) or deducted
    (`cents` < 0: taken from the person's lots, `PointAdjustmentLot`) by hand, with a reason;
    keyed on the Slack request that asked, so a repeated or resumed request adjusts once."""

    __tablename__ = "point_adjustments"
    __table_args__ = (
        UniqueConstraint("request_key"),
        CheckConstraint("cents <> 0", name="cents_not_zero"),
        Index(None, "member_id", "created_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    request_key: str = _str(255)
    member_id: int = _fk("members.id")
    cents: int = _cents()
    reason: str = Field(sa_type=Text, nullable=False)
    actor: str = _str(64)
    lot_id: int | None = _fk("point_lots.id", nullable=True)
    balance_after: int = _cents()
    created_at: datetime = _when(nullable=False)


class PointAdjustmentLot(SQLModel, table=True):
    """How much of a deduction came out of each lot."""

    __tablename__ = "point_adjustment_lots"
    __table_args__ = (
        CheckConstraint("cents > 0", name="cents_positive"),
        Index(None, "lot_id"),
    )

    adjustment_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("point_adjustments.id"), primary_key=True, nullable=False
        )
    )
    lot_id: int = Field(
        sa_column=Column(Integer, ForeignKey("point_lots.id"), primary_key=True, nullable=False)
    )
    cents: int = _cents()


class RewardReport(SQLModel, table=True):
    """A reward someone reported from its announcement: while `open` it leaves the
    leaderboard and the summaries; an admin restores it or cancels the reward. One report per
    reward (the first reporter's); later reporters are told it is already with the admins."""

    __tablename__ = "reward_reports"
    __table_args__ = (
        UniqueConstraint("reward_id"),
        CheckConstraint(f"status IN ({sql_in(ReportStatus)})", name="status"),
        Index(None, "status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    reward_id: int = _fk("rewards.id")
    reporter_id: int = _fk("members.id")
    reason: str = Field(sa_type=Text, nullable=False)
    status: str = _str(16)
    decided_by: str | None = _str(64, nullable=True)
    decided_at: datetime | None = _when()
    created_at: datetime = _when(nullable=False)


class StoreFrontSecret(SQLModel, table=True):
    """A bearer secret the bot minted for one person, stored only as its SHA-256: the auth
    token Xoxoday's store presents for them, or the single-use link behind a Redeem button."""

    __tablename__ = "storefront_secrets"
    __table_args__ = (
        UniqueConstraint("secret_hash"),
        CheckConstraint(f"kind IN ({sql_in(SecretKind)})", name="kind"),
        Index(None, "member_id", "kind"),
        Index(None, "expires_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    kind: str = _str(16)
    secret_hash: str = _str(64)
    member_id: int = _fk("members.id")
    created_at: datetime = _when(nullable=False)
    expires_at: datetime = _when(nullable=False)
    used_at: datetime | None = _when()
    revoked_at: datetime | None = _when()


FLAG_RULES = ("ring", "repeat", "allowance", "burst")
FLAG_STATUSES = ("open", "dismissed", "held", "locked")


class RewardFlag(SQLModel, table=True):
    """A pattern in giving an admin should look at (`bot.rewards.flags`): raised once per rule,
    people and month; reported in the admins' daily DM; decided once (dismissed, future ones
    held, or the giver locked)."""

    __tablename__ = "reward_flags"
    __table_args__ = (
        UniqueConstraint("rule", "people", "period"),
        CheckConstraint(f"rule IN ({sql_in(FLAG_RULES)})", name="rule"),
        CheckConstraint(f"status IN ({sql_in(FLAG_STATUSES)})", name="status"),
        Index(None, "status", "reported_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    rule: str = _str(16)
    people: str = _str(200)  # sorted Slack ids, comma-separated
    giver: str = _str(32)  # the Slack id "Lock the giver" locks
    period: str = _str(16)  # YYYY-MM
    status: str = _str(16, default="open")
    gifts: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSONValue, nullable=False)
    raised_at: datetime = _when(nullable=False)
    reported_at: datetime | None = _when()
    decided_at: datetime | None = _when()
    decided_by: str | None = _str(64, nullable=True)


class FlagHold(SQLModel, table=True):
    """An admin's "Hold future ones": new rewards matching `rule` among `people` wait for an
    admin."""

    __tablename__ = "flag_holds"
    __table_args__ = (UniqueConstraint("rule", "people"),)

    id: int | None = Field(default=None, primary_key=True)
    rule: str = _str(16)
    people: str = _str(200)
    held_by: str = _str(64)
    flag_id: int | None = _fk("reward_flags.id", nullable=True)
    held_at: datetime = _when(nullable=False)


ALLOWANCE_KINDS = ("person", "group")
GROUP_PREVIEW_STATUSES = ("open", "confirmed", "cancelled")


class Allowance(SQLModel, table=True):
    """A monthly allowance an admin set for one person or one Slack user group, instead of
    REWARD_ALLOWANCE (`bot.rewards.policy.base_allowance`). Removing it deletes the row; both
    are audited."""

    __tablename__ = "allowances"
    __table_args__ = (
        UniqueConstraint("kind", "slack_id"),
        CheckConstraint(f"kind IN ({sql_in(ALLOWANCE_KINDS)})", name="kind"),
        CheckConstraint("points > 0", name="points"),
    )

    id: int | None = Field(default=None, primary_key=True)
    kind: str = _str(8)
    slack_id: str = _str(32)  # U… for a person, S… for a user group
    label: str = _str(80, default="")  # a group's handle as the admin named it (`@design-team`)
    points: int = Field(sa_type=BigInteger, nullable=False)
    set_by: str = _str(64)
    set_at: datetime = _when(nullable=False)


class GroupPreview(SQLModel, table=True):
    """A reward to a user group's members, shown to its giver before it is given: the people
    and the amount, as previewed, until the giver presses Send (`confirmed`: given once, keyed
    on this row) or Cancel. Keyed on the Slack command that asked for it."""

    __tablename__ = "group_previews"
    __table_args__ = (
        UniqueConstraint("request_key"),
        CheckConstraint(f"status IN ({sql_in(GROUP_PREVIEW_STATUSES)})", name="status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    request_key: str = _str(255)
    giver: str = _str(32)  # the giver's Slack id
    team_id: str = _str(32, default="")
    groups: str = _str(400)  # the groups named, as shown (`@design-team, @web`)
    recipients: list[str] = Field(default_factory=list, sa_type=JSONValue, nullable=False)
    left_out: list[list[str]] = Field(default_factory=list, sa_type=JSONValue, nullable=False)
    amount: int = Field(sa_type=BigInteger, nullable=False)
    citation: str = Field(sa_type=Text, nullable=False)
    reward_values: list[str] = Field(default_factory=list, sa_type=JSONValue, nullable=False)
    channel_id: str | None = _str(32, nullable=True)
    status: str = _str(16, default="open")
    created_at: datetime = _when(nullable=False)
    decided_at: datetime | None = _when()


class ReactionMark(SQLModel, table=True):
    """The latest Slack event about one reaction (a person's emoji on a message): added or
    removed, ordered by Slack's `event_ts` (events may be handled out of order), and the
    generation of the reward it gives (`storage.reactions`)."""

    __tablename__ = "reaction_marks"
    __table_args__ = (CheckConstraint("state IN ('added', 'removed')", name="state"),)

    key: str = Field(sa_type=String(255), primary_key=True)
    state: str = _str(8)
    event_ts: str = _str(32)
    generation: int = Field(
        default=0, sa_column=Column(Integer, nullable=False, server_default="0")
    )
    updated_at: datetime = _when(nullable=False)


class RewardGroup(SQLModel, table=True):
    """A reward one announcement shows with others (`storage.reactions`): given with a reaction
    on the message `group_ts` of `channel_id`, or joining `joins_id` from its announcement."""

    __tablename__ = "reward_groups"
    __table_args__ = (Index(None, "channel_id", "group_ts"),)

    reward_id: int = Field(foreign_key="rewards.id", primary_key=True)
    channel_id: str = _str(32)
    group_ts: str = _str(32)
    joins_id: int | None = _fk("rewards.id", nullable=True)


class CelebrationPerson(SQLModel, table=True):
    """A person's dates for celebrations, as an admin imported them (`rewardbot people import`):
    named by Slack id or by email (matched to Slack when they are celebrated; the Slack id is
    kept once found), the birthday as month and day only (never a year), the start date."""

    __tablename__ = "celebration_people"
    __table_args__ = (
        UniqueConstraint("slack_user_id"),
        UniqueConstraint("email"),
        CheckConstraint("slack_user_id IS NOT NULL OR email IS NOT NULL", name="named"),
        CheckConstraint(
            "(birth_month IS NULL AND birth_day IS NULL) OR "
            "(birth_month BETWEEN 1 AND 12 AND birth_day BETWEEN 1 AND 31)",
            name="birthday",
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    slack_user_id: str | None = _str(32, nullable=True)
    email: str | None = _str(320, nullable=True)  # lower case
    birth_month: int | None = Field(default=None, sa_type=Integer, nullable=True)
    birth_day: int | None = Field(default=None, sa_type=Integer, nullable=True)
    start_date: date | None = Field(default=None, sa_type=Date, nullable=True)
    created_at: datetime = _when(nullable=False)
    updated_at: datetime = _when(nullable=False)


class CelebrationOptOut(SQLModel, table=True):
    """Someone who said `/reward celebrations off`: they get nothing and are not announced."""

    __tablename__ = "celebration_opt_outs"

    slack_user_id: str = Field(sa_type=String(32), primary_key=True)
    at: datetime = _when(nullable=False)


class Celebration(SQLModel, table=True):
    """One celebration paid: the unique key makes it happen once per person, kind and year
    (the year of the occasion, not of the day it was sent), claimed in the transaction that
    creates its reward."""

    __tablename__ = "celebrations"
    __table_args__ = (
        UniqueConstraint("member_id", "kind", "year"),
        CheckConstraint(f"kind IN ({sql_in(CelebrationKind)})", name="kind"),
        Index(None, "reward_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    member_id: int = _fk("members.id")
    kind: str = _str(16)
    year: int = Field(sa_type=Integer, nullable=False)
    reward_id: int = _fk("rewards.id")
    created_at: datetime = _when(nullable=False)
