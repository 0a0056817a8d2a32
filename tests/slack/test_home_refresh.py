"""`HomeRefresher`: who has opened their App Home is read from the ledger at most once per
person per recheck period while the answer is no, and a person whose refresh was skipped on a
"no" that another process has since made a "yes" is refreshed once that "no" is stale."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import Session

from bot.rewards.kinds import OnceKind
from bot.slack import home_refresh
from bot.slack.home_refresh import OPENED_KIND, HomeRefresher
from storage import once
from storage.db import Store, open_store
from tests.storage.support import migrated_sqlite


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    path = migrated_sqlite(tmp_path / "ledger.db")
    opened = open_store(database_url=f"sqlite:///{path}", audit_key="a" * 32, encryption_key=None)
    yield opened
    opened.dispose()


class Published:
    def __init__(self) -> None:
        self.who: list[str] = []
        self.event = threading.Event()

    def __call__(self, user_id: str, soon: bool) -> None:
        self.who.append(user_id)
        self.event.set()


def counting_reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    reads: list[str] = []
    real = once.was_claimed

    def was_claimed(session: Session, *, kind: OnceKind, key: str) -> bool:
        reads.append(key)
        return real(session, kind=kind, key=key)

    monkeypatch.setattr(home_refresh.once, "was_claimed", was_claimed)
    return reads


def test_a_burst_for_someone_who_never_opened_their_home_reads_the_ledger_once(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    reads = counting_reads(monkeypatch)
    published = Published()
    refresher = HomeRefresher(publish=published, store=store, idle_seconds=0.05)
    try:
        for _ in range(200):
            refresher.refresh(["UNEVER"])
            assert refresher.wait_idle(5)
        assert reads == ["UNEVER"]
        assert published.who == []
    finally:
        refresher.stop()


def test_an_opening_recorded_by_another_process_is_followed_once_the_no_is_stale(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    reads = counting_reads(monkeypatch)
    published = Published()
    refresher = HomeRefresher(
        publish=published, store=store, idle_seconds=0.05, recheck_seconds=0.5
    )
    try:
        refresher.refresh(["UMARIA"])
        assert refresher.wait_idle(5)
        assert published.who == []
        # Another bot process records that Maria opened her App Home...
        with store.session() as session:
            once.claim_once(session, kind=OPENED_KIND, key="UMARIA")
        # ...and her points change here while this process's "no" is still fresh.
        refresher.refresh(["UMARIA"])
        assert published.event.wait(5), "her App Home was never refreshed"
        assert published.who == ["UMARIA"]
        assert reads == ["UMARIA", "UMARIA"]
    finally:
        refresher.stop()


def test_someone_who_opened_their_home_here_is_refreshed_at_once(store: Store) -> None:
    published = Published()
    refresher = HomeRefresher(publish=published, store=store, idle_seconds=0.05)
    try:
        refresher.refresh(["UBOB"])
        assert refresher.wait_idle(5)
        refresher.opened("UBOB")
        refresher.refresh(["UBOB"])
        assert refresher.wait_idle(5)
        assert published.who == ["UBOB"]
    finally:
        refresher.stop()
