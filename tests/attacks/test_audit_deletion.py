"""Deleting the newest audit events behind the real `rewardbot serve`'s back. What is left is a
valid, shorter chain; the checkpoints written outside the database (the anchor file beside it,
the admins' weekly DM) are what show the events are gone. The bot anchors new events within
AUDIT_ANCHOR_SECONDS, so once that window has passed there is no blind spot, on SQLite and on
PostgreSQL; a process killed inside the window leaves its last events to the next start."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from storage.audit_anchors import read_anchor_file
from tests.attacks.conftest import DATABASES, Query, on_database
from tests.attacks.serve_process import ADMIN, ServeProcess
from tests.e2e.harness import BOB, MARIA
from tests.storage.support import TEST_AUDIT_KEY

LINE = re.compile(
    r"rewardbot-audit-checkpoint v1 id=\d+ count=\d+ hash=[0-9a-f]{64} at=\S+Z sig=[0-9a-f]{64}"
)
WHEN = r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC"


def give(serve: ServeProcess, amounts: list[int]) -> None:
    """Rewards from Bob to Maria, each waited for until it is sent."""
    for amount in amounts:
        before = serve.statuses().get("sent", 0)
        serve.driver.command(f"<@{MARIA}> {amount} thanks", user_id=BOB)
        serve.wait_until(lambda b=before: serve.statuses().get("sent", 0) == b + 1)
    serve.wait(lambda: len(serve.dm_texts(MARIA)) >= len(amounts))


def events(serve: ServeProcess) -> int:
    return int(serve.sql("SELECT COUNT(*) FROM audit_events")[0][0])


def delete_events_after(serve: ServeProcess, keep: int) -> None:
    """What someone with the database file does: no key needed, no trigger to stop them."""
    with closing(sqlite3.connect(serve.db_path)) as c:
        c.execute("DELETE FROM audit_events WHERE id > ?", (keep,))
        c.commit()


def test_deleting_the_newest_events_is_caught_by_the_checkpoints(
    make_serve: Callable[..., ServeProcess],
) -> None:
    serve = make_serve(AUDIT_ANCHOR_SECONDS="3600")  # the serve process anchors events an hour
    give(serve, [10, 20])  # apart (the first at once): the hourly job writes the checkpoint here
    anchored = serve.run_once("jobs", "run", "audit-anchor")
    assert anchored.returncode == 0, anchored.stderr
    first = events(serve)
    assert f"audit-anchor: ok: checkpoint of {first} events written to " in anchored.stdout
    assert "this week's copy DM'd to 1 admin(s)" in anchored.stdout
    dm = serve.wait(lambda: [t for t in serve.dm_texts(ADMIN) if "audit checkpoint" in t])[0]
    kept_in_slack = LINE.search(dm)
    assert kept_in_slack is not None, dm
    give(serve, [30, 40])
    total = events(serve)
    assert total > first

    untouched = serve.run_once("audit", "verify")
    assert untouched.returncode == 0, untouched.stderr
    assert untouched.stdout.startswith(f"verified {total} events")
    assert re.search(
        rf"the checkpoint of {WHEN} \(bot\.db\.audit-anchors line \d\) vouches for the first "
        rf"{first} \(up to #{first}\); the {total - first} events after it are chained but not "
        "yet anchored",
        untouched.stdout,
    ), untouched.stdout

    serve.stop()  # a clean stop anchors what its window still held
    assert events(serve) == total
    delete_events_after(serve, first - 3)  # three anchored events, and all that came after
    tampered = serve.run_once("audit", "verify")
    assert tampered.returncode == 1, tampered.stdout
    assert re.search(
        rf"audit trail BROKEN: events were deleted or rewritten after the checkpoint of {WHEN} "
        rf"\(bot\.db\.audit-anchors line \d\): it recorded {total} events up to event {total}; "
        rf"the database holds {first - 3} of them \({total - first + 3} missing\)",
        tampered.stderr,
    ), tampered.stderr

    serve.start()  # the next start notices, and does not bless the shorter chain
    serve.wait_until(lambda: "no longer matches the checkpoint of" in serve.log())
    serve.stop()
    assert serve.run_once("audit", "verify").returncode == 1

    (serve.tmp_path / "bot.db.audit-anchors").unlink()  # whoever deleted events took this too
    blind = serve.run_once("audit", "verify")
    assert blind.returncode == 0 and "no checkpoint yet" in blind.stdout
    with_slack_copy = serve.run_once("audit", "verify", "--anchor", kept_in_slack.group())
    assert with_slack_copy.returncode == 1
    assert "(--anchor 1): it recorded " in with_slack_copy.stderr
    assert "(3 missing)" in with_slack_copy.stderr


def test_a_checkpoint_written_at_start_vouches_for_everything_until_then(
    serve: ServeProcess,
) -> None:
    give(serve, [10])
    serve.stop()
    serve.start()  # anchors the whole chain as it starts
    serve.stop()
    verified = serve.run_once("audit", "verify")
    assert verified.returncode == 0, verified.stderr
    n = events(serve)
    assert f"vouches for all {n} events (up to #{n})" in verified.stdout


# ---------------------------------------------------------------- no blind hour

COUNT = re.compile(r"^rewardbot-audit-checkpoint v1 id=\d+ count=(\d+) ", re.MULTILINE)


def anchored_count(anchors: Path) -> int:
    """How many events the anchor file's furthest checkpoint records (0: none yet). Signatures
    are `audit verify`'s business; this only watches the file grow."""
    if not anchors.exists():
        return 0
    return max((int(n) for n in COUNT.findall(anchors.read_text())), default=0)


