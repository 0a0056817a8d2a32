"""What the intake journal holds unfinished after a SIGKILL, taken up by the next
`rewardbot serve`: a cancel confirmed before the kill whose response_url has since expired
(Xoxoday had withdrawn the points, the bot never heard), a click for a button the new code no
longer has, an entry that failed at every start, a body damaged on disk, and a request no
listener took; and, on PostgreSQL, two processes starting at once over one journal.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import closing
from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from bot.simulators.fakeslack import payloads
from bot.slack.ids import ActionId
from bot.slack.journal import MAX_RESUMES
from bot.slack.request_entry import NOT_FINISHED
from tests.attacks.conftest import on_database
from tests.attacks.house import (
    Told,
    ack_of,
    cancel_question,
    click_body,
    command_body,
    gift_form,
    give_big,
    give_sent,
    interaction,
    journal,
    journal_path,
    module_bot,
    orders_noted,
    payload_of,
    post,
    sandbox_calls,
    status_of,
    submission_body,
)
from tests.attacks.serve_process import ServeProcess
from tests.e2e.harness import ADMIN, APPROVER, BOB, CHEN, MARIA, message_text


@dataclass
class Left:
    """What the killed bot left, and what was seen before and after the restart."""

    cancelled: str = ""  # the reward whose cancel was confirmed before the kill
    cancel_key: str = ""  # the confirmation's response_url
    unknown_key: str = ""  # the journal key of a click for a button gone from the code
    unknown_url: str = ""
    given_up_key: str = ""  # an entry that failed at every start
    given_up_url: str = ""
    damaged_key: str = ""  # an entry whose body is damaged on disk
    unhandled_key: str = ""  # a shortcut no listener takes
    unhandled_state: list = field(default_factory=list)  # its entry, as the request ended
    told: dict[str, Told] = field(default_factory=dict)
    points_before: int = 0


def rewrite(serve: ServeProcess, key: str, *, body: str, **columns: Any) -> None:
    """Make a finished entry pending again, with `body` as its stored body (the bot is down)."""
    sets = ", ".join(f"{name} = ?" for name in columns)
    with closing(sqlite3.connect(journal_path(serve))) as db, db:
        changed = db.execute(
            "UPDATE intake SET state = 'pending', outcome = NULL, finished_at = NULL, body = ?"
            + (f", {sets}" if sets else "")
            + " WHERE key = ?",
            (body, *columns.values(), key),
        ).rowcount
    assert changed == 1, key


def age(serve: ServeProcess, key: str) -> None:
    with closing(sqlite3.connect(journal_path(serve))) as db, db:
        aged = db.execute(
            "UPDATE intake SET received_at = datetime(received_at, '-1 hour') WHERE key = ?",
            (key,),
        ).rowcount
    assert aged == 1


def a_click(serve: ServeProcess, message: dict[str, Any]) -> tuple[bytes, str, str]:
    """A harmless journaled click (Approve on a reward that isn't there), done: its body, its
    journal key and its response_url's key."""
    body, url = click_body(
        serve, user=APPROVER, action=ActionId.APPROVE, value="ZZZZZZ", message=message
    )
    assert post(serve, body).status_code == 200
    assert url is not None
    return body, f"action:{payload_of(body)['actions'][0]['action_ts']}", url


@pytest.fixture(scope="module")
def left(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ServeProcess, Left]]:
    with module_bot(tmp_path_factory, "house-resume", REWARD_ALLOWANCE="0") as serve:
        seen = Left()
        ws = serve.fake.workspace
        _, request = give_big(serve, "a request for the clicks")
        # a click for a button the next version no longer has, and one that failed at every
        # start: both were journaled clicks, done; they are made pending again below
        unknown_body, seen.unknown_key, seen.unknown_url = a_click(serve, request)
        given_up_body, seen.given_up_key, seen.given_up_url = a_click(serve, request)
        # a shortcut, done; its stored body is damaged below
        trigger = ws.issue_trigger(MARIA)
        shortcut = payloads.global_shortcut(
            ws, user_id=MARIA, callback_id="send_reward", trigger_id=trigger
        )
        assert post(serve, interaction(shortcut)).status_code == 200
        seen.damaged_key = f"shortcut:{trigger}"
        # a cancel confirmed: Xoxoday withdraws the points and never answers; SIGKILL then
        seen.cancelled = give_sent(serve, "cancelled while the bot died", to=CHEN)
        question, button = cancel_question(serve, seen.cancelled, "given by mistake")
        serve.settle()
        seen.points_before = serve.sandbox.state.points_of("chen@acme.test")
        seen.told = {who: Told(serve, who) for who in (ADMIN, APPROVER, BOB, CHEN, MARIA)}
        # a shortcut no listener takes (the app's settings name one the code doesn't have)
        trigger = ws.issue_trigger(BOB)
        retired = payloads.global_shortcut(
            ws, user_id=BOB, callback_id="retired_shortcut", trigger_id=trigger
        )
        post(serve, interaction(retired))
        seen.unhandled_key = f"shortcut:{trigger}"
        seen.unhandled_state = journal(serve, seen.unhandled_key)
        serve.sandbox.faults.set("cancelBalance", hang=True, apply_first=True, count=1)
        body, url = click_body(
            serve,
            user=ADMIN,
            action=ActionId.CANCEL_CONFIRM,
            value=button["value"],
            message=question,
        )
        assert url is not None
        seen.cancel_key = url
        assert post(serve, body).status_code == 200
        serve.wait_until(
            lambda: serve.sandbox.state.points_of("chen@acme.test") < seen.points_before
        )
        serve.kill()
        # as the next start finds the journal
        age(serve, f"action:{payload_of(body)['actions'][0]['action_ts']}")
        unknown = payload_of(unknown_body)
        unknown["actions"][0]["action_id"] = "reward_escalate"
        rewrite(serve, seen.unknown_key, body=json.dumps(unknown))
        rewrite(serve, seen.given_up_key, body=json.dumps(payload_of(given_up_body)), resumes=3)
        rewrite(serve, seen.damaged_key, body=json.dumps(shortcut)[:80])
        serve.start()
        serve.settle()
        yield serve, seen


