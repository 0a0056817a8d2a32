"""What operators watch, through the real `rewardbot serve`: /livez and /readyz with Xoxoday
down, a full disk and a schema that is behind; /metrics read with prometheus-client's own
parser after real work, its values checked against what the fake Slack, the sandbox and the
ledger saw; LOG_FORMAT=json read line by line."""

from __future__ import annotations

import json
import re
import secrets
import sqlite3
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families

from bot.simulators.fakeslack import FakeSlack
from bot.simulators.plum_sandbox import SandboxServer
from bot.slack.ids import ActionId
from storage.migrations import read_revisions
from tests.attacks.serve_process import ServeProcess
from tests.attacks.small_disk import SmallDisk
from tests.e2e.harness import ADMIN, BOB, BOT_TOKEN, CHEN, MARIA, SIGNING_SECRET
from tests.e2e.test_gifts import gift_dm, gift_for_maria

READY_WITHIN = 5.0
# Where a reward's life is logged: every line there about a reward names it (`reward_id`).
LIFECYCLE = {
    "bot.rewards.service",
    "bot.rewards.delivery",
    "bot.rewards.approvals",
    "bot.rewards.settle",
    "bot.rewards.cancel_service",
}  # the promise: a change shows in /readyz within 5 s


def ready_report(serve: ServeProcess) -> httpx.Response:
    return serve.get("/readyz")


def wait_ready(
    serve: ServeProcess, code: int, *, within: float = READY_WITHIN, **said: str
) -> httpx.Response:
    """Poll /readyz until it answers `code` (with the parts `said` as given); fail if that
    takes longer than `within`."""
    started = time.monotonic()
    while True:
        answer = ready_report(serve)
        body = answer.json()
        if answer.status_code == code and all(body.get(k) == v for k, v in said.items()):
            assert time.monotonic() - started < within, time.monotonic() - started
            return answer
        if time.monotonic() - started > within + 5:
            raise AssertionError(f"/readyz still {answer.status_code}: {answer.text}")
        time.sleep(0.1)


# ── /livez and /readyz ───────────────────────────────────────────────────────────────────


def test_xoxoday_down_is_reported_but_the_bot_stays_ready_and_queues(
    serve: ServeProcess, sandbox: SandboxServer
) -> None:
    live = serve.get("/livez")
    assert (live.status_code, live.json()) == (200, {"live": True})
    sandbox.stop()
    answer = serve.driver.command(f"<@{MARIA}> 5 while Xoxoday is down", user_id=BOB)
    assert answer.status_code == 200

    def xoxoday_unreachable() -> httpx.Response | None:
        report = ready_report(serve)
        said = report.json()
        ok = str(said.get("plum", "")).startswith("unreachable") and "delivery" in said
        return report if ok else None

    report = serve.wait_until(xoxoday_unreachable, timeout=30)
    assert report.status_code == 200
    body = report.json()
    assert body["ready"] is True
    assert (body["database"], body["intake"], body["schema"]) == ("ok", "ok", "current")
    assert body["delivery"].startswith("waiting: Xoxoday has not taken a send since")
    serve.wait_until(lambda: serve.statuses() == {"queued": 1})  # kept, to be sent later
    assert serve.get("/livez").status_code == 200
    samples = scrape(serve)  # /metrics is open without METRICS_TOKEN
    assert value(samples, "rewardbot_outbox_depth", kind="reward") == 1
    assert value(samples, "rewardbot_outbox_oldest_age_seconds", kind="reward") > 0
    unreachable = [
        (name, dict(labels))
        for (name, labels), count in samples.items()
        if name == "rewardbot_plum_calls_total" and ("outcome", "connection_error") in labels
    ]
    assert unreachable, samples
    # /healthz keeps its meaning for existing deployments: the whole picture, Xoxoday included
    health = serve.healthz()
    assert health.status_code == 503 and health.json()["plum"].startswith("unreachable")


def test_readiness_fails_within_5_s_of_a_full_disk_and_comes_back(
    on_disk, disk: SmallDisk, sandbox: SandboxServer
) -> None:
    serve: ServeProcess = on_disk()
    assert wait_ready(serve, 200).json()["database"] == "ok"
    disk.fill()
    unready = wait_ready(serve, 503).json()
    assert unready["ready"] is False
    assert unready["database"].startswith("can't take writes: the disk is full")
    assert unready["intake"].startswith("can't take writes: the disk is full")
    assert not str(unready["plum"]).startswith("unreachable")  # Xoxoday is not blamed
    assert serve.get("/livez").status_code == 200  # alive: a restart would not help
    disk.free()
    assert wait_ready(serve, 200).json()["database"] == "ok"


