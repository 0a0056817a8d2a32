"""Cards for the builder tests: realistic by default, each field overridable."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from bot.rewards.cards import (
    ApprovalCard,
    ApprovalDecision,
    BalanceCard,
    GiverMonth,
    HomeCard,
    LinkBatchCard,
    RecipientLine,
    RewardCard,
    RewardLink,
)

GIVER = "UGIVER01"
MARIA = "UMARIA01"
SAM = "USAM0001"
ADMIN = "UADMIN01"
APPROVER = "UAPPR001"
# 2026-03-05 13:05 UTC: 14:05 in Berlin (CET), 22:05 in Tokyo
CREATED = datetime(2026, 3, 5, 13, 5, tzinfo=UTC)
SECRET_URL = "https://rewards.example.test/claim/SECRET-TOKEN-7f3a9c?src=bot&utm=dm"


def reward(**changes: Any) -> RewardCard:
    base = RewardCard(
        short_id="AB12CD",
        giver_id=GIVER,
        recipients=(RecipientLine(user_id=MARIA, points=100, email="maria@example.com"),),
        citation="thanks for the demo &amp; the notes #teamwork",
        values=("teamwork",),
        channel_id="CGENERAL1",
        status="sent",
        created_at=CREATED,
        expires_on=date(2027, 3, 31),
    )
    return replace(base, **changes)


def two_people(**changes: Any) -> RewardCard:
    return reward(
        recipients=(
            RecipientLine(user_id=MARIA, points=100, email="maria@example.com"),
            RecipientLine(user_id=SAM, points=100, email="sam@example.com"),
        ),
        **changes,
    )


def many_people(n: int, **changes: Any) -> RewardCard:
    lines = tuple(
        RecipientLine(user_id=f"UPERSON{i:04d}", points=50, email=f"p{i}@example.com")
        for i in range(n)
    )
    return reward(recipients=lines, **changes)


def long_citation() -> str:
    """500 visible characters with mentions, entities and emoji spread through, so a cut lands
    near one of them wherever it falls."""
    piece = "great <@UMARIA01|maria> work &amp; care 👩🏽‍💻 on <https://x.test/a|the doc> "
    text = ""
    while len(text) < 900:
        text += piece
    return text


def approval(**changes: Any) -> ApprovalCard:
    base = ApprovalCard(
        reward=two_people(short_id="PEND01", status="pending_approval"),
        month=GiverMonth(given_before=300, rewards_before=2, allowance=1000),
        threshold=200,
    )
    return replace(base, **changes)


def decision(outcome: str = "approved", **changes: Any) -> ApprovalDecision:
    base = ApprovalDecision(
        outcome=outcome,  # type: ignore[arg-type]
        decided_by=APPROVER,
        decided_at=datetime(2026, 3, 5, 15, 30, tzinfo=UTC),
    )
    return replace(base, **changes)


def balance(**changes: Any) -> BalanceCard:
    base = BalanceCard(
        points=1234,
        allowance=1000,
        given_this_month=300,
        resets_on=date(2026, 4, 1),
    )
    return replace(base, **changes)


def admin_balance(**changes: Any) -> BalanceCard:
    admin: dict[str, Any] = {
        "is_admin": True,
        "account_balance": Decimal("950.50"),
        "account_currency": "USD",
        "low_balance": Decimal("1000"),
    }
    return balance(**(admin | changes))


def link(**changes: Any) -> RewardLink:
    base = RewardLink(
        recipient_id=MARIA,
        admin_id=ADMIN,
        url=SECRET_URL,
        campaign_id="7890",
        campaign_name="Spring thanks",
        amount=Decimal("25"),
        currency="USD",
        expires_on=date(2026, 12, 31),
        note="Thank you for covering the launch weekend!",
    )
    return replace(base, **changes)


def batch(**changes: Any) -> LinkBatchCard:
    base = LinkBatchCard(
        batch_id="B-42",
        campaign_id="7890",
        campaign_name="Spring thanks",
        count=25,
        requested_by=ADMIN,
        created_at=CREATED,
        amount=Decimal("25"),
        currency="USD",
        expires_on=date(2026, 12, 31),
        filename="reward-links-7890.csv",
    )
    return replace(base, **changes)


def home(**changes: Any) -> HomeCard:
    base = HomeCard(
        user_id=MARIA,
        balance=balance(),
        received=(reward(short_id="REC001"),),
        given=(
            reward(
                short_id="GIV001",
                giver_id=MARIA,
                recipients=(RecipientLine(user_id=SAM, points=40),),
            ),
        ),
    )
    return replace(base, **changes)