def test_a_cancel_whose_response_url_expired_is_finished_once_and_told_by_dm(
    left: tuple[ServeProcess, Left],
) -> None:
    serve, seen = left
    assert status_of(serve, seen.cancelled) == "cancelled"
    assert serve.sandbox.state.points_of("chen@acme.test") == seen.points_before - 5  # once
    assert len([t for t in seen.told[CHEN].since() if "were withdrawn" in t]) == 1
    summary = seen.told[ADMIN].since()
    assert len(summary) == 1 and seen.cancelled in summary[0]  # by DM ...
    assert serve.fake.responses(seen.cancel_key) == []  # ... not through the expired URL
    assert [s for _, s, _, _ in journal(serve, "action:%") if s == "pending"] == []


def test_a_click_for_a_button_gone_from_the_code_is_given_up_and_said_once(
    left: tuple[ServeProcess, Left],
) -> None:
    serve, seen = left
    [(_, state, outcome, resumes)] = journal(serve, seen.unknown_key)
    assert (state, outcome, resumes) == ("done", "abandoned", 1)
    said = [message_text(r["body"]) for r in serve.fake.responses(seen.unknown_url)]
    assert said.count(NOT_FINISHED) == 1


def test_an_entry_that_failed_at_every_start_is_given_up_without_running_again(
    left: tuple[ServeProcess, Left],
) -> None:
    serve, seen = left
    [(_, state, outcome, resumes)] = journal(serve, seen.given_up_key)
    assert (state, outcome, resumes) == ("done", "abandoned", MAX_RESUMES + 1)
    said = [message_text(r["body"]) for r in serve.fake.responses(seen.given_up_url)]
    assert said[1:] == [NOT_FINISHED]  # after its first answer, only that it was given up


def test_an_entry_damaged_on_disk_is_set_aside_and_its_person_told(
    left: tuple[ServeProcess, Left],
) -> None:
    serve, seen = left
    [(_, state, outcome, _)] = journal(serve, seen.damaged_key)
    assert (state, outcome) == ("done", "unreadable")
    assert seen.told[MARIA].since() == [NOT_FINISHED]


def test_a_request_no_listener_takes_is_not_left_for_a_restart(
    left: tuple[ServeProcess, Left],
) -> None:
    _, seen = left
    # not recorded at all (no listener takes it), or recorded and finished: never pending
    assert [s for _, s, _, _ in seen.unhandled_state if s != "done"] == []
    # Bob hears of the cancel of his reward (below), and never that a restart cut his shortcut
    assert [t for t in seen.told[BOB].since() if "cancelled" not in t] == []


