"""Going live with the real `rewardbot serve` process: `rewardbot check` on the bot's own setup,
and the start-up refusing, in one line and before anything is made, what the check fails
without the network (a public URL that is not https; a ledger written with keys whose keys are
gone, which a start would otherwise replace with new ones the audit trail does not verify
with); `check` on a database that can't take writes."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable

from tests.attacks.serve_process import ServeProcess
from tests.attacks.small_disk import SmallDisk
from tests.e2e.harness import ADMIN

CONFIG_ERROR = "rewardbot: configuration error: "


def refusal(serve: ServeProcess) -> str:
    """Start the bot, which must exit at once; the one line it said."""
    serve.start(wait=False)
    assert serve.proc is not None
    try:
        code = serve.proc.wait(60)
    except subprocess.TimeoutExpired:
        serve.kill()
        raise AssertionError(f"serve did not refuse:\n{serve.log()}") from None
    said = [line for line in serve.log_path.read_text().splitlines() if line.strip()]
    assert code == 2, said
    assert "Traceback" not in serve.log_path.read_text()
    return said[-1]


def test_check_on_the_bots_own_setup_then_serve_starts(
    make_serve: Callable[..., ServeProcess],
) -> None:
    serve = make_serve(start=False)
    done = serve.run_once("check")
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert "ok   Slack: workspace Acme (T0001), bot @rewardbot (UREWARDB)" in lines
    assert f"ok   Admins: Ada Lovelace ({ADMIN})" in lines
    assert lines[-1] == "The bot can work (read the warn lines)."
    assert not serve.db_path.exists()  # the check made no ledger
    serve.start()
    assert serve.healthz().status_code == 200


def test_serve_refuses_a_public_url_that_is_not_https_in_one_line(
    make_serve: Callable[..., ServeProcess],
) -> None:
    serve = make_serve(start=False, PUBLIC_URL="http://rewards.acme.test")
    said = refusal(serve)
    assert said == (
        CONFIG_ERROR + "PUBLIC_URL must be https: the single-use Redeem links on it must not "
        "travel in clear. Serve the bot behind a reverse proxy that terminates TLS (README: Go "
        "live) and set PUBLIC_URL=https://rewards.acme.test"
    )
    assert sorted(os.listdir(serve.tmp_path)) == ["sandbox.json", "serve-1.log"]  # nothing made


def test_a_ledger_whose_key_file_is_gone_is_refused_not_given_new_keys(
    make_serve: Callable[..., ServeProcess],
) -> None:
    serve = make_serve()  # no AUDIT_KEY, no ENCRYPTION_KEY: the bot keeps them in a key file
    assert serve.stop() == 0
    key_file = serve.tmp_path / "bot.db.keys"
    kept = key_file.read_bytes()
    events = serve.sql("SELECT COUNT(*) FROM audit_events")[0][0]
    assert events > 0  # the start recorded its settings, signed with those keys
    key_file.unlink()  # lost: not restored with the database, say
    said = refusal(serve)
    assert said == (
        CONFIG_ERROR + "this ledger was written with keys, but AUDIT_KEY and ENCRYPTION_KEY are "
        f"not set and there is no key file at {key_file}: serve would make new keys, and the "
        "audit trail would no longer verify. Set them to the keys it was written with, or put "
        "the key file back."
    )
    assert not key_file.exists()  # no new keys were made
    checked = serve.run_once("check")
    assert checked.returncode == 1
    assert "FAIL Keys: " + said.removeprefix(CONFIG_ERROR) in checked.stdout.splitlines()
    key_file.write_bytes(kept)  # put back: the bot starts, and the trail still verifies
    serve.start()
    verified = serve.run_once("audit", "verify")
    assert verified.returncode == 0, verified.stdout + verified.stderr


def test_check_says_a_database_that_cant_take_writes(on_disk, disk: SmallDisk) -> None:  # type: ignore[no-untyped-def]
    serve: ServeProcess = on_disk()
    serve.stop()
    disk.read_only()
    checked = serve.run_once("check")
    assert checked.returncode == 1
    [line] = [line for line in checked.stdout.splitlines() if "Database" in line]
    assert line == (
        "FAIL Database: DATABASE_URL: the database can't take writes (it is read-only). Free "
        "some disk space or fix its permissions, then start again."
    )
