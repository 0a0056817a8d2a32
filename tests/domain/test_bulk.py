"""Bulk awards (`bot.rewards.bulk_service`) on their ports: a file checked whole, kept once per
request, sent once however often Send is pressed, each row a reward the worker delivers once,
the progress told when it changes, and the outcomes once at the end; what Xoxoday received,
what the ledger holds, what the admin is told."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlmodel import col, select

from bot.rewards.bulk_service import BulkPreview, BulkRejected, BulkStarted, WatchedRows
from bot.rewards.commands import LockGiver
from bot.rewards.events import (
    BulkApprovalAsked,
    BulkDecided,
    BulkFinished,
    BulkProgressed,
    RewardSent,
)
from bot.rewards.refusal import Refusal
from storage import audit, queries
from storage.models import AuditEvent, BulkAward, BulkRow, Reward
from tests.domain.conftest import Domain, batching
from tests.domain.support import ADMIN, APPROVER, BOB, CHEN, MARIA, TEAM, SlackHiccup

GOOD = (
    "recipient,points,reason,value\n"
    "maria@acme.test,50,Shipped the launch,\n"
    f"{BOB},25,Fixed the build,\n"
    "chen@acme.test,10,Ran the offsite,\n"
).encode()


def check(domain: Domain, data: bytes = GOOD, *, key: str = "req-1", who: str = ADMIN) -> object:
    return domain.bulk.check(
        admin_id=who, team_id=TEAM, data=data, filename="q4.csv", request_key=key
    )


def preview(domain: Domain, data: bytes = GOOD, *, key: str = "req-1") -> BulkPreview:
    found = check(domain, data, key=key)
    assert isinstance(found, BulkPreview), found
    return found


def send(domain: Domain, short_id: str) -> BulkStarted | Refusal:
    return domain.bulk.send(admin_id=ADMIN, team_id=TEAM, short_id=short_id, message=None)


def rewards(domain: Domain) -> list[Reward]:
    with domain.store.read_session() as session:
        return list(session.exec(select(Reward).order_by(col(Reward.id))).all())


def audit_actions(domain: Domain) -> list[str]:
    with domain.store.read_session() as session:
        found = session.exec(select(AuditEvent.action).order_by(col(AuditEvent.id))).all()
    return [a for a in found if a.startswith("bulk.")]


def sent_to(domain: Domain) -> list[tuple[str, int]]:
    out = []
    for request in domain.sends():
        if request["status"] != 200:
            continue
        variables = request["variables"]
        recipients = variables.get("recipients") or variables["recipients_data"]["recipients"]
        out += [(r["to_email"], int(r["amount"])) for r in recipients]
    return sorted(out)


def test_a_valid_file_is_previewed_and_nothing_is_sent_until_send(make_domain) -> None:
    domain = make_domain()
    found = preview(domain)
    assert (found.bulk.rows, found.bulk.total, found.needs_approval) == (3, 85, False)
    assert [a.user_id for a in found.sample] == [MARIA, BOB, CHEN]
    assert rewards(domain) == [] and domain.deliver() == 0 and domain.sends() == []
    again = check(domain, key="req-1")  # Slack's retry, or the request resumed after a crash
    assert isinstance(again, BulkPreview) and again.bulk.short_id == found.bulk.short_id
    with domain.store.read_session() as session:
        assert len(session.exec(select(BulkAward)).all()) == 1
    assert audit_actions(domain) == ["bulk.uploaded"]


def test_send_queues_every_row_once_and_the_worker_pays_each_once(make_domain) -> None:
    domain = make_domain()
    short = preview(domain).bulk.short_id
    started = send(domain, short)
    assert isinstance(started, BulkStarted) and not started.again
    assert domain.wakes["delivery"] == 1
    twice = send(domain, short)  # a double click
    assert isinstance(twice, BulkStarted) and twice.again
    queued = rewards(domain)
    assert [(r.status, r.total_points, r.public) for r in queued] == [
        ("queued", 50, False),
        ("queued", 25, False),
        ("queued", 10, False),
    ]
    assert domain.deliver() == 1  # one sendBalance call carries the file's three rows
    assert sent_to(domain) == [
        ("bob@acme.test", 25),
        ("chen@acme.test", 10),
        ("maria@acme.test", 50),
    ]
    assert domain.xoxoday.state.points_of("maria@acme.test") == 50
    assert domain.deliver() == 0 and len(sent_to(domain)) == 3
    with domain.store.read_session() as session:
        lines = session.exec(select(BulkRow.line).order_by(col(BulkRow.line))).all()
    assert list(lines) == [2, 3, 4]
    assert audit_actions(domain) == ["bulk.uploaded", "bulk.confirmed"]
    with domain.store.read_session() as session:
        created = session.exec(
            select(AuditEvent.subject_id).where(AuditEvent.action == "reward.created")
        ).all()
        assert sorted(created) == sorted(r.short_id for r in queued)  # each reward, once
        verified = audit.verify_chain(session, audit_key=domain.store.keys.audit_key)
    assert verified.ok, verified.broken


def test_the_progress_is_told_when_it_changes_and_the_outcomes_once(make_domain) -> None:
    domain = make_domain()
    batching(domain, batch_max=1)  # one row a call: the progress in between shows
    short = preview(domain).bulk.short_id
    send(domain, short)
    assert domain.bulk.watch.tick() is True
    [first] = domain.teller.of(BulkProgressed)
    assert first.tally == {"queued": 3}
    domain.bulk.watch.tick()
    assert len(domain.teller.of(BulkProgressed)) == 1  # nothing changed: nothing told
    assert domain.worker.run_once()
    domain.bulk.watch.tick()
    assert domain.teller.of(BulkProgressed)[-1].tally == {"queued": 2, "sent": 1}
    domain.deliver()
    assert domain.bulk.watch.tick() is True
    [done] = domain.teller.of(BulkFinished)
    assert done.tally == {"sent": 3}
    rows = list(csv.reader(io.StringIO(done.csv)))
    assert rows[0] == ["row", "recipient", "points", "outcome", "reward"]
    assert [r[:4] for r in rows[1:]] == [
        ["2", MARIA, "50", "sent"],
        ["3", BOB, "25", "sent"],
        ["4", CHEN, "10", "sent"],
    ]
    assert domain.bulk.watch.tick() is False  # done: the watch ends
    assert len(domain.teller.of(BulkFinished)) == 1
    assert audit_actions(domain)[-1] == "bulk.finished"


def test_the_outcomes_are_told_again_when_slack_failed_to_take_them(make_domain) -> None:
    domain = make_domain()
    send(domain, preview(domain).bulk.short_id)
    domain.deliver()
    domain.teller.fail_next(1)
    with pytest.raises(SlackHiccup):  # the watch's thread logs it and looks again
        domain.bulk.watch.tick()
    assert domain.teller.of(BulkFinished) == []
    assert domain.bulk.watch.tick() is True
    assert len(domain.teller.of(BulkFinished)) == 1


def test_a_file_with_a_problem_is_rejected_whole_and_nothing_is_kept(make_domain) -> None:
    domain = make_domain()
    bad = GOOD + b"nobody@acme.test,10,thanks,\nUNOMAIL1,-3,thanks,\n"
    found = check(domain, bad)
    assert isinstance(found, BulkRejected)
    assert [p.line for p in found.problems] == [5, 6]
    assert rewards(domain) == []
    with domain.store.read_session() as session:
        assert session.exec(select(BulkAward)).all() == []
    assert audit_actions(domain) == ["bulk.uploaded"]  # who tried, with how many problems


def test_only_admins_send_files(make_domain) -> None:
    domain = make_domain()
    found = check(domain, who=MARIA)
    assert isinstance(found, Refusal) and "Only admins can send awards from a file" in found.text
    short = preview(domain).bulk.short_id
    refused = domain.bulk.send(admin_id=MARIA, team_id=TEAM, short_id=short, message=None)
    assert isinstance(refused, Refusal) and rewards(domain) == []


def test_a_cancelled_file_is_never_sent(make_domain) -> None:
    domain = make_domain()
    short = preview(domain).bulk.short_id
    assert not isinstance(domain.bulk.cancel(admin_id=ADMIN, short_id=short), Refusal)
    refused = send(domain, short)
    assert isinstance(refused, Refusal) and "cancelled" in refused.text
    assert rewards(domain) == []
    sent = preview(domain, key="req-2").bulk.short_id
    send(domain, sent)
    late = domain.bulk.cancel(admin_id=ADMIN, short_id=sent)
    assert isinstance(late, Refusal) and "can't be recalled" in late.text


def test_the_same_file_sent_twice_pays_once(make_domain) -> None:
    domain = make_domain()
    first = preview(domain, key="req-1").bulk.short_id
    second = preview(domain, key="req-2").bulk.short_id  # uploaded again before either is sent
    assert first != second
    send(domain, first)
    refused = send(domain, second)
    assert isinstance(refused, Refusal) and f"same awards as file `{first}`" in refused.text
    reordered = b"recipient,points,reason\nchen@acme.test,10,Ran the offsite\n" + GOOD.split(
        b"\n", 1
    )[1].replace(b"chen@acme.test,10,Ran the offsite,\n", b"")
    again = check(domain, reordered, key="req-3")
    assert isinstance(again, Refusal) and "pay everyone twice" in again.text
    assert len(rewards(domain)) == 3


def test_someone_deactivated_since_the_check_stops_the_send(make_domain) -> None:
    domain = make_domain()
    short = preview(domain).bulk.short_id
    domain.people.change(BOB, deleted=True)
    refused = send(domain, short)
    assert isinstance(refused, Refusal) and f"<@{BOB}>" in refused.text
    assert rewards(domain) == []
    domain.people.change(BOB, deleted=False)
    assert isinstance(send(domain, short), BulkStarted)


def test_the_giver_hears_nothing_per_row_from_the_worker(make_domain) -> None:
    """The rows are the admin's rewards; the worker still reports each (the notifier leaves
    the admin's per-row DMs out: see the e2e test)."""
    domain = make_domain()
    send(domain, preview(domain).bulk.short_id)
    domain.deliver()
    assert {r.giver_id for r in rewards(domain)} == {
        domain.people.member_of(domain.store, ADMIN).id
    }


