"""The celebrations service on its ports (a SQLite ledger, the Plum sandbox, people in memory):
who is looked up and how, who is skipped and counted, the opt-out read in the transaction that
pays, what the import keeps (never a birth year) and audits (never a date)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlmodel import col, select

from bot.rewards.celebrations import CelebrationService
from bot.rewards.events import RewardSent
from bot.rewards.refusal import Refusal
from storage import rewards as reward_repo
from storage.models import AuditEvent, CelebrationPerson, Reward
from tests.domain.conftest import Domain
from tests.domain.support import ADMIN, BOB, BOT_SELF, CHEN, GONE, HELPERBOT, MARIA, Someone

MONDAY = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)  # past 09:00 in Madrid, Tokyo and London
ON = {"REWARD_BIRTHDAY_POINTS": 30, "REWARD_CELEBRATION_CHANNEL": "C0KUDOS"}


class Clock:
    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at


@pytest.fixture
def domain(make_domain: Callable[..., Domain]) -> Domain:
    return make_domain(**ON)


def service(domain: Domain, clock: Clock) -> CelebrationService:
    return CelebrationService(
        store=domain.store, people=domain.people, settings=domain.settings, now=clock
    )


def imported(celebrations: CelebrationService, csv: str) -> None:
    done = celebrations.import_file(csv.encode(), actor="cli:test")
    assert done.file.ok, done.file.report()


def test_an_email_is_matched_once_and_the_slack_id_kept(domain: Domain) -> None:
    clock = Clock(MONDAY)
    celebrations = service(domain, clock)
    imported(celebrations, "person,birthday\nMaria@Acme.test,03-02\n")
    run = celebrations.run_due()
    assert (run.sent, domain.people.lookups) == (1, ["maria@acme.test"])
    with domain.store.read_session() as session:
        (row,) = session.exec(select(CelebrationPerson)).all()
    assert (row.slack_user_id, row.email) == (MARIA, "maria@acme.test")
    clock.at += timedelta(minutes=15)
    assert celebrations.run_due().already == 1
    assert domain.people.lookups == ["maria@acme.test"]  # by id from now on

    assert domain.deliver() == 1
    (sent,) = domain.teller.of(RewardSent)
    assert sent.reward.giver.slack_user_id == BOT_SELF
    assert [r.member.slack_user_id for r in sent.reward.recipients] == [MARIA]
    assert (sent.reward.reward.citation, sent.reward.reward.channel_id) == (
        "Happy birthday!",
        "C0KUDOS",
    )
    (call,) = domain.sends()
    recipients = (
        call["variables"].get("recipients") or call["variables"]["recipients_data"]["recipients"]
    )
    assert [r["to_email"] for r in recipients] == ["maria@acme.test"]


def test_who_is_skipped_is_counted_and_nothing_is_paid_for_them(domain: Domain) -> None:
    domain.people.add(Someone("UNEW0001", "newbie", "New Bee", "newbie@acme.test", tz=None))
    celebrations = service(domain, Clock(MONDAY))
    imported(
        celebrations,
        "person,birthday\n"
        "nobody@acme.test,03-02\n"  # Slack has nobody with that email
        "UNKNOWN1,03-02\n"  # nor that id
        f"{GONE},03-02\n"  # deactivated
        f"{HELPERBOT},03-02\n"  # a bot
        f"{BOT_SELF},03-02\n"  # the bot itself
        "UNEW0001,03-02\n",  # no time zone in Slack: REWARD_TIMEZONE's (UTC) 12:00
    )
    run = celebrations.run_due()
    assert (run.sent, run.not_in_slack, run.inactive) == (1, 2, 3)
    assert run.summary() == (
        "1 celebration(s) sent (1 birthday); 2 not found in Slack; 3 deactivated or bots"
    )
    with domain.store.read_session() as session:
        assert len(session.exec(select(Reward)).all()) == 1


def test_slack_not_answering_pays_nothing_and_the_next_run_does(domain: Domain) -> None:
    clock = Clock(MONDAY)
    celebrations = service(domain, clock)
    imported(celebrations, f"person,birthday\n{MARIA},03-02\n{CHEN},03-02\n")
    domain.people.unavailable = True
    run = celebrations.run_due()
    assert (run.sent, run.unavailable) == (0, 2)
    assert run.summary() == "0 celebration(s) sent; 2 not looked up: Slack didn't answer"
    domain.people.unavailable = False
    clock.at += timedelta(minutes=15)
    assert celebrations.run_due().sent == 2


def test_an_opt_out_arriving_mid_run_is_read_in_the_transaction_that_pays(
    domain: Domain,
) -> None:
    celebrations = service(domain, Clock(MONDAY))
    imported(celebrations, f"person,birthday\n{MARIA},03-02\n")
    looked_up = domain.people.profile

    def profile(user_id: str):  # type: ignore[no-untyped-def]
        if user_id == MARIA and not said:  # `/reward celebrations off`, as the run looks her up
            said.append(user_id)
            celebrations.choose(MARIA, celebrate=False)
        return looked_up(user_id)

    said: list[str] = []
    domain.people.profile = profile  # type: ignore[method-assign]
    run = celebrations.run_due()
    assert (run.sent, run.opted_out) == (0, 1)
    with domain.store.read_session() as session:
        assert session.exec(select(Reward)).all() == []


def test_the_import_updates_keeps_no_year_and_audits_only_counts(domain: Domain) -> None:
    celebrations = service(domain, Clock(MONDAY))
    first = celebrations.import_file(
        f"person,birthday,start_date\n{MARIA},1990-03-14,2021-06-01\nbob@acme.test,04-01,\n".encode(),
        actor="cli:ops",
    )
    assert (first.added, first.updated) == (2, 0)
    again = celebrations.import_file(
        f"person,birthday,start_date\n{MARIA},03-15,2021-06-01\nbob@acme.test,04-01,\n".encode(),
        actor="cli:ops",
    )
    assert (again.added, again.updated) == (0, 1)
    with domain.store.read_session() as session:
        rows = session.exec(select(CelebrationPerson).order_by(col(CelebrationPerson.id))).all()
        events = [
            e for e in session.exec(select(AuditEvent)).all() if e.action == "people.imported"
        ]
    assert [(r.slack_user_id, r.email, r.birth_month, r.birth_day) for r in rows] == [
        (MARIA, None, 3, 15),
        (None, "bob@acme.test", 4, 1),
    ]
    assert [(e.actor, e.after) for e in events] == [
        ("cli:ops", {"rows": 2, "added": 2, "updated": 0}),
        ("cli:ops", {"rows": 2, "added": 0, "updated": 1}),
    ]
    assert "1990" not in repr([r.model_dump() for r in rows]) + repr(events)
    rejected = celebrations.import_file(b"person,birthday\nbob@acme.test,02-30\n", actor="x")
    assert not rejected.file.ok and rejected.added == 0


def test_only_admins_see_the_coming_celebrations_and_opting_is_audited(domain: Domain) -> None:
    celebrations = service(domain, Clock(MONDAY))
    imported(celebrations, f"person,birthday\n{MARIA},03-20\n")
    refused = celebrations.upcoming(admin_id=BOB)
    assert isinstance(refused, Refusal) and refused.text.startswith("Only admins can")
    assert not isinstance(rows := celebrations.upcoming(admin_id=ADMIN), Refusal)
    assert [(r.who, r.on.isoformat(), r.points, r.opted_out) for r in rows] == [
        (MARIA, "2026-03-20", 30, False)
    ]
    assert celebrations.choose(MARIA, celebrate=False).changed
    assert not celebrations.choose(MARIA, celebrate=False).changed  # already off: no event
    mine = celebrations.mine(MARIA)
    assert (mine.celebrated, mine.has_dates) == (False, True)
    (listed,) = celebrations.upcoming(admin_id=ADMIN)  # type: ignore[misc]
    assert listed.opted_out
    with domain.store.read_session() as session:
        chosen = [
            (e.actor, e.after)
            for e in session.exec(select(AuditEvent)).all()
            if e.action == "celebrations.chosen"
        ]
    assert chosen == [(MARIA, {"celebrations": "off"})]


def test_a_row_naming_an_id_and_an_email_held_by_two_people_rows_imports_and_pays_once(
    domain: Domain,
) -> None:
    celebrations = service(domain, Clock(MONDAY))
    imported(celebrations, f"person,birthday\n{MARIA},03-02\nmaria@acme.test,03-02\n")
    imported(celebrations, f"slack_id,email,birthday\n{MARIA},maria@acme.test,03-02\n")
    run = celebrations.run_due()
    assert (run.sent, run.already) == (1, 1)
    with domain.store.read_session() as session:
        assert len(session.exec(select(Reward)).all()) == 1


def test_slack_profile_fields_add_and_update_dates_and_an_empty_field_keeps_the_file_s(
    make_domain: Callable[..., Domain],
) -> None:
    domain = make_domain(
        **ON, REWARD_CELEBRATION_PROFILE_FIELDS="birthday=Xf01BDAY,start_date=Xf02START"
    )
    celebrations = service(domain, Clock(MONDAY))
    imported(celebrations, f"person,birthday,start_date\n{MARIA},01-01,2021-06-01\n")
    domain.people.fields = {
        MARIA: {"Xf01BDAY": "1990-03-02"},  # a date field: the year is dropped; no start date
        BOB: {"Xf02START": "2026-03-02", "Xf09OTHER": "x"},
        CHEN: {"Xf01BDAY": "someday"},  # not a date: left as it was
    }
    read = celebrations.read_profiles()
    assert read.summary() == (
        f"{read.people} profile(s) read, 2 with dates: 1 added, 1 updated; 1 value(s) that "
        "aren't dates left as they were"
    )
    with domain.store.read_session() as session:
        rows = session.exec(select(CelebrationPerson).order_by(col(CelebrationPerson.id))).all()
        (event,) = [
            e
            for e in session.exec(select(AuditEvent)).all()
            if e.action == "people.imported" and e.actor == "slack-profiles"
        ]
    assert [(r.slack_user_id, r.birth_month, r.birth_day, r.start_date) for r in rows] == [
        (MARIA, 3, 2, date(2021, 6, 1)),
        (BOB, None, None, date(2026, 3, 2)),
    ]
    assert event.after == {"rows": 2, "added": 1, "updated": 1}
    assert celebrations.read_profiles().updated == 0  # the same again: nothing changes
    run = celebrations.run_due()  # her birthday, from Slack's field (welcomes are off here)
    assert (run.sent, run.kinds) == (1, {"birthday": 1})


def test_without_profile_fields_named_slack_is_not_asked(domain: Domain) -> None:
    domain.people.unavailable = True  # it would raise if asked
    assert service(domain, Clock(MONDAY)).read_profiles().people == 0


def test_one_person_the_ledger_refuses_stops_nobody_else(
    domain: Domain, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = Clock(MONDAY)
    celebrations = service(domain, clock)
    imported(celebrations, f"person,birthday\n{MARIA},03-02\n{CHEN},03-02\n")
    create = reward_repo.create_reward

    def refusing(session, *, recipients, **kw):  # type: ignore[no-untyped-def]
        if recipients[0][0].slack_user_id == MARIA:
            raise RuntimeError("the disk is full")
        return create(session, recipients=recipients, **kw)

    monkeypatch.setattr(reward_repo, "create_reward", refusing)
    run = celebrations.run_due()
    assert (run.sent, run.failed) == (1, 1)
    assert run.summary().endswith("1 failed (see the log; tried again next run)")
    monkeypatch.setattr(reward_repo, "create_reward", create)
    clock.at += timedelta(minutes=15)
    again = celebrations.run_due()  # the next run pays her, and him not again
    assert (again.sent, again.already, again.failed) == (1, 1, 0)
