"""SIGKILL at several instants of a storm of every kind of request the intake journal records,
on the real `rewardbot serve`, each time restarted on the same database; then everything is
reconciled: every acknowledged request done exactly once (one reward per command and per
reward form, one decision per approval and per rejection, one cancel, one settlement, one link,
one gift order), nothing paid twice, none lost, every person told, nothing left pending.

Before the storm the bot is brought, the ordinary way, to where each request can be made:
approval requests waiting, reject forms open, cancel questions asked, rewards in doubt with
their alerts, reward, link and gift forms open. The storm goes out in three waves, all kinds
mixed, eight requests in flight, Xoxoday answering after 40 ms; each wave ends with SIGKILL once
a share of it is acknowledged, and a restart.
"""

from __future__ import annotations

import random
import threading
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

import httpx

from bot.slack.ids import ActionId
from bot.slack.request_entry import NOT_FINISHED
from tests.attacks.house import (
    cancel_question,
    click_body,
    command_body,
    gift_form,
    give_big,
    give_sent,
    in_doubt,
    link_form,
    link_values,
    reason,
    reject_modal,
    reward_modal,
    sandbox_calls,
    signed_headers,
    submission_body,
)
from tests.attacks.serve_process import ServeProcess
from tests.e2e.harness import ADMIN, APPROVER, BOB, CHEN, MARIA, message_text
from tests.e2e.modal_form import form

IN_FLIGHT = 8
KILL_AFTER = (2, 3, 4)  # how many of each wave's burst of commands are acknowledged at the kill
GIVERS = [BOB, CHEN, MARIA, ADMIN]


@dataclass
class Request:
    kind: str
    body: bytes
    who: str  # the person who sent it
    subject: str  # what reconciliation looks for: a citation, a reward id, a view id, a note
    url: str | None = None  # the key of its response_url on the fake Slack
    acked: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


def prepare(serve: ServeProcess) -> list[Request]:
    """Every request of the storm, made ready the way people get there."""
    out: list[Request] = []
    for n in range(20):
        giver = GIVERS[n % len(GIVERS)]
        to = MARIA if giver != MARIA else BOB
        citation = f"storm command {n}"
        body, url = command_body(serve, f"<@{to}> 5 {citation}", user=giver)
        out.append(Request("command", body, giver, citation, url))
    for n, giver in enumerate(GIVERS[:3]):
        to = MARIA if giver != MARIA else BOB
        view = reward_modal(serve, giver)
        values = form(recipients=[to], amount="7", citation=f"storm form {n}")
        body = submission_body(serve, user=giver, view=view, values=values)
        out.append(Request("form", body, giver, f"view:{view['id']}"))
    for n in range(3):
        short, request = give_big(serve, f"storm approval {n}")
        body, url = click_body(
            serve, user=APPROVER, action=ActionId.APPROVE, value=short, message=request
        )
        out.append(Request("approve", body, APPROVER, short, url))
    for n in range(2):
        short, request = give_big(serve, f"storm rejection {n}")
        view = reject_modal(serve, short, request)
        body = submission_body(serve, user=APPROVER, view=view, values=reason(f"no {n}"))
        out.append(Request("reject", body, APPROVER, short))
    for n in range(2):
        short = give_sent(serve, f"storm cancel {n}", to=CHEN)
        question, button = cancel_question(serve, short, f"storm {n}")
        body, url = click_body(
            serve,
            user=ADMIN,
            action=ActionId.CANCEL_CONFIRM,
            value=button["value"],
            message=question,
        )
        out.append(Request("cancel", body, ADMIN, short, url))
    for n, action in enumerate((ActionId.SETTLE_SENT, ActionId.SETTLE_FAILED)):
        short, alert = in_doubt(serve, f"storm settle {n}")
        body, url = click_body(serve, user=ADMIN, action=action, value=short, message=alert)
        out.append(Request("settle", body, ADMIN, short, url, extra={"action": action}))
    for _ in range(2):
        view = link_form(serve)
        body = submission_body(serve, user=ADMIN, view=view, values=link_values(MARIA))
        out.append(Request("link", body, ADMIN, f"view:{view['id']}"))
    for n in range(2):
        view, values = gift_form(serve, f"storm gift {n}")
        body = submission_body(serve, user=ADMIN, view=view, values=values)
        out.append(Request("gift", body, ADMIN, f"storm gift {n}"))
    return out


