"""Start-up: from exec to the first answer, `rewardbot serve` against a bare Bolt app.

    .venv/bin/python benchmarks/startup.py [--rounds 5]

- the bare app: `benchmarks/slack_ack.py`'s (a slack_bolt App whose `/reward` only acks, behind
  `bot.web.create_web_app`, under uvicorn); its first answer is GET /healthz;
- serve: `python -m bot` on a SQLite ledger that one earlier life of serve migrated (a restart,
  as after a deploy: the database already at head), talking to the fake Slack and the Plum
  sandbox; its first answer is GET /livez.
Each round execs each afresh on the CPU the server gets in the other benchmarks and polls its
URL every 5 ms until it answers 200. Prints each round's times, the median and range of the
serve/bare ratio (target <= 3.0), the load average, and, from one more start of serve under
`python -X importtime`, how many modules it had imported by its first answer and whether
Alembic or Mako was among them (they are only needed when the ledger is behind).
"""

from __future__ import annotations

import argparse
import http.client
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import http_load
import slack_ack
from slack_ack import OTHER_CPUS, SERVER_CPUS

TIMEOUT = 60.0


def first_answer(port: int, path: str, proc: subprocess.Popen[Any], began: float) -> float:
    while time.perf_counter() - began < TIMEOUT:
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited ({proc.returncode}) before answering")
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        try:
            conn.request("GET", path)
            if conn.getresponse().status == 200:
                return time.perf_counter() - began
        except OSError:
            pass
        finally:
            conn.close()
        time.sleep(0.005)
    raise RuntimeError(f"no answer on {path} within {TIMEOUT:.0f} s")


def bare_command(port: int, info: dict[str, Any]) -> list[str]:
    return [
        sys.executable,
        str(Path(slack_ack.__file__).resolve()),
        "--role",
        "bare",
        "--port",
        str(port),
        "--slack-api-url",
        info["slack_api_url"],
    ]


def bot_env(info: dict[str, Any], db: Path) -> dict[str, str]:
    return slack_ack.child_env(
        {
            "SLACK_BOT_TOKEN": slack_ack.BOT_TOKEN,
            "SLACK_SIGNING_SECRET": slack_ack.SIGNING_SECRET,
            "SLACK_API_URL": info["slack_api_url"],
            "PLUM_BASE_URL": info["plum_base_url"],
            "PLUM_CLIENT_ID": "sandbox",
            "PLUM_CLIENT_SECRET": "sandbox",
            "PLUM_SENDER_EMAIL": "people-ops@acme.test",
            "DATABASE_URL": f"sqlite:///{db}",
            "REWARD_ADMINS": "UADMIN01",
        }
    )


def timed(
    command: list[str], env: dict[str, str], tmp: Path, port: int, path: str, log: Path
) -> float:
    with log.open("ab") as out:
        began = time.perf_counter()
        proc = subprocess.Popen(
            command,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=tmp,
            preexec_fn=slack_ack._pinned(SERVER_CPUS),
        )
        try:
            return first_answer(port, path, proc, began)
        finally:
            slack_ack.stop(proc)


def imports_at_first_answer(info: dict[str, Any], db: Path, tmp: Path) -> tuple[int, list[str]]:
    """(modules imported by serve's first answer, which of alembic and mako were)."""
    port = slack_ack.free_port()
    err = tmp / "importtime.log"
    with err.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-X", "importtime", "-m", "bot", "--port", str(port)],
            stdout=subprocess.DEVNULL,
            stderr=out,
            env=bot_env(info, db),
            cwd=tmp,
        )
        try:
            first_answer(port, "/livez", proc, time.perf_counter())
            time.sleep(0.2)
        finally:
            slack_ack.stop(proc)
    names = [
        line.split("|")[-1].strip()
        for line in err.read_text(errors="replace").splitlines()
        if line.startswith("import time:") and not line.rstrip().endswith("imported package")
    ][1:]
    top = sorted({n.split(".")[0] for n in names} & {"alembic", "mako"})
    return len(names), top


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    if OTHER_CPUS:
        os.sched_setaffinity(0, OTHER_CPUS)
    services = None
    with tempfile.TemporaryDirectory(prefix="startup-") as tmp_name:
        tmp = Path(tmp_name)
        try:
            services, info = slack_ack.start_services(tmp, 0)
            db = tmp / "ledger.db"
            first, _, _ = slack_ack.start_bot(tmp, info, db)  # migrates: later starts restart
            slack_ack.stop(first)
            ratios = []
            for n in range(1, args.rounds + 1):
                port = slack_ack.free_port()
                bare = timed(
                    bare_command(port, info),
                    slack_ack.child_env(),
                    tmp,
                    port,
                    "/healthz",
                    tmp / "bare.log",
                )
                port = slack_ack.free_port()
                bot = timed(
                    [sys.executable, "-m", "bot", "--host", "127.0.0.1", "--port", str(port)],
                    bot_env(info, db),
                    tmp,
                    port,
                    "/livez",
                    tmp / "bot.log",
                )
                ratios.append(bot / bare)
                print(
                    f"round {n}: bare {bare * 1000:.0f} ms, serve {bot * 1000:.0f} ms, "
                    f"serve/bare x{bot / bare:.2f} ({http_load.loadavg()})"
                )
            met = statistics.median(ratios) <= 3.0
            print(
                f"serve/bare over {len(ratios)} rounds: x{statistics.median(ratios):.2f} "
                f"({min(ratios):.2f}–{max(ratios):.2f}); target <= x3.0: "
                f"{'met' if met else 'MISSED'}"
            )
            count, heavy = imports_at_first_answer(info, db, tmp)
            print(
                f"serve had imported {count} modules by its first answer; Alembic/Mako among "
                f"them: {', '.join(heavy) if heavy else 'none'}"
            )
        finally:
            slack_ack.stop_services(services)
    return 0


if __name__ == "__main__":
    sys.exit(main())
