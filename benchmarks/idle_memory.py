"""Idle `rewardbot serve` against a bare Bolt app on the same stack: memory, threads, modules.

    .venv/bin/python benchmarks/idle_memory.py [--rounds 3] [--idle 5] [--helps 200]
                                               [--rewards 20] [--concurrency 10]

A report, not a test: it exits 0 whatever it finds (1 only when it could not measure at all).
Target (issue 19, item 9): idle serve's RSS at most 1.5x the bare app's.

Four processes on loopback, the two servers started afresh each round:
- the bare app: a slack_bolt App (Bolt's defaults; no token check) whose `/reward` listener only
  calls ack(), behind Bolt's own Starlette adapter (slack_bolt.adapter.starlette.
  SlackRequestHandler), a Starlette app with POST /slack/events and GET /healthz, under uvicorn:
  the libraries and versions the bot serves HTTP with, and none of the bot's code (it runs from
  a script this writes, so nothing of this benchmark is imported into it either);
- serve: `python -m bot` (that is `rewardbot serve`: HTTP mode, the job scheduler on) on a copy
  of a SQLite database prepared before the first round: `rewardbot migrate`, then one life of
  serve (its missed jobs run, Xoxoday's token stored), so that each round is a restart on an
  existing database, as after a deploy or a daily restart (`--first-start`: serve's first start
  on the migrated database instead, which runs the missed jobs at start); AUDIT_KEY and
  ENCRYPTION_KEY set as production sets them, PLUM_BASE_URL the sandbox below;
- the "services" child: the fake Slack (demo workspace) and the Plum sandbox (rate limits off);
- this process: starts them, sends the requests, reads /proc.

Each round, both servers start side by side and are sent a signed `/reward help` until each
answers it (Slack's first request; it proves the server serves), then:
1. idle: left alone `--idle` seconds, then read;
2. after /healthz: one GET /healthz each (what a platform's health check sends; serve's also
   signs in to Xoxoday and stores the token), idle again, read again;
3. after work: the same burst to each (`--helps` signed `/reward help` and `--rewards` signed
   rewards, `--concurrency` in flight), serve's outbox waited for (every reward sent), idle
   again, read again.
A reading: RSS (/proc/PID/status), USS and PSS (/proc/PID/smaps_rollup; USS is the pages the
process alone holds; PSS shares the libraries' pages among every process mapping them, so it
also depends on what else runs), threads (/proc/PID/status, with /proc/PID/task/*/comm and, for
Python's threads, their names, what they run and where they wait), and the modules imported
(`len(sys.modules)`). The modules and the Python threads come from a `sitecustomize` this puts
first on the two servers' PYTHONPATH: when IDLE_BENCH_PROBE_DIR is set it installs a SIGUSR1
handler that writes them there (it imports nothing beyond the builtin `_signal` until asked; no
production code changes).
Prints each round's figures, the medians with serve/bare ratios, serve's threads, the packages
serve holds that the bare app does not, and "target <= 1.5x: met / not met" on idle RSS.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
SIGNING_SECRET = "bench-signing-secret"
BOT_TOKEN = "xoxb-bench"
CHANNEL = "C0GENERAL"
GIVERS = ("UMARIA01", "UBOB0001", "UCHEN001", "UADMIN01", "UAPPR001")
TARGET_RATIO = 1.5
START_TIMEOUT = 60.0
PROBE_TIMEOUT = 10.0
FORM = "application/x-www-form-urlencoded"
INHERITED_PREFIXES = ("SLACK_", "PLUM_", "REWARD_", "IDLE_BENCH_")
INHERITED_NAMES = ("DATABASE_URL", "PORT", "AUDIT_KEY", "ENCRYPTION_KEY", "PYTHONSTARTUP")
PR_SET_PDEATHSIG = 1

# The bare app, run as a script of its own: `python bare_app.py PORT SLACK_API_URL TOKEN SECRET`.
BARE_APP = '''\
"""A bare Bolt app: /reward only acks. Bolt + its Starlette adapter + Starlette + uvicorn."""
import sys

import uvicorn
from slack_bolt import App
from slack_bolt.adapter.starlette import SlackRequestHandler
from slack_sdk import WebClient
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

app = App(
    client=WebClient(token=sys.argv[3], base_url=sys.argv[2]),
    signing_secret=sys.argv[4],
    token_verification_enabled=False,
)


@app.command("/reward")
def on_reward(ack):
    ack()


handler = SlackRequestHandler(app)


async def events(request):
    return await handler.handle(request)


async def healthz(request):
    return JSONResponse({"ok": True})


web = Starlette(
    routes=[Route("/slack/events", events, methods=["POST"]), Route("/healthz", healthz)]
)
uvicorn.run(web, host="127.0.0.1", port=int(sys.argv[1]), log_level="info", access_log=False)
'''

# Loaded by every Python child started with the probe directory on its PYTHONPATH; acts only
# when IDLE_BENCH_PROBE_DIR is set. Imports nothing at start-up but the builtin `_signal`.
SITECUSTOMIZE = """\
import os as _os
import sys as _sys