# ── above the approval threshold ─────────────────────────────────────────────────────────


def test_a_file_over_the_threshold_waits_for_another_approver(make_domain) -> None:
    domain = make_domain(REWARD_APPROVAL_THRESHOLD=80)
    found = preview(domain)
    assert found.needs_approval
    asked = send(domain, found.bulk.short_id)
    assert isinstance(asked, BulkStarted) and asked.waiting_for == (APPROVER,)
    [question] = domain.teller.of(BulkApprovalAsked)
    assert question.approvers == (APPROVER,) and question.bulk.total == 85
    assert rewards(domain) == [] and domain.deliver() == 0

    short = found.bulk.short_id
    for who in (ADMIN, MARIA):  # who sent it, who is in it
        refused = domain.bulk.decide(approver_id=who, short_id=short, approve=True)
        assert isinstance(refused, Refusal) and "can't decide on this file" in refused.text
    assert rewards(domain) == []

    approved = domain.bulk.decide(approver_id=APPROVER, short_id=short, approve=True)
    assert isinstance(approved, BulkStarted) and not approved.again
    twice = domain.bulk.decide(approver_id=APPROVER, short_id=short, approve=True)
    assert isinstance(twice, BulkStarted) and twice.again
    [decided] = domain.teller.of(BulkDecided)
    assert decided.approved and decided.approver == APPROVER
    assert len(rewards(domain)) == 3
    admin = domain.people.member_of(domain.store, ADMIN)
    assert {r.giver_id for r in rewards(domain)} == {admin.id}  # the company's, from the admin
    assert domain.deliver() == 1 and len(sent_to(domain)) == 3  # one call, three rows
    assert audit_actions(domain) == ["bulk.uploaded", "bulk.confirmed", "bulk.confirmed"]


