"""Bulk awards in the ledger, on SQLite and PostgreSQL: a checked file kept once per request,
its rows made rewards in one transaction, once (two threads sending it at once included),
the same rows never sent twice, the tally and the outcomes read back."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from storage import audit, bulk
from storage.db import Store
from storage.models import BulkAward, Member
from storage.types import utcnow
from tests.storage.conftest import People


def rows(n: int = 3) -> list[bulk.StoredRow]:
    people = ["UALICE", "UBOB"]
    return [
        (i + 2, people[i % 2], i + 1, f"reason {i}", "teamwork" if i == 0 else "") for i in range(n)
    ]


def kept(store: Store, people: People, *, key: str = "req", n: int = 3) -> BulkAward:
    with store.session() as s:
        admin = s.get(Member, people.admin.id)
        assert admin is not None
        return bulk.keep_checked(
            s, request_key=key, admin=admin, filename="f.csv", rows=rows(n)
        ).award


def send(store: Store, people: People, short_id: str) -> list[int]:
    with store.session() as s:
        award = bulk.get(s, short_id=short_id)
        admin = s.get(Member, people.admin.id)
        assert award is not None and admin is not None
        return bulk.confirm(
            s,
            award=award,
            giver=admin,
            recipients={"UALICE": people.alice.id or 0, "UBOB": people.bob.id or 0},
            expiry_months=12,
        )


def test_rows_become_rewards_once_and_read_back(store: Store, people: People) -> None:
    award = kept(store, people, n=1200)  # more than one statement's chunk
    again = kept(store, people)  # the same request: the first one stands
    assert again.short_id == award.short_id
    made = send(store, people, award.short_id)
    assert len(made) == 1200 and len(set(made)) == 1200
    with pytest.raises(bulk.BulkStepLost):
        send(store, people, award.short_id)
    with store.read_session() as s:
        fresh = bulk.get(s, short_id=award.short_id)
        assert fresh is not None and fresh.id is not None
        assert bulk.counts(s, bulk_id=fresh.id) == {"queued": 1200}
        outcomes = bulk.outcomes(s, bulk_id=fresh.id)
        assert [(o.line, o.recipient, o.points) for o in outcomes[:3]] == [
            (2, "UALICE", 1),
            (3, "UBOB", 2),
            (4, "UALICE", 3),
        ]
        assert len({o.reward for o in outcomes}) == 1200
        assert audit.verify_chain(s, audit_key=store.keys.audit_key).ok


def test_two_sends_at_once_make_the_rewards_once(store: Store, people: People) -> None:
    award = kept(store, people, n=50)
    won: list[int] = []
    lost: list[Exception] = []

    def click() -> None:
        try:
            won.extend(send(store, people, award.short_id))
        except bulk.BulkStepLost as err:
            lost.append(err)

    threads = [threading.Thread(target=click) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(won) == 50 and len(lost) == 1


def test_the_same_rows_are_not_sent_twice(store: Store, people: People) -> None:
    first = kept(store, people, key="one")
    second = kept(store, people, key="two")
    send(store, people, first.short_id)
    with pytest.raises(bulk.SameRowsSent) as err:
        send(store, people, second.short_id)
    assert err.value.short_id == first.short_id


def test_a_send_that_fails_half_way_leaves_nothing(store: Store, people: People) -> None:
    """All of a file's rewards are made in one transaction: a failure on the last row (here a
    recipient the ledger doesn't have) leaves none of them, and the file still unsent."""
    award = kept(store, people, n=1200)
    with pytest.raises(Exception), store.session() as s:  # noqa: B017
        fresh = bulk.get(s, short_id=award.short_id)
        admin = s.get(Member, people.admin.id)
        assert fresh is not None and admin is not None
        bulk.confirm(
            s,
            award=fresh,
            giver=admin,
            recipients={"UALICE": people.alice.id or 0, "UBOB": 999_999},
            expiry_months=12,
        )
    with store.read_session() as s:
        again = bulk.get(s, short_id=award.short_id)
        assert again is not None and again.status == "previewed" and again.id is not None
        assert bulk.counts(s, bulk_id=again.id) == {}
    assert len(send(store, people, award.short_id)) == 1200  # and it can still be sent


def test_the_same_rows_weeks_later_are_a_new_file(store: Store, people: People) -> None:
    first = kept(store, people, key="one")
    send(store, people, first.short_id)
    with store.session() as s:
        old = bulk.get(s, short_id=first.short_id)
        assert old is not None
        old.confirmed_at = utcnow() - bulk.SAME_ROWS_WINDOW - timedelta(hours=1)
        s.add(old)
    second = kept(store, people, key="two")
    assert len(send(store, people, second.short_id)) == 3