_PROBE_DIR = _os.environ.get("IDLE_BENCH_PROBE_DIR")


def _probe_report(signum, frame):
    modules = list(_sys.modules)  # before this handler imports anything
    import json
    import threading

    frames = _sys._current_frames()
    threads = []
    for t in threading.enumerate():
        target = getattr(t, "_target", None)
        runs = (
            f"{getattr(target, '__module__', '?')}.{getattr(target, '__qualname__', target)}"
            if target is not None
            else f"{type(t).__module__}.{type(t).__qualname__}.run"
        )
        where = []
        f = frames.get(t.ident)
        if f is not None and f.f_code is _probe_report.__code__:
            f = f.f_back  # this handler's own frame: the main thread was in the next one
        while f is not None and len(where) < 40:
            where.append(f"{f.f_code.co_filename}:{f.f_lineno}:{f.f_code.co_name}")
            f = f.f_back
        threads.append(
            {"name": t.name, "native_id": t.native_id, "daemon": t.daemon, "runs": runs,
             "stack": where}
        )
    report = {"modules": modules, "threads": threads}
    if _os.environ.get("IDLE_BENCH_TRACEMALLOC"):
        import tracemalloc

        sizes = {}
        for trace in tracemalloc.take_snapshot().traces:
            # the innermost frame that is not the import machinery's (code objects being
            # loaded go to the module importing them)
            name = trace.traceback[-1].filename
            for fr in reversed(trace.traceback):
                if not fr.filename.startswith("<frozen") and "/importlib/" not in fr.filename:
                    name = fr.filename
                    break
            sizes[name] = sizes.get(name, 0) + trace.size
        report["traced"] = sizes
    path = _os.path.join(_PROBE_DIR, f"{_os.getpid()}.json")
    with open(path + ".tmp", "w") as out:
        json.dump(report, out)
    _os.replace(path + ".tmp", path)


if _PROBE_DIR and _os.environ.get("IDLE_BENCH_TRACEMALLOC"):  # idle_analysis.py only
    import tracemalloc

    tracemalloc.start(int(_os.environ["IDLE_BENCH_TRACEMALLOC"]))

if _PROBE_DIR:
    import _signal

    _signal.signal(_signal.SIGUSR1, _probe_report)
    open(_os.path.join(_PROBE_DIR, f"{_os.getpid()}.ready"), "w").close()