def wave(serve: ServeProcess, first: list[Request], burst: list[Request], kill_at: int) -> None:
    """Send `first` one after another (each acknowledged, its work under way), then `burst`,
    IN_FLIGHT at a time; SIGKILL once `kill_at` of the burst are acknowledged; start again.
    Slack takes a moment over message edits and ephemerals meanwhile, so the kill finds
    decisions, settlements and forms in the middle of telling people."""
    serve.fake.slow_next("chat.update", seconds=0.3, count=len(first))
    serve.fake.slow_next("chat.postEphemeral", seconds=0.3, count=len(first))
    for request in first:
        response = post_once(serve.events_url, request)
        assert response is not None and response.status_code == 200, request.kind
        request.acked = True
    lock = threading.Lock()
    killed = threading.Event()
    acked = [0]

    def send(request: Request) -> None:
        if killed.is_set():
            return
        response = post_once(serve.events_url, request)
        if response is None or response.status_code != 200:
            return  # in flight when the bot died: never acknowledged
        with lock:
            request.acked = True
            acked[0] += 1
            if acked[0] >= kill_at and not killed.is_set():
                killed.set()
                serve.kill()

    with ThreadPoolExecutor(max_workers=IN_FLIGHT) as pool:
        list(pool.map(send, burst))
    serve.kill()
    serve.start()


def post_once(url: str, request: Request) -> httpx.Response | None:
    try:
        with httpx.Client(timeout=10.0) as client:
            return client.post(url, content=request.body, headers=signed_headers(request.body))
    except httpx.HTTPError:
        return None


def settled(serve: ServeProcess) -> bool:
    pending = serve.sql_intake("SELECT COUNT(*) FROM intake WHERE state = 'pending'")[0][0]
    busy = serve.sql(
        "SELECT COUNT(*) FROM rewards WHERE status IN ('queued', 'sending', 'approved')"
    )[0][0]
    return pending == 0 and busy == 0


def test_sigkill_in_a_storm_of_every_kind_loses_nothing_and_does_nothing_twice(
    make_serve: Callable[..., ServeProcess],
) -> None:
    serve = make_serve(REWARD_ALLOWANCE="0", REWARD_GIFT_MONTHLY_CAP="100000")
    requests = prepare(serve)
    serve.settle()
    serve.sandbox.faults.latency_ms = 40
    commands = [r for r in requests if r.kind == "command"]
    others = [r for r in requests if r.kind != "command"]
    random.Random(19).shuffle(others)
    for n, kill_at in enumerate(KILL_AFTER):
        wave(serve, others[n::3], commands[n::3], kill_at)
    serve.sandbox.faults.latency_ms = 0
    serve.wait_until(lambda: settled(serve), timeout=60, every=0.5)
    serve.settle()
    Reconcile(serve, requests).check()


