"""What the jobs' messages say, and that Slack accepts each of them at ordinary and extreme
sizes, with the sandbox notice (added as they leave) and without."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from bot.simulators.sandbox_notice import SANDBOX_NOTICE, with_sandbox_notice
from bot.slack.blocks import jobs as jb
from bot.slack.ids import ActionId
from tests.slack.blocks import samples as s
from tests.slack.blocks.blockkit_rules import check_message, elements, visible

TODAY = date(2026, 3, 5)
NOW = datetime(2026, 3, 5, 9, 0, tzinfo=UTC)
Build = Callable[[], dict[str, Any]]
CHECKPOINT_LINE = (
    f"rewardbot-audit-checkpoint v1 id=12345 count=12345 hash={'ab' * 32} "
    f"at=2026-03-05T09:00:00Z sig={'cd' * 32}"
)


BOOKS_LINE = (
    "maria <3 & co (UMARIA01), reward AB12CD: credited 100 − spent 39.5 + refunded 0 − expired "
    "0 − taken back 0 = 60.5 points, but the lot records 65.5 available"
)


def grant(short: str = "AB12CD", pts: int = 100, day: date = date(2026, 3, 12)) -> jb.ExpiringGrant:
    return jb.ExpiringGrant(short_id=short, points=pts, expires_on=day)


MESSAGES: dict[str, Build] = {
    "expiry, one grant": lambda: jb.expiry_reminder(
        grants=[grant()], balance=250, today=TODAY, tz="Europe/Madrid"
    ),
    "expiry, 300 grants": lambda: jb.expiry_reminder(
        grants=[grant(f"R{i:05d}", i + 1, TODAY + timedelta(days=i % 30)) for i in range(300)],
        balance=10,
        today=TODAY,
        tz="Nowhere/Unknown",
    ),
    "reminder": lambda: jb.approval_reminder(
        request=s.approval(),
        waited=timedelta(hours=25),
        expires_at=NOW + timedelta(days=13),
        tz="America/New_York",
    ),
    "escalation, crowded": lambda: jb.approval_reminder(
        request=s.approval(reward=s.many_people(200, citation=s.long_citation())),
        waited=timedelta(days=4),
        expires_at=NOW + timedelta(days=10),
        tz="UTC",
        escalated=True,
        asked=[f"UAPPR{i:04d}" for i in range(300)],
    ),
    "low balance": lambda: jb.low_balance_alert(
        balance=Decimal("123.45"), currency="INR", threshold=Decimal("5000")
    ),
    "token expiring": lambda: jb.token_warning(
        kind="refresh", expires_at=NOW + timedelta(days=6), now=NOW, tz="Europe/London"
    ),
    "token rejected": lambda: jb.token_warning(
        kind="refresh", expires_at=None, now=NOW, tz=None, rejected=True
    ),
    "in doubt, one": lambda: jb.in_doubt_report(rewards=[s.reward()], tz="UTC"),
    "in doubt, 100 crowded": lambda: jb.in_doubt_report(
        rewards=[s.many_people(100, short_id=f"D{i:05d}") for i in range(100)],
        tz="UTC",
    ),
    "audit checkpoint": lambda: jb.audit_checkpoint(
        line=CHECKPOINT_LINE, count=12_345, at=NOW, tz="Asia/Kolkata"
    ),
    "point books, one": lambda: jb.point_books_alert(
        differences=[BOOKS_LINE], total=1, lots=1, people=1
    ),
    "point books, 5 long of 10,000": lambda: jb.point_books_alert(
        differences=[f"{'<Zoë & *co*> ' * 80}(U{i:08d}), balance: …" for i in range(5)],
        total=10_000,
        lots=250_000,
        people=40_000,
    ),
}


@pytest.mark.parametrize("sandbox", [False, True], ids=["live", "sandbox"])
@pytest.mark.parametrize("name", list(MESSAGES))
def test_every_job_message_is_valid_and_marked_in_the_sandbox(name: str, sandbox: bool) -> None:
    payload = MESSAGES[name]()
    assert SANDBOX_NOTICE not in visible(payload)  # builders know nothing of the sandbox
    if sandbox:  # the notice is added as the message leaves (`bot.slack.sandbox_notice`)
        payload = with_sandbox_notice(payload)
    assert check_message(payload) == []
    assert (SANDBOX_NOTICE in visible(payload)) is sandbox


def test_an_expiry_reminder_says_how_many_expire_when_and_how_to_redeem() -> None:
    dm = jb.expiry_reminder(
        grants=[grant(pts=100, day=date(2026, 3, 12))],
        balance=250,
        today=TODAY,
        tz="Europe/Madrid",
    )
    seen = visible(dm)
    assert "⏳ *100* of your points expire on *12 March 2026* (in 7 days)." in seen
    assert "reward points" not in seen
    assert "You have *250 points* to spend" in seen
    assert "Plum storefront" in seen and "`AB12CD`" in seen
    assert dm["text"].startswith("100 of your points expire on 12 March 2026")


def test_an_expiry_reminder_never_claims_more_than_the_person_holds() -> None:
    dm = jb.expiry_reminder(
        grants=[grant("AAAAAA", 100, date(2026, 3, 6)), grant("BBBBBB", 50, date(2026, 3, 20))],
        balance=60,
        today=TODAY,
        tz="UTC",
    )
    seen = visible(dm)
    assert "Up to *60* of your points expire soon" in seen
    assert "*100 points* from reward `AAAAAA`: 6 March 2026 (tomorrow)" in seen
    assert "*50 points* from reward `BBBBBB`: 20 March 2026 (in 15 days)" in seen


def test_a_reminder_carries_the_request_and_its_buttons() -> None:
    payload = jb.approval_reminder(
        request=s.approval(),
        waited=timedelta(hours=25),
        expires_at=datetime(2026, 3, 19, 13, 5, tzinfo=UTC),
        tz="America/New_York",
    )
    seen = visible(payload)
    assert "waited 25 hours for your decision" in seen
    assert "19 March 2026 at 09:05 EDT" in seen
    assert [b["action_id"] for b in elements(payload, "button")] == [
        ActionId.APPROVE,
        ActionId.REJECT,
    ]


def test_an_escalation_names_who_was_asked() -> None:
    payload = jb.approval_reminder(
        request=s.approval(),
        waited=timedelta(hours=73),
        expires_at=NOW,
        tz="UTC",
        escalated=True,
        asked=[s.APPROVER],
    )
    seen = visible(payload)
    assert f"Nobody has decided on this reward in 3 days (asked: <@{s.APPROVER}>)" in seen
    assert "As an admin" in seen
    nobody = jb.approval_reminder(
        request=s.approval(),
        waited=timedelta(hours=80),
        expires_at=NOW,
        tz="UTC",
        escalated=True,
    )
    assert "nobody could be asked" in visible(nobody)


def test_the_token_warning_says_when_and_that_only_a_person_can_fix_it() -> None:
    seen = visible(
        jb.token_warning(
            kind="refresh",
            expires_at=datetime(2026, 3, 11, 10, 0, tzinfo=UTC),
            now=NOW,
            tz="Europe/London",
        )
    )
    assert "refresh token expires on *11 March 2026 at 10:00 GMT* (in 6 days)" in seen
    assert "Xoxoday's dashboard" in seen and "`PLUM_REFRESH_TOKEN`" in seen


def test_the_in_doubt_report_lists_each_reward_with_settle_buttons_and_counts_the_rest() -> None:
    one = jb.in_doubt_report(rewards=[s.reward()], tz="UTC")
    assert "1 reward is still in doubt" in visible(one)
    assert [b["action_id"] for b in elements(one, "button")] == [
        ActionId.SETTLE_SENT,
        ActionId.SETTLE_FAILED,
    ]
    many = jb.in_doubt_report(rewards=[s.reward(short_id=f"D{i:05d}") for i in range(40)], tz="UTC")
    shown = len(elements(many, "button")) // 2
    assert shown < 40
    assert f"…and {40 - shown} more" in visible(many)


def test_the_weekly_checkpoint_says_what_it_holds_and_how_to_check_it() -> None:
    payload = jb.audit_checkpoint(line=CHECKPOINT_LINE, count=12_345, at=NOW, tz="Asia/Kolkata")
    seen = visible(payload)
    assert "held *12,345 events* on 5 March 2026 at 14:30 IST" in seen
    assert f"```rewardbot audit verify --anchor '{CHECKPOINT_LINE}'```" in seen
    assert str(payload["blocks"]).count(CHECKPOINT_LINE) == 1  # one copy, ready to paste
    assert f"--anchor '{CHECKPOINT_LINE}'" in payload["text"]


def test_the_point_books_alert_lists_the_first_differences_and_says_what_to_do() -> None:
    one = visible(jb.point_books_alert(differences=[BOOKS_LINE], total=1, lots=3, people=1))
    assert "(3 lots of 1 person) and found *1 difference*:" in one
    assert "• maria &lt;3 &amp; co (UMARIA01), reward AB12CD: credited 100" in one
    assert "Run `rewardbot points verify --all` where the bot is installed" in one
    assert "more." not in one
    many = jb.point_books_alert(differences=[BOOKS_LINE] * 5, total=12, lots=40, people=9)
    assert "…and 7 more." in visible(many)
    assert many["text"] == (
        "The point books don't add up: 12 differences. Run `rewardbot points verify --all`."
    )


@pytest.mark.parametrize(
    ("span", "said"),
    [
        (timedelta(hours=1), "1 hour"),
        (timedelta(hours=47), "47 hours"),
        (timedelta(days=14), "14 days"),
    ],
)
def test_durations_read_naturally(span: timedelta, said: str) -> None:
    assert jb.duration(span) == said