"""


# ─── the services child: fake Slack + Plum sandbox ─────────────────────────────────────────


def run_services() -> int:
    from bot.simulators.fakeslack import FakeSlack
    from bot.simulators.fakeslack.workspace import Workspace
    from bot.simulators.plum_sandbox import SandboxServer

    fake = FakeSlack(workspace=Workspace.demo(), bot_token=BOT_TOKEN).start()
    sandbox = SandboxServer(rate_limits=False, log_level="error").start()
    print(
        json.dumps(
            {
                "slack_root_url": fake.root_url,
                "slack_api_url": fake.api_url,
                "plum_base_url": sandbox.base_url,
            }
        ),
        flush=True,
    )
    try:
        sys.stdin.read()  # until the benchmark closes our stdin (or goes away)
    finally:
        sandbox.stop()
        fake.stop()
    return 0


# ─── children ──────────────────────────────────────────────────────────────────────────────


def _die_with_parent() -> None:
    """In the child, before exec: SIGKILL when the benchmark dies, however it dies (Linux)."""
    with contextlib.suppress(Exception):
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def child_env(extra: dict[str, str], path: list[Path]) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(INHERITED_PREFIXES) and k not in INHERITED_NAMES
    }
    env["PYTHONPATH"] = os.pathsep.join([*map(str, path), *filter(None, [env.get("PYTHONPATH")])])
    env.update(extra)
    return env


def spawn(cmd: list[str], *, env: dict[str, str], cwd: Path, log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(
            cmd,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=cwd,
            start_new_session=True,  # a Ctrl-C reaches only the benchmark, which stops them
            preexec_fn=_die_with_parent,
        )


def stop(proc: subprocess.Popen[Any] | None, timeout: float = 20.0) -> None:
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)


def tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


@dataclass
class Server:
    name: str
    proc: subprocess.Popen[bytes]
    url: str
    log: Path
    db: Path | None = None


def signed(form: bytes) -> dict[str, str]:
    from bot.simulators.fakeslack.signing import sign_request

    headers = {"Content-Type": FORM, "User-Agent": "Slackbot 1.0"}
    headers.update(sign_request(signing_secret=SIGNING_SECRET, body=form))
    return headers


def wait_answering(servers: list[Server], root: str, timeout: float) -> None:
    """Until each server answers a signed `/reward help` with a 200 (bounded)."""
    import httpx

    deadline = time.monotonic() + timeout
    waiting = list(servers)
    with httpx.Client(timeout=10.0) as client:
        while waiting:
            for server in list(waiting):
                if server.proc.poll() is not None:
                    raise RuntimeError(
                        f"{server.name} exited ({server.proc.returncode}):\n{tail(server.log)}"
                    )
                [(_, form)] = burst_forms(root, helps=1, rewards=0, run=f"ready-{server.name}")
                with contextlib.suppress(httpx.TransportError):
                    answer = client.post(
                        f"{server.url}/slack/events", content=form, headers=signed(form)
                    )
                    if answer.status_code == 200:
                        waiting.remove(server)
            if waiting and time.monotonic() > deadline:
                names = ", ".join(s.name for s in waiting)
                raise RuntimeError(
                    f"{names} not answering within {timeout:.0f}s:\n{tail(waiting[0].log)}"
                )
            time.sleep(0.2)


def health_check(servers: list[Server]) -> dict[str, int]:
    """One GET /healthz each; the HTTP status each answered (0: no answer)."""
    import httpx

    statuses = {}
    with httpx.Client(timeout=30.0) as client:
        for server in servers:
            try:
                statuses[server.name] = client.get(f"{server.url}/healthz").status_code
            except httpx.HTTPError:
                statuses[server.name] = 0
    return statuses


def make_hook(tmp: Path) -> Path:
    """The directory put first on the servers' PYTHONPATH: the probe's sitecustomize and the
    bare app's script; the probe writes its reports there."""
    hook = tmp / "hook"
    hook.mkdir()
    (hook / "sitecustomize.py").write_text(SITECUSTOMIZE)
    (hook / "bare_app.py").write_text(BARE_APP)
    return hook


def serve_keys() -> dict[str, str]:
    """AUDIT_KEY and ENCRYPTION_KEY as production sets them (a Fernet key: 32 bytes, base64)."""
    import base64
    import secrets

    return {
        "AUDIT_KEY": secrets.token_urlsafe(32),
        "ENCRYPTION_KEY": base64.urlsafe_b64encode(os.urandom(32)).decode("ascii"),
    }


def serve_env(services: dict[str, str], db: Path, keys: dict[str, str]) -> dict[str, str]:
    return {
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": services["slack_api_url"],
        "PLUM_BASE_URL": services["plum_base_url"],  # never `sandbox`: no embedded sandbox
        "PLUM_CLIENT_ID": "sandbox",
        "PLUM_CLIENT_SECRET": "sandbox",
        "PLUM_SENDER_EMAIL": "people-ops@acme.test",
        "DATABASE_URL": f"sqlite:///{db}",
        "REWARD_ADMINS": "UADMIN01",
        "REWARD_ALLOWANCE": "0",
        "REWARD_APPROVAL_THRESHOLD": "1000000000",
        **keys,
    }


