"""A full disk and a read-only database under the real `rewardbot serve`: health says which part
is broken (and never blames Xoxoday for it), a request that cannot be recorded is answered with
"nothing was done", an outcome Xoxoday applied is recorded as soon as the disk takes it again,
and start-up refuses a database it cannot write, in one line.

The database lives on a small tmpfs mounted for the test (`tests.attacks.small_disk`; root
only, skipped otherwise), which is filled up while the bot runs, or remounted read-only while it
is stopped (Linux refuses to remount a filesystem read-only while a process holds files open for
writing on it).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from bot.simulators.plum_sandbox import SandboxServer
from tests.attacks.serve_process import ServeProcess
from tests.attacks.small_disk import SmallDisk
from tests.e2e.harness import BOB, MARIA


def status_of(serve: ServeProcess, citation: str) -> str:
    rows = serve.sql("SELECT status FROM rewards WHERE citation = ?", citation)
    return str(rows[0][0]) if rows else ""


def test_health_says_the_disk_is_full_and_does_not_blame_xoxoday(on_disk, disk: SmallDisk) -> None:
    serve = on_disk()
    assert serve.healthz().json()["database"] == "ok"
    disk.fill()
    report = serve.healthz()
    assert report.status_code == 503
    body = report.json()
    assert "disk is full" in body["database"]
    assert body["plum"] == "ok"
    disk.free()
    assert serve.healthz().json()["database"] == "ok"


def test_a_request_that_cannot_be_recorded_is_answered_and_nothing_is_given(
    on_disk, disk: SmallDisk, sandbox: SandboxServer
) -> None:
    serve = on_disk()
    disk.fill()
    answer = serve.driver.command(f"<@{MARIA}> 5 on a full disk", user_id=BOB)
    assert answer.status_code == 200
    assert "couldn't make a note of your request" in answer.text
    assert "didn't do anything" in answer.text
    disk.free()
    serve.driver.command(f"<@{MARIA}> 5 after the disk came back", user_id=BOB)
    serve.wait_until(lambda: status_of(serve, "after the disk came back") == "sent")
    assert status_of(serve, "on a full disk") == ""
    assert len(serve.sends()) == 1
    assert "Traceback" not in serve.logs()


def test_an_outcome_xoxoday_applied_is_recorded_once_the_disk_takes_it(
    on_disk, disk: SmallDisk, sandbox: SandboxServer
) -> None:
    sandbox.faults.set("sendBalance", latency_ms=1500)
    serve = on_disk()
    serve.driver.command(f"<@{MARIA}> 5 sent while the disk filled", user_id=BOB)
    serve.wait_until(lambda: status_of(serve, "sent while the disk filled") == "sending")
    disk.fill()
    serve.wait_until(lambda: [r for r in serve.sends() if r["status"] == 200], timeout=15)
    serve.wait_until(lambda: "could not record that reward" in serve.log(200), timeout=15)
    assert status_of(serve, "sent while the disk filled") == "sending"  # not lost, not guessed
    assert "disk is full" in serve.healthz().json()["database"]
    disk.free()
    serve.wait_until(lambda: status_of(serve, "sent while the disk filled") == "sent", 60)
    serve.wait(lambda: serve.dm_texts(MARIA))
    assert len(serve.sends()) == 1


def test_start_refuses_a_database_it_cannot_write_in_one_line(on_disk, disk: SmallDisk) -> None:
    serve = on_disk()
    serve.stop()
    disk.read_only()
    ran = serve.run_once("serve", "--port", "0", "--no-scheduler")
    assert ran.returncode == 2
    lines = ran.stderr.strip().splitlines()
    assert lines[-1].startswith("rewardbot: configuration error: DATABASE_URL: the database")
    assert "read-only" in lines[-1] and "Traceback" not in ran.stderr
    disk.read_only(False)
    disk.fill()
    ran = serve.run_once("serve", "--port", "0", "--no-scheduler")
    assert ran.returncode == 2
    assert "the disk is full" in ran.stderr.strip().splitlines()[-1]


def test_health_checks_do_not_fan_out_into_xoxoday(serve: ServeProcess, sandbox) -> None:
    before = len(sandbox.requests)
    with ThreadPoolExecutor(max_workers=20) as pool:
        codes = list(pool.map(lambda _: serve.healthz().status_code, range(100)))
    assert codes == [200] * 100
    probes = sandbox.requests[before:]
    assert len(probes) <= 2, [p["operation"] for p in probes]  # a token at most, one probe
