"""Reports from a reward's announcement and the admins' decisions: a reported reward leaves
the rankings until an admin restores it (it comes back) or cancels it (the cancel service);
repeats, other messages, cancelled rewards and double clicks change nothing, each with one
plain answer; every decision audited with who and why."""

from __future__ import annotations

from sqlmodel import select

from bot.rewards.events import ReportDecided, RewardReported
from bot.rewards.lists import ListsService
from bot.rewards.refusal import Refusal
from bot.rewards.reports import Reported, ReportService, Restored
from storage import messages as message_repo
from storage import reports as report_repo
from storage.models import AuditEvent
from storage.states import ReportStatus
from tests.domain.conftest import Domain
from tests.domain.support import ADMIN, BOB, CHEN, MARIA, TEAM

CHANNEL, TS = "C0GENERAL", "1765000000.000100"


def announced(domain: Domain, giver: str = BOB, to: str = MARIA, amount: int = 40):
    """A reward sent, and its announcement as the bot records it."""
    reward = domain.given_and_sent(giver, to, amount, "shipped the release")
    with domain.store.session() as session:
        message_repo.record_reward_message(
            session, reward_id=reward.id, kind="announcement", channel_id=CHANNEL, message_ts=TS
        )
    return reward


def reports(domain: Domain) -> ReportService:
    return ReportService(
        store=domain.store,
        people=domain.people,
        settings=domain.settings,
        teller=domain.teller,
        cancels=domain.cancels,
    )


def report(domain: Domain, by: str = CHEN, ts: str = TS, why: str = "they swap points weekly"):
    return reports(domain).report(
        reporter_id=by, team_id=TEAM, channel_id=CHANNEL, message_ts=ts, reason=why
    )


def top_recipients(domain: Domain) -> list[tuple[str, int]]:
    board = ListsService(
        store=domain.store, people=domain.people, settings=domain.settings
    ).leaderboard("month")
    return [(row.user_id, row.points) for row in board.recipients]


def test_a_reported_reward_leaves_the_leaderboard_until_an_admin_restores_it(
    domain: Domain,
) -> None:
    reward = announced(domain)
    assert top_recipients(domain) == [(MARIA, 40)]
    made = report(domain)
    assert isinstance(made, Reported) and not made.again
    assert top_recipients(domain) == []
    service = reports(domain)
    service.tell_admins(made, reporter_id=CHEN)
    [told] = domain.teller.of(RewardReported)
    assert (told.reward.short_id, told.reporter, told.reason) == (
        reward.short_id,
        CHEN,
        "they swap points weekly",
    )

    restored = service.restore(admin_id=ADMIN, short_id=reward.short_id)
    assert isinstance(restored, Restored)
    assert top_recipients(domain) == [(MARIA, 40)]
    assert [e.admin for e in domain.teller.of(ReportDecided)] == [ADMIN]

    again = service.restore(admin_id=ADMIN, short_id=reward.short_id)  # a double click
    assert isinstance(again, Refusal)
    assert again.text == (
        f"<@{ADMIN}> already restored reward `{reward.short_id}`: it counts again. Nothing changed."
    )
    assert len(domain.teller.of(ReportDecided)) == 1
    with domain.store.read_session() as s:
        events = s.exec(select(AuditEvent).where(AuditEvent.subject_id == reward.short_id)).all()
    decided = [
        (e.action, e.actor, e.reason)
        for e in events
        if e.action.startswith(("report", "reward.rep"))
    ]
    assert decided == [
        ("reward.reported", CHEN, "they swap points weekly"),
        ("report.decided", ADMIN, "kept after a report: it counts again"),
    ]


def test_one_report_per_reward_and_plain_answers_for_what_cannot_be_reported(
    domain: Domain,
) -> None:
    reward = announced(domain)
    assert isinstance(report(domain, by=CHEN), Reported)
    mine = report(domain, by=CHEN)
    assert isinstance(mine, Reported) and mine.again  # their own, made before
    other = report(domain, by=MARIA)
    assert isinstance(other, Refusal) and other.code == "already_reported"
    assert other.text == (
        f"Thanks: reward `{reward.short_id}` was already reported, and the admins will decide "
        "on it. It stays off the leaderboard until then."
    )
    elsewhere = report(domain, ts="1765000000.999999")
    assert isinstance(elsewhere, Refusal) and elsewhere.code == "not_an_announcement"
    assert isinstance(reports(domain).check(channel_id=CHANNEL, message_ts="1.2"), Refusal)
    with domain.store.read_session() as s:
        found = report_repo.report_of(s, reward_id=reward.id)
    assert found is not None and (found.reporter, found.status) == (CHEN, ReportStatus.OPEN)


def test_only_admins_decide(domain: Domain) -> None:
    reward = announced(domain)
    report(domain)
    refused = reports(domain).restore(admin_id=CHEN, short_id=reward.short_id)
    assert isinstance(refused, Refusal)
    assert refused.text.startswith("Only admins can decide on reported rewards.")
    assert top_recipients(domain) == []


def test_a_cancel_decides_the_report_and_a_cancelled_reward_cannot_be_reported(
    domain: Domain,
) -> None:
    reward = announced(domain)
    report(domain)
    asked = reports(domain).cancel_question(admin_id=ADMIN, short_id=reward.short_id)
    assert not isinstance(asked, Refusal) and asked.short_id == reward.short_id
    done = domain.cancels.cancel(
        admin_id=ADMIN, short_id=reward.short_id, reason="reported: swapped points"
    )
    assert not isinstance(done, Refusal)
    assert domain.calls("cancelBalance")  # withdrawn through Xoxoday, as any cancel
    with domain.store.read_session() as s:
        found = report_repo.report_of(s, reward_id=reward.id)
    assert found is not None and (found.status, found.decided_by) == (
        ReportStatus.CANCELLED,
        ADMIN,
    )
    late = reports(domain).restore(admin_id=ADMIN, short_id=reward.short_id)
    assert isinstance(late, Refusal)
    assert late.text == f"<@{ADMIN}> already cancelled reward `{reward.short_id}`. Nothing changed."
    again = report(domain, by=MARIA)
    assert isinstance(again, Refusal) and again.code == "cancelled"
    assert (
        again.text
        == f"Reward `{reward.short_id}` was already cancelled, so there's nothing to report."
    )


def test_an_admin_cannot_restore_a_reported_reward_they_gave_or_received(make_domain) -> None:
    domain = make_domain(REWARD_ADMINS=f"{ADMIN},{BOB},{MARIA}")
    reward = announced(domain, giver=BOB, to=MARIA)
    assert isinstance(report(domain), Reported)
    for admin in (BOB, MARIA):
        refused = reports(domain).restore(admin_id=admin, short_id=reward.short_id)
        assert isinstance(refused, Refusal)
        assert refused.text == (
            f"Reward `{reward.short_id}` is yours (you gave or received it), so another admin "
            "decides on its report. Nothing was changed."
        )
    assert top_recipients(domain) == []  # still off the leaderboard
    with domain.store.read_session() as session:
        still = report_repo.report_of(session, reward_id=reward.id)
    assert still is not None and still.status is ReportStatus.OPEN
    kept = reports(domain).restore(admin_id=ADMIN, short_id=reward.short_id)
    assert isinstance(kept, Restored)
