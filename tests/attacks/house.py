"""What the attacks on the house (issue 19: the gate, Bolt, the intake journal, the one
start-up) share: one `rewardbot serve` per test module, signed requests built as Slack builds
them and delivered as often as Slack may deliver them, and the journal read back.

A module's tests share its bot, so each test uses its own trigger ids, citations and reward
ids, and counts what it caused (never totals).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest

from bot.simulators.fakeslack import FakeSlack, Workspace, payloads, sign_request
from bot.simulators.plum_sandbox import SandboxServer
from bot.slack.ids import ActionId
from tests.attacks.serve_process import ServeProcess
from tests.e2e.harness import APPROVER, BOB, SIGNING_SECRET, actions_in, message_text

FORM = "application/x-www-form-urlencoded"


def module_bot(
    tmp_path_factory: pytest.TempPathFactory, name: str, **settings: str
) -> Iterator[ServeProcess]:
    """The fake Slack, the sandbox and a started `rewardbot serve` for a whole module."""
    tmp = tmp_path_factory.mktemp(name)
    with FakeSlack(workspace=Workspace.demo()) as fake:
        sandbox = SandboxServer(state_path=tmp / "sandbox.json", rate_limits=False)
        sandbox.start()
        serve = ServeProcess(tmp_path=tmp, fake=fake, sandbox=sandbox, **settings)
        try:
            yield serve.start()
        finally:
            serve.kill()
            sandbox.stop()


# ── signed requests, delivered as Slack delivers them ────────────────────────────────────


def signed_headers(body: bytes, *, retry: int | None = None) -> dict[str, str]:
    headers = {"Content-Type": FORM, **sign_request(signing_secret=SIGNING_SECRET, body=body)}
    if retry:
        headers["X-Slack-Retry-Num"] = str(retry)
        headers["X-Slack-Retry-Reason"] = "http_timeout"
    return headers


def post(serve: ServeProcess, body: bytes, *, retry: int | None = None) -> httpx.Response:
    return serve.post(body, signed_headers(body, retry=retry))


def deliver(
    serve: ServeProcess, body: bytes, *, times: int, together: bool
) -> list[httpx.Response]:
    """The same request `times` times, as Slack retries it (the repeats carry
    X-Slack-Retry-Num), all at once (`together`) or one after another."""
    if not together:
        return [post(serve, body, retry=n or None) for n in range(times)]
    start = threading.Barrier(times)

    def send(n: int) -> httpx.Response:
        start.wait()
        return post(serve, body, retry=n or None)

    with ThreadPoolExecutor(max_workers=times) as pool:
        return list(pool.map(send, range(times)))


def interaction(payload: Mapping[str, Any]) -> bytes:
    return urlencode({"payload": json.dumps(payload)}).encode()


def command_body(
    serve: ServeProcess, text: str, *, user: str = BOB, trigger: str | None = None
) -> tuple[bytes, str]:
    """A signed-to-be `/reward` form and the key of its response_url."""
    ws = serve.fake.workspace
    trigger = trigger or ws.issue_trigger(user)
    key = f"cmd-{trigger}"
    form = payloads.slash_command(
        ws,
        text=text,
        user_id=user,
        channel_id="C0GENERAL",
        command="/reward",
        response_url=serve.fake.response_url(key, channel="C0GENERAL", user=user),
        trigger_id=trigger,
    )
    return urlencode(form).encode(), key


def click_body(
    serve: ServeProcess,
    *,
    user: str,
    action: str,
    value: str | dict[str, Any],
    message: dict[str, Any] | None = None,
    view: dict[str, Any] | None = None,
) -> tuple[bytes, str | None]:
    """A button click (or a select) in `message` or `view`, and its response_url's key."""
    ws = serve.fake.workspace
    blocks = (view or message or {}).get("blocks") or []
    found = payloads.find_element(blocks, action)
    channel = (message or {}).get("channel")
    key = None
    url = None
    if message is not None and channel:
        key = f"act-{ws.new_id('K')}"
        original = {
            "channel": channel,
            "ts": message["ts"],
            "ephemeral": message.get("subtype") == "ephemeral",
        }
        url = serve.fake.response_url(key, channel=channel, user=user, original=original)
    payload = payloads.block_actions(
        ws,
        user_id=user,
        actions=[
            payloads.action(
                action_id=action,
                block_id=found[0] if found else "",
                value=value,
                element=found[1] if found else None,
            )
        ],
        trigger_id=ws.issue_trigger(user),
        response_url=url,
        channel_id=channel,
        message=message,
        view=view,
    )
    return interaction(payload), key