def test_a_rejected_file_is_never_sent(make_domain) -> None:
    domain = make_domain(REWARD_APPROVAL_THRESHOLD=80)
    short = preview(domain).bulk.short_id
    send(domain, short)
    rejected = domain.bulk.decide(approver_id=APPROVER, short_id=short, approve=False)
    assert isinstance(rejected, BulkStarted)
    late = domain.bulk.decide(approver_id=APPROVER, short_id=short, approve=True)
    assert isinstance(late, Refusal) and "rejected" in late.text
    again = send(domain, short)
    assert isinstance(again, Refusal) and "rejected" in again.text
    assert rewards(domain) == [] and domain.sends() == []
    assert audit_actions(domain)[-1] == "bulk.decided"


def test_nobody_approves_a_file_they_are_in(make_domain) -> None:
    domain = make_domain(REWARD_APPROVAL_THRESHOLD=80)
    short = preview(domain, GOOD + b"arthur@acme.test,5,Chaired it,\n").bulk.short_id
    refused = send(domain, short)
    assert isinstance(refused, Refusal) and "everyone who could approve it is in it" in refused.text
    assert rewards(domain) == [] and domain.teller.of(BulkApprovalAsked) == []


def test_a_deactivated_persons_email_says_so(make_domain) -> None:
    domain = make_domain()
    found = check(domain, b"recipient,points,reason\ngone@acme.test,5,thanks\n")
    assert isinstance(found, BulkRejected)
    [problem] = found.problems
    assert "deactivated" in problem.text


