"""audit-anchor against the running bot: a checkpoint appended to the anchor file beside the
database each run that finds new events, the admins' copy once an ISO week, and a chain that lost
events refused (the run fails, nothing is written, nobody is sent a checkpoint of it). And a
process's watch: what it commits anchored at once after a quiet spell, then within
AUDIT_ANCHOR_SECONDS, and as it stops; a shorter chain logged, never anchored."""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine

from bot.jobs.audit_anchor import anchor_at_start
from bot.startup import start_bot
from storage import audit
from storage.audit import AuditAction
from storage.audit_anchors import read_anchor_file
from storage.db import Store
from tests.e2e.harness import ADMIN, APPROVER, BOB, MARIA, BotHarness, message_text
from tests.jobs.support import dms, give, run_job, wait_status
from tests.storage.support import TEST_AUDIT_KEY, TEST_ENCRYPTION_KEY, ledger_database

CHECKPOINT = "rewardbot-audit-checkpoint v1 "


def anchor_file(tmp_path: Path) -> Path:
    return tmp_path / "bot.db.audit-anchors"


def events(tmp_path: Path) -> int:
    with sqlite3.connect(tmp_path / "bot.db") as c:
        return int(c.execute("SELECT COUNT(*) FROM audit_events").fetchone()[0])


def test_each_run_anchors_new_events_and_the_admins_get_a_copy_once_a_week(
    clock: time_machine.Coordinates, bot: BotHarness, tmp_path: Path
) -> None:
    wait_status(bot, give(bot, giver=BOB, to=MARIA, amount=10), "sent")
    n = events(tmp_path)
    result = run_job(bot, "audit-anchor")
    assert result.ok, result
    assert result.detail == (
        f"checkpoint of {n} events written to {anchor_file(tmp_path)}; "
        "this week's copy DM'd to 1 admin(s)"
    )
    kept = read_anchor_file(anchor_file(tmp_path), audit_key=bot.runtime.store.keys.audit_key)
    (checkpoint,) = kept.valid
    assert (checkpoint.event_id, checkpoint.count) == (n, n)

    (dm,) = dms(bot, ADMIN, "Weekly audit checkpoint")
    said = message_text(dm)
    assert f"The audit trail held *{n} events* on 2 March 2026 at 08:" in said
    line = anchor_file(tmp_path).read_text().strip()
    assert f"rewardbot audit verify --anchor '{line}'" in said
    assert dms(bot, APPROVER) == []

    clock.shift(timedelta(hours=1))
    assert run_job(bot, "audit-anchor").detail == (
        f"no new events since the checkpoint of {n} events in {anchor_file(tmp_path)}; "
        "the admins already have this week's copy"
    )
    wait_status(bot, give(bot, giver=BOB, to=MARIA, amount=20), "sent")
    clock.shift(timedelta(hours=1))
    assert run_job(bot, "audit-anchor").detail.startswith(f"checkpoint of {events(tmp_path)} ")
    assert len(anchor_file(tmp_path).read_text().splitlines()) == 2
    assert len(dms(bot, ADMIN, "Weekly audit checkpoint")) == 1

    clock.shift(timedelta(days=7))  # the next ISO week
    assert run_job(bot, "audit-anchor").detail.endswith("this week's copy DM'd to 1 admin(s)")
    assert len(dms(bot, ADMIN, "Weekly audit checkpoint")) == 2


def test_a_chain_that_lost_its_newest_events_fails_the_run_and_is_not_anchored(
    clock: time_machine.Coordinates, bot: BotHarness, tmp_path: Path
) -> None:
    wait_status(bot, give(bot, giver=BOB, to=MARIA, amount=10), "sent")
    assert run_job(bot, "audit-anchor").ok
    before = anchor_file(tmp_path).read_text()
    n = events(tmp_path)
    with sqlite3.connect(tmp_path / "bot.db") as c:
        c.execute("DELETE FROM audit_events WHERE id > ?", (n - 2,))

    clock.shift(timedelta(days=7))
    result = run_job(bot, "audit-anchor")
    assert not result.ok
    assert result.detail.startswith("failed: the audit trail no longer matches the checkpoint of ")
    assert "(2 missing)" in result.detail and "rewardbot audit verify" in result.detail
    assert anchor_file(tmp_path).read_text() == before
    assert len(dms(bot, ADMIN, "Weekly audit checkpoint")) == 1  # last week's, not a new one


def test_without_admins_the_file_is_still_written(
    make_bot: Callable[..., BotHarness], tmp_path: Path
) -> None:
    bot = make_bot(REWARD_ADMINS="")
    assert run_job(bot, "audit-anchor").detail.endswith(
        "REWARD_ADMINS is empty: nobody gets the weekly copy"
    )
    assert anchor_file(tmp_path).read_text().startswith(CHECKPOINT)


