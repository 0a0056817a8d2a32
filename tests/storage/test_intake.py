"""The intake journal on SQLite (its own file beside the ledger) and PostgreSQL (the ledger's
`intake` table): recorded before the ack, one entry per Slack request, group commits, finished,
resumed once across processes, and a refusal when it cannot write."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from datetime import timedelta

import pytest

from storage.intake import IntakeJournal, IntakeUnavailable, journal_url
from storage.types import utcnow
from tests.storage.support import TestDatabase

BODY = {"command": "/reward", "text": "<@U1> 5 thanks", "user_id": "U2", "trigger_id": "1.2"}


@pytest.fixture
def journal(db: TestDatabase) -> Iterator[IntakeJournal]:
    found = IntakeJournal.open(ledger=db.engine, database_url=db.url, worker_id="host:1")
    yield found.start()
    found.stop()


def test_a_sqlite_ledger_keeps_its_journal_in_a_file_of_its_own(db: TestDatabase) -> None:
    if db.backend != "sqlite":
        assert journal_url(db.url) is None  # PostgreSQL: the ledger's own intake table
        return
    assert db.path is not None
    assert journal_url(db.url) == f"sqlite:///{db.path.with_name(db.path.stem + '.intake.db')}"


def test_a_request_is_recorded_once_whatever_slack_repeats(journal: IntakeJournal) -> None:
    first = journal.record(key="command:1.2", kind="command:/reward", user_id="U2", body=BODY)
    again = journal.record(key="command:1.2", kind="command:/reward", user_id="U2", body=BODY)
    assert first.fresh and not again.fresh and again.entry_id == first.entry_id
    (pending,) = journal.pending()
    assert pending.body == BODY and pending.kind == "command:/reward" and pending.user_id == "U2"
    assert pending.received_at.tzinfo is not None


def test_finishing_clears_the_body_and_leaves_nothing_to_resume(journal: IntakeJournal) -> None:
    entry = journal.record(key="k1", kind="command:/reward", user_id="U2", body=BODY)
    journal.finish(entry.entry_id, outcome="done")
    journal.stop()  # the writer drains what was queued before it stops
    assert journal.pending() == []
    with journal.engine.connect() as conn:
        body, state = conn.exec_driver_sql(
            f"SELECT body, state FROM intake WHERE id = {entry.entry_id}"
        ).one()
    assert body is None and state == "done"


def test_a_burst_is_committed_in_a_few_group_commits(journal: IntakeJournal) -> None:
    commits: list[int] = []
    write = journal._write_batch

    def counting(batch: list) -> None:  # type: ignore[type-arg]
        commits.append(len(batch))
        write(batch)

    journal._write_batch = counting  # type: ignore[method-assign]
    barrier = threading.Barrier(40)

    def send(n: int) -> None:
        barrier.wait()
        for i in range(10):
            journal.record(key=f"k{n}-{i}", kind="command:/reward", user_id="U2", body=BODY)

    threads = [threading.Thread(target=send, args=(n,)) for n in range(40)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sum(commits) == 400
    assert journal.count() == 400
    assert len(commits) < 200  # requests arriving together share commits


def test_an_event_loop_waits_without_a_thread(journal: IntakeJournal) -> None:
    async def many() -> list[bool]:
        recorded = await asyncio.gather(
            *(
                journal.record_async(key=f"a{n}", kind="command:/reward", user_id="U", body=BODY)
                for n in range(25)
            )
        )
        return [r.fresh for r in recorded]

    assert asyncio.run(many()) == [True] * 25
    assert len(journal.pending()) == 25


def test_one_process_resumes_an_entry_another_left(db: TestDatabase) -> None:
    one = IntakeJournal.open(ledger=db.engine, database_url=db.url, worker_id="host:1")
    two = IntakeJournal.open(ledger=db.engine, database_url=db.url, worker_id="host:2")
    one.record(key="k", kind="command:/reward", user_id="U2", body=BODY)
    (left,) = two.pending()
    assert two.claim(left) is True
    assert one.claim(left) is False  # claimed with the same view of the entry: loses
    (again,) = one.pending()
    assert again.resumes == 1


def test_only_stale_entries_are_taken_from_a_live_process(journal: IntakeJournal) -> None:
    journal.record(key="fresh", kind="command:/reward", user_id="U2", body=BODY)
    assert journal.pending(stale_after=timedelta(minutes=2)) == []
    assert len(journal.pending()) == 1


def test_old_finished_entries_are_forgotten(journal: IntakeJournal) -> None:
    entry = journal.record(key="k", kind="command:/reward", user_id="U2", body=BODY)
    journal.finish(entry.entry_id)
    journal.record(key="still-pending", kind="command:/reward", user_id="U2", body=BODY)
    journal.stop()
    assert journal.purge(finished_before=utcnow() + timedelta(seconds=1)) == 1
    assert [p.key for p in journal.pending()] == ["still-pending"]


def test_a_journal_that_cannot_write_refuses_the_request(db: TestDatabase) -> None:
    journal = IntakeJournal.open(ledger=db.engine, database_url=db.url, worker_id="host:1")
    journal.start()
    try:
        with journal.engine.begin() as conn:
            conn.exec_driver_sql("DROP TABLE intake")  # any write now fails
        with pytest.raises(IntakeUnavailable, match="could not record"):
            journal.record(key="k", kind="command:/reward", user_id="U2", body=BODY)
        with pytest.raises(IntakeUnavailable):
            asyncio.run(
                journal.record_async(key="k2", kind="command:/reward", user_id="U2", body=BODY)
            )
    finally:
        journal.stop()


def test_a_nul_in_a_body_is_stored_on_both_databases(journal: IntakeJournal) -> None:
    body = {**BODY, "text": "thanks \u0000 there"}
    journal.record(key="nul", kind="command:/reward", user_id="U2", body=body)
    (pending,) = journal.pending()
    assert pending.body["text"] == "thanks \u0000 there"


def test_a_damaged_entry_comes_unread_with_its_person_and_the_others_still_resume(
    journal: IntakeJournal,
) -> None:
    bad = journal.record(key="k-bad", kind="command:/reward", user_id="U2", body=BODY)
    good = journal.record(key="k-good", kind="command:/reward", user_id="U2", body=BODY)
    sqlite = journal.engine.dialect.name == "sqlite"
    damaged = '\'{"text": "cut off\'' if sqlite else "CAST('[\"not an object\"]' AS JSON)"
    with journal.engine.begin() as conn:  # a row damaged by hand or by the disk
        conn.exec_driver_sql(f"UPDATE intake SET body = {damaged} WHERE id = {bad.entry_id}")
    unread, readable = journal.pending()
    # the damaged one is still pending (the resumer ends it and tells U2), with no body to run
    assert (unread.entry_id, unread.body, unread.user_id) == (bad.entry_id, None, "U2")
    assert (readable.entry_id, readable.body) == (good.entry_id, BODY)