def test_readiness_fails_while_the_schema_is_behind_and_not_when_it_is_newer(
    serve: ServeProcess,
) -> None:
    graph = read_revisions()
    assert graph is not None
    followed = {down for downs in graph.values() for down in downs}
    (head,) = [r for r in graph if r not in followed]
    (older,) = graph[head]

    def record(revision: str) -> None:  # as a restore of an older backup would leave it
        with closing(sqlite3.connect(serve.db_path, timeout=10)) as db, db:
            db.execute("UPDATE alembic_version SET version_num = ?", (revision,))

    assert wait_ready(serve, 200).json()["schema"] == "current"
    record(older)
    behind = wait_ready(serve, 503).json()
    assert behind["schema"] == "behind this version: run `rewardbot migrate`"
    assert behind["database"] == "ok"
    record("f00dfacade00")  # migrated by a newer release during a rolling deploy
    newer = wait_ready(serve, 200).json()
    assert newer["schema"].startswith("migrated by a newer release")
    record(head)
    wait_ready(serve, 200, schema="current")


def test_a_crowd_at_the_probes_and_metrics_does_not_delay_slack(serve: ServeProcess) -> None:
    def probe(path: str) -> tuple[int, float]:
        started = time.monotonic()
        return serve.get(path).status_code, time.monotonic() - started

    def give(n: int) -> tuple[int, float]:
        started = time.monotonic()
        answer = serve.driver.command(f"<@{MARIA}> 1 probed crowd {n}", user_id=BOB)
        return answer.status_code, time.monotonic() - started

    with ThreadPoolExecutor(max_workers=90) as pool:
        probes = [pool.submit(probe, path) for path in ("/readyz", "/metrics", "/livez") * 25]
        acks = list(pool.map(give, range(8)))
        answered = [f.result() for f in probes]
    assert [code for code, _ in answered] == [200] * 75
    assert max(took for _, took in answered) < READY_WITHIN
    assert [code for code, _ in acks] == [200] * 8
    assert max(took for _, took in acks) < 3.0, acks  # Slack's deadline for an acknowledgement


# ── /metrics ─────────────────────────────────────────────────────────────────────────────


