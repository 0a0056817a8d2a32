"""The one start-up, through the real command line: `serve`, `clock` and `jobs run` without
PLUM_BASE_URL refuse in one line and leave nothing on disk; PLUM_BASE_URL=sandbox warns, says so
in /healthz and on every message people read (a request resumed after a SIGKILL included); a
journal that can't take writes or a damaged ledger is named in one line; Socket Mode whose token
Slack refuses too.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from pathlib import Path

import pytest

from bot.cli import main
from bot.simulators.sandbox_notice import SANDBOX_NOTICE
from tests.attacks.house import command_body, journal_path, post, rewards_citing
from tests.attacks.serve_process import ServeProcess
from tests.e2e.harness import CHEN, MARIA


def run_all(
    serve: ServeProcess,
    commands: dict[str, list[str]],
    env: dict[str, dict[str, str]] | None = None,
) -> dict[str, subprocess.CompletedProcess[str]]:
    """Run `rewardbot <args>` for each entry at once, each in an empty directory of its own,
    with the bot's settings and `env[name]` over them (an empty value unsets)."""
    running = {}
    for name, args in commands.items():
        cwd = serve.tmp_path / f"cwd-{name}"
        cwd.mkdir(exist_ok=True)
        settings = {**serve.env(), **(env or {}).get(name, {})}
        running[name] = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", *args],
            env={k: v for k, v in settings.items() if v != ""},
            cwd=cwd,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
    done = {}
    for name, proc in running.items():
        out, err = proc.communicate(timeout=120)
        done[name] = subprocess.CompletedProcess(proc.args, proc.returncode, out, err)
    return done


def one_line(ran: subprocess.CompletedProcess[str]) -> str:
    """The refusal, which must be the only thing the command printed besides warnings."""
    assert ran.returncode == 2, (ran.returncode, ran.stdout, ran.stderr)
    assert "Traceback" not in ran.stderr, ran.stderr
    lines = [line for line in ran.stderr.splitlines() if " WARNING " not in line]
    assert len(lines) == 1, ran.stderr
    assert lines[0].startswith("rewardbot: "), lines[0]
    return lines[0]