def submission_body(
    serve: ServeProcess, *, user: str, view: dict[str, Any], values: dict[str, Any]
) -> bytes:
    ws = serve.fake.workspace
    payload = payloads.view_submission(
        ws, user_id=user, view=view, values=values, trigger_id=ws.issue_trigger(user)
    )
    return interaction(payload)


def ack_of(response: httpx.Response) -> dict[str, Any]:
    """A 200's acknowledgement as Slack reads it ({} for an empty one)."""
    assert response.status_code == 200, (response.status_code, response.text)
    if not response.content.strip():
        return {}
    try:
        return dict(response.json())
    except ValueError:
        return {"text": response.text}


# ── what the bot holds ───────────────────────────────────────────────────────────────────


def journal(serve: ServeProcess, key_like: str = "%") -> list[tuple[str, str, str | None, int]]:
    """(key, state, outcome, resumes) of the journal's entries whose key is like `key_like`."""
    rows = serve.sql_intake(
        "SELECT key, state, outcome, resumes FROM intake WHERE key LIKE ? ORDER BY id", key_like
    )
    return [(str(k), str(s), o, int(r)) for k, s, o, r in rows]


def nothing_pending(serve: ServeProcess) -> bool:
    return serve.sql_intake("SELECT COUNT(*) FROM intake WHERE state = 'pending'") == [(0,)]


def journal_path(serve: ServeProcess) -> Path:
    return serve.db_path.with_name(serve.db_path.stem + ".intake.db")


def reward_ids(serve: ServeProcess) -> set[str]:
    return {str(r[0]) for r in serve.sql("SELECT short_id FROM rewards")}


def status_of(serve: ServeProcess, short: str) -> str:
    rows = serve.sql("SELECT status FROM rewards WHERE short_id = ?", short)
    return str(rows[0][0]) if rows else ""


def rewards_citing(serve: ServeProcess, citation: str) -> list[tuple[str, str]]:
    """(short id, status) of the rewards whose citation is `citation`."""
    rows = serve.sql("SELECT short_id, status FROM rewards WHERE citation = ?", citation)
    return [(str(s), str(t)) for s, t in rows]


def paid_for(serve: ServeProcess, citation: str) -> int:
    """How many times Xoxoday accepted a send for `citation`."""
    return sum(
        1
        for send in serve.sends()
        if send.get("status") == 200
        for r in send["variables"]["recipients"]
        if r.get("citation") == citation
    )


def give_big(serve: ServeProcess, citation: str, *, amount: int = 700) -> tuple[str, dict]:
    """A reward over the approval threshold: its short id and the approver's request."""
    before = reward_ids(serve)
    serve.driver.command(f"<@UMARIA01> {amount} {citation}", user_id=BOB)
    short = serve.wait_until(lambda: sorted(reward_ids(serve) - before))[0]

    def request() -> list[dict[str, Any]]:
        return [
            m
            for m in serve.fake.dms_to(APPROVER)
            if short in message_text(m) and ActionId.APPROVE in actions_in(m)
        ]

    return short, serve.wait(request)[0]


def texts(serve: ServeProcess, user: str, needle: str) -> list[str]:
    """What `user` was told (DMs, ephemerals, response_url posts) that mentions `needle`."""
    seen = [*serve.dm_texts(user), *serve.replies_to(user)]
    return [t for t in seen if needle in t]