class Reconcile:
    def __init__(self, serve: ServeProcess, requests: list[Request]) -> None:
        self.serve = serve
        self.requests = requests
        self.rewards = {
            str(key): (str(short), str(status))
            for key, short, status in serve.sql(
                "SELECT idempotency_key, short_id, status FROM rewards"
            )
        }
        self.paid = Counter(
            r["citation"]
            for send in sandbox_calls(serve, "sendBalance")
            if send.get("status") == 200
            for r in send["variables"]["recipients"]
        )

    def of(self, kind: str) -> list[Request]:
        return [r for r in self.requests if r.kind == kind]

    def check(self) -> None:
        serve = self.serve
        assert all(n == 1 for n in self.paid.values()), f"paid twice: {self.paid}"
        keys = Counter(str(k) for (k,) in serve.sql("SELECT idempotency_key FROM rewards"))
        assert all(n == 1 for n in keys.values())
        assert serve.sql_intake("SELECT COUNT(*) FROM intake WHERE state = 'pending'") == [(0,)]
        self.commands()
        self.forms()
        self.decisions()
        self.cancels()
        self.settlements()
        self.links_and_gifts()
        shown = [*serve.fake.messages(), *serve.fake.ephemerals()]
        shown += [r["body"] for r in serve.fake.responses()]
        given_up = [message_text(m) for m in shown if NOT_FINISHED in message_text(m)]
        assert given_up == [], "a request was given up after a restart"
        assert "Exception in ASGI application" not in serve.logs()

    def commands(self) -> None:
        for r in self.of("command"):
            trigger = dict(parse_qsl(r.body.decode()))["trigger_id"]
            found = self.rewards.get(f"command:{trigger}")
            if not r.acked:
                continue
            assert found is not None, f"acknowledged but never given: {r.subject}"
            short, status = found
            assert status in ("sent", "in_doubt"), (r.subject, status)
            if status == "sent":
                assert self.paid[r.subject] == 1, r.subject
            told = [message_text(x["body"]) for x in self.serve.fake.responses(r.url)]
            told += [t for t in self.serve.dm_texts(r.who) if short in t]
            assert told, f"the giver of {r.subject} was never told"

    def forms(self) -> None:
        for r in self.of("form"):
            found = self.rewards.get(r.subject)
            if r.acked:
                assert found is not None, f"an acknowledged form gave nothing: {r.subject}"
            if found is not None:
                assert found[1] in ("sent", "in_doubt"), found

    def decisions(self) -> None:
        for r in [*self.of("approve"), *self.of("reject")]:
            rows = self.serve.sql(
                "SELECT a.decision FROM approvals a JOIN rewards w ON w.id = a.reward_id"
                " WHERE w.short_id = ?",
                r.subject,
            )
            assert len(rows) <= 1, (r.subject, rows)
            if not r.acked:
                continue
            want = "approved" if r.kind == "approve" else "rejected"
            assert [d for (d,) in rows] == [want], (r.subject, rows)
            status = self.serve.sql("SELECT status FROM rewards WHERE short_id = ?", r.subject)
            assert status[0][0] in (("sent", "in_doubt") if r.kind == "approve" else ("rejected",))
            told = [t for t in self.serve.dm_texts(BOB) if r.subject in t and want in t]
            assert len(told) <= 1, f"the giver heard {r.subject} was {want} {len(told)} times"

    def cancels(self) -> None:
        for r in self.of("cancel"):
            status = self.serve.sql("SELECT status FROM rewards WHERE short_id = ?", r.subject)
            withdrawn = [
                t for t in self.serve.dm_texts(CHEN) if r.subject in t and "were withdrawn" in t
            ]
            assert len(withdrawn) <= 1, (r.subject, withdrawn)
            if r.acked:
                assert status == [("cancelled",)], (r.subject, status)
        cancelled = len(self.serve.sql("SELECT id FROM rewards WHERE status = 'cancelled'"))
        sent_to_chen = self.serve.sandbox.state.points_of("chen@acme.test")
        assert sent_to_chen == 5 * (2 - cancelled), "points withdrawn twice, or not at all"

    def settlements(self) -> None:
        for r in self.of("settle"):
            events = self.serve.sql(
                "SELECT COUNT(*) FROM audit_events WHERE action = 'reward.settled'"
                " AND subject_id = ?",
                r.subject,
            )[0][0]
            assert events <= 1, r.subject
            if r.acked:
                want = "sent" if r.extra["action"] == ActionId.SETTLE_SENT else "failed"
                status = self.serve.sql("SELECT status FROM rewards WHERE short_id = ?", r.subject)
                assert status == [(want,)], (r.subject, status)
                assert events == 1

    def links_and_gifts(self) -> None:
        serve = self.serve
        batches = Counter(str(k) for (k,) in serve.sql("SELECT request_key FROM link_batches") if k)
        for r in self.of("link"):
            mine = [k for k in batches if k.startswith(r.subject + ":")]
            assert len(mine) <= 1 and all(batches[k] == 1 for k in mine), mine
            if r.acked:
                assert mine, f"an acknowledged link form made nothing: {r.subject}"
        made = len(sandbox_calls(serve, "generateLink"))
        assert made <= sum(batches.values()), "Xoxoday was asked for links twice"
        for r in self.of("gift"):
            orders = serve.sql("SELECT po_number FROM orders WHERE note = ?", r.subject)
            assert len(orders) <= 1, (r.subject, orders)
            if r.acked:
                assert len(orders) == 1, f"an acknowledged gift form ordered nothing: {r.subject}"