def give_on(serve: ServeProcess, sql: Query, amounts: list[int]) -> None:
    """Rewards from Bob to Maria on either database, each waited for until it is sent."""
    for amount in amounts:
        before = sql("SELECT COUNT(*) FROM rewards WHERE status = 'sent'")[0][0]
        serve.driver.command(f"<@{MARIA}> {amount} thanks", user_id=BOB)
        serve.wait_until(
            lambda b=before: (
                sql("SELECT COUNT(*) FROM rewards WHERE status = 'sent'")[0][0] == b + 1
            )
        )


def delete_newest(serve: ServeProcess, keep: int) -> None:
    """Someone with full database access drops every event after `keep` (on PostgreSQL as a
    superuser, past the append-only trigger)."""
    if not serve.database_url.startswith("postgresql"):
        delete_events_after(serve, keep)
        return
    engine = create_engine(serve.database_url, poolclass=NullPool)
    try:
        with engine.begin() as c:
            c.execute(text("SET LOCAL session_replication_role = replica"))
            c.execute(text("DELETE FROM audit_events WHERE id > :keep"), {"keep": keep})
    finally:
        engine.dispose()


@pytest.mark.parametrize("backend", DATABASES)
def test_events_deleted_once_the_anchor_window_has_passed_are_caught(
    request: pytest.FixtureRequest, make_serve: Callable[..., ServeProcess], backend: str
) -> None:
    anchors = Path(request.getfixturevalue("tmp_path")) / "elsewhere" / "audit-anchors"
    window = {"AUDIT_ANCHOR_SECONDS": "1", "AUDIT_ANCHOR_FILE": str(anchors)}
    with on_database(request, make_serve, backend, **window) as (serve, sql):
        serve.start()
        give_on(serve, sql, [10, 20, 30])
        total = int(sql("SELECT COUNT(*) FROM audit_events")[0][0])
        # Within the window, with no job and no restart: the running bot anchored them all.
        serve.wait_until(lambda: anchored_count(anchors) == total, timeout=15)
        serve.kill()  # SIGKILL: nothing written at a stop; the file holds what the run wrote

        delete_newest(serve, keep=total - 2)  # the two newest, minutes before any hourly job
        tampered = serve.run_once("audit", "verify")
        assert tampered.returncode == 1, tampered.stdout
        assert re.search(
            rf"audit trail BROKEN: events were deleted or rewritten after the checkpoint of "
            rf"{WHEN} \(audit-anchors line \d+\): it recorded {total} events up to event "
            rf"{total}; the database holds {total - 2} of them \(2 missing\)",
            tampered.stderr,
        ), tampered.stderr


def test_a_process_killed_inside_the_window_is_covered_by_the_next_start(
    make_serve: Callable[..., ServeProcess],
) -> None:
    serve = make_serve(AUDIT_ANCHOR_SECONDS="3600")  # a window no test outlasts
    anchors = serve.tmp_path / "bot.db.audit-anchors"
    give(serve, [10, 20])
    total = events(serve)
    serve.kill()  # right after the events: the window is still open, nothing anchored them
    assert 0 < anchored_count(anchors) < total

    serve.start()  # the start-up checkpoint covers what the killed process left
    serve.wait_until(lambda: anchored_count(anchors) >= total)
    serve.kill()
    verified = serve.run_once("audit", "verify")
    assert verified.returncode == 0, verified.stderr
    assert f"vouches for all {events(serve)} events" in verified.stdout

    delete_events_after(serve, total - 1)
    assert serve.run_once("audit", "verify").returncode == 1


@pytest.mark.postgres
def test_two_serve_processes_on_postgresql_anchor_into_one_file(
    request: pytest.FixtureRequest, make_serve: Callable[..., ServeProcess], tmp_path: Path
) -> None:
    anchors = tmp_path / "elsewhere" / "audit-anchors"
    window = {"AUDIT_ANCHOR_SECONDS": "1", "AUDIT_ANCHOR_FILE": str(anchors)}
    with on_database(request, make_serve, "postgresql", **window) as (first, sql):
        (tmp_path / "second").mkdir()
        second = ServeProcess(
            tmp_path=tmp_path / "second",
            fake=first.fake,
            sandbox=first.sandbox,
            database_url=first.database_url,
            verbose=True,
            **{k: v for k, v in first.settings.items() if k != "DATABASE_URL"},
        )
        first.verbose = True
        try:
            first.start()
            second.start()
            for serve, amount in [(first, 10), (second, 20), (first, 30), (second, 40)]:
                give_on(serve, sql, [amount])
            total = int(sql("SELECT COUNT(*) FROM audit_events")[0][0])
            first.wait_until(lambda: anchored_count(anchors) == total, timeout=15)
        finally:
            second.kill()
            first.kill()
        for serve in (first, second):  # each anchored events it committed, as they came
            assert "new audit events anchored: checkpoint of " in serve.logs(), serve.log()
        kept = read_anchor_file(anchors, audit_key=TEST_AUDIT_KEY.encode())
        assert kept.rejected == [] and len(kept.valid) == len(anchors.read_text().splitlines())

        delete_newest(first, keep=total - 1)
        tampered = first.run_once("audit", "verify")
        assert tampered.returncode == 1, tampered.stdout
        assert "(1 missing)" in tampered.stderr