def test_a_row_delivered_by_any_process_makes_it_watch_the_file(make_domain) -> None:
    """The process that handled Send may die while another delivers: delivering a row (or
    settling one) starts the watch where it happens; other rewards don't."""
    domain = make_domain()
    send(domain, preview(domain).bulk.short_id)
    domain.bulk.watch.stop()
    told = WatchedRows(domain.teller, watch=domain.bulk.watch)
    other = domain.give(BOB, MARIA, 5, "not from a file")
    told.tell(RewardSent(reward=other))
    assert not domain.bulk.watch.running
    row = domain.reward(rewards(domain)[0].short_id)
    told.tell(RewardSent(reward=row))
    assert domain.bulk.watch.running
    assert domain.teller.of(RewardSent) == [RewardSent(reward=other), RewardSent(reward=row)]
    domain.bulk.watch.stop()


def test_a_locked_admin_sends_no_file_and_only_the_uploader_sends_it(make_domain) -> None:
    domain = make_domain(REWARD_ADMINS=f"{ADMIN},{CHEN}")
    file = b"recipient,points,reason\nmaria@acme.test,5,thanks\n"
    short = preview(domain, file).bulk.short_id
    other = domain.bulk.send(admin_id=CHEN, team_id=TEAM, short_id=short, message=None)
    assert isinstance(other, Refusal) and f"Only <@{ADMIN}>, who sent the file" in other.text
    cancelled = domain.bulk.cancel(admin_id=CHEN, short_id=short)
    assert isinstance(cancelled, Refusal)
    locked = domain.locks.lock(LockGiver(member=ADMIN, reason="audit"), admin_id=CHEN, team_id=TEAM)
    assert not isinstance(locked, Refusal)
    refused = send(domain, short)
    assert isinstance(refused, Refusal) and refused.code == "locked"
    again = check(domain, file, key="req-2")
    assert isinstance(again, Refusal) and again.code == "locked"
    assert rewards(domain) == []


def test_rows_xoxoday_refuses_end_failed_in_the_outcomes(make_domain) -> None:
    domain = make_domain()
    domain.xoxoday.state.set_balance(Decimal("0"))
    send(domain, preview(domain).bulk.short_id)
    domain.deliver()
    domain.bulk.watch.tick()
    [done] = domain.teller.of(BulkFinished)
    assert done.tally == {"failed": 3}
    outcomes = [r[3] for r in csv.reader(io.StringIO(done.csv))][1:]
    assert outcomes == ["failed"] * 3
    assert domain.xoxoday.state.points_of("maria@acme.test") == 0


def test_an_approver_who_left_slack_is_not_asked(make_domain) -> None:
    domain = make_domain(REWARD_APPROVAL_THRESHOLD=80, REWARD_APPROVERS=f"{APPROVER},UGONE001")
    short = preview(domain).bulk.short_id
    asked = send(domain, short)
    assert isinstance(asked, BulkStarted) and asked.waiting_for == (APPROVER,)
    domain.people.change(APPROVER, deleted=True)
    again = preview(domain, GOOD + b"maria@acme.test,1,one more,\n", key="req-2").bulk.short_id
    refused = send(domain, again)
    assert isinstance(refused, Refusal) and "no longer in Slack" in refused.text


def test_a_files_rows_make_nobody_a_top_giver(make_domain) -> None:
    domain = make_domain()
    send(domain, preview(domain).bulk.short_id)
    domain.give(BOB, MARIA, 5, "a person's own")
    domain.deliver()
    since, until = datetime.now(UTC) - timedelta(days=1), datetime.now(UTC) + timedelta(days=1)
    with domain.store.read_session() as session:
        givers = queries.totals_by_giver(session, since=since, until=until)
        received = queries.totals_by_recipient(session, since=since, until=until)
    assert [(t.member.slack_user_id, t.points) for t in givers] == [(BOB, 5)]
    assert {t.member.slack_user_id: t.points for t in received}[MARIA] == 55  # still received
    with domain.store.read_session() as session:
        summary = queries.period_summary(session, since=since, until=until)
    assert (summary.points, summary.givers) == (90, 1)


def test_the_same_rows_waiting_for_approval_are_not_sent_again(make_domain) -> None:
    domain = make_domain(REWARD_APPROVAL_THRESHOLD=80)
    first = preview(domain, key="req-1").bulk.short_id
    second = preview(domain, key="req-2").bulk.short_id
    assert isinstance(send(domain, first), BulkStarted)  # waits for the approver
    refused = send(domain, second)
    assert isinstance(refused, Refusal) and f"same awards as file `{first}`" in refused.text
    assert len(domain.teller.of(BulkApprovalAsked)) == 1