def scrape(
    serve: ServeProcess, token: str | None = None
) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample /metrics shows, read with prometheus-client's parser:
    {(name, sorted labels): value}."""
    answer = serve.get("/metrics", **({"Authorization": f"Bearer {token}"} if token else {}))
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/plain")
    samples = {}
    for family in text_string_to_metric_families(answer.text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples: dict, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_metrics_count_what_happened(make_serve, fake: FakeSlack, sandbox: SandboxServer) -> None:
    token = "metrics-" + secrets.token_hex(12)
    serve: ServeProcess = make_serve(METRICS_TOKEN=token, scheduler=True)
    assert serve.get("/metrics").status_code == 401
    refused = serve.get("/metrics", Authorization="Bearer wrong")
    assert refused.status_code == 401 and refused.headers["www-authenticate"] == "Bearer"
    assert token not in refused.text

    fake.fail_next("chat.postMessage", "ratelimited", retry_after=0)  # waited out, retried
    fake.fail_next("conversations.open", "internal_error")  # the first DM: told later
    for n in range(2):
        assert serve.driver.command(f"<@{MARIA}> 5 metrics {n}", user_id=BOB).status_code == 200
        serve.settle()
    sandbox.faults.set("sendBalance", error="500", count=1)
    assert serve.driver.command(f"<@{MARIA}> 5 metrics unsure", user_id=BOB).status_code == 200
    serve.settle()
    forged = serve.post(b"command=%2Freward", {"Content-Type": "application/x-www-form-urlencoded"})
    assert forged.status_code == 401
    serve.wait_until(
        lambda: (
            serve.sql("SELECT COUNT(*) FROM job_runs WHERE outcome = 'running'")[0][0] == 0
            and serve.sql("SELECT COUNT(*) FROM job_runs")[0][0] > 0
        )
    )  # the scheduler's catch-up at start ran the jobs whose latest time is within its grace

    samples = scrape(serve, token)

    # Slack's requests and their acknowledgements
    assert value(samples, "rewardbot_slack_requests_total", kind="command", status="200") == 3
    assert value(samples, "rewardbot_slack_requests_total", kind="unverified", status="401") == 1
    assert value(samples, "rewardbot_slack_ack_seconds_count", kind="command") == 3
    assert value(samples, "rewardbot_slack_ack_seconds_bucket", kind="command", le="3.0") == 3
    assert 0 < value(samples, "rewardbot_slack_ack_seconds_sum", kind="command") < 9

    # the ledger, as it is
    statuses = serve.statuses()
    assert statuses.get("sent") == 2, statuses
    for state in ("queued", "sending", "sent", "failed", "in_doubt", "pending_approval"):
        assert value(samples, "rewardbot_rewards", state=state) == statuses.get(state, 0)
    assert value(samples, "rewardbot_in_doubt", kind="reward") == statuses.get("in_doubt", 0)
    assert value(samples, "rewardbot_outbox_depth", kind="reward") == statuses.get("queued", 0)
    assert value(samples, "rewardbot_outbox_oldest_age_seconds", kind="reward") == 0
    assert value(samples, "rewardbot_orders", state="placed") == 0
    assert value(samples, "rewardbot_intake_unfinished") == 0
    assert value(samples, "rewardbot_ledger_figures_ok") == 1

    # Xoxoday's calls, as the sandbox saw them
    sends = Counter(r["status"] for r in serve.sends())
    assert sends == {200: 2, 500: 1}
    calls = "rewardbot_plum_calls_total"
    assert value(samples, calls, operation="sendBalance", outcome="ok") == 2
    assert value(samples, calls, operation="sendBalance", outcome="server_error") == 1
    assert value(samples, "rewardbot_plum_call_seconds_count", operation="sendBalance") == 3

    # Slack's Web API, as the fake Slack saw it
    failed = Counter(
        (c["method"], c["error"]) for c in fake.calls if not c["ok"] and c["error"] != "ratelimited"
    )
    assert failed[("conversations.open", "internal_error")] >= 1
    for (method, error), count in failed.items():
        assert (
            value(samples, "rewardbot_slack_api_errors_total", method=method, error=error) == count
        )
    limited = [c for c in fake.calls if c["error"] == "ratelimited"]
    assert len(limited) == 1
    assert value(samples, "rewardbot_slack_rate_limited_total", method="chat.postMessage") == 1

    # the scheduled jobs, as the ledger recorded them
    runs = serve.sql("SELECT job, outcome, finished_at FROM job_runs")
    for (job, outcome), count in Counter((job, outcome) for job, outcome, _ in runs).items():
        assert value(samples, "rewardbot_job_runs_total", job=job, outcome=outcome) == count
    for job in {job for job, outcome, _ in runs if outcome == "ok"}:
        assert value(samples, "rewardbot_job_last_success_timestamp_seconds", job=job) > 0

    # nothing that names a person, and no secret
    short_ids = {row[0] for row in serve.sql("SELECT short_id FROM rewards")}
    for _, labels in samples:
        for _, shown in labels:
            assert "@" not in shown and shown not in short_ids
            assert not re.fullmatch(r"[UW][A-Z0-9]{4,}", shown), shown
    text = serve.get("/metrics", Authorization=f"Bearer {token}").text
    assert BOT_TOKEN not in text and SIGNING_SECRET not in text and token not in text


def test_metrics_are_open_without_a_token(serve: ServeProcess) -> None:
    answer = serve.get("/metrics")
    assert answer.status_code == 200
    names = {f.name for f in text_string_to_metric_families(answer.text)}
    assert {"rewardbot_rewards", "rewardbot_outbox_depth", "rewardbot_in_doubt"} <= names
    assert {"rewardbot_intake_unfinished", "rewardbot_ledger_figures_ok"} <= names


# ── LOG_FORMAT=json ──────────────────────────────────────────────────────────────────────


def json_lines(serve: ServeProcess) -> list[dict[str, Any]]:
    """Every line the bot wrote, each parsed as JSON (a line that is not fails the test)."""
    lines = [line for line in serve.logs().splitlines() if line.strip()]
    assert lines
    parsed = []
    for line in lines:
        try:
            item = json.loads(line)
        except ValueError:
            raise AssertionError(f"not a JSON line: {line!r}") from None
        assert isinstance(item, dict), line
        assert {"time", "level", "logger", "message"} <= set(item), line
        parsed.append(item)
    return parsed


def test_json_logs_one_object_per_line_with_what_ties_them_and_no_secret(
    make_serve, fake: FakeSlack, sandbox: SandboxServer
) -> None:
    token = "metrics-" + secrets.token_hex(12)
    serve: ServeProcess = make_serve(
        LOG_FORMAT="json",
        METRICS_TOKEN=token,
        scheduler=True,
        verbose=True,  # DEBUG: Slack's and Xoxoday's calls are logged too
        REWARD_APPROVAL_THRESHOLD="100000",
        REWARD_GIFT_MONTHLY_CAP="100000",
    )
    serve.driver.command(f"<@{MARIA}> 5 logged as json", user_id=BOB)
    serve.settle()
    sandbox.faults.set("sendBalance", error="500", count=1)
    serve.driver.command(f"<@{MARIA}> 5 logged with a 500", user_id=BOB)
    serve.settle()
    # a gift card, its code revealed to the recipient
    gift_for_maria(serve)  # type: ignore[arg-type]  # what the helper uses, a serve has
    dm = gift_dm(serve, MARIA)  # type: ignore[arg-type]
    (po_number,) = [row[0] for row in serve.sql("SELECT po_number FROM orders")]
    serve.driver.block_action(
        user_id=MARIA, action_id=str(ActionId.GIFT_REVEAL), value=po_number, message=dm
    )
    code = sandbox.state.orders()[0].vouchers[0].code
    serve.wait(lambda: [v for v in fake.views if code in json.dumps(v)])
    # a reward link, only in its recipient's DM
    serve.driver.command(f"link <@{MARIA}> 7890", user_id=ADMIN)
    link = serve.wait(
        lambda: [
            m.group(0)
            for t in serve.dm_texts(MARIA)
            if (m := re.search(r"https://links\.sandbox\.invalid/r/[A-Za-z0-9]+", t))
        ]
    )[0]
    # something goes wrong for a person: the ref they are shown is in the log
    fake.fail_next("users.info", "internal_error", count=20)
    serve.driver.command(f"<@{ADMIN}> 5 while Slack stumbles", user_id=CHEN)
    serve.settle()
    assert serve.get("/metrics", Authorization=f"Bearer {token}").status_code == 200
    serve.wait_until(
        lambda: (
            serve.sql("SELECT COUNT(*) FROM job_runs WHERE outcome = 'running'")[0][0] == 0
            and serve.sql("SELECT COUNT(*) FROM job_runs")[0][0] > 0
        )
    )
    assert serve.stop() == 0

    lines = json_lines(serve)
    assert {line["level"] for line in lines} >= {"DEBUG", "INFO"}
    assert any(line["logger"].startswith("slack_sdk") for line in lines)  # DEBUG, bodies cut

    # where they exist: the reward's short id, the poNumber, the job, the ref
    for (short_id,) in serve.sql("SELECT short_id FROM rewards WHERE citation LIKE 'logged%'"):
        about = [x for x in lines if short_id in x["message"] and x["logger"] in LIFECYCLE]
        assert about and all(line.get("reward_id") == short_id for line in about), about
    assert any(line.get("reward_id") and line["logger"] == "bot.plum.requester" for line in lines)
    placed = [line for line in lines if line.get("po_number") == po_number]
    assert placed and all(line.get("reward_id") is None for line in placed)
    jobs = {job for (job,) in serve.sql("SELECT job FROM job_runs")}
    for job in jobs:
        assert any(line.get("job") == job for line in lines), job
    shown = [
        m.group(1)
        for t in serve.replies_to(CHEN) + serve.dm_texts(CHEN)
        if (m := re.search(r"ref `([0-9a-f]+)`", t))
    ]
    assert shown, serve.replies_to(CHEN) + serve.dm_texts(CHEN)
    for ref in shown:
        assert [line for line in lines if line.get("ref") == ref], ref

    # nothing secret: tokens, Xoxoday's tokens, the gift card's code, the reward link
    text = "\n".join(json.dumps(line) for line in lines)
    for secret in (BOT_TOKEN, SIGNING_SECRET, token, code, link, "sbx_at_", "sbx_rt_"):
        assert secret not in text, secret