def test_a_form_accepted_before_a_crash_is_not_dropped_when_its_checks_fail_on_resume(
    make_serve: Callable[..., ServeProcess],
) -> None:
    serve = make_serve(REWARD_ALLOWANCE="0", REWARD_GIFT_MONTHLY_CAP="100000")
    view, values = gift_form(serve, "a gift the restart dropped")
    serve.settle()
    admin = Told(serve, ADMIN)
    serve.fake.slow_next("users.info", seconds=5)  # the order waits for the sender's profile
    body = submission_body(serve, user=ADMIN, view=view, values=values)
    assert ack_of(post(serve, body)) == {}  # accepted: the form closes
    serve.wait_until(lambda: serve.fake.held("users.info") == 1)
    serve.kill()  # the form closed: accepted; the order not yet made
    serve.sandbox.faults.set("getVouchers", error="503")  # Xoxoday's catalogue is down
    serve.start()
    serve.settle()
    assert not orders_noted(serve, "a gift the restart dropped")  # the checks refused it
    [told] = [t for t in admin.since() if "restarted while I was handling your form" in t]
    assert "Nothing was sent or ordered; please open the form again." in told
    assert "catalogue" in told.lower() or "xoxoday" in told.lower()  # the field's own error


# ── several processes on PostgreSQL ──────────────────────────────────────────────────────


@pytest.mark.postgres
def test_two_processes_starting_over_one_journal_resume_each_request_once(
    request: pytest.FixtureRequest, make_serve: Callable[..., ServeProcess]
) -> None:
    """Both read the same unfinished entries, and both try to take the first at the same
    moment (the test holds its row until both wait for it): one takes each entry."""
    rules = {"REWARD_ALLOWANCE": "0"}
    with on_database(request, make_serve, "postgresql", **rules) as (first, sql):
        first.start()
        givers = [BOB, CHEN, MARIA, ADMIN]
        first.fake.slow_next("users.info", seconds=8, count=len(givers))  # the gives wait
        keys = []
        for n, giver in enumerate(givers):
            to = MARIA if giver != MARIA else BOB
            body, key = command_body(first, f"<@{to}> 2 left by the first process {n}", user=giver)
            assert post(first, body).status_code == 200
            keys.append(key)
        first.wait_until(lambda: first.fake.held("users.info") == len(givers))
        first.kill()
        assert sql("SELECT COUNT(*) FROM intake WHERE state = 'pending'") == [(len(givers),)]
        others = []
        for name in ("second", "third"):
            settings = {k: v for k, v in first.settings.items() if k != "DATABASE_URL"}
            other = make_serve(start=False, database_url=first.database_url, **settings)
            other.tmp_path = first.tmp_path / name
            other.tmp_path.mkdir()
            others.append(other)
        holder = create_engine(first.database_url, poolclass=NullPool)
        try:
            with holder.connect() as held:
                held.begin()
                me = held.execute(text("SELECT pg_backend_pid()")).scalar()
                held.execute(text("SELECT id FROM intake WHERE state = 'pending' FOR UPDATE"))
                for other in others:
                    other.start(wait=False)
                # the sessions waiting for the test's row, or for one that waits for it
                # (asked on a connection of its own: a transaction sees one snapshot of it)
                waiting = (
                    "WITH w AS (SELECT pid FROM pg_stat_activity"
                    f" WHERE {me} = ANY(pg_blocking_pids(pid)))"
                    " SELECT (SELECT COUNT(*) FROM w) + (SELECT COUNT(*) FROM pg_stat_activity"
                    " WHERE pg_blocking_pids(pid) && ARRAY(SELECT pid FROM w))"
                )
                first.wait_until(lambda: sql(waiting) == [(2,)], timeout=60)
                held.rollback()  # both now take the first entry at once
        finally:
            holder.dispose()

        def done() -> bool:
            return (
                sql("SELECT COUNT(*) FROM intake WHERE state = 'pending'") == [(0,)]
                and not (
                    sql("SELECT COUNT(*) FROM rewards WHERE status IN ('queued', 'sending')")[0][0]
                )
            )

        first.wait_until(done, timeout=60)
        for n in range(len(givers)):
            citation = f"left by the first process {n}"
            assert sql(f"SELECT COUNT(*) FROM rewards WHERE citation = '{citation}'") == [(1,)]
            assert paid(first, citation) == 1
        for key in keys:  # each giver answered once, by one of the two
            assert len(first.fake.responses(key)) == 1, key
        resumed = [
            line
            for other in others
            for line in other.log(400).splitlines()
            if "resuming command:/reward" in line
        ]
        assert len(resumed) == len(givers), resumed


def paid(serve: ServeProcess, citation: str) -> int:
    return sum(
        1
        for send in sandbox_calls(serve, "sendBalance")
        if send.get("status") == 200
        for r in send["variables"]["recipients"]
        if r.get("citation") == citation
    )
