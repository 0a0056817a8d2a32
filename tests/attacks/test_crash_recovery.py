"""SIGKILL in the middle of a burst of `/reward` commands, then a restart: every command the bot
acknowledged is sent exactly once (or refused with a message), none is lost, none is paid twice,
and every giver hears how it ended.

The bot is the real `rewardbot serve` process; 200 signed commands go out 25 at a time; the
process is killed with SIGKILL once about half of them are acknowledged (deliveries to the
sandbox, which answers after 40 ms, are in flight then), and started again on the same database.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest

from bot.simulators.fakeslack import FakeSlack, Workspace, payloads, sign_request
from bot.simulators.plum_sandbox import SandboxServer
from tests.attacks.conftest import DATABASES, Query, on_database
from tests.attacks.serve_process import ServeProcess
from tests.e2e.harness import ADMIN, BOB, MARIA, SIGNING_SECRET, message_text

COMMANDS = 200
IN_FLIGHT = 25
KILL_AFTER_ACKS = 100
PEOPLE = [f"UCRASH{n:03d}" for n in range(1, 13)]


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    ws = Workspace.demo()
    for uid in PEOPLE:
        ws.add_user(
            id=uid, name=uid.lower(), real_name=f"Crash {uid[-3:]}", email=f"{uid}@acme.test"
        )
    with FakeSlack(workspace=ws) as fake:
        yield fake


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[SandboxServer]:
    server = SandboxServer(state_path=tmp_path / "sandbox.json", rate_limits=False, latency_ms=40)
    server.start()
    yield server
    server.stop()


@dataclass(frozen=True)
class Command:
    index: int
    giver: str
    recipient: str
    trigger: str
    response_key: str

    @property
    def citation(self) -> str:
        return f"thanks for crash step {self.index:03d}"


def commands(fake: FakeSlack) -> list[Command]:
    out = []
    for i in range(COMMANDS):
        giver = PEOPLE[i % len(PEOPLE)]
        recipient = PEOPLE[(i + 1 + i // len(PEOPLE)) % len(PEOPLE)]
        if recipient == giver:
            recipient = PEOPLE[(PEOPLE.index(giver) + 1) % len(PEOPLE)]
        out.append(Command(i, giver, recipient, f"crash.{i}.{1_800_000_000 + i}", f"crash-{i}"))
    for c in out:
        fake.response_url(c.response_key, channel="C0GENERAL", user=c.giver)
    return out


def signed_form(fake: FakeSlack, command: Command) -> tuple[bytes, dict[str, str]]:
    form = payloads.slash_command(
        fake.workspace,
        text=f"<@{command.recipient}> 5 {command.citation}",
        user_id=command.giver,
        channel_id="C0GENERAL",
        command="/reward",
        response_url=fake.response_url(command.response_key),
        trigger_id=command.trigger,
    )
    body = urlencode(form).encode()
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    headers.update(sign_request(signing_secret=SIGNING_SECRET, body=body))
    return body, headers


def burst(serve: ServeProcess, fake: FakeSlack, todo: list[Command]) -> set[int]:
    """Send every command, IN_FLIGHT at a time; SIGKILL the bot after KILL_AFTER_ACKS acks.
    Returns the indexes the bot acknowledged (HTTP 200 with its "one moment" answer)."""
    acked: set[int] = set()
    lock = threading.Lock()
    killed = threading.Event()
    url = serve.events_url

    def send(command: Command) -> None:
        if killed.is_set():
            return
        body, headers = signed_form(fake, command)
        try:
            with httpx.Client(timeout=10.0) as client:
                response = client.post(url, content=body, headers=headers)
        except httpx.HTTPError:
            return  # in flight when the process died: never acknowledged
        if response.status_code == 200 and response.text == "":  # acked; the answer follows
            with lock:
                acked.add(command.index)
                if len(acked) >= KILL_AFTER_ACKS and not killed.is_set():
                    killed.set()
                    serve.kill()

    with ThreadPoolExecutor(max_workers=IN_FLIGHT) as pool:
        list(pool.map(send, todo))
    assert killed.is_set(), "the burst ended before the bot could be killed"
    return acked


@pytest.fixture(params=DATABASES)
def ledger(
    request: pytest.FixtureRequest, make_serve: Callable[..., ServeProcess]
) -> Iterator[tuple[ServeProcess, Query, Query]]:
    """The bot (not started) on each database; queries of its ledger and of its journal (its
    own file beside a SQLite ledger, the ledger's intake table on PostgreSQL)."""
    rules = {"REWARD_ALLOWANCE": "0", "REWARD_APPROVAL_THRESHOLD": "1000000"}
    with on_database(request, make_serve, request.param, **rules) as (serve, sql):
        yield serve, sql, serve.sql_intake if request.param == "sqlite" else sql


def settled(sql: Query, journal: Query) -> bool:
    busy = sql("SELECT COUNT(*) FROM rewards WHERE status IN ('queued', 'sending')")[0][0]
    unfinished = journal("SELECT COUNT(*) FROM intake WHERE state = 'pending'")[0][0]
    return busy == 0 and unfinished == 0


def test_sigkill_mid_burst_loses_nothing_and_pays_nothing_twice(
    ledger: tuple[ServeProcess, Query, Query], fake: FakeSlack, sandbox: SandboxServer
) -> None:
    serve, sql, journal = ledger
    serve.start()
    todo = commands(fake)
    acked = burst(serve, fake, todo)
    assert KILL_AFTER_ACKS <= len(acked) < COMMANDS

    serve.start()  # the same database: resumes what the killed process left
    serve.wait_until(lambda: settled(sql, journal), timeout=120, every=0.5)

    # The ledger: one reward per acknowledged command (by Slack's trigger id), none twice.
    rows = sql("SELECT idempotency_key, status, short_id FROM rewards")
    keys = Counter(key for key, _, _ in rows)
    assert all(n == 1 for n in keys.values()), "a command was given twice"
    by_trigger = {key.removeprefix("command:"): (status, short) for key, status, short in rows}
    lost = [c.index for c in todo if c.index in acked and c.trigger not in by_trigger]
    assert lost == [], f"acknowledged but never given: {lost}"

    # What Xoxoday received: each citation at most once; every `sent` reward exactly once.
    paid = Counter(r["citation"] for send in serve.sends() for r in send["variables"]["recipients"])
    assert all(n == 1 for n in paid.values()), "a reward was paid twice"
    in_doubt = []
    for c in todo:
        if c.trigger not in by_trigger:
            continue
        status, short = by_trigger[c.trigger]
        assert status in ("sent", "in_doubt"), (c.index, status)
        if status == "sent":
            assert paid[c.citation] == 1, f"reward {short} is sent but Xoxoday never got it"
        else:
            in_doubt.append(short)  # mid-send at the kill: Xoxoday has it at most once
            assert paid[c.citation] <= 1

    # Sends in flight at the kill are in doubt, and the admins were told about each. Each
    # delivery thread had one call in flight, carrying one reward or several together.
    calls = {
        batch or short
        for short, batch in sql("SELECT short_id, send_batch FROM rewards")
        if short in in_doubt
    }
    assert len(calls) <= 4  # the delivery threads
    if in_doubt:
        alerts = "\n".join(serve.dm_texts(ADMIN))
        assert all(short in alerts for short in in_doubt)

    # Every giver whose command was acknowledged heard how it ended, through the command's
    # response_url (the killed run's answer, or the resumed one's).
    for c in todo:
        if c.index not in acked:
            continue
        said = [message_text(r["body"]) for r in fake.responses(c.response_key)]
        dms = [t for t in serve.dm_texts(c.giver) if by_trigger[c.trigger][1] in t]
        assert said or dms, f"the giver of command {c.index} was never told"
    assert "Traceback" not in serve.logs()


def test_sigterm_stops_serve_cleanly_after_its_work(serve: ServeProcess) -> None:
    """SIGTERM, what a platform sends to stop a process, lets the bot finish what it started
    and close its ledger and journal (uvicorn raises the signal again after its own shutdown,
    which would otherwise end the process before the bot's clean-up)."""
    serve.driver.command(f"<@{MARIA}> 10 before the redeploy", user_id=BOB)
    serve.wait(lambda: [t for t in serve.dm_texts(BOB) if "Sent!" in t])
    assert serve.stop() == 0
    assert "serve: stopped" in serve.logs()
    ledger = serve.db_path
    journal = ledger.with_name(ledger.stem + ".intake.db")
    left = [p.name for p in (ledger, journal) if p.with_name(p.name + "-wal").exists()]
    assert left == []  # every SQLite connection closed: nothing left to recover