def prepared_database(
    tmp: Path, services: dict[str, str], keys: dict[str, str], *, first_start: bool
) -> Path:
    """The database serve starts on each round (a copy of it): `rewardbot migrate` brings it to
    the newest revision; then, unless `first_start`, serve runs on it once (its missed jobs run
    and are recorded, Xoxoday's token is stored) and stops, so each round is a restart on an
    existing database, as after a deploy or a daily restart."""
    template = tmp / "template.db"
    env = child_env(serve_env(services, template, keys), [REPO])
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli", "migrate"],
        env=env,
        cwd=tmp,
        capture_output=True,
        text=True,
        timeout=START_TIMEOUT,
        preexec_fn=_die_with_parent,
    )
    if done.returncode != 0:
        raise RuntimeError(f"rewardbot migrate failed:\n{done.stdout}{done.stderr}")
    if first_start:
        return template
    port = free_port()
    log = tmp / "serve-0.log"
    proc = spawn(
        [sys.executable, "-m", "bot", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        cwd=tmp,
        log=log,
    )
    try:
        wait_answering(
            [Server("serve", proc, f"http://127.0.0.1:{port}", log)],
            services["slack_root_url"],
            START_TIMEOUT,
        )
        wait_jobs_done(template, timeout=START_TIMEOUT)
    finally:
        stop(proc, timeout=60.0)
    # uvicorn ends a process it stopped on SIGTERM by raising SIGTERM again once it has shut down
    if proc.returncode not in (0, -signal.SIGTERM):
        raise RuntimeError(f"serve's first life ended with {proc.returncode}:\n{tail(log)}")
    return template


def wait_jobs_done(db: Path, timeout: float, quiet: float = 2.0) -> None:
    """Until serve's missed jobs, which it runs in the background at start, have finished: no
    job run still `running`, and none begun for `quiet` seconds (bounded by `timeout`)."""
    deadline = time.monotonic() + timeout
    seen, since = -1, time.monotonic()
    while time.monotonic() < deadline:
        with contextlib.suppress(sqlite3.Error):
            conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
            try:
                runs, running = conn.execute(
                    "SELECT COUNT(*), COALESCE(SUM(outcome = 'running'), 0) FROM job_runs"
                ).fetchone()
            finally:
                conn.close()
            if runs != seen:
                seen, since = runs, time.monotonic()
            elif not running and time.monotonic() - since >= quiet:
                return
        time.sleep(0.25)
    raise RuntimeError(f"serve's missed jobs did not finish within {timeout:.0f}s")


def copy_database(template: Path, db: Path) -> None:
    import shutil

    shutil.copyfile(template, db)
    wal = template.with_name(template.name + "-wal")  # left when a process did not close it
    if wal.exists():
        shutil.copyfile(wal, db.with_name(db.name + "-wal"))


def start_servers(
    tmp: Path,
    hook: Path,
    services: dict[str, str],
    n: int,
    *,
    template: Path,
    keys: dict[str, str],
    serve_flags: tuple[str, ...] = (),
    extra_env: dict[str, str] | None = None,
) -> list[Server]:
    """The bare app and serve (on a copy of `template`), side by side, each answering."""
    probe = {"IDLE_BENCH_PROBE_DIR": str(hook)}
    bare_port, bot_port = free_port(), free_port()
    bare_log, bot_log = tmp / f"bare-{n}.log", tmp / f"serve-{n}.log"
    bare = spawn(
        [
            sys.executable,
            str(hook / "bare_app.py"),
            str(bare_port),
            services["slack_api_url"],
            BOT_TOKEN,
            SIGNING_SECRET,
        ],
        env=child_env(probe, [hook]),
        cwd=tmp,
        log=bare_log,
    )
    servers = [Server("bare", bare, f"http://127.0.0.1:{bare_port}", bare_log)]
    db = tmp / f"serve-{n}.db"
    copy_database(template, db)
    env = child_env({**probe, **serve_env(services, db, keys), **(extra_env or {})}, [hook, REPO])
    bot = spawn(
        [sys.executable, *serve_flags, "-m", "bot", "--host", "127.0.0.1", "--port", str(bot_port)],
        env=env,
        cwd=tmp,  # no .env from the repo or the caller's directory
        log=bot_log,
    )
    servers.append(Server("serve", bot, f"http://127.0.0.1:{bot_port}", bot_log, db))
    try:
        wait_answering(servers, services["slack_root_url"], START_TIMEOUT)
    except BaseException:
        for server in servers:
            stop(server.proc)
        raise
    return servers


@contextlib.contextmanager
def services_process(tmp: Path) -> Iterator[dict[str, str]]:
    import select

    with (tmp / "services.log").open("wb") as err:
        proc = subprocess.Popen(
            [sys.executable, __file__, "--role", "services"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=err,
            env=child_env({}, [REPO]),
            cwd=tmp,
            text=True,
            start_new_session=True,
            preexec_fn=_die_with_parent,
        )
    try:
        assert proc.stdout is not None
        ready, _, _ = select.select([proc.stdout], [], [], START_TIMEOUT)
        line = proc.stdout.readline() if ready else ""
        if not line:
            raise RuntimeError(f"the services did not start:\n{tail(tmp / 'services.log')}")
        yield json.loads(line)
    finally:
        with contextlib.suppress(OSError):
            assert proc.stdin is not None
            proc.stdin.close()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            stop(proc)


# ─── reading a process ─────────────────────────────────────────────────────────────────────


@dataclass
class Reading:
    rss_mb: float
    uss_mb: float | None
    pss_mb: float | None
    threads: int
    comms: Counter[str]
    modules: list[str] = field(default_factory=list)
    py_threads: list[dict[str, Any]] = field(default_factory=list)
    probed: dict[str, Any] = field(default_factory=dict)  # all the probe said

    @property
    def module_count(self) -> int | None:
        return len(self.modules) or None


def _kb_fields(path: Path) -> dict[str, int]:
    values = {}
    for line in path.read_text().splitlines():
        key, _, rest = line.partition(":")
        parts = rest.split()
        if parts and parts[0].isdigit():
            values[key] = int(parts[0])
    return values


def probe(pid: int, hook: Path, timeout: float = PROBE_TIMEOUT) -> dict[str, Any]:
    """The child's modules and Python threads, from its sitecustomize's SIGUSR1 handler."""
    if not (hook / f"{pid}.ready").exists():
        return {}  # no handler there: SIGUSR1 would kill it
    out = hook / f"{pid}.json"
    out.unlink(missing_ok=True)
    os.kill(pid, signal.SIGUSR1)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if out.exists():
            return json.loads(out.read_text())
        time.sleep(0.05)
    return {}


def read(pid: int, hook: Path, probe_timeout: float = PROBE_TIMEOUT) -> Reading:
    proc = Path(f"/proc/{pid}")
    found = probe(pid, hook, probe_timeout)
    status = _kb_fields(proc / "status")
    threads = int(
        next(
            line.split()[1]
            for line in (proc / "status").read_text().splitlines()
            if line.startswith("Threads:")
        )
    )
    uss = pss = None
    with contextlib.suppress(OSError):
        rollup = _kb_fields(proc / "smaps_rollup")
        uss = (rollup.get("Private_Clean", 0) + rollup.get("Private_Dirty", 0)) / 1024
        pss = rollup.get("Pss", 0) / 1024
    comms: Counter[str] = Counter()
    for task in (proc / "task").iterdir():
        with contextlib.suppress(OSError):
            comms[(task / "comm").read_text().strip()] += 1
    return Reading(
        rss_mb=status["VmRSS"] / 1024,
        uss_mb=uss,
        pss_mb=pss,
        threads=threads,
        comms=comms,
        modules=found.get("modules", []),
        py_threads=found.get("threads", []),
        probed=found,
    )


# ─── the burst ─────────────────────────────────────────────────────────────────────────────


def burst_forms(root: str, *, helps: int, rewards: int, run: str) -> list[tuple[str, bytes]]:
    from urllib.parse import urlencode

    from bot.simulators.fakeslack import payloads
    from bot.simulators.fakeslack.workspace import Workspace

    ws = Workspace.demo()
    forms = []
    for i in range(helps + rewards):
        giver = GIVERS[i % len(GIVERS)]
        if i < helps:
            kind, text = "help", "help"
        else:
            recipient = GIVERS[(i + 1) % len(GIVERS)]
            kind = "reward"
            text = f"<@{recipient}|{ws.user(recipient)['name']}> 10 thanks for idle step {i}"
        form = payloads.slash_command(
            ws,
            text=text,
            user_id=giver,
            channel_id=CHANNEL,
            command="/reward",
            response_url=f"{root}response/{run}-{i}",
            trigger_id=f"{run}.{i}.{1_700_000_000 + i}",
        )
        forms.append((kind, urlencode(form).encode()))
    return forms


@dataclass
class Burst:
    acked: int
    sent: int
    wall: float
    load_cpu: float  # CPU seconds this process (the load generator) spent on it


def burst(url: str, forms: list[tuple[str, bytes]], concurrency: int) -> Burst:
    import asyncio

    import httpx

    async def go() -> int:
        queue = iter(forms)
        acked = 0
        limits = httpx.Limits(max_connections=concurrency, keepalive_expiry=2.0)
        async with httpx.AsyncClient(limits=limits, timeout=30.0) as client:

            async def worker() -> None:
                nonlocal acked
                for _, body in queue:
                    with contextlib.suppress(httpx.HTTPError):
                        response = await client.post(
                            f"{url}/slack/events", content=body, headers=signed(body)
                        )
                        acked += response.status_code == 200

            await asyncio.gather(*(worker() for _ in range(concurrency)))
        return acked

    cpu, began = time.process_time(), time.perf_counter()
    acked = asyncio.run(go())
    return Burst(acked, len(forms), time.perf_counter() - began, time.process_time() - cpu)


def wait_rewards_sent(db: Path, rewards: int, timeout: float) -> tuple[Counter[str], bool]:
    """Serve's ledger until `rewards` rewards are there and none is waiting or sending."""
    deadline = time.monotonic() + timeout
    statuses: Counter[str] = Counter()
    while time.monotonic() < deadline:
        with contextlib.suppress(sqlite3.Error):
            conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
            try:
                statuses = Counter(
                    dict(conn.execute("SELECT status, COUNT(*) FROM rewards GROUP BY status"))
                )
            finally:
                conn.close()
            unsettled = statuses["queued"] + statuses["sending"] + statuses["pending_approval"]
            if sum(statuses.values()) >= rewards and not unsettled:
                return statuses, True
        time.sleep(0.5)
    return statuses, False


# ─── one round ─────────────────────────────────────────────────────────────────────────────


PHASES = ("idle", "after /healthz", "after work")


@dataclass
class Round:
    readings: dict[str, dict[str, Reading]]  # phase -> server -> reading
    health: dict[str, int]
    bursts: dict[str, Burst]
    ledger: Counter[str]
    drained: bool


def run_round(
    n: int,
    tmp: Path,
    hook: Path,
    services: dict[str, str],
    args: Any,
    *,
    template: Path,
    keys: dict[str, str],
) -> Round:
    servers: list[Server] = []
    readings: dict[str, dict[str, Reading]] = {}

    def read_all(phase: str) -> None:
        time.sleep(args.idle)
        for s in servers:
            if s.proc.poll() is not None:
                raise RuntimeError(f"{s.name} exited ({s.proc.returncode}):\n{tail(s.log)}")
        readings[phase] = {s.name: read(s.proc.pid, hook) for s in servers}

    try:
        servers = start_servers(tmp, hook, services, n, template=template, keys=keys)
        read_all("idle")
        health = health_check(servers)
        read_all("after /healthz")
        bursts = {}
        for s in servers:
            forms = burst_forms(
                services["slack_root_url"],
                helps=args.helps,
                rewards=args.rewards,
                run=f"{s.name}{n}",
            )
            bursts[s.name] = burst(s.url, forms, args.concurrency)
        serve = servers[1]
        assert serve.db is not None
        ledger, drained = wait_rewards_sent(serve.db, args.rewards, args.drain_timeout)
        read_all("after work")
        return Round(readings, health, bursts, ledger, drained)
    finally:
        for s in servers:
            stop(s.proc)


# ─── the report ────────────────────────────────────────────────────────────────────────────


def _median(values: list[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return statistics.median(present) if present else None


def _fmt(value: float | None, spec: str = ".1f") -> str:
    return "?" if value is None else format(value, spec)


def _ratio(serve: float | None, bare: float | None) -> str:
    return "?" if not serve or not bare else f"x{serve / bare:.2f}"


METRICS = (
    ("RSS MB", lambda r: r.rss_mb, ".1f"),
    ("USS MB", lambda r: r.uss_mb, ".1f"),
    ("PSS MB", lambda r: r.pss_mb, ".1f"),
    ("threads", lambda r: r.threads, ".0f"),
    ("modules", lambda r: r.module_count, ".0f"),
)


def describe_round(n: int, r: Round) -> str:
    lines = [f"round {n}:"]
    for phase in PHASES:
        parts = []
        for name in ("bare", "serve"):
            x = r.readings[phase][name]
            parts.append(
                f"{name} RSS {x.rss_mb:.1f} MB (USS {_fmt(x.uss_mb)}, PSS {_fmt(x.pss_mb)}), "
                f"{x.threads} threads, {_fmt(x.module_count, '.0f')} modules"
            )
        lines.append(f"   {phase:<15} " + ";  ".join(parts))
    lines.append(
        "   GET /healthz answered "
        + ", ".join(f"{name} {status or 'nothing'}" for name, status in r.health.items())
    )
    loads = []
    for name, b in r.bursts.items():
        loads.append(
            f"{name} {b.acked}/{b.sent} answered 200 in {b.wall:.1f} s ({b.sent / b.wall:.0f}/s;"
            f" the load generator used {100 * b.load_cpu / b.wall:.0f}% of a CPU)"
        )
    lines.append("   burst: " + ";  ".join(loads))
    lines.append(
        f"   serve's ledger after the burst: {dict(sorted(r.ledger.items()))}"
        + ("" if r.drained else " — NOT DRAINED (timed out)")
    )
    return "\n".join(lines)


def summary(rounds: list[Round]) -> tuple[str, dict[str, float | None]]:
    """The medians' table, and serve/bare of the median RSS by phase."""
    width = 28
    rows = [
        f"{'':<8}" + "".join(f"{phase:^{width}}|" for phase in PHASES),
        f"{'':<8}" + f"{'bare':>8}{'serve':>9}{'ratio':>9} |" * len(PHASES),
    ]
    rss_ratios: dict[str, float | None] = {}
    for label, get, spec in METRICS:
        cells = []
        for phase in PHASES:
            bare = _median([get(r.readings[phase]["bare"]) for r in rounds])
            serve = _median([get(r.readings[phase]["serve"]) for r in rounds])
            cells.append(f"{_fmt(bare, spec):>8}{_fmt(serve, spec):>9}{_ratio(serve, bare):>9} |")
            if label == "RSS MB":
                rss_ratios[phase] = serve / bare if serve and bare else None
        rows.append(f"{label:<8}" + "".join(cells))
    return "\n".join(rows), rss_ratios


def _short(path: str) -> str:
    for marker in ("site-packages/", "/lib/python3"):
        if marker in path:
            return path.split(marker, 1)[1]
    with contextlib.suppress(ValueError):
        return str(Path(path).relative_to(REPO))
    return path


def thread_table(reading: Reading) -> str:
    """Serve's threads: each Python thread's name, what it runs and where it waits now (the
    innermost frame of the project, else of the thread's own code); then the OS threads no
    Python Thread object stands for (a C library's, e.g. a BLAS pool)."""
    lines = []
    native = {t["native_id"] for t in reading.py_threads}
    for t in sorted(reading.py_threads, key=lambda t: t["name"]):
        stack = t["stack"]
        ours = [f for f in stack if f.startswith((str(REPO / "bot"), str(REPO / "storage")))]
        where = _short(ours[0] if ours else (stack[0] if stack else "?"))
        lines.append(f"   {t['name']:<28} runs {t['runs']:<58} waits at {where}")
    others = reading.threads - len(native)
    if others > 0:
        lines.append(f"   + {others} OS thread(s) no Python Thread object stands for")
    comms = ", ".join(f"{name} x{count}" for name, count in sorted(reading.comms.items()))
    lines.append(f"   (/proc task names: {comms})")
    return "\n".join(lines)


def packages_table(bare: Reading, serve: Reading, top: int) -> str:
    def packages(modules: list[str]) -> Counter[str]:
        return Counter(m.split(".", 1)[0] for m in modules)

    extra = packages(serve.modules) - packages(bare.modules)
    if not extra:
        return "   (no module lists: the probe did not answer)"
    shown = extra.most_common(top)
    rest = sum(extra.values()) - sum(c for _, c in shown)
    line = ", ".join(f"{name} {count}" for name, count in shown)
    return f"   {line}" + (
        f", and {rest} more in {len(extra) - len(shown)} packages" if rest else ""
    )


# ─── main ──────────────────────────────────────────────────────────────────────────────────


def run_benchmark(args: argparse.Namespace) -> int:
    rounds: list[Round] = []
    with tempfile.TemporaryDirectory(prefix="idle-memory-") as tmp_name:
        tmp = Path(tmp_name)
        hook = make_hook(tmp)
        print(
            "bare: a slack_bolt App whose /reward only acks, behind Bolt's Starlette adapter, "
            f"Starlette and uvicorn (Python {sys.version.split()[0]}); serve: `python -m bot` "
            f"(HTTP, scheduler on, SQLite, {'first start' if args.first_start else 'restarted'}"
            " on a migrated database; Plum sandbox and fake Slack in a services process). "
            f"{args.rounds} round(s): both started side by side and sent a "
            f"signed `/reward help` until each answers; read after {args.idle:g} s idle, again "
            f"after one GET /healthz, again after {args.helps} `/reward help` + {args.rewards} "
            f"rewards ({args.concurrency} in flight) and serve's outbox drained.",
            flush=True,
        )
        try:
            with services_process(tmp) as services:
                keys = serve_keys()
                template = prepared_database(tmp, services, keys, first_start=args.first_start)
                for n in range(1, args.rounds + 1):
                    rounds.append(
                        run_round(n, tmp, hook, services, args, template=template, keys=keys)
                    )
                    print(describe_round(n, rounds[-1]), flush=True)
        except RuntimeError as err:
            print(f"could not measure: {err}", file=sys.stderr)
            if not rounds:
                return 1
    table, ratios = summary(rounds)
    print(f"\nmedians of {len(rounds)} round(s):\n{table}")
    last = rounds[-1].readings
    print(
        f"\nserve's threads at idle (round {len(rounds)}):\n{thread_table(last['idle']['serve'])}"
    )
    print(f"serve's threads after work:\n{thread_table(last['after work']['serve'])}")
    print(f"the bare app's threads after work:\n{thread_table(last['after work']['bare'])}")
    bare, serve = last["idle"]["bare"], last["idle"]["serve"]
    print(
        "\nmodules serve holds at idle that the bare app does not, by top-level package:\n"
        + packages_table(bare, serve, args.top)
    )
    if "rich" in serve.modules and "rich" not in bare.modules:
        print(
            "   (rich and pygments: httpx imports its command-line client when they are "
            "installed; the test extras install them, a production install does not)"
        )
    idle = ratios.get("idle")
    verdict = "?" if idle is None else ("met" if idle <= TARGET_RATIO else "not met")
    print(
        "\nRSS serve/bare: "
        + ", ".join(f"{phase} {'?' if r is None else f'x{r:.2f}'}" for phase, r in ratios.items())
        + f"\ntarget idle RSS <= {TARGET_RATIO}x the bare app's: {verdict}"
    )
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="figures are medians (default 3)")
    parser.add_argument("--idle", type=float, default=5.0, help="seconds left idle before a read")
    parser.add_argument("--helps", type=int, default=200, help="/reward help in the burst")
    parser.add_argument("--rewards", type=int, default=20, help="rewards in the burst")
    parser.add_argument("--concurrency", type=int, default=10, help="requests in flight")
    parser.add_argument("--drain-timeout", type=float, default=60.0, help="seconds")
    parser.add_argument("--top", type=int, default=25, help="packages listed")
    parser.add_argument(
        "--first-start",
        action="store_true",
        help="serve's first start on a migrated database (its missed jobs run at start) "
        "instead of a restart on one an earlier serve ran on",
    )
    parser.add_argument("--role", choices=("bench", "services"), default="bench")
    args = parser.parse_args()
    if args.role == "services":
        return run_services()
    if args.rounds < 1 or args.concurrency < 1:
        parser.error("--rounds and --concurrency must be positive")

    def terminated(signum: int, _frame: Any) -> None:
        raise KeyboardInterrupt  # unwinds through every `finally`, which stops the children

    signal.signal(signal.SIGTERM, terminated)
    try:
        return run_benchmark(args)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