def test_an_anchor_file_that_cannot_be_written_fails_the_run(
    make_bot: Callable[..., BotHarness], tmp_path: Path
) -> None:
    (tmp_path / "a-file").write_text("")
    bot = make_bot(AUDIT_ANCHOR_FILE=str(tmp_path / "a-file" / "anchors"))
    result = run_job(bot, "audit-anchor")
    assert not result.ok
    assert result.detail.startswith(
        f"failed: could not write the audit anchor file {tmp_path / 'a-file' / 'anchors'}: "
    )
    assert dms(bot, ADMIN) == []


def test_starting_anchors_the_chain_and_never_raises(
    bot: BotHarness, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="bot.jobs.audit_anchor"):
        anchor_at_start(bot.runtime)
    n = events(tmp_path)
    assert f"audit trail: checkpoint of {n} events written to {anchor_file(tmp_path)}" in (
        caplog.text
    )
    with sqlite3.connect(tmp_path / "bot.db") as c:
        c.execute("DELETE FROM audit_events WHERE id = ?", (n,))
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="bot.jobs.audit_anchor"):
        anchor_at_start(bot.runtime)  # logged, not raised: the bot still starts
    (record,) = caplog.records
    assert record.levelno == logging.ERROR
    assert "no longer matches the checkpoint of " in record.getMessage()
    assert "(1 missing)" in record.getMessage()


@pytest.mark.postgres
def test_with_postgresql_and_no_anchor_file_set_start_warns_and_uses_the_working_directory(
    make_bot: Callable[..., BotHarness],
    pg_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.chdir(tmp_path)
    with ledger_database("postgresql", tmp_path=tmp_path, pg_url=pg_url) as db:
        bot = make_bot(
            DATABASE_URL=db.url, AUDIT_KEY=TEST_AUDIT_KEY, ENCRYPTION_KEY=TEST_ENCRYPTION_KEY
        )
        with caplog.at_level(logging.INFO, logger="bot.jobs.audit_anchor"):
            anchor_at_start(bot.runtime)
        bot.stop()
    warning, done = caplog.records
    assert warning.levelno == logging.WARNING
    default = tmp_path / "rewardbot.audit-anchors"
    assert warning.getMessage().startswith(
        f"AUDIT_ANCHOR_FILE is not set: audit checkpoints go to {default}; set it to a file on "
    )
    assert "written to rewardbot.audit-anchors" in done.getMessage()
    assert default.read_text().startswith(CHECKPOINT)


def add_event(store: Store, n: int) -> None:
    with store.session() as s:
        audit.append(
            s,
            actor="cli",
            action=AuditAction.SETTING_CHANGED,
            subject_type="setting",
            subject_id=f"KEY_{n}",
            after={"value": n},
        )


def test_a_process_anchors_new_events_at_once_then_within_its_window_and_as_it_stops(
    bot: BotHarness, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # Like `rewardbot jobs run`: nothing anchored at start, what it appends anchored.
    settings = bot.settings.model_copy(update={"AUDIT_ANCHOR_SECONDS": 3600})
    other = start_bot(settings, slack_requests=False, worker=False, anchor=False, watch_audit=True)
    store = other.runtime.store
    key = store.keys.audit_key
    try:
        assert other.runtime.anchoring is not None
        with caplog.at_level(logging.DEBUG, logger="bot.jobs.audit_anchor"):
            add_event(store, 1)  # the first after a quiet spell: at once
            wait_until(lambda: read_anchor_file(anchor_file(tmp_path), audit_key=key).latest)
            first = events(tmp_path)
            add_event(store, 2)  # inside the hour's window: not yet
            time.sleep(0.3)
            latest = read_anchor_file(anchor_file(tmp_path), audit_key=key).latest
            assert latest is not None and latest.count == first < events(tmp_path)
    finally:
        other.stop()  # a clean stop anchors what the window still held
    latest = read_anchor_file(anchor_file(tmp_path), audit_key=key).latest
    assert latest is not None and latest.count == events(tmp_path)
    assert f"new audit events anchored: checkpoint of {first} events written to " in caplog.text


def test_a_chain_that_lost_events_is_logged_and_not_anchored_by_the_watch(
    bot: BotHarness, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    other = start_bot(
        bot.settings, slack_requests=False, worker=False, anchor=False, watch_audit=True
    )
    watch, store = other.runtime.anchoring, other.runtime.store
    assert watch is not None
    try:
        add_event(store, 1)
        add_event(store, 2)
        watch.flush()
        before = anchor_file(tmp_path).read_text()
        n = events(tmp_path)
        with sqlite3.connect(tmp_path / "bot.db") as c:
            c.execute("DELETE FROM audit_events WHERE id > ?", (n - 2,))
        with caplog.at_level(logging.INFO, logger="bot.jobs.audit_anchor"):
            add_event(store, 3)  # the watch anchors: it refuses the shorter chain, and says so
            watch.flush()
        assert "no longer matches the checkpoint of " in caplog.text
        assert "(1 missing)" in caplog.text
        assert anchor_file(tmp_path).read_text() == before
    finally:
        other.stop()


def wait_until(probe: Callable[[], object], timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not probe():
        assert time.monotonic() < deadline, "not within the time allowed"
        time.sleep(0.02)
