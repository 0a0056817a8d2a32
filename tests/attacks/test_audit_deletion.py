"""Deleting the newest audit events behind the real `rewardbot serve`'s back. What is left is a
valid, shorter chain; the checkpoints written outside the database (the anchor file beside it,
the admins' weekly DM) are what show the events are gone."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable
from contextlib import closing

from tests.attacks.serve_process import ADMIN, ServeProcess
from tests.e2e.harness import BOB, MARIA

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
    serve = make_serve()
    give(serve, [10, 20])
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

    serve.stop()
    delete_events_after(serve, first - 3)  # three anchored events, and all that came after
    tampered = serve.run_once("audit", "verify")
    assert tampered.returncode == 1, tampered.stdout
    assert re.search(
        rf"audit trail BROKEN: events were deleted or rewritten after the checkpoint of {WHEN} "
        rf"\(bot\.db\.audit-anchors line \d\): it recorded {first} events up to event {first}; "
        rf"the database holds {first - 3} of them \(3 missing\)",
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