def test_without_plum_base_url_nothing_starts_and_nothing_is_created(
    make_serve: Callable[..., ServeProcess],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    serve = make_serve(start=False)
    ledger = tmp_path / "ledger"
    ledger.mkdir()
    unset = {"PLUM_BASE_URL": "", "DATABASE_URL": f"sqlite:///{ledger / 'bot.db'}"}
    # serve as the child process it runs as; clock and jobs run through the same command line
    # in this process (their start-up is the same one, and a child costs seconds of imports)
    ran = run_all(serve, {"serve": ["serve", "--port", "0", "--no-scheduler"]}, {"serve": unset})
    for name, value in {**serve.env(), **unset}.items():
        if value:
            monkeypatch.setenv(name, value)
        else:
            monkeypatch.delenv(name, raising=False)
    for name, args in (("clock", ["clock"]), ("jobs run", ["jobs", "run", "weekly-summary"])):
        cwd = tmp_path / f"cwd-{name}"
        cwd.mkdir()
        monkeypatch.chdir(cwd)
        code = main(args)
        out, err = capsys.readouterr()
        ran[name] = subprocess.CompletedProcess(args, code, out, err)
    for name, result in ran.items():
        line = one_line(result)
        assert line.startswith(f"rewardbot: configuration error: {name} can't start without ")
        assert "PLUM_BASE_URL (or sandbox, to try the bot paying nobody)" in line
        assert result.stdout == ""
        assert list((tmp_path / f"cwd-{name}").iterdir()) == []
    assert list(ledger.iterdir()) == []  # no ledger, no journal, no keys, no sandbox state


@contextmanager
def bind_read_only(path: Path) -> Iterator[None]:
    """`path` alone read-only (a bind mount of itself; root only)."""
    mounted = subprocess.run(["mount", "--bind", str(path), str(path)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot bind-mount here: {mounted.stderr.decode().strip()}")
    try:
        subprocess.run(["mount", "-o", "remount,ro,bind", str(path)], check=True)
        yield
    finally:
        subprocess.run(["umount", str(path)], check=False)


def test_a_journal_that_cannot_take_writes_or_a_damaged_ledger_is_named_in_one_line(
    make_serve: Callable[..., ServeProcess], tmp_path: Path
) -> None:
    serve = make_serve(start=False)
    read_only, damaged = tmp_path / "read-only", tmp_path / "damaged"
    for folder in (read_only, damaged):
        folder.mkdir()
    (read_only / "bot.intake.db").touch()  # the journal beside the ledger, mounted read-only
    (damaged / "bot.db").write_bytes(b"not a ledger" * 400)
    args = ["serve", "--port", "0", "--no-scheduler"]
    with bind_read_only(read_only / "bot.intake.db"):
        ran = run_all(
            serve,
            {"read-only journal": args, "damaged": args},
            {
                "read-only journal": {"DATABASE_URL": f"sqlite:///{read_only / 'bot.db'}"},
                "damaged": {"DATABASE_URL": f"sqlite:///{damaged / 'bot.db'}"},
            },
        )
    line = one_line(ran["read-only journal"])
    assert "DATABASE_URL: the intake journal beside the database can't take writes" in line
    line = one_line(ran["damaged"])
    assert "DATABASE_URL: the database is damaged" in line and "Restore it from a backup" in line


def test_socket_mode_with_a_token_slack_refuses_is_one_line(
    make_serve: Callable[..., ServeProcess],
) -> None:
    serve = make_serve(start=False, SLACK_APP_TOKEN="xapp-1-A0-revoked")
    serve.fake.fail_next("apps.connections.open", "invalid_auth", count=5)
    no_secret = {"SLACK_SIGNING_SECRET": ""}
    ran = run_all(serve, {"socket": ["serve", "--no-scheduler"]}, {"socket": no_secret})
    line = one_line(ran["socket"])
    assert "SLACK_APP_TOKEN" in line


# ── PLUM_BASE_URL=sandbox ────────────────────────────────────────────────────────────────


def blocks_of(serve: ServeProcess) -> list[dict]:
    """Every message people were shown with blocks: in channels and DMs, ephemerals, replies
    through a response_url."""
    fake = serve.fake
    shown = [*fake.messages(), *fake.ephemerals()]
    shown += [r["body"] for r in fake.responses()]
    return [m for m in shown if m.get("blocks")]


def noticed(message: dict) -> bool:
    return SANDBOX_NOTICE in json.dumps(message["blocks"], ensure_ascii=False)


def test_the_sandbox_is_said_at_start_in_health_and_on_every_message(
    make_serve: Callable[..., ServeProcess],
) -> None:
    serve = make_serve(start=False, PLUM_BASE_URL="sandbox", REWARD_ALLOWANCE="0")
    for name in ("PLUM_CLIENT_ID", "PLUM_CLIENT_SECRET", "PLUM_SENDER_EMAIL"):
        del serve.settings[name]
    serve.start()
    assert "PLUM_BASE_URL=sandbox: rewards go to an embedded Plum sandbox" in serve.log()
    assert "nothing real is paid" in serve.log()
    health = serve.healthz().json()
    assert health["sandbox"] is True and health["ok"] is True

    def sent(citation: str) -> bool:
        return [s for _, s in rewards_citing(serve, citation)] == ["sent"]

    body, _ = command_body(serve, f"<@{MARIA}> 3 paid by nobody")
    assert post(serve, body).status_code == 200
    serve.wait_until(lambda: sent("paid by nobody"))
    serve.settle()
    # a command acknowledged, then SIGKILL while it waits for the giver's profile; an hour
    # later (its response_url expired) the next start finishes it and answers by DM
    serve.fake.slow_next("users.info", seconds=4)
    body, _ = command_body(serve, f"<@{MARIA}> 4 resumed in the sandbox", user=CHEN)
    assert post(serve, body).status_code == 200
    serve.wait_until(lambda: serve.fake.held("users.info") == 1)
    serve.kill()
    with closing(sqlite3.connect(journal_path(serve))) as db, db:
        db.execute("UPDATE intake SET received_at = datetime(received_at, '-1 hour')")
    serve.start()
    serve.wait_until(lambda: sent("resumed in the sandbox"))
    serve.settle()
    assert [t for t in serve.dm_texts(CHEN) if "Sending *4 points*" in t]
    shown = blocks_of(serve)
    assert len(shown) >= 6  # replies, DMs to the givers and to Maria, announcements
    assert [m for m in shown if not noticed(m)] == []
    assert serve.healthz().json()["sandbox"] is True
