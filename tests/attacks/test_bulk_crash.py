"""SIGKILL in the middle of delivering a bulk file, then a restart: every row is paid exactly
once, the file's one progress message ends done, and the outcomes CSV says so.

The bot is the real `rewardbot serve` process. The admin uploads a file of ROWS awards through
the form, previews it and presses Send; the sandbox answers each sendBalance after 150 ms, and
the process is killed with SIGKILL once about a third of the rows have reached Xoxoday. Started
again on the same database, it carries on: rows that were mid-send are in doubt and settled
from Xoxoday's payment report (paid, or proven unpaid and sent again), the others delivered.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.simulators.fakeslack import FakeSlack, Workspace
from bot.simulators.plum_sandbox import SandboxServer
from bot.slack.ids import ActionId, BlockId, CallbackId
from tests.attacks.conftest import DATABASES, Query, on_database
from tests.attacks.serve_process import ServeProcess
from tests.e2e.harness import ADMIN, message_text

ROWS = 60
KILL_AFTER_SENDS = 20
PEOPLE = [f"UBULK{n:03d}" for n in range(1, ROWS + 1)]


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    ws = Workspace.demo()
    for uid in PEOPLE:
        ws.add_user(
            id=uid, name=uid.lower(), real_name=f"Bulk {uid[-3:]}", email=f"{uid}@acme.test"
        )
    with FakeSlack(workspace=ws) as fake:
        yield fake


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[SandboxServer]:
    server = SandboxServer(state_path=tmp_path / "sandbox.json", rate_limits=False, latency_ms=150)
    server.start()
    yield server
    server.stop()


def the_file() -> bytes:
    rows = [f"{uid}@acme.test,{n % 7 + 1},bulk crash row {n:03d}" for n, uid in enumerate(PEOPLE)]
    return ("recipient,points,reason\n" + "\n".join(rows) + "\n").encode()


def admin_dm(serve: ServeProcess, marker: str, timeout: float = 30.0) -> dict[str, Any]:
    return serve.wait(
        lambda: next((m for m in serve.fake.dms_to(ADMIN) if marker in message_text(m)), None),
        timeout=timeout,
    )


def paid(serve: ServeProcess) -> Counter[str]:
    """Citations Xoxoday took (answered 200), each as often as it was paid."""
    return Counter(
        r["citation"]
        for call in serve.sends()
        if call["status"] == 200
        for r in call["variables"].get("recipients")
        or call["variables"]["recipients_data"]["recipients"]
    )


@pytest.fixture(params=DATABASES)
def ledger(
    request: pytest.FixtureRequest, make_serve: Callable[..., ServeProcess]
) -> Iterator[tuple[ServeProcess, Query]]:
    settings = {
        "REWARD_IN_DOUBT_ADMIN_MINUTES": "0.5",  # settled from Xoxoday's records in seconds
        "REWARD_APPROVAL_THRESHOLD": "1000000",
        "REWARD_ALLOWANCE": "0",
        # One row a call: 60 calls for the file, so the kill falls in the middle of it (at the
        # default 50, the file goes in two calls). A kill in the middle of a batched call is
        # tests/attacks/test_batch_crash.py's.
        "PLUM_SEND_BATCH_MAX": "1",
    }
    with on_database(request, make_serve, request.param, **settings) as (serve, sql):
        yield serve.start(), sql


def test_sigkill_mid_delivery_of_a_file_pays_every_row_exactly_once(
    ledger: tuple[ServeProcess, Query], fake: FakeSlack
) -> None:
    serve, sql = ledger
    serve.driver.command("bulk", user_id=ADMIN, channel_id="C0GENERAL")
    view = serve.wait(lambda: (fake.modal_stack(ADMIN) or [None])[-1])
    assert view["callback_id"] == CallbackId.BULK_MODAL
    item = fake.upload_from(ADMIN, "crash.csv", the_file())
    values = {
        str(BlockId.BULK_FILE): {
            str(ActionId.BULK_FILE_INPUT): {"type": "file_input", "files": [item]}
        }
    }
    assert serve.driver.view_submission(user_id=ADMIN, view=view, values=values).status_code == 200
    preview = admin_dm(serve, "is ready")
    assert f"*{ROWS}* awards" in message_text(preview)
    [short] = [
        e["value"]
        for b in preview["blocks"]
        for e in b.get("elements") or []
        if e.get("action_id") == ActionId.BULK_SEND
    ]
    click = serve.driver.block_action(
        user_id=ADMIN, action_id=ActionId.BULK_SEND, value=short, message=preview
    )
    assert click.status_code == 200

    serve.wait_until(lambda: len(serve.sends()) >= KILL_AFTER_SENDS, timeout=60, every=0.02)
    serve.kill()
    before = len(paid(serve))
    assert before < ROWS, "every row was paid before the kill: nothing was tested"
    assert sql("SELECT COUNT(*) FROM bulk_rows")[0][0] == ROWS  # all queued at once

    serve.start()  # the same database: resumes what the killed process left
    serve.wait_until(
        lambda: sql("SELECT status FROM bulk_awards") == [("done",)], timeout=150, every=0.5
    )

    once = paid(serve)
    wanted = {f"bulk crash row {n:03d}" for n in range(ROWS)}
    assert set(once) == wanted
    assert [c for c, n in once.items() if n != 1] == []  # every row paid exactly once
    for n, uid in enumerate(PEOPLE):
        assert serve.sandbox.state.points_of(f"{uid}@acme.test") == n % 7 + 1
    statuses = sql("SELECT status, COUNT(*) FROM rewards GROUP BY status")
    assert statuses == [("sent", ROWS)]

    done = admin_dm(serve, "Done: file")
    assert done["ts"] == preview["ts"]  # the one progress message, updated in place
    assert f"{ROWS} awards: {ROWS} sent" in message_text(done)
    (upload,) = [f for f in fake.files if f["filename"].endswith("-outcomes.csv")]
    rows = list(csv.DictReader(io.StringIO(upload["content"].decode())))
    assert len(rows) == ROWS and {r["outcome"] for r in rows} == {"sent"}
    assert not [t for t in serve.dm_texts(ADMIN) if "in doubt" in t and "It was sent" in t]
